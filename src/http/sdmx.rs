//! `GET /sdmx/data/{indicator}?from=…&to=…&regions=…`: an indicator's values as an SDMX-JSON data
//! message, under the caller's policy and suppression (see `service::sdmx`).

use crate::error::AppError;
use crate::http::AppState;
use crate::http::graphql::error_response;
use crate::service::sdmx::{SdmxQuery, data_message};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

/// The query string.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SdmxParams {
    from: Option<i32>,
    to: Option<i32>,
    /// Region codes, comma-separated.
    regions: Option<String>,
}

/// Answers the data message.
pub async fn data(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(indicator): Path<String>,
    params: Result<Query<SdmxParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let params = match params {
        Ok(Query(p)) => p,
        Err(e) => {
            return error_response(&AppError::invalid(
                "query string",
                e.body_text(),
                "from, to, regions",
            ));
        }
    };
    let caller = match crate::http::identify_download(&state, &headers).await {
        Ok(caller) => caller,
        Err(refused) => return refused,
    };
    if let Err(e) = crate::auth::policy::require_reader(&caller.identity) {
        return error_response(&e);
    }
    let query = SdmxQuery {
        indicator,
        regions: params.regions.map(|r| {
            r.split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        }),
        year_from: params.from,
        year_to: params.to,
    };
    let limit = state.settings.limits.max_graphql_export_rows.max(100_000);
    match data_message(&state.db, &caller.scope(), &query, limit).await {
        Ok(message) => (
            [(
                header::CONTENT_TYPE,
                "application/vnd.sdmx.data+json; version=2.0.0; charset=utf-8",
            )],
            message.to_string(),
        )
            .into_response(),
        Err(e) => error_response(&e),
    }
}
