//! The authorization policy: default deny over the whole schema, and the permission matrix of who reads
//! what on every path into the data.

use crate::on_both_backends;
use crate::support::TestApp;
use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};
use childhub::auth::policy::{FIELD_RULES, field_rule};
use sea_orm::{ActiveValue::Set, EntityTrait};
use serde_json::{Value, json};

/// Every object field the schema serves, as (type, field), federation fields included.
fn schema_fields() -> Vec<(String, String)> {
    let sdl = childhub::graphql::sdl();
    let document = async_graphql::parser::parse_schema(&sdl).expect("the SDL parses");
    let mut out = vec![
        ("Query".to_owned(), "_entities".to_owned()),
        ("Query".to_owned(), "_service".to_owned()),
        ("_Service".to_owned(), "sdl".to_owned()),
    ];
    for definition in document.definitions {
        if let TypeSystemDefinition::Type(ty) = definition
            && let TypeKind::Object(object) = &ty.node.kind
        {
            for field in &object.fields {
                out.push((
                    ty.node.name.node.to_string(),
                    field.node.name.node.to_string(),
                ));
            }
        }
    }
    out
}

#[test]
fn every_field_of_the_schema_is_covered_by_the_policy() {
    let fields = schema_fields();
    assert!(
        fields.len() > 60,
        "the walk found the schema's fields ({})",
        fields.len()
    );
    let uncovered: Vec<String> = fields
        .iter()
        .filter(|(t, f)| field_rule(t, f).is_none())
        .map(|(t, f)| format!("{t}.{f}"))
        .collect();
    assert!(
        uncovered.is_empty(),
        "fields without a policy rule: {uncovered:?}"
    );
    // And the policy names nothing that does not exist, so that it cannot silently go stale.
    for (key, _) in FIELD_RULES {
        let (ty, field) = key.split_once('.').expect("Type.field");
        assert!(
            fields
                .iter()
                .any(|(t, f)| t == ty && (field == "*" || f == field)),
            "the policy names {key}, which the schema does not have"
        );
    }
}

#[test]
fn a_field_the_policy_does_not_name_is_refused() {
    assert!(field_rule("Query", "somethingNew").is_none());
    assert!(field_rule("Indicator", "code").is_some());
}

/// A caller of the matrix.
struct Caller {
    name: &'static str,
    dept: &'static str,
    roles: &'static [&'static str],
}

const CALLERS: &[Caller] = &[
    Caller {
        name: "health viewer (owns HEA-*)",
        dept: "health",
        roles: &["viewer"],
    },
    Caller {
        name: "health submitter",
        dept: "health",
        roles: &["submitter"],
    },
    Caller {
        name: "public security viewer (owns LAW-01)",
        dept: "public_security",
        roles: &["viewer"],
    },
    Caller {
        name: "education submitter",
        dept: "education",
        roles: &["submitter"],
    },
    Caller {
        name: "statistics viewer (coordinator)",
        dept: "statistics",
        roles: &["viewer"],
    },
    Caller {
        name: "wcwc approver (coordinator)",
        dept: "wcwc",
        roles: &["approver"],
    },
    Caller {
        name: "justice admin",
        dept: "justice",
        roles: &["admin"],
    },
];

/// What a caller should see of an indicator's cell.
#[derive(Debug, PartialEq)]
enum Sees {
    Value,
    Suppressed,
}

fn expected(caller: &Caller, sensitivity: &str, owner: &str) -> Sees {
    let privileged = caller.dept == owner || caller.dept == "statistics" || caller.dept == "wcwc";
    if sensitivity == "restricted" && !privileged {
        Sees::Suppressed
    } else {
        Sees::Value
    }
}

