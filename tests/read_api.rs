//! The read API: every root field, nested fields, the observations connection, federation entities,
//! and named errors for bad filters.

use crate::on_both_backends;
use crate::support::{TestApp, first_error};
use serde_json::{Value, json};
use std::collections::HashSet;

on_both_backends!(
    indicators_filter_by_domain_department_and_search,
    |app: TestApp| async move {
        let t = app.coordinator();
        let q = "query($f: IndicatorFilter) { indicators(filter: $f) { code } }";
        let codes = |v: &Value| -> Vec<String> {
            v["indicators"]
                .as_array()
                .expect("list")
                .iter()
                .filter_map(|i| i["code"].as_str().map(String::from))
                .collect()
        };
        let legal = app.data(&t, q, json!({ "f": { "domain": "legal" } })).await;
        assert_eq!(codes(&legal), ["LAW-01", "LAW-02", "LAW-03"]);
        let education = app
            .data(&t, q, json!({ "f": { "department": "education" } }))
            .await;
        assert!(
            codes(&education).contains(&"HEA-10".to_owned()),
            "myopia is reported by education"
        );
        assert!(
            codes(&education)
                .iter()
                .all(|c| c.starts_with("EDU") || c.starts_with("HEA"))
        );
        let zh = app
            .data(&t, q, json!({ "f": { "search": "死亡率" } }))
            .await;
        assert_eq!(
            codes(&zh),
            [
                "HEA-02", "HEA-03", "HEA-04", "HEA-05", "SAF-01", "SAF-02", "SAF-03"
            ]
        );
        let en = app
            .data(
                &t,
                q,
                json!({ "f": { "search": "MORTALITY", "domain": "health" } }),
            )
            .await;
        assert_eq!(codes(&en), ["HEA-02", "HEA-03", "HEA-04", "HEA-05"]);

        let bad = app.gql(&t, q, json!({ "f": { "domain": "sports" } })).await;
        let (code, message) = first_error(&bad);
        assert_eq!(code, "BAD_USER_INPUT");
        assert!(
            message.contains("filter.domain") && message.contains("sports"),
            "{message}"
        );
        let bad = app
            .gql(&t, q, json!({ "f": { "department": "police" } }))
            .await;
        assert_eq!(bad["errors"][0]["extensions"]["value"], "police");
    }
);

on_both_backends!(
    the_region_tree_keeps_a_merged_township_and_its_history,
    |app: TestApp| async move {
        let t = app.coordinator();
        let data = app
        .data(
            &t,
            r#"{ city: region(code: "DEMO") { level parent { code } children { code residence level } }
                 townships: regions(filter: { level: TOWNSHIP }) { code }
                 in2024: regions(filter: { level: TOWNSHIP, year: 2024 }) { code }
                 rural: regions(filter: { level: TOWNSHIP, residence: "R" }) { code }
                 villages: regions(filter: { parent: "DEMO-T01" }) { code level parent { code } }
                 merged: region(code: "DEMO-T15") { validTo }
                 history: indicator(code: "HEA-06") { series(region: "DEMO-T15") { year } } }"#,
            json!({}),
        )
        .await;
        assert_eq!(data["city"]["level"], "CITY");
        assert!(data["city"]["parent"].is_null());
        assert_eq!(data["city"]["children"].as_array().map(Vec::len), Some(20));
        assert_eq!(data["townships"].as_array().map(Vec::len), Some(20));
        assert_eq!(
            data["in2024"].as_array().map(Vec::len),
            Some(19),
            "DEMO-T15 merged in 2024"
        );
        assert_eq!(data["rural"].as_array().map(Vec::len), Some(15));
        assert_eq!(data["villages"].as_array().map(Vec::len), Some(2));
        assert_eq!(data["villages"][0]["parent"]["code"], "DEMO-T01");
        assert_eq!(data["merged"]["validTo"], 2023);
        let years: Vec<i64> = data["history"]["series"]
            .as_array()
            .expect("list")
            .iter()
            .filter_map(|o| o["year"].as_i64())
            .collect();
        assert_eq!(
            years,
            [2020, 2021, 2022, 2023],
            "the merged township keeps its values up to 2023"
        );

        let bad = app
            .gql(
                &t,
                r#"{ regions(filter: { parent: "NOWHERE" }) { code } }"#,
                json!({}),
            )
            .await;
        assert_eq!(bad["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
        assert_eq!(bad["errors"][0]["extensions"]["value"], "NOWHERE");
    }
);

on_both_backends!(
    series_are_ordered_by_year_and_latest_is_the_last_value,
    |app: TestApp| async move {
        let t = app.coordinator();
        let data = app
            .data(
                &t,
                r#"{ indicator(code: "HEA-01") {
                   series(region: "DEMO") { year value sex }
                   latest(region: "DEMO") { year value }
                   boys: series(region: "DEMO", sex: "M") { year } }
                 vaccination: indicator(code: "HEA-06") { unit targets { value scope } } }"#,
                json!({}),
            )
            .await;
        let series = data["indicator"]["series"].as_array().expect("list");
        let years: Vec<i64> = series.iter().filter_map(|o| o["year"].as_i64()).collect();
        assert_eq!(
            years,
            [2020, 2022, 2023, 2024, 2025],
            "the demo has no 2021 value for health literacy"
        );
        assert!(series.iter().all(|o| o["sex"] == "_T"));
        assert_eq!(data["indicator"]["latest"]["year"], 2025);
        assert_eq!(data["indicator"]["latest"]["value"], series[4]["value"]);
        assert_eq!(
            data["indicator"]["boys"],
            json!([]),
            "health literacy is not reported by sex"
        );
        assert_eq!(data["vaccination"]["targets"][0]["scope"], "EACH_TOWNSHIP");

        let bad = app
            .gql(
                &t,
                r#"{ indicator(code: "HEA-01") { series(region: "MARS") { year } } }"#,
                json!({}),
            )
            .await;
        let (code, message) = first_error(&bad);
        assert_eq!(code, "BAD_USER_INPUT");
        assert!(message.contains("MARS"), "{message}");
    }
);

