//! Progress, early warnings, reports and the dashboard on the demo data.

use crate::on_both_backends;
use crate::submissions::SUBMIT;
use crate::support::TestApp;
use serde_json::{Value, json};
use std::path::PathBuf;

const PROGRESS: &str = r#"query($f: ProgressFilter) { progress(filter: $f) {
  indicator { code } status latest { year value } baseline { year value } targetValue projection gap
  belowFloor { code } townships { region { code } belowFloor status } } }"#;

fn by_code<'a>(rows: &'a Value, code: &str) -> &'a Value {
    rows.as_array()
        .expect("list")
        .iter()
        .find(|r| r["indicator"]["code"] == code)
        .unwrap_or_else(|| panic!("{code} missing"))
}

on_both_backends!(
    every_target_has_a_status_on_the_demo,
    |app: TestApp| async move {
        let d = app.data(&app.coordinator(), PROGRESS, json!({})).await;
        let rows = &d["progress"];
        assert_eq!(
            rows.as_array().map(Vec::len),
            Some(41),
            "one row per target"
        );
        assert!(
            rows.as_array()
                .expect("list")
                .iter()
                .all(|r| r["status"] != "NO_DATA"),
            "{rows}"
        );
        // What a coordinator reading the demo would notice first.
        assert_eq!(by_code(rows, "HEA-08")["status"], "ACHIEVED");
        assert_eq!(
            by_code(rows, "HEA-09")["status"],
            "DETERIORATING",
            "obesity keeps rising"
        );
        assert_eq!(
            by_code(rows, "WEL-05")["status"],
            "ACHIEVED",
            "the hotline opened in 2023"
        );
        let infant = by_code(rows, "HEA-03");
        assert_eq!(infant["baseline"]["year"], 2020);
        assert_eq!(infant["latest"]["year"], 2025);
        assert_eq!(infant["targetValue"], 4.0);
        assert!(
            infant["projection"].as_f64().is_some_and(|p| p > 4.0),
            "infant mortality will miss 4‰ at this pace"
        );
        assert!(matches!(
            infant["status"].as_str(),
            Some("NEEDS_ACCELERATION" | "LIMITED_PROGRESS")
        ));
        // Reduce by 20%: the target comes from the 2020 value.
        let injury = by_code(rows, "SAF-01");
        let base = injury["baseline"]["value"].as_f64().expect("base");
        assert!((injury["targetValue"].as_f64().expect("target") - base * 0.8).abs() < 1e-9);
        // Vaccination: every township must reach 97%; three do not.
        let vaccination = by_code(rows, "HEA-06");
        let below: Vec<&str> = vaccination["belowFloor"]
            .as_array()
            .expect("list")
            .iter()
            .filter_map(|r| r["code"].as_str())
            .collect();
        assert_eq!(below, ["DEMO-T03", "DEMO-T08", "DEMO-T12"]);
        assert_ne!(
            vaccination["status"], "ACHIEVED",
            "the city total meets 97%, but not every township"
        );
        assert_eq!(
            vaccination["townships"].as_array().map(Vec::len),
            Some(19),
            "the township merged in 2024 no longer counts in 2025"
        );
        // Health literacy has no 2021 value; EDU-04 none for 2025: the latest point is 2024.
        assert_eq!(by_code(rows, "EDU-04")["latest"]["year"], 2024);

        let summary = app
        .data(&app.coordinator(), "{ summary { year domains { domain { code } total counts { status count } } counts { status count } } }", json!({}))
        .await;
        let s = &summary["summary"];
        assert_eq!(s["year"], 2025);
        let total: i64 = s["counts"]
            .as_array()
            .expect("counts")
            .iter()
            .filter_map(|c| c["count"].as_i64())
            .sum();
        assert_eq!(total, 41);
        let health = s["domains"]
            .as_array()
            .expect("domains")
            .iter()
            .find(|d| d["domain"]["code"] == "health")
            .expect("health");
        assert_eq!(health["total"], 21);
        let deteriorating = |list: &Value| {
            list.as_array()
                .expect("counts")
                .iter()
                .find(|c| c["status"] == "DETERIORATING")
                .and_then(|c| c["count"].as_i64())
        };
        let from_rows = rows
            .as_array()
            .expect("list")
            .iter()
            .filter(|r| r["status"] == "DETERIORATING")
            .count() as i64;
        assert_eq!(
            deteriorating(&s["counts"]),
            Some(from_rows),
            "the summary counts the same statuses as the rows"
        );
    }
);

