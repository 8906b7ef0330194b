//! Bulk import of observations from CSV (`childhub import observations`): the same checks and writes as
//! `submitObservations`, streamed from a file. Without `batch` the whole file is one submission in one
//! transaction; with `batch` each N rows are one, and a checkpoint file lets an interrupted import resume.
//! Bad rows go to a rejects file with the reason for each.

use crate::config::Settings;
use crate::error::{AppError, AppResult};
use crate::service::audit::WriteContext;
use crate::service::submissions::{self, AuditRows, Codebook, RowError, RowInput, Seen, validate};
use crate::vocabulary::Unit;
use sea_orm::{ActiveValue::Set, DatabaseConnection, DatabaseTransaction, EntityTrait};
use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};
use std::path::Path;

/// How to import.
#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    /// Rows per submission (and transaction); `None`: the whole file at once.
    pub batch: Option<usize>,
    /// Check everything, write nothing.
    pub dry_run: bool,
    /// Where a batched import records how many rows it committed, to resume from there.
    pub checkpoint: Option<std::path::PathBuf>,
    /// Set (by Ctrl-C) to stop at the next batch boundary: a batched import keeps what it committed, a
    /// whole-file import rolls back.
    pub stop: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
}

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportSummary {
    /// Data rows read (after any resumed ones).
    pub rows: usize,
    pub written: usize,
    pub unchanged: usize,
    pub rejected: usize,
    /// Submissions created, in order.
    pub submissions: Vec<i64>,
    /// Rows skipped because an earlier run committed them.
    pub resumed_from: usize,
    /// Stopped before the end of the file (see [`ImportOptions::stop`]); `committed` rows are kept.
    pub interrupted: bool,
    /// Rows of the file committed by now, counting resumed ones (batched imports; 0 for a whole file
    /// that was not committed).
    pub committed: usize,
}

/// A data row that could not even be read as numbers, with its reason.
struct Unreadable {
    field: &'static str,
    value: String,
}

fn parse_row(
    record: &csv::StringRecord,
    columns: &HashMap<String, usize>,
) -> Result<RowInput, Unreadable> {
    let text = |name: &str| {
        columns
            .get(name)
            .and_then(|&i| record.get(i))
            .map(str::trim)
            .unwrap_or("")
    };
    let optional = |name: &'static str| -> Result<Option<f64>, Unreadable> {
        match text(name) {
            "" => Ok(None),
            v => v.parse::<f64>().map(Some).map_err(|_| Unreadable {
                field: name,
                value: v.to_owned(),
            }),
        }
    };
    let or_total = |name: &str| match text(name) {
        "" => crate::vocabulary::TOTAL.to_owned(),
        v => v.to_owned(),
    };
    Ok(RowInput {
        indicator: text("indicator").to_owned(),
        region: text("region").to_owned(),
        year: text("year").parse().map_err(|_| Unreadable {
            field: "year",
            value: text("year").to_owned(),
        })?,
        sex: or_total("sex"),
        age_group: or_total("age_group"),
        residence: or_total("residence"),
        value: text("value").parse().map_err(|_| Unreadable {
            field: "value",
            value: text("value").to_owned(),
        })?,
        numerator: optional("numerator")?,
        denominator: optional("denominator")?,
    })
}

/// Whether a file that starts with `head` is the bulk format streamed here: UTF-8 text (a BOM is fine)
/// whose header line names only the import columns, in English, among them indicator, region, year
/// and value — what `childhub export observations` writes. Any other file (a workbook, GBK, Chinese
/// headers, names for codes, the wide layout, the hub's template) is read whole by the reader the
/// Reporting page uses (`service::upload`).
pub fn is_bulk_csv(head: &[u8]) -> bool {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let Some(end) = head.iter().position(|b| *b == b'\n') else {
        return false;
    };
    let Ok(header) = std::str::from_utf8(&head[..end]) else {
        return false;
    };
    // The rest of what was read must be UTF-8 too (a character cut at the end of `head` is fine).
    let rest = &head[end..];
    if let Err(e) = std::str::from_utf8(rest)
        && (e.error_len().is_some() || rest.len() - e.valid_up_to() > 3)
    {
        return false;
    }
    const KNOWN: [&str; 17] = crate::service::export::COLUMNS;
    let columns: Vec<&str> = header
        .trim_end_matches('\r')
        .split(',')
        .map(str::trim)
        .collect();
    columns.iter().all(|c| KNOWN.contains(c) || c.is_empty())
        && ["indicator", "region", "year", "value"]
            .iter()
            .all(|required| columns.contains(required))
}

