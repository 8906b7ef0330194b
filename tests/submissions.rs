//! The submission workflow end to end through GraphQL: submit, approve or reject, revisions, audit,
//! and the catalogue of bad inputs (each refused with its exact error, nothing written).

use crate::on_both_backends;
use crate::support::TestApp;
use entity::{audit_log, observation, submission};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

pub const SUBMIT: &str = r#"mutation($rows: [ObservationInput!]!, $dry: Boolean) {
  submitObservations(input: { rows: $rows, dryRun: $dry }) {
    submission { id status rowsWritten rowsUnchanged submittedBy }
    written unchanged rowErrors { row field value message } } }"#;

const APPROVE: &str =
    r#"mutation($id: ID!) { approveSubmission(id: $id) { id status decidedBy } }"#;
const REJECT: &str = r#"mutation($id: ID!, $r: String!) { rejectSubmission(id: $id, reason: $r) { id status reason } }"#;

const READ_2026: &str = r#"query($v: ObservationVersion) { observations(filter: { indicators: ["HEA-03"], regions: ["DEMO-T01"], years: { from: 2026, to: 2026 }, version: $v }) {
  totalCount edges { node { value status revision } } } }"#;

fn row(value: f64) -> Value {
    json!({ "indicator": "HEA-03", "region": "DEMO-T01", "year": 2026, "value": value })
}

/// Rows and submissions stored, to prove that a refused call wrote nothing.
async fn stored(app: &TestApp) -> (u64, u64, u64) {
    (
        observation::Entity::find()
            .count(&app.db)
            .await
            .expect("count"),
        submission::Entity::find()
            .count(&app.db)
            .await
            .expect("count"),
        audit_log::Entity::find()
            .count(&app.db)
            .await
            .expect("count"),
    )
}

on_both_backends!(
    a_departments_first_submission_is_pending_until_approved,
    |app: TestApp| async move {
        let health = app.token("health", &["submitter"]);
        let education = app.token("education", &["viewer"]);
        let approver = app.token("statistics", &["approver"]);

        let d = app
            .data(&health, SUBMIT, json!({ "rows": [row(3.9)] }))
            .await;
        let result = &d["submitObservations"];
        assert_eq!(result["written"], 1);
        assert_eq!(result["rowErrors"], json!([]));
        assert_eq!(result["submission"]["status"], "PENDING");
        assert_eq!(result["submission"]["submittedBy"], "health-tester");
        let id = result["submission"]["id"].as_str().expect("id").to_owned();

        // Pending: the owner sees it among its newest revisions; another department does not see it at all.
        let mine = app.data(&health, READ_2026, json!({ "v": "LATEST" })).await;
        assert_eq!(
            mine["observations"]["edges"][0]["node"],
            json!({ "value": 3.9, "status": "PENDING", "revision": 1 })
        );
        let theirs = app
            .data(&education, READ_2026, json!({ "v": "LATEST" }))
            .await;
        assert_eq!(theirs["observations"]["totalCount"], 0);
        let listed = app
            .data(&education, "{ submissions { id } }", json!({}))
            .await;
        assert_eq!(
            listed["submissions"],
            json!([]),
            "other departments do not list health's submissions"
        );
        let hidden = app
            .data(
                &education,
                "query($id: ID!) { submission(id: $id) { id } }",
                json!({ "id": id }),
            )
            .await;
        assert!(hidden["submission"].is_null());

        // A submitter cannot approve, and a coordinator without the approver role cannot either.
        for token in [
            health.clone(),
            app.token("statistics", &["viewer"]),
            app.token("health", &["approver"]),
        ] {
            let body = app.gql(&token, APPROVE, json!({ "id": id })).await;
            assert_eq!(
                body["errors"][0]["extensions"]["code"], "FORBIDDEN",
                "{body}"
            );
        }
        let approved = app.data(&approver, APPROVE, json!({ "id": id })).await;
        assert_eq!(approved["approveSubmission"]["status"], "APPROVED");
        assert_eq!(
            approved["approveSubmission"]["decidedBy"],
            "statistics-tester"
        );
        let body = app.gql(&approver, APPROVE, json!({ "id": id })).await;
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "CONFLICT",
            "approving twice: {body}"
        );

        let theirs = app.data(&education, READ_2026, json!({})).await;
        assert_eq!(
            theirs["observations"]["edges"][0]["node"],
            json!({ "value": 3.9, "status": "APPROVED", "revision": 1 })
        );

        // The audit trail: who, which department, the request, before and after.
        let audit = app
        .data(&approver, r#"{ auditLog(filter: { entityType: "submission" }) { action actor actorDepartment entityKey requestId before after } }"#, json!({}))
        .await;
        let entries = audit["auditLog"].as_array().expect("list");
        let create = entries
            .iter()
            .find(|e| e["action"] == "submission.create")
            .expect("create entry");
        assert_eq!(create["actor"], "health-tester");
        assert_eq!(create["actorDepartment"], "health");
        assert_eq!(create["entityKey"], id.as_str());
        assert!(
            create["requestId"].as_str().is_some_and(|r| r.len() >= 32),
            "{create}"
        );
        assert_eq!(create["after"][0]["value"], 3.9);
        assert!(create["before"][0]["value"].is_null());
        let approve = entries
            .iter()
            .find(|e| e["action"] == "submission.approve")
            .expect("approve entry");
        assert_eq!(approve["before"]["status"], "pending");
        assert_eq!(approve["after"]["status"], "approved");
        // Departments read the entries about their own data only.
        let own = app
            .data(&health, "{ auditLog { action } }", json!({}))
            .await;
        assert_eq!(own["auditLog"].as_array().map(Vec::len), Some(2));
        let other = app
            .data(&education, "{ auditLog { action } }", json!({}))
            .await;
        assert_eq!(other["auditLog"], json!([]));
    }
);

on_both_backends!(
    resending_is_idempotent_and_corrections_are_new_revisions,
    |app: TestApp| async move {
        let health = app.token("health", &["submitter"]);
        let approver = app.token("wcwc", &["approver"]);
        let education = app.token("education", &["viewer"]);
        let rows = json!([row(3.9), { "indicator": "HEA-03", "region": "DEMO-T02", "year": 2026, "value": 4.4 }]);
        let first = app.data(&health, SUBMIT, json!({ "rows": rows })).await;
        let id = first["submitObservations"]["submission"]["id"]
            .as_str()
            .expect("id")
            .to_owned();
        let before = stored(&app).await;
        let again = app.data(&health, SUBMIT, json!({ "rows": rows })).await;
        assert_eq!(
            again["submitObservations"],
            json!({ "submission": null, "written": 0, "unchanged": 2, "rowErrors": [] })
        );
        assert_eq!(
            stored(&app).await,
            before,
            "an identical batch writes nothing"
        );
        app.data(&approver, APPROVE, json!({ "id": id })).await;

        // A correction is a new pending revision; the approved value stays what others read until approval.
        let fix = app.data(&health, SUBMIT, json!({ "rows": [row(3.7), { "indicator": "HEA-03", "region": "DEMO-T02", "year": 2026, "value": 4.4 }] })).await;
        assert_eq!(fix["submitObservations"]["written"], 1);
        assert_eq!(fix["submitObservations"]["unchanged"], 1);
        let fix_id = fix["submitObservations"]["submission"]["id"]
            .as_str()
            .expect("id")
            .to_owned();
        let seen = app.data(&education, READ_2026, json!({})).await;
        assert_eq!(
            seen["observations"]["edges"][0]["node"],
            json!({ "value": 3.9, "status": "APPROVED", "revision": 1 })
        );
        let mine = app.data(&health, READ_2026, json!({ "v": "LATEST" })).await;
        assert_eq!(
            mine["observations"]["edges"][0]["node"],
            json!({ "value": 3.7, "status": "PENDING", "revision": 2 })
        );
        app.data(&approver, APPROVE, json!({ "id": fix_id })).await;
        let seen = app.data(&education, READ_2026, json!({})).await;
        assert_eq!(
            seen["observations"]["edges"][0]["node"],
            json!({ "value": 3.7, "status": "APPROVED", "revision": 2 })
        );
        assert_eq!(
            seen["observations"]["totalCount"], 1,
            "one published value per key"
        );

        // Dry runs report without writing.
        let before = stored(&app).await;
        let dry = app
            .data(&health, SUBMIT, json!({ "rows": [row(3.5)], "dry": true }))
            .await;
        assert_eq!(
            dry["submitObservations"],
            json!({ "submission": null, "written": 1, "unchanged": 0, "rowErrors": [] })
        );
        assert_eq!(stored(&app).await, before);
    }
);

