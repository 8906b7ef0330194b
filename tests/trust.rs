//! The hub tried as a hostile department would: differencing corrected restricted counts, racing two
//! coordinators' decisions, tokens whose roles say less than they try, admins reaching past their
//! department, expensive aliases, and the edges of the HTTP surface.

use crate::on_both_backends;
use crate::submissions::SUBMIT;
use crate::support::TestApp;
use serde_json::{Value, json};

const APPROVE: &str = r#"mutation($id: ID!) { approveSubmission(id: $id) { id status } }"#;
const REJECT: &str = r#"mutation($id: ID!) { rejectSubmission(id: $id, reason: "figures do not add up") { id status } }"#;

/// Submits rows as `token` and returns the new submission's id.
async fn submit(app: &TestApp, token: &str, rows: Value) -> String {
    let d = app.data(token, SUBMIT, json!({ "rows": rows })).await;
    assert_eq!(d["submitObservations"]["rowErrors"], json!([]), "{d}");
    d["submitObservations"]["submission"]["id"]
        .as_str()
        .expect("a submission")
        .to_owned()
}

/// LAW-01 of 2026 by region, as `token` reads it: region → (value, suppressed, revision).
async fn law01_2026(app: &TestApp, token: &str) -> std::collections::BTreeMap<String, Value> {
    let q = r#"{ observations(filter: { indicators: ["LAW-01"], years: { from: 2026, to: 2026 } }) {
      edges { node { region { code } value suppressed revision history { value } } } } }"#;
    let d = app.data(token, q, json!({})).await;
    d["observations"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| {
            (
                e["node"]["region"]["code"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned(),
                e["node"].clone(),
            )
        })
        .collect()
}

on_both_backends!(
    a_corrected_restricted_count_cannot_be_worked_out_by_difference,
    |app: TestApp| async move {
        let owner = app.token("public_security", &["submitter"]);
        let approver = app.token("wcwc", &["approver"]);
        let reader = app.token("education", &["viewer"]);
        // 2026: the city 20 = township 01 with 3 + township 02 with 17.
        let first = submit(
            &app,
            &owner,
            json!([
                { "indicator": "LAW-01", "region": "DEMO", "year": 2026, "value": 20 },
                { "indicator": "LAW-01", "region": "DEMO-T01", "year": 2026, "value": 3 },
                { "indicator": "LAW-01", "region": "DEMO-T02", "year": 2026, "value": 17 }
            ]),
        )
        .await;
        app.data(&approver, APPROVE, json!({ "id": first })).await;
        let before = law01_2026(&app, &reader).await;
        assert_eq!(before["DEMO"]["value"], 20.0);
        assert_eq!(before["DEMO-T01"]["suppressed"], true, "{before:?}");
        assert_eq!(
            before["DEMO-T02"]["suppressed"], true,
            "17 would give the 3 away: {before:?}"
        );
        for hidden in ["DEMO-T01", "DEMO-T02"] {
            assert!(before[hidden]["revision"].is_null(), "{before:?}");
            assert_eq!(before[hidden]["history"], json!([]), "{before:?}");
        }
        // Two more cases are found in township 01: 3 → 5, city 20 → 22; township 02 is unchanged.
        let correction = submit(
            &app,
            &owner,
            json!([
                { "indicator": "LAW-01", "region": "DEMO", "year": 2026, "value": 22 },
                { "indicator": "LAW-01", "region": "DEMO-T01", "year": 2026, "value": 5 },
                { "indicator": "LAW-01", "region": "DEMO-T02", "year": 2026, "value": 17 }
            ]),
        )
        .await;
        app.data(&approver, APPROVE, json!({ "id": correction }))
            .await;
        let after = law01_2026(&app, &reader).await;
        // A reader who kept the first answer knows city 20 = T01 + T02 then. Township 02 kept its value,
        // so showing it now (17) would pin the earlier 3. It stays hidden, with a partner.
        assert_eq!(
            after["DEMO-T02"]["suppressed"], true,
            "the unchanged 17 would reveal the earlier 3: {after:?}"
        );
        let hidden = after.values().filter(|n| n["suppressed"] == true).count();
        assert!(hidden >= 2, "{after:?}");
        // The owner reads everything, history included.
        let full = law01_2026(&app, &app.token("public_security", &["viewer"])).await;
        assert_eq!(full["DEMO-T01"]["value"], 5.0);
        assert_eq!(full["DEMO-T01"]["revision"], 2);
        assert_eq!(
            full["DEMO-T01"]["history"].as_array().map(Vec::len),
            Some(2)
        );
        // Every query path hides the same cells (the release is recorded once, read by all).
        let again = law01_2026(&app, &reader).await;
        assert_eq!(after, again);
    }
);

