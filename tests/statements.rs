//! Nested fields go through DataLoaders: the SQL statements a request costs do not grow with its rows.

use crate::on_both_backends;
use crate::support::TestApp;
use serde_json::{Value, json};

const DASHBOARD: &str = r#"query($residence: String) {
  indicators { code targets { kind value } ownerDepartment { code } domain { code } }
  regions(filter: { level: TOWNSHIP, residence: $residence }) {
    code parent { code }
    latest { year value indicator { code unit targets { kind value scope } } }
  } }"#;

on_both_backends!(
    a_dashboard_query_costs_a_bounded_number_of_statements,
    |app: TestApp| async move {
        let t = app.coordinator();
        // Warm up (first connection use, pool checkout) so that only the measured request is counted.
        app.data(&t, "{ me { department } }", json!({})).await;

        app.reset_statements();
        let streets = app.data(&t, DASHBOARD, json!({ "residence": "U" })).await;
        let small = app.statements();

        app.reset_statements();
        let all = app.data(&t, DASHBOARD, json!({})).await;
        let large = app.statements();

        let cells: usize = all["regions"]
            .as_array()
            .expect("list")
            .iter()
            .map(|r| r["latest"].as_array().map_or(0, Vec::len))
            .sum();
        assert_eq!(all["regions"].as_array().map(Vec::len), Some(20));
        assert!(
            cells > 20 * 30,
            "every township has its latest values of most indicators ({cells})"
        );
        assert_eq!(streets["regions"].as_array().map(Vec::len), Some(5));
        eprintln!("dashboard query: {large} SQL statements for {cells} values");
        assert_eq!(
            small, large,
            "statements must not grow with the number of rows"
        );
        assert!(large <= 15, "{large} statements for one dashboard request");
    }
);

/// The statements one request costs, after a warm-up request of the same shape (the first request
/// after a change reads the reference snapshot, the first restricted read releases its tables).
async fn warm_cost(app: &TestApp, token: &str, query: &str, variables: Value) -> (usize, Value) {
    app.data(token, query, variables.clone()).await;
    app.reset_statements();
    let data = app.data(token, query, variables).await;
    (app.statements(), data)
}

on_both_backends!(
    reference_data_and_suppression_come_from_memory_once_warm,
    |app: TestApp| async move {
        let t = app.coordinator();
        // The catalogue shape reads nothing but the version check.
        let (catalogue, data) = warm_cost(
            &app,
            &t,
            "{ indicators { code nameZh unit targets { kind value } domain { code } ownerDepartment { code } } }",
            json!({}),
        )
        .await;
        assert_eq!(data["indicators"].as_array().map(Vec::len), Some(41));
        assert_eq!(
            catalogue, 1,
            "a warm catalogue request checks the version only"
        );

        // A page with its regions: the version check and the page (totalCount not asked for).
        let page = r#"{ observations(filter: { indicators: ["HEA-06"] }, first: 100) {
            nodes { year value region { code nameZh parent { code } } } pageInfo { hasNextPage } } }"#;
        let (cost, data) = warm_cost(&app, &t, page, json!({})).await;
        assert_eq!(
            data["observations"]["nodes"].as_array().map(Vec::len),
            Some(100)
        );
        assert_eq!(cost, 2, "version check + page");
        // With totalCount over many pages: counted once per data version, so a warm page still costs
        // the version check and the page.
        let counted = r#"{ observations(filter: { indicators: ["HEA-06"] }, first: 10) {
            totalCount pageInfo { hasNextPage } } }"#;
        let (cost, data) = warm_cost(&app, &t, counted, json!({})).await;
        assert_eq!(data["observations"]["pageInfo"]["hasNextPage"], true);
        assert!(data["observations"]["totalCount"].as_u64() > Some(10));
        assert_eq!(cost, 2, "version check + page; the count comes from memory");
        // Every township's latest values: the version check only, once warm.
        let towns = r#"{ regions(filter: { level: TOWNSHIP }) { code latest(indicators: ["HEA-06", "EDU-01"]) { value } } }"#;
        let (cost, _) = warm_cost(&app, &t, towns, json!({})).await;
        assert_eq!(
            cost, 1,
            "the latest values come from memory while the data is unchanged"
        );

        // A restricted indicator read by another department: suppression patterns are memoised.
        let other = app.token("education", &["viewer"]);
        let restricted = r#"{ observations(filter: { indicators: ["LAW-02"] }, first: 100) {
            nodes { value suppressed } } }"#;
        let (cost, data) = warm_cost(&app, &other, restricted, json!({})).await;
        assert!(
            data["observations"]["nodes"]
                .as_array()
                .is_some_and(|n| !n.is_empty())
        );
        assert_eq!(
            cost, 2,
            "version check + page; the release comes from memory"
        );

        // The dashboard: one assessment shared by progress, summary and warnings, kept while the
        // published data is unchanged; the failing-sources check and the quality flags remain.
        let (cost, _) = warm_cost(
            &app,
            &t,
            "{ summary { year } progress { status } earlyWarnings { __typename } }",
            json!({}),
        )
        .await;
        assert!(cost <= 2, "{cost} statements for a warm dashboard");
    }
);