on_both_backends!(
    indicator_progress_can_look_back_to_an_earlier_year,
    |app: TestApp| async move {
        let q = r#"{ indicator(code: "HEA-03") { now: progress { year latest { year } status }
                 then: progress(year: 2023) { year latest { year } }
                 township: progress(region: "DEMO-T01", year: 2024) { region { code } latest { year } } } }"#;
        let d = app.data(&app.coordinator(), q, json!({})).await;
        let i = &d["indicator"];
        assert_eq!(i["now"][0]["year"], 2025);
        assert_eq!(i["then"][0]["year"], 2023);
        assert_eq!(
            i["then"][0]["latest"]["year"], 2023,
            "values after the evaluation year are ignored"
        );
        assert_eq!(i["township"][0]["region"]["code"], "DEMO-T01");
        let bad = app
            .gql(
                &app.coordinator(),
                r#"{ progress(filter: { region: "ATLANTIS" }) { status } }"#,
                json!({}),
            )
            .await;
        assert_eq!(bad["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    }
);

const WARNINGS: &str = r#"query($y: Int, $s: Severity) { earlyWarnings(year: $y, severity: $s) {
  kind severity indicator { code } region { code } department { code } year since value threshold status message } }"#;

on_both_backends!(
    early_warnings_agree_with_progress,
    |app: TestApp| async move {
        let t = app.coordinator();
        let progress = app.data(&t, PROGRESS, json!({})).await;
        let warnings = app.data(&t, WARNINGS, json!({ "y": 2025 })).await;
        let list = warnings["earlyWarnings"].as_array().expect("list");
        // Every off-track target has its warning, with the same status, and no other target has one.
        for row in progress["progress"].as_array().expect("rows") {
            let code = row["indicator"]["code"].as_str().expect("code");
            let status = row["status"].as_str().expect("status");
            let off = matches!(
                status,
                "NEEDS_ACCELERATION" | "LIMITED_PROGRESS" | "DETERIORATING"
            );
            let warned: Vec<&Value> = list
                .iter()
                .filter(|w| {
                    w["indicator"]["code"] == code
                        && matches!(w["kind"].as_str(), Some("OFF_TRACK" | "DETERIORATING"))
                })
                .collect();
            assert_eq!(
                warned.len(),
                usize::from(off),
                "{code} is {status}: {warned:?}"
            );
            if let Some(w) = warned.first() {
                assert_eq!(w["status"], status);
            }
        }
        let floor: Vec<(&str, i64)> = list
            .iter()
            .filter(|w| w["kind"] == "BELOW_FLOOR")
            .map(|w| {
                (
                    w["region"]["code"].as_str().unwrap_or(""),
                    w["since"].as_i64().unwrap_or(0),
                )
            })
            .collect();
        assert_eq!(
            floor,
            [("DEMO-T03", 2020), ("DEMO-T08", 2020), ("DEMO-T12", 2020)]
        );
        let vaccination = list
            .iter()
            .find(|w| w["kind"] == "BELOW_FLOOR")
            .expect("floor warning");
        assert_eq!(vaccination["severity"], "HIGH");
        assert_eq!(vaccination["department"]["code"], "health");
        assert_eq!(vaccination["threshold"], 97.0);
        assert!(
            vaccination["message"]
                .as_str()
                .is_some_and(|m| m.contains("below the floor of 97")
                    && m.contains("适龄儿童免疫规划疫苗接种率")),
            "{vaccination}"
        );
        // Retention dipped below the 99.41% it is to maintain in 2022.
        let retention: Vec<&Value> = list
            .iter()
            .filter(|w| w["kind"] == "MAINTAIN_BREACH")
            .collect();
        assert_eq!(retention.len(), 1, "{retention:?}");
        assert_eq!(
            (
                retention[0]["indicator"]["code"].as_str(),
                retention[0]["year"].as_i64()
            ),
            (Some("EDU-02"), Some(2022))
        );
        // No approved 2025 value for EDU-04.
        assert!(
            list.iter()
                .any(|w| w["kind"] == "MISSING_DATA" && w["indicator"]["code"] == "EDU-04")
        );
        // Most severe first; the filter keeps only what is at least as severe.
        let rank = |s: &str| {
            ["LOW", "MEDIUM", "HIGH"]
                .iter()
                .position(|x| *x == s)
                .unwrap_or(0)
        };
        let ranks: Vec<usize> = list
            .iter()
            .map(|w| rank(w["severity"].as_str().unwrap_or("")))
            .collect();
        assert!(ranks.windows(2).all(|w| w[0] >= w[1]));
        let high = app
            .data(&t, WARNINGS, json!({ "y": 2025, "s": "HIGH" }))
            .await;
        assert!(
            high["earlyWarnings"]
                .as_array()
                .expect("list")
                .iter()
                .all(|w| w["severity"] == "HIGH")
        );
        let literacy = app.data(&t, WARNINGS, json!({ "y": 2021 })).await;
        assert!(
            literacy["earlyWarnings"]
                .as_array()
                .expect("list")
                .iter()
                .any(|w| w["kind"] == "MISSING_DATA" && w["indicator"]["code"] == "HEA-01")
        );
    }
);

