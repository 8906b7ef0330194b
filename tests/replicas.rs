//! Two `childhub serve` processes on one PostgreSQL database, as a production deployment runs them: they
//! start together on an empty database (migrations and seeding under the setup lock), what one caches is
//! never older than what the other wrote (approvals and catalogue changes show at once), an approval made
//! on one reaches a subscriber on the other, each webhook event reaches a verifying receiver once, and
//! delivery resumes after the receiver was down and after the replica doing the deliveries was killed.

use crate::events::{Receiver, WsClient};
use crate::support::SECRET;
use childhub::auth::token::issue_dev_token;
use sea_orm::{ConnectionTrait, Database, EntityTrait, PaginatorTrait};
use serde_json::{Value, json};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};

/// A replica: its process, address and what it logged.
pub struct Replica {
    child: tokio::process::Child,
    pub addr: String,
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Replica {
    async fn start(database_url: &str) -> Replica {
        Replica::start_with(database_url, &[]).await
    }

    /// A replica with more environment variables (settings) than the usual ones.
    pub async fn start_with(database_url: &str, env: &[(&str, &str)]) -> Replica {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_childhub"));
        command
            .env("CHILDHUB_DATABASE_URL", database_url)
            .env("CHILDHUB_JWT_SECRET", SECRET)
            .env("CHILDHUB_SEED_IF_EMPTY", "true")
            .env("CHILDHUB_EVENTS__POLL_INTERVAL", "200ms")
            .env("CHILDHUB_EVENTS__LEASE", "2s")
            .env("CHILDHUB_WEBHOOKS__FIRST_RETRY", "100ms")
            .env("CHILDHUB_WEBHOOKS__MAX_DELAY", "400ms")
            .env("CHILDHUB_LOG__FILTER", "warn")
            .envs(env.iter().copied());
        let mut child = command
            .args(["serve", "--bind", "127.0.0.1:0"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start a replica");
        let logged = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let mut errors = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let sink = logged.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = errors.next_line().await {
                let mut logged = sink.lock().unwrap();
                logged.push_str(&line);
                logged.push('\n');
            }
        });
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let addr = loop {
            let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line()).await;
            let Ok(Ok(Some(line))) = line else {
                tokio::time::sleep(Duration::from_millis(200)).await;
                panic!(
                    "the replica did not say where it listens within a minute; it logged:\n{}",
                    logged.lock().unwrap()
                );
            };
            if let Some(rest) = line.strip_prefix("childhub is listening on http://") {
                break rest.trim().to_owned();
            }
        };
        // Keep reading stdout so the replica never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Replica {
            child,
            addr,
            stderr: logged,
        }
    }

    /// What the replica wrote to stderr so far (its log).
    pub fn log(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    async fn gql(&self, token: &str, query: &str, variables: Value) -> Value {
        reqwest::Client::new()
            .post(self.url("/graphql"))
            .bearer_auth(token)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("json")
    }
}

pub fn token(dept: &str, roles: &[&str]) -> String {
    let settings = childhub::config::Settings::default();
    issue_dev_token(
        &settings.auth,
        SECRET,
        &format!("{dept}-replica-tester"),
        dept,
        roles,
        Duration::from_secs(600),
    )
    .expect("token")
}

