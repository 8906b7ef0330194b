//! `GET /templates/{department}/{year}.xlsx` (or `.csv`): the template a department fills for a year,
//! for a member of that department or a coordinator (the session cookie opens it from the Reporting
//! page; other clients send their bearer token). `?indicators=HEA-01,HEA-06` narrows it;
//! `?missing=true` keeps only what is missing or was rejected.

use crate::error::AppError;
use crate::http::AppState;
use crate::http::graphql::error_response;
use crate::service::{due, template};
use crate::vocabulary::{AGE_CODES, RESIDENCE_CODES, SEX_CODES};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

/// Optional query parameters.
#[derive(Debug, Default, Deserialize)]
pub struct TemplateParams {
    /// Comma-separated indicator codes.
    indicators: Option<String>,
    /// Only what is missing or was rejected.
    missing: Option<bool>,
}

/// `GET /templates/{department}/{file}`.
pub async fn get(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((department, file)): Path<(String, String)>,
    Query(params): Query<TemplateParams>,
) -> Response {
    let (year, extension) = file.rsplit_once('.').unwrap_or((file.as_str(), ""));
    let Ok(year) = year.parse::<i32>() else {
        return error_response(&AppError::invalid("file", &file, "2026.xlsx or 2026.csv"));
    };
    if !matches!(extension, "xlsx" | "csv") {
        return error_response(&AppError::invalid("file", &file, "2026.xlsx or 2026.csv"));
    }
    let caller = match crate::http::identify_download(&state, &headers).await {
        Ok(caller) => caller,
        Err(refused) => return refused,
    };
    let only: Option<Vec<String>> = params.indicators.as_deref().map(|list| {
        list.split(',')
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty())
            .collect()
    });
    let reference = caller.snapshot.reference.clone();
    let due = match due::due(
        &state.db,
        &reference,
        &state.settings,
        &caller.identity,
        &department,
        year,
        only.as_deref(),
    )
    .await
    {
        Ok(due) => due,
        Err(e) => return error_response(&e),
    };
    let missing = params.missing.unwrap_or(false);
    let name = format!(
        "childhub-{department}-{year}{}",
        if missing { "-missing" } else { "" }
    );
    let (body, content_type) = if extension == "csv" {
        (template::csv(&due, missing), "text/csv; charset=utf-8")
    } else {
        let codes =
            |list: &[(&str, &str, &str)]| list.iter().map(|(c, _, _)| (*c).to_owned()).collect();
        let lists = vec![
            (
                "indicator".to_owned(),
                due.cells
                    .iter()
                    .map(|c| c.indicator.code.clone())
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .collect(),
            ),
            (
                "region".to_owned(),
                due.cells
                    .iter()
                    .map(|c| c.region.code.clone())
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .collect(),
            ),
            ("sex".to_owned(), codes(SEX_CODES)),
            ("age_group".to_owned(), codes(AGE_CODES)),
            ("residence".to_owned(), codes(RESIDENCE_CODES)),
        ];
        // Writing a workbook is CPU work: off the runtime.
        let made =
            crate::service::compute::run("template", move |_| template::xlsx(&due, missing, lists))
                .await;
        match made.and_then(|r| r) {
            Ok(bytes) => (
                bytes,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ),
            Err(e) => return error_response(&e),
        }
    };
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}.{extension}\""),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        body,
    )
        .into_response()
}
