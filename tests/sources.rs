//! Source connectors against department systems played by in-process servers: a paged JSON API behind a
//! bearer token, a CSV with a byte-order mark and Windows line endings, a workbook and a GBK CSV, an
//! SDMX-JSON message (the hub's own), a GraphQL service, a second database, and the faults — 500 twice then 200, a hang, 304, an
//! answer of 100 MB, malformed JSON. Each checks what was written, what was reported, and that nothing
//! was lost or duplicated.

use crate::on_both_backends;
use crate::support::TestApp;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Starts a department system (or any in-process HTTP service) on a free port; returns its base URL.
pub async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{addr}")
}

const RUN: &str = r#"mutation($name: String!, $dry: Boolean) { runSource(name: $name, dryRun: $dry) {
  status error rowsFetched rowsWritten rowsUnchanged rowsRejected preview
  rejects { at field value message } run { id status httpStatus submissionId } } }"#;

/// Creates a source as health's admin.
async fn create(app: &TestApp, config: Value) {
    app.data(
        &app.token("health", &["admin"]),
        "mutation($c: JSON!) { createSource(config: $c) { name status } }",
        json!({ "c": config }),
    )
    .await;
}

/// Pulls a source now as health's admin; returns the pull.
async fn run(app: &TestApp, name: &str) -> Value {
    let d = app
        .data(
            &app.token("health", &["admin"]),
            RUN,
            json!({ "name": name }),
        )
        .await;
    d["runSource"].clone()
}

/// The HEA-03 rows of 2026 stored now (any status).
async fn stored_2026(app: &TestApp) -> Vec<Value> {
    let d = app
        .data(
            &app.coordinator(),
            r#"{ observations(filter: { indicators: ["HEA-03"], years: { from: 2026, to: 2026 }, version: LATEST }, first: 1000) {
                edges { node { region { code } sex value status revision source { name runId } } } } }"#,
            json!({}),
        )
        .await;
    d["observations"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

/// The townships of the demo and a value for each, as a department system holds them.
fn township_rows() -> Vec<(String, f64)> {
    (1..=14)
        .map(|i| (format!("DEMO-T{i:02}"), 3.0 + f64::from(i) / 10.0))
        .collect()
}

on_both_backends!(
    a_paged_json_api_behind_a_token_lands_as_one_pending_submission,
    |app: TestApp| async move {
        let rows = township_rows();
        // Three pages of five, four and five records, linked by `links.next`; a bearer token is needed.
        let pages: Vec<Value> = rows
            .chunks(5)
            .enumerate()
            .map(|(i, chunk)| {
                json!({
                    "items": chunk.iter().map(|(code, v)| json!({ "area": code, "yr": "2026", "imr": v })).collect::<Vec<_>>(),
                    "links": { "next": if i < 2 { Some(format!("/records?page={}", i + 2)) } else { None } },
                })
            })
            .collect();
        let pages = Arc::new(pages);
        let router = axum::Router::new().route(
            "/records",
            axum::routing::get(
                move |headers: HeaderMap, q: axum::extract::Query<std::collections::HashMap<String, String>>| {
                    let pages = pages.clone();
                    async move {
                        if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer health-api-token") {
                            return StatusCode::UNAUTHORIZED.into_response();
                        }
                        let page: usize = q.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
                        axum::Json(pages[page - 1].clone()).into_response()
                    }
                },
            ),
        );
        let base = serve(router).await;
        // SAFETY: tests set distinct variables; nothing else reads these names.
        unsafe { std::env::set_var("TEST_HEALTH_API_TOKEN", "health-api-token") };
        create(
            &app,
            json!({
                "name": "health-imr-api", "department": "health", "kind": "http_json",
                "url": format!("{base}/records?page=1"), "records": "/items", "next": "/links/next",
                "auth": { "bearer_env": "TEST_HEALTH_API_TOKEN" },
                "mapping": {
                    "indicator": { "constant": "HEA-03" }, "region": { "field": "area" },
                    "year": { "field": "yr" }, "value": { "field": "imr" }
                }
            }),
        )
        .await;
        let pull = run(&app, "health-imr-api").await;
        assert_eq!(pull["status"], "SUCCEEDED", "{pull}");
        assert_eq!(pull["rowsFetched"], 14);
        assert_eq!(pull["rowsWritten"], 14);
        assert_eq!(pull["run"]["httpStatus"], 200);
        let stored = stored_2026(&app).await;
        assert_eq!(stored.len(), 14, "every record once");
        assert!(
            stored.iter().all(|n| n["status"] == "PENDING"),
            "pending approval like any submission"
        );
        assert!(
            stored
                .iter()
                .all(|n| n["source"]["name"] == "health-imr-api"),
            "provenance"
        );
        // Pulling the same data again writes nothing.
        let again = run(&app, "health-imr-api").await;
        assert_eq!(again["rowsWritten"], 0);
        assert_eq!(again["rowsUnchanged"], 14);
        assert_eq!(stored_2026(&app).await.len(), 14);
        // The run is recorded, and a coordinator approves the submission as any other.
        let runs = app
            .data(
                &app.token("health", &["viewer"]),
                r#"{ sourceRuns(source: "health-imr-api") { status rowsFetched rowsWritten submissionId trigger } }"#,
                json!({}),
            )
            .await;
        let first = &runs["sourceRuns"][1];
        assert_eq!(first["rowsWritten"], 14);
        assert_eq!(first["trigger"], "manual");
        let submission = first["submissionId"]
            .as_str()
            .expect("submission")
            .to_owned();
        app.data(
            &app.token("statistics", &["approver"]),
            "mutation($id: ID!) { approveSubmission(id: $id) { status } }",
            json!({ "id": submission }),
        )
        .await;
        assert!(
            stored_2026(&app)
                .await
                .iter()
                .all(|n| n["status"] == "APPROVED")
        );
    }
);