on_both_backends!(
    a_rejected_submission_stays_unpublished_and_says_why,
    |app: TestApp| async move {
        let health = app.token("health", &["submitter"]);
        let approver = app.token("statistics", &["approver"]);
        let d = app
            .data(&health, SUBMIT, json!({ "rows": [row(3.9)] }))
            .await;
        let id = d["submitObservations"]["submission"]["id"]
            .as_str()
            .expect("id")
            .to_owned();
        let body = app
            .gql(&approver, REJECT, json!({ "id": id, "r": "  " }))
            .await;
        assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
        let rejected = app.data(&approver, REJECT, json!({ "id": id, "r": "infant deaths of DEMO-T01 do not match the civil register" })).await;
        assert_eq!(rejected["rejectSubmission"]["status"], "REJECTED");
        let mine = app.data(&health, r#"query($id: ID!) { submission(id: $id) { status reason observations { status value } } }"#, json!({ "id": id })).await;
        assert_eq!(
            mine["submission"]["reason"],
            "infant deaths of DEMO-T01 do not match the civil register"
        );
        assert_eq!(mine["submission"]["observations"][0]["status"], "REJECTED");
        let public = app.data(&app.coordinator(), READ_2026, json!({})).await;
        assert_eq!(
            public["observations"]["totalCount"], 0,
            "nothing was published"
        );
        // Sending the value again after a rejection makes a new pending revision.
        let again = app
            .data(&health, SUBMIT, json!({ "rows": [row(3.9)] }))
            .await;
        assert_eq!(again["submitObservations"]["written"], 1);
    }
);

on_both_backends!(
    writes_follow_the_permission_matrix,
    |app: TestApp| async move {
        // (department, roles, indicator) → allowed?
        let cases = [
            ("health", vec!["submitter"], "HEA-03", true),
            ("health", vec!["viewer"], "HEA-03", false),
            ("health", vec!["approver"], "HEA-03", false),
            ("health", vec!["admin"], "HEA-03", false),
            ("health", vec!["submitter"], "HEA-10", false), // myopia is reported by education
            ("education", vec!["submitter"], "HEA-10", true),
            ("education", vec!["submitter"], "HEA-03", false),
            ("public_security", vec!["submitter"], "LAW-01", true),
            ("health", vec!["submitter"], "LAW-01", false),
            ("statistics", vec!["submitter", "approver"], "HEA-03", false),
            ("wcwc", vec!["submitter"], "LAW-01", false),
        ];
        for (dept, roles, indicator, allowed) in cases {
            let token = app.token(dept, &roles);
            let value = if indicator == "LAW-01" { 40.0 } else { 42.0 };
            let rows =
                json!([{ "indicator": indicator, "region": "DEMO", "year": 2026, "value": value }]);
            let before = stored(&app).await;
            let body = app
                .gql(&token, SUBMIT, json!({ "rows": rows, "dry": true }))
                .await;
            let case = format!("{dept} {roles:?} → {indicator}");
            if allowed {
                assert!(body.get("errors").is_none(), "{case}: {body}");
                assert_eq!(body["data"]["submitObservations"]["written"], 1, "{case}");
            } else {
                assert_eq!(
                    body["errors"][0]["extensions"]["code"], "FORBIDDEN",
                    "{case}: {body}"
                );
            }
            assert_eq!(
                stored(&app).await,
                before,
                "{case}: a dry run writes nothing"
            );
        }
        let (status, body) = app
            .post(
                None,
                &json!({ "query": SUBMIT, "variables": { "rows": [row(3.9)] } }),
            )
            .await;
        assert_eq!(status, 401, "{body}");
    }
);

/// One bad input: who sends it, the rows, and the error expected on the first bad row.
struct Bad {
    name: &'static str,
    dept: &'static str,
    rows: Value,
    field: &'static str,
    message: &'static str,
}

fn bad(
    name: &'static str,
    dept: &'static str,
    rows: Value,
    field: &'static str,
    message: &'static str,
) -> Bad {
    Bad {
        name,
        dept,
        rows,
        field,
        message,
    }
}

fn with(changes: Value) -> Value {
    let mut base = json!({ "indicator": "HEA-03", "region": "DEMO-T01", "year": 2026, "value": 3.9, "numerator": 12, "denominator": 3100 });
    for (k, v) in changes.as_object().expect("object") {
        base[k] = v.clone();
    }
    base
}

fn catalogue() -> Vec<Bad> {
    let r = |v: Value| json!([with(v)]);
    vec![
        bad(
            "percent above 100",
            "health",
            json!([{ "indicator": "HEA-06", "region": "DEMO-T01", "year": 2026, "value": 101 }]),
            "value",
            "from 0 to 100",
        ),
        bad(
            "negative percent",
            "health",
            json!([{ "indicator": "HEA-06", "region": "DEMO-T01", "year": 2026, "value": -0.1 }]),
            "value",
            "from 0 to 100",
        ),
        bad(
            "huge percent",
            "health",
            json!([{ "indicator": "HEA-06", "region": "DEMO-T01", "year": 2026, "value": 1e300 }]),
            "value",
            "from 0 to 100",
        ),
        bad(
            "per mille above 1000",
            "health",
            r(json!({ "value": 1000.5, "numerator": null, "denominator": null })),
            "value",
            "from 0 to 1000",
        ),
        bad(
            "negative count",
            "civil_affairs",
            json!([{ "indicator": "WEL-01", "region": "DEMO", "year": 2026, "value": -3 }]),
            "value",
            "from 0 to",
        ),
        bad(
            "fractional count",
            "civil_affairs",
            json!([{ "indicator": "WEL-01", "region": "DEMO", "year": 2026, "value": 12.5 }]),
            "value",
            "whole number",
        ),
        bad(
            "boolean 2",
            "civil_affairs",
            json!([{ "indicator": "WEL-05", "region": "DEMO", "year": 2026, "value": 2 }]),
            "value",
            "from 0 to 1",
        ),
        bad(
            "boolean 0.5",
            "civil_affairs",
            json!([{ "indicator": "WEL-05", "region": "DEMO", "year": 2026, "value": 0.5 }]),
            "value",
            "whole number",
        ),
        bad(
            "unknown indicator",
            "health",
            r(json!({ "indicator": "HEA-99" })),
            "indicator",
            "indicator code",
        ),
        bad(
            "indicator in lower case",
            "health",
            r(json!({ "indicator": "hea-03" })),
            "indicator",
            "indicator code",
        ),
        bad(
            "empty indicator",
            "health",
            r(json!({ "indicator": "" })),
            "indicator",
            "indicator code",
        ),
        bad(
            "unknown region",
            "health",
            r(json!({ "region": "DEMO-T99" })),
            "region",
            "region code",
        ),
        bad(
            "region merged away",
            "health",
            r(json!({ "region": "DEMO-T15" })),
            "region",
            "existed in 2026",
        ),
        bad(
            "region not yet existing",
            "health",
            r(json!({ "region": "DEMO-T21" })),
            "region",
            "existed in 2026",
        ),
        bad(
            "year before the window",
            "health",
            r(json!({ "year": 2014 })),
            "year",
            "from 2015 to 2035",
        ),
        bad(
            "year after the window",
            "health",
            r(json!({ "year": 2036 })),
            "year",
            "from 2015 to 2035",
        ),
        bad(
            "year zero",
            "health",
            r(json!({ "year": 0 })),
            "year",
            "from 2015 to 2035",
        ),
        bad(
            "unknown sex code",
            "health",
            r(json!({ "sex": "X" })),
            "sex",
            "one of _T, M, F",
        ),
        bad(
            "sex in lower case",
            "health",
            r(json!({ "sex": "m" })),
            "sex",
            "one of _T, M, F",
        ),
        bad(
            "unknown age group",
            "health",
            r(json!({ "ageGroup": "Y99" })),
            "ageGroup",
            "one of _T",
        ),
        bad(
            "unknown residence",
            "health",
            r(json!({ "residence": "S" })),
            "residence",
            "one of _T, U, R",
        ),
        bad(
            "sex on an indicator without sex breakdown",
            "health",
            json!([{ "indicator": "HEA-01", "region": "DEMO", "year": 2026, "sex": "F", "value": 30 }]),
            "sex",
            "not reported by sex",
        ),
        bad(
            "age group on an indicator without age breakdown",
            "health",
            r(json!({ "ageGroup": "Y0T4" })),
            "ageGroup",
            "not reported by age",
        ),
        bad(
            "residence on an indicator without residence breakdown",
            "health",
            json!([{ "indicator": "HEA-07", "region": "DEMO", "year": 2026, "residence": "U", "value": 9 }]),
            "residence",
            "not reported by residence",
        ),
        bad(
            "negative numerator",
            "health",
            r(json!({ "numerator": -1 })),
            "numerator",
            "0 or more",
        ),
        bad(
            "negative denominator",
            "health",
            r(json!({ "denominator": -5 })),
            "denominator",
            "0 or more",
        ),
        bad(
            "zero denominator",
            "health",
            r(json!({ "denominator": 0 })),
            "denominator",
            "above 0",
        ),
        bad(
            "numerator and denominator disagree with the value",
            "health",
            r(json!({ "numerator": 50 })),
            "value",
            "numerator 50 / denominator 3100",
        ),
        bad(
            "count with a different numerator",
            "civil_affairs",
            json!([{ "indicator": "WEL-01", "region": "DEMO", "year": 2026, "value": 900, "numerator": 800 }]),
            "numerator",
            "the count itself",
        ),
        bad(
            "the same key twice",
            "health",
            json!([
                with(json!({})),
                with(json!({ "value": 4.1, "numerator": null, "denominator": null }))
            ]),
            "row",
            "row 0 has the same key",
        ),
        bad(
            "boys and girls do not add up to the total",
            "public_security",
            json!([
            { "indicator": "SAF-04", "region": "DEMO", "year": 2026, "value": 10 },
            { "indicator": "SAF-04", "region": "DEMO", "year": 2026, "sex": "M", "value": 4 },
            { "indicator": "SAF-04", "region": "DEMO", "year": 2026, "sex": "F", "value": 5 }]),
            "value",
            "sum of its sex parts 4+5 = 9",
        ),
        bad(
            "a rate's total outside its parts",
            "health",
            json!([
            { "indicator": "HEA-03", "region": "DEMO", "year": 2026, "value": 5.0 },
            { "indicator": "HEA-03", "region": "DEMO", "year": 2026, "sex": "M", "value": 3.0 },
            { "indicator": "HEA-03", "region": "DEMO", "year": 2026, "sex": "F", "value": 4.0 }]),
            "value",
            "between its sex parts 3 and 4",
        ),
        bad(
            "urban and rural rates around a total outside them",
            "health",
            json!([
            { "indicator": "HEA-03", "region": "DEMO", "year": 2026, "value": 9.0 },
            { "indicator": "HEA-03", "region": "DEMO", "year": 2026, "residence": "U", "value": 3.0 },
            { "indicator": "HEA-03", "region": "DEMO", "year": 2026, "residence": "R", "value": 4.0 }]),
            "value",
            "between its residence parts",
        ),
        bad(
            "good rows do not rescue a bad one",
            "health",
            json!([
                with(json!({ "region": "DEMO-T03" })),
                with(
                    json!({ "region": "DEMO-T04", "value": 2000, "numerator": null, "denominator": null })
                )
            ]),
            "value",
            "from 0 to 1000",
        ),
    ]
}

on_both_backends!(
    the_bad_input_catalogue_is_refused_row_by_row,
    |app: TestApp| async move {
        // A township that only exists from 2027, for the "not yet existing" case.
        let admin = app.token("statistics", &["admin"]);
        app.data(&admin, r#"mutation { createRegion(code: "DEMO-T21", input: { nameZh: "示范镇21", nameEn: "Demo Township 21", level: TOWNSHIP, residence: "R", parent: "DEMO", validFrom: 2027 }) { code } }"#, json!({})).await;
        let cases = catalogue();
        assert!(cases.len() >= 34);
        for case in cases {
            let token = app.token(case.dept, &["submitter"]);
            let before = stored(&app).await;
            let body = app.gql(&token, SUBMIT, json!({ "rows": case.rows })).await;
            assert!(body.get("errors").is_none(), "{}: {body}", case.name);
            let result = &body["data"]["submitObservations"];
            assert!(result["submission"].is_null(), "{}", case.name);
            assert_eq!(result["written"], 0, "{}", case.name);
            let errors = result["rowErrors"].as_array().expect("rowErrors");
            let error = errors
                .iter()
                .find(|e| e["field"] == case.field)
                .unwrap_or_else(|| panic!("{}: no {} error in {errors:?}", case.name, case.field));
            let message = error["message"].as_str().unwrap_or("");
            assert!(
                message.contains(case.message),
                "{}: {message:?} should say {:?}",
                case.name,
                case.message
            );
            assert_eq!(
                stored(&app).await,
                before,
                "{}: nothing may be written",
                case.name
            );
        }
    }
);

on_both_backends!(
    every_bad_row_is_reported_not_just_the_first,
    |app: TestApp| async move {
        let health = app.token("health", &["submitter"]);
        let rows = json!([
            with(json!({ "region": "DEMO-T05" })),
            with(json!({ "region": "NOWHERE" })),
            with(json!({ "region": "DEMO-T06", "year": 1999 })),
            with(
                json!({ "region": "DEMO-T07", "sex": "Q", "value": 2000, "numerator": null, "denominator": null })
            ),
        ]);
        let d = app.data(&health, SUBMIT, json!({ "rows": rows })).await;
        let errors = d["submitObservations"]["rowErrors"]
            .as_array()
            .expect("errors");
        let summary: Vec<(i64, &str, &str)> = errors
            .iter()
            .map(|e| {
                (
                    e["row"].as_i64().unwrap_or(-1),
                    e["field"].as_str().unwrap_or(""),
                    e["value"].as_str().unwrap_or(""),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (1, "region", "NOWHERE"),
                (2, "year", "1999"),
                (3, "sex", "Q"),
                (3, "value", "2000")
            ]
        );
        // Issue 18: `row` counts from 0, the command line's lines from 1; the message says which.
        assert!(
            errors[0]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("input.rows[1] (row 2 counting from 1): ")),
            "{errors:?}"
        );
    }
);

on_both_backends!(
    refusals_outside_the_rows_are_graphql_errors,
    |app: TestApp| async move {
        let health = app.token("health", &["submitter"]);
        let before = stored(&app).await;
        let over: Vec<Value> = (0..10_001).map(|i| json!({ "indicator": "HEA-03", "region": "DEMO", "year": 2015 + (i % 20), "value": 4 })).collect();
        let cases: Vec<(&str, Value, &str, &str)> = vec![
            (
                "empty batch",
                json!({ "rows": [] }),
                "BAD_USER_INPUT",
                "input.rows",
            ),
            (
                "10,001 rows",
                json!({ "rows": over }),
                "BAD_USER_INPUT",
                "at most 10000 rows",
            ),
            (
                "another department's indicator",
                json!({ "rows": [row(3.9), { "indicator": "EDU-01", "region": "DEMO", "year": 2026, "value": 95 }] }),
                "FORBIDDEN",
                "does not own indicator EDU-01",
            ),
            (
                "value as text",
                json!({ "rows": [{ "indicator": "HEA-03", "region": "DEMO", "year": 2026, "value": "3.9" }] }),
                "BAD_USER_INPUT",
                "Float",
            ),
            (
                "fractional year",
                json!({ "rows": [{ "indicator": "HEA-03", "region": "DEMO", "year": 2026.5, "value": 3.9 }] }),
                "BAD_USER_INPUT",
                "Int",
            ),
            (
                "missing value",
                json!({ "rows": [{ "indicator": "HEA-03", "region": "DEMO", "year": 2026 }] }),
                "BAD_USER_INPUT",
                "Float",
            ),
            (
                "null region",
                json!({ "rows": [{ "indicator": "HEA-03", "region": null, "year": 2026, "value": 3.9 }] }),
                "BAD_USER_INPUT",
                "String",
            ),
        ];
        for (name, variables, code, fragment) in cases {
            let body = app.gql(&health, SUBMIT, variables).await;
            assert_eq!(
                body["errors"][0]["extensions"]["code"],
                code,
                "{name}: {}",
                body.to_string().chars().take(400).collect::<String>()
            );
            let message = body["errors"][0]["message"].as_str().unwrap_or("");
            assert!(message.contains(fragment), "{name}: {message}");
            assert_eq!(stored(&app).await, before, "{name}");
        }
        // Numbers JSON cannot carry are refused before anything runs.
        let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&health)
        .header("content-type", "application/json")
        .body(r#"{"query":"mutation($v: Float!) { submitObservations(input: { rows: [{ indicator: \"HEA-03\", region: \"DEMO\", year: 2026, value: $v }] }) { written } }","variables":{"v":1e400}}"#)
        .send()
        .await
        .expect("post");
        assert_eq!(response.status(), 400);
        assert_eq!(stored(&app).await, before);
    }
);

on_both_backends!(
    non_finite_values_from_files_are_row_errors,
    |app: TestApp| async move {
        use childhub::service::audit::WriteContext;
        use childhub::service::submissions::{RowInput, submit};
        let identity = childhub::service::catalogue::local_identity(
            &app.db,
            "health",
            &[childhub::auth::Role::Submitter],
        )
        .await
        .expect("identity");
        let ctx = WriteContext::cli(identity);
        let row = |value: f64, numerator: Option<f64>| RowInput {
            indicator: "HEA-03".into(),
            region: "DEMO-T01".into(),
            year: 2026,
            sex: "_T".into(),
            age_group: "_T".into(),
            residence: "_T".into(),
            value,
            numerator,
            denominator: Some(3100.0),
        };
        for (name, r, field) in [
            ("NaN", row(f64::NAN, None), "value"),
            ("Infinity", row(f64::INFINITY, None), "value"),
            ("-Infinity", row(f64::NEG_INFINITY, None), "value"),
            (
                "infinite numerator",
                row(3.9, Some(f64::INFINITY)),
                "numerator",
            ),
        ] {
            let before = stored(&app).await;
            let outcome = submit(&app.db, &ctx, &app.settings, vec![r], false)
                .await
                .expect("submit");
            assert!(outcome.submission.is_none(), "{name}");
            assert!(
                outcome
                    .row_errors
                    .iter()
                    .any(|e| e.field == field && e.message.contains("finite")),
                "{name}: {:?}",
                outcome.row_errors
            );
            assert_eq!(stored(&app).await, before, "{name}");
        }
    }
);

on_both_backends!(
    implausible_jumps_are_accepted_but_flagged,
    |app: TestApp| async move {
        let health = app.token("health", &["submitter"]);
        // Vaccination in DEMO-T01 runs around 98%; 40% the next year is implausible.
        let d = app
            .data(
                &health,
                SUBMIT,
                json!({ "rows": [
            { "indicator": "HEA-06", "region": "DEMO-T01", "year": 2026, "value": 40 },
            { "indicator": "HEA-06", "region": "DEMO-T02", "year": 2026, "value": 98.5 }] }),
            )
            .await;
        assert_eq!(d["submitObservations"]["written"], 2);
        let issues = app
        .data(&health, "{ dataQualityIssues(year: 2026) { value qualityFlag region { code } indicator { code } } }", json!({}))
        .await;
        assert_eq!(
            issues["dataQualityIssues"],
            json!([{ "value": 40.0, "qualityFlag": "implausible_jump", "region": { "code": "DEMO-T01" }, "indicator": { "code": "HEA-06" } }])
        );
        let other = app
            .data(
                &app.token("education", &["viewer"]),
                "{ dataQualityIssues(year: 2026) { value } }",
                json!({}),
            )
            .await;
        assert_eq!(
            other["dataQualityIssues"],
            json!([]),
            "pending values stay with the owner"
        );
    }
);

on_both_backends!(
    completeness_lists_what_is_not_yet_reported,
    |app: TestApp| async move {
        let health = app.token("health", &["submitter"]);
        app.data(&health, SUBMIT, json!({ "rows": [row(3.9)] }))
            .await;
        let q = "{ reportingCompleteness(year: 2026) { indicator { code } department { code } reported } }";
        let all = app.data(&app.coordinator(), q, json!({})).await;
        let list = all["reportingCompleteness"].as_array().expect("list");
        assert_eq!(list.len(), 41);
        let reported: Vec<&str> = list
            .iter()
            .filter(|c| c["reported"] == true)
            .filter_map(|c| c["indicator"]["code"].as_str())
            .collect();
        assert_eq!(reported, ["HEA-03"]);
        let own = app
            .data(&app.token("education", &["viewer"]), q, json!({}))
            .await;
        assert!(
            own["reportingCompleteness"]
                .as_array()
                .expect("list")
                .iter()
                .all(|c| c["department"]["code"] == "education")
        );
        let done_2025 = app
            .data(
                &app.coordinator(),
                "{ reportingCompleteness(year: 2025) { indicator { code } reported } }",
                json!({}),
            )
            .await;
        let missing: Vec<&str> = done_2025["reportingCompleteness"]
            .as_array()
            .expect("list")
            .iter()
            .filter(|c| c["reported"] == false)
            .filter_map(|c| c["indicator"]["code"].as_str())
            .collect();
        assert_eq!(missing, ["EDU-04"], "the demo has no 2025 value for EDU-04");
    }
);

on_both_backends!(
    admins_change_the_catalogue_with_checks_and_audit,
    |app: TestApp| async move {
        let admin = app.token("statistics", &["admin"]);
        let created = app
        .data(&admin, r#"mutation { createIndicator(code: "HEA-22", input: { nameZh: "孕产妇死亡率", nameEn: "Maternal mortality ratio", domain: "health", unit: PER_100000, ownerDepartment: "health", sensitivity: INTERNAL, planClause: "test" }) { code unit ownerDepartment { code } } }"#, json!({}))
        .await;
        assert_eq!(created["createIndicator"]["unit"], "PER_100000");
        let targets = app
        .data(&admin, r#"mutation { setTargets(indicator: "HEA-22", targets: [{ kind: AT_MOST, value: 12 }]) { kind value targetYear } }"#, json!({}))
        .await;
        assert_eq!(
            targets["setTargets"],
            json!([{ "kind": "AT_MOST", "value": 12.0, "targetYear": 2030 }])
        );
        for (query, code, fragment) in [
            (
                r#"mutation { setTargets(indicator: "HEA-22", targets: [{ kind: TREND_UP, value: 3 }]) { kind } }"#,
                "BAD_USER_INPUT",
                "targets[0].value",
            ),
            (
                r#"mutation { setTargets(indicator: "HEA-22", targets: [{ kind: AT_LEAST, value: 3, baselineYear: 2030, targetYear: 2020 }]) { kind } }"#,
                "BAD_USER_INPUT",
                "targets[0].targetYear",
            ),
            (
                r#"mutation { setTargets(indicator: "HEA-22", targets: [{ kind: AT_MOST, value: 12, naturalLimit: 1 }]) { kind } }"#,
                "BAD_USER_INPUT",
                "targets[0].limitReason",
            ),
            (
                r#"mutation { setTargets(indicator: "HEA-22", targets: [{ kind: TREND_DOWN, maintain: true }]) { kind } }"#,
                "BAD_USER_INPUT",
                "targets[0].maintain",
            ),
            (
                r#"mutation { createIndicator(code: "HEA-22", input: { nameZh: "x", nameEn: "x", domain: "health", unit: COUNT, ownerDepartment: "health" }) { code } }"#,
                "CONFLICT",
                "exists already",
            ),
            (
                r#"mutation { createIndicator(code: "HEA 23", input: { nameZh: "x", nameEn: "x", domain: "health", unit: COUNT, ownerDepartment: "health" }) { code } }"#,
                "BAD_USER_INPUT",
                "code",
            ),
            (
                r#"mutation { createIndicator(code: "HEA-23", input: { nameZh: "x", nameEn: "x", domain: "sport", unit: COUNT, ownerDepartment: "health" }) { code } }"#,
                "BAD_USER_INPUT",
                "input.domain",
            ),
            (
                r#"mutation { createIndicator(code: "HEA-23", input: { nameZh: "x", nameEn: "x", domain: "health", unit: COUNT, ownerDepartment: "wcwc" }) { code } }"#,
                "BAD_USER_INPUT",
                "coordinators own no indicators",
            ),
            // DEMO-T15 has values up to 2023: its validity cannot end before that.
            (
                r#"mutation { updateRegion(code: "DEMO-T15", input: { validTo: 2021 }) { code } }"#,
                "BAD_USER_INPUT",
                "2023",
            ),
            (
                r#"mutation { updateRegion(code: "DEMO-T14", input: { parent: "DEMO-T14-V1" }) { code } }"#,
                "BAD_USER_INPUT",
                "higher level",
            ),
        ] {
            let body = app.gql(&admin, query, json!({})).await;
            assert_eq!(
                body["errors"][0]["extensions"]["code"], code,
                "{query}: {body}"
            );
            assert!(
                body["errors"][0]["message"]
                    .as_str()
                    .unwrap_or("")
                    .contains(fragment),
                "{query}: {body}"
            );
        }
        // A township merged into its neighbour from 2026 on.
        let merged = app.data(&admin, r#"mutation { updateRegion(code: "DEMO-T14", input: { validTo: 2025 }) { code validTo } }"#, json!({})).await;
        assert_eq!(merged["updateRegion"]["validTo"], 2025);
        let health = app.token("health", &["submitter"]);
        let late = app
            .data(
                &health,
                SUBMIT,
                json!({ "rows": [with(json!({ "region": "DEMO-T14" }))] }),
            )
            .await;
        assert_eq!(
            late["submitObservations"]["rowErrors"][0]["field"],
            "region"
        );

        let refused = app
            .gql(
                &app.token("health", &["submitter"]),
                r#"mutation { updateRegion(code: "DEMO-T14", input: { validTo: 2030 }) { code } }"#,
                json!({}),
            )
            .await;
        assert_eq!(refused["errors"][0]["extensions"]["code"], "FORBIDDEN");
        let audit = app.data(&admin, r#"{ auditLog(filter: { entityType: "region" }) { action entityKey before after } }"#, json!({})).await;
        let entry = &audit["auditLog"][0];
        assert_eq!(entry["action"], "region.update");
        assert!(entry["before"]["valid_to"].is_null());
        assert_eq!(entry["after"]["valid_to"], 2025);
    }
);

on_both_backends!(exports_obey_the_policy, |app: TestApp| async move {
    let q = r#"query($f: ExportFormat!) { exportObservations(filter: { indicators: ["LAW-01"], years: { from: 2025, to: 2025 } }, format: $f) }"#;
    let owner = app
        .data(
            &app.token("public_security", &["viewer"]),
            q,
            json!({ "f": "CSV" }),
        )
        .await;
    let other = app
        .data(&app.token("health", &["viewer"]), q, json!({ "f": "CSV" }))
        .await;
    let owner_csv = owner["exportObservations"].as_str().expect("csv");
    let other_csv = other["exportObservations"].as_str().expect("csv");
    assert!(owner_csv.starts_with("indicator,region,year,sex,age_group,residence,value,numerator,denominator,status,revision,suppressed,indicator_name_zh,indicator_name_en,region_name_zh,region_name_en,unit\n"));
    let suppressed = |l: &&str| l.split(',').nth(11) == Some("true");
    assert_eq!(
        owner_csv.lines().count(),
        other_csv.lines().count(),
        "the same rows, with different detail"
    );
    assert!(
        !owner_csv.lines().any(|l| suppressed(&l)),
        "the owner sees every value"
    );
    let hidden: Vec<&str> = other_csv.lines().filter(suppressed).collect();
    assert!(!hidden.is_empty());
    assert!(
        hidden.iter().all(|l| l.split(',').nth(6) == Some("")),
        "suppressed values are empty: {hidden:?}"
    );
    let json_export = app
        .data(&app.token("health", &["viewer"]), q, json!({ "f": "JSON" }))
        .await;
    let parsed: Value =
        serde_json::from_str(json_export["exportObservations"].as_str().expect("json"))
            .expect("valid JSON");
    assert_eq!(
        parsed.as_array().map(Vec::len),
        Some(other_csv.lines().count() - 1)
    );
});

on_both_backends!(
    concurrent_overlapping_submissions_end_consistent_and_audited,
    |app: TestApp| async move {
        use sea_orm::{ColumnTrait, QueryFilter};
        use std::collections::HashMap;
        let alice = app.token_for("alice", "health", &["submitter"]);
        let bob = app.token_for("bob", "health", &["submitter"]);
        let rows = |townships: std::ops::RangeInclusive<u32>, value: f64| -> Value {
            Value::Array(townships.map(|t| json!({ "indicator": "HEA-03", "region": format!("DEMO-T{t:02}"), "year": 2026, "value": value })).collect())
        };
        for round in 0..4 {
            let base = 3.0 + f64::from(round) * 0.1;
            let (a, b) = tokio::join!(
                app.gql(&alice, SUBMIT, json!({ "rows": rows(1..=8, base + 0.01) })),
                app.gql(&bob, SUBMIT, json!({ "rows": rows(5..=12, base + 0.02) })),
            );
            for body in [&a, &b] {
                assert!(body.get("errors").is_none(), "round {round}: {body}");
                assert_eq!(body["data"]["submitObservations"]["rowErrors"], json!([]));
            }
        }
        let stored = observation::Entity::find()
            .filter(observation::Column::Year.eq(2026))
            .all(&app.db)
            .await
            .expect("rows");
        let mut by_key: HashMap<i32, Vec<&observation::Model>> = HashMap::new();
        for o in &stored {
            by_key.entry(o.region_id).or_default().push(o);
        }
        assert_eq!(by_key.len(), 12);
        for (region, revisions) in &by_key {
            assert_eq!(
                revisions.iter().filter(|o| o.is_latest).count(),
                1,
                "region {region}: one newest revision"
            );
            let mut numbers: Vec<i32> = revisions.iter().map(|o| o.revision).collect();
            numbers.sort_unstable();
            assert_eq!(
                numbers,
                (1..=numbers.len() as i32).collect::<Vec<_>>(),
                "region {region}: revisions without gaps"
            );
        }
        let submissions = submission::Entity::find()
            .all(&app.db)
            .await
            .expect("submissions");
        assert_eq!(submissions.len(), 8, "every call made a submission");
        let creates = audit_log::Entity::find()
            .filter(audit_log::Column::Action.eq("submission.create"))
            .count(&app.db)
            .await
            .expect("count");
        assert_eq!(creates, 8, "every submission is in the audit log");
        for s in &submissions {
            let rows = stored
                .iter()
                .filter(|o| o.submission_id == Some(s.id))
                .count();
            assert_eq!(
                rows as i32, s.rows_written,
                "submission {} holds what it says",
                s.id
            );
        }
    }
);

on_both_backends!(
    the_history_of_a_value_keeps_every_revision,
    |app: TestApp| async move {
        let health = app.token("health", &["submitter"]);
        let approver = app.token("statistics", &["approver"]);
        let education = app.token("education", &["viewer"]);
        let first = app
            .data(&health, SUBMIT, json!({ "rows": [row(3.9)] }))
            .await;
        let id = first["submitObservations"]["submission"]["id"]
            .as_str()
            .expect("id")
            .to_owned();
        app.data(&approver, APPROVE, json!({ "id": id })).await;
        app.data(&health, SUBMIT, json!({ "rows": [row(3.6)] }))
            .await;
        let q = r#"{ observations(filter: { indicators: ["HEA-03"], regions: ["DEMO-T01"], years: { from: 2026, to: 2026 } }) {
        edges { node { value history { revision value status } } } } }"#;
        let history = |d: &Value| d["observations"]["edges"][0]["node"]["history"].clone();
        let mine = app.data(&health, q, json!({})).await;
        assert_eq!(
            history(&mine),
            json!([{ "revision": 1, "value": 3.9, "status": "APPROVED" }, { "revision": 2, "value": 3.6, "status": "PENDING" }])
        );
        let theirs = app.data(&education, q, json!({})).await;
        assert_eq!(
            history(&theirs),
            json!([{ "revision": 1, "value": 3.9, "status": "APPROVED" }]),
            "the pending correction stays with health"
        );
    }
);

on_both_backends!(
    an_approval_that_overlaps_a_pending_submission_asks_which_stands,
    |app: TestApp| async move {
        let clerk = app.token("health", &["submitter"]);
        let approver = app.token("statistics", &["approver"]);
        let at = |region: &str, value: f64| json!({ "indicator": "HEA-03", "region": region, "year": 2026, "value": value });
        let submit = |rows: Value| {
            let (clerk, app) = (&clerk, &app);
            async move {
                let d = app.data(clerk, SUBMIT, json!({ "rows": rows })).await;
                d["submitObservations"]["submission"]["id"]
                    .as_str()
                    .expect("a submission")
                    .to_owned()
            }
        };
        // A file of three townships, then a correction of one of them and a fourth, both pending.
        let first = submit(json!([
            at("DEMO-T01", 4.1),
            at("DEMO-T02", 4.2),
            at("DEMO-T03", 4.3)
        ]))
        .await;
        let correction = submit(json!([at("DEMO-T01", 3.9), at("DEMO-T04", 4.4)])).await;
        // Either approval alone is refused, naming the other; nothing is published.
        for (id, other) in [(&correction, &first), (&first, &correction)] {
            let (status, body) = app
                .post(
                    Some(&approver),
                    &json!({ "query": APPROVE, "variables": { "id": id } }),
                )
                .await;
            assert_eq!(status, 200);
            let (code, message) = crate::support::first_error(&body);
            assert_eq!(code, "CONFLICT", "{body}");
            assert!(
                message.contains(&format!("submission {other} (1 values)")),
                "{message}"
            );
            assert_eq!(
                body["errors"][0]["extensions"]["submissions"],
                json!([other]),
                "{body}"
            );
        }
        assert!(
            published_hea03(&app, 2026).await.is_empty(),
            "no silent partial publication"
        );
        // Rejecting needs no answer: it publishes nothing. (Checked on a third, overlapping one.)
        let third = submit(json!([at("DEMO-T02", 5.0)])).await;
        let rejected = app
            .data(&approver, REJECT, json!({ "id": third, "r": "a typo" }))
            .await;
        assert_eq!(rejected["rejectSubmission"]["status"], "REJECTED");
        // A submission that shares nothing cannot be superseded.
        let unrelated = app
            .data(
                &clerk,
                SUBMIT,
                json!({ "rows": [{ "indicator": "HEA-06", "region": "DEMO-T01", "year": 2026, "value": 97.0 }] }),
            )
            .await["submitObservations"]["submission"]["id"]
            .as_str()
            .expect("id")
            .to_owned();
        let q = r#"mutation($id: ID!, $s: [ID!]!) { approveSubmission(id: $id, supersedes: $s) { id status } }"#;
        let (_, body) = app
            .post(
                Some(&approver),
                &json!({ "query": q, "variables": { "id": correction, "s": [first, unrelated] } }),
            )
            .await;
        assert_eq!(
            crate::support::first_error(&body).0,
            "BAD_USER_INPUT",
            "{body}"
        );
        assert_eq!(body["errors"][0]["extensions"]["field"], "supersedes");
        assert!(
            published_hea03(&app, 2026).await.is_empty(),
            "a refused approval changed nothing"
        );
        // The approver says the correction stands: it is published, the first file is rejected whole
        // with a reason naming the correction, and the audit log says so.
        let approved = app
            .data(&approver, q, json!({ "id": correction, "s": [first] }))
            .await;
        assert_eq!(approved["approveSubmission"]["status"], "APPROVED");
        assert_eq!(
            published_hea03(&app, 2026).await,
            [("DEMO-T01".to_owned(), 3.9), ("DEMO-T04".to_owned(), 4.4)]
                .into_iter()
                .collect()
        );
        let seen = app
            .data(
                &clerk,
                r#"{ submissions(filter: { status: REJECTED }) { id status reason decidedBy } }"#,
                json!({}),
            )
            .await;
        let seen = seen["submissions"]
            .as_array()
            .expect("list")
            .iter()
            .find(|s| s["id"] == first.as_str())
            .cloned()
            .expect("the first file, rejected");
        assert!(
            seen["reason"]
                .as_str()
                .unwrap_or("")
                .contains(&format!("superseded by submission {correction}")),
            "the submitter sees why: {seen}"
        );
        let audit = app
            .data(
                &app.coordinator(),
                r#"{ auditLog(filter: { entityType: "submission" }) { action entityKey after } }"#,
                json!({}),
            )
            .await;
        let entries = audit["auditLog"].as_array().expect("list");
        assert!(
            entries.iter().any(|e| e["action"] == "submission.reject"
                && e["entityKey"] == first.as_str()
                && e["after"]["superseded_by"] == correction.as_str()),
            "{audit}"
        );
        // The unrelated one is decided on its own.
        let alone = app
            .data(&approver, APPROVE, json!({ "id": unrelated }))
            .await;
        assert_eq!(alone["approveSubmission"]["status"], "APPROVED");
    }
);

on_both_backends!(
    a_submission_says_what_it_covers_and_each_row_what_it_would_replace,
    |app: TestApp| async move {
        let clerk = app.token("health", &["submitter"]);
        let published_2025 = published_hea03(&app, 2025).await;
        let before = *published_2025.get("DEMO-T01").expect("the demo has 2025");
        let sent = app
            .data(
                &clerk,
                SUBMIT,
                json!({ "rows": [
                    { "indicator": "HEA-03", "region": "DEMO-T01", "year": 2025, "value": before + 1.0 },
                    { "indicator": "HEA-03", "region": "DEMO-T02", "year": 2026, "value": 4.4 },
                    { "indicator": "HEA-06", "region": "DEMO-T02", "year": 2026, "value": 97.0 }
                ] }),
            )
            .await;
        let id = sent["submitObservations"]["submission"]["id"].clone();
        let q = r#"{ submissions(filter: { status: PENDING }) { id indicators { code } regions { code } years
            confirmedWarningCount
            observations(first: 10) { indicator { code } region { code } year value
              previousApproved { value status } lastYearApproved { year value } } } }"#;
        let d = app.data(&app.coordinator(), q, json!({})).await;
        let s = d["submissions"]
            .as_array()
            .expect("list")
            .iter()
            .find(|s| s["id"] == id)
            .cloned()
            .expect("the submission");
        assert_eq!(
            s["indicators"],
            json!([{ "code": "HEA-03" }, { "code": "HEA-06" }])
        );
        assert_eq!(
            s["regions"],
            json!([{ "code": "DEMO-T01" }, { "code": "DEMO-T02" }])
        );
        assert_eq!(s["years"], json!([2025, 2026]));
        assert_eq!(s["confirmedWarningCount"], 0);
        let row = |region: &str, year: i64, code: &str| {
            s["observations"]
                .as_array()
                .expect("rows")
                .iter()
                .find(|o| {
                    o["region"]["code"] == region
                        && o["year"] == year
                        && o["indicator"]["code"] == code
                })
                .cloned()
                .expect("row")
        };
        let correction = row("DEMO-T01", 2025, "HEA-03");
        assert_eq!(
            correction["previousApproved"]["value"],
            json!(before),
            "{correction}"
        );
        assert_eq!(correction["previousApproved"]["status"], "APPROVED");
        let new = row("DEMO-T02", 2026, "HEA-03");
        assert!(
            new["previousApproved"].is_null(),
            "nothing published for 2026 yet"
        );
        assert_eq!(new["lastYearApproved"]["year"], 2025);
        assert_eq!(
            new["lastYearApproved"]["value"],
            json!(published_2025["DEMO-T02"]),
            "{new}"
        );
        // A published value replaces nothing: it is itself the approved one.
        let d = app
            .data(
                &app.coordinator(),
                r#"{ observations(filter: { indicators: ["HEA-03"], regions: ["DEMO-T01"], years: { from: 2025, to: 2025 } }) { edges { node { value previousApproved { value } lastYearApproved { year } } } } }"#,
                json!({}),
            )
            .await;
        let node = &d["observations"]["edges"][0]["node"];
        assert!(node["previousApproved"].is_null(), "{node}");
        assert_eq!(node["lastYearApproved"]["year"], 2024, "{node}");
    }
);

on_both_backends!(
    last_years_value_beside_a_restricted_cell_stays_suppressed,
    |app: TestApp| async move {
        // Another department reading a restricted table: the value beside a published cell is the
        // same protected read as the cell itself — a hidden value does not come back through it.
        let education = app.token("education", &["viewer"]);
        let q = r#"{ observations(filter: { indicators: ["LAW-01"], years: { from: 2025, to: 2025 } }, first: 1000) {
            edges { node { region { code } sex ageGroup suppressed value lastYearApproved { suppressed value } } } } }"#;
        let d = app.data(&education, q, json!({})).await;
        let q2024 = r#"{ observations(filter: { indicators: ["LAW-01"], years: { from: 2024, to: 2024 } }, first: 1000) {
            edges { node { region { code } sex ageGroup suppressed value } } } }"#;
        let d2024 = app.data(&education, q2024, json!({})).await;
        let key = |n: &Value| {
            format!(
                "{}/{}/{}",
                n["region"]["code"].as_str().unwrap_or(""),
                n["sex"].as_str().unwrap_or(""),
                n["ageGroup"].as_str().unwrap_or("")
            )
        };
        let direct: std::collections::HashMap<String, Value> = d2024["observations"]["edges"]
            .as_array()
            .expect("edges")
            .iter()
            .map(|e| (key(&e["node"]), e["node"]["value"].clone()))
            .collect();
        let mut compared = 0;
        for e in d["observations"]["edges"].as_array().expect("edges") {
            let n = &e["node"];
            if n["lastYearApproved"].is_null() {
                continue;
            }
            compared += 1;
            assert_eq!(
                n["lastYearApproved"]["value"],
                direct[&key(n)],
                "read beside 2025 as read directly: {n}"
            );
        }
        assert!(compared > 0);
        assert!(
            direct.values().any(Value::is_null),
            "some 2024 cells are hidden from education"
        );
    }
);

