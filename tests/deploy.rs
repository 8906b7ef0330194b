//! The deployment as written: `docker-compose.yml` renders (docker-compose config, no container engine
//! needed) with its secrets from the environment, and the topology it describes runs as plain
//! processes — PostgreSQL, the seed step, two `serve` replicas, a reverse proxy, a smoke query through
//! it, and the healthcheck command the containers use.

use crate::replicas::{Replica, token};
use axum::body::Bytes;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Runs docker-compose on the checked-in file with `env`; returns (success, stdout, stderr).
#[cfg(compose_tests)]
fn compose_config(env: &[(&str, &str)]) -> (bool, String, String) {
    let program = std::env::var("CHILDHUB_DOCKER_COMPOSE")
        .unwrap_or_else(|_| "/usr/bin/docker-compose".into());
    let out = std::process::Command::new(program)
        .args([
            "-f",
            &format!("{ROOT}/docker-compose.yml"),
            "--profile",
            "demo",
            "config",
        ])
        .env_remove("CHILDHUB_JWT_SECRET")
        .env_remove("POSTGRES_PASSWORD")
        .envs(env.iter().copied())
        .output()
        .expect("run docker-compose");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The lines of one service in rendered compose YAML (`  name:` up to the next service).
#[cfg(compose_tests)]
fn service<'a>(rendered: &'a str, name: &str) -> &'a str {
    let start = rendered
        .find(&format!("\n  {name}:\n"))
        .unwrap_or_else(|| panic!("no service {name} in:\n{rendered}"));
    let body = &rendered[start + name.len() + 4..];
    let end = body
        .match_indices("\n  ")
        .find(|(i, _)| !body[i + 3..].starts_with(' '))
        .map_or(body.len(), |(i, _)| i);
    &body[..end]
}

#[test]
#[cfg_attr(
    not(compose_tests),
    ignore = "needs docker-compose: install Debian's docker-compose (as .ci/run does) or set CHILDHUB_DOCKER_COMPOSE"
)]
fn the_compose_file_renders_with_its_secrets_from_the_environment() {
    #[cfg(compose_tests)]
    {
        let secret = crate::support::SECRET;
        let (ok, rendered, errors) = compose_config(&[
            ("CHILDHUB_JWT_SECRET", secret),
            ("POSTGRES_PASSWORD", "pw-from-env"),
        ]);
        assert!(ok, "docker-compose config failed: {errors}");
        let hub = service(&rendered, "childhub");
        assert!(hub.contains("replicas: 2"), "{hub}");
        assert!(hub.contains("restart: unless-stopped"), "{hub}");
        assert!(
            hub.contains("- healthcheck"),
            "replicas are checked with `childhub healthcheck`: {hub}"
        );
        assert!(
            hub.contains("condition: service_completed_successfully"),
            "replicas wait for the seed: {hub}"
        );
        assert!(hub.contains("CHILDHUB_ENVIRONMENT: production"), "{hub}");
        assert!(
            hub.contains(secret) && hub.contains("pw-from-env"),
            "secrets come from the environment"
        );
        let seed = service(&rendered, "seed");
        assert!(
            seed.contains("- seed") && !seed.contains("--demo"),
            "the catalogue only: {seed}"
        );
        assert!(
            !seed.contains("profiles"),
            "the seed step runs on every `up`: {seed}"
        );
        let demo = service(&rendered, "seed-demo");
        assert!(
            demo.contains("--demo") && demo.contains("- demo"),
            "demo data only in its profile: {demo}"
        );
        let proxy = service(&rendered, "proxy");
        assert!(proxy.contains("condition: service_healthy"), "{proxy}");
        assert!(service(&rendered, "postgres").contains("pg_isready"));
        // Without the secrets nothing renders, and the message names what to set.
        let (ok, _, errors) = compose_config(&[("POSTGRES_PASSWORD", "pw")]);
        assert!(!ok);
        assert!(errors.contains("CHILDHUB_JWT_SECRET"), "{errors}");
    }
}

#[test]
fn the_image_runs_unprivileged_and_its_build_context_holds_no_output_or_secrets() {
    let dockerfile = std::fs::read_to_string(format!("{ROOT}/Dockerfile")).unwrap();
    let user = dockerfile
        .lines()
        .filter_map(|l| l.strip_prefix("USER "))
        .next_back()
        .expect("a USER line");
    assert_ne!(user.trim(), "root");
    assert!(
        dockerfile.contains("cargo fetch --locked"),
        "dependencies in a layer of their own"
    );
    assert!(dockerfile.contains("HEALTHCHECK") && dockerfile.contains("\"healthcheck\""));
    let ignore = std::fs::read_to_string(format!("{ROOT}/.dockerignore")).unwrap();
    for kept_out in [
        "target/",
        ".git/",
        "data/dev-secret",
        "**/*.db",
        ".env",
        "node_modules",
    ] {
        assert!(ignore.contains(kept_out), ".dockerignore lacks {kept_out}");
    }
    // The catalogue the binary embeds must stay in the context.
    assert!(
        !ignore
            .lines()
            .any(|l| l.trim() == "data/" || l.trim() == "data")
    );
}