on_both_backends!(
    a_csv_file_with_its_own_codes_maps_and_reports_bad_rows,
    |app: TestApp| async move {
        // Excel on Windows: a byte-order mark, CRLF, Chinese headers, the department's own township names,
        // sex as 1/2, and two bad rows (a merged township, a value that is not a number).
        let mut text = String::from("\u{feff}乡镇,年度,性别,死亡率\r\n");
        for i in 1..=5 {
            text.push_str(&format!(
                "示范镇{i:02},2026,1,{}\r\n",
                4.0 + f64::from(i) / 10.0
            ));
            text.push_str(&format!(
                "示范镇{i:02},2026,2,{}\r\n",
                3.0 + f64::from(i) / 10.0
            ));
        }
        text.push_str("示范镇15,2026,1,4.0\r\n示范镇06,2026,1,n/a\r\n");
        let router = axum::Router::new().route(
            "/export.csv",
            axum::routing::get(move || {
                let text = text.clone();
                async move { ([("content-type", "text/csv; charset=utf-8")], text) }
            }),
        );
        let base = serve(router).await;
        let townships: serde_json::Map<String, Value> = (1..=15)
            .map(|i| (format!("示范镇{i:02}"), json!(format!("DEMO-T{i:02}"))))
            .collect();
        create(
            &app,
            json!({
                "name": "health-imr-csv", "department": "health", "kind": "http_csv",
                "url": format!("{base}/export.csv"),
                "mapping": {
                    "indicator": { "constant": "HEA-03" },
                    "region": { "field": "乡镇", "map": townships },
                    "year": { "field": "年度" },
                    "sex": { "field": "性别", "map": { "1": "M", "2": "F" } },
                    "value": { "field": "死亡率" }
                }
            }),
        )
        .await;
        let dry = app
            .data(
                &app.token("health", &["admin"]),
                RUN,
                json!({ "name": "health-imr-csv", "dry": true }),
            )
            .await["runSource"]
            .clone();
        assert!(dry["run"].is_null(), "a dry run is not recorded");
        assert_eq!(dry["preview"][0]["region"], "DEMO-T01");
        assert_eq!(dry["preview"][0]["sex"], "M");
        assert!(
            stored_2026(&app).await.is_empty(),
            "a dry run writes nothing"
        );
        let pull = run(&app, "health-imr-csv").await;
        assert_eq!(pull["rowsFetched"], 12);
        assert_eq!(pull["rowsWritten"], 10, "the valid rows land");
        assert_eq!(pull["rowsRejected"], 2, "{pull}");
        let rejects = pull["rejects"].as_array().expect("rejects");
        let at: Vec<&str> = rejects
            .iter()
            .map(|r| r["at"].as_str().unwrap_or(""))
            .collect();
        assert_eq!(
            at,
            vec!["line 12", "line 13"],
            "the source's own line numbers"
        );
        assert!(
            rejects[0]["message"]
                .as_str()
                .unwrap_or("")
                .contains("existed")
        );
        assert_eq!(rejects[1]["field"], "value (field 死亡率)");
        assert_eq!(stored_2026(&app).await.len(), 10);
    }
);

