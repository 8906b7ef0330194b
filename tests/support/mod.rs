//! `spawn_app()`: the real router on port 0 against a fresh database (a new SQLite file, or a new
//! PostgreSQL database when `CHILDHUB_TEST_POSTGRES` is set), migrated and seeded with the catalogue and
//! the demo data, plus helpers to call it.

#![allow(dead_code)]

pub mod browser;
pub mod processes;

use childhub::auth::token::issue_dev_token;
use childhub::config::Settings;
use childhub::startup;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

pub const SECRET: &str = "integration-test-secret-0123456789abcdef";

/// Which database a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs a test body once per backend: `on_both_backends!(name, |app| async move { … });` makes
/// `name::sqlite` and `name::postgres` (the latter is ignored, and counted as such, unless the suite was
/// built with `CHILDHUB_TEST_POSTGRES` set).
/// `on_both_backends!(name, settings = |s| { … }, |app| …)` changes the settings first.
#[macro_export]
macro_rules! on_both_backends {
    ($name:ident, $body:expr) => {
        $crate::on_both_backends!(
            $name,
            settings = |_: &mut childhub::config::Settings| {},
            $body
        );
    };
    ($name:ident, settings = $adjust:expr, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app =
                    $crate::support::spawn_app_with($crate::support::Backend::Sqlite, $adjust)
                        .await;
                ($body)(app).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[cfg_attr(
                not(postgres_tests),
                ignore = "needs PostgreSQL: set CHILDHUB_TEST_POSTGRES (as .ci/run does)"
            )]
            async fn postgres() {
                let app =
                    $crate::support::spawn_app_with($crate::support::Backend::Postgres, $adjust)
                        .await;
                ($body)(app).await;
            }
        }
    };
}

/// A new, empty PostgreSQL database for tests that start `childhub` processes on it: the server
/// connection (to drop it afterwards), its name and its URL.
pub async fn empty_postgres_database(prefix: &str) -> (DatabaseConnection, String, String) {
    use sea_orm::ConnectionTrait;
    let admin_url = std::env::var("CHILDHUB_TEST_POSTGRES").expect("CHILDHUB_TEST_POSTGRES");
    let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
    let admin = sea_orm::Database::connect(&admin_url)
        .await
        .expect("PostgreSQL");
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await
        .expect("create");
    let url = format!("{}/{name}", admin_url.rsplit_once('/').expect("url").0);
    (admin, name, url)
}

/// Whether the PostgreSQL runs are on.
pub fn postgres_enabled() -> bool {
    std::env::var("CHILDHUB_TEST_POSTGRES").is_ok_and(|v| !v.is_empty())
}

/// A running application and its database.
pub struct TestApp {
    pub addr: std::net::SocketAddr,
    /// The server and the app's background tasks, stopped when the test ends (before its database goes).
    tasks: Vec<tokio::task::JoinHandle<()>>,
    pub db: DatabaseConnection,
    pub settings: Settings,
    pub backend: Backend,
    pub client: reqwest::Client,
    statements: Arc<AtomicUsize>,
    _database: DatabaseGuard,
}

/// Drops the test's database when the test ends, even when it fails.
struct DatabaseGuard {
    sqlite_dir: Option<std::path::PathBuf>,
    postgres: Option<(String, String)>,
}

impl Drop for DatabaseGuard {
    fn drop(&mut self) {
        if let Some(dir) = &self.sqlite_dir {
            let _ = std::fs::remove_dir_all(dir);
        }
        if let Some((admin_url, name)) = self.postgres.take() {
            // Drop runs inside the test's runtime; a fresh thread and runtime can block on the drop.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                rt.block_on(async {
                    if let Ok(admin) = Database::connect(&admin_url).await {
                        let _ = admin
                            .execute_unprepared(&format!(
                                "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                            ))
                            .await;
                    }
                });
                Ok::<(), std::io::Error>(())
            })
            .join();
        }
    }
}

