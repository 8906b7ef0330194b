//! Read replicas against a real hot standby: a second PostgreSQL cluster started from the test server
//! with `pg_basebackup -R` (streaming replication, plain processes on a free port). Reads are served by
//! the standby (counted on the standby itself), an approver sees an approval at once with the consistency
//! token while the standby's replay is paused and a caller without it sees the old value until replay
//! resumes (and a signed-in clerk's pages do the same through the consistency cookie), a suppressed
//! table first read on the standby is released on the primary, a write cannot
//! reach a standby, and killing the standby under load fails no request.

use crate::support::{Backend, TestApp, spawn_app_with};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

/// A hot standby of the test server, stopped and removed when dropped.
struct Standby {
    dir: PathBuf,
    port: u16,
    bin: PathBuf,
    stopped: bool,
}

impl Standby {
    /// Copies the test server with `pg_basebackup -R` and starts the copy as a streaming standby. A
    /// failure is a failed test, with what the tools said: CI provides everything this needs.
    async fn start(admin_url: &str) -> Standby {
        let admin = sea_orm::Database::connect(admin_url)
            .await
            .expect("the test server");
        let row = admin
            .query_one_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT current_setting('server_version_num')::int / 10000 AS major",
            ))
            .await
            .expect("server version")
            .expect("a row");
        let major: i32 = row.try_get("", "major").expect("major");
        let bin = PathBuf::from(format!("/usr/lib/postgresql/{major}/bin"));
        assert!(
            bin.join("pg_basebackup").exists(),
            "PostgreSQL {major}'s server tools are not in {}",
            bin.display()
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let dir = std::env::temp_dir().join(format!(
            "childhub-standby-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&dir).expect("standby directory");
        let standby = Standby {
            dir,
            port,
            bin,
            stopped: false,
        };
        standby.own_by_postgres(&standby.dir);
        standby.run(
            "pg_basebackup",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                "5432",
                "-U",
                "postgres",
                "-D",
                &standby.dir.display().to_string(),
                "-R",
                "-X",
                "stream",
                "-c",
                "fast",
            ],
        );
        // Debian keeps the server's configuration outside its data directory: the copy gets its own.
        std::fs::write(
            standby.dir.join("postgresql.conf"),
            format!(
                "port = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\n\
                 hot_standby = on\nmax_connections = 200\nshared_buffers = 32MB\nfsync = off\n\
                 log_min_error_statement = error\n",
                standby.dir.display()
            ),
        )
        .expect("postgresql.conf");
        std::fs::write(
            standby.dir.join("pg_hba.conf"),
            "local all all trust\nhost all all 127.0.0.1/32 trust\n",
        )
        .expect("pg_hba.conf");
        for file in ["postgresql.conf", "pg_hba.conf"] {
            standby.own_by_postgres(&standby.dir.join(file));
        }
        let log = standby.log_path().display().to_string();
        standby.run(
            "pg_ctl",
            &[
                "-D",
                &standby.dir.display().to_string(),
                "-l",
                &log,
                "-w",
                "-t",
                "60",
                "start",
            ],
        );
        standby
    }

    fn log_path(&self) -> PathBuf {
        self.dir.join("server.log")
    }

    /// What the standby server logged.
    fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// The URL of database `name` on the standby.
    fn url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// A server tool, run as the `postgres` user when the tests run as root (the server refuses root).
    fn command(&self, tool: &str) -> Command {
        let program = self.bin.join(tool);
        if is_root() {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        }
    }

    /// Runs a server tool; its failure fails the test with what it said.
    fn run(&self, tool: &str, args: &[&str]) {
        let output = self
            .command(tool)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("running {tool}: {e}"));
        assert!(
            output.status.success(),
            "{tool} failed: {}{}\n(the standby tests need `host replication all 127.0.0.1/32 trust` in pg_hba.conf, as .ci/run sets)\nserver log:\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
            self.log()
        );
    }

    fn own_by_postgres(&self, path: &std::path::Path) {
        if is_root() {
            let status = Command::new("chown")
                .args(["postgres:postgres"])
                .arg(path)
                .status()
                .expect("chown");
            assert!(status.success(), "chown {}", path.display());
        }
        use std::os::unix::fs::PermissionsExt;
        let mode = if path.is_dir() { 0o700 } else { 0o600 };
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    }

    /// Stops the standby at once, as a crash would.
    fn kill(&mut self) {
        if !self.stopped {
            self.stopped = true;
            self.run(
                "pg_ctl",
                &[
                    "-D",
                    &self.dir.display().to_string(),
                    "-m",
                    "immediate",
                    "stop",
                ],
            );
        }
    }
}

