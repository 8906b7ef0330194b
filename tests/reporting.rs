//! Departments report from the spreadsheets they already have: what is due, the template, and files of
//! every kind read into values — GBK CSV with Chinese headers and township names, the hub's own template
//! filled in (by openpyxl, as Excel would save it), a wide `.xlsx` of another program's making, and each
//! quirk people type — with problems named by cell, warnings confirmed before anything is written.

use crate::on_both_backends;
use crate::support::TestApp;
use serde_json::{Value, json};
use std::path::PathBuf;

const SUBMIT_FILE: &str = r#"mutation($file: Upload!, $year: Int, $dry: Boolean, $confirm: Boolean) {
  submitFile(file: $file, year: $year, dryRun: $dry, confirmWarnings: $confirm) {
    written unchanged needsConfirmation
    submission { id status }
    rowErrors { row cell sheet column field value message }
    warnings { row cell kind message }
    file { name format encoding layout sheets values skipped mapped { cell given code }
           rows { cell indicator region year sex ageGroup residence value } } } }"#;

/// Sends `bytes` as `name` to `submitFile` (the GraphQL multipart request spec); returns the answer's
/// `data.submitFile` (or the whole body when there are errors).
pub async fn submit_file(
    app: &TestApp,
    token: &str,
    name: &str,
    bytes: Vec<u8>,
    variables: Value,
) -> Value {
    let operations = json!({ "query": SUBMIT_FILE, "variables": variables.as_object().map(|o| {
        let mut o = o.clone();
        o.insert("file".into(), Value::Null);
        Value::Object(o)
    }).unwrap_or(json!({ "file": null })) });
    let form = reqwest::multipart::Form::new()
        .text("operations", operations.to_string())
        .text("map", json!({ "0": ["variables.file"] }).to_string())
        .part(
            "0",
            reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()),
        );
    let body: Value = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .expect("upload")
        .json()
        .await
        .expect("json");
    if body.get("errors").is_some() {
        return body;
    }
    body["data"]["submitFile"].clone()
}