/// Reads the checkpoint: how many data rows an earlier run committed.
/// The rows of the file committed so far by batched runs (0 without a checkpoint).
pub fn read_checkpoint(path: Option<&Path>) -> usize {
    path.and_then(|p| std::fs::read_to_string(p).ok())
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(0)
}

fn write_checkpoint(path: Option<&Path>, rows: usize) -> AppResult<()> {
    if let Some(p) = path {
        std::fs::write(p, rows.to_string())
            .map_err(|e| AppError::Internal(format!("writing checkpoint {}: {e}", p.display())))?;
    }
    Ok(())
}

/// Imports a CSV stream. `rejects` receives every bad row (its line number, the reason, and the original
/// fields); `progress` is told how many rows have been read so far.
pub async fn import_observations(
    db: &DatabaseConnection,
    ctx: &WriteContext,
    settings: &Settings,
    input: impl Read,
    rejects: &mut impl Write,
    options: &ImportOptions,
    mut progress: impl FnMut(usize),
) -> AppResult<ImportSummary> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(input);
    let headers = reader
        .byte_headers()
        .map_err(|e| AppError::invalid("FILE", "header", format!("a CSV header row ({e})")))?
        .clone();
    let headers = as_text(headers, 1)?;
    let columns: HashMap<String, usize> = headers
        .iter()
        .enumerate()
        .map(|(i, h)| (h.trim().to_owned(), i))
        .collect();
    for required in ["indicator", "region", "year", "value"] {
        if !columns.contains_key(required) {
            return Err(AppError::invalid(
                "FILE",
                headers.iter().collect::<Vec<_>>().join(","),
                format!(
                    "a header with a `{required}` column (columns: indicator,region,year,sex,age_group,residence,value,numerator,denominator)"
                ),
            ));
        }
    }
    // With a BOM, so that Excel shows the Chinese in the reasons.
    rejects
        .write_all(crate::spreadsheet::write::UTF8_BOM)
        .map_err(|e| AppError::Internal(format!("writing the rejects file: {e}")))?;
    let mut rejects = csv::Writer::from_writer(rejects);
    let mut header = vec!["line", "reason"];
    header.extend(headers.iter());
    rejects
        .write_record(&header)
        .map_err(|e| AppError::Internal(e.to_string()))?;

    let checkpoint = options
        .checkpoint
        .as_deref()
        .filter(|_| options.batch.is_some());
    let skip = read_checkpoint(checkpoint);
    let snapshot = Codebook::load(db).await?;
    // A whole-file import is one transaction, filled chunk by chunk so that memory stays bounded.
    let (chunk, txn) = match options.batch {
        Some(n) => (n.max(1), None),
        None => (FILE_CHUNK, Some(crate::service::begin_write(db).await?)),
    };
    let mut importer = Importer {
        db,
        ctx,
        settings,
        units: snapshot.units(),
        snapshot,
        options,
        rejects,
        summary: ImportSummary {
            resumed_from: skip,
            ..ImportSummary::default()
        },
        batch: Batch::default(),
        file: txn.map(|txn| FileTransaction {
            txn,
            submission: None,
            seen: Seen::default(),
            audit: AuditRows::default(),
        }),
    };
    let mut done = skip;
    for (i, record) in reader.byte_records().enumerate() {
        // Line numbers count the header as line 1.
        let line = i + 2;
        let record = record.map_err(|e| {
            AppError::invalid(
                "FILE",
                format!("line {line}"),
                format!("well-formed CSV ({e})"),
            )
        })?;
        let record = as_text(record, line)?;
        if i < skip {
            continue;
        }
        importer.summary.rows += 1;
        importer.batch.push(line, record, &columns);
        if importer.summary.rows.is_multiple_of(10_000) {
            progress(importer.summary.rows);
        }
        if importer.batch.rows.len() >= chunk {
            done += importer.batch.rows.len();
            importer.flush().await?;
            if !options.dry_run {
                write_checkpoint(checkpoint, done)?;
            }
            if options
                .stop
                .as_ref()
                .is_some_and(|stop| stop.load(std::sync::atomic::Ordering::SeqCst))
            {
                importer.summary.interrupted = true;
                let kept = options.batch.is_some() && !options.dry_run;
                importer.summary.committed = if kept { done } else { 0 };
                // Dropping the importer rolls back a whole-file transaction.
                return Ok(std::mem::take(&mut importer.summary));
            }
        }
    }
    progress(importer.summary.rows);
    if !importer.batch.rows.is_empty() {
        done += importer.batch.rows.len();
        importer.flush().await?;
        if !options.dry_run {
            write_checkpoint(checkpoint, done)?;
        }
    }
    let mut summary = importer.finish().await?;
    let kept = !options.dry_run && (options.batch.is_some() || summary.rejected == 0);
    summary.committed = if kept { done } else { 0 };
    Ok(summary)
}