on_both_backends!(
    workbooks_and_gbk_files_are_read_by_the_one_file_reader,
    |app: TestApp| async move {
        // A nightly export as a department's office software writes it: an .xlsx whose first sheet has
        // Chinese headers, numbers as numbers and as typed text (`4.2%`, full-width digits), a formula
        // with its cached value; and the same table as a CSV in GBK.
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        sheet.set_name("死亡率").expect("name");
        for (c, h) in ["乡镇", "年度", "死亡率"].iter().enumerate() {
            sheet.write_string(0, c as u16, *h).expect("header");
        }
        sheet.write_string(1, 0, "DEMO-T01").expect("cell");
        sheet.write_number(1, 1, 2026).expect("cell");
        sheet.write_number(1, 2, 4.1).expect("cell");
        sheet.write_string(2, 0, "DEMO-T02").expect("cell");
        sheet.write_string(2, 1, "2026年").expect("cell");
        sheet.write_string(2, 2, "４.２").expect("cell");
        sheet.write_string(3, 0, "DEMO-T03").expect("cell");
        sheet.write_number(3, 1, 2026).expect("cell");
        sheet
            .write_formula(
                3,
                2,
                rust_xlsxwriter::Formula::new("=C2+0.2").set_result("4.3"),
            )
            .expect("cell");
        sheet.write_string(4, 0, "DEMO-T04").expect("cell");
        sheet.write_number(4, 1, 2026).expect("cell");
        sheet.write_string(4, 2, "#N/A").expect("cell");
        let xlsx = book.save_to_buffer().expect("xlsx");
        let (gbk, _, _) = encoding_rs::GBK.encode("乡镇,年度,死亡率\r\nDEMO-T05,2026,4.5\r\n");
        let gbk = gbk.into_owned();
        let csv_body = gbk.clone();
        let router = axum::Router::new()
            .route(
                "/report.xlsx",
                axum::routing::get(move || {
                    let xlsx = xlsx.clone();
                    async move {
                        (
                            [(
                                "content-type",
                                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                            )],
                            xlsx,
                        )
                    }
                }),
            )
            .route(
                "/report.csv",
                axum::routing::get(move || {
                    let body = csv_body.clone();
                    async move { ([("content-type", "text/csv; charset=gbk")], body) }
                }),
            );
        let base = serve(router).await;
        let mapping = json!({
            "indicator": { "constant": "HEA-03" }, "region": { "field": "乡镇" },
            "year": { "field": "年度" }, "value": { "field": "死亡率" }
        });
        create(
            &app,
            json!({ "name": "health-xlsx", "department": "health", "kind": "http_xlsx",
                    "url": format!("{base}/report.xlsx"), "mapping": mapping }),
        )
        .await;
        let pull = run(&app, "health-xlsx").await;
        assert_eq!(pull["rowsFetched"], 4, "{pull}");
        assert_eq!(pull["rowsWritten"], 3, "{pull}");
        assert_eq!(pull["rejects"][0]["at"], "死亡率 row 5", "{pull}");
        assert_eq!(pull["rejects"][0]["value"], "#N/A", "{pull}");
        create(
            &app,
            json!({ "name": "health-gbk", "department": "health", "kind": "http_csv",
                    "url": format!("{base}/report.csv"), "mapping": mapping }),
        )
        .await;
        let pull = run(&app, "health-gbk").await;
        assert_eq!(pull["status"], "SUCCEEDED", "{pull}");
        assert_eq!(pull["rowsWritten"], 1, "{pull}");
        let stored: std::collections::BTreeMap<String, f64> = stored_2026(&app)
            .await
            .iter()
            .map(|n| {
                (
                    n["region"]["code"].as_str().unwrap_or("").to_owned(),
                    n["value"].as_f64().unwrap_or(f64::NAN),
                )
            })
            .collect();
        assert_eq!(
            stored,
            [
                ("DEMO-T01", 4.1),
                ("DEMO-T02", 4.2),
                ("DEMO-T03", 4.3),
                ("DEMO-T05", 4.5)
            ]
            .into_iter()
            .map(|(r, v)| (r.to_owned(), v))
            .collect()
        );
        // A workbook source that answers CSV is told what it got.
        create(
            &app,
            json!({ "name": "health-not-xlsx", "department": "health", "kind": "http_xlsx",
                    "url": format!("{base}/report.csv"), "mapping": mapping }),
        )
        .await;
        let pull = run(&app, "health-not-xlsx").await;
        assert_eq!(pull["status"], "FAILED", "{pull}");
        assert!(
            pull["error"]
                .as_str()
                .unwrap_or("")
                .contains("not a workbook"),
            "{pull}"
        );
    }
);