on_both_backends!(warnings_follow_approvals, |app: TestApp| async move {
    let health = app.token("health", &["submitter"]);
    let approver = app.token("statistics", &["approver"]);
    let rows: Vec<Value> = ["DEMO-T03", "DEMO-T08", "DEMO-T12"]
        .iter()
        .map(|t| json!({ "indicator": "HEA-06", "region": t, "year": 2026, "value": 97.6 }))
        .collect();
    let floor = |v: &Value| {
        v["earlyWarnings"]
            .as_array()
            .expect("list")
            .iter()
            .filter(|w| w["kind"] == "BELOW_FLOOR")
            .count()
    };
    let before = app
        .data(&app.coordinator(), WARNINGS, json!({ "y": 2026 }))
        .await;
    assert_eq!(floor(&before), 3);
    let d = app.data(&health, SUBMIT, json!({ "rows": rows })).await;
    let id = d["submitObservations"]["submission"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let pending = app
        .data(&app.coordinator(), WARNINGS, json!({ "y": 2026 }))
        .await;
    assert_eq!(floor(&pending), 3, "pending values do not count yet");
    app.data(
        &approver,
        r#"mutation($id: ID!) { approveSubmission(id: $id) { status } }"#,
        json!({ "id": id }),
    )
    .await;
    let after = app
        .data(&app.coordinator(), WARNINGS, json!({ "y": 2026 }))
        .await;
    assert_eq!(floor(&after), 0, "approval recomputes the warnings");
});

/// Debian's Chromium, which `.ci/run` installs.
fn chromium() -> PathBuf {
    let path = PathBuf::from(
        std::env::var("CHILDHUB_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
    );
    assert!(
        path.exists(),
        "{} is missing: install Debian's chromium package (.ci/run does)",
        path.display()
    );
    path
}

/// Loads a page in headless Chromium, lets its scripts run, and returns the DOM a person would see.
fn rendered_dom(url: &str) -> String {
    rendered_dom_with(url, &[])
}

/// [`rendered_dom`] with more Chromium flags (e.g. to block the network).
pub fn rendered_dom_with(url: &str, extra: &[&str]) -> String {
    let profile = std::env::temp_dir().join(format!(
        "childhub-chromium-{}",
        uuid::Uuid::new_v4().simple()
    ));
    let out = std::process::Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--virtual-time-budget=15000",
            &format!("--user-data-dir={}", profile.display()),
        ])
        .args(extra)
        .args(["--dump-dom", url])
        .output()
        .expect("run chromium");
    let _ = std::fs::remove_dir_all(profile);
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(browser_tests),
    ignore = "needs Chromium and tests/browser's packages (Debian's chromium, `npm ci --prefix tests/browser`, as .ci/run does)"
)]
async fn the_midterm_report_renders_in_a_browser() {
    let app = crate::support::spawn_app(crate::support::Backend::Sqlite).await;
    let dir =
        std::env::temp_dir().join(format!("childhub-report-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("dir");
    let html = dir.join("midterm-2025.html");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_childhub"))
        .args([
            "report",
            "--year",
            "2025",
            "--kind",
            "midterm",
            "--format",
            "html",
            "--out",
            html.to_str().expect("path"),
        ])
        .env("CHILDHUB_DATABASE_URL", app.settings.database_url())
        .env("CHILDHUB_LOG", "warn")
        .output()
        .expect("run childhub report");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dom = rendered_dom(&format!("file://{}", html.display()));
    assert!(
        dom.contains("中期评估报告") && dom.contains("mid-term evaluation report 2025"),
        "bilingual title"
    );
    assert!(
        dom.contains("50% of the plan period"),
        "elapsed share of 2020–2030"
    );
    assert_eq!(
        dom.matches("<article class=\"target\"").count(),
        41,
        "every target has its section"
    );
    for (zh, en) in [
        ("儿童与健康", "Children and health"),
        ("儿童与法律保护", "Children and legal protection"),
    ] {
        assert!(dom.contains(zh) && dom.contains(en));
    }
    assert!(
        dom.matches("<svg").count() >= 42,
        "a trend chart per target and the township chart"
    );
    assert!(dom.contains("HEA-06 分乡镇（街道）Township breakdown 2025"));
    assert!(
        dom.contains("3 townships below the floor: DEMO-T03"),
        "the township breakdown names them"
    );
    assert!(
        dom.contains("under the level of 99.41 the plan asks to maintain"),
        "the retention breach is reported"
    );

    // Per-township tables for per-township targets: who is below, by how much, since when.
    assert!(
        dom.contains("<table class=\"townships\">") && dom.contains("未达标起始年 Below since"),
        "the township table"
    );
    assert!(
        dom.contains("<tr class=\"below\"><td>DEMO-T03"),
        "the township below the floor comes first"
    );
    // Boys and girls, urban and rural, where the indicator has them, with the gap.
    assert!(
        dom.contains("<table class=\"breakdowns\">")
            && dom.contains("男童 Boys")
            && dom.contains("城镇 Urban"),
        "the breakdown tables"
    );
    // How much of the year's values is in, per department.
    let completeness = dom.split("四、数据完整性").nth(1).unwrap_or("");
    assert!(
        completeness.contains("完整率 Complete") && completeness.matches("<tr>").count() >= 3,
        "a completeness line per department"
    );
    // A narrative per domain, as the city would write it.
    assert_eq!(
        dom.matches("<p class=\"narrative\">").count(),
        7,
        "one per domain"
    );
    assert!(
        dom.contains("儿童与健康领域共") && dom.contains("targets achieved or on track"),
        "the health domain's sentences"
    );

    // Printed to PDF by the browser (the print stylesheet): A4 pages, each domain on a new page,
    // numbered, with the headings in the text.
    let pdf = dir.join("midterm-2025.pdf");
    let profile = dir.join("chromium-profile");
    let printed = std::process::Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--no-pdf-header-footer",
            &format!("--user-data-dir={}", profile.display()),
            &format!("--print-to-pdf={}", pdf.display()),
            &format!("file://{}", html.display()),
        ])
        .output()
        .expect("run chromium");
    assert!(
        printed.status.success(),
        "{}",
        String::from_utf8_lossy(&printed.stderr)
    );
    let read = std::process::Command::new("python3")
        .args([
            "-c",
            "import json, sys, pypdf\n\
             r = pypdf.PdfReader(sys.argv[1])\n\
             box = r.pages[0].mediabox\n\
             print(json.dumps({'pages': len(r.pages), 'width': float(box.width), 'height': float(box.height),\n\
               'texts': [p.extract_text() for p in r.pages]}))",
            pdf.to_str().expect("path"),
        ])
        .output()
        .expect("run python3 (pypdf; .ci/run installs it)");
    assert!(
        read.status.success(),
        "{}",
        String::from_utf8_lossy(&read.stderr)
    );
    let read: serde_json::Value = serde_json::from_slice(&read.stdout).expect("json");
    let pages = read["pages"].as_u64().unwrap_or(0);
    assert!(
        pages >= 8,
        "a cover part and a page per domain at least: {pages}"
    );
    // A4 is 595 × 842 points.
    assert!(
        (read["width"].as_f64().unwrap_or(0.0) - 595.0).abs() < 2.0,
        "{}",
        read["width"]
    );
    assert!(
        (read["height"].as_f64().unwrap_or(0.0) - 842.0).abs() < 2.0,
        "{}",
        read["height"]
    );
    let texts: Vec<&str> = read["texts"]
        .as_array()
        .expect("texts")
        .iter()
        .map(|t| t.as_str().unwrap_or(""))
        .collect();
    let all = texts.join("\n");
    for heading in [
        "Summary by domain",
        "Targets by domain",
        "Children and health",
        "Early warnings",
    ] {
        assert!(all.contains(heading), "{heading} in the PDF");
    }
    // Each domain starts a page: its English name is near the top of some page.
    let starts = texts
        .iter()
        .filter(|t| {
            ["Children and health", "Children and legal protection"]
                .iter()
                .any(|d| t.lines().take(4).any(|l| l.contains(d)))
        })
        .count();
    assert!(starts >= 2, "domains begin new pages");
    // Every page is numbered by the print stylesheet: `n / N`.
    assert!(
        texts[0].contains(&format!("1 / {pages}"))
            && texts[texts.len() - 1].contains(&format!("{pages} / {pages}")),
        "page numbers: {} … {}",
        texts[0],
        texts[texts.len() - 1]
    );

    // The same report over HTTP, for callers with a token only.
    let response = app
        .client
        .get(app.url("/reports/2025/annual.md"))
        .bearer_auth(app.coordinator())
        .send()
        .await
        .expect("get");
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap_or("")
            .starts_with("text/markdown")
    );
    let md = response.text().await.expect("body");
    assert!(
        md.contains("# 示范市（演示数据）儿童发展规划（2021—2030年）年度监测报告（2025年）"),
        "{}",
        &md[..200.min(md.len())]
    );
    assert!(md.contains("| HEA-03 婴儿死亡率 (Infant mortality rate) |"));
    let anonymous = app
        .client
        .get(app.url("/reports/2025/annual.html"))
        .send()
        .await
        .expect("get");
    assert_eq!(anonymous.status(), 401);
    let unknown = app
        .client
        .get(app.url("/reports/2025/weekly.html"))
        .bearer_auth(app.coordinator())
        .send()
        .await
        .expect("get");
    assert_eq!(unknown.status(), 400);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(browser_tests),
    ignore = "needs Chromium and tests/browser's packages (Debian's chromium, `npm ci --prefix tests/browser`, as .ci/run does)"
)]
async fn the_dashboard_shows_tiles_targets_and_charts() {
    let app = crate::support::spawn_app(crate::support::Backend::Sqlite).await;
    let page = dashboard(&app, "/", &[]).await;
    let dom = page["html"].as_str().unwrap();
    assert!(
        dom.contains("统计局 <small>statistics</small>") && dom.contains("viewer"),
        "signed in as the chosen department and role"
    );
    assert!(dom.contains("示范市（演示数据） Demo City (synthetic data) · 2025"));
    for domain in [
        "health",
        "safety",
        "education",
        "welfare",
        "family",
        "environment",
        "legal",
    ] {
        assert!(
            dom.contains(&format!("data-domain=\"{domain}\"")),
            "a tile for {domain}"
        );
    }
    assert_eq!(
        dom.matches("<tr data-code=").count(),
        41,
        "a row per target"
    );
    assert!(dom.contains("<tr data-code=\"HEA-09\" data-status=\"DETERIORATING\">"));
    assert!(dom.contains("趋于恶化 Deteriorating"));
    assert_eq!(
        dom.matches("<figure data-code=").count(),
        41,
        "a chart per indicator"
    );
    assert!(dom.contains("below the floor of 97"), "the warnings list");
    // Without a session the page sends the browser to sign in, and shows no data.
    let signed_out = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.url("/"))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_out.status(), 303);
    assert_eq!(signed_out.headers()["location"], "/signin?return_to=/");
}