/// A round-robin reverse proxy over `upstreams`, as nginx is in the compose file; counts what each got.
async fn proxy(upstreams: Vec<String>) -> (String, Arc<Vec<AtomicUsize>>) {
    let served: Arc<Vec<AtomicUsize>> =
        Arc::new(upstreams.iter().map(|_| AtomicUsize::new(0)).collect());
    let next = Arc::new(AtomicUsize::new(0));
    let client = reqwest::Client::new();
    let counts = served.clone();
    let router = axum::Router::new().fallback(
        move |method: axum::http::Method,
              uri: axum::http::Uri,
              headers: axum::http::HeaderMap,
              body: Bytes| {
            let (client, upstreams, next, counts) = (
                client.clone(),
                upstreams.clone(),
                next.clone(),
                counts.clone(),
            );
            async move {
                let i = next.fetch_add(1, Ordering::SeqCst) % upstreams.len();
                counts[i].fetch_add(1, Ordering::SeqCst);
                let path = uri.path_and_query().map_or("/", |p| p.as_str());
                let mut forwarded = headers.clone();
                forwarded.remove(axum::http::header::HOST);
                let answer = client
                    .request(method, format!("{}{path}", upstreams[i]))
                    .headers(forwarded)
                    .body(body)
                    .send()
                    .await
                    .expect("upstream answers");
                let status = answer.status();
                let headers = answer.headers().clone();
                let body = answer.bytes().await.unwrap_or_default();
                (status, headers, body)
            }
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    (format!("http://{addr}"), served)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(postgres_tests),
    ignore = "needs PostgreSQL: set CHILDHUB_TEST_POSTGRES (as .ci/run does)"
)]
async fn the_compose_topology_runs_as_plain_processes() {
    let (admin, name, url) = crate::support::empty_postgres_database("childhub_compose").await;
    // The environment every service of the compose file shares.
    let env = [
        ("CHILDHUB_ENVIRONMENT", "production"),
        ("CHILDHUB_JWT_SECRET", crate::support::SECRET),
        ("CHILDHUB_SEED_IF_EMPTY", "false"),
    ];
    // The seed step: `childhub seed` (no demo data), as the `seed` service runs it.
    let seeded = tokio::process::Command::new(env!("CARGO_BIN_EXE_childhub"))
        .arg("seed")
        .env("CHILDHUB_DATABASE_URL", &url)
        .envs(env)
        .output()
        .await
        .expect("run the seed step");
    assert!(
        seeded.status.success(),
        "{}",
        String::from_utf8_lossy(&seeded.stderr)
    );
    // Two replicas (`serve`) and the proxy in front of them.
    let (a, b) = tokio::join!(
        Replica::start_with(&url, &env),
        Replica::start_with(&url, &env)
    );
    for replica in [&a, &b] {
        let check = tokio::process::Command::new(env!("CARGO_BIN_EXE_childhub"))
            .args(["healthcheck", "--url", &replica.url("")])
            .output()
            .await
            .expect("healthcheck");
        assert!(
            check.status.success(),
            "{}",
            String::from_utf8_lossy(&check.stderr)
        );
    }
    let (front, served) = proxy(vec![a.url(""), b.url("")]).await;
    // Smoke: the catalogue through the proxy, with a production token, on both replicas; no demo data.
    let viewer = token("statistics", &["viewer"]);
    for _ in 0..4 {
        let answer: Value = reqwest::Client::new()
            .post(format!("{front}/graphql"))
            .bearer_auth(&viewer)
            .json(&json!({ "query": "{ domains { code } regions(filter: { level: TOWNSHIP }) { code } }" }))
            .send()
            .await
            .expect("through the proxy")
            .json()
            .await
            .expect("json");
        assert_eq!(
            answer["data"]["domains"].as_array().map(Vec::len),
            Some(7),
            "{answer}"
        );
        assert_eq!(
            answer["data"]["regions"],
            json!([]),
            "no demo townships were loaded"
        );
    }
    assert!(
        served.iter().all(|n| n.load(Ordering::SeqCst) >= 2),
        "both replicas served"
    );
    let ready = reqwest::get(format!("{front}/readyz"))
        .await
        .expect("readyz");
    assert_eq!(ready.status(), 200);
    // Production: no development tokens printed, no introspection.
    let intro: Value = reqwest::Client::new()
        .post(format!("{front}/graphql"))
        .bearer_auth(&viewer)
        .json(&json!({ "query": "{ __schema { queryType { name } } }" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(intro["data"]["__schema"].is_null(), "{intro}");
    // A replica that is down fails its healthcheck.
    let down = a.url("");
    drop(a);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let check = tokio::process::Command::new(env!("CARGO_BIN_EXE_childhub"))
        .args(["healthcheck", "--url", &down])
        .output()
        .await
        .expect("healthcheck");
    assert!(!check.status.success());
    drop(b);
    let _ = admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .await;
}

/// GraphiQL is served from the binary: its pinned files are the ones `scripts/vendor-assets.sh` fetched
/// and checked (their SHA-256 recorded), and each package's licence is kept beside them.
#[test]
fn the_vendored_graphiql_files_match_their_checksums_and_keep_their_licences() {
    use sha2::Digest;
    let vendor = format!("{ROOT}/assets/vendor");
    let sums = std::fs::read_to_string(format!("{vendor}/SHA256SUMS")).unwrap();
    let mut checked = 0;
    for line in sums.lines().filter(|l| !l.trim().is_empty()) {
        let (sum, file) = line.split_once("  ").expect("sha256sum format");
        let bytes = std::fs::read(format!("{vendor}/{file}")).unwrap();
        let actual = format!("{:x}", sha2::Sha256::digest(&bytes));
        assert_eq!(
            actual, sum,
            "{file} changed: rerun scripts/vendor-assets.sh"
        );
        checked += 1;
    }
    assert!(checked >= 4, "SHA256SUMS lists the served files");
    let lock = std::fs::read_to_string(format!("{vendor}/packages.lock")).unwrap();
    for package in lock
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let fields: Vec<&str> = package.split_whitespace().collect();
        assert_eq!(fields.len(), 3, "name version integrity: {package}");
        assert!(fields[2].starts_with("sha512-"), "{package}");
        assert!(
            std::path::Path::new(&format!("{vendor}/LICENSE.{}", fields[0])).exists(),
            "the licence of {} is kept",
            fields[0]
        );
    }
}
