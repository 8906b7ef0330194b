//! `GET /reports/{year}/{kind}.html|md`: the monitoring reports for a caller with a bearer token (the same
//! policy applies as everywhere: a department sees restricted data suppressed).

use crate::error::AppError;
use crate::http::AppState;
use crate::http::graphql::error_response;
use crate::report::{self, ReportFormat, ReportKind};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

/// Optional query parameters.
#[derive(Debug, Deserialize)]
pub struct ReportParams {
    /// The area (default: the only city).
    region: Option<String>,
}

/// Renders a report.
pub async fn get(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((year, file)): Path<(i32, String)>,
    Query(params): Query<ReportParams>,
) -> Response {
    let (kind, extension) = file.rsplit_once('.').unwrap_or((file.as_str(), ""));
    let format = match extension {
        "html" => ReportFormat::Html,
        "md" => ReportFormat::Md,
        _ => {
            return error_response(&AppError::invalid(
                "file",
                &file,
                "annual.html, midterm.md, final.html, …",
            ));
        }
    };
    let Some(kind) = ReportKind::parse(kind) else {
        return error_response(&AppError::invalid("kind", kind, "annual, midterm or final"));
    };
    if !(2000..=2100).contains(&year) {
        return error_response(&AppError::invalid("year", year, "a year such as 2025"));
    }
    let caller = match crate::http::identify_download(&state, &headers).await {
        Ok(caller) => caller,
        Err(refused) => return refused,
    };
    let request = report::ReportRequest {
        year,
        kind,
        format,
        region: params.region,
    };
    match report::render(
        caller.db(),
        &caller.snapshot,
        &caller.identity,
        &state.settings,
        request,
    )
    .await
    {
        Ok(body) => {
            let content_type = match format {
                ReportFormat::Html => "text/html; charset=utf-8",
                ReportFormat::Md => "text/markdown; charset=utf-8",
            };
            ([(header::CONTENT_TYPE, content_type)], body).into_response()
        }
        Err(e) => error_response(&e),
    }
}