/// Settings every test starts from.
pub fn test_settings(database_url: String) -> Settings {
    let mut settings = Settings {
        database_url: database_url.into(),
        ..Settings::default()
    };
    settings.auth.hs256_secret = Some(SECRET.into());
    settings.seed_if_empty = Some(false);
    // Event tests run the worker's rounds themselves and make the relay poll often (`events_settings`);
    // elsewhere nothing polls, so statement counts see only the requests.
    settings.events.workers = false;
    settings.connectors.scheduler = false;
    settings.events.poll_interval = Duration::from_secs(3600);
    settings.log.filter = "warn".into();
    // Tests send bursts from one token (property tests, concurrency); the limit has its own test.
    settings.limits.requests_per_minute = 0;
    settings
}

/// Starts the app on a fresh, migrated database with the catalogue and the demo loaded.
pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

/// Like [`spawn_app`], with settings changed by `adjust` first.
pub async fn spawn_app_with(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let (url, guard) = match backend {
        Backend::Sqlite => {
            let dir = std::env::temp_dir().join(format!("childhub-test-{id}"));
            std::fs::create_dir_all(&dir).expect("temp dir");
            let url = format!("sqlite://{}/test.db?mode=rwc", dir.display());
            (
                url,
                DatabaseGuard {
                    sqlite_dir: Some(dir),
                    postgres: None,
                },
            )
        }
        Backend::Postgres => {
            let admin_url =
                std::env::var("CHILDHUB_TEST_POSTGRES").expect("CHILDHUB_TEST_POSTGRES");
            let name = format!("childhub_test_{id}");
            let admin = Database::connect(&admin_url)
                .await
                .expect("PostgreSQL reachable");
            admin
                .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                .await
                .expect("create test database");
            let url = match admin_url.rsplit_once('/') {
                Some((base, _)) => format!("{base}/{name}"),
                None => panic!("CHILDHUB_TEST_POSTGRES must end in /<database>"),
            };
            (
                url,
                DatabaseGuard {
                    sqlite_dir: None,
                    postgres: Some((admin_url, name)),
                },
            )
        }
    };
    let mut settings = test_settings(url);
    adjust(&mut settings);
    // Logs go to the test harness's captured output: shown for a failing test, silent for a passing one
    // (a test that provokes an internal error on purpose prints no ERROR line in a passing run).
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&settings.log.filter)),
        )
        .with_test_writer()
        .try_init();
    let mut db = startup::connect(&settings).await.expect("connect");
    let statements = Arc::new(AtomicUsize::new(0));
    let counter = statements.clone();
    let print = std::env::var("CHILDHUB_TEST_PRINT_SQL").is_ok();
    db.set_metric_callback(move |info| {
        childhub::service::record_statement(info);
        counter.fetch_add(1, Ordering::SeqCst);
        if print {
            eprintln!(
                "SQL: {}",
                info.statement.sql.chars().take(160).collect::<String>()
            );
        }
    });
    startup::migrate(&db).await.expect("migrate");
    childhub::seed::load_catalogue(&db)
        .await
        .expect("catalogue");
    childhub::seed::load_demo(&db).await.expect("demo");
    let app = startup::build(db.clone(), settings.clone()).expect("build");
    let (listener, addr) = startup::bind("127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("bind");
    let mut tasks = app.tasks;
    tasks.push(tokio::spawn(async move {
        let _ = startup::serve(listener, app.router, std::future::pending()).await;
    }));
    TestApp {
        addr,
        tasks,
        db,
        settings,
        backend,
        client: reqwest::Client::new(),
        statements,
        _database: guard,
    }
}

