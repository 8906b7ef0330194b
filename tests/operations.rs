//! What operations teams rely on: metrics, failing fast when the database has no connection to give,
//! CORS for browser and Apollo clients, a token command that refuses to run in production, and traces
//! that reach an OTLP collector as children of the caller's `traceparent`.

use crate::on_both_backends;
use crate::support::TestApp;
use serde_json::json;
use std::time::{Duration, Instant};

const CATALOGUE: &str = "query Catalogue { indicators { code } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests_and_operations() {
    let app = crate::support::spawn_app(crate::support::Backend::Sqlite).await;
    app.data(&app.coordinator(), CATALOGUE, json!({})).await;
    let response = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("metrics");
    assert_eq!(response.status(), 200);
    let text = response.text().await.expect("text");
    for expected in [
        "childhub_http_requests_total{route=\"/graphql\",method=\"POST\",status=\"200\"}",
        "childhub_graphql_operations_total{operation=\"Catalogue\",outcome=\"ok\"}",
        "childhub_graphql_operation_duration_seconds_bucket{operation=\"Catalogue\"",
        "childhub_db_connections{state=\"idle\"}",
        "childhub_db_statement_duration_seconds_bucket{statement=\"select\",failed=\"false\"",
    ] {
        assert!(text.contains(expected), "{expected} missing from:\n{text}");
    }
}

on_both_backends!(
    metrics_need_their_token_in_production,
    settings = |s: &mut childhub::config::Settings| {
        s.environment = childhub::config::Environment::Production;
        s.metrics.token = Some("scraper-token-0123456789".to_owned().into());
    },
    |app: TestApp| async move {
        let get = |token: Option<&'static str>| {
            let mut request = app.client.get(app.url("/metrics"));
            if let Some(t) = token {
                request = request.bearer_auth(t);
            }
            request.send()
        };
        assert_eq!(get(None).await.expect("metrics").status(), 401);
        assert_eq!(get(Some("wrong")).await.expect("metrics").status(), 401);
        assert_eq!(
            get(Some("scraper-token-0123456789"))
                .await
                .expect("metrics")
                .status(),
            200
        );
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_not_served_in_production_without_a_token() {
    let app = crate::support::spawn_app_with(crate::support::Backend::Sqlite, |s| {
        s.environment = childhub::config::Environment::Production;
    })
    .await;
    let response = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("metrics");
    assert_eq!(response.status(), 404);
}

on_both_backends!(
    an_exhausted_pool_answers_503_at_once,
    settings = |s: &mut childhub::config::Settings| {
        // Two: migrating on PostgreSQL holds one for its advisory lock and works on the other.
        s.database.max_connections = Some(2);
        s.database.acquire_timeout = Duration::from_millis(300);
    },
    |app: TestApp| async move {
        use sea_orm::TransactionTrait;
        // Both connections are taken, as by long imports.
        let held = (
            app.db.begin().await.expect("hold a connection"),
            app.db.begin().await.expect("hold the other"),
        );
        let started = Instant::now();
        let (status, body) = app
            .post(Some(&app.coordinator()), &json!({ "query": CATALOGUE }))
            .await;
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "fails fast, not at the request timeout"
        );
        assert_eq!(status, 503, "{body}");
        assert_eq!(body["errors"][0]["extensions"]["code"], "UNAVAILABLE");
        let text = body.to_string();
        assert!(
            !text.contains("pool") && !text.contains("sqlx"),
            "no internals: {text}"
        );
        let response = app
            .client
            .post(app.url("/graphql"))
            .bearer_auth(app.coordinator())
            .json(&json!({ "query": CATALOGUE }))
            .send()
            .await
            .expect("post");
        assert_eq!(response.status(), 503);
        assert!(response.headers().get("retry-after").is_some());
        drop(held);
        // With the connection back, the same request succeeds.
        let (status, _) = app
            .post(Some(&app.coordinator()), &json!({ "query": CATALOGUE }))
            .await;
        assert_eq!(status, 200);
    }
);