/// The cell as seen through four paths: the root connection, a nested series, a region's latest values
/// and a federation entity. Returns (value, suppressed) per path.
async fn read_paths(
    app: &TestApp,
    token: &str,
    indicator: &str,
    region: &str,
    year: i64,
) -> Vec<(String, Value, Value)> {
    let q = r#"query($i: String!, $r: String!, $y: Int!, $reps: [_Any!]!) {
      root: observations(filter: { indicators: [$i], regions: [$r], years: { from: $y, to: $y }, sex: "_T", ageGroup: "_T", residence: "_T" }) {
        totalCount edges { node { value suppressed numerator } } }
      nested: indicator(code: $i) { series(region: $r) { year value suppressed } }
      region(code: $r) { latest(indicators: [$i]) { year value suppressed } }
      _entities(representations: $reps) { ... on Indicator { series(region: $r) { year value suppressed } } } }"#;
    let vars = json!({ "i": indicator, "r": region, "y": year, "reps": [{ "__typename": "Indicator", "code": indicator }] });
    let d = app.data(token, q, vars).await;
    let in_year = |list: &Value| -> Value {
        list.as_array()
            .expect("list")
            .iter()
            .find(|o| o["year"] == year)
            .cloned()
            .unwrap_or(Value::Null)
    };
    let root = &d["root"]["edges"][0]["node"];
    assert_eq!(d["root"]["totalCount"], 1);
    let nested = in_year(&d["nested"]["series"]);
    let latest = in_year(&d["region"]["latest"]);
    let entity = in_year(&d["_entities"][0]["series"]);
    vec![
        (
            "root".into(),
            root["value"].clone(),
            root["suppressed"].clone(),
        ),
        (
            "nested".into(),
            nested["value"].clone(),
            nested["suppressed"].clone(),
        ),
        (
            "region.latest".into(),
            latest["value"].clone(),
            latest["suppressed"].clone(),
        ),
        (
            "entity".into(),
            entity["value"].clone(),
            entity["suppressed"].clone(),
        ),
    ]
}

/// A township cell of LAW-01 in 2025 below the threshold, as the owner sees it.
async fn small_law01_cell(app: &TestApp) -> (String, f64) {
    let owner = app.token("public_security", &["viewer"]);
    let d = app
        .data(&owner, r#"{ regions(filter: { level: TOWNSHIP, year: 2025 }) { code latest(indicators: ["LAW-01"]) { year value } } }"#, json!({}))
        .await;
    d["regions"]
        .as_array()
        .expect("list")
        .iter()
        .find_map(|r| {
            let v = r["latest"][0]["value"].as_f64()?;
            (r["latest"][0]["year"] == 2025 && v < 5.0)
                .then(|| (r["code"].as_str().unwrap_or("").to_owned(), v))
        })
        .expect("the demo has small LAW-01 counts in townships")
}

on_both_backends!(
    the_read_matrix_holds_on_every_path,
    |app: TestApp| async move {
        let (small_region, small_value) = small_law01_cell(&app).await;
        let cells = [
            ("HEA-01", "public", "health", "DEMO-T01"),
            ("HEA-03", "internal", "health", "DEMO-T01"),
            (
                "LAW-01",
                "restricted",
                "public_security",
                small_region.as_str(),
            ),
        ];
        for caller in CALLERS {
            let token = app.token(caller.dept, caller.roles);
            for (indicator, sensitivity, owner, region) in cells {
                let want = expected(caller, sensitivity, owner);
                for (path, value, suppressed) in
                    read_paths(&app, &token, indicator, region, 2025).await
                {
                    let cell = format!("{} × {indicator} ({sensitivity}) × {path}", caller.name);
                    match want {
                        Sees::Value => {
                            assert!(value.is_number(), "{cell}: expected the value, got {value}");
                            assert_eq!(suppressed, false, "{cell}");
                            if indicator == "LAW-01" {
                                assert_eq!(value.as_f64(), Some(small_value), "{cell}");
                            }
                        }
                        Sees::Suppressed => {
                            assert!(
                                value.is_null(),
                                "{cell}: a small count must not be shown, got {value}"
                            );
                            assert_eq!(suppressed, true, "{cell}");
                        }
                    }
                }
            }
        }
    }
);

on_both_backends!(
    unapproved_values_stay_with_the_owner_and_coordinators,
    |app: TestApp| async move {
        use entity::{indicator, observation, region};
        use sea_orm::{ColumnTrait, QueryFilter};
        // A pending correction of HEA-03 for the city in 2025, next to the approved value.
        let hea03 = indicator::Entity::find()
            .filter(indicator::Column::Code.eq("HEA-03"))
            .one(&app.db)
            .await
            .expect("q")
            .expect("HEA-03");
        let city = region::Entity::find()
            .filter(region::Column::Code.eq("DEMO"))
            .one(&app.db)
            .await
            .expect("q")
            .expect("DEMO");
        let current = observation::Entity::find()
            .filter(observation::Column::IndicatorId.eq(hea03.id))
            .filter(observation::Column::RegionId.eq(city.id))
            .filter(observation::Column::Year.eq(2025))
            .filter(observation::Column::Sex.eq("_T"))
            .filter(observation::Column::Residence.eq("_T"))
            .one(&app.db)
            .await
            .expect("q")
            .expect("approved value");
        let mut old: observation::ActiveModel = current.clone().into();
        old.is_latest = Set(false);
        observation::Entity::update(old)
            .exec(&app.db)
            .await
            .expect("update");
        observation::Entity::insert(observation::ActiveModel {
            indicator_id: Set(hea03.id),
            region_id: Set(city.id),
            year: Set(2025),
            sex: Set("_T".into()),
            age_group: Set("_T".into()),
            residence: Set("_T".into()),
            value: Set(9.99),
            status: Set(childhub::vocabulary::Status::Pending),
            revision: Set(2),
            is_latest: Set(true),
            is_published: Set(false),
            created_by: Set("health-tester".into()),
            created_at: Set(chrono::Utc::now()),
            ..Default::default()
        })
        .exec(&app.db)
        .await
        .expect("insert pending");

        let q = r#"query($v: ObservationVersion) { observations(filter: { indicators: ["HEA-03"], regions: ["DEMO"], years: { from: 2025, to: 2025 }, sex: "_T", residence: "_T", version: $v }) {
        totalCount edges { node { value status revision } } }
      indicator(code: "HEA-03") { latest(region: "DEMO") { value status } } }"#;
        for caller in CALLERS {
            let token = app.token(caller.dept, caller.roles);
            let privileged = matches!(caller.dept, "health" | "statistics" | "wcwc");
            let published = app.data(&token, q, json!({ "v": "PUBLISHED" })).await;
            let node = &published["observations"]["edges"][0]["node"];
            assert_eq!(
                node["status"], "APPROVED",
                "{}: the default read is the approved value",
                caller.name
            );
            assert_eq!(node["value"].as_f64(), Some(current.value));
            assert_eq!(published["indicator"]["latest"]["status"], "APPROVED");
            let latest = app.data(&token, q, json!({ "v": "LATEST" })).await;
            let node = &latest["observations"]["edges"][0]["node"];
            assert_eq!(latest["observations"]["totalCount"], 1);
            if privileged {
                assert_eq!(
                    node["status"], "PENDING",
                    "{} reads its pending correction",
                    caller.name
                );
                assert_eq!(node["value"], json!(9.99));
            } else {
                assert_eq!(
                    node["status"], "APPROVED",
                    "{} must not see the pending value",
                    caller.name
                );
                assert_eq!(node["value"].as_f64(), Some(current.value));
            }
        }
    }
);

