//! `GET /exports/observations.csv|json|xlsx?indicators=…&from=…&to=…`: whole tables under the caller's
//! policy and suppression, for exports too big for one GraphQL answer — CSV (with a UTF-8 BOM, for
//! Excel) and JSON streamed page by page, `.xlsx` built as it is read and sent once written. The number
//! of rows is counted first, so an export above the configured cap is refused before anything is sent.
//! The pages download them with the session cookie: no token in a URL.

use crate::error::AppError;
use crate::http::AppState;
use crate::http::graphql::error_response;
use crate::service::export::{self, ExportFormat, Exporter, too_many};
use crate::service::observations::{self, ObservationFilter, Version};
use crate::vocabulary::RegionLevel;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

/// The query string: the `observations` filter, with lists comma-separated.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExportParams {
    indicators: Option<String>,
    regions: Option<String>,
    region_level: Option<String>,
    from: Option<i32>,
    to: Option<i32>,
    sex: Option<String>,
    age_group: Option<String>,
    residence: Option<String>,
    version: Option<String>,
}

fn list(text: Option<String>) -> Option<Vec<String>> {
    text.map(|t| {
        t.split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect()
    })
}

impl ExportParams {
    fn filter(self) -> Result<ObservationFilter, AppError> {
        let region_level =
            match self.region_level.as_deref() {
                None => None,
                Some(code) => Some(RegionLevel::parse(&code.to_ascii_lowercase()).ok_or_else(
                    || AppError::invalid("regionLevel", code, RegionLevel::expected()),
                )?),
            };
        let version = match self
            .version
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("published") => Version::Published,
            Some("latest") => Version::Latest,
            Some(other) => return Err(AppError::invalid("version", other, "published or latest")),
        };
        Ok(ObservationFilter {
            indicators: list(self.indicators),
            regions: list(self.regions),
            region_level,
            year_from: self.from,
            year_to: self.to,
            sex: self.sex,
            age_group: self.age_group,
            residence: self.residence,
            version,
        })
    }
}

/// Streams an export.
pub async fn get(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(file): Path<String>,
    params: Result<Query<ExportParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    // `None`: the workbook.
    let format = match file.as_str() {
        "observations.csv" => Some(ExportFormat::Csv),
        "observations.json" => Some(ExportFormat::Json),
        "observations.xlsx" => None,
        _ => {
            return error_response(&AppError::NotFound(format!(
                "no export {file:?}; there are observations.csv, observations.json and observations.xlsx"
            )));
        }
    };
    let params = match params {
        Ok(Query(p)) => p,
        Err(e) => {
            return error_response(&AppError::invalid(
                "query string",
                e.body_text(),
                "indicators, regions, regionLevel, from, to, sex, ageGroup, residence, version",
            ));
        }
    };
    let caller = match crate::http::identify_download(&state, &headers).await {
        Ok(caller) => caller,
        Err(refused) => return refused,
    };
    let filter = match params.filter() {
        Ok(f) => f,
        Err(e) => return error_response(&e),
    };
    if let Err(e) = crate::auth::policy::require_reader(&caller.identity) {
        return error_response(&e);
    }
    let cap = state.settings.limits.max_export_rows;
    let scope = caller.scope();
    let Some(format) = format else {
        let cap = cap.min(export::MAX_XLSX_ROWS);
        let built = async {
            let rows = observations::count_matching(caller.db(), &scope, &filter).await?;
            if rows > cap as u64 {
                return Err(too_many(cap));
            }
            export::export_xlsx(caller.db(), scope, &filter, cap).await
        };
        return match built.await {
            Ok((bytes, _)) => (
                [
                    (
                        header::CONTENT_TYPE,
                        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    ),
                    (
                        header::CONTENT_DISPOSITION,
                        "attachment; filename=\"observations.xlsx\"",
                    ),
                ],
                bytes,
            )
                .into_response(),
            Err(e) => error_response(&e),
        };
    };
    let start = async {
        let rows = observations::count_matching(caller.db(), &scope, &filter).await?;
        if rows > cap as u64 {
            return Err(too_many(cap));
        }
        Ok(Exporter::start(scope, &filter, format)?.for_excel())
    };
    let exporter = match start.await {
        Ok(e) => e,
        Err(e) => return error_response(&e),
    };
    let db = caller.db().clone();
    let body = futures::stream::unfold(Some(exporter), move |exporter| {
        let db = db.clone();
        async move {
            let mut exporter = exporter?;
            match exporter.next_chunk(&db).await {
                Ok(Some(chunk)) => Some((Ok(chunk), Some(exporter))),
                Ok(None) => None,
                Err(e) => {
                    // The status line is sent already; the client sees a cut-off body.
                    tracing::error!(error = %e, "export failed part-way");
                    Some((Err(std::io::Error::other("export failed")), None))
                }
            }
        }
    });
    let (content_type, name) = match format {
        ExportFormat::Csv => ("text/csv; charset=utf-8", "observations.csv"),
        ExportFormat::Json => ("application/json", "observations.json"),
    };
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        Body::from_stream(body),
    )
        .into_response()
}
