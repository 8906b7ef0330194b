//! The hub as an SDMX source (see `service::sdmx`): SDMX 2.1 REST beside the older JSON path.
//!
//! - `GET /sdmx/rest/{dataflow|datastructure|codelist|conceptscheme}[/{agency}[/{id}[/{version}]]]`
//!   `?references=` — an SDMX-ML 2.1 structure message;
//! - `GET /sdmx/rest/data/{flow}[/{key}[/{provider}]]?startPeriod=&endPeriod=` — data for a dotted key
//!   (`DEMO+DEMO-T01.F..`), as SDMX-ML 2.1 structure-specific data, SDMX-JSON or SDMX-CSV by `Accept`
//!   (or `format=structurespecificdata|jsondata|csvfile`);
//! - `GET /sdmx/data/{indicator}?from=&to=&regions=` — the SDMX-JSON message of earlier releases.
//!
//! Every answer is read under the caller's policy and suppression, like `/graphql`.

use crate::error::AppError;
use crate::http::AppState;
use crate::http::caller::Caller;
use crate::http::graphql::error_response;
use crate::service::sdmx::csv::CsvVersion;
use crate::service::sdmx::ml::{References, Resource};
use crate::service::sdmx::{self, AGENCY, SdmxQuery, VERSION};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use std::collections::HashMap;

/// The SDMX routes.
pub fn routes() -> Router<AppState> {
    let mut router = Router::new()
        .route("/sdmx/data/{indicator}", get(data))
        .route("/sdmx/rest/data/{flow}", get(rest_data))
        .route("/sdmx/rest/data/{flow}/{key}", get(rest_data))
        .route("/sdmx/rest/data/{flow}/{key}/{provider}", get(rest_data));
    for (segment, resource) in [
        ("dataflow", Resource::Dataflow),
        ("datastructure", Resource::DataStructure),
        ("codelist", Resource::Codelist),
        ("conceptscheme", Resource::ConceptScheme),
    ] {
        for tail in [
            "",
            "/{agency}",
            "/{agency}/{id}",
            "/{agency}/{id}/{version}",
        ] {
            router = router.route(
                &format!("/sdmx/rest/{segment}{tail}"),
                get(
                    move |state: State<AppState>,
                          headers: HeaderMap,
                          path: Path<HashMap<String, String>>,
                          params: Result<
                        Query<StructureParams>,
                        axum::extract::rejection::QueryRejection,
                    >| { structure(state, headers, resource, path, params) },
                ),
            );
        }
    }
    router
}

/// The query string and the caller, or the refusal to answer with: a query string naming other
/// parameters than `expected` is `BAD_USER_INPUT`; a caller who may not read is refused.
async fn admit<T>(
    state: &AppState,
    headers: &HeaderMap,
    params: Result<Query<T>, axum::extract::rejection::QueryRejection>,
    expected: &str,
) -> Result<(T, Caller), Box<Response>> {
    let params = params.map(|Query(p)| p).map_err(|e| {
        Box::new(error_response(&AppError::invalid(
            "query string",
            e.body_text(),
            expected,
        )))
    })?;
    let caller = crate::http::identify_download(state, headers)
        .await
        .map_err(Box::new)?;
    crate::auth::policy::require_reader(&caller.identity)
        .map_err(|e| Box::new(error_response(&e)))?;
    Ok((params, caller))
}

/// The query string of the older JSON path.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SdmxParams {
    from: Option<i32>,
    to: Option<i32>,
    /// Region codes, comma-separated.
    regions: Option<String>,
}

/// `GET /sdmx/data/{indicator}`: the SDMX-JSON data message.
pub async fn data(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(indicator): Path<String>,
    params: Result<Query<SdmxParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let (params, caller) = match admit(&state, &headers, params, "from, to, regions").await {
        Ok(admitted) => admitted,
        Err(refused) => return *refused,
    };
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
        ..SdmxQuery::default()
    };
    answer_data(&state, &caller, &query, DataFormat::Json).await
}

/// The query string of a structure query.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StructureParams {
    references: Option<String>,
    /// Only full structures are made; the parameter is accepted as SDMX clients send it.
    #[allow(dead_code)]
    detail: Option<String>,
}

