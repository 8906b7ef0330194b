//! A department's file submitted as values: read (`intake`), checked like any batch, previewed with its
//! quality warnings, and — once the submitter confirmed the warnings — stored as one submission that
//! keeps the file's name, each value's cell and the warnings confirmed. Nothing is written while any
//! cell is wrong; every problem names its cell. The Reporting page, the GraphQL upload, the command line
//! and the file sources all come through here.

use crate::config::Settings;
use crate::error::{AppError, AppResult};
use crate::service::Db;
use crate::service::audit::{UploadInfo, WriteContext};
use crate::service::intake::{self, CellProblem, Intake, IntakeOptions};
use crate::service::quality::{self, PreviewWarning};
use crate::service::submissions::{self, Codebook, SubmitOutcome};
use crate::spreadsheet::ReadLimits;
use std::sync::Arc;

/// How to submit a file.
#[derive(Clone, Debug, Default)]
pub struct UploadOptions {
    /// The year of a sheet without a year column.
    pub year: Option<i32>,
    /// Read and check everything, write nothing: the preview.
    pub dry_run: bool,
    /// The submitter looked at the warnings the preview showed and stands by the values.
    pub confirm_warnings: bool,
}

/// What a file submission did (or, as a preview, would do).
#[derive(Clone, Debug)]
pub struct UploadOutcome {
    pub intake: Intake,
    pub outcome: SubmitOutcome,
    /// Everything wrong, by cell: reading problems and the batch checks of the rows read.
    pub problems: Vec<CellProblem>,
    /// Findings that need the submitter's confirmation, with their cells.
    pub warnings: Vec<(PreviewWarning, String)>,
    /// Not written because warnings were not confirmed.
    pub needs_confirmation: bool,
}

/// What a file may be, from the settings.
pub fn limits_of(settings: &Settings) -> ReadLimits {
    ReadLimits {
        max_rows: settings.limits.max_upload_rows as u32 + 100,
        ..ReadLimits::default()
    }
}

/// Submits the file `name` with content `bytes` as `ctx`'s department.
pub async fn submit_file(
    db: &Db,
    ctx: &WriteContext,
    settings: &Settings,
    bytes: Vec<u8>,
    name: &str,
    options: &UploadOptions,
) -> AppResult<UploadOutcome> {
    if bytes.len() > settings.limits.max_upload_bytes {
        return Err(AppError::invalid(
            "file",
            format!("{name} ({} MB)", bytes.len() / 1_048_576),
            format!(
                "a file of at most {} MB (limits.max_upload_bytes)",
                settings.limits.max_upload_bytes / 1_048_576
            ),
        ));
    }
    let catalogue = Arc::new(Codebook::load(db).await?);
    let limits = limits_of(settings);
    let read_options = IntakeOptions { year: options.year };
    let (file, shared) = (name.to_owned(), catalogue.clone());
    // Reading a large workbook is CPU work: on the compute pool, off the runtime.
    let intake = crate::service::compute::run("reading a file", move |_| {
        intake::read(&bytes, &file, limits, &shared, &read_options)
    })
    .await??;
    let mut problems = intake.problems.clone();
    if problems.is_empty() && intake.rows.len() > settings.limits.max_upload_rows {
        return Err(AppError::invalid(
            "file",
            format!("{name} ({} values)", intake.rows.len()),
            format!(
                "at most {} values per file (limits.max_upload_rows); split the file",
                settings.limits.max_upload_rows
            ),
        ));
    }
    let empty = |intake: Intake, problems| UploadOutcome {
        intake,
        outcome: SubmitOutcome::default(),
        problems,
        warnings: Vec::new(),
        needs_confirmation: false,
    };
    if !problems.is_empty() {
        return Ok(empty(intake, problems));
    }
    // The checks every batch passes, reported at the rows' cells.
    let checked =
        submissions::submit_checked(db, ctx, settings, &catalogue, &intake.rows, true).await?;
    if !checked.row_errors.is_empty() {
        problems.extend(checked.row_errors.iter().map(|e| at_cell(&intake, e)));
        return Ok(empty(intake, problems));
    }
    let warnings: Vec<(PreviewWarning, String)> =
        quality::preview_warnings(db, &catalogue, settings, &intake.rows)
            .await?
            .into_iter()
            .map(|w| {
                let cell = intake
                    .cells
                    .get(w.row)
                    .map(|c| c.address())
                    .unwrap_or_default();
                (w, cell)
            })
            .collect();
    if options.dry_run || (!warnings.is_empty() && !options.confirm_warnings) {
        return Ok(UploadOutcome {
            needs_confirmation: !options.dry_run && !warnings.is_empty(),
            intake,
            outcome: checked,
            problems,
            warnings,
        });
    }
    let mut ctx = ctx.clone();
    ctx.upload = Some(Arc::new(UploadInfo {
        origin: format!(
            "file {name} ({}{}, {} layout){}",
            intake.format.name(),
            intake.encoding.map(|e| format!(" {e}")).unwrap_or_default(),
            intake.layout.name(),
            match ctx.channel().as_str() {
                "api" => String::new(),
                channel => format!(", {channel}"),
            }
        ),
        cells: intake.cells.iter().map(|c| c.address()).collect(),
        warnings: serde_json::json!({
            "confirmed_by": ctx.identity.subject(),
            "warnings": warnings.iter().map(|(w, cell)| serde_json::json!({
                "cell": cell, "kind": w.kind, "message": w.message,
            })).collect::<Vec<_>>(),
        }),
    }));
    let outcome =
        submissions::submit_checked(db, &ctx, settings, &catalogue, &intake.rows, false).await?;
    Ok(UploadOutcome {
        intake,
        outcome,
        problems,
        warnings,
        needs_confirmation: false,
    })
}

/// Problems as a CSV file for Excel (with a BOM): cell, value, problem.
pub fn problems_csv(problems: &[CellProblem]) -> Vec<u8> {
    let mut rows = vec![vec![
        "cell".to_owned(),
        "value".to_owned(),
        "problem".to_owned(),
    ]];
    rows.extend(
        problems
            .iter()
            .map(|p| vec![p.cell.clone(), p.value.clone(), p.message.clone()]),
    );
    crate::spreadsheet::write::csv_with_bom(&rows)
}

/// A batch check's row error at the cell the row's value came from.
fn at_cell(intake: &Intake, error: &submissions::RowError) -> CellProblem {
    let cell = intake.cells.get(error.row);
    let (sheet, row, col) = cell.map_or((String::new(), 0, 0), |c| (c.sheet.clone(), c.row, c.col));
    CellProblem {
        cell: cell.map(|c| c.address()).unwrap_or_default(),
        sheet,
        row,
        col,
        value: error.value.clone(),
        message: format!("{}: {}", error.field, error.message),
    }
}
