//! The hub as an SDMX 2.1 source: read by a real client no one here wrote (`sdmx1` from PyPI, through
//! `tests/fixtures/sdmx_client.py`: dataflows, the data structure and its code lists, data for a key and
//! period into pandas, SDMX-CSV), and the REST paths' keys, periods, formats and refusals — all under the
//! caller's policy, a suppressed cell being `OBS_STATUS` `C` without a value.

use crate::on_both_backends;
use crate::support::TestApp;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The values GraphQL gives `token` for one indicator, area and period: (sex, age, residence, year) →
/// value (none where suppressed).
async fn graphql_values(
    app: &TestApp,
    token: &str,
    indicator: &str,
    area: &str,
    (from, to): (i32, i32),
) -> BTreeMap<(String, String, String, String), Option<f64>> {
    let data = app
        .data(
            token,
            r#"query($f: ObservationFilter) { observations(filter: $f, first: 1000) {
                nodes { year sex ageGroup residence value suppressed } } }"#,
            json!({ "f": { "indicators": [indicator], "regions": [area], "years": { "from": from, "to": to } } }),
        )
        .await;
    data["observations"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| {
            (
                (
                    n["sex"].as_str().unwrap_or_default().to_owned(),
                    n["ageGroup"].as_str().unwrap_or_default().to_owned(),
                    n["residence"].as_str().unwrap_or_default().to_owned(),
                    n["year"].to_string(),
                ),
                n["value"].as_f64(),
            )
        })
        .collect()
}

on_both_backends!(
    a_statistical_tool_reads_the_hub_as_an_sdmx_source,
    |app: TestApp| async move {
        // Health reads the police's restricted cases with small cells suppressed.
        let health = app.token("health", &["viewer"]);
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sdmx_client.py");
        let output = tokio::process::Command::new("python3")
            .args([
                script,
                &app.url("/sdmx/rest"),
                &health,
                "SAF-04",
                "DEMO-T01",
                "2021",
                "2024",
            ])
            .output()
            .await
            .expect("python3 runs the sdmx1 client (pip install sdmx1, as .ci/run does)");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let read: Value = serde_json::from_slice(&output.stdout).expect("the client's JSON");

        let indicators = app
            .data(&health, "{ indicators { code } }", json!({}))
            .await;
        let mut codes: Vec<&str> = indicators["indicators"]
            .as_array()
            .expect("indicators")
            .iter()
            .filter_map(|i| i["code"].as_str())
            .collect();
        codes.sort_unstable();
        assert_eq!(
            read["flows"],
            json!(codes),
            "a dataflow per readable indicator"
        );
        assert_eq!(read["flow_name_zh"], "针对儿童暴力伤害案件数");
        assert_eq!(read["dsd"], "DSD_CHILDHUB");
        assert_eq!(
            read["dimensions"],
            json!(["REF_AREA", "SEX", "AGE", "URBANISATION", "TIME_PERIOD"])
        );
        assert_eq!(read["codelists"]["CL_SEX"], json!(["F", "M", "_T"]));
        assert_eq!(read["codelists"]["CL_OBS_STATUS"], json!(["A", "C"]));
        assert!(
            read["codelists"]["CL_REF_AREA"]
                .as_array()
                .is_some_and(|a| a.contains(&json!("DEMO-T01")) && a.contains(&json!("DEMO")))
        );
        assert_eq!(read["township_parent"], "DEMO", "the area hierarchy");

        // The data, through pandas, are what GraphQL gives the same caller, suppression included.
        let expected = graphql_values(&app, &health, "SAF-04", "DEMO-T01", (2021, 2024)).await;
        let rows = read["rows"].as_array().expect("rows");
        assert_eq!(rows.len(), expected.len(), "{rows:?}");
        let mut confidential = 0;
        for row in rows {
            assert_eq!(row["REF_AREA"], "DEMO-T01");
            assert_eq!(row["UNIT_MEASURE"], "count");
            let key = (
                row["SEX"].as_str().unwrap_or_default().to_owned(),
                row["AGE"].as_str().unwrap_or_default().to_owned(),
                row["URBANISATION"].as_str().unwrap_or_default().to_owned(),
                row["TIME_PERIOD"].as_str().unwrap_or_default().to_owned(),
            );
            let value = expected
                .get(&key)
                .unwrap_or_else(|| panic!("{key:?} not in GraphQL"));
            assert_eq!(row["value"].as_f64(), *value, "{key:?}");
            match value {
                None => {
                    confidential += 1;
                    assert_eq!(row["OBS_STATUS"], "C", "{row}");
                }
                Some(_) => assert_eq!(row["OBS_STATUS"], "A", "{row}"),
            }
        }
        assert!(
            confidential > 0,
            "the township's small counts are confidential"
        );
        assert_eq!(
            read["csv_rows"],
            json!(expected.len()),
            "SDMX-CSV has the same observations"
        );
    }
);

/// GET `path` as `token` with `accept`; (status, content type, body).
async fn get(
    app: &TestApp,
    token: Option<&str>,
    path: &str,
    accept: &str,
) -> (u16, String, String) {
    let mut request = app.client.get(app.url(path)).header("accept", accept);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, content_type, response.text().await.expect("body"))
}