async fn structure(
    State(state): State<AppState>,
    headers: HeaderMap,
    resource: Resource,
    Path(path): Path<HashMap<String, String>>,
    params: Result<Query<StructureParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let (params, caller) = match admit(&state, &headers, params, "references, detail").await {
        Ok(admitted) => admitted,
        Err(refused) => return *refused,
    };
    let answer = (|| {
        let agency = path.get("agency").map(String::as_str);
        if agency.is_some_and(|a| !matches!(a, "all" | "*") && a != AGENCY) {
            return Err(AppError::NotFound(format!(
                "no agency {} here: structures are maintained by {AGENCY}",
                agency.unwrap_or_default()
            )));
        }
        check_version(path.get("version").map(String::as_str))?;
        let id = path
            .get("id")
            .map(String::as_str)
            .filter(|id| !matches!(*id, "all" | "*"));
        let references = params
            .references
            .as_deref()
            .map(References::parse)
            .transpose()?
            .unwrap_or(References::None);
        sdmx::ml::structure_message(&caller.scope(), resource, id, references)
    })();
    match answer {
        Ok(xml) => (
            [(
                header::CONTENT_TYPE,
                "application/vnd.sdmx.structure+xml; version=2.1; charset=utf-8",
            )],
            xml,
        )
            .into_response(),
        Err(e) => error_response(&e),
    }
}

fn check_version(version: Option<&str>) -> Result<(), AppError> {
    match version {
        None | Some("latest" | "all" | "*" | "~" | "+") => Ok(()),
        Some(v) if v == VERSION => Ok(()),
        Some(v) => Err(AppError::NotFound(format!(
            "no version {v}: every structure here is version {VERSION}"
        ))),
    }
}

/// The query string of a data query.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DataParams {
    start_period: Option<String>,
    end_period: Option<String>,
    dimension_at_observation: Option<String>,
    detail: Option<String>,
    format: Option<String>,
}

/// The formats a data message is made in.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum DataFormat {
    Ml,
    Json,
    Csv(CsvVersion),
}

/// The format asked for by `format=` or else by `Accept` (SDMX-ML when any will do).
fn data_format(headers: &HeaderMap, format: Option<&str>) -> Result<DataFormat, AppError> {
    if let Some(format) = format {
        return match format {
            "structurespecificdata" | "sdmx-ml" | "xml" => Ok(DataFormat::Ml),
            "jsondata" | "sdmx-json" | "json" => Ok(DataFormat::Json),
            "csvfile" | "sdmx-csv" | "csv" => Ok(DataFormat::Csv(CsvVersion::V1)),
            other => Err(AppError::invalid(
                "format",
                other,
                "structurespecificdata, jsondata or csvfile",
            )),
        };
    }
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("*/*");
    for media in accept.split(',').map(|m| m.trim().to_ascii_lowercase()) {
        let kind = media
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_owned();
        match kind.as_str() {
            "application/vnd.sdmx.structurespecificdata+xml"
            | "application/xml"
            | "text/xml"
            | "*/*"
            | "application/*" => return Ok(DataFormat::Ml),
            "application/vnd.sdmx.data+json" | "application/json" => return Ok(DataFormat::Json),
            "application/vnd.sdmx.data+csv" | "text/csv" => {
                let v2 = media.split(';').skip(1).any(|p| {
                    p.trim()
                        .strip_prefix("version=")
                        .is_some_and(|v| v.starts_with('2'))
                });
                return Ok(DataFormat::Csv(if v2 {
                    CsvVersion::V2
                } else {
                    CsvVersion::V1
                }));
            }
            _ => {}
        }
    }
    Err(AppError::invalid(
        "Accept",
        accept,
        "application/vnd.sdmx.structurespecificdata+xml;version=2.1, application/vnd.sdmx.data+json or application/vnd.sdmx.data+csv (generic data is not offered)",
    ))
}

/// A period's year: `2020`, `2020-06`, `2020-06-30`, `2020-A1`, `2020-Q3`, …
fn year_of(field: &str, period: &str) -> Result<i32, AppError> {
    period
        .get(..4)
        .filter(|y| y.bytes().all(|b| b.is_ascii_digit()))
        .filter(|_| period.len() == 4 || period.as_bytes().get(4) == Some(&b'-'))
        .and_then(|y| y.parse().ok())
        .ok_or_else(|| AppError::invalid(field, period, "a period such as 2020 or 2020-01"))
}

