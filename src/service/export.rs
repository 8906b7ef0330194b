//! Exporting observations as CSV or JSON, through the same policy (and suppression) as every read. The CSV
//! columns start with the import columns, so an export can be edited and imported again.

use crate::auth::Identity;
use crate::error::{AppError, AppResult};
use crate::service::observations::{self, ObservationFilter, ReadScope, Record};
use crate::service::{catalogue, regions};
use std::collections::HashMap;
use std::io::Write;

/// File formats of an export.
#[derive(async_graphql::Enum, clap::ValueEnum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Json,
}

/// The CSV header: the import columns, then what the hub adds.
pub const COLUMNS: [&str; 12] = [
    "indicator",
    "region",
    "year",
    "sex",
    "age_group",
    "residence",
    "value",
    "numerator",
    "denominator",
    "status",
    "revision",
    "suppressed",
];

const PAGE: usize = 5000;

fn io(e: std::io::Error) -> AppError {
    AppError::Internal(format!("writing the export: {e}"))
}

fn number(v: Option<f64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// Writes every observation matching `filter` that the caller may read, at most `limit` rows (an error
/// names the limit when there are more). Returns the number of rows written.
pub async fn export(
    db: &impl sea_orm::ConnectionTrait,
    identity: &Identity,
    filter: &ObservationFilter,
    format: ExportFormat,
    limit: usize,
    out: &mut impl Write,
) -> AppResult<usize> {
    let indicators: HashMap<i32, String> = catalogue::all_indicators(db)
        .await?
        .into_iter()
        .map(|i| (i.id, i.code))
        .collect();
    let regions: HashMap<i32, String> = regions::all_regions(db)
        .await?
        .into_iter()
        .map(|r| (r.id, r.code))
        .collect();
    let code = |map: &HashMap<i32, String>, id: i32| map.get(&id).cloned().unwrap_or_default();
    let mut csv = csv::Writer::from_writer(Vec::new());
    match format {
        ExportFormat::Csv => csv
            .write_record(COLUMNS)
            .map_err(|e| AppError::Internal(e.to_string()))?,
        ExportFormat::Json => out.write_all(b"[").map_err(io)?,
    }
    let mut written = 0;
    // The scope and the filter are resolved once; pages follow by observation id.
    let scope = ReadScope::load(db, identity).await?;
    let condition = observations::filter_condition(db, &scope, filter).await?;
    let mut after: Option<i64> = None;
    loop {
        let page = observations::read_page(db, &scope, condition.clone(), PAGE, after).await?;
        if written + page.records.len() > limit {
            return Err(AppError::invalid(
                "filter",
                format!("more than {limit} rows"),
                "a narrower filter, or `childhub export observations` for whole tables",
            ));
        }
        for r in &page.records {
            let m = &r.model;
            match format {
                ExportFormat::Csv => csv
                    .write_record([
                        code(&indicators, m.indicator_id),
                        code(&regions, m.region_id),
                        m.year.to_string(),
                        m.sex.clone(),
                        m.age_group.clone(),
                        m.residence.clone(),
                        number(r.value()),
                        number(r.numerator()),
                        number(r.denominator()),
                        m.status.clone(),
                        m.revision.to_string(),
                        r.suppressed.to_string(),
                    ])
                    .map_err(|e| AppError::Internal(e.to_string()))?,
                ExportFormat::Json => {
                    if written > 0 {
                        out.write_all(b",").map_err(io)?;
                    }
                    serde_json::to_writer(
                        &mut *out,
                        &json_row(
                            r,
                            &code(&indicators, m.indicator_id),
                            &code(&regions, m.region_id),
                        ),
                    )
                    .map_err(|e| AppError::Internal(e.to_string()))?;
                }
            }
            written += 1;
        }
        if format == ExportFormat::Csv {
            let bytes = std::mem::replace(&mut csv, csv::Writer::from_writer(Vec::new()))
                .into_inner()
                .map_err(|e| AppError::Internal(format!("writing the export: {e}")))?;
            out.write_all(&bytes).map_err(io)?;
        }
        if !page.has_next {
            break;
        }
        after = page.records.last().map(|r| r.model.id);
    }
    if format == ExportFormat::Json {
        out.write_all(b"]").map_err(io)?;
    }
    Ok(written)
}

fn json_row(r: &Record, indicator: &str, region: &str) -> serde_json::Value {
    let m = &r.model;
    serde_json::json!({
        "indicator": indicator, "region": region, "year": m.year, "sex": m.sex, "age_group": m.age_group,
        "residence": m.residence, "value": r.value(), "numerator": r.numerator(), "denominator": r.denominator(),
        "status": m.status, "revision": m.revision, "suppressed": r.suppressed,
    })
}