/// Signs in on the development page as a statistics-bureau viewer (real clicks), opens `path`, clicks
/// `clicks` and returns what the scenario saw once the targets table is filled.
async fn dashboard(
    app: &crate::support::TestApp,
    path: &str,
    clicks: &[serde_json::Value],
) -> serde_json::Value {
    crate::support::browser::run(
        "workspace",
        json!({ "hub": app.url(""), "department": "statistics", "roles": ["viewer"], "path": path,
                "waitFor": "#targets tbody tr[data-code]", "clicks": clicks }),
    )
    .await
    .result
}

/// The view's state in the fragment: `year` switches the evaluation year (as the year selector does) and
/// `sort`/`dir` order the table (as a click on a heading does).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(browser_tests),
    ignore = "needs Chromium and tests/browser's packages (Debian's chromium, `npm ci --prefix tests/browser`, as .ci/run does)"
)]
async fn the_dashboard_switches_year_and_sorts() {
    let app = crate::support::spawn_app(crate::support::Backend::Sqlite).await;
    let page = dashboard(&app, "/#year=2023&sort=statusRank&dir=desc", &[]).await;
    let dom = page["html"].as_str().unwrap().to_owned();
    assert!(
        dom.contains("Demo City (synthetic data) · 2023"),
        "the year from the fragment is assessed"
    );
    assert!(
        dom.contains("<option value=\"2023\" selected=\"\">2023"),
        "the selector shows the year"
    );
    assert!(
        dom.contains("<option value=\"2025\">2025"),
        "other years are offered"
    );
    // Worst first: ranks never increase down the table.
    let ranks: Vec<usize> = dom
        .match_indices("<tr data-code=\"")
        .map(|(i, _)| {
            let status = dom[i..]
                .split("data-status=\"")
                .nth(1)
                .and_then(|s| s.split('"').next())
                .unwrap_or_default();
            [
                "ACHIEVED",
                "ON_TRACK",
                "NEEDS_ACCELERATION",
                "LIMITED_PROGRESS",
                "DETERIORATING",
                "NO_DATA",
            ]
            .iter()
            .position(|s| *s == status)
            .expect("a status")
        })
        .collect();
    assert_eq!(ranks.len(), 41);
    assert!(
        ranks.windows(2).all(|w| w[0] >= w[1]),
        "sorted by status, worst first: {ranks:?}"
    );
    assert!(dom.contains("aria-sort=\"descending\""));
    // The target column carries the comparison and unit; the status says why.
    assert!(
        dom.contains("<td class=\"target\">≥ 97 %</td>"),
        "HEA-06's floor"
    );
    assert!(dom.contains("<td class=\"target\">下降 trend ↓</td>"));
    assert!(dom.contains("townships below ≥ 97"), "the why line");
    // A report link per kind for the year, opened with the session (no token in any link).
    for kind in ["annual", "midterm", "final"] {
        assert!(
            dom.contains(&format!("href=\"/reports/2023/{kind}.html\"")),
            "{kind}"
        );
    }
    assert!(
        !dom.contains("eyJ"),
        "no token is ever written into the page"
    );

    // A click on the code heading sorts by code, ascending.
    let page = dashboard(
        &app,
        "/",
        &[json!({ "selector": "th[data-key=code] button", "waitFor": "th[aria-sort=ascending]" })],
    )
    .await;
    let by_code = page["html"].as_str().unwrap().to_owned();
    let codes: Vec<&str> = by_code
        .match_indices("<tr data-code=\"")
        .map(|(i, m)| by_code[i + m.len()..].split('"').next().unwrap_or_default())
        .collect();
    let mut sorted = codes.clone();
    sorted.sort();
    assert_eq!(codes, sorted);
}