/// A record as text. A file that is not UTF-8 is almost always one Excel or WPS saved as GBK (their
/// default on Chinese Windows): the error says so, shows the line as GBK reads it, and says how to fix it.
/// `line` counts the header as line 1; it is only formatted on the error path (this runs per row).
fn as_text(record: csv::ByteRecord, line: usize) -> AppResult<csv::StringRecord> {
    csv::StringRecord::from_byte_record(record).map_err(|e| {
        let bytes = e.into_byte_record().iter().collect::<Vec<_>>().join(&b","[..]);
        let (text, _, malformed) = encoding_rs::GB18030.decode(&bytes);
        let reads = if malformed {
            "; it is not GBK either".to_owned()
        } else {
            let shown: String = text.chars().take(60).collect();
            format!(" (it looks like GBK/GB18030, where it reads \"{shown}\")")
        };
        let at = if line == 1 {
            "the header (line 1)".to_owned()
        } else {
            format!("line {line}")
        };
        AppError::invalid(
            "FILE",
            at,
            format!(
                "UTF-8 text{reads}: save the file as \"CSV UTF-8\" (Excel: Save As → CSV UTF-8; WPS: \
                 另存为 → CSV, encoding UTF-8) and import it again"
            ),
        )
    })
}

/// Rows per chunk of a whole-file import.
const FILE_CHUNK: usize = 10_000;

/// The one transaction of a whole-file import.
struct FileTransaction {
    txn: DatabaseTransaction,
    /// Opened with the first changed row.
    submission: Option<entity::submission::Model>,
    /// Keys met so far, so that a key twice in the file is refused even across chunks.
    seen: Seen,
    audit: AuditRows,
}

/// The rows read since the last flush, with their lines for the rejects file.
#[derive(Default)]
struct Batch {
    rows: Vec<RowInput>,
    records: Vec<(usize, csv::StringRecord)>,
    /// Rows that could not be read; they stand in `rows` as placeholders.
    unreadable: Vec<RowError>,
}

impl Batch {
    fn push(&mut self, line: usize, record: csv::StringRecord, columns: &HashMap<String, usize>) {
        match parse_row(&record, columns) {
            Ok(row) => self.rows.push(row),
            Err(bad) => {
                self.unreadable.push(RowError {
                    row: self.records.len(),
                    field: bad.field.to_owned(),
                    value: bad.value,
                    message: "expected a number".to_owned(),
                });
                self.rows.push(RowInput {
                    indicator: String::new(),
                    region: String::new(),
                    year: 0,
                    sex: String::new(),
                    age_group: String::new(),
                    residence: String::new(),
                    value: f64::NAN,
                    numerator: None,
                    denominator: None,
                });
            }
        }
        self.records.push((line, record));
    }
}

/// One import in progress.
struct Importer<'a, W: Write> {
    db: &'a DatabaseConnection,
    ctx: &'a WriteContext,
    settings: &'a Settings,
    snapshot: Codebook,
    units: HashMap<i32, Unit>,
    options: &'a ImportOptions,
    rejects: csv::Writer<W>,
    summary: ImportSummary,
    batch: Batch,
    /// Present for a whole-file import; batched imports write each batch in its own transaction.
    file: Option<FileTransaction>,
}