impl Drop for Standby {
    fn drop(&mut self) {
        if !self.stopped {
            let _ = self
                .command("pg_ctl")
                .arg("-D")
                .arg(&self.dir)
                .args(["-m", "immediate", "stop"])
                .output();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Whether the tests run as root (`id -u` is 0).
fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// One SQL answer (the first column of the first row, as text) from the server at `url`.
async fn scalar(url: &str, sql: &str) -> String {
    let db = sea_orm::Database::connect(url).await.expect("connect");
    let row = db
        .query_one_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .expect("a row");
    let value: Option<String> = row.try_get_by_index(0).expect("text");
    db.close().await.ok();
    value.unwrap_or_default()
}

/// Scans of the observations table (or its partitions) on that server (its own statistics: a standby
/// counts its reads).
async fn observation_scans(url: &str) -> i64 {
    scalar(
        url,
        "SELECT COALESCE(sum(COALESCE(seq_scan, 0) + COALESCE(idx_scan, 0)), 0)::text FROM pg_stat_user_tables \
         WHERE relname = 'observation' \
         OR relid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = 'observation'::regclass)",
    )
    .await
    .parse()
    .expect("a number")
}

async fn readyz(app: &TestApp) -> String {
    app.client
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("readyz")
        .text()
        .await
        .expect("body")
}

/// Waits up to `limit` for `check` to hold; says whether it did.
async fn eventually<F: std::future::Future<Output = bool>>(
    limit: Duration,
    mut check: impl FnMut() -> F,
) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    check().await
}

/// POSTs a GraphQL request with a token and, when given, a consistency token; returns status, the
/// answer's consistency token and the body.
async fn post(
    app: &TestApp,
    token: &str,
    consistency: Option<&str>,
    query: &str,
    variables: Value,
) -> (u16, Option<String>, Value) {
    let mut request = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(lsn) = consistency {
        request = request.header("x-childhub-consistency", lsn);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let answered = response
        .headers()
        .get("x-childhub-consistency")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (status, answered, response.json().await.expect("json"))
}

/// Submits `rows` as `submitter` and approves them as `approver`; returns the approval's consistency
/// token (none when the answer carried none).
async fn submit_and_approve(
    app: &TestApp,
    submitter: &str,
    approver: &str,
    rows: Value,
) -> Option<String> {
    let (_, _, submitted) = post(
        app,
        submitter,
        None,
        crate::submissions::SUBMIT,
        json!({ "rows": rows }),
    )
    .await;
    let id = submitted["data"]["submitObservations"]["submission"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{submitted}"))
        .to_owned();
    let (status, token, approved) = post(
        app,
        approver,
        None,
        "mutation($id: ID!) { approveSubmission(id: $id) { status } }",
        json!({ "id": id }),
    )
    .await;
    assert_eq!(status, 200, "{approved}");
    assert_eq!(
        approved["data"]["approveSubmission"]["status"], "APPROVED",
        "{approved}"
    );
    token
}

const LATEST: &str =
    r#"{ region(code: "DEMO-T06") { latest(indicators: ["HEA-03"]) { year value } } }"#;

fn latest_value(body: &Value) -> Value {
    assert!(body.get("errors").is_none(), "{body}");
    body["data"]["region"]["latest"][0]["value"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(postgres_tests),
    ignore = "needs PostgreSQL: set CHILDHUB_TEST_POSTGRES (as .ci/run does)"
)]
async fn a_hot_standby_serves_reads_and_the_writer_reads_its_writes() {
    let admin_url = std::env::var("CHILDHUB_TEST_POSTGRES").expect("CHILDHUB_TEST_POSTGRES");
    let mut standby = Standby::start(&admin_url).await;
    let mut replica_url = String::new();
    let app = spawn_app_with(Backend::Postgres, |settings| {
        let name = settings
            .database_url()
            .rsplit('/')
            .next()
            .expect("a database name")
            .to_owned();
        replica_url = standby.url(&name);
        settings.database.replica_urls = vec![replica_url.clone().into()];
        // Paused replay must not make the standby "lagging" during this test.
        settings.database.max_replica_lag = Duration::from_secs(3600);
        settings.limits.requests_per_minute = 0;
    })
    .await;
    assert!(
        eventually(Duration::from_secs(30), || async {
            readyz(&app).await.contains("replica-1: healthy")
        })
        .await,
        "the standby never became healthy: {}\nstandby log:\n{}",
        readyz(&app).await,
        standby.log()
    );

    // Reads go to the standby: its own statistics count them.
    let viewer = app.token("education", &["viewer"]);
    let before = observation_scans(&replica_url).await;
    let old = latest_value(&post(&app, &viewer, None, LATEST, json!({})).await.2);
    for _ in 0..10 {
        let (status, _, body) = post(&app, &viewer, None, LATEST, json!({})).await;
        assert_eq!(status, 200, "{body}");
    }
    assert!(
        eventually(Duration::from_secs(10), || async {
            observation_scans(&replica_url).await > before
        })
        .await,
        "the standby counted no reads of observations"
    );
    let ready = readyz(&app).await;
    let served: u64 = ready
        .lines()
        .find_map(|l| l.strip_prefix("replica-1: healthy"))
        .and_then(|rest| {
            rest.split(", ")
                .find_map(|p| p.strip_suffix(" requests served"))
        })
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("replica-1's requests in {ready}"));
    assert!(served >= 11, "{ready}");

    // Replay paused: the approval reaches the primary only.
    scalar(&replica_url, "SELECT pg_wal_replay_pause()::text").await;
    let approver = app.token("statistics", &["approver"]);
    let token = submit_and_approve(
        &app,
        &app.token("health", &["submitter"]),
        &approver,
        json!([{ "indicator": "HEA-03", "region": "DEMO-T06", "year": 2026, "value": 77.7 }]),
    )
    .await;
    let token = token.expect("a mutation's answer carries x-childhub-consistency");
    let mine = post(&app, &approver, Some(&token), LATEST, json!({}))
        .await
        .2;
    assert_eq!(
        latest_value(&mine),
        77.7,
        "the approver, with the token, reads the approval at once"
    );
    for _ in 0..3 {
        let theirs = post(&app, &viewer, None, LATEST, json!({})).await.2;
        assert_eq!(
            latest_value(&theirs),
            old,
            "a caller without the token reads the standby, which has not replayed the approval"
        );
    }
    // A signed-in clerk gets the same without any script: the answer to the page's mutation sets the
    // consistency cookie, which the browser sends with what the page asks next.
    let session = crate::support::dev_session(&app, "health", &["submitter"]).await;
    let csrf = crate::support::csrf_of(&app, &session).await;
    let answer = app
        .client
        .post(app.url("/graphql"))
        .header("cookie", &session)
        .header("x-csrf-token", &csrf)
        .json(
            &json!({ "query": crate::submissions::SUBMIT, "variables": { "rows": [
            { "indicator": "HEA-03", "region": "DEMO-T07", "year": 2026, "value": 66.6 }] } }),
        )
        .send()
        .await
        .expect("submit");
    let consistency = answer
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("childhub_consistency="))
        .and_then(|v| v.split(';').next())
        .expect("a session's mutation sets the consistency cookie")
        .to_owned();
    let submitted: Value = answer.json().await.expect("json");
    let clerk_id = submitted["data"]["submitObservations"]["submission"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{submitted}"))
        .to_owned();
    let status_with = |cookie: String| {
        let app = &app;
        let csrf = &csrf;
        let clerk_id = &clerk_id;
        async move {
            let body: Value = app
                .client
                .post(app.url("/graphql"))
                .header("cookie", cookie)
                .header("x-csrf-token", csrf)
                .json(
                    &json!({ "query": "query($id: ID!) { submission(id: $id) { status } }",
                               "variables": { "id": clerk_id } }),
                )
                .send()
                .await
                .expect("read")
                .json()
                .await
                .expect("json");
            body["data"]["submission"]["status"].clone()
        }
    };
    assert_eq!(
        status_with(format!("{session}; {consistency}")).await,
        "PENDING",
        "the clerk's next page reads the submission it just made"
    );
    assert_ne!(
        status_with(session.clone()).await,
        "PENDING",
        "without the cookie the standby, paused, does not have it yet"
    );

    let (status, _, body) = post(&app, &viewer, Some("not a position"), LATEST, json!({})).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("x-childhub-consistency")),
        "{body}"
    );

    // A restricted table published meanwhile: public security's counts, approved while replay is
    // paused, then first read by another department on the standby once it has replayed them.
    submit_and_approve(
        &app,
        &app.token("public_security", &["submitter"]),
        &app.token("wcwc", &["approver"]),
        json!([
            { "indicator": "LAW-02", "region": "DEMO", "year": 2026, "value": 4.0, "numerator": 48, "denominator": 1200 },
            { "indicator": "LAW-02", "region": "DEMO", "year": 2026, "sex": "M", "value": 4.5, "numerator": 45, "denominator": 1000 },
            { "indicator": "LAW-02", "region": "DEMO", "year": 2026, "sex": "F", "value": 1.5, "numerator": 3, "denominator": 200 }
        ]),
    )
    .await;

    scalar(&replica_url, "SELECT pg_wal_replay_resume()::text").await;
    assert!(
        eventually(Duration::from_secs(15), || async {
            latest_value(&post(&app, &viewer, None, LATEST, json!({})).await.2) == 77.7
        })
        .await,
        "once replay resumed, the standby shows the approval to everyone"
    );
    let q = r#"{ observations(filter: { indicators: ["LAW-02"], years: { from: 2026, to: 2026 } }) { edges { node { sex value suppressed } } } }"#;
    let health = app.token("health", &["viewer"]);
    let seen = post(&app, &health, None, q, json!({})).await.2;
    assert!(seen.get("errors").is_none(), "{seen}");
    let edges = seen["data"]["observations"]["edges"]
        .as_array()
        .expect("edges");
    assert_eq!(edges.len(), 3, "{seen}");
    assert_eq!(
        edges
            .iter()
            .filter(|e| e["node"]["suppressed"] == true)
            .count(),
        2,
        "the 3 offenders and one complement are hidden: {seen}"
    );
    let releases_after = app
        .db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT COUNT(*)::bigint AS n FROM disclosure_release WHERE year = 2026 AND indicator_id = (SELECT id FROM indicator WHERE code = 'LAW-02')",
        ))
        .await
        .expect("count")
        .and_then(|r| r.try_get::<i64>("", "n").ok())
        .expect("n");
    assert_eq!(
        releases_after, 1,
        "the release the standby's reader needed was stored once, on the primary"
    );

    // Writes cannot reach a standby: the hub's standby sessions are read-only even on a server that
    // could write (here the primary itself, named as a replica).
    let mut on_primary = app.settings.clone();
    on_primary.database.replica_urls = vec![app.settings.database_url().to_owned().into()];
    let replicas =
        childhub::service::replicas::Replicas::new(app.db.clone(), &on_primary).expect("replicas");
    replicas.check().await;
    let route = replicas.reader(None);
    assert!(route.is_standby(), "{:?}", replicas.pools());
    let refused = route
        .db
        .execute_unprepared("UPDATE indicator SET name_en = name_en")
        .await
        .expect_err("a write on a standby session fails");
    assert!(
        refused.to_string().contains("read-only transaction"),
        "{refused}"
    );
    assert!(
        !standby.log().contains("read-only transaction"),
        "nothing the hub ran on the standby tried to write:\n{}",
        standby.log()
    );

    // The standby dies under load: every request is still answered.
    let load = (0..6)
        .map(|_| {
            let app = &app;
            let viewer = &viewer;
            async move {
                let mut failures = Vec::new();
                let mut answered = 0;
                let until = Instant::now() + Duration::from_secs(4);
                while Instant::now() < until {
                    let (status, _, body) = post(app, viewer, None, LATEST, json!({})).await;
                    if status != 200 || body.get("errors").is_some() {
                        failures.push(format!("{status} {body}"));
                    }
                    answered += 1;
                }
                (answered, failures)
            }
        })
        .collect::<Vec<_>>();
    let killer = async {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        standby.kill();
    };
    let (results, ()) = tokio::join!(futures::future::join_all(load), killer);
    let answered: usize = results.iter().map(|(n, _)| n).sum();
    let failures: Vec<&String> = results.iter().flat_map(|(_, f)| f).collect();
    assert!(answered > 20, "the load ran: {answered} requests");
    assert!(
        failures.is_empty(),
        "{} of {answered} requests failed when the standby died: {:?}",
        failures.len(),
        failures.iter().take(3).collect::<Vec<_>>()
    );
    let ready = readyz(&app).await;
    assert!(ready.starts_with("ready"), "{ready}");
    assert!(ready.contains("replica-1: down"), "{ready}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replica_settings_that_cannot_work_are_refused_naming_the_key() {
    let app = spawn_app_with(Backend::Sqlite, |_| {}).await;
    let mut settings = app.settings.clone();
    settings.database.replica_urls = vec!["postgres://postgres@127.0.0.1:5432/x".to_owned().into()];
    let refused = childhub::service::replicas::Replicas::new(app.db.clone(), &settings)
        .expect_err("no standbys for SQLite")
        .to_string();
    assert!(
        refused.contains("database.replica_urls") && refused.contains("SQLite"),
        "{refused}"
    );
    settings.database_url = "postgres://postgres@127.0.0.1:5432/childhub"
        .to_owned()
        .into();
    settings.database.replica_urls = vec!["mysql://standby/childhub".to_owned().into()];
    let refused = childhub::service::replicas::Replicas::new(app.db.clone(), &settings)
        .expect_err("a standby must be PostgreSQL")
        .to_string();
    assert!(
        refused.contains("database.replica_urls[0]") && !refused.contains("mysql://"),
        "the URL (which may hold a password) is not repeated: {refused}"
    );
}