/// An ended session brings a page that says so and offers to sign in again; no data is shown.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_asks_to_sign_in_again_when_the_session_ended() {
    let app = crate::support::spawn_app(crate::support::Backend::Sqlite).await;
    let cookie = crate::support::dev_session(&app, "statistics", &["viewer"]).await;
    use sea_orm::ConnectionTrait;
    app.db
        .execute_unprepared("UPDATE web_session SET expires_at = '2000-01-01T00:00:00Z'")
        .await
        .unwrap();
    let page = app
        .client
        .get(app.url("/"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 401);
    let text = page.text().await.unwrap();
    assert!(text.contains("Your session has ended"), "{text}");
    assert!(
        text.contains("/signin?return_to=/"),
        "it offers to sign in again"
    );
    assert!(!text.contains("<tr data-code="), "no data");
}

/// When the hub cannot be reached for data, the page says so instead of staying blank. The page and its
/// script come from a server that closes every connection to /graphql without an answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(browser_tests),
    ignore = "needs Chromium and tests/browser's packages (Debian's chromium, `npm ci --prefix tests/browser`, as .ci/run does)"
)]
async fn the_dashboard_reports_a_network_error() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = crate::support::spawn_app(crate::support::Backend::Sqlite).await;
    let client = reqwest::Client::new();
    let cookie = crate::support::dev_session(&app, "statistics", &["viewer"]).await;
    let fetch = |path: &'static str| {
        let (client, url, cookie) = (client.clone(), app.url(path), cookie.clone());
        async move {
            let response = client
                .get(url)
                .header("cookie", cookie)
                .send()
                .await
                .expect("asset");
            let kind = response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("text/plain")
                .to_owned();
            (kind, response.bytes().await.expect("body").to_vec())
        }
    };
    let assets = std::sync::Arc::new(vec![
        ("/ ", fetch("/").await),
        (
            "/assets/workspace/dashboard.js ",
            fetch("/assets/workspace/dashboard.js").await,
        ),
        (
            "/assets/workspace/api.js ",
            fetch("/assets/workspace/api.js").await,
        ),
        (
            "/assets/workspace.css ",
            fetch("/assets/workspace.css").await,
        ),
    ]);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let assets = assets.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let n = socket.read(&mut buf).await.unwrap_or(0);
                let request = String::from_utf8_lossy(&buf[..n]).into_owned();
                let found = request
                    .strip_prefix("GET ")
                    .and_then(|rest| assets.iter().find(|(path, _)| rest.starts_with(path)));
                // Anything else (the POST to /graphql) is dropped: a network error for fetch().
                if let Some((_, (kind, body))) = found {
                    let head = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: {kind}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = socket.write_all(head.as_bytes()).await;
                    let _ = socket.write_all(body).await;
                }
            });
        }
    });
    let dom = rendered_dom(&format!("http://{addr}/"));
    assert!(dom.contains("Cannot reach the hub"), "{dom}");
    assert!(!dom.contains("<tr data-code="), "no stale data");
}