/// Waits until `check` holds, up to `limit`.
async fn eventually(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let started = std::time::Instant::now();
    while started.elapsed() < limit {
        if check() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    check()
}

async fn submit_and_approve(replica: &Replica, township: &str, value: f64) -> String {
    let d = replica
        .gql(
            &token("health", &["submitter"]),
            crate::submissions::SUBMIT,
            json!({ "rows": [{ "indicator": "HEA-03", "region": township, "year": 2026, "value": value }] }),
        )
        .await;
    let id = d["data"]["submitObservations"]["submission"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("submitted: {d}"))
        .to_owned();
    let approved = replica
        .gql(
            &token("statistics", &["approver"]),
            "mutation($id: ID!) { approveSubmission(id: $id) { status } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        approved["data"]["approveSubmission"]["status"], "APPROVED",
        "{approved}"
    );
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(postgres_tests),
    ignore = "needs PostgreSQL: set CHILDHUB_TEST_POSTGRES (as .ci/run does)"
)]
async fn two_replicas_start_together_and_agree_on_events() {
    let (admin, name, url) = crate::support::empty_postgres_database("childhub_replicas").await;

    // Both start at once on the empty database.
    let (a, b) = tokio::join!(Replica::start(&url), Replica::start(&url));
    let (mut a, b) = (a, b);
    for replica in [&a, &b] {
        let ready = reqwest::get(replica.url("/readyz")).await.expect("readyz");
        assert_eq!(ready.status(), 200);
    }
    let db = Database::connect(&url).await.expect("db");
    let departments = entity::department::Entity::find()
        .count(&db)
        .await
        .expect("count");
    let expected = childhub::seed::catalogue::Catalogue::embedded()
        .expect("catalogue")
        .departments
        .len() as u64;
    assert_eq!(departments, expected, "seeded once, not twice");

    // A receiver for health's events, registered through replica A.
    let receiver = Receiver::default();
    let hook_url = receiver.start().await;
    let created = a
        .gql(
            &token("health", &["admin"]),
            r#"mutation($url: String!) { createWebhook(url: $url) { secret } }"#,
            json!({ "url": hook_url }),
        )
        .await;
    let secret = created["data"]["createWebhook"]["secret"]
        .as_str()
        .unwrap_or_else(|| panic!("{created}"))
        .to_owned();
    *receiver.secret.lock().expect("lock") = Some(secret);

    // A subscriber on replica B hears of an approval made on replica A.
    let mut subscriber = WsClient::connect(
        &format!("ws://{}/graphql", b.addr),
        &token("statistics", &["viewer"]),
    )
    .await;
    assert_eq!(
        subscriber.next(Duration::from_secs(10)).await.expect("ack")["type"],
        "connection_ack"
    );
    subscriber
        .subscribe(
            "s",
            "subscription { events(kinds: [SUBMISSION_APPROVED]) { id data } }",
        )
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    // Replica B holds the catalogue and what it derived from published values in memory.
    let reader = token("education", &["viewer"]);
    let latest =
        r#"{ region(code: "DEMO-T06") { latest(indicators: ["HEA-03"]) { year value } } }"#;
    let total = r#"{ observations(filter: { indicators: ["HEA-03"], regions: ["DEMO-T06"] }, first: 1) { totalCount } }"#;
    let count = |d: &Value| d["data"]["observations"]["totalCount"].as_u64();
    let count_before = count(&b.gql(&reader, total, json!({})).await).expect("a count");
    let before = b.gql(&reader, latest, json!({})).await;
    assert_ne!(
        before["data"]["region"]["latest"][0]["year"], 2026,
        "{before}"
    );
    let first = submit_and_approve(&a, "DEMO-T06", 4.4).await;
    // An approval on A shows on B at once: its next request sees the new data version.
    let after = b.gql(&reader, latest, json!({})).await;
    assert_eq!(
        count(&b.gql(&reader, total, json!({})).await),
        Some(count_before + 1),
        "the memoised count is not served past the approval"
    );
    assert_eq!(
        after["data"]["region"]["latest"][0]["year"], 2026,
        "{after}"
    );
    assert_eq!(
        after["data"]["region"]["latest"][0]["value"], 4.4,
        "{after}"
    );
    // So does a catalogue change, in either direction: opening a restricted indicator on A shows its
    // counts to other departments on B at once, and restricting it again on B hides them on A.
    let counts = r#"{ indicator(code: "LAW-02") { sensitivity }
        observations(filter: { indicators: ["LAW-02"], regions: ["DEMO"] }, first: 1) { nodes { numerator } } }"#;
    let restricted = a.gql(&reader, counts, json!({})).await;
    assert!(
        restricted["data"]["observations"]["nodes"][0]["numerator"].is_null(),
        "{restricted}"
    );
    let _ = b.gql(&reader, counts, json!({})).await;
    let set_sensitivity = r#"mutation($s: Sensitivity!) {
        updateIndicator(code: "LAW-02", input: { sensitivity: $s }) { sensitivity } }"#;
    let city_admin = token("statistics", &["admin"]);
    let opened = a
        .gql(&city_admin, set_sensitivity, json!({ "s": "PUBLIC" }))
        .await;
    assert_eq!(
        opened["data"]["updateIndicator"]["sensitivity"], "PUBLIC",
        "{opened}"
    );
    let on_b = b.gql(&reader, counts, json!({})).await;
    assert_eq!(on_b["data"]["indicator"]["sensitivity"], "PUBLIC", "{on_b}");
    assert!(
        on_b["data"]["observations"]["nodes"][0]["numerator"].is_number(),
        "{on_b}"
    );
    b.gql(&city_admin, set_sensitivity, json!({ "s": "RESTRICTED" }))
        .await;
    let on_a = a.gql(&reader, counts, json!({})).await;
    assert_eq!(
        on_a["data"]["indicator"]["sensitivity"], "RESTRICTED",
        "{on_a}"
    );
    assert!(
        on_a["data"]["observations"]["nodes"][0]["numerator"].is_null(),
        "counts of a restricted indicator are hidden from other departments at once: {on_a}"
    );
    let heard = subscriber
        .next(Duration::from_secs(5))
        .await
        .expect("an event");
    assert_eq!(heard["type"], "next", "{heard}");
    assert_eq!(
        heard["payload"]["data"]["events"]["data"]["submission"],
        first
    );

    // Every event reaches the receiver once, signed.
    let once = |receiver: &Receiver, submission: &str| {
        let events = receiver.events();
        let ids: Vec<&String> = events
            .iter()
            .filter(|(_, body, _)| body["data"]["submission"] == submission)
            .map(|(id, _, _)| id)
            .collect();
        let unique: std::collections::BTreeSet<&&String> = ids.iter().collect();
        ids.len() >= 3 && unique.len() == ids.len()
    };
    assert!(
        eventually(Duration::from_secs(15), || once(&receiver, &first)).await,
        "created, approved and published each delivered once: {:?}",
        receiver.events()
    );
    assert!(
        receiver.events().iter().all(|(_, _, valid)| *valid),
        "signatures verify"
    );

    // The receiver goes down; meanwhile another approval happens.
    receiver.answers.lock().expect("lock").extend([503; 400]);
    let second = submit_and_approve(&b, "DEMO-T07", 4.6).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        !receiver
            .events()
            .iter()
            .any(|(_, body, _)| body["data"]["submission"] == second)
    );
    // The replica that holds the delivery lease is killed; the receiver comes back.
    let lease = entity::job_lease::Entity::find_by_id("events".to_owned())
        .one(&db)
        .await
        .expect("lease")
        .expect("a replica holds the delivery lease");
    let holder_pid: u32 = lease
        .holder
        .split(':')
        .nth(1)
        .and_then(|p| p.parse().ok())
        .expect("the holder names its process");
    if a.child.id() == Some(holder_pid) {
        a.child.kill().await.expect("kill A");
    } else {
        let mut b = b;
        b.child.kill().await.expect("kill B");
        std::mem::forget(b);
    }
    receiver.answers.lock().expect("lock").clear();
    assert!(
        eventually(Duration::from_secs(20), || once(&receiver, &second)).await,
        "the surviving replica takes the lease over and delivers what waited, once: {:?}",
        receiver.events()
    );
    drop(a);
    drop(db);
    let _ = admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .await;
}