on_both_backends!(
    cors_allows_what_browsers_and_apollo_clients_send,
    settings = |s: &mut childhub::config::Settings| {
        s.http.cors_origins = vec!["https://dashboard.city.example".into()]
    },
    |app: TestApp| async move {
        let preflight = app
            .client
            .request(reqwest::Method::OPTIONS, app.url("/graphql"))
            .header("origin", "https://dashboard.city.example")
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization, content-type, apollographql-client-name, traceparent, x-request-id",
            )
            .send()
            .await
            .expect("options");
        let allowed = preflight
            .headers()
            .get("access-control-allow-headers")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        for header in ["apollographql-client-name", "traceparent", "x-request-id"] {
            assert!(allowed.contains(header), "{header} not in {allowed}");
        }
        let response = app
            .client
            .post(app.url("/graphql"))
            .header("origin", "https://dashboard.city.example")
            .bearer_auth(app.coordinator())
            .json(&json!({ "query": CATALOGUE }))
            .send()
            .await
            .expect("post");
        let exposed = response
            .headers()
            .get("access-control-expose-headers")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        assert!(exposed.contains("x-request-id"), "{exposed}");
    }
);

#[test]
fn the_token_command_refuses_in_production_and_short_secrets() {
    let run = |env: &[(&str, &str)]| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_childhub"));
        command
            .args(["token", "--dept", "statistics", "--role", "viewer"])
            .env("CHILDHUB_LOG", "warn")
            .env_remove("CHILDHUB_JWT_SECRET");
        for (k, v) in env {
            command.env(k, v);
        }
        command.output().expect("run childhub")
    };
    let production = run(&[
        ("CHILDHUB_ENVIRONMENT", "production"),
        ("CHILDHUB_JWT_SECRET", crate::support::SECRET),
    ]);
    assert!(!production.status.success());
    let stderr = String::from_utf8_lossy(&production.stderr);
    assert!(stderr.contains("production"), "{stderr}");
    assert!(production.stdout.is_empty(), "no token printed");

    let short = run(&[("CHILDHUB_JWT_SECRET", "too-short")]);
    assert!(!short.status.success());
    let stderr = String::from_utf8_lossy(&short.stderr);
    assert!(stderr.contains("at least 32"), "{stderr}");
    assert!(short.stdout.is_empty());

    let fine = run(&[("CHILDHUB_JWT_SECRET", crate::support::SECRET)]);
    assert!(
        fine.status.success(),
        "{}",
        String::from_utf8_lossy(&fine.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_reads_the_sdl_without_a_user_token_and_nothing_else() {
    let app = crate::support::spawn_app(crate::support::Backend::Sqlite).await;
    let (status, body) = app
        .post(
            None,
            &json!({ "query": "query SubgraphIntrospectQuery { _service { sdl } }" }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["data"]["_service"]["sdl"]
            .as_str()
            .is_some_and(|sdl| sdl.contains("type Indicator")),
        "{body}"
    );
    // Issue 18: the Subscription root was left out, so a router could not plan subscriptions here.
    let sdl = body["data"]["_service"]["sdl"].as_str().unwrap_or("");
    assert!(sdl.contains("type Subscription"), "{sdl}");
    assert!(sdl.contains("statusChanged("), "{sdl}");
    for query in [
        "{ _service { sdl } indicators { code } }",
        "{ indicators { code } }",
        "{ ...F } fragment F on Query { _service { sdl } }",
    ] {
        let (status, body) = app.post(None, &json!({ "query": query })).await;
        assert_eq!(status, 401, "{query}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_over_its_rate_is_told_when_to_come_back() {
    let app = crate::support::spawn_app_with(crate::support::Backend::Sqlite, |s| {
        s.limits.requests_per_minute = 20; // bursts of 2
    })
    .await;
    let hasty = app.token("health", &["viewer"]);
    let calm = app.token("education", &["viewer"]);
    let body = json!({ "query": "{ me { department } }" });
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(app.post(Some(&hasty), &body).await.0);
    }
    assert_eq!(statuses[..2], [200, 200], "{statuses:?}");
    assert_eq!(statuses[3], 429, "{statuses:?}");
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&hasty)
        .json(&body)
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), 429);
    let retry: u64 = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok()?.parse().ok())
        .expect("Retry-After in seconds");
    assert!((1..=3).contains(&retry), "{retry}");
    let error: serde_json::Value = response.json().await.expect("json");
    assert_eq!(error["errors"][0]["extensions"]["code"], "RATE_LIMITED");
    // Another caller has its own bucket.
    assert_eq!(app.post(Some(&calm), &body).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphql_over_http_media_type_and_cache_control() {
    let app = crate::support::spawn_app_with(crate::support::Backend::Sqlite, |s| {
        s.auth.anonymous_read = childhub::config::AnonymousRead::Public;
    })
    .await;
    let post = |query: &'static str, accept: Option<&'static str>| {
        let mut request = app
            .client
            .post(app.url("/graphql"))
            .bearer_auth(app.coordinator())
            .json(&json!({ "query": query }));
        if let Some(a) = accept {
            request = request.header("accept", a);
        }
        request.send()
    };
    let header = |r: &reqwest::Response, name: &str| {
        r.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let accept = Some("application/graphql-response+json, application/json;q=0.9");
    // A document that does not validate: 400 under the GraphQL-over-HTTP media type, 200 otherwise.
    let invalid = post("{ noSuchField }", accept).await.expect("post");
    assert_eq!(invalid.status(), 400);
    assert_eq!(
        header(&invalid, "content-type"),
        "application/graphql-response+json"
    );
    let legacy = post("{ noSuchField }", None).await.expect("post");
    assert_eq!(legacy.status(), 200);
    assert_eq!(header(&legacy, "content-type"), "application/json");
    let fine = post(CATALOGUE, accept).await.expect("post");
    assert_eq!(fine.status(), 200);
    assert_eq!(
        header(&fine, "content-type"),
        "application/graphql-response+json"
    );
    // A token's view is never stored; an anonymous GET of public data may be cached a minute.
    assert_eq!(header(&fine, "cache-control"), "private, no-store");
    let public = app
        .client
        .get(app.url("/graphql"))
        .query(&[("query", "{ indicators { code } }")])
        .send()
        .await
        .expect("get");
    assert_eq!(public.status(), 200);
    assert_eq!(header(&public, "cache-control"), "public, max-age=60");
}

/// Set-up mistakes end in a sentence the person can act on, not "internal error".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_up_mistakes_get_user_errors() {
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_childhub"));
        command
            .args(args)
            .env("CHILDHUB_LOG", "warn")
            .env("CHILDHUB_JWT_SECRET", crate::support::SECRET);
        for (k, v) in env {
            command.env(k, v);
        }
        let out = command.output().expect("run childhub");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // A port that is taken.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let dir = std::env::temp_dir().join(format!("childhub-ops-{}", uuid::Uuid::new_v4().simple()));
    let url = format!("sqlite://{}/hub.db?mode=rwc", dir.display());
    let (ok, stderr) = run(
        &["serve", "--bind", &addr],
        &[("CHILDHUB_DATABASE_URL", &url)],
    );
    assert!(!ok);
    assert!(
        stderr.contains("--bind") && stderr.contains("already listens"),
        "{stderr}"
    );
    assert!(!stderr.contains("internal error"), "{stderr}");
    // Settings that cannot work: a trusted-documents manifest that is not JSON, a collector address
    // that is not a URL, a key that does not exist. Each names the setting.
    std::fs::create_dir_all(&dir).expect("dir");
    let manifest = dir.join("trusted.json");
    std::fs::write(&manifest, "{\"not json").expect("write");
    let manifest = manifest.to_string_lossy().into_owned();
    for (env, named) in [
        (
            ("CHILDHUB_DOCUMENTS__TRUSTED", manifest.as_str()),
            "documents.trusted",
        ),
        (
            ("CHILDHUB_TRACING__OTLP_ENDPOINT", "collector:4318"),
            "tracing.otlp_endpoint",
        ),
        (("CHILDHUB_NO_SUCH_SETTING", "1"), "no_such_setting"),
    ] {
        let (ok, stderr) = run(
            &["serve", "--bind", "127.0.0.1:0"],
            &[("CHILDHUB_DATABASE_URL", &url), env],
        );
        assert!(!ok, "{env:?}");
        assert!(
            stderr.contains("settings:") && stderr.contains(named),
            "{stderr}"
        );
        assert!(!stderr.contains("internal error"), "{stderr}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// A PostgreSQL database that does not exist is named with the command that creates it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(postgres_tests),
    ignore = "needs PostgreSQL: set CHILDHUB_TEST_POSTGRES (as .ci/run does)"
)]
async fn a_missing_postgres_database_is_named_with_how_to_create_it() {
    let admin = std::env::var("CHILDHUB_TEST_POSTGRES").expect("url");
    let missing = match admin.rsplit_once('/') {
        Some((base, _)) => format!("{base}/childhub_no_such_database"),
        None => panic!("CHILDHUB_TEST_POSTGRES must end in /<database>"),
    };
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_childhub"))
        .arg("migrate")
        .env("CHILDHUB_DATABASE_URL", &missing)
        .env("CHILDHUB_LOG", "warn")
        .output()
        .expect("run childhub");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("createdb childhub_no_such_database"),
        "{stderr}"
    );
    assert!(!stderr.contains("internal error"), "{stderr}");
}

/// Spans collected by a stand-in OTLP/HTTP collector (JSON encoding), flattened.
type Spans = std::sync::Arc<std::sync::Mutex<Vec<serde_json::Value>>>;

/// A collector that keeps every span it is sent.
async fn collector() -> (String, Spans) {
    let spans: Spans = Default::default();
    let kept = spans.clone();
    let router = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(move |body: axum::Json<serde_json::Value>| {
            let kept = kept.clone();
            async move {
                for resource in body["resourceSpans"].as_array().into_iter().flatten() {
                    for scope in resource["scopeSpans"].as_array().into_iter().flatten() {
                        for span in scope["spans"].as_array().into_iter().flatten() {
                            kept.lock().unwrap().push(span.clone());
                        }
                    }
                }
                axum::Json(json!({}))
            }
        }),
    );
    (crate::sources::serve(router).await, spans)
}

#[tokio::test]
async fn traces_reach_an_otlp_collector_as_children_of_the_callers_traceparent() {
    let (collector, spans) = collector().await;
    // A department system that fails once (so the pull logs a retry inside the request) and records the
    // trace context it is called with.
    let seen: std::sync::Arc<std::sync::Mutex<Vec<String>>> = Default::default();
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (seen_in, calls_in) = (seen.clone(), calls.clone());
    let source = crate::sources::serve(axum::Router::new().route(
        "/export.csv",
        axum::routing::get(move |headers: axum::http::HeaderMap| {
            let (seen, calls) = (seen_in.clone(), calls_in.clone());
            async move {
                let parent = headers.get("traceparent").and_then(|v| v.to_str().ok());
                seen.lock()
                    .unwrap()
                    .push(parent.unwrap_or_default().to_owned());
                if calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
                    return (axum::http::StatusCode::SERVICE_UNAVAILABLE, String::new());
                }
                (axum::http::StatusCode::OK, "年度,值\n2026,4.2\n".to_owned())
            }
        }),
    ))
    .await;
    let dir = std::env::temp_dir().join(format!("childhub-otlp-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}/hub.db?mode=rwc", dir.display());
    let hub = crate::replicas::Replica::start_with(
        &url,
        &[
            ("CHILDHUB_TRACING__OTLP_ENDPOINT", collector.as_str()),
            ("CHILDHUB_TRACING__PROTOCOL", "http/json"),
            ("CHILDHUB_LOG__FILTER", "info"),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
            ("CHILDHUB_CONNECTORS__FIRST_RETRY", "50ms"),
        ],
    )
    .await;
    let admin = crate::replicas::token("health", &["admin"]);
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let caller_span = "00f067aa0ba902b7";
    let post = |query: &'static str, variables: serde_json::Value| {
        reqwest::Client::new()
            .post(hub.url("/graphql"))
            .bearer_auth(&admin)
            .header("traceparent", format!("00-{trace}-{caller_span}-01"))
            .json(&json!({ "query": query, "variables": variables }))
            .send()
    };
    // Paused, so that only the manual run below pulls it (the scheduler would pull a new source at once).
    let created: serde_json::Value = post(
        "mutation($c: JSON!) { createSource(config: $c) { name } }",
        json!({ "c": {
            "name": "traced", "department": "health", "kind": "http_csv", "paused": true,
            "url": format!("{source}/export.csv"),
            "mapping": {
                "indicator": { "constant": "HEA-03" }, "region": { "constant": "DEMO-T01" },
                "year": { "field": "年度" }, "value": { "field": "值" }
            }
        } }),
    )
    .await
    .expect("create")
    .json()
    .await
    .unwrap();
    assert_eq!(
        created["data"]["createSource"]["name"],
        "traced",
        "{created}\n{}",
        hub.log()
    );
    let pulled: serde_json::Value = post(
        "mutation RunTraced { runSource(name: \"traced\") { status rowsWritten } }",
        json!({}),
    )
    .await
    .expect("run")
    .json()
    .await
    .unwrap();
    assert_eq!(pulled["data"]["runSource"]["rowsWritten"], 1, "{pulled}");

    // The spans arrive within the batch delay; wait for the pull's.
    let started = Instant::now();
    let in_trace = || -> Vec<serde_json::Value> {
        let spans = spans.lock().unwrap();
        spans
            .iter()
            .filter(|s| s["traceId"] == trace)
            .cloned()
            .collect()
    };
    while started.elapsed() < Duration::from_secs(15)
        && !in_trace().iter().any(|s| s["name"] == "pull source")
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let traced = in_trace();
    let named = |name: &str| {
        traced
            .iter()
            .find(|s| s["name"] == name)
            .unwrap_or_else(|| panic!("no span {name:?} in the caller's trace: {traced:#?}"))
            .clone()
    };
    let operation = named("graphql RunTraced");
    let request = traced
        .iter()
        .find(|s| s["spanId"] == operation["parentSpanId"])
        .expect("the operation's parent span");
    assert_eq!(request["name"], "POST /graphql");
    assert_eq!(
        request["parentSpanId"], caller_span,
        "the request span is the caller's child"
    );
    assert_eq!(request["kind"], 2, "a server span");
    let status = request["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["key"] == "http.response.status_code")
        .unwrap_or_else(|| panic!("no status on the request span: {request:#}"));
    assert_eq!(status["value"]["intValue"], "200", "{status}");
    let pull = named("pull source");
    assert_eq!(pull["parentSpanId"], operation["spanId"]);
    // The source was called under the pull: the same trace, a span of ours as the parent.
    let parents = seen.lock().unwrap().clone();
    assert_eq!(parents.len(), 2, "one failure, one retry: {parents:?}");
    for parent in &parents {
        let parts: Vec<&str> = parent.split('-').collect();
        assert_eq!(parts.len(), 4, "a W3C traceparent: {parent}");
        assert_eq!(parts[1], trace, "the source hears of the caller's trace");
        assert_ne!(parts[2], caller_span, "…as a child of the hub's span");
    }
    // Logs name the request and the trace: the retry's line carries both.
    let log = hub.log();
    let retry = log
        .lines()
        .find(|l| l.contains("retrying"))
        .unwrap_or_else(|| panic!("no retry logged:\n{log}"));
    assert!(retry.contains(&format!("trace_id={trace}")), "{retry}");
    assert!(retry.contains("request_id="), "{retry}");
    assert!(
        !log.contains('\u{1b}'),
        "no colour codes when stderr is not a terminal"
    );
    let _ = std::fs::remove_dir_all(dir);
}

const DOMAINS: &str = "query Domains { domains { code } }";

/// The SHA-256 of a document, as clients compute it.
fn sha256(text: &str) -> String {
    childhub::graphql::documents::hash_of(text)
}

on_both_backends!(
    automatic_persisted_queries_ask_for_the_text_once,
    |app: TestApp| async move {
        let token = app.coordinator();
        let hash = sha256(DOMAINS);
        let persisted = json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } });
        // The hash alone: not known yet, so the client is asked for the text (200, Apollo's words).
        let (status, body) = app
            .post(Some(&token), &json!({ "extensions": persisted }))
            .await;
        assert_eq!(status, 200);
        assert_eq!(
            body["errors"][0]["extensions"]["code"],
            "PERSISTED_QUERY_NOT_FOUND"
        );
        assert_eq!(body["errors"][0]["message"], "PersistedQueryNotFound");
        // Text and hash: runs, and is kept.
        let (status, body) = app
            .post(
                Some(&token),
                &json!({ "query": DOMAINS, "extensions": persisted }),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["data"]["domains"].as_array().map(Vec::len), Some(7));
        // The hash alone now runs, by POST and by GET.
        let (_, body) = app
            .post(Some(&token), &json!({ "extensions": persisted }))
            .await;
        assert_eq!(
            body["data"]["domains"].as_array().map(Vec::len),
            Some(7),
            "{body}"
        );
        let got: serde_json::Value = app
            .client
            .get(app.url("/graphql"))
            .query(&[("extensions", persisted.to_string())])
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            got["data"]["domains"].as_array().map(Vec::len),
            Some(7),
            "{got}"
        );
        // A text that is not what the hash names is refused, and nothing is kept under that hash.
        let other = json!({ "persistedQuery": { "version": 1, "sha256Hash": sha256("{ me { subject } }") } });
        let (status, body) = app
            .post(
                Some(&token),
                &json!({ "query": DOMAINS, "extensions": other }),
            )
            .await;
        assert_eq!(status, 400);
        assert_eq!(
            body["errors"][0]["extensions"]["code"],
            "PERSISTED_QUERY_HASH_MISMATCH"
        );
        let (_, body) = app
            .post(Some(&token), &json!({ "extensions": other }))
            .await;
        assert_eq!(
            body["errors"][0]["extensions"]["code"],
            "PERSISTED_QUERY_NOT_FOUND"
        );
        // A persisted mutation is still a mutation: not by GET.
        let mutation = "mutation { pauseSource(name: \"none\") { name } }";
        let m = json!({ "persistedQuery": { "version": 1, "sha256Hash": sha256(mutation) } });
        app.post(Some(&token), &json!({ "query": mutation, "extensions": m }))
            .await;
        let status = app
            .client
            .get(app.url("/graphql"))
            .query(&[("extensions", m.to_string())])
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status.as_u16(), 405);
    }
);