on_both_backends!(
    racing_decisions_leave_exactly_one_decision,
    |app: TestApp| async move {
        let owner = app.token("health", &["submitter"]);
        let approvers = [
            app.token_for("approver-a", "statistics", &["approver"]),
            app.token_for("approver-b", "wcwc", &["approver"]),
            app.token_for("approver-c", "statistics", &["approver"]),
        ];
        for round in 0..8 {
            let id = submit(
                &app,
                &owner,
                json!([{ "indicator": "HEA-03", "region": "DEMO-T03", "year": 2026, "value": 3.0 + f64::from(round) / 10.0 }]),
            )
            .await;
            let calls = approvers.iter().enumerate().map(|(i, token)| {
                let query = if i == 1 { REJECT } else { APPROVE };
                app.gql(token, query, json!({ "id": id }))
            });
            let answers = futures::future::join_all(calls).await;
            let winners = crate::support::winners_of_race(&answers, round);
            assert_eq!(winners.len(), 1, "round {round}: {answers:?}");
            let status = app
                .data(
                    &app.coordinator(),
                    r#"query($id: ID!) { submission(id: $id) { status observations { status } } }"#,
                    json!({ "id": id }),
                )
                .await;
            let want = if winners[0] == 1 {
                "REJECTED"
            } else {
                "APPROVED"
            };
            assert_eq!(status["submission"]["status"], want, "round {round}");
            assert_eq!(
                status["submission"]["observations"][0]["status"], want,
                "round {round}: the values follow the one decision"
            );
            let published = app
                .data(
                    &app.coordinator(),
                    r#"{ observations(filter: { indicators: ["HEA-03"], regions: ["DEMO-T03"], years: { from: 2026, to: 2026 } }) { totalCount } }"#,
                    json!({}),
                )
                .await;
            let audit = app
                .data(
                    &app.coordinator(),
                    r#"query($k: String) { auditLog(filter: { entityType: "submission", entityKey: $k }) { action } }"#,
                    json!({ "k": id }),
                )
                .await;
            let decisions = audit["auditLog"]
                .as_array()
                .expect("entries")
                .iter()
                .filter(|e| e["action"] != "submission.create")
                .count();
            assert_eq!(decisions, 1, "round {round}: one decision audited");
            if want == "REJECTED" && round == 0 {
                assert_eq!(published["observations"]["totalCount"], 0);
            }
        }
    }
);

on_both_backends!(
    nobody_decides_on_a_submission_they_sent,
    |app: TestApp| async move {
        let sent = submit(
            &app,
            &app.token_for("alice", "health", &["submitter"]),
            json!([{ "indicator": "HEA-03", "region": "DEMO-T04", "year": 2026, "value": 4.1 }]),
        )
        .await;
        let same_person = app.token_for("alice", "statistics", &["approver", "admin"]);
        for query in [APPROVE, REJECT] {
            let body = app.gql(&same_person, query, json!({ "id": sent })).await;
            assert_eq!(
                body["errors"][0]["extensions"]["code"], "FORBIDDEN",
                "{body}"
            );
        }
        let other = app.token_for("bob", "statistics", &["approver"]);
        let d = app.data(&other, APPROVE, json!({ "id": sent })).await;
        assert_eq!(d["approveSubmission"]["status"], "APPROVED");
    }
);

on_both_backends!(
    a_token_without_a_reading_role_reads_nothing,
    |app: TestApp| async move {
        for roles in [&[][..], &["superuser"][..], &["VIEWER"][..]] {
            let token = app.token("health", roles);
            for query in [
                "{ indicators { code } }",
                r#"{ observations { totalCount } }"#,
                "{ departments { code } }",
                "{ summary { year } }",
                r#"{ _entities(representations: [{ __typename: "Indicator", code: "HEA-01" }]) { ... on Indicator { code } } }"#,
            ] {
                let body = app.gql(&token, query, json!({})).await;
                assert_eq!(
                    body["errors"][0]["extensions"]["code"], "FORBIDDEN",
                    "{roles:?} {query}: {body}"
                );
                let data = body["data"].clone();
                assert!(
                    data.is_null()
                        || data
                            .as_object()
                            .is_some_and(|o| o.values().all(Value::is_null)),
                    "{roles:?} {query}: nothing leaks: {body}"
                );
            }
            // What the token grants is still answered, so its holder can see why.
            let me = app
                .data(&token, "{ me { department roles } }", json!({}))
                .await;
            assert_eq!(me["me"]["roles"], json!([]));
        }
    }
);

