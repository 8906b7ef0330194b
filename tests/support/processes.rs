//! Programs the tests start beside themselves as plain processes: `childhub serve` on its own embedded
//! database (for what only a whole process shows: its log, its sign-in pages) and the test identity
//! provider (`tests/browser/provider.mjs`, the certified `oidc-provider` package). Each stops when
//! dropped; the hub's files go with it.

use serde_json::Value;
use std::path::PathBuf;
use std::time::Duration;
use tokio::io::AsyncBufReadExt;

/// A free port on the loopback interface (the OS picks it; the listener is dropped at once).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The test identity provider.
pub struct Provider {
    pub issuer: String,
    _child: tokio::process::Child,
}

/// Starts the provider with `options` (see provider.mjs): `redirect`, `postLogout`, `accessTtl`,
/// `audience`, `secret`.
pub async fn start_provider(options: Value) -> Provider {
    let mut child = tokio::process::Command::new("node")
        .current_dir(crate::support::browser::dir())
        .arg("provider.mjs")
        .arg(options.to_string())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("node runs the test provider");
    let mut lines = tokio::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
    let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("the provider starts within 30 s")
        .expect("its output")
        .expect("a first line");
    let started: Value = serde_json::from_str(&first).expect("the provider's address");
    Provider {
        issuer: started["issuer"].as_str().expect("issuer").to_owned(),
        _child: child,
    }
}

/// A `childhub serve` process.
pub struct Hub {
    /// `http://localhost:<port>` (the provider's cookies live on 127.0.0.1, the hub's on localhost).
    pub url: String,
    pub database_url: String,
    pub log: PathBuf,
    dir: PathBuf,
    child: Option<std::process::Child>,
}

impl Hub {
    /// What the hub wrote to its log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Starts `childhub serve` on a fresh embedded database (catalogue and demo loaded) on `port`, with
/// `env` as extra settings; waits until it answers `/healthz`.
pub async fn start_hub(port: u16, env: &[(&str, String)]) -> Hub {
    let dir = std::env::temp_dir().join(format!("childhub-hub-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("dir");
    let database_url = format!("sqlite://{}/hub.db?mode=rwc", dir.display());
    let log = dir.join("hub.log");
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_childhub"));
    command
        .arg("serve")
        .env("CHILDHUB_DATABASE_URL", &database_url)
        .env("CHILDHUB_BIND", format!("127.0.0.1:{port}"))
        .env("CHILDHUB_AUTH__SECRET_FILE", dir.join("dev-secret"))
        .env("CHILDHUB_LIMITS__REQUESTS_PER_MINUTE", "0")
        .env(
            "CHILDHUB_LOG",
            "debug,sqlx=warn,sea_orm=warn,hyper=info,h2=info,reqwest=info",
        )
        .stdout(std::fs::File::create(dir.join("hub.out")).expect("stdout file"))
        .stderr(std::fs::File::create(&log).expect("log file"));
    for (key, value) in env {
        command.env(key, value);
    }
    let child = command.spawn().expect("childhub serve starts");
    let hub = Hub {
        url: format!("http://localhost:{port}"),
        database_url,
        log,
        dir,
        child: Some(child),
    };
    let client = reqwest::Client::new();
    for _ in 0..300 {
        if client
            .get(format!("{}/healthz", hub.url))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return hub;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "childhub serve did not answer within 30 s: {}",
        hub.log_text()
    );
}