/// The published HEA-03 values of `year`, by region (totals).
async fn published_hea03(app: &TestApp, year: i32) -> std::collections::BTreeMap<String, f64> {
    let d = app
        .data(
            &app.coordinator(),
            r#"query($y: Int!) { observations(filter: { indicators: ["HEA-03"], years: { from: $y, to: $y }, sex: "_T", residence: "_T" }, first: 100) { edges { node { region { code } value } } } }"#,
            json!({ "y": year }),
        )
        .await;
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
                e["node"]["value"].as_f64().unwrap_or(f64::NAN),
            )
        })
        .collect()
}

on_both_backends!(
    a_rejection_can_remark_on_rows_which_the_submitter_sees_on_them,
    |app: TestApp| async move {
        let clerk = app.token("health", &["submitter"]);
        let approver = app.token("statistics", &["approver"]);
        let sent = app
            .data(
                &clerk,
                SUBMIT,
                json!({ "rows": [
                    { "indicator": "HEA-03", "region": "DEMO-T01", "year": 2026, "value": 12.0 },
                    { "indicator": "HEA-03", "region": "DEMO-T02", "year": 2026, "value": 4.0 }
                ] }),
            )
            .await;
        let id = sent["submitObservations"]["submission"]["id"].clone();
        let rows_of = |who: String, id: Value| {
            let app = &app;
            async move {
                app.data(
                    &who,
                    r#"query($id: ID!) { submission(id: $id) { status reason observations(first: 10) { id region { code } reviewComment } } }"#,
                    json!({ "id": id }),
                )
                .await["submission"]
                    .clone()
            }
        };
        let seen = rows_of(app.coordinator(), id.clone()).await;
        let t01 = seen["observations"]
            .as_array()
            .expect("rows")
            .iter()
            .find(|o| o["region"]["code"] == "DEMO-T01")
            .expect("row")["id"]
            .clone();
        let q = r#"mutation($id: ID!, $c: [RowCommentInput!]!) { rejectSubmission(id: $id, reason: "婴儿死亡率异常 an outlier", comments: $c) { status } }"#;
        // A remark on a row of another submission is refused, and nothing is decided.
        let (_, body) = app
            .post(
                Some(&approver),
                &json!({ "query": q, "variables": { "id": id, "c": [{ "observation": "999999", "text": "?" }] } }),
            )
            .await;
        assert_eq!(
            crate::support::first_error(&body).0,
            "BAD_USER_INPUT",
            "{body}"
        );
        assert_eq!(
            body["errors"][0]["extensions"]["field"],
            "comments[0].observation"
        );
        assert_eq!(
            rows_of(app.coordinator(), id.clone()).await["status"],
            "PENDING"
        );
        let done = app
            .data(
                &approver,
                q,
                json!({ "id": id, "c": [{ "observation": t01, "text": "比上年高出三倍，请核对 three times last year's: check" }] }),
            )
            .await;
        assert_eq!(done["rejectSubmission"]["status"], "REJECTED");
        // The submitter sees the remark on that row, and only there.
        let seen = rows_of(clerk.clone(), id.clone()).await;
        let comments: std::collections::BTreeMap<String, Value> = seen["observations"]
            .as_array()
            .expect("rows")
            .iter()
            .map(|o| {
                (
                    o["region"]["code"].as_str().unwrap_or("").to_owned(),
                    o["reviewComment"].clone(),
                )
            })
            .collect();
        assert_eq!(
            comments["DEMO-T01"],
            "比上年高出三倍，请核对 three times last year's: check"
        );
        assert!(comments["DEMO-T02"].is_null());
        // Another department sees neither the submission nor the remark.
        let other = app
            .post(
                Some(&app.token("education", &["viewer"])),
                &json!({ "query": r#"query($id: ID!) { submission(id: $id) { reason } }"#, "variables": { "id": id } }),
            )
            .await
            .1;
        assert!(other["data"]["submission"].is_null(), "{other}");
    }
);

on_both_backends!(
    racing_approvals_of_overlapping_submissions_publish_one_of_them_whole,
    |app: TestApp| async move {
        let clerk = app.token("health", &["submitter"]);
        let approvers = [
            app.token_for("approver-a", "statistics", &["approver"]),
            app.token_for("approver-b", "wcwc", &["approver"]),
        ];
        let q = r#"mutation($id: ID!, $s: [ID!]!) { approveSubmission(id: $id, supersedes: $s) { id status } }"#;
        let submit = |rows: Value| {
            let (clerk, app) = (&clerk, &app);
            async move {
                app.data(clerk, SUBMIT, json!({ "rows": rows })).await["submitObservations"]
                    ["submission"]["id"]
                    .as_str()
                    .expect("id")
                    .to_owned()
            }
        };
        for round in 0..4 {
            let year = 2026 + round;
            let at = |region: &str, value: f64| json!({ "indicator": "HEA-03", "region": region, "year": year, "value": value });
            let a = submit(json!([at("DEMO-T01", 4.1), at("DEMO-T02", 4.2)])).await;
            let b = submit(json!([at("DEMO-T01", 3.1), at("DEMO-T03", 3.3)])).await;
            // Each approver says their own one stands over the other, at the same moment.
            let answers = futures::future::join_all([
                app.gql(&approvers[0], q, json!({ "id": a, "s": [b] })),
                app.gql(&approvers[1], q, json!({ "id": b, "s": [a] })),
            ])
            .await;
            let winners = crate::support::winners_of_race(&answers, round);
            assert_eq!(winners.len(), 1, "round {round}: {answers:?}");
            let published = published_hea03(&app, year).await;
            let want: std::collections::BTreeMap<String, f64> = if winners[0] == 0 {
                [("DEMO-T01", 4.1), ("DEMO-T02", 4.2)]
            } else {
                [("DEMO-T01", 3.1), ("DEMO-T03", 3.3)]
            }
            .into_iter()
            .map(|(r, v)| (r.to_owned(), v))
            .collect();
            assert_eq!(
                published, want,
                "round {round}: the winner whole, nothing of the other"
            );
            // Neither says which stands, at the same moment: neither is published.
            let c = submit(json!([at("DEMO-T04", 5.1)])).await;
            let d = submit(json!([at("DEMO-T04", 5.2)])).await;
            let answers = futures::future::join_all([
                app.gql(&approvers[0], q, json!({ "id": c, "s": [] })),
                app.gql(&approvers[1], q, json!({ "id": d, "s": [] })),
            ])
            .await;
            for body in &answers {
                assert_eq!(
                    body["errors"][0]["extensions"]["code"], "CONFLICT",
                    "round {round}: {body}"
                );
            }
            assert!(
                !published_hea03(&app, year).await.contains_key("DEMO-T04"),
                "round {round}: no silent publication"
            );
        }
    }
);