impl<W: Write> Importer<'_, W> {
    /// Checks the chunk and writes it (into the file's transaction, or as its own submission); bad rows
    /// go to the rejects file with their reasons and keep the chunk (or the whole file) from being
    /// written.
    async fn flush(&mut self) -> AppResult<()> {
        let batch = std::mem::take(&mut self.batch);
        let offset = self.summary.rows - batch.rows.len();
        // Unreadable rows stand in the chunk as placeholders; their own errors are replaced by the
        // reason they could not be read, while every other bad row is still reported.
        let placeholders: HashSet<usize> = batch.unreadable.iter().map(|e| e.row).collect();
        let mut errors = batch.unreadable.clone();
        submissions::authorize_rows(&self.ctx.identity, &batch.rows, &self.snapshot)?;
        if let Some(file) = self.file.as_mut() {
            let rules = self.snapshot.rules(self.settings);
            match validate::check_rows_in(&batch.rows, &rules, &mut file.seen, offset) {
                Err(found) => {
                    errors.extend(found.into_iter().filter(|e| !placeholders.contains(&e.row)))
                }
                // Once a row was rejected the file will not be kept: the rest is only checked.
                Ok(valid) if errors.is_empty() && self.summary.rejected == 0 => {
                    let plan = submissions::plan(&file.txn, &valid).await?;
                    self.summary.written += plan.written();
                    self.summary.unchanged += plan.unchanged();
                    if plan.written() > 0 && !self.options.dry_run {
                        let submission = match &file.submission {
                            Some(s) => s.clone(),
                            None => {
                                let s = submissions::open_submission(&file.txn, self.ctx, 0, 0, 0)
                                    .await?;
                                file.submission = Some(s.clone());
                                s
                            }
                        };
                        submissions::apply(
                            &file.txn,
                            self.ctx,
                            self.settings,
                            &self.units,
                            &submission,
                            &plan,
                        )
                        .await?;
                        file.audit.add(&plan);
                    }
                }
                Ok(_) => {}
            }
        } else {
            let outcome = submissions::submit_checked(
                self.db,
                self.ctx,
                self.settings,
                &self.snapshot,
                &batch.rows,
                self.options.dry_run || !placeholders.is_empty(),
            )
            .await?;
            errors.extend(
                outcome
                    .row_errors
                    .into_iter()
                    .filter(|e| !placeholders.contains(&e.row)),
            );
            if errors.is_empty() {
                self.summary.written += outcome.written;
                self.summary.unchanged += outcome.unchanged;
                self.summary
                    .submissions
                    .extend(outcome.submission.map(|s| s.id));
            }
        }
        if errors.is_empty() {
            return Ok(());
        }
        let mut reasons: HashMap<usize, Vec<String>> = HashMap::new();
        for e in errors {
            reasons
                .entry(e.row)
                .or_default()
                .push(format!("{} {:?}: {}", e.field, e.value, e.message));
        }
        let mut bad: Vec<_> = reasons.into_iter().collect();
        bad.sort_by_key(|(row, _)| *row);
        self.summary.rejected += bad.len();
        for (row, why) in bad {
            if let Some((line, record)) = batch.records.get(row) {
                let mut out = vec![line.to_string(), why.join("; ")];
                out.extend(record.iter().map(str::to_owned));
                self.rejects
                    .write_record(&out)
                    .map_err(|e| AppError::Internal(e.to_string()))?;
            }
        }
        Ok(())
    }

    /// Commits a whole-file import without bad rows (unless it is a dry run); otherwise keeps none of it.
    async fn finish(mut self) -> AppResult<ImportSummary> {
        self.rejects
            .flush()
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let Some(file) = self.file.take() else {
            return Ok(self.summary);
        };
        let keep = self.summary.rejected == 0 && !self.options.dry_run;
        match file.submission {
            Some(submission) if keep => {
                let mut model: entity::submission::ActiveModel = submission.into();
                model.rows_total = Set(self.summary.rows as i32);
                model.rows_written = Set(self.summary.written as i32);
                model.rows_unchanged = Set(self.summary.unchanged as i32);
                let submission = entity::submission::Entity::update(model)
                    .exec(&file.txn)
                    .await?;
                file.audit.record(&file.txn, self.ctx, &submission).await?;
                file.txn
                    .commit()
                    .await
                    .map_err(submissions::map_write_error)?;
                self.summary.submissions.push(submission.id);
            }
            _ => {
                file.txn.rollback().await?;
                if self.summary.rejected > 0 {
                    self.summary.written = 0;
                }
            }
        }
        Ok(self.summary)
    }
}