on_both_backends!(
    suppression_is_the_same_whatever_the_query_asks,
    |app: TestApp| async move {
        let other = app.token("education", &["viewer"]);
        let q = r#"query($f: ObservationFilter) { observations(filter: $f, first: 1000) { totalCount edges { node { region { code } sex ageGroup value suppressed numerator } } } }"#;
        let key = |n: &Value| format!("{}/{}/{}", n["region"]["code"], n["sex"], n["ageGroup"]);
        let whole = app
            .data(
                &other,
                q,
                json!({ "f": { "indicators": ["LAW-01"], "years": { "from": 2025, "to": 2025 } } }),
            )
            .await;
        let whole: Vec<Value> = whole["observations"]["edges"]
            .as_array()
            .expect("edges")
            .iter()
            .map(|e| e["node"].clone())
            .collect();
        assert!(
            whole.iter().any(|n| n["suppressed"] == true),
            "the demo's LAW-01 table has small cells"
        );
        assert!(whole.iter().all(|n| n["numerator"].is_null()));
        for n in whole.iter().filter(|n| n["suppressed"] == true) {
            assert!(n["value"].is_null());
        }
        // Every hidden cell of a sum has a hidden partner, so no total minus visible parts gives it away:
        // within each region, the sex cells (total, boys, girls) and the age cells hide 0 or at least 2.
        let regions: std::collections::BTreeSet<String> = whole
            .iter()
            .map(|n| n["region"]["code"].to_string())
            .collect();
        for region in &regions {
            for (dimension, other) in [("sex", "ageGroup"), ("ageGroup", "sex")] {
                let hidden = whole
                    .iter()
                    .filter(|n| &n["region"]["code"].to_string() == region && n[other] == "_T")
                    .filter(|n| n["suppressed"] == true)
                    .count();
                assert_ne!(
                    hidden, 1,
                    "{region}: a lone hidden {dimension} cell could be recovered"
                );
            }
        }
        // Narrower queries show exactly the same pattern.
        for narrower in [
            json!({ "indicators": ["LAW-01"], "years": { "from": 2025, "to": 2025 }, "sex": "M" }),
            json!({ "indicators": ["LAW-01"], "years": { "from": 2025, "to": 2025 }, "regionLevel": "TOWNSHIP" }),
            json!({ "indicators": ["LAW-01"], "years": { "from": 2025, "to": 2025 }, "regions": ["DEMO", "DEMO-T01", "DEMO-T02"] }),
        ] {
            let part = app.data(&other, q, json!({ "f": narrower })).await;
            for edge in part["observations"]["edges"].as_array().expect("edges") {
                let n = &edge["node"];
                let same = whole
                    .iter()
                    .find(|w| key(w) == key(n))
                    .expect("cell in the whole table");
                assert_eq!(
                    n["suppressed"],
                    same["suppressed"],
                    "{narrower}: {}",
                    key(n)
                );
            }
        }
    }
);