/// Runs the fixture script (openpyxl); returns the file it wrote.
fn fixture(args: &[&str], out: &str) -> Vec<u8> {
    let dir =
        std::env::temp_dir().join(format!("childhub-sheets-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(out);
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/spreadsheets.py");
    let mut all: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
    all.insert(1, path.display().to_string());
    if args[0] == "fill" {
        // fill IN OUT …: IN is args[1] (a path), OUT the fixture's file.
        all.swap(1, 2);
    }
    let status = std::process::Command::new("python3")
        .arg(&script)
        .args(&all)
        .status()
        .expect("python3 runs the fixture script (pip install openpyxl, as .ci/run does)");
    assert!(status.success(), "the fixture script failed: {all:?}");
    let bytes = std::fs::read(&path).unwrap();
    let _ = std::fs::remove_dir_all(dir);
    bytes
}

fn gbk(text: &str) -> Vec<u8> {
    encoding_rs::GB18030.encode(text).0.into_owned()
}

on_both_backends!(
    a_gbk_csv_with_chinese_headers_and_township_names_is_read_and_submitted,
    |app: TestApp| async move {
        let clerk = app.token("health", &["submitter"]);
        // What Excel saves on Chinese Windows: GBK, Chinese headers, names where codes go, 97.3%, 2026年,
        // full-width digits, 合计 for a total, and the trailing ",,,," rows.
        let file = gbk("指标,地区,年份,性别,数值\n\
            适龄儿童免疫规划疫苗接种率,示范镇01,2026年,,97.3%\n\
            HEA-06,示范镇02,２０２６,合计,９８．１\n\
            婴儿死亡率,示范市（演示数据）,2026,男,4.1\n\
            ,,,,\n,,,,\n");
        let preview = submit_file(
            &app,
            &clerk,
            "卫健委-2026.csv",
            file.clone(),
            json!({ "dry": true }),
        )
        .await;
        assert_eq!(preview["rowErrors"], json!([]), "{preview}");
        let read = &preview["file"];
        assert_eq!(
            read["encoding"], "GB18030",
            "the preview says which encoding was read"
        );
        assert_eq!(read["format"], "csv");
        assert_eq!(read["layout"], "long");
        assert_eq!(read["values"], 3);
        let mapped: Vec<(String, String)> = read["mapped"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m["given"].as_str().unwrap().to_owned(),
                    m["code"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert!(
            mapped.contains(&("示范镇01".into(), "DEMO-T01".into())),
            "{mapped:?}"
        );
        assert!(
            mapped.contains(&("适龄儿童免疫规划疫苗接种率".into(), "HEA-06".into())),
            "{mapped:?}"
        );
        let rows = read["rows"].as_array().unwrap();
        assert_eq!(rows[0]["value"], 97.3);
        assert_eq!(rows[0]["cell"], "卫健委-2026!E2");
        assert_eq!(rows[1]["value"], 98.1);
        assert_eq!(rows[2]["sex"], "M");
        assert_eq!(
            preview["submission"],
            Value::Null,
            "a preview writes nothing"
        );
        let done = submit_file(
            &app,
            &clerk,
            "卫健委-2026.csv",
            file,
            json!({ "confirm": true }),
        )
        .await;
        assert_eq!(done["written"], 3, "{done}");
        assert_eq!(done["submission"]["status"], "PENDING");
        // The submission keeps where its values came from.
        use sea_orm::EntityTrait;
        let id: i64 = done["submission"]["id"].as_str().unwrap().parse().unwrap();
        let stored = entity::submission::Entity::find_by_id(id)
            .one(&app.db)
            .await
            .unwrap()
            .unwrap();
        assert!(
            stored
                .origin
                .as_deref()
                .unwrap()
                .contains("卫健委-2026.csv (csv GB18030, long layout)"),
            "{stored:?}"
        );
        let cells = stored.cells.unwrap();
        assert!(
            cells
                .as_object()
                .unwrap()
                .values()
                .any(|c| c == "卫健委-2026!E2"),
            "{cells}"
        );
    }
);

on_both_backends!(
    every_problem_names_its_cell_and_nothing_is_written,
    |app: TestApp| async move {
        let clerk = app.token("health", &["submitter"]);
        let file = "indicator,region,year,value\n\
            HEA-06,DEMO-T01,2026,abc\n\
            HEA-06,Nowhere Township,2026,97\n\
            HEA-06,DEMO-T03,twenty,97\n\
            HEA-03,DEMO,2026,4.2%\n";
        let answer = submit_file(
            &app,
            &clerk,
            "clerk.csv",
            file.as_bytes().to_vec(),
            json!({}),
        )
        .await;
        assert_eq!(answer["written"], 0, "{answer}");
        assert_eq!(answer["submission"], Value::Null);
        let errors = answer["rowErrors"].as_array().unwrap();
        let cells: Vec<&str> = errors.iter().map(|e| e["cell"].as_str().unwrap()).collect();
        assert_eq!(
            cells,
            ["clerk!D2", "clerk!B3", "clerk!C4", "clerk!D5"],
            "{errors:?}"
        );
        assert_eq!(errors[0]["value"], "abc");
        assert!(
            errors[0]["message"]
                .as_str()
                .unwrap()
                .contains("a number for HEA-06"),
            "{errors:?}"
        );
        assert!(
            errors[1]["message"]
                .as_str()
                .unwrap()
                .contains("region code"),
            "{errors:?}"
        );
        assert!(
            errors[3]["message"]
                .as_str()
                .unwrap()
                .contains("not a percentage"),
            "{errors:?}"
        );
        assert_eq!(errors[0]["row"], 2, "rows as the spreadsheet counts them");
        assert_eq!(errors[0]["column"], 3);
        // The batch checks too name the cell: a value outside the unit's range.
        let answer = submit_file(
            &app,
            &clerk,
            "range.csv",
            b"indicator,region,year,value\nHEA-06,DEMO-T01,2026,130\n".to_vec(),
            json!({}),
        )
        .await;
        let errors = answer["rowErrors"].as_array().unwrap();
        assert_eq!(errors[0]["cell"], "range!D2", "{answer}");
        assert!(
            errors[0]["message"]
                .as_str()
                .unwrap()
                .contains("from 0 to 100"),
            "{answer}"
        );
    }
);

on_both_backends!(
    a_wide_xlsx_of_another_programs_making_is_read,
    |app: TestApp| async move {
        let clerk = app.token("civil_affairs", &["submitter"]);
        let file = fixture(&["wide"], "wide.xlsx");
        let preview = submit_file(
            &app,
            &clerk,
            "民政台账.xlsx",
            file.clone(),
            json!({ "dry": true }),
        )
        .await;
        assert_eq!(preview["rowErrors"], json!([]), "{preview}");
        let read = &preview["file"];
        assert_eq!(read["format"], "xlsx");
        assert_eq!(read["layout"], "wide");
        assert_eq!(read["values"], 4, "two indicators × two years: {read}");
        let rows = read["rows"].as_array().unwrap();
        let find = |indicator: &str, year: i64| {
            rows.iter()
                .find(|r| r["indicator"] == indicator && r["year"] == year)
                .unwrap()
                .clone()
        };
        assert_eq!(find("WEL-01", 2026)["value"], 1687.0, "1,687 typed as text");
        assert_eq!(find("WEL-05", 2026)["value"], 1.0, "是");
        assert_eq!(find("WEL-05", 2025)["value"], 0.0, "否");
        assert_eq!(find("WEL-01", 2026)["cell"], "民政数据!C3");
        assert_eq!(find("WEL-01", 2025)["region"], "DEMO", "an English name");
        let done = submit_file(
            &app,
            &clerk,
            "民政台账.xlsx",
            file,
            json!({ "confirm": true }),
        )
        .await;
        assert!(done["written"].as_i64().unwrap() >= 2, "{done}");
    }
);

on_both_backends!(
    formulas_without_values_and_endless_sheets_are_named,
    |app: TestApp| async move {
        let clerk = app.token("civil_affairs", &["submitter"]);
        let answer = submit_file(
            &app,
            &clerk,
            "formula.xlsx",
            fixture(&["formula"], "f.xlsx"),
            json!({}),
        )
        .await;
        let errors = answer["rowErrors"].as_array().unwrap();
        assert_eq!(errors[0]["cell"], "Sheet1!C2", "{answer}");
        assert!(
            errors[0]["message"]
                .as_str()
                .unwrap()
                .contains("formula =1600+87"),
            "{answer}"
        );
        let body = submit_file(
            &app,
            &clerk,
            "endless.xlsx",
            fixture(&["empty-rows"], "e.xlsx"),
            json!({}),
        )
        .await;
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{body}"
        );
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("past row"),
            "{body}"
        );
    }
);

on_both_backends!(
    warnings_are_confirmed_before_anything_is_written,
    |app: TestApp| async move {
        let clerk = app.token("health", &["submitter"]);
        // 0.973 where 97.3 % is meant; a township that drops from ~97 to 30.
        let file =
            b"indicator,region,year,value\nHEA-06,DEMO-T01,2026,0.973\nHEA-06,DEMO-T02,2026,30\n"
                .to_vec();
        let preview = submit_file(
            &app,
            &clerk,
            "shares.csv",
            file.clone(),
            json!({ "dry": true }),
        )
        .await;
        let kinds: Vec<&str> = preview["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["kind"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["share_for_percent", "jump"], "{preview}");
        assert_eq!(preview["warnings"][0]["cell"], "shares!D2");
        let unconfirmed = submit_file(&app, &clerk, "shares.csv", file.clone(), json!({})).await;
        assert_eq!(unconfirmed["needsConfirmation"], true, "{unconfirmed}");
        assert_eq!(
            unconfirmed["submission"],
            Value::Null,
            "nothing written without the confirmation"
        );
        let confirmed =
            submit_file(&app, &clerk, "shares.csv", file, json!({ "confirm": true })).await;
        assert_eq!(confirmed["written"], 2, "{confirmed}");
        use sea_orm::EntityTrait;
        let id: i64 = confirmed["submission"]["id"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let stored = entity::submission::Entity::find_by_id(id)
            .one(&app.db)
            .await
            .unwrap()
            .unwrap();
        let warnings = stored.warnings.unwrap();
        assert_eq!(warnings["confirmed_by"], "health-tester");
        assert_eq!(
            warnings["warnings"].as_array().unwrap().len(),
            2,
            "{warnings}"
        );
        // A city count that is not the sum of all its townships.
        let civil = app.token("civil_affairs", &["submitter"]);
        let mut body = String::from("indicator,region,year,value\nWEL-01,DEMO,2026,1000\n");
        for t in 1..=14 {
            body.push_str(&format!("WEL-01,DEMO-T{t:02},2026,10\n"));
        }
        for s in 1..=5 {
            body.push_str(&format!("WEL-01,DEMO-S{s:02},2026,10\n"));
        }
        let preview = submit_file(
            &app,
            &civil,
            "places.csv",
            body.into_bytes(),
            json!({ "dry": true }),
        )
        .await;
        assert!(
            preview["warnings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|w| w["kind"] == "township_sum" && w["cell"] == "places!D2"),
            "{preview}"
        );
    }
);

on_both_backends!(
    the_hubs_template_is_downloaded_filled_in_and_read_back,
    |app: TestApp| async move {
        let clerk = app.token("health", &["submitter"]);
        let response = app
            .client
            .get(app.url("/templates/health/2026.xlsx"))
            .bearer_auth(&clerk)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert!(
            response.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .contains("childhub-health-2026.xlsx")
        );
        let template = response.bytes().await.unwrap().to_vec();
        // Sent back empty, it is named for what it is.
        let empty = submit_file(
            &app,
            &clerk,
            "childhub-health-2026.xlsx",
            template.clone(),
            json!({ "dry": true }),
        )
        .await;
        let message = empty["rowErrors"][0]["message"]
            .as_str()
            .unwrap_or_default();
        assert!(message.contains("the template is not filled in"), "{empty}");
        // Another department's template is not health's to see.
        let other = app
            .client
            .get(app.url("/templates/education/2026.xlsx"))
            .bearer_auth(&clerk)
            .send()
            .await
            .unwrap();
        assert_eq!(other.status(), 403);
        let dir = std::env::temp_dir().join(format!(
            "childhub-template-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("template.xlsx");
        std::fs::write(&path, &template).unwrap();
        let filled = fixture(
            &[
                "fill",
                path.to_str().unwrap(),
                "HEA-06|_T|_T|_T@DEMO-T01=97.9",
                "HEA-06|_T|_T|_T@DEMO-T02=98.5%",
                "HEA-03|M|_T|_T@DEMO=4.4",
            ],
            "filled.xlsx",
        );
        let _ = std::fs::remove_dir_all(dir);
        let preview = submit_file(
            &app,
            &clerk,
            "childhub-health-2026.xlsx",
            filled,
            json!({ "dry": true }),
        )
        .await;
        assert_eq!(preview["rowErrors"], json!([]), "{preview}");
        assert_eq!(preview["file"]["layout"], "template");
        assert_eq!(preview["file"]["values"], 3, "{preview}");
        let rows = preview["file"]["rows"].as_array().unwrap();
        assert!(rows.iter().any(|r| r["indicator"] == "HEA-03"
            && r["sex"] == "M"
            && r["region"] == "DEMO"
            && r["year"] == 2026));
        assert!(rows.iter().any(|r| r["indicator"] == "HEA-06"
            && r["region"] == "DEMO-T02"
            && r["value"] == 98.5));
        // The CSV variant carries a BOM for Excel.
        let csv = app
            .client
            .get(app.url("/templates/health/2026.csv?missing=true"))
            .bearer_auth(&clerk)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert!(csv.starts_with(b"\xEF\xBB\xBF"), "UTF-8 BOM");
        assert!(
            String::from_utf8_lossy(&csv).contains("HEA-06,适龄儿童免疫规划疫苗接种率,DEMO-T01")
        );
    }
);

on_both_backends!(
    what_is_due_is_counted_per_township_and_breakdown,
    |app: TestApp| async move {
        let clerk = app.token("health", &["submitter"]);
        let sent = submit_file(
            &app,
            &clerk,
            "one.csv",
            b"indicator,region,year,value\nHEA-06,DEMO-T01,2026,97.5\n".to_vec(),
            json!({}),
        )
        .await;
        assert_eq!(sent["written"], 1, "{sent}");
        let q = r#"{ reportingCompleteness(year: 2026) { indicator { code } reported complete
            expected missing pending rejected approved deadline
            cells(status: [PENDING]) { region regionNameZh status value } } }"#;
        let all = app.data(&app.coordinator(), q, json!({})).await;
        let hea06 = all["reportingCompleteness"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["indicator"]["code"] == "HEA-06")
            .unwrap()
            .clone();
        // One township of a per-township target is reported, not complete.
        assert_eq!(hea06["reported"], true);
        assert_eq!(hea06["complete"], false);
        assert_eq!(hea06["pending"], 1);
        let expected = hea06["expected"].as_i64().unwrap();
        assert!(expected > 10, "the city and every township: {hea06}");
        assert_eq!(hea06["missing"].as_i64().unwrap(), expected - 1);
        assert_eq!(hea06["deadline"], "2027-03-31");
        assert_eq!(
            hea06["cells"],
            json!([{ "region": "DEMO-T01", "regionNameZh": "示范镇01", "status": "PENDING", "value": 97.5 }])
        );
        // An indicator with a sex breakdown expects it.
        let due = app
            .data(
                &clerk,
                r#"{ reportingDue(department: "health", year: 2026) { year deadline expected missing pending
                    templateUrl cells(status: [MISSING]) { indicator region sex residence lastYear } } }"#,
                json!({}),
            )
            .await;
        let due = &due["reportingDue"];
        assert_eq!(due["pending"], 1);
        assert_eq!(
            due["missing"].as_i64().unwrap() + 1,
            due["expected"].as_i64().unwrap()
        );
        assert_eq!(due["templateUrl"], "/templates/health/2026.xlsx");
        let cells = due["cells"].as_array().unwrap();
        assert!(
            cells
                .iter()
                .any(|c| c["indicator"] == "HEA-03" && c["region"] == "DEMO" && c["sex"] == "F"),
            "{due}"
        );
        assert!(
            cells.iter().any(|c| c["lastYear"].is_number()),
            "last year's approved values beside: {due}"
        );
        // Another department's list is not education's to see.
        let (_, refused) = app
            .post(
                Some(&app.token("education", &["submitter"])),
                &json!({ "query": r#"{ reportingDue(department: "health", year: 2026) { expected } }"# }),
            )
            .await;
        assert_eq!(
            refused["errors"][0]["extensions"]["code"], "FORBIDDEN",
            "{refused}"
        );
        // Approved, it counts as approved.
        let id = sent["submission"]["id"].clone();
        app.data(
            &app.token("statistics", &["approver"]),
            r#"mutation($id: ID!) { approveSubmission(id: $id) { status } }"#,
            json!({ "id": id }),
        )
        .await;
        let after = app
            .data(
                &clerk,
                r#"{ reportingDue(department: "health", year: 2026) { pending approved } }"#,
                json!({}),
            )
            .await;
        assert_eq!(
            after["reportingDue"],
            json!({ "pending": 0, "approved": 1 })
        );
        // The value's history says who sent it, in which submission and from which cell — to its
        // department; another department reading the published value learns none of that.
        let q = r#"{ observations(filter: { indicators: ["HEA-06"], regions: ["DEMO-T01"], years: { from: 2026, to: 2026 } }) {
            edges { node { value recordedBy cell submission { id origin } history { value recordedAt recordedBy cell } } } } }"#;
        let own = app.data(&clerk, q, json!({})).await;
        let node = &own["observations"]["edges"][0]["node"];
        assert_eq!(node["cell"], "one!D2", "{own}");
        assert_eq!(node["submission"]["id"], id, "{own}");
        assert_eq!(
            node["submission"]["origin"], "file one.csv (csv UTF-8, long layout)",
            "{own}"
        );
        assert!(node["recordedBy"].is_string(), "{own}");
        assert!(node["history"][0]["recordedAt"].is_string(), "{own}");
        let other = app
            .data(&app.token("education", &["viewer"]), q, json!({}))
            .await;
        let node = &other["observations"]["edges"][0]["node"];
        assert_eq!(
            node["value"], 97.5,
            "the published value itself is readable: {other}"
        );
        assert_eq!(
            (&node["recordedBy"], &node["cell"], &node["submission"]),
            (&Value::Null, &Value::Null, &Value::Null),
            "{other}"
        );
        assert_eq!(node["history"][0]["recordedBy"], Value::Null, "{other}");
    }
);

/// The Reporting page as a health-bureau clerk uses it (Chromium, real clicks): template, a problem at its
/// cell, the fix, the submission pending.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(browser_tests),
    ignore = "needs Chromium and tests/browser's packages (Debian's chromium, `npm ci --prefix tests/browser`, as .ci/run does)"
)]
async fn a_clerk_downloads_the_template_fixes_a_cell_and_submits_in_the_browser() {
    let app = crate::support::spawn_app(crate::support::Backend::Sqlite).await;
    let dir = std::env::temp_dir().join(format!("childhub-page-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/spreadsheets.py");
    let seen = crate::support::browser::run(
        "reporting",
        // CHILDHUB_SCREENSHOTS=folder keeps what the clerk saw, to look at.
        json!({ "hub": app.url(""), "dir": dir, "script": script,
                "shots": std::env::var("CHILDHUB_SCREENSHOTS").ok() }),
    )
    .await
    .result;
    let text = |k: &str| seen[k].as_str().unwrap_or_default().to_owned();
    // The workbook downloaded from the page (with the session) holds the two values just sent.
    let exported = std::fs::read(text("exported")).expect("the exported workbook");
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(text("exportedName"), "observations.xlsx");
    let book = childhub::spreadsheet::read(
        &exported,
        "observations.xlsx",
        childhub::spreadsheet::ReadLimits::default(),
    )
    .expect("a workbook");
    let sent: Vec<(String, String, String)> = book.sheets[0].rows[1..]
        .iter()
        .filter(|r| r.get(9).text() == "pending")
        .map(|r| (r.get(0).text(), r.get(1).text(), r.get(6).text()))
        .collect();
    assert_eq!(
        sent,
        [
            ("HEA-06", "DEMO-T01", "97.9"),
            ("HEA-06", "DEMO-T02", "98.5")
        ]
        .map(|(a, b, c)| (a.to_owned(), b.to_owned(), c.to_owned()))
    );
    assert!(text("deadline").contains("2027-03-31"), "{seen}");
    assert_eq!(text("suggested"), "childhub-health-2026-missing.xlsx");
    assert!(
        text("problems").contains("九十七"),
        "the value read is shown: {seen}"
    );
    let marked = text("marked");
    assert!(
        marked.starts_with("'填报 Report'!") && text("problems").contains(&marked),
        "the grid marks the cell the problem names: {seen}"
    );
    assert_eq!(
        seen["blocked"], true,
        "a file with a problem cannot be sent"
    );
    assert!(text("preview").contains("values read"), "{seen}");
    assert!(text("outcome").contains("已提交"), "{seen}");
    assert!(text("submissions").contains("待审核 pending"), "{seen}");
    assert!(
        text("submissions").contains("file good.xlsx"),
        "the file is named: {seen}"
    );
    // The page's counts follow: two values now pending.
    assert!(text("countsAfter").contains("2\n待审 Pending"), "{seen}");
    // And the hub stored exactly those two, pending.
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let stored = entity::observation::Entity::find()
        .filter(entity::observation::Column::Year.eq(2026))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(stored, 2);
}