on_both_backends!(
    a_department_admin_manages_its_own_indicators_only,
    |app: TestApp| async move {
        let health_admin = app.token("health", &["admin"]);
        let city_admin = app.token("statistics", &["admin"]);
        let refused = [
            r#"mutation { createDepartment(code: "sports", input: { nameZh: "体育局", nameEn: "Sports bureau" }) { code } }"#,
            r#"mutation { updateDepartment(code: "health", input: { kind: COORDINATOR }) { code } }"#,
            r#"mutation { updateIndicator(code: "HEA-01", input: { sensitivity: RESTRICTED }) { code } }"#,
            r#"mutation { updateIndicator(code: "HEA-03", input: { sensitivity: PUBLIC }) { code } }"#,
            r#"mutation { updateIndicator(code: "HEA-03", input: { ownerDepartment: "education" }) { code } }"#,
            r#"mutation { updateIndicator(code: "EDU-01", input: { nameEn: "Renamed" }) { code } }"#,
            r#"mutation { setTargets(indicator: "EDU-01", targets: [{ kind: TREND_UP }]) { kind } }"#,
            r#"mutation { createIndicator(code: "EDU-99", input: { nameZh: "新", nameEn: "New", domain: "education", unit: PERCENT, ownerDepartment: "education" }) { code } }"#,
            r#"mutation { createRegion(code: "DEMO-T99", input: { nameZh: "新镇", nameEn: "New town", level: TOWNSHIP, parent: "DEMO" }) { code } }"#,
            r#"mutation { updateRegion(code: "DEMO-T01", input: { nameEn: "Renamed" }) { code } }"#,
        ];
        for mutation in refused {
            let body = app.gql(&health_admin, mutation, json!({})).await;
            assert_eq!(
                body["errors"][0]["extensions"]["code"], "FORBIDDEN",
                "{mutation}: {body}"
            );
        }
        // Its own indicator: names and targets, and a new indicator it owns.
        for mutation in [
            r#"mutation { updateIndicator(code: "HEA-03", input: { nameEn: "Under-five mortality (revised)" }) { code } }"#,
            r#"mutation { setTargets(indicator: "HEA-03", targets: [{ kind: AT_MOST, value: 5.5 }]) { kind } }"#,
            r#"mutation { createIndicator(code: "HEA-99", input: { nameZh: "新指标", nameEn: "New", domain: "health", unit: PERCENT, ownerDepartment: "health" }) { code } }"#,
        ] {
            app.data(&health_admin, mutation, json!({})).await;
        }
        // A city admin does what the department admin may not.
        app.data(
            &city_admin,
            r#"mutation { updateIndicator(code: "HEA-03", input: { sensitivity: RESTRICTED }) { code } }"#,
            json!({}),
        )
        .await;
    }
);

on_both_backends!(
    the_audit_log_shows_other_departments_values_to_coordinators_only,
    |app: TestApp| async move {
        submit(
            &app,
            &app.token("education", &["submitter"]),
            json!([{ "indicator": "EDU-01", "region": "DEMO", "year": 2026, "value": 91.5 }]),
        )
        .await;
        let q =
            r#"{ auditLog(filter: { action: "submission.create" }) { actorDepartment after } }"#;
        // An admin of another department (not a coordinator) reads entries about its own data only.
        let health_admin = app
            .data(&app.token("health", &["admin"]), q, json!({}))
            .await;
        let entries = health_admin["auditLog"].as_array().expect("entries");
        assert!(
            entries.iter().all(|e| e["actorDepartment"] != "education"),
            "a health admin must not read education's pending values: {entries:?}"
        );
        assert!(!health_admin.to_string().contains("91.5"));
        let coordinator = app
            .data(&app.token("statistics", &["viewer"]), q, json!({}))
            .await;
        assert!(coordinator.to_string().contains("91.5"));
    }
);

