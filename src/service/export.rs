//! Exporting observations as CSV, JSON or an Excel workbook, through the same policy (and suppression) as
//! every read. The columns start with the import columns, so an export can be edited and imported again,
//! and end with the indicator's and region's names in Chinese and English and the unit, so a person
//! can read it. Files for Excel (`GET /exports/…`, `childhub export`) start CSV with a UTF-8 BOM, without
//! which Excel on Chinese Windows shows the names as mojibake.

use crate::error::{AppError, AppResult};
use crate::service::observations::{self, ObservationFilter, ReadScope};

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

/// The header: the import columns, then what the hub adds, then the names.
pub const COLUMNS: [&str; 17] = [
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
    "indicator_name_zh",
    "indicator_name_en",
    "region_name_zh",
    "region_name_en",
    "unit",
];

const PAGE: usize = 5000;

fn io(e: std::io::Error) -> AppError {
    AppError::Internal(format!("writing the export: {e}"))
}

/// An export in progress: the caller's scope and filter resolved once, then one page of rows after
/// another, each turned into bytes. The CLI writes the chunks to a file, `GET /exports/…` streams them.
pub struct Exporter {
    scope: ReadScope,
    condition: sea_orm::Condition,
    format: ExportFormat,
    /// Start CSV with a UTF-8 BOM (a file for Excel).
    bom: bool,
    indicators: HashMap<i32, Names>,
    regions: HashMap<i32, Names>,
    /// The id of the last row exported; `None` before the first page.
    after: Option<i64>,
    written: usize,
    state: ExportState,
}

/// A code with its names (and an indicator's unit).
struct Names {
    code: String,
    zh: String,
    en: String,
    unit: &'static str,
}

/// One exported row, in [`COLUMNS`]' order (its JSON keys are the column names); hidden parts are
/// `None`.
#[derive(serde::Serialize)]
pub struct ExportRow<'a> {
    pub indicator: &'a str,
    pub region: &'a str,
    pub year: i32,
    pub sex: &'a str,
    pub age_group: &'a str,
    pub residence: &'a str,
    pub value: Option<f64>,
    pub numerator: Option<f64>,
    pub denominator: Option<f64>,
    pub status: String,
    /// A suppressed value keeps its revision to itself: a new revision tells of a correction.
    pub revision: Option<i32>,
    pub suppressed: bool,
    pub indicator_name_zh: &'a str,
    pub indicator_name_en: &'a str,
    pub region_name_zh: &'a str,
    pub region_name_en: &'a str,
    pub unit: &'a str,
}