const NUMBERS: &str = r#"{ progress { indicator { code unit } status score ratio cagrObserved cagrRequired projection
  limitFactor thresholds { measure onTrack needsAcceleration } baseYearUsed baseValueUsed targetAchieved note
  methodVersion targetLabel why latest { year } target { kind naturalLimit limitReason maintain } } }"#;

on_both_backends!(
    every_status_comes_with_the_numbers_that_made_it,
    |app: TestApp| async move {
        let d = app.data(&app.coordinator(), NUMBERS, json!({})).await;
        let rows = d["progress"].as_array().expect("list");
        for r in rows {
            let code = &r["indicator"]["code"];
            assert!(r["methodVersion"].as_str().is_some_and(|v| !v.is_empty()));
            assert!(r["why"].as_str().is_some_and(|v| !v.is_empty()), "{code}");
            if r["target"]["kind"] != "MILESTONE" {
                assert!(r["score"].is_number(), "{code} has a score: {r}");
                assert!(r["thresholds"].is_object(), "{code}");
            }
            // Two years of values measured: the numbers are there, achieved or not.
            if r["baseYearUsed"].as_i64() < r["latest"]["year"].as_i64()
                && r["target"]["kind"] != "MILESTONE"
                && r["note"].is_null()
            {
                assert!(r["cagrObserved"].is_number(), "{code}: {r}");
                assert!(r["projection"].is_number(), "{code}: {r}");
            }
        }
        // A trend target: growth against thresholds scaled by C from its 100 % limit.
        let homes = by_code(&d["progress"], "WEL-02");
        assert_eq!(homes["thresholds"]["measure"], "GROWTH");
        let c = homes["limitFactor"].as_f64().expect("C");
        assert!(c > 0.0 && c < 1.0, "{homes}");
        assert!((homes["thresholds"]["onTrack"].as_f64().unwrap_or(0.0) - 0.015 * c).abs() < 1e-12);
        assert_eq!(homes["target"]["naturalLimit"], 100.0);
        assert!(
            homes["target"]["limitReason"]
                .as_str()
                .is_some_and(|r| r.contains("100"))
        );
        assert_eq!(
            homes["targetAchieved"],
            Value::Null,
            "a trend has no target value"
        );
        // An achieved threshold keeps its ratio and projection.
        let stunting = by_code(&d["progress"], "HEA-08");
        assert_eq!(stunting["status"], "ACHIEVED");
        assert_eq!(stunting["targetAchieved"], true);
        assert!(stunting["ratio"].is_number() && stunting["cagrRequired"].is_number());
        assert_eq!(stunting["thresholds"]["measure"], "RATIO");
        // Gross ratios may pass 100 % and have no 100 % limit; retention is to be maintained.
        let preschool = by_code(&d["progress"], "EDU-01");
        assert_eq!(preschool["indicator"]["unit"], "RATIO_PERCENT");
        assert_eq!(preschool["target"]["naturalLimit"], Value::Null);
        assert_eq!(preschool["target"]["maintain"], true);
        assert_eq!(
            by_code(&d["progress"], "EDU-02")["target"]["maintain"],
            true
        );
        assert_eq!(
            by_code(&d["progress"], "HEA-03")["target"]["maintain"],
            false
        );
        assert_eq!(by_code(&d["progress"], "HEA-06")["targetLabel"], "≥ 97 %");
        assert_eq!(
            by_code(&d["progress"], "LAW-02")["targetLabel"],
            "下降 trend ↓"
        );
    }
);