on_both_backends!(
    aliasing_expensive_fields_is_refused_before_running,
    |app: TestApp| async move {
        let aliases: Vec<String> = (0..12)
            .map(|i| format!("s{i}: summary(year: {}) {{ year }}", 2020 + i))
            .collect();
        let query = format!("{{ {} }}", aliases.join(" "));
        let started = std::time::Instant::now();
        let body = app.gql(&app.coordinator(), &query, json!({})).await;
        let (code, message) = crate::support::first_error(&body);
        assert_eq!(code, "BAD_USER_INPUT", "{body}");
        assert!(message.contains("12 different assessments"), "{message}");
        assert!(body["data"].is_null());
        // Issue 18: weighed per distinct argument — the same assessment under many aliases (and
        // through a variable) is one; four different ones run.
        let same: Vec<String> = (0..12)
            .map(|i| format!("s{i}: summary(year: $y) {{ year }} w{i}: earlyWarnings(year: 2024, severity: HIGH) {{ kind }}"))
            .collect();
        let query = format!(
            "query($y: Int) {{ {} p: progress(filter: {{ year: 2024 }}) {{ status }} }}",
            same.join(" ")
        );
        let body = app
            .gql(&app.coordinator(), &query, json!({ "y": 2024 }))
            .await;
        assert!(body.get("errors").is_none(), "{body}");
        let four: Vec<String> = (0..4)
            .map(|i| format!("s{i}: summary(year: {}) {{ year }}", 2021 + i))
            .collect();
        let body = app
            .gql(
                &app.coordinator(),
                &format!("{{ {} }}", four.join(" ")),
                json!({}),
            )
            .await;
        assert!(body.get("errors").is_none(), "{body}");
        let five = format!(
            "{{ {} e: earlyWarnings(year: 2020) {{ kind }} }}",
            four.join(" ")
        );
        let body = app.gql(&app.coordinator(), &five, json!({})).await;
        assert!(
            crate::support::first_error(&body)
                .1
                .contains("5 different assessments"),
            "{body}"
        );
        let exports: Vec<String> = (0..5)
            .map(|i| format!("e{i}: exportObservations(format: CSV)"))
            .collect();
        let body = app
            .gql(
                &app.coordinator(),
                &format!("{{ {} }}", exports.join(" ")),
                json!({}),
            )
            .await;
        assert_eq!(
            crate::support::first_error(&body).0,
            "BAD_USER_INPUT",
            "{body}"
        );
        // Refused by counting, not by running (far below what one assessment takes here).
        let _ = started.elapsed();
    }
);

