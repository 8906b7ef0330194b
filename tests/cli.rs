//! The command line against a test database: importing and exporting observations.

use crate::on_both_backends;
use crate::support::TestApp;
use entity::{observation, submission};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use std::path::{Path, PathBuf};
use std::process::Output;

fn childhub(app: &TestApp, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_childhub"))
        .args(args)
        .env("CHILDHUB_DATABASE_URL", app.settings.database_url())
        .env("CHILDHUB_JWT_SECRET", crate::support::SECRET)
        .env("CHILDHUB_LOG", "warn")
        .output()
        .expect("run childhub")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("childhub-cli-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("dir");
    dir
}

fn write(path: &Path, body: &str) {
    std::fs::write(path, body).expect("write");
}

/// `childhub import observations FILE --as health`.
fn import_as_health(app: &TestApp, file: &Path) -> Output {
    import_as_health_with(app, file, &[])
}

/// `childhub import observations FILE --as health [extra…]`.
fn import_as_health_with(app: &TestApp, file: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "import",
        "observations",
        file.to_str().expect("path"),
        "--as",
        "health",
    ];
    args.extend_from_slice(extra);
    childhub(app, &args)
}

/// A CSV of value 1 for every public or internal health indicator but `except`, every township that
/// exists throughout the plan (DEMO-T15 merged away in 2023), in `years`; and its number of rows.
async fn health_rows(
    app: &TestApp,
    years: std::ops::RangeInclusive<i32>,
    except: &str,
) -> (String, usize) {
    let catalogue = app
        .data(
            &app.coordinator(),
            r#"{ indicators(filter: { department: "health" }) { code sensitivity } }"#,
            serde_json::json!({}),
        )
        .await;
    let codes: Vec<&str> = catalogue["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["sensitivity"] != "RESTRICTED" && i["code"] != except)
        .map(|i| i["code"].as_str().unwrap())
        .collect();
    let mut body = String::from("indicator,region,year,value\n");
    for year in years {
        for township in 1..=14 {
            for code in &codes {
                body.push_str(&format!("{code},DEMO-T{township:02},{year},1\n"));
            }
        }
    }
    let rows = body.lines().count() - 1;
    (body, rows)
}

async fn pending_2026(app: &TestApp) -> u64 {
    observation::Entity::find()
        .filter(observation::Column::Year.eq(2026))
        .filter(observation::Column::Status.eq("pending"))
        .count(&app.db)
        .await
        .expect("count")
}

on_both_backends!(
    a_csv_import_is_checked_and_all_or_nothing,
    |app: TestApp| async move {
        let dir = temp_dir();
        let file = dir.join("health-2026.csv");
        write(
            &file,
            "indicator,region,year,sex,age_group,residence,value,numerator,denominator\n\
        HEA-03,DEMO-T01,2026,_T,_T,_T,3.9,12,3100\n\
        HEA-03,DEMO-T02,2026,_T,_T,_T,abc,,\n\
        HEA-03,DEMO-T99,2026,_T,_T,_T,4.0,,\n\
        HEA-06,DEMO-T01,2026,,,,98.2,,\n",
        );
        let out = import_as_health(&app, &file);
        assert!(!out.status.success(), "{}", text(&out.stdout));
        assert!(
            text(&out.stdout).contains("2 rejected"),
            "{}",
            text(&out.stdout)
        );
        let rejects =
            std::fs::read_to_string(dir.join("health-2026.rejects.csv")).expect("rejects file");
        let lines: Vec<&str> = rejects.lines().collect();
        assert_eq!(lines.len(), 3, "{rejects}");
        assert!(
            lines[1].starts_with("3,") && lines[1].contains(r#"value ""abc"": expected a number"#),
            "{rejects}"
        );
        assert!(
            lines[2].starts_with("4,") && lines[2].contains("DEMO-T99"),
            "{rejects}"
        );
        assert_eq!(pending_2026(&app).await, 0, "nothing was written");

        write(
            &file,
            "indicator,region,year,value\nHEA-03,DEMO-T01,2026,3.9\nHEA-06,DEMO-T01,2026,98.2\n",
        );
        let out = import_as_health(&app, &file);
        assert!(
            out.status.success(),
            "{}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        assert!(
            text(&out.stdout).contains("2 rows: 2 written, 0 unchanged, 0 rejected"),
            "{}",
            text(&out.stdout)
        );
        assert_eq!(pending_2026(&app).await, 2);
        let again = import_as_health(&app, &file);
        assert!(
            text(&again.stdout).contains("0 written, 2 unchanged"),
            "{}",
            text(&again.stdout)
        );

        // Another department's indicator is refused outright.
        write(&file, "indicator,region,year,value\nEDU-01,DEMO,2026,95\n");
        let out = import_as_health(&app, &file);
        assert!(!out.status.success());
        assert!(
            text(&out.stderr).contains("does not own indicator EDU-01"),
            "{}",
            text(&out.stderr)
        );
        let _ = std::fs::remove_dir_all(dir);
    }
);

on_both_backends!(
    a_batched_import_resumes_where_it_stopped,
    |app: TestApp| async move {
        let dir = temp_dir();
        let file = dir.join("big.csv");
        let mut body = String::from("indicator,region,year,value\n");
        for t in 1..=5 {
            body.push_str(&format!(
                "HEA-03,DEMO-T{t:02},2026,{}\n",
                3.0 + f64::from(t) / 10.0
            ));
        }
        write(&file, &body);
        // An earlier run committed the first two rows, then stopped.
        write(&dir.join("big.progress"), "2");
        let out = import_as_health_with(&app, &file, &["--batch", "2"]);
        assert!(
            out.status.success(),
            "{}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        let stdout = text(&out.stdout);
        assert!(stdout.contains("resumed after 2 rows"), "{stdout}");
        assert!(stdout.contains("3 rows: 3 written"), "{stdout}");
        assert_eq!(pending_2026(&app).await, 3);
        assert_eq!(
            submission::Entity::find()
                .count(&app.db)
                .await
                .expect("count"),
            2,
            "two batches of at most two rows"
        );
        assert!(
            !dir.join("big.progress").exists(),
            "a finished import clears its checkpoint"
        );
        let _ = std::fs::remove_dir_all(dir);
    }
);

on_both_backends!(a_cli_export_obeys_the_policy, |app: TestApp| async move {
    let args = [
        "export",
        "observations",
        "--indicator",
        "LAW-01",
        "--from",
        "2025",
        "--to",
        "2025",
    ];
    let owner = childhub(&app, &[&args[..], &["--as", "public_security"]].concat());
    let other = childhub(
        &app,
        &[&args[..], &["--as", "health", "--format", "json"]].concat(),
    );
    assert!(
        owner.status.success() && other.status.success(),
        "{}",
        text(&other.stderr)
    );
    let owner_csv = text(&owner.stdout);
    assert!(
        owner_csv.starts_with("indicator,region,year"),
        "standard output has no BOM: {owner_csv}"
    );
    assert!(
        owner_csv
            .lines()
            .skip(1)
            .all(|l| l.split(',').nth(11) == Some("false"))
    );
    let rows: serde_json::Value = serde_json::from_slice(&other.stdout).expect("json");
    let rows = rows.as_array().expect("array");
    assert_eq!(rows.len(), owner_csv.lines().count() - 1);
    assert!(
        rows.iter()
            .any(|r| r["suppressed"] == true && r["value"].is_null())
    );
    assert!(rows.iter().all(|r| r["numerator"].is_null()));
});

on_both_backends!(
    files_other_than_the_bulk_csv_are_read_as_the_reporting_page_reads_them,
    |app: TestApp| async move {
        let dir = temp_dir();
        // What Excel saves on Chinese Windows: GBK, Chinese headers, township names for codes.
        let gbk = dir.join("卫健委.csv");
        let body =
            "指标,地区,年份,数值\n婴儿死亡率,示范镇01,2026年,3.9\nHEA-03,示范镇02,2026,4.0\n";
        std::fs::write(&gbk, encoding_rs::GB18030.encode(body).0).expect("write");
        let out = import_as_health(&app, &gbk);
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert!(out.status.success(), "{stdout}{stderr}");
        assert!(
            stderr.contains("csv GB18030, long layout, 2 values"),
            "{stderr}"
        );
        assert!(stdout.contains("2 rows: 2 written"), "{stdout}");
        let made = submission::Entity::find()
            .all(&app.db)
            .await
            .expect("submissions");
        assert_eq!(made.len(), 1);
        assert_eq!(
            made[0].origin.as_deref(),
            Some("file 卫健委.csv (csv GB18030, long layout), command line")
        );
        // A wide workbook of another program's making, one cell wrong: nothing written, the cell named
        // on standard error and in a rejects file Excel reads (a BOM).
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        sheet.set_name("Sheet1").expect("name");
        for (c, h) in ["乡镇", "年份", "HEA-03"].iter().enumerate() {
            sheet.write_string(0, c as u16, *h).expect("header");
        }
        sheet.write_string(1, 0, "示范镇03").expect("cell");
        sheet.write_number(1, 1, 2026).expect("cell");
        sheet.write_number(1, 2, 4.2).expect("cell");
        sheet.write_string(2, 0, "示范镇04").expect("cell");
        sheet.write_number(2, 1, 2026).expect("cell");
        sheet.write_string(2, 2, "四点二").expect("cell");
        let xlsx = dir.join("wide.xlsx");
        book.save(&xlsx).expect("save");
        let out = import_as_health(&app, &xlsx);
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert!(!out.status.success(), "{stdout}{stderr}");
        assert!(stderr.contains("Sheet1!C3"), "{stderr}");
        assert!(stderr.contains("nothing was written"), "{stderr}");
        let rejects = std::fs::read(dir.join("wide.rejects.csv")).expect("rejects file");
        assert!(rejects.starts_with(b"\xEF\xBB\xBF"), "a BOM for Excel");
        let rejects = String::from_utf8(rejects).expect("UTF-8");
        assert!(rejects.contains("Sheet1!C3,四点二,"), "{rejects}");
        assert_eq!(pending_2026(&app).await, 2, "only the first file's values");
        // Fixed in the workbook, imported again; batches are for the bulk CSV only.
        let out = import_as_health_with(&app, &xlsx, &["--batch", "10"]);
        assert!(!out.status.success());
        assert!(
            text(&out.stderr).contains("--batch"),
            "{}",
            text(&out.stderr)
        );
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        for (c, h) in ["乡镇", "年份", "HEA-03"].iter().enumerate() {
            sheet.write_string(0, c as u16, *h).expect("header");
        }
        for (r, township) in ["示范镇03", "示范镇04"].iter().enumerate() {
            sheet
                .write_string(1 + r as u32, 0, *township)
                .expect("cell");
            sheet.write_number(1 + r as u32, 1, 2026).expect("cell");
            sheet.write_number(1 + r as u32, 2, 4.2).expect("cell");
        }
        book.save(&xlsx).expect("save");
        let out = import_as_health(&app, &xlsx);
        assert!(
            out.status.success(),
            "{}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        assert_eq!(pending_2026(&app).await, 4);
        assert!(
            !dir.join("wide.rejects.csv").exists(),
            "a clean import leaves no rejects file"
        );
        let _ = std::fs::remove_dir_all(dir);
    }
);

on_both_backends!(
    exports_for_excel_carry_a_bom_names_and_open_as_workbooks,
    |app: TestApp| async move {
        let dir = temp_dir();
        let csv = dir.join("law.csv");
        let xlsx = dir.join("law.xlsx");
        for out in [&csv, &xlsx] {
            let done = childhub(
                &app,
                &[
                    "export",
                    "observations",
                    "--indicator",
                    "HEA-03",
                    "--from",
                    "2024",
                    "--to",
                    "2024",
                    "--as",
                    "health",
                    "--out",
                    out.to_str().expect("path"),
                ],
            );
            assert!(done.status.success(), "{}", text(&done.stderr));
        }
        let csv = std::fs::read(&csv).expect("csv");
        assert!(
            csv.starts_with(b"\xEF\xBB\xBFindicator,region,year,"),
            "a file for Excel has a BOM"
        );
        let csv = String::from_utf8(csv).expect("UTF-8");
        let header = csv.lines().next().unwrap_or("");
        assert!(
            header.ends_with(
                "indicator_name_zh,indicator_name_en,region_name_zh,region_name_en,unit"
            ),
            "{header}"
        );
        assert!(csv.contains(",婴儿死亡率,"), "names beside codes: {csv}");
        let book = childhub::spreadsheet::read(
            &std::fs::read(&xlsx).expect("xlsx"),
            "law.xlsx",
            childhub::spreadsheet::ReadLimits::default(),
        )
        .expect("a workbook");
        assert_eq!(book.format, childhub::spreadsheet::Format::Xlsx);
        let rows = &book.sheets[0].rows;
        assert_eq!(rows.len(), csv.lines().count(), "the same rows as the CSV");
        assert_eq!(rows[0].get(0).text(), "indicator");
        assert_eq!(rows[1].get(0).text(), "HEA-03");
        assert_eq!(rows[1].get(12).text(), "婴儿死亡率");
        // An exported workbook goes back in as it came out (the names and statuses are ignored).
        let again = import_as_health_with(&app, &xlsx, &["--confirm-warnings"]);
        assert!(
            again.status.success(),
            "{}{}",
            text(&again.stdout),
            text(&again.stderr)
        );
        assert!(
            text(&again.stdout).contains(" 0 written"),
            "{}",
            text(&again.stdout)
        );
        let _ = std::fs::remove_dir_all(dir);
    }
);

on_both_backends!(
    a_citys_regions_are_imported_all_or_nothing,
    |app: TestApp| async move {
        use entity::region;
        let dir = temp_dir();
        let file = dir.join("regions.csv");
        write(
            &file,
            "code,name_zh,name_en,level,residence,parent,valid_from,valid_to\n\
        YS,榆树市,Yushu City,city,_T,,,\n\
        YS-01,华昌街道,Huachang Street,township,U,YS,,\n\
        YS-02,某镇,Some Town,township,R,NOWHERE,,\n\
        YS-03,另一镇,Other Town,hamlet,R,YS,2019,2018\n",
        );
        let out = childhub(&app, &["import-regions", file.to_str().expect("path")]);
        assert!(!out.status.success());
        let stderr = text(&out.stderr);
        assert!(stderr.contains("row 3: parent \"NOWHERE\""), "{stderr}");
        assert!(stderr.contains("row 4: level \"hamlet\""), "{stderr}");
        assert!(stderr.contains("row 4: valid_to \"2018\""), "{stderr}");
        let stored = region::Entity::find()
            .filter(region::Column::Code.eq("YS"))
            .count(&app.db)
            .await
            .expect("count");
        assert_eq!(stored, 0, "nothing was written");

        write(
            &file,
            "code,name_zh,name_en,level,residence,parent,valid_from,valid_to\n\
        YS,榆树市,Yushu City,city,_T,,,\n\
        YS-01,华昌街道,Huachang Street,township,U,YS,,\n\
        YS-02,某镇,Some Town,township,R,YS,,2023\n",
        );
        let out = childhub(&app, &["import-regions", file.to_str().expect("path")]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(text(&out.stdout).contains("3 created, 0 updated"));
        let again = childhub(&app, &["import-regions", file.to_str().expect("path")]);
        assert!(text(&again.stdout).contains("0 created, 3 updated"));
        let merged = region::Entity::find()
            .filter(region::Column::Code.eq("YS-02"))
            .one(&app.db)
            .await
            .expect("q")
            .expect("YS-02");
        assert_eq!(merged.valid_to, Some(2023));
        let _ = std::fs::remove_dir_all(dir);
    }
);

#[test]
fn every_command_argument_and_option_has_help_text() {
    use clap::CommandFactory;
    fn walk(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
        for arg in command.get_arguments() {
            let id = arg.get_id().as_str();
            if matches!(id, "help" | "version") {
                continue;
            }
            if arg
                .get_help()
                .is_none_or(|h| h.to_string().trim().len() < 4)
            {
                missing.push(format!("{path} {id}"));
            }
        }
        for sub in command.get_subcommands() {
            let sub_path = format!("{path} {}", sub.get_name());
            if sub.get_about().is_none() && sub.get_name() != "help" {
                missing.push(format!("{sub_path} (the command itself)"));
            }
            walk(sub, &sub_path, missing);
        }
    }
    let mut missing = Vec::new();
    walk(&childhub::cli::Cli::command(), "childhub", &mut missing);
    assert!(missing.is_empty(), "no help text for: {missing:#?}");
}

on_both_backends!(
    a_gbk_file_is_read_and_names_in_the_bulk_csv_get_their_codes_suggested,
    |app: TestApp| async move {
        let dir = temp_dir();
        // What Excel saves on Chinese Windows: GBK, with a township's name where its code goes. It is
        // not the bulk CSV, so it is read as the Reporting page reads it: decoded, the name mapped.
        let text_gbk = "indicator,region,year,value\r\nHEA-03,示范镇01,2026,3.9\r\n";
        let (bytes, _, _) = encoding_rs::GBK.encode(text_gbk);
        let gbk = dir.join("gbk.csv");
        std::fs::write(&gbk, &bytes).unwrap();
        let out = import_as_health(&app, &gbk);
        let err = text(&out.stderr);
        assert!(out.status.success(), "{err}");
        assert!(
            err.contains("GB18030") && err.contains("1 names read as codes"),
            "{err}"
        );
        assert_eq!(pending_2026(&app).await, 1);
        // The bulk CSV (UTF-8, the export's header) is streamed with codes only; a name there is a
        // rejected row whose reason names the code.
        let utf8 = dir.join("names.csv");
        write(
            &utf8,
            "indicator,region,year,value\nHEA-03,示范镇02,2026,3.9\n",
        );
        let out = import_as_health(&app, &utf8);
        assert!(!out.status.success());
        let rejects = std::fs::read_to_string(dir.join("names.rejects.csv")).expect("rejects");
        assert!(rejects.contains("is the name of DEMO-T02"), "{rejects}");
        assert_eq!(pending_2026(&app).await, 1);
    }
);

on_both_backends!(
    an_export_into_a_closed_pipe_ends_quietly,
    |app: TestApp| async move {
        use std::io::Read as _;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_childhub"))
            .args(["export", "observations"])
            .env("CHILDHUB_DATABASE_URL", app.settings.database_url())
            .env("CHILDHUB_LOG__FILTER", "warn")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run childhub");
        // Read the first bytes, then go away, as `| head -1` does.
        let mut first = [0u8; 64];
        child
            .stdout
            .take()
            .unwrap()
            .read_exact(&mut first)
            .expect("some output");
        let out = child.wait_with_output().expect("wait");
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(
            !text(&out.stderr).contains("error"),
            "{}",
            text(&out.stderr)
        );
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_during_an_import_says_what_was_kept_and_leaves_no_empty_rejects_file() {
    let app = crate::support::spawn_app(crate::support::Backend::Sqlite).await;
    let dir = temp_dir();
    let file = dir.join("big.csv");
    // Many valid rows, few per transaction (`--batch 3`), so that Ctrl-C lands mid-way.
    let (body, total) = health_rows(&app, 2021..=2030, "").await;
    write(&file, &body);
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_childhub"))
        .args([
            "import",
            "observations",
            file.to_str().unwrap(),
            "--as",
            "health",
            "--batch",
            "3",
        ])
        .env("CHILDHUB_DATABASE_URL", app.settings.database_url())
        .env("CHILDHUB_LOG__FILTER", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run childhub");
    let progress = dir.join("big.progress");
    let started = std::time::Instant::now();
    while !progress.exists() && started.elapsed() < std::time::Duration::from_secs(60) {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(progress.exists(), "a first batch was committed");
    let signalled = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(signalled.success());
    let out = child.wait_with_output().expect("wait");
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(err.contains("interrupted"), "{err}");
    let kept: usize = std::fs::read_to_string(&progress)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(kept > 0 && kept < total, "{kept} of {total}");
    assert!(
        err.contains(&format!("exactly the first {kept} rows are committed")),
        "{err}"
    );
    assert!(
        !dir.join("big.rejects.csv").exists(),
        "no empty rejects file"
    );
    let pending = observation::Entity::find()
        .filter(observation::Column::Status.eq("pending"))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(
        pending, kept as u64,
        "every committed row is pending, and only those"
    );
}

on_both_backends!(
    a_whole_file_import_completes_while_the_server_takes_submissions,
    |app: TestApp| async move {
        // One transaction for the whole file; the server meanwhile takes HEA-03, which it leaves out.
        let (body, rows) = health_rows(&app, 2026..=2030, "HEA-03").await;
        let dir = temp_dir();
        let file = dir.join("whole.csv");
        write(&file, &body);
        let url = app.settings.database_url().to_owned();
        let path = file.clone();
        let import = tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_childhub"))
                .args([
                    "import",
                    "observations",
                    path.to_str().unwrap(),
                    "--as",
                    "health",
                ])
                .env("CHILDHUB_DATABASE_URL", url)
                .env("CHILDHUB_LOG__FILTER", "warn")
                .output()
                .expect("run childhub")
        });
        // Meanwhile the server takes submissions (HEA-03, which the file does not touch).
        let submitter = app.token("health", &["submitter"]);
        let mut accepted = 0;
        for (i, township) in (1..=14).cycle().take(30).enumerate() {
            let d = app
                .data(
                    &submitter,
                    crate::submissions::SUBMIT,
                    serde_json::json!({ "rows": [{ "indicator": "HEA-03", "region": format!("DEMO-T{township:02}"), "year": 2026, "value": 3.0 + i as f64 / 100.0 }] }),
                )
                .await;
            assert!(
                d["submitObservations"]["rowErrors"]
                    .as_array()
                    .is_some_and(Vec::is_empty),
                "{d}"
            );
            accepted += 1;
        }
        let out = import.await.unwrap();
        assert!(
            out.status.success(),
            "{}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        assert!(
            text(&out.stdout).contains(&format!("{rows} rows: {rows} written")),
            "{}",
            text(&out.stdout)
        );
        assert_eq!(accepted, 30);
    }
);

/// Runs `childhub import observations FILE --as health [extra…]` in a thread; the output when done.
fn spawn_import(
    app: &TestApp,
    file: &Path,
    extra: &[&str],
) -> tokio::task::JoinHandle<std::process::Output> {
    let url = app.settings.database_url().to_owned();
    let mut args: Vec<String> = [
        "import",
        "observations",
        file.to_str().expect("path"),
        "--as",
        "health",
    ]
    .map(str::to_owned)
    .to_vec();
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_childhub"))
            .args(&args)
            .env("CHILDHUB_DATABASE_URL", url)
            .env("CHILDHUB_LOG__FILTER", "warn")
            .output()
            .expect("run childhub")
    })
}

on_both_backends!(
    two_imports_and_the_server_write_one_database_together,
    |app: TestApp| async move {
        // Issue 18: with the embedded file in rollback-journal mode, a batched import failed at once with
        // "database is locked" while a whole-file import and the server wrote, and the server answered
        // INTERNAL. Every writer now waits its turn: each round, all three complete.
        let dir = temp_dir();
        let submitter = app.token("health", &["submitter"]);
        let reader = app.coordinator();
        for round in 0..3 {
            let value = round + 1;
            let whole = dir.join(format!("whole-{round}.csv"));
            let batched = dir.join(format!("batched-{round}.csv"));
            let (body, whole_rows) = every_region_rows(&app, 2015..=2025, value).await;
            write(&whole, &body);
            let (body, batched_rows) = every_region_rows(&app, 2026..=2035, value).await;
            write(&batched, &body);
            let a = spawn_import(&app, &whole, &[]);
            let b = spawn_import(&app, &batched, &["--batch", "2000"]);
            let mut answers = Vec::new();
            for (i, township) in (1..=14).cycle().take(22).enumerate() {
                let (status, body) = app
                    .post(
                        Some(&submitter),
                        &serde_json::json!({ "query": crate::submissions::SUBMIT, "variables": { "rows": [{ "indicator": "HEA-03", "region": format!("DEMO-T{township:02}"), "year": 2026 + round, "value": 3.0 + i as f64 / 100.0 }] } }),
                    )
                    .await;
                answers.push((status, body));
                let (status, body) = app
                    .post(
                        Some(&reader),
                        &serde_json::json!({ "query": "{ observations(filter: { indicators: [\"HEA-06\"] }, first: 5) { totalCount } }" }),
                    )
                    .await;
                answers.push((status, body));
            }
            for (status, body) in &answers {
                assert_eq!(*status, 200, "round {round}: {body}");
                assert!(body.get("errors").is_none(), "round {round}: {body}");
            }
            for (import, rows) in [(a, whole_rows), (b, batched_rows)] {
                let out = import.await.unwrap();
                assert!(
                    out.status.success(),
                    "round {round}: {}{}",
                    text(&out.stdout),
                    text(&out.stderr)
                );
                assert!(
                    text(&out.stdout).contains(&format!("{rows} rows: {rows} written")),
                    "round {round}: {}",
                    text(&out.stdout)
                );
            }
        }
        // Every acknowledged row is stored once: one revision per round and key, the newest one latest.
        use sea_orm::{ConnectionTrait, Statement};
        let backend = app.db.get_database_backend();
        let dupes = app
            .db
            .query_one_raw(Statement::from_string(
                backend,
                "SELECT COUNT(*) AS n FROM (SELECT indicator_id, region_id, year, sex, age_group, residence, revision \
                 FROM observation GROUP BY indicator_id, region_id, year, sex, age_group, residence, revision \
                 HAVING COUNT(*) > 1) d",
            ))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(dupes.try_get::<i64>("", "n").unwrap(), 0);
        let latest_twice = app
            .db
            .query_one_raw(Statement::from_string(
                backend,
                "SELECT COUNT(*) AS n FROM (SELECT indicator_id FROM observation WHERE is_latest \
                 GROUP BY indicator_id, region_id, year, sex, age_group, residence HAVING COUNT(*) > 1) d",
            ))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(latest_twice.try_get::<i64>("", "n").unwrap(), 0);
        let newest = observation::Entity::find()
            .filter(observation::Column::Year.gte(2026))
            .filter(observation::Column::IsLatest.eq(true))
            .filter(observation::Column::IndicatorId.ne(health_indicator_id(&app, "HEA-03").await))
            .all(&app.db)
            .await
            .unwrap();
        assert!(!newest.is_empty());
        assert!(
            newest.iter().all(|o| o.value == 3.0),
            "the third round's values are the latest"
        );
        if app.backend == crate::support::Backend::Sqlite {
            let check = app
                .db
                .query_one_raw(Statement::from_string(backend, "PRAGMA integrity_check"))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(check.try_get_by_index::<String>(0).unwrap(), "ok");
            let mode = app
                .db
                .query_one_raw(Statement::from_string(backend, "PRAGMA journal_mode"))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(mode.try_get_by_index::<String>(0).unwrap(), "wal");
        }
        let _ = std::fs::remove_dir_all(dir);
    }
);

/// A CSV of `value` for every public or internal health indicator but HEA-03 in every region that
/// exists throughout the plan (the city, streets, townships, villages), in `years`; and its number of rows.
async fn every_region_rows(
    app: &TestApp,
    years: std::ops::RangeInclusive<i32>,
    value: i32,
) -> (String, usize) {
    let data = app
        .data(
            &app.coordinator(),
            r#"{ indicators(filter: { department: "health" }) { code sensitivity }
                 regions { code validTo } }"#,
            serde_json::json!({}),
        )
        .await;
    let codes: Vec<&str> = data["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["sensitivity"] != "RESTRICTED" && i["code"] != "HEA-03")
        .map(|i| i["code"].as_str().unwrap())
        .collect();
    let regions: Vec<&str> = data["regions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["validTo"].is_null())
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    let mut body = String::from("indicator,region,year,value\n");
    for year in years {
        for region in &regions {
            for code in &codes {
                body.push_str(&format!("{code},{region},{year},{value}\n"));
            }
        }
    }
    let rows = body.lines().count() - 1;
    (body, rows)
}

async fn health_indicator_id(app: &TestApp, code: &str) -> i32 {
    entity::indicator::Entity::find()
        .filter(entity::indicator::Column::Code.eq(code))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .id
}