on_both_backends!(
    three_demo_townships_are_below_the_vaccination_floor,
    |app: TestApp| async move {
        let data = app
        .data(
            &app.coordinator(),
            r#"{ regions(filter: { level: TOWNSHIP, year: 2025 }) { code latest(indicators: ["HEA-06"]) { year value } } }"#,
            json!({}),
        )
        .await;
        let mut below: Vec<&str> = data["regions"]
            .as_array()
            .expect("list")
            .iter()
            .filter(|r| r["latest"][0]["value"].as_f64().is_some_and(|v| v < 97.0))
            .filter_map(|r| r["code"].as_str())
            .collect();
        below.sort_unstable();
        assert_eq!(below, ["DEMO-T03", "DEMO-T08", "DEMO-T12"]);
    }
);

const PAGE: &str = "query($f: ObservationFilter, $first: Int, $after: String) {
  observations(filter: $f, first: $first, after: $after) {
    totalCount
    edges { cursor node { year sex region { code } indicator { code } value } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  } }";

on_both_backends!(
    paging_through_observations_visits_every_row_once,
    |app: TestApp| async move {
        let t = app.coordinator();
        let filter = json!({ "indicators": ["HEA-03"], "regionLevel": "TOWNSHIP", "years": { "from": 2021, "to": 2023 } });
        let mut after: Option<String> = None;
        let mut seen = HashSet::new();
        let mut total = None;
        let mut pages = 0;
        loop {
            let data = app
                .data(
                    &t,
                    PAGE,
                    json!({ "f": filter, "first": 25, "after": after }),
                )
                .await;
            let c = &data["observations"];
            total = total.or(c["totalCount"].as_u64());
            assert_eq!(c["pageInfo"]["hasPreviousPage"], json!(after.is_some()));
            for edge in c["edges"].as_array().expect("edges") {
                let node = &edge["node"];
                assert_eq!(node["indicator"]["code"], "HEA-03");
                let year = node["year"].as_i64().expect("year");
                assert!((2021..=2023).contains(&year));
                assert!(
                    node["region"]["code"]
                        .as_str()
                        .is_some_and(|c| c.starts_with("DEMO-"))
                );
                assert!(
                    seen.insert(edge["cursor"].as_str().expect("cursor").to_owned()),
                    "a row came twice"
                );
            }
            pages += 1;
            if c["pageInfo"]["hasNextPage"] != json!(true) {
                break;
            }
            after = c["pageInfo"]["endCursor"].as_str().map(String::from);
        }
        // 20 townships × 3 sexes × 3 years.
        assert_eq!(total, Some(180));
        assert_eq!(seen.len(), 180);
        assert_eq!(pages, 8);
    }
);

