//! Nested fields go through DataLoaders: the SQL statements a request costs do not grow with its rows.

use crate::on_both_backends;
use crate::support::TestApp;
use serde_json::json;

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