/// Stops the app's tasks before its database is dropped. (Having a `Drop` also makes Rust 2024 closures
/// capture the whole app: a test body that touches `app.addr` alone would otherwise drop the rest of the
/// app, its database included, at once.)
impl Drop for TestApp {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl TestApp {
    /// `http://127.0.0.1:<port><path>`
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// A valid token for a member of `dept` with `roles`.
    pub fn token(&self, dept: &str, roles: &[&str]) -> String {
        issue_dev_token(
            &self.settings.auth,
            SECRET,
            &format!("{dept}-tester"),
            dept,
            roles,
            Duration::from_secs(600),
        )
        .expect("token")
    }

    /// A valid token for subject `sub`, a member of `dept` with `roles`.
    pub fn token_for(&self, sub: &str, dept: &str, roles: &[&str]) -> String {
        issue_dev_token(
            &self.settings.auth,
            SECRET,
            sub,
            dept,
            roles,
            Duration::from_secs(600),
        )
        .expect("token")
    }

    /// A statistics-bureau viewer's token (a coordinator: reads everything).
    pub fn coordinator(&self) -> String {
        self.token("statistics", &["viewer"])
    }

    /// POSTs a GraphQL request with a bearer token; returns the JSON body.
    pub async fn gql(&self, token: &str, query: &str, variables: Value) -> Value {
        self.post(
            Some(token),
            &json!({ "query": query, "variables": variables }),
        )
        .await
        .1
    }

    /// POSTs a JSON body to `/graphql`, with a bearer token when given; returns status and body.
    pub async fn post(&self, token: Option<&str>, body: &Value) -> (u16, Value) {
        let mut request = self.client.post(self.url("/graphql")).json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Like [`gql`](Self::gql), asserting there are no errors; returns `data`.
    pub async fn data(&self, token: &str, query: &str, variables: Value) -> Value {
        let body = self.gql(token, query, variables).await;
        assert!(body.get("errors").is_none(), "unexpected errors: {body:#}");
        body["data"].clone()
    }

    /// SQL statements run since the app started (or since the last reset).
    pub fn statements(&self) -> usize {
        self.statements.load(Ordering::SeqCst)
    }

    pub fn reset_statements(&self) {
        self.statements.store(0, Ordering::SeqCst);
    }
}

/// Of racing answers, the indexes of those that succeeded; every other one must be a `CONFLICT`.
pub fn winners_of_race(answers: &[Value], round: impl std::fmt::Display) -> Vec<usize> {
    let mut winners = Vec::new();
    for (i, body) in answers.iter().enumerate() {
        match body.get("errors") {
            None => winners.push(i),
            Some(errors) => assert_eq!(
                errors[0]["extensions"]["code"], "CONFLICT",
                "round {round}: the loser gets CONFLICT: {body}"
            ),
        }
    }
    winners
}

/// The first error's `extensions.code` and message.
pub fn first_error(body: &Value) -> (String, String) {
    let e = &body["errors"][0];
    (
        e["extensions"]["code"].as_str().unwrap_or("").to_owned(),
        e["message"].as_str().unwrap_or("").to_owned(),
    )
}

/// Signs in on the development "sign in as …" page over HTTP; returns the `Cookie` header value of the
/// session (`childhub=…`).
pub async fn dev_session(app: &TestApp, department: &str, roles: &[&str]) -> String {
    let mut form: Vec<(&str, &str)> = vec![("department", department), ("return_to", "/")];
    form.extend(roles.iter().map(|r| ("roles", *r)));
    let answer = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .post(app.url("/signin/dev"))
        .form(&form)
        .send()
        .await
        .expect("sign in");
    assert_eq!(
        answer.status(),
        303,
        "the development sign-in answers with a redirect"
    );
    answer
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("childhub="))
        .and_then(|v| v.split(';').next())
        .expect("a session cookie")
        .to_owned()
}

/// The CSRF token a workspace page carries for the session `cookie`.
pub async fn csrf_of(app: &TestApp, cookie: &str) -> String {
    let page = app
        .client
        .get(app.url("/"))
        .header("cookie", cookie)
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("body");
    page.split("name=\"childhub-csrf\" content=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the page carries its CSRF token")
        .to_owned()
}
