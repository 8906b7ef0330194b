//! The plan's catalogue: all 41 targets of `targets.csv`, with their exact values, through the API.

use crate::on_both_backends;
use crate::support::TestApp;
use serde_json::{Value, json};

fn csv_rows() -> Vec<csv::StringRecord> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/catalogue/targets.csv");
    let mut reader = csv::Reader::from_path(path).expect("targets.csv");
    reader.records().map(|r| r.expect("row")).collect()
}

fn enum_code(text: &str) -> String {
    text.to_uppercase()
}

on_both_backends!(
    every_row_of_the_plan_is_an_indicator_with_its_target,
    |app: TestApp| async move {
        let data = app
            .data(
                &app.coordinator(),
                "{ indicators { code nameZh nameEn unit sensitivity planClause
                 domain { code } ownerDepartment { code }
                 targets { kind value baselineYear targetYear scope } } }",
                json!({}),
            )
            .await;
        let indicators = data["indicators"].as_array().expect("list");
        let rows = csv_rows();
        assert_eq!(rows.len(), 41, "the plan lists 41 targets");
        assert_eq!(indicators.len(), 41);
        for row in &rows {
            let code = &row[0];
            let found: &Value = indicators
                .iter()
                .find(|i| i["code"] == code)
                .unwrap_or_else(|| panic!("{code} missing"));
            assert_eq!(found["domain"]["code"], row[1], "{code} domain");
            assert_eq!(found["nameZh"], row[2], "{code} nameZh");
            assert_eq!(found["nameEn"], row[3], "{code} nameEn");
            assert_eq!(found["unit"], enum_code(&row[4]), "{code} unit");
            assert_eq!(found["ownerDepartment"]["code"], row[10], "{code} owner");
            assert_eq!(
                found["sensitivity"],
                enum_code(&row[11]),
                "{code} sensitivity"
            );
            assert_eq!(found["planClause"], row[12], "{code} clause");
            let target = &found["targets"][0];
            assert_eq!(target["kind"], enum_code(&row[5]), "{code} kind");
            let value = if row[6].is_empty() {
                Value::Null
            } else {
                json!(row[6].parse::<f64>().expect("number"))
            };
            assert_eq!(target["value"], value, "{code} target value");
            assert_eq!(
                target["baselineYear"],
                json!(row[7].parse::<i64>().expect("year"))
            );
            assert_eq!(
                target["targetYear"],
                json!(row[8].parse::<i64>().expect("year"))
            );
            assert_eq!(target["scope"], enum_code(&row[9]), "{code} scope");
        }
        // Two values a reader of the plan would check first.
        let hea03 = indicators
            .iter()
            .find(|i| i["code"] == "HEA-03")
            .expect("HEA-03");
        assert_eq!(hea03["targets"][0]["value"], json!(4.0));
        assert_eq!(hea03["nameZh"], "婴儿死亡率");
        let edu02 = indicators
            .iter()
            .find(|i| i["code"] == "EDU-02")
            .expect("EDU-02");
        assert_eq!(edu02["targets"][0]["value"], json!(99.41));
    }
);

on_both_backends!(
    loading_the_catalogue_twice_adds_nothing,
    |app: TestApp| async move {
        let again = childhub::seed::load_catalogue(&app.db)
            .await
            .expect("reload");
        assert_eq!(again, childhub::seed::CatalogueLoad::default());
        let data = app
            .data(
                &app.coordinator(),
                "{ indicators { code } departments { code kind } }",
                json!({}),
            )
            .await;
        assert_eq!(data["indicators"].as_array().map(Vec::len), Some(41));
        let coordinators: Vec<&str> = data["departments"]
            .as_array()
            .expect("list")
            .iter()
            .filter(|d| d["kind"] == "COORDINATOR")
            .filter_map(|d| d["code"].as_str())
            .collect();
        assert_eq!(coordinators, vec!["statistics", "wcwc"]);
    }
);

on_both_backends!(
    domains_come_in_plan_order_with_their_indicators,
    |app: TestApp| async move {
        let data = app
            .data(
                &app.coordinator(),
                "{ domains { code nameZh indicators { code } } }",
                json!({}),
            )
            .await;
        let codes: Vec<&str> = data["domains"]
            .as_array()
            .expect("list")
            .iter()
            .filter_map(|d| d["code"].as_str())
            .collect();
        assert_eq!(
            codes,
            [
                "health",
                "safety",
                "education",
                "welfare",
                "family",
                "environment",
                "legal"
            ]
        );
        assert_eq!(data["domains"][0]["nameZh"], "儿童与健康");
        assert_eq!(
            data["domains"][0]["indicators"].as_array().map(Vec::len),
            Some(21)
        );
    }
);