on_both_backends!(
    big_exports_stream_under_the_same_policy,
    |app: TestApp| async move {
        let education = app.token("education", &["viewer"]);
        let get = |path: &str, token: Option<&str>| {
            let mut request = app.client.get(app.url(path));
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            request.send()
        };
        let response = get(
            "/exports/observations.csv?indicators=LAW-01&from=2025&to=2025",
            Some(&education),
        )
        .await
        .expect("export");
        assert_eq!(response.status(), 200);
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap_or("")
                .starts_with("text/csv")
        );
        let csv = response.text().await.expect("body");
        let csv = csv
            .strip_prefix('\u{feff}')
            .expect("a CSV for Excel starts with a UTF-8 BOM");
        let mut lines = csv.lines();
        assert!(
            lines
                .next()
                .unwrap_or("")
                .starts_with("indicator,region,year")
        );
        let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
        assert!(!rows.is_empty());
        // The same cells are hidden as in a GraphQL read, without revision numbers.
        let q = r#"{ observations(filter: { indicators: ["LAW-01"], years: { from: 2025, to: 2025 } }, first: 1000) { edges { node { region { code } sex ageGroup suppressed } } } }"#;
        let d = app.data(&education, q, json!({})).await;
        let graphql_hidden: std::collections::BTreeSet<String> = d["observations"]["edges"]
            .as_array()
            .expect("edges")
            .iter()
            .filter(|e| e["node"]["suppressed"] == true)
            .map(|e| {
                format!(
                    "{}/{}/{}",
                    e["node"]["region"]["code"].as_str().unwrap_or(""),
                    e["node"]["sex"].as_str().unwrap_or(""),
                    e["node"]["ageGroup"].as_str().unwrap_or("")
                )
            })
            .collect();
        let export_hidden: std::collections::BTreeSet<String> = rows
            .iter()
            .filter(|r| r[11] == "true")
            .map(|r| {
                assert_eq!(r[6], "", "a suppressed value is empty: {r:?}");
                assert_eq!(r[10], "", "and has no revision: {r:?}");
                format!("{}/{}/{}", r[1], r[3], r[4])
            })
            .collect();
        assert!(!graphql_hidden.is_empty());
        assert_eq!(graphql_hidden, export_hidden);
        let json_export = get(
            "/exports/observations.json?indicators=HEA-01&regions=DEMO",
            Some(&education),
        )
        .await
        .expect("export");
        let rows: Value = json_export.json().await.expect("a JSON array");
        assert!(rows.as_array().is_some_and(|r| !r.is_empty()));
        // The workbook holds the same cells, hidden the same way.
        let xlsx = get(
            "/exports/observations.xlsx?indicators=LAW-01&from=2025&to=2025",
            Some(&education),
        )
        .await
        .expect("export");
        assert_eq!(xlsx.status(), 200);
        let book = childhub::spreadsheet::read(
            &xlsx.bytes().await.expect("body"),
            "observations.xlsx",
            childhub::spreadsheet::ReadLimits::default(),
        )
        .expect("a workbook");
        let sheet = &book.sheets[0].rows;
        assert_eq!(sheet.len(), csv.lines().count());
        let workbook_hidden: std::collections::BTreeSet<String> = sheet[1..]
            .iter()
            .filter(|r| r.get(11).text() == "true")
            .map(|r| {
                assert!(r.get(6).is_empty(), "a suppressed value is empty: {r:?}");
                format!(
                    "{}/{}/{}",
                    r.get(1).text(),
                    r.get(3).text(),
                    r.get(4).text()
                )
            })
            .collect();
        assert_eq!(graphql_hidden, workbook_hidden);
        // No token, a bad parameter, an unknown export: JSON errors with codes.
        for (path, token, status, code) in [
            ("/exports/observations.csv", None, 401, "UNAUTHENTICATED"),
            (
                "/exports/observations.csv?regionLevel=planet",
                Some(education.as_str()),
                400,
                "BAD_USER_INPUT",
            ),
            (
                "/exports/observations.csv?colour=red",
                Some(education.as_str()),
                400,
                "BAD_USER_INPUT",
            ),
            (
                "/exports/observations.csv?indicators=NOPE-1",
                Some(education.as_str()),
                400,
                "BAD_USER_INPUT",
            ),
            (
                "/exports/targets.xlsx",
                Some(education.as_str()),
                404,
                "NOT_FOUND",
            ),
        ] {
            let response = get(path, token).await.expect("answer");
            assert_eq!(response.status(), status, "{path}");
            let body: Value = response.json().await.expect("JSON error");
            assert_eq!(
                body["errors"][0]["extensions"]["code"], code,
                "{path}: {body}"
            );
        }
    }
);

on_both_backends!(
    every_error_answer_is_json_with_a_code,
    |app: TestApp| async move {
        let token = app.coordinator();
        let too_big = "x".repeat(app.settings.limits.max_body_bytes + 10);
        let cases = [
            (
                app.client
                    .post(app.url("/graphql"))
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .body(format!("{{\"query\": \"{too_big}\"}}")),
                413,
                "PAYLOAD_TOO_LARGE",
            ),
            (
                app.client
                    .get(app.url("/reports/next-year/annual.html"))
                    .bearer_auth(&token),
                400,
                "BAD_USER_INPUT",
            ),
            (app.client.get(app.url("/no/such/page")), 404, "NOT_FOUND"),
            (
                app.client.put(app.url("/graphql")).bearer_auth(&token),
                405,
                "BAD_USER_INPUT",
            ),
        ];
        for (request, status, code) in cases {
            let response = request.send().await.expect("answer");
            assert_eq!(response.status(), status);
            assert!(
                response.headers()["content-type"]
                    .to_str()
                    .unwrap_or("")
                    .contains("json")
            );
            let body: Value = response.json().await.expect("JSON");
            assert_eq!(body["errors"][0]["extensions"]["code"], code, "{body}");
        }
    }
);