on_both_backends!(
    bad_observation_filters_are_named_errors,
    |app: TestApp| async move {
        let t = app.coordinator();
        let cases = [
            (
                json!({ "f": { "indicators": ["HEA-99"] } }),
                "filter.indicators",
                "HEA-99",
            ),
            (
                json!({ "f": { "regions": ["DEMO-T99"] } }),
                "filter.regions",
                "DEMO-T99",
            ),
            (
                json!({ "f": { "years": { "from": 2025, "to": 2020 } } }),
                "filter.years",
                "from 2025 to 2020",
            ),
            (json!({ "f": { "sex": "X" } }), "filter.sex", "X"),
            (
                json!({ "f": { "ageGroup": "Y99" } }),
                "filter.ageGroup",
                "Y99",
            ),
            (
                json!({ "f": { "residence": "suburb" } }),
                "filter.residence",
                "suburb",
            ),
            (json!({ "after": "not-a-cursor" }), "after", "not-a-cursor"),
            (json!({ "first": 1001 }), "first", "1001"),
            (json!({ "first": -1 }), "first", "-1"),
        ];
        for (variables, field, value) in cases {
            let body = app.gql(&t, PAGE, variables.clone()).await;
            let ext = &body["errors"][0]["extensions"];
            assert_eq!(ext["code"], "BAD_USER_INPUT", "{variables}: {body}");
            assert_eq!(ext["field"], field, "{variables}");
            assert_eq!(ext["value"], value, "{variables}");
            assert!(body["data"].is_null() || body["data"]["observations"].is_null());
        }
    }
);

on_both_backends!(
    federation_resolves_entities_by_code,
    |app: TestApp| async move {
        let data = app
            .data(
                &app.coordinator(),
                r#"query($r: [_Any!]!) { _entities(representations: $r) {
                 ... on Indicator { code nameEn }
                 ... on Region { code nameEn }
                 ... on Department { code nameZh } }
               _service { sdl } }"#,
                json!({ "r": [
                { "__typename": "Indicator", "code": "HEA-03" },
                { "__typename": "Region", "code": "DEMO-T01" },
                { "__typename": "Department", "code": "health" },
                { "__typename": "Indicator", "code": "NOPE-1" }
            ] }),
            )
            .await;
        let e = &data["_entities"];
        assert_eq!(e[0]["nameEn"], "Infant mortality rate");
        assert_eq!(e[1]["nameEn"], "Demo Township 01");
        assert_eq!(e[2]["nameZh"], "卫生健康局");
        assert!(e[3].is_null());
        let sdl = data["_service"]["sdl"].as_str().expect("sdl");
        assert!(
            sdl.contains("type Indicator @key(fields: \"code\")"),
            "{sdl}"
        );
    }
);

on_both_backends!(
    health_and_readiness_answer_without_a_token,
    |app: TestApp| async move {
        let health = app
            .client
            .get(app.url("/healthz"))
            .send()
            .await
            .expect("healthz");
        assert_eq!(health.status(), 200);
        let ready = app
            .client
            .get(app.url("/readyz"))
            .send()
            .await
            .expect("readyz");
        assert_eq!(ready.status(), 200);
        assert_eq!(ready.text().await.expect("body"), "ready");
        let cookie = crate::support::dev_session(&app, "statistics", &["viewer"]).await;
        let page = app
            .client
            .get(app.url("/graphiql"))
            .header("cookie", cookie)
            .send()
            .await
            .expect("graphiql");
        assert_eq!(page.status(), 200);
        assert!(page.text().await.expect("body").contains("GraphiQL"));
    }
);

on_both_backends!(
    a_series_can_be_cut_to_a_year_range,
    |app: TestApp| async move {
        let q = r#"{ indicator(code: "HEA-03") {
            all: series(region: "DEMO") { year }
            middle: series(region: "DEMO", from: 2022, to: 2024) { year }
            since: series(region: "DEMO", from: 2024) { year } } }"#;
        let d = app.data(&app.coordinator(), q, serde_json::json!({})).await;
        let years = |k: &str| -> Vec<i64> {
            d["indicator"][k]
                .as_array()
                .expect("list")
                .iter()
                .filter_map(|o| o["year"].as_i64())
                .collect()
        };
        assert!(years("all").len() > 3, "{d}");
        assert_eq!(years("middle"), vec![2022, 2023, 2024]);
        assert!(years("since").iter().all(|y| *y >= 2024) && !years("since").is_empty());
        let (_, body) = app
            .post(
                Some(&app.coordinator()),
                &serde_json::json!({ "query": r#"{ indicator(code: "HEA-03") { series(region: "DEMO", from: 2025, to: 2020) { year } } }"# }),
            )
            .await;
        assert_eq!(
            crate::support::first_error(&body).0,
            "BAD_USER_INPUT",
            "{body}"
        );
        assert_eq!(body["errors"][0]["extensions"]["field"], "from");
    }
);