on_both_backends!(
    sdmx_rest_keys_periods_formats_and_refusals,
    |app: TestApp| async move {
        let health = app.token("health", &["viewer"]);
        let t = Some(health.as_str());
        // A dotted key with `+` and wildcards, and a period, in SDMX-CSV 1.0.
        let (status, content_type, csv) = get(
            &app,
            t,
            "/sdmx/rest/data/CHILDHUB,SAF-04,1.0/DEMO+DEMO-T01.F..?startPeriod=2022&endPeriod=2023",
            "application/vnd.sdmx.data+csv",
        )
        .await;
        assert_eq!(status, 200, "{csv}");
        assert!(
            content_type.starts_with("application/vnd.sdmx.data+csv"),
            "{content_type}"
        );
        let mut lines = csv.lines();
        assert_eq!(
            lines.next(),
            Some(
                "DATAFLOW,REF_AREA,SEX,AGE,URBANISATION,TIME_PERIOD,OBS_VALUE,OBS_STATUS,UNIT_MEASURE"
            )
        );
        let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
        assert!(!rows.is_empty());
        for r in &rows {
            assert_eq!(r[0], "CHILDHUB:SAF-04(1.0)");
            assert!(["DEMO", "DEMO-T01"].contains(&r[1]), "{r:?}");
            assert_eq!(r[2], "F");
            assert!(["2022", "2023"].contains(&r[5]), "{r:?}");
            // Confidential cells have no value.
            assert_eq!(r[6].is_empty(), r[7] == "C", "{r:?}");
        }
        let expected = graphql_values(&app, &health, "SAF-04", "DEMO-T01", (2022, 2023)).await;
        let girls = expected.keys().filter(|(sex, ..)| sex == "F").count();
        assert_eq!(
            rows.iter().filter(|r| r[1] == "DEMO-T01").count(),
            girls,
            "the township's girls' values"
        );

        // SDMX-ML structure-specific data is the default; SDMX-JSON by Accept.
        let (status, content_type, xml) = get(
            &app,
            t,
            "/sdmx/rest/data/HEA-03/DEMO...?startPeriod=2024",
            "*/*",
        )
        .await;
        assert_eq!(status, 200, "{xml}");
        assert!(content_type.starts_with("application/vnd.sdmx.structurespecificdata+xml"));
        assert!(xml.contains(r#"<Series REF_AREA="DEMO" SEX="_T" AGE="_T" URBANISATION="_T" UNIT_MEASURE="per_mille">"#), "{xml}");
        let (status, _, json_text) = get(
            &app,
            t,
            "/sdmx/rest/data/HEA-03/DEMO...",
            "application/vnd.sdmx.data+json",
        )
        .await;
        assert_eq!(status, 200);
        let message: Value = serde_json::from_str(&json_text).expect("SDMX-JSON");
        assert!(
            message["data"]["dataSets"][0]["series"]
                .as_object()
                .is_some_and(|s| !s.is_empty())
        );

        // Structure queries.
        let (status, _, xml) = get(
            &app,
            t,
            "/sdmx/rest/codelist/CHILDHUB/CL_SEX/latest",
            "application/xml",
        )
        .await;
        assert_eq!(status, 200);
        assert!(
            xml.contains(r#"<str:Code id="M""#) && !xml.contains("CL_AGE"),
            "{xml}"
        );
        let (status, _, xml) = get(&app, t, "/sdmx/rest/conceptscheme", "*/*").await;
        assert_eq!(status, 200);
        assert!(xml.contains(r#"<str:Concept id="OBS_STATUS""#));
        let (status, _, xml) = get(
            &app,
            t,
            "/sdmx/rest/datastructure/CHILDHUB/DSD_CHILDHUB?references=none",
            "*/*",
        )
        .await;
        assert_eq!(status, 200);
        assert!(
            xml.contains("<str:DataStructure ") && !xml.contains("<str:Codelist "),
            "{xml}"
        );

        // Refusals name what was wrong.
        for (path, accept, status, needle) in [
            ("/sdmx/rest/data/HEA-03/DEMO.F", "*/*", 400, "key"),
            (
                "/sdmx/rest/data/HEA-03/all?startPeriod=2024&endPeriod=2020",
                "*/*",
                400,
                "startPeriod",
            ),
            (
                "/sdmx/rest/data/HEA-03/all?startPeriod=last",
                "*/*",
                400,
                "startPeriod",
            ),
            (
                "/sdmx/rest/data/HEA-03/all?updatedAfter=2024",
                "*/*",
                400,
                "query string",
            ),
            (
                "/sdmx/rest/data/HEA-03",
                "application/vnd.sdmx.genericdata+xml;version=2.1",
                400,
                "Accept",
            ),
            ("/sdmx/rest/data/NOPE-01", "*/*", 404, "NOPE-01"),
            ("/sdmx/rest/data/ESTAT,HEA-03,1.0", "*/*", 404, "CHILDHUB"),
            ("/sdmx/rest/dataflow/ESTAT", "*/*", 404, "CHILDHUB"),
            (
                "/sdmx/rest/codelist/CHILDHUB/CL_NOPE",
                "*/*",
                404,
                "CL_NOPE",
            ),
            (
                "/sdmx/rest/dataflow/CHILDHUB/HEA-03/2.0",
                "*/*",
                404,
                "version",
            ),
            (
                "/sdmx/rest/dataflow?references=cousins",
                "*/*",
                400,
                "references",
            ),
        ] {
            let (got, _, body) = get(&app, t, path, accept).await;
            assert_eq!(got, status, "{path}: {body}");
            let error: Value = serde_json::from_str(&body).expect("a JSON error");
            let message = error["errors"][0]["message"].as_str().unwrap_or_default();
            assert!(message.contains(needle), "{path}: {message}");
            assert!(
                error["errors"][0]["extensions"]["code"].is_string(),
                "{body}"
            );
        }
        // Without a token (anonymous read is off), nothing.
        let (status, _, _) = get(&app, None, "/sdmx/rest/dataflow", "*/*").await;
        assert_eq!(status, 401);
    }
);