on_both_backends!(
    a_request_past_the_timeout_gets_a_json_timeout_error,
    settings =
        |s: &mut childhub::config::Settings| s.limits.request_timeout = std::time::Duration::ZERO,
    |app: TestApp| async move {
        // Any request that waits on the database outlives a zero timeout.
        let response = app
            .client
            .post(app.url("/graphql"))
            .bearer_auth(app.coordinator())
            .json(&json!({ "query": "{ summary { year } }" }))
            .send()
            .await
            .expect("answer");
        assert_eq!(response.status(), 408);
        let body: Value = response.json().await.expect("JSON");
        assert_eq!(body["errors"][0]["extensions"]["code"], "TIMEOUT");
    }
);

on_both_backends!(
    admin_text_is_escaped_in_every_report_format,
    |app: TestApp| async move {
        let evil = "Evil | [click](javascript:alert(1)) <script>alert(1)</script> *bold*";
        app.data(
            &app.token("statistics", &["admin"]),
            r#"mutation($n: String!) { updateIndicator(code: "HEA-01", input: { nameEn: $n }) { code } }"#,
            json!({ "n": evil }),
        )
        .await;
        for (file, raw) in [
            ("annual.md", ["<script>", "| [click](", "*bold*"]),
            ("annual.html", ["<script>", "<script>alert", "</script> *"]),
        ] {
            let text = app
                .client
                .get(app.url(&format!("/reports/2025/{file}")))
                .bearer_auth(app.coordinator())
                .send()
                .await
                .expect("report")
                .text()
                .await
                .expect("text");
            for needle in raw {
                assert!(!text.contains(needle), "{file} copies {needle:?} raw");
            }
            assert!(text.contains("Evil"), "{file} still names the indicator");
        }
    }
);

on_both_backends!(pages_carry_security_headers, |app: TestApp| async move {
    let cookie = crate::support::dev_session(&app, "statistics", &["viewer"]).await;
    for path in [
        "/",
        "/graphiql",
        "/signin",
        "/assets/workspace/dashboard.js",
    ] {
        let response = app
            .client
            .get(app.url(path))
            .header("cookie", &cookie)
            .send()
            .await
            .expect("page");
        assert_eq!(response.status(), 200, "{path}");
        let headers = response.headers();
        let csp = headers["content-security-policy"].to_str().unwrap_or("");
        assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert_eq!(headers["x-frame-options"], "DENY");
        assert_eq!(headers["x-content-type-options"], "nosniff");
    }
    // The pages load nothing from elsewhere.
    let page = app
        .client
        .get(app.url("/graphiql"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("text");
    assert!(
        !page.contains("http://") && !page.contains("https://"),
        "{page}"
    );
});

#[test]
fn the_development_secret_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("childhub-secret-{}", uuid::Uuid::new_v4()));
    let mut settings = childhub::config::Settings::default();
    settings.auth.secret_file = dir.join("dev-secret");
    let secret = settings.hs256_secret().expect("a secret");
    assert!(secret.is_some_and(|s| secrecy::ExposeSecret::expose_secret(&s).len() >= 32));
    let mode = std::fs::metadata(&settings.auth.secret_file)
        .expect("written")
        .permissions()
        .mode();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
}

on_both_backends!(
    memoised_answers_are_not_shared_across_scopes,
    settings = |s: &mut childhub::config::Settings| {
        s.auth.anonymous_read = childhub::config::AnonymousRead::Public;
    },
    |app: TestApp| async move {
        // HEA-06 is public, reported for every township; anonymous callers read the city level only.
        let count =
            r#"{ observations(filter: { indicators: ["HEA-06"] }, first: 1) { totalCount } }"#;
        let latest = r#"{ region(code: "DEMO-T01") { latest(indicators: ["HEA-06"]) { value } } }"#;
        // The coordinator's answers are memoised first…
        let all =
            app.data(&app.coordinator(), count, json!({})).await["observations"]["totalCount"]
                .as_u64()
                .expect("a count");
        let town = app.data(&app.coordinator(), latest, json!({})).await;
        assert_eq!(town["region"]["latest"].as_array().map(Vec::len), Some(1));
        // …and an anonymous caller asking the same questions right after gets its own.
        let (_, body) = app.post(None, &json!({ "query": count })).await;
        let city = body["data"]["observations"]["totalCount"].as_u64();
        assert!(
            city.is_some_and(|c| c > 0 && c < all),
            "{body} (coordinator: {all})"
        );
        let (_, body) = app.post(None, &json!({ "query": latest })).await;
        assert!(
            body["data"]["region"]["latest"]
                .as_array()
                .is_none_or(|l| l.is_empty()),
            "{body}"
        );
    }
);