on_both_backends!(
    all_or_nothing_sources_land_nothing_when_a_row_is_bad,
    |app: TestApp| async move {
        let router = axum::Router::new().route(
            "/rows",
            axum::routing::get(|| async {
                axum::Json(json!([
                    { "r": "DEMO-T01", "v": 4.1 },
                    { "r": "DEMO-T02", "v": 4.2 },
                    { "r": "NOWHERE", "v": 4.3 }
                ]))
            }),
        );
        let base = serve(router).await;
        create(
            &app,
            json!({
                "name": "health-strict", "department": "health", "kind": "http_json",
                "url": format!("{base}/rows"), "all_or_nothing": true,
                "mapping": { "indicator": { "constant": "HEA-03" }, "region": { "field": "r" },
                             "year": { "constant": 2026 }, "value": { "field": "v" } }
            }),
        )
        .await;
        let pull = run(&app, "health-strict").await;
        assert_eq!(pull["rowsRejected"], 1);
        assert_eq!(pull["rowsWritten"], 0);
        assert!(pull["run"]["submissionId"].is_null());
        assert!(stored_2026(&app).await.is_empty(), "nothing lands");
    }
);

on_both_backends!(
    an_sdmx_message_and_a_graphql_service_are_read_as_sources,
    |app: TestApp| async move {
        // SDMX-JSON: the hub's own /sdmx endpoint (another hub would be the same), read with a token.
        let token = app.coordinator();
        unsafe { std::env::set_var("TEST_SDMX_TOKEN", &token) };
        let message: Value = app
            .client
            .get(app.url("/sdmx/data/HEA-03?from=2025&to=2025"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("sdmx")
            .json()
            .await
            .expect("json");
        let series = message["data"]["dataSets"][0]["series"]
            .as_object()
            .expect("series");
        assert!(!series.is_empty());
        create(
            &app,
            json!({
                "name": "hub-sdmx", "department": "health", "kind": "sdmx_json",
                "url": app.url("/sdmx/data/HEA-03?from=2025&to=2025"),
                "auth": { "bearer_env": "TEST_SDMX_TOKEN" },
                "mapping": {
                    "indicator": { "field": "INDICATOR" }, "region": { "field": "REF_AREA" },
                    "year": { "field": "TIME_PERIOD" }, "sex": { "field": "SEX" }, "age_group": { "field": "AGE" },
                    "residence": { "field": "URBANISATION" }, "value": { "field": "OBS_VALUE" }
                }
            }),
        )
        .await;
        let pull = run(&app, "hub-sdmx").await;
        assert_eq!(pull["status"], "SUCCEEDED", "{pull}");
        let fetched = pull["rowsFetched"].as_i64().expect("fetched");
        assert!(fetched > 20);
        assert_eq!(
            pull["rowsUnchanged"], fetched,
            "the same values: nothing to write"
        );
        assert_eq!(pull["rowsRejected"], 0, "{pull}");

        // GraphQL: two pages through pageInfo.
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = calls.clone();
        let router = axum::Router::new().route(
            "/graphql",
            axum::routing::post(move |axum::Json(body): axum::Json<Value>| {
                let counter = counter.clone();
                async move {
                    counter.fetch_add(1, Ordering::SeqCst);
                    let after = body["variables"]["after"].as_str().map(str::to_owned);
                    let (items, next) = match after.as_deref() {
                        None => (vec![("DEMO-S01", 3.4), ("DEMO-S02", 3.5)], Some("c2")),
                        Some("c2") => (vec![("DEMO-S03", 3.6)], None),
                        _ => (vec![], None),
                    };
                    axum::Json(json!({ "data": { "rates": {
                        "nodes": items.iter().map(|(r, v)| json!({ "area": { "code": r }, "year": 2026, "rate": v })).collect::<Vec<_>>(),
                        "pageInfo": { "hasNextPage": next.is_some(), "endCursor": next }
                    } } }))
                }
            }),
        );
        let base = serve(router).await;
        create(
            &app,
            json!({
                "name": "health-graphql", "department": "health", "kind": "graphql",
                "url": format!("{base}/graphql"),
                "query": "query($after: String) { rates(after: $after) { nodes { area { code } year rate } pageInfo { hasNextPage endCursor } } }",
                "records": "/data/rates/nodes", "cursor": "/data/rates/pageInfo", "cursor_param": "after",
                "mapping": { "indicator": { "constant": "HEA-03" }, "region": { "field": "/area/code" },
                             "year": { "field": "year" }, "value": { "field": "rate" } }
            }),
        )
        .await;
        let pull = run(&app, "health-graphql").await;
        assert_eq!(pull["rowsWritten"], 3, "{pull}");
        assert_eq!(calls.load(Ordering::SeqCst), 2, "two pages");
    }
);

on_both_backends!(
    a_departments_own_database_table_is_read_read_only,
    |app: TestApp| async move {
        // The education bureau's own database: a SQLite file with its own table.
        let dir =
            std::env::temp_dir().join(format!("childhub-source-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("dir");
        let url = format!("sqlite://{}/edu.db?mode=rwc", dir.display());
        let own = sea_orm::Database::connect(&url).await.expect("sqlite");
        use sea_orm::ConnectionTrait;
        own.execute_unprepared(
            "CREATE TABLE imr (town TEXT, yr INTEGER, rate REAL); \
             INSERT INTO imr VALUES ('DEMO-T01', 2026, 4.4), ('DEMO-T02', 2026, 4.5), ('DEMO-T03', 2026, 4.6);",
        )
        .await
        .expect("table");
        let var = format!(
            "TEST_DB_URL_{}",
            uuid::Uuid::new_v4().simple().to_string().to_uppercase()
        );
        unsafe { std::env::set_var(&var, format!("sqlite://{}/edu.db", dir.display())) };
        create(
            &app,
            json!({
                "name": "health-own-db", "department": "health", "kind": "sql",
                "database_url_env": var, "query": "SELECT town, yr, rate FROM imr ORDER BY town",
                "mapping": { "indicator": { "constant": "HEA-03" }, "region": { "field": "town" },
                             "year": { "field": "yr" }, "value": { "field": "rate" } }
            }),
        )
        .await;
        let pull = run(&app, "health-own-db").await;
        assert_eq!(pull["rowsWritten"], 3, "{pull}");
        // The connection is read-only: a statement that writes is refused before it runs.
        let bad = app
            .gql(
                &app.token("health", &["admin"]),
                "mutation($c: JSON!) { createSource(config: $c) { name } }",
                json!({ "c": {
                    "name": "health-writer", "department": "health", "kind": "sql", "database_url_env": var,
                    "query": "DELETE FROM imr",
                    "mapping": { "indicator": { "constant": "HEA-03" }, "region": { "field": "town" },
                                 "year": { "field": "yr" }, "value": { "field": "rate" } } } }),
            )
            .await;
        assert_eq!(bad["errors"][0]["extensions"]["field"], "query");
        drop(own);
        let _ = std::fs::remove_dir_all(dir);
    }
);

/// A source over `base` + `path` mapping `{ r, v }` records.
fn simple(name: &str, url: String) -> Value {
    json!({
        "name": name, "department": "health", "kind": "http_json", "url": url,
        "mapping": { "indicator": { "constant": "HEA-03" }, "region": { "field": "r" },
                     "year": { "constant": 2026 }, "value": { "field": "v" } }
    })
}

on_both_backends!(
    faults_are_retried_or_reported_and_never_half_written,
    settings = |s: &mut childhub::config::Settings| {
        s.connectors.timeout = Duration::from_millis(800);
        s.connectors.first_retry = Duration::from_millis(10);
        s.connectors.max_retry_after = Duration::from_millis(200);
        s.connectors.attempts = 3;
    },
    |app: TestApp| async move {
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = calls.clone();
        let router = axum::Router::new()
            .route(
                "/flaky",
                axum::routing::get(move || {
                    let counter = counter.clone();
                    async move {
                        if counter.fetch_add(1, Ordering::SeqCst) < 2 {
                            return ([("retry-after", "0")], StatusCode::INTERNAL_SERVER_ERROR)
                                .into_response();
                        }
                        axum::Json(json!([{ "r": "DEMO-T01", "v": 4.1 }])).into_response()
                    }
                }),
            )
            .route(
                "/hang",
                axum::routing::get(|| async {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                    "too late"
                }),
            )
            .route(
                "/etag",
                axum::routing::get(|headers: HeaderMap| async move {
                    if headers.get("if-none-match").and_then(|v| v.to_str().ok()) == Some("\"v1\"")
                    {
                        return StatusCode::NOT_MODIFIED.into_response();
                    }
                    (
                        [("etag", "\"v1\"")],
                        axum::Json(json!([{ "r": "DEMO-T02", "v": 4.2 }])),
                    )
                        .into_response()
                }),
            )
            .route(
                "/huge",
                axum::routing::get(|| async {
                    // 120 MB of JSON-ish bytes, streamed.
                    let chunk = bytes_of(1024 * 1024);
                    let stream = futures::stream::iter(
                        (0..120).map(move |_| Ok::<_, std::io::Error>(chunk.clone())),
                    );
                    axum::body::Body::from_stream(stream)
                }),
            )
            .route(
                "/broken",
                axum::routing::get(|| async { "[{\"r\": \"DEMO-T03\", \"v\": 4." }),
            )
            .route(
                "/denied",
                axum::routing::get(|| async { StatusCode::FORBIDDEN }),
            );
        let base = serve(router).await;
        for (name, path) in [
            ("flaky", "/flaky"),
            ("hang", "/hang"),
            ("etag", "/etag"),
            ("huge", "/huge"),
            ("broken", "/broken"),
            ("denied", "/denied"),
        ] {
            create(&app, simple(name, format!("{base}{path}"))).await;
        }
        let flaky = run(&app, "flaky").await;
        assert_eq!(flaky["status"], "SUCCEEDED", "{flaky}");
        assert_eq!(calls.load(Ordering::SeqCst), 3, "500 twice, then 200");
        assert_eq!(flaky["rowsWritten"], 1);

        let hang = run(&app, "hang").await;
        assert_eq!(hang["status"], "FAILED");
        assert!(
            hang["error"]
                .as_str()
                .unwrap_or("")
                .contains("did not answer within"),
            "{hang}"
        );

        let first = run(&app, "etag").await;
        assert_eq!(first["rowsWritten"], 1);
        let second = run(&app, "etag").await;
        assert_eq!(second["status"], "UNCHANGED", "{second}");
        assert_eq!(second["run"]["httpStatus"], 304);
        assert_eq!(second["rowsFetched"], 0);

        let huge = run(&app, "huge").await;
        assert_eq!(huge["status"], "FAILED");
        assert!(
            huge["error"]
                .as_str()
                .unwrap_or("")
                .contains("larger than connectors.max_bytes"),
            "{huge}"
        );

        let broken = run(&app, "broken").await;
        assert_eq!(broken["status"], "FAILED");
        assert!(
            broken["error"].as_str().unwrap_or("").contains("not JSON"),
            "{broken}"
        );

        let denied = run(&app, "denied").await;
        assert!(
            denied["error"].as_str().unwrap_or("").contains("403"),
            "{denied}"
        );

        // What landed: the flaky source's row and the etag source's row, once each; the failures wrote
        // nothing.
        let stored = stored_2026(&app).await;
        let mut regions: Vec<&str> = stored
            .iter()
            .filter_map(|n| n["region"]["code"].as_str())
            .collect();
        regions.sort_unstable();
        assert_eq!(regions, vec!["DEMO-T01", "DEMO-T02"]);

        // Failing sources show up in early warnings for their department and the coordinators only.
        let q = r#"{ earlyWarnings { kind source message } }"#;
        let health = app
            .data(&app.token("health", &["viewer"]), q, json!({}))
            .await;
        let failing: Vec<&str> = health["earlyWarnings"]
            .as_array()
            .expect("warnings")
            .iter()
            .filter(|w| w["kind"] == "SOURCE_FAILING")
            .filter_map(|w| w["source"].as_str())
            .collect();
        assert!(
            failing.contains(&"hang") && failing.contains(&"broken"),
            "{failing:?}"
        );
        assert!(
            !failing.contains(&"flaky"),
            "a source that succeeds is not failing"
        );
        let education = app
            .data(&app.token("education", &["viewer"]), q, json!({}))
            .await;
        assert!(!education.to_string().contains("SOURCE_FAILING"));
        // And each failed run announced itself.
        let events = app
            .data(
                &app.coordinator(),
                r#"{ events(kinds: [SOURCE_FAILED], first: 50) { data } }"#,
                json!({}),
            )
            .await;
        assert!(
            events["events"].as_array().is_some_and(|e| e.len() >= 4),
            "{events}"
        );
    }
);

fn bytes_of(n: usize) -> axum::body::Bytes {
    axum::body::Bytes::from(vec![b' '; n])
}

on_both_backends!(
    sources_are_managed_by_their_departments_admins,
    |app: TestApp| async move {
        let config = simple("health-thing", "https://data.health.example/x".into());
        let create = "mutation($c: JSON!) { createSource(config: $c) { name } }";
        for token in [
            app.token("education", &["admin"]),
            app.token("health", &["viewer"]),
        ] {
            let refused = app.gql(&token, create, json!({ "c": config })).await;
            assert_eq!(
                refused["errors"][0]["extensions"]["code"], "FORBIDDEN",
                "{refused}"
            );
        }
        // Credentials by name only.
        let mut leaky = config.clone();
        leaky["auth"] = json!({ "bearer_env": "eyJhbGciOiJIUzI1NiJ9.secret" });
        let refused = app
            .gql(
                &app.token("health", &["admin"]),
                create,
                json!({ "c": leaky }),
            )
            .await;
        assert_eq!(
            refused["errors"][0]["extensions"]["field"],
            "auth.bearer_env"
        );
        app.data(
            &app.token("health", &["admin"]),
            create,
            json!({ "c": config }),
        )
        .await;
        let run = app
            .gql(
                &app.token("education", &["admin"]),
                RUN,
                json!({ "name": "health-thing" }),
            )
            .await;
        assert_eq!(
            run["errors"][0]["extensions"]["code"], "NOT_FOUND",
            "another department's source looks missing"
        );
        let paused = app
            .data(
                &app.token("statistics", &["admin"]),
                r#"mutation { pauseSource(name: "health-thing") { status } }"#,
                json!({}),
            )
            .await;
        assert_eq!(paused["pauseSource"]["status"], "PAUSED");
        let audit = app
            .data(
                &app.coordinator(),
                r#"{ auditLog(filter: { entityType: "source" }) { action } }"#,
                json!({}),
            )
            .await;
        assert!(
            audit.to_string().contains("source.create")
                && audit.to_string().contains("source.pause")
        );
    }
);

on_both_backends!(
    the_documented_example_source_lands_the_sample_file,
    |app: TestApp| async move {
        // docs/examples/sources.toml, pointed at this hub instead of 127.0.0.1:8080.
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/examples/sources.toml");
        let mut settings =
            childhub::config::Settings::load(Some(std::path::Path::new(path)), &Default::default())
                .expect("the example parses");
        for source in settings.sources.iter_mut() {
            let url = source["url"]
                .as_str()
                .expect("url")
                .replace("http://127.0.0.1:8080", &app.url(""));
            source["url"] = json!(url);
        }
        childhub::startup::sync_sources(&app.db, &settings)
            .await
            .expect("synced");
        let pull = app
            .data(
                &app.token("health", &["admin"]),
                RUN,
                json!({ "name": "demo-health-vaccination" }),
            )
            .await["runSource"]
            .clone();
        assert_eq!(pull["status"], "SUCCEEDED", "{pull}");
        assert_eq!(pull["rowsFetched"], 20);
        assert_eq!(pull["rowsWritten"], 19);
        assert_eq!(pull["rowsRejected"], 1);
        assert_eq!(pull["rejects"][0]["at"], "line 21");
        assert_eq!(pull["rejects"][0]["value"], "DEMO-T15");
        // A source of the settings file is changed there, not through the API.
        let refused = app
            .gql(
                &app.token("statistics", &["admin"]),
                "mutation($c: JSON!) { updateSource(name: \"demo-health-vaccination\", config: $c) { name } }",
                json!({ "c": settings.sources[0] }),
            )
            .await;
        assert_eq!(refused["errors"][0]["extensions"]["code"], "CONFLICT");
    }
);

on_both_backends!(
    the_scheduler_pulls_what_is_due_and_only_that,
    |app: TestApp| async move {
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = calls.clone();
        let router = axum::Router::new().route(
            "/rows",
            axum::routing::get(move || {
                let counter = counter.clone();
                async move {
                    counter.fetch_add(1, Ordering::SeqCst);
                    axum::Json(json!([{ "r": "DEMO-T01", "v": 4.1 }]))
                }
            }),
        );
        let base = serve(router).await;
        let mut daily = simple("daily", format!("{base}/rows"));
        daily["schedule"] = json!("1d");
        create(&app, daily).await;
        let mut paused = simple("paused", format!("{base}/rows"));
        paused["paused"] = json!(true);
        create(&app, paused).await;
        for _ in 0..3 {
            childhub::sources::scheduler::tick(&app.db, &app.settings, "test-holder")
                .await
                .expect("tick");
        }
        assert_eq!(
            calls.load(Ordering::SeqCst),
            1,
            "pulled once: then not due until tomorrow; the paused one never"
        );
        let runs = app
            .data(
                &app.coordinator(),
                r#"{ sourceRuns(source: "daily") { trigger status } }"#,
                json!({}),
            )
            .await;
        assert_eq!(
            runs["sourceRuns"],
            json!([{ "trigger": "schedule", "status": "SUCCEEDED" }])
        );
    }
);