on_both_backends!(
    one_early_value_does_not_move_the_default_year,
    |app: TestApp| async move {
        const SUMMARY: &str = "{ summary { year years { year targetsWithValues targets } } }";
        let before = app.data(&app.coordinator(), SUMMARY, json!({})).await;
        let year = before["summary"]["year"].as_i64().expect("year");
        let next = year + 2;
        let health = app.token("health", &["submitter"]);
        let d = app
            .data(
                &health,
                SUBMIT,
                json!({ "rows": [{ "indicator": "HEA-03", "region": "DEMO", "year": next, "value": 4.1 }] }),
            )
            .await;
        let id = d["submitObservations"]["submission"]["id"]
            .as_str()
            .expect("id")
            .to_owned();
        app.data(
            &app.token("statistics", &["approver"]),
            r#"mutation($id: ID!) { approveSubmission(id: $id) { status } }"#,
            json!({ "id": id }),
        )
        .await;
        let after = app.data(&app.coordinator(), SUMMARY, json!({})).await;
        assert_eq!(
            after["summary"]["year"], year,
            "one approved value for {next} does not make it the reporting year"
        );
        let years = after["summary"]["years"].as_array().expect("years");
        let last = years.last().expect("a year");
        assert_eq!(last["year"], next);
        assert!(last["targetsWithValues"].as_i64() < Some(21), "{last}");
        // Asked for explicitly, the early year is assessed.
        let asked = app
            .data(
                &app.coordinator(),
                "query($y: Int) { summary(year: $y) { year } }",
                json!({ "y": next }),
            )
            .await;
        assert_eq!(asked["summary"]["year"], next);
    }
);