on_both_backends!(
    rates_made_of_small_counts_are_suppressed_too,
    |app: TestApp| async move {
        // Public security reports the share of minors among offenders with its counts; girls: 3 of 60.
        let owner = app.token("public_security", &["submitter", "viewer"]);
        let rows = json!([
            { "indicator": "LAW-02", "region": "DEMO", "year": 2026, "value": 4.0, "numerator": 48, "denominator": 1200 },
            { "indicator": "LAW-02", "region": "DEMO", "year": 2026, "sex": "M", "value": 4.5, "numerator": 45, "denominator": 1000 },
            { "indicator": "LAW-02", "region": "DEMO", "year": 2026, "sex": "F", "value": 1.5, "numerator": 3, "denominator": 200 }
        ]);
        let d = app
            .data(&owner, crate::submissions::SUBMIT, json!({ "rows": rows }))
            .await;
        let id = d["submitObservations"]["submission"]["id"]
            .as_str()
            .expect("id")
            .to_owned();
        app.data(
            &app.token("wcwc", &["approver"]),
            "mutation($id: ID!) { approveSubmission(id: $id) { status } }",
            json!({ "id": id }),
        )
        .await;
        let q = r#"{ observations(filter: { indicators: ["LAW-02"], years: { from: 2026, to: 2026 } }) { edges { node { sex value numerator denominator suppressed } } } }"#;
        let cells = |d: &Value| -> Vec<(String, Value, bool)> {
            let mut out: Vec<(String, Value, bool)> = d["observations"]["edges"]
                .as_array()
                .expect("edges")
                .iter()
                .map(|e| {
                    (
                        e["node"]["sex"].as_str().unwrap_or("").to_owned(),
                        e["node"]["value"].clone(),
                        e["node"]["suppressed"] == true,
                    )
                })
                .collect();
            out.sort_by(|a, b| a.0.cmp(&b.0));
            out
        };
        let full = app.data(&owner, q, json!({})).await;
        assert!(
            cells(&full).iter().all(|(_, v, s)| v.is_number() && !s),
            "the owner sees every rate"
        );
        assert_eq!(full["observations"]["edges"][0]["node"]["numerator"], 48.0);
        let health = app
            .data(&app.token("health", &["viewer"]), q, json!({}))
            .await;
        let seen = cells(&health);
        let girls = seen.iter().find(|(sex, _, _)| sex == "F").expect("F");
        assert!(
            girls.2 && girls.1.is_null(),
            "a rate over 3 offenders is hidden: {seen:?}"
        );
        assert_eq!(
            seen.iter().filter(|(_, _, s)| *s).count(),
            2,
            "and one more, so that 48 − 45 does not give it away: {seen:?}"
        );
        assert!(
            health["observations"]["edges"]
                .as_array()
                .expect("edges")
                .iter()
                .all(|e| e["node"]["numerator"].is_null() && e["node"]["denominator"].is_null())
        );
    }
);