/// The flow of a data path: `HEA-03`, `CHILDHUB,HEA-03` or `CHILDHUB,HEA-03,1.0`.
fn flow_of(flow: &str) -> Result<String, AppError> {
    let parts: Vec<&str> = flow.split(',').collect();
    let (agency, id, version) = match parts.as_slice() {
        [id] => (None, *id, None),
        [agency, id] => (Some(*agency), *id, None),
        [agency, id, version] => (Some(*agency), *id, Some(*version)),
        _ => {
            return Err(AppError::invalid(
                "flow",
                flow,
                "a dataflow id, optionally with its agency and version: CHILDHUB,HEA-03,1.0",
            ));
        }
    };
    if agency.is_some_and(|a| a != AGENCY && a != "all") {
        return Err(AppError::NotFound(format!(
            "no dataflow {flow}: dataflows are maintained by {AGENCY}"
        )));
    }
    check_version(version)?;
    Ok(id.to_owned())
}

async fn rest_data(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(path): Path<HashMap<String, String>>,
    params: Result<Query<DataParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let (params, caller) = match admit(
        &state,
        &headers,
        params,
        "startPeriod, endPeriod, dimensionAtObservation, detail, format",
    )
    .await
    {
        Ok(admitted) => admitted,
        Err(refused) => return *refused,
    };
    let query = (|| {
        if let Some(d) = params
            .dimension_at_observation
            .as_deref()
            .filter(|d| *d != "TIME_PERIOD")
        {
            return Err(AppError::invalid(
                "dimensionAtObservation",
                d,
                "TIME_PERIOD (series of years)",
            ));
        }
        if let Some(d) = params
            .detail
            .as_deref()
            .filter(|d| !matches!(*d, "full" | "dataonly"))
        {
            return Err(AppError::invalid("detail", d, "full or dataonly"));
        }
        let provider = path.get("provider").map(String::as_str);
        if provider.is_some_and(|p| !matches!(p, "all" | "*") && p != AGENCY) {
            return Err(AppError::NotFound(format!(
                "no data provider {}: the hub ({AGENCY}) provides every dataflow",
                provider.unwrap_or_default()
            )));
        }
        let flow = flow_of(path.get("flow").map(String::as_str).unwrap_or_default())?;
        let mut query = SdmxQuery::for_key(&flow, path.get("key").map(String::as_str))?;
        query.year_from = params
            .start_period
            .as_deref()
            .map(|p| year_of("startPeriod", p))
            .transpose()?;
        query.year_to = params
            .end_period
            .as_deref()
            .map(|p| year_of("endPeriod", p))
            .transpose()?;
        if let (Some(from), Some(to)) = (query.year_from, query.year_to)
            && from > to
        {
            return Err(AppError::invalid(
                "startPeriod",
                from,
                format!("a period no later than endPeriod ({to})"),
            ));
        }
        let format = data_format(&headers, params.format.as_deref())?;
        Ok((query, format))
    })();
    match query {
        Ok((query, format)) => answer_data(&state, &caller, &query, format).await,
        Err(e) => error_response(&e),
    }
}

async fn answer_data(
    state: &AppState,
    caller: &Caller,
    query: &SdmxQuery,
    format: DataFormat,
) -> Response {
    let limit = state.settings.limits.max_graphql_export_rows.max(100_000);
    let scope = caller.scope();
    let answer = match format {
        DataFormat::Json => sdmx::data_message(caller.db(), &scope, query, limit)
            .await
            .map(|m| {
                (
                    "application/vnd.sdmx.data+json; version=2.0.0; charset=utf-8",
                    m.to_string(),
                )
            }),
        DataFormat::Ml => sdmx::ml::data_message(caller.db(), &scope, query, limit)
            .await
            .map(|m| {
                (
                    "application/vnd.sdmx.structurespecificdata+xml; version=2.1; charset=utf-8",
                    m,
                )
            }),
        DataFormat::Csv(version) => {
            sdmx::csv::data_message(caller.db(), &scope, query, limit, version)
                .await
                .map(|m| {
                    let media = match version {
                        CsvVersion::V1 => {
                            "application/vnd.sdmx.data+csv; version=1.0.0; charset=utf-8"
                        }
                        CsvVersion::V2 => {
                            "application/vnd.sdmx.data+csv; version=2.0.0; charset=utf-8"
                        }
                    };
                    (media, m)
                })
        }
    };
    match answer {
        Ok((content_type, body)) => ([(header::CONTENT_TYPE, content_type)], body).into_response(),
        Err(e) => error_response(&e),
    }
}