on_both_backends!(
    federation_entities_cost_the_same_for_twenty_as_for_one,
    |app: TestApp| async move {
        let t = app.coordinator();
        let query = r#"query($r: [_Any!]!) { _entities(representations: $r) {
            ... on Region { code nameZh parent { code } latest(indicators: ["HEA-06", "EDU-01"]) { year value indicator { code } } }
        } }"#;
        let listed = app
            .data(
                &t,
                "{ regions(filter: { level: TOWNSHIP }) { code } }",
                json!({}),
            )
            .await;
        let townships: Vec<Value> = listed["regions"]
            .as_array()
            .expect("regions")
            .iter()
            .map(|r| json!({ "__typename": "Region", "code": r["code"] }))
            .collect();
        assert_eq!(townships.len(), 20);
        let (one, single) = warm_cost(&app, &t, query, json!({ "r": townships[..1] })).await;
        let (twenty, all) = warm_cost(&app, &t, query, json!({ "r": townships })).await;
        assert_eq!(single["_entities"].as_array().map(Vec::len), Some(1));
        let entities = all["_entities"].as_array().expect("entities");
        assert_eq!(entities.len(), 20);
        assert!(
            entities
                .iter()
                .filter(|e| e["latest"].as_array().is_some_and(|l| !l.is_empty()))
                .count()
                >= 19,
            "townships have latest values: {all}"
        );
        eprintln!("_entities: {one} statements for 1 region, {twenty} for 20");
        assert_eq!(one, twenty, "entities are batched");
        assert!(twenty <= 2, "version check + one latest-values query");
    }
);

on_both_backends!(
    submission_values_load_in_one_query_for_all_submissions,
    |app: TestApp| async move {
        let submitter = app.token("health", &["submitter"]);
        for (i, township) in ["DEMO-T01", "DEMO-T02", "DEMO-T03", "DEMO-T04"]
            .iter()
            .enumerate()
        {
            let rows = json!([{ "indicator": "HEA-06", "region": township, "year": 2026, "value": 90.0 + i as f64 }]);
            let sent = app
                .gql(
                    &submitter,
                    crate::submissions::SUBMIT,
                    json!({ "rows": rows }),
                )
                .await;
            assert!(sent["errors"].is_null(), "{sent}");
        }
        let query = r#"query($n: Int!) { submissions(first: $n) { id observations { value region { code } } } }"#;
        let t = app.coordinator();
        let (one, single) = warm_cost(&app, &t, query, json!({ "n": 1 })).await;
        let (four, all) = warm_cost(&app, &t, query, json!({ "n": 4 })).await;
        assert_eq!(single["submissions"].as_array().map(Vec::len), Some(1));
        let submissions = all["submissions"].as_array().expect("list");
        assert_eq!(submissions.len(), 4);
        assert!(
            submissions
                .iter()
                .all(|s| s["observations"].as_array().map(Vec::len) == Some(1)),
            "{all}"
        );
        assert_eq!(one, four, "one query for the values of all submissions");
    }
);
