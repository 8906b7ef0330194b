//! Exporting observations as CSV or JSON, through the same policy (and suppression) as every read. The CSV
//! columns start with the import columns, so an export can be edited and imported again.

use crate::error::{AppError, AppResult};
use crate::service::observations::{self, ObservationFilter, ReadScope, Record};

use std::collections::HashMap;
use std::io::Write;

/// File formats of an export.
#[derive(async_graphql::Enum, clap::ValueEnum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    /// Comma-separated values, UTF-8, the import columns first (opens in Excel and WPS).
    Csv,
    /// A JSON array of objects with the same fields as the CSV.
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

/// An export in progress: the caller's scope and filter resolved once, then one page of rows after
/// another, each turned into bytes. The CLI writes the chunks to a file, `GET /exports/…` streams them.
pub struct Exporter {
    scope: ReadScope,
    condition: sea_orm::Condition,
    format: ExportFormat,
    indicators: HashMap<i32, String>,
    regions: HashMap<i32, String>,
    /// The id of the last row exported; `None` before the first page.
    after: Option<i64>,
    written: usize,
    state: ExportState,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ExportState {
    Start,
    Rows,
    Done,
}

impl Exporter {
    /// Resolves the caller's scope and the filter; bad filters are errors naming the input.
    pub fn start(
        scope: ReadScope,
        filter: &ObservationFilter,
        format: ExportFormat,
    ) -> AppResult<Self> {
        let condition = observations::filter_condition(&scope, filter)?;
        Ok(Exporter {
            indicators: scope
                .reference
                .all_indicators()
                .iter()
                .map(|i| (i.id, i.code.clone()))
                .collect(),
            regions: scope
                .reference
                .all_regions()
                .iter()
                .map(|r| (r.id, r.code.clone()))
                .collect(),
            scope,
            condition,
            format,
            after: None,
            written: 0,
            state: ExportState::Start,
        })
    }

    /// Rows exported so far.
    pub fn written(&self) -> usize {
        self.written
    }

    /// The bytes of the next page (the header comes with the first), or `None` when everything was
    /// exported.
    pub async fn next_chunk(
        &mut self,
        db: &impl sea_orm::ConnectionTrait,
    ) -> AppResult<Option<Vec<u8>>> {
        let mut out = Vec::new();
        match self.state {
            ExportState::Done => return Ok(None),
            ExportState::Start => {
                match self.format {
                    ExportFormat::Csv => {
                        let mut csv = csv::Writer::from_writer(&mut out);
                        csv.write_record(COLUMNS).map_err(csv_error)?;
                        csv.flush().map_err(io)?;
                    }
                    ExportFormat::Json => out.push(b'['),
                }
                self.state = ExportState::Rows;
            }
            ExportState::Rows => {}
        }
        let page =
            observations::read_page(db, &self.scope, self.condition.clone(), PAGE, self.after)
                .await?;
        let mut csv = csv::Writer::from_writer(Vec::new());
        for r in &page.records {
            let m = &r.model;
            let indicator = self
                .indicators
                .get(&m.indicator_id)
                .cloned()
                .unwrap_or_default();
            let region = self.regions.get(&m.region_id).cloned().unwrap_or_default();
            // A suppressed value keeps its revision to itself: a new revision tells of a correction.
            let revision = (!r.suppressed).then_some(m.revision);
            match self.format {
                ExportFormat::Csv => csv
                    .write_record([
                        indicator,
                        region,
                        m.year.to_string(),
                        m.sex.clone(),
                        m.age_group.clone(),
                        m.residence.clone(),
                        number(r.value()),
                        number(r.numerator()),
                        number(r.denominator()),
                        m.status.to_string(),
                        revision.map(|v| v.to_string()).unwrap_or_default(),
                        r.suppressed.to_string(),
                    ])
                    .map_err(csv_error)?,
                ExportFormat::Json => {
                    if self.written > 0 {
                        out.push(b',');
                    }
                    serde_json::to_writer(&mut out, &json_row(r, &indicator, &region, revision))
                        .map_err(|e| AppError::Internal(e.to_string()))?;
                }
            }
            self.written += 1;
        }
        if self.format == ExportFormat::Csv {
            out.extend(
                csv.into_inner()
                    .map_err(|e| AppError::Internal(e.to_string()))?,
            );
        }
        self.after = page.records.last().map(|r| r.model.id).or(self.after);
        if !page.has_next {
            self.state = ExportState::Done;
            if self.format == ExportFormat::Json {
                out.push(b']');
            }
        }
        Ok(Some(out))
    }
}

fn csv_error(e: csv::Error) -> AppError {
    AppError::Internal(format!("writing the export: {e}"))
}

/// Writes every observation matching `filter` that the caller may read, at most `limit` rows (an error
/// names the limit when there are more, and nothing is returned). Returns the number of rows written.
#[tracing::instrument(name = "export values", skip_all)]
pub async fn export(
    db: &impl sea_orm::ConnectionTrait,
    scope: ReadScope,
    filter: &ObservationFilter,
    format: ExportFormat,
    limit: usize,
    out: &mut impl Write,
) -> AppResult<usize> {
    let mut exporter = Exporter::start(scope, filter, format)?;
    while let Some(chunk) = exporter.next_chunk(db).await? {
        if exporter.written() > limit {
            return Err(too_many(limit));
        }
        out.write_all(&chunk).map_err(io)?;
    }
    Ok(exporter.written())
}

/// The error for an export above its row limit.
pub fn too_many(limit: usize) -> AppError {
    AppError::invalid(
        "filter",
        format!("more than {limit} rows"),
        "a narrower filter, or GET /exports/observations.csv (or `childhub export observations`) for whole tables",
    )
}

fn json_row(r: &Record, indicator: &str, region: &str, revision: Option<i32>) -> serde_json::Value {
    let m = &r.model;
    serde_json::json!({
        "indicator": indicator, "region": region, "year": m.year, "sex": m.sex, "age_group": m.age_group,
        "residence": m.residence, "value": r.value(), "numerator": r.numerator(), "denominator": r.denominator(),
        "status": m.status, "revision": revision, "suppressed": r.suppressed,
    })
}