/// The first message about operation `id` other than its `complete`.
async fn answer_to(session: &mut crate::events::WsClient, id: &str) -> serde_json::Value {
    loop {
        let message = session
            .next(Duration::from_secs(5))
            .await
            .expect("an answer");
        if message["id"] == id && message["type"] != "complete" {
            return message;
        }
    }
}

#[tokio::test]
async fn only_trusted_documents_run_when_the_manifest_says_so() {
    let manifest = std::env::temp_dir().join(format!("trusted-{}.json", uuid::Uuid::new_v4()));
    std::fs::write(
        &manifest,
        json!({
            "format": "apollo-persisted-query-manifest", "version": 1,
            "operations": [{ "id": sha256(DOMAINS), "name": "Domains", "type": "query", "body": DOMAINS }]
        })
        .to_string(),
    )
    .unwrap();
    let path = manifest.clone();
    let app = crate::support::spawn_app_with(crate::support::Backend::Sqlite, move |s| {
        s.documents.trusted = Some(path);
        s.documents.only_trusted = true;
    })
    .await;
    let token = app.coordinator();
    // By id (the GraphQL-over-HTTP proposal's documentId), and as the same text sent whole.
    let (status, body) = app
        .post(
            Some(&token),
            &json!({ "documentId": format!("sha256:{}", sha256(DOMAINS)) }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["domains"].as_array().map(Vec::len), Some(7));
    let (_, body) = app.post(Some(&token), &json!({ "query": DOMAINS })).await;
    assert_eq!(body["data"]["domains"].as_array().map(Vec::len), Some(7));
    // Anything else is refused, also when a client tries to register it the APQ way.
    for attempt in [
        json!({ "query": "{ me { subject } }" }),
        json!({ "query": "{ me { subject } }", "extensions": { "persistedQuery": { "version": 1, "sha256Hash": sha256("{ me { subject } }") } } }),
        json!({ "documentId": format!("sha256:{}", sha256("{ me { subject } }")) }),
    ] {
        let (status, body) = app.post(Some(&token), &attempt).await;
        assert_eq!(status, 400, "{attempt}");
        assert_eq!(
            body["errors"][0]["extensions"]["code"],
            "PERSISTED_QUERY_NOT_IN_LIST"
        );
    }
    // A WebSocket session reaches the schema without the HTTP handler: the allow-list holds there too,
    // for a query as for a subscription.
    let mut session =
        crate::events::WsClient::connect(&format!("ws://{}/graphql", app.addr), &token).await;
    let ack = session.next(Duration::from_secs(5)).await.expect("ack");
    assert_eq!(ack["type"], "connection_ack");
    for (id, document) in [
        ("1", "{ me { subject } }"),
        ("2", "subscription { events { id } }"),
    ] {
        session.subscribe(id, document).await;
        let answer = answer_to(&mut session, id).await;
        let errors = if answer["type"] == "error" {
            &answer["payload"]
        } else {
            &answer["payload"]["errors"]
        };
        assert_eq!(
            errors[0]["extensions"]["code"], "PERSISTED_QUERY_NOT_IN_LIST",
            "{answer}"
        );
    }
    session.subscribe("3", DOMAINS).await;
    let answer = answer_to(&mut session, "3").await;
    assert_eq!(
        answer["payload"]["data"]["domains"]
            .as_array()
            .map(Vec::len),
        Some(7),
        "{answer}"
    );
    // A gateway still reads the schema.
    let (status, body) = app
        .post(None, &json!({ "query": "{ _service { sdl } }" }))
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["data"]["_service"]["sdl"].as_str().is_some());
    let _ = std::fs::remove_file(manifest);
}