impl ExportRow<'_> {
    /// The row as spreadsheet cells.
    pub fn cells(&self) -> Vec<crate::spreadsheet::write::Cell> {
        use crate::spreadsheet::write::Cell;
        let text = |t: &str| Cell::Text(t.to_owned());
        let number = |n: Option<f64>| n.map_or(Cell::Empty, Cell::Number);
        vec![
            text(self.indicator),
            text(self.region),
            Cell::Number(f64::from(self.year)),
            text(self.sex),
            text(self.age_group),
            text(self.residence),
            number(self.value),
            number(self.numerator),
            number(self.denominator),
            text(&self.status),
            number(self.revision.map(f64::from)),
            text(if self.suppressed { "true" } else { "false" }),
            text(self.indicator_name_zh),
            text(self.indicator_name_en),
            text(self.region_name_zh),
            text(self.region_name_en),
            text(self.unit),
        ]
    }

    /// The row as CSV fields: the cells' text (numbers as Rust prints them: `97`, `3.9`).
    fn fields(&self) -> Vec<String> {
        use crate::spreadsheet::write::Cell;
        self.cells()
            .into_iter()
            .map(|c| match c {
                Cell::Text(t) => t,
                Cell::Number(n) => n.to_string(),
                Cell::Empty => String::new(),
            })
            .collect()
    }
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
                .map(|i| {
                    let names = Names {
                        code: i.code.clone(),
                        zh: i.name_zh.clone(),
                        en: i.name_en.clone(),
                        unit: i.unit.symbol_or_name(),
                    };
                    (i.id, names)
                })
                .collect(),
            regions: scope
                .reference
                .all_regions()
                .iter()
                .map(|r| {
                    let names = Names {
                        code: r.code.clone(),
                        zh: r.name_zh.clone(),
                        en: r.name_en.clone(),
                        unit: "",
                    };
                    (r.id, names)
                })
                .collect(),
            scope,
            condition,
            format,
            bom: false,
            after: None,
            written: 0,
            state: ExportState::Start,
        })
    }

    /// A file for Excel: CSV starts with a UTF-8 BOM.
    pub fn for_excel(mut self) -> Self {
        self.bom = true;
        self
    }

    /// Rows exported so far.
    pub fn written(&self) -> usize {
        self.written
    }

    /// Calls `each` with the next page's rows; `false` when everything was exported before the call.
    pub async fn next_rows(
        &mut self,
        db: &impl sea_orm::ConnectionTrait,
        mut each: impl FnMut(&ExportRow<'_>) -> AppResult<()>,
    ) -> AppResult<bool> {
        if self.state == ExportState::Done {
            return Ok(false);
        }
        let page =
            observations::read_page(db, &self.scope, self.condition.clone(), PAGE, self.after)
                .await?;
        let none = Names {
            code: String::new(),
            zh: String::new(),
            en: String::new(),
            unit: "",
        };
        for r in &page.records {
            let m = &r.model;
            let indicator = self.indicators.get(&m.indicator_id).unwrap_or(&none);
            let region = self.regions.get(&m.region_id).unwrap_or(&none);
            each(&ExportRow {
                indicator: &indicator.code,
                region: &region.code,
                year: m.year,
                sex: &m.sex,
                age_group: &m.age_group,
                residence: &m.residence,
                value: r.value(),
                numerator: r.numerator(),
                denominator: r.denominator(),
                status: m.status.to_string(),
                revision: (!r.suppressed).then_some(m.revision),
                suppressed: r.suppressed,
                indicator_name_zh: &indicator.zh,
                indicator_name_en: &indicator.en,
                region_name_zh: &region.zh,
                region_name_en: &region.en,
                unit: indicator.unit,
            })?;
            self.written += 1;
        }
        self.after = page.records.last().map(|r| r.model.id).or(self.after);
        if !page.has_next {
            self.state = ExportState::Done;
        }
        Ok(true)
    }

    /// The bytes of the next page (the header comes with the first), or `None` when everything was
    /// exported.
    pub async fn next_chunk(
        &mut self,
        db: &impl sea_orm::ConnectionTrait,
    ) -> AppResult<Option<Vec<u8>>> {
        let mut out = Vec::new();
        if self.state == ExportState::Start {
            match self.format {
                ExportFormat::Csv => {
                    if self.bom {
                        out.extend_from_slice(crate::spreadsheet::write::UTF8_BOM);
                    }
                    let mut csv = csv::Writer::from_writer(&mut out);
                    csv.write_record(COLUMNS).map_err(csv_error)?;
                    csv.flush().map_err(io)?;
                }
                ExportFormat::Json => out.push(b'['),
            }
            self.state = ExportState::Rows;
        }
        let format = self.format;
        let mut first = self.written == 0;
        let mut csv = csv::Writer::from_writer(Vec::new());
        let more = self
            .next_rows(db, |row| {
                match format {
                    ExportFormat::Csv => csv.write_record(row.fields()).map_err(csv_error)?,
                    ExportFormat::Json => {
                        if !first {
                            out.push(b',');
                        }
                        first = false;
                        serde_json::to_writer(&mut out, row)
                            .map_err(|e| AppError::Internal(e.to_string()))?;
                    }
                }
                Ok(())
            })
            .await?;
        if !more {
            return Ok(None);
        }
        if format == ExportFormat::Csv {
            out.extend(
                csv.into_inner()
                    .map_err(|e| AppError::Internal(e.to_string()))?,
            );
        }
        if self.state == ExportState::Done && format == ExportFormat::Json {
            out.push(b']');
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
    export_to(Exporter::start(scope, filter, format)?, db, limit, out).await
}

/// [`export`] from an exporter already started (e.g. [`Exporter::for_excel`]).
pub async fn export_to(
    mut exporter: Exporter,
    db: &impl sea_orm::ConnectionTrait,
    limit: usize,
    out: &mut impl Write,
) -> AppResult<usize> {
    while let Some(chunk) = exporter.next_chunk(db).await? {
        if exporter.written() > limit {
            return Err(too_many(limit));
        }
        out.write_all(&chunk).map_err(io)?;
    }
    Ok(exporter.written())
}

/// Rows one exported workbook holds: an Excel sheet's, less the header.
pub const MAX_XLSX_ROWS: usize = crate::spreadsheet::write::XLSX_MAX_ROWS as usize - 1;

/// Every observation matching `filter` that the caller may read as an `.xlsx` workbook (one sheet,
/// the same columns), at most `limit` rows and never more than one Excel sheet holds; with the number
/// of rows.
#[tracing::instrument(name = "export values as xlsx", skip_all)]
pub async fn export_xlsx(
    db: &impl sea_orm::ConnectionTrait,
    scope: ReadScope,
    filter: &ObservationFilter,
    limit: usize,
) -> AppResult<(Vec<u8>, usize)> {
    use crate::spreadsheet::write::TableWriter;
    let limit = limit.min(MAX_XLSX_ROWS);
    let xlsx =
        |e: rust_xlsxwriter::XlsxError| AppError::Internal(format!("writing the workbook: {e}"));
    let mut exporter = Exporter::start(scope, filter, ExportFormat::Csv)?;
    let mut table = TableWriter::new("observations", &COLUMNS).map_err(xlsx)?;
    while exporter
        .next_rows(db, |row| table.push(&row.cells()).map_err(xlsx))
        .await?
    {
        if exporter.written() > limit {
            return Err(too_many(limit));
        }
    }
    // Compressing the package is CPU work: on the compute pool, off the runtime.
    let rows = exporter.written();
    let bytes =
        crate::service::compute::run("writing a workbook", move |_| table.finish().map_err(xlsx))
            .await??;
    Ok((bytes, rows))
}

/// The error for an export above its row limit.
pub fn too_many(limit: usize) -> AppError {
    AppError::invalid(
        "filter",
        format!("more than {limit} rows"),
        "a narrower filter, or GET /exports/observations.csv (or `childhub export observations`) for whole tables",
    )
}