/// GraphiQL on an intranet: every script and style comes from the binary, so with every other host
/// unreachable the editor still loads, runs a query with the session and reads the schema.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(browser_tests),
    ignore = "needs Chromium and tests/browser's packages (Debian's chromium, `npm ci --prefix tests/browser`, as .ci/run does)"
)]
async fn graphiql_runs_a_query_and_shows_the_docs_with_the_network_blocked() {
    let app = crate::support::spawn_app(crate::support::Backend::Sqlite).await;
    let walked = crate::support::browser::run(
        "graphiql",
        json!({ "hub": app.url(""), "department": "statistics", "roles": ["viewer"],
                // Every name but the hub's own address fails to resolve: no CDN can answer.
                "chromiumArgs": ["--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"] }),
    )
    .await
    .result;
    let result = walked["result"]
        .as_str()
        .unwrap_or_else(|| panic!("no result: {walked}"));
    assert!(
        result.contains("\"data\"") && result.contains("statistics"),
        "the query ran with the session: {result}"
    );
    assert!(
        !result.contains("UNAUTHENTICATED") && !result.contains("FORBIDDEN"),
        "{result}"
    );
    let fields = walked["fields"]
        .as_str()
        .unwrap_or_else(|| panic!("no Query docs: {walked}"));
    // Field descriptions from the schema are what the explorer shows.
    assert!(fields.contains("Indicators the caller may see"), "{fields}");
}

/// The township view: every township of a per-township target on a grid of tiles in status colours and
/// in a table that sorts at a click; the breakdowns of an indicator (boys and girls, urban and rural).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(browser_tests),
    ignore = "needs Chromium and tests/browser's packages (Debian's chromium, `npm ci --prefix tests/browser`, as .ci/run does)"
)]
async fn the_dashboard_shows_every_township_and_the_breakdowns() {
    let app = crate::support::spawn_app(crate::support::Backend::Sqlite).await;
    let page = dashboard(
        &app,
        "/#township=HEA-06&breakdown=HEA-03",
        &[json!({ "selector": "#townships th[data-key=value] button", "waitFor": "#townships th[data-key=value][aria-sort=ascending]" }),
          json!({ "selector": "#breakdown .bar", "waitFor": "#breakdown .bar" })],
    )
    .await;
    let dom = page["html"].as_str().unwrap().to_owned();
    let tiles = dom.matches("role=\"listitem\"").count();
    assert!(tiles >= 14, "a tile per township: {tiles}");
    assert!(
        dom.contains("class=\"township below\"") && dom.contains("data-township=\"DEMO-T03\""),
        "a township below the floor stands out"
    );
    // Sorted by value, lowest first: the values down the table never decrease.
    let table = dom.split("<table id=\"townships\">").nth(1).unwrap_or("");
    let values: Vec<f64> = table
        .match_indices("<tr data-township=")
        .filter_map(|(i, _)| {
            table[i..]
                .split("<td>")
                .nth(2)
                .and_then(|c| c.split(' ').next())
                .and_then(|v| v.trim_end_matches("</td>").parse().ok())
        })
        .collect();
    assert!(values.len() >= 14, "{values:?}");
    assert!(
        values.windows(2).all(|w| w[0] <= w[1]),
        "ascending: {values:?}"
    );
    assert!(
        dom.contains("男童 Boys") && dom.contains("农村 Rural"),
        "HEA-03's breakdowns"
    );
}
