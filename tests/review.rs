//! Coordinators review in the browser (issue 22): a Chromium test clicks through the Review page as a
//! statistics-bureau approver — a submission with a warning rejected with a remark on its row, a
//! correction approved over the earlier file it overlaps, a clean one approved in bulk, the mid-term
//! report opened — and the health clerk then reads the remark on the row.

use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(browser_tests),
    ignore = "needs Chromium and tests/browser's packages (Debian's chromium, `npm ci --prefix tests/browser`, as .ci/run does)"
)]
async fn a_coordinator_reviews_rejects_with_a_remark_and_approves_in_the_browser() {
    let app = crate::support::spawn_app(crate::support::Backend::Sqlite).await;
    let clerk = app.token("health", &["submitter"]);
    let id_of = |d: &Value| {
        d["submission"]["id"]
            .as_str()
            .or_else(|| d["submitObservations"]["submission"]["id"].as_str())
            .expect("a submission")
            .to_owned()
    };
    // A file whose first value falls far below last year's (a jump the clerk confirmed).
    let warned = crate::reporting::submit_file(
        &app,
        &clerk,
        "卫健委-2026.csv",
        b"indicator,region,year,value\nHEA-06,DEMO-T01,2026,40\nHEA-06,DEMO-T02,2026,97.5\n"
            .to_vec(),
        json!({ "confirm": true }),
    )
    .await;
    assert!(
        warned["warnings"].as_array().is_some_and(|w| !w.is_empty()),
        "{warned}"
    );
    let warned = id_of(&warned);
    let submit = |token: String, rows: Value| {
        let app = &app;
        async move {
            app.data(&token, crate::submissions::SUBMIT, json!({ "rows": rows }))
                .await
        }
    };
    let at = |region: &str, value: f64| json!({ "indicator": "HEA-03", "region": region, "year": 2026, "value": value });
    let first = id_of(
        &submit(
            clerk.clone(),
            json!([at("DEMO-T03", 4.3), at("DEMO-T04", 4.4)]),
        )
        .await,
    );
    let correction = id_of(&submit(clerk.clone(), json!([at("DEMO-T03", 3.3)])).await);
    let clean = id_of(
        &submit(
            app.token("education", &["submitter"]),
            json!([{ "indicator": "EDU-01", "region": "DEMO", "year": 2026, "value": 95.0 }]),
        )
        .await,
    );
    let comment = "比上年低一半以上，请核对 less than half of last year's: check";
    let seen = crate::support::browser::run(
        "review",
        json!({ "hub": app.url(""), "warned": warned, "correction": correction, "clean": clean,
                "comment": comment, "reason": "接种率异常 an outlier in DEMO-T01",
                "shots": std::env::var("CHILDHUB_SCREENSHOTS").ok() }),
    )
    .await
    .result;
    let text = |k: &str| seen[k].as_str().unwrap_or_default().to_owned();
    for id in [&warned, &first, &correction, &clean] {
        assert!(
            text("inbox").contains(id.as_str()),
            "every pending one is listed: {seen}"
        );
    }
    assert!(
        text("inbox").contains("⚠"),
        "the warned one shows its warnings: {seen}"
    );
    assert!(text("completeness").contains("应报 expected"), "{seen}");
    let rows = text("warnedRows");
    assert!(
        rows.contains("DEMO-T01") && !rows.contains("DEMO-T02"),
        "only the row with a warning: {seen}"
    );
    assert!(rows.contains('%'), "the change against last year: {seen}");
    assert!(text("rejected").contains("1 条行意见"), "{seen}");
    assert!(
        text("conflict").contains(&format!("submission {first}")),
        "the page names the other: {seen}"
    );
    assert!(text("approved").contains("已作废退回"), "{seen}");
    assert!(text("bulk").contains(&format!("#{clean} 已通过")), "{seen}");
    assert!(
        text("reportUrl").ends_with("/reports/2025/midterm.html"),
        "{seen}"
    );
    assert!(
        !text("report").contains("UNAUTHENTICATED"),
        "the report opens with the session: {seen}"
    );
    assert!(
        text("resend").contains(comment),
        "the clerk reads the remark on the row: {seen}"
    );
    // And the hub holds what the clicks decided.
    use sea_orm::EntityTrait;
    let status = |id: &str| {
        let (db, id) = (&app.db, id.parse::<i64>().expect("id"));
        async move {
            entity::submission::Entity::find_by_id(id)
                .one(db)
                .await
                .expect("read")
                .expect("exists")
                .status
                .to_string()
        }
    };
    assert_eq!(status(&warned).await, "rejected");
    assert_eq!(status(&first).await, "rejected");
    assert_eq!(status(&correction).await, "approved");
    assert_eq!(status(&clean).await, "approved");
}
