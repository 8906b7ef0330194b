//! Submitting a batch: check the caller and the rows, compare with the stored revisions, and write the
//! changed rows as new pending revisions of one submission, with its audit entry, in one transaction.
//! Re-sending identical values writes nothing.

use super::store::{self, latest_rows};
use super::validate::{self, RowInput, ValidRow};
use super::{Codebook, SubmitOutcome};
use crate::auth::{Identity, policy};
use crate::config::Settings;
use crate::error::{AppError, AppResult};
use crate::service::audit::{self, Entry, WriteContext};
use crate::service::retry::{map_write_error, with_retry};
use crate::service::{catalogue, outbox};
use crate::vocabulary::{EventKind, Status, Unit};
use entity::observation::Key;
use entity::{observation, submission};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
};
use serde_json::json;
use std::collections::HashMap;

/// Checks the caller and the batch's size; the batch limit keeps one request's transaction bounded.
fn check_batch(ctx: &WriteContext, rows: &[RowInput], max_rows: usize) -> AppResult<()> {
    let member = policy::require_member(&ctx.identity)?;
    if !member.roles.contains(&crate::auth::Role::Submitter) {
        return Err(AppError::Forbidden(
            "submitting values needs the submitter role".into(),
        ));
    }
    if rows.is_empty() {
        return Err(AppError::invalid("input.rows", "[]", "at least one row"));
    }
    if rows.len() > max_rows {
        return Err(AppError::invalid(
            "input.rows",
            format!("{} rows", rows.len()),
            format!(
                "at most {max_rows} rows per call; larger data sets go through `childhub import observations`"
            ),
        ));
    }
    Ok(())
}

/// Checks every row's indicator against the caller's department: writing another department's indicator
/// is an authorization failure for the whole call, not a row error.
pub fn authorize_rows(
    identity: &Identity,
    rows: &[RowInput],
    snapshot: &Codebook,
) -> AppResult<()> {
    for row in rows {
        if let Some(indicator) = snapshot.indicators.get(&row.indicator) {
            policy::authorize_submit(identity, indicator)?;
        }
    }
    Ok(())
}

/// Validates and writes one batch (at most `limits.max_submission_rows` rows).
pub async fn submit(
    db: &DatabaseConnection,
    ctx: &WriteContext,
    settings: &Settings,
    rows: Vec<RowInput>,
    dry_run: bool,
) -> AppResult<SubmitOutcome> {
    check_batch(ctx, &rows, settings.limits.max_submission_rows)?;
    let snapshot = Codebook::load(db).await?;
    submit_checked(db, ctx, settings, &snapshot, &rows, dry_run).await
}

/// Validates and writes a batch against an already loaded catalogue (the import reuses one snapshot for
/// every batch of a file).
#[tracing::instrument(name = "submit values", skip_all, fields(rows = rows.len(), dry_run))]
pub async fn submit_checked(
    db: &DatabaseConnection,
    ctx: &WriteContext,
    settings: &Settings,
    snapshot: &Codebook,
    rows: &[RowInput],
    dry_run: bool,
) -> AppResult<SubmitOutcome> {
    authorize_rows(&ctx.identity, rows, snapshot)?;
    let valid = match validate::check_rows(rows, &snapshot.rules(settings)) {
        Ok(valid) => valid,
        Err(row_errors) => {
            metrics::counter!("childhub_submissions_total", "outcome" => "invalid").increment(1);
            metrics::counter!("childhub_submitted_rows_total", "outcome" => "rejected")
                .increment(rows.len() as u64);
            return Ok(SubmitOutcome {
                row_errors,
                ..SubmitOutcome::default()
            });
        }
    };
    let units = snapshot.units();
    let outcome = with_retry("submission", || {
        write(db, ctx, settings, &valid, &units, dry_run)
    })
    .await?;
    if !dry_run {
        metrics::counter!("childhub_submissions_total", "outcome" => "stored").increment(1);
        metrics::counter!("childhub_submitted_rows_total", "outcome" => "stored")
            .increment(valid.len() as u64);
    }
    Ok(outcome)
}

/// Whether a value jumps implausibly from the year before (a relative change above the threshold, for
/// values large enough for the change to mean something).
pub fn implausible_jump(unit: Unit, previous: f64, value: f64, threshold: f64) -> bool {
    if unit == Unit::Boolean {
        return false;
    }
    let floor = if unit == Unit::Count { 10.0 } else { 1.0 };
    if previous.abs() < floor && value.abs() < floor {
        return false;
    }
    (value - previous).abs() / previous.abs().max(1e-9) > threshold
}

/// The flag for a data-quality finding on an accepted value.
pub const IMPLAUSIBLE_JUMP: &str = "implausible_jump";

/// Up to this many changed rows are copied into the audit entry; beyond it the entry points at the
/// submission, whose observation revisions hold every before and after value.
const AUDIT_ROWS: usize = 1000;

/// Rows of one batch set against what is stored: which create a new revision and which are unchanged.
pub struct Plan<'a> {
    changed: Vec<(&'a ValidRow, Option<observation::Model>)>,
    unchanged: usize,
    /// Values of the year before each row (from the batch or stored), for the data-quality check.
    previous: HashMap<Key, f64>,
}

impl Plan<'_> {
    /// Rows that create a new revision.
    pub fn written(&self) -> usize {
        self.changed.len()
    }

    /// Rows identical to the stored value.
    pub fn unchanged(&self) -> usize {
        self.unchanged
    }
}

/// Compares a batch with the stored newest revisions (read in the write's transaction).
pub async fn plan<'a>(db: &impl ConnectionTrait, rows: &'a [ValidRow]) -> AppResult<Plan<'a>> {
    let keys: Vec<Key> = rows.iter().map(|r| r.key.clone()).collect();
    let mut stored = latest_rows(db, &keys).await?;
    let mut changed = Vec::new();
    let mut unchanged = 0;
    for row in rows {
        let current = stored.remove(&row.key);
        let same = current.as_ref().is_some_and(|c| {
            c.status != Status::Rejected
                && c.value == row.value
                && c.numerator == row.numerator
                && c.denominator == row.denominator
        });
        if same {
            unchanged += 1;
        } else {
            changed.push((row, current));
        }
    }
    // The year before each changed value, for the data-quality check: from the batch, else stored.
    let mut previous: HashMap<Key, f64> = rows.iter().map(|r| (r.key.clone(), r.value)).collect();
    let missing: Vec<Key> = changed
        .iter()
        .map(|(row, _)| row.key.year_before())
        .filter(|k| !previous.contains_key(k))
        .collect();
    previous.extend(
        latest_rows(db, &missing)
            .await?
            .into_iter()
            .map(|(k, m)| (k, m.value)),
    );
    Ok(Plan {
        changed,
        unchanged,
        previous,
    })
}

/// The key a submission's `cells` map is written under: ids, year and codes of the value's key.
pub fn cell_key(key: &Key) -> String {
    let s = &key.series;
    format!(
        "{}|{}|{}|{}|{}|{}",
        s.indicator_id, s.region_id, key.year, s.sex, s.age_group, s.residence
    )
}

/// Where a submission came from, and for a file the cell of each of its values.
fn provenance(
    ctx: &WriteContext,
    rows: &[ValidRow],
) -> (
    Option<String>,
    Option<serde_json::Value>,
    Option<serde_json::Value>,
) {
    match &ctx.upload {
        Some(upload) => {
            let cells: serde_json::Map<String, serde_json::Value> = rows
                .iter()
                .filter_map(|r| {
                    let cell = upload.cells.get(r.index)?;
                    Some((cell_key(&r.key), json!(cell)))
                })
                .collect();
            (
                Some(upload.origin.clone()),
                Some(serde_json::Value::Object(cells)),
                Some(upload.warnings.clone()),
            )
        }
        None => (Some(ctx.channel()), None, None),
    }
}

/// Creates the submission a batch's rows will belong to.
pub async fn open_submission(
    db: &impl ConnectionTrait,
    ctx: &WriteContext,
    total: usize,
    written: usize,
    unchanged: usize,
) -> AppResult<submission::Model> {
    open_submission_of(db, ctx, &[], total, written, unchanged).await
}

/// [`open_submission`] for `rows`, keeping where each came from.
pub async fn open_submission_of(
    db: &impl ConnectionTrait,
    ctx: &WriteContext,
    rows: &[ValidRow],
    total: usize,
    written: usize,
    unchanged: usize,
) -> AppResult<submission::Model> {
    let member = policy::require_member(&ctx.identity)?;
    let (origin, cells, warnings) = provenance(ctx, rows);
    submission::Entity::insert(submission::ActiveModel {
        origin: Set(origin),
        cells: Set(cells),
        warnings: Set(warnings),
        department_id: Set(member.department_id),
        submitted_by: Set(member.subject.clone()),
        status: Set(Status::Pending),
        rows_total: Set(total as i32),
        rows_written: Set(written as i32),
        rows_unchanged: Set(unchanged as i32),
        request_id: Set(Some(ctx.request_id.clone())),
        created_at: Set(chrono::Utc::now()),
        ..Default::default()
    })
    .exec_with_returning(db)
    .await
    .map_err(map_write_error)
}

/// Writes a plan's changed rows as new pending revisions of `submission`, flagging implausible jumps.
pub async fn apply(
    db: &impl ConnectionTrait,
    ctx: &WriteContext,
    settings: &Settings,
    units: &HashMap<i32, Unit>,
    submission: &submission::Model,
    plan: &Plan<'_>,
) -> AppResult<()> {
    // The newest revisions being replaced stop being the newest first, so that the partial unique index
    // admits the new ones; a concurrent writer that got there first makes the counts differ.
    let superseded: Vec<i64> = plan
        .changed
        .iter()
        .filter_map(|(_, c)| c.as_ref().map(|c| c.id))
        .collect();
    for chunk in superseded.chunks(2000) {
        let result = observation::Entity::update_many()
            .col_expr(
                observation::Column::IsLatest,
                sea_orm::sea_query::Expr::value(false),
            )
            .filter(observation::Column::Id.is_in(chunk.to_vec()))
            .filter(crate::service::observations::flag_is_set(
                observation::Column::IsLatest,
            ))
            .exec(db)
            .await
            .map_err(map_write_error)?;
        if result.rows_affected != chunk.len() as u64 {
            return Err(AppError::Contention);
        }
    }
    let common = store::Common {
        status: Status::Pending,
        is_latest: true,
        is_published: false,
        submission_id: Some(submission.id),
        created_by: ctx.identity.subject().to_owned(),
        created_at: submission.created_at,
        source_run_id: ctx.source_run_id,
    };
    let rows: Vec<store::NewRow> = plan
        .changed
        .iter()
        .map(|(row, current)| {
            let previous_key = row.key.year_before();
            let unit = units
                .get(&row.key.series.indicator_id)
                .copied()
                .unwrap_or(Unit::Percent);
            let flag = plan
                .previous
                .get(&previous_key)
                .filter(|p| implausible_jump(unit, **p, row.value, settings.plan.jump_threshold))
                .map(|_| IMPLAUSIBLE_JUMP.to_owned());
            store::NewRow {
                key: row.key.clone(),
                value: row.value,
                numerator: row.numerator,
                denominator: row.denominator,
                revision: current.as_ref().map_or(1, |c| c.revision + 1),
                quality_flag: flag,
            }
        })
        .collect();
    store::insert(db, &common, &rows).await
}

/// The before and after values a submission's audit entry records: every changed row up to
/// [`AUDIT_ROWS`], beyond that a count and a pointer to the submission's revisions.
#[derive(Default)]
pub struct AuditRows {
    before: Vec<serde_json::Value>,
    after: Vec<serde_json::Value>,
    total: usize,
    /// The indicators and years the submission touches, for its event.
    indicators: std::collections::BTreeSet<i32>,
    years: std::collections::BTreeSet<i32>,
}

impl AuditRows {
    /// Adds a plan's changed rows.
    pub fn add(&mut self, plan: &Plan<'_>) {
        self.total += plan.changed.len();
        for (row, _) in &plan.changed {
            self.indicators.insert(row.key.series.indicator_id);
            self.years.insert(row.key.year);
        }
        if self.total > AUDIT_ROWS {
            self.before.clear();
            self.after.clear();
            return;
        }
        let describe = |row: &ValidRow, value: Option<f64>, revision: i32| {
            let (k, s) = (&row.key, &row.key.series);
            json!({ "indicator_id": s.indicator_id, "region_id": s.region_id, "year": k.year,
                    "sex": s.sex, "age_group": s.age_group, "residence": s.residence,
                    "value": value, "revision": revision })
        };
        for (row, current) in &plan.changed {
            self.before.push(match current {
                Some(c) => describe(row, Some(c.value), c.revision),
                None => describe(row, None, 0),
            });
            self.after.push(describe(
                row,
                Some(row.value),
                current.as_ref().map_or(1, |c| c.revision + 1),
            ));
        }
    }

    /// Records the `submission.create` audit entry and the `submission.created` event; call it in the
    /// submission's transaction.
    pub async fn record(
        self,
        db: &impl ConnectionTrait,
        ctx: &WriteContext,
        submission: &submission::Model,
    ) -> AppResult<()> {
        let (before, after) = if self.total <= AUDIT_ROWS {
            (json!(self.before), json!(self.after))
        } else {
            let note = json!({
                "rows": self.total,
                "note": format!("the observation revisions of submission {} hold each value", submission.id),
            });
            (note.clone(), note)
        };
        audit::record(
            db,
            ctx,
            Entry {
                action: "submission.create",
                entity_type: "submission",
                entity_key: submission.id.to_string(),
                department_id: Some(submission.department_id),
                before: Some(before),
                after: Some(after),
            },
        )
        .await?;
        let codes = catalogue::indicator_codes(db, &self.indicators).await?;
        outbox::record(
            db,
            outbox::Draft {
                kind: EventKind::SubmissionCreated,
                department_id: Some(submission.department_id),
                indicator_id: None,
                payload: json!({
                    "submission": submission.id.to_string(),
                    "rows": submission.rows_total,
                    "written": self.total,
                    "indicators": codes,
                    "years": self.years,
                }),
            },
        )
        .await?;
        Ok(())
    }
}

async fn write(
    db: &DatabaseConnection,
    ctx: &WriteContext,
    settings: &Settings,
    rows: &[ValidRow],
    units: &HashMap<i32, Unit>,
    dry_run: bool,
) -> AppResult<SubmitOutcome> {
    let txn = crate::service::begin_write(db).await?;
    let plan = plan(&txn, rows).await?;
    if dry_run || plan.changed.is_empty() {
        txn.rollback().await?;
        return Ok(SubmitOutcome {
            submission: None,
            written: if dry_run { plan.written() } else { 0 },
            unchanged: plan.unchanged,
            row_errors: Vec::new(),
        });
    }
    let created =
        open_submission_of(&txn, ctx, rows, rows.len(), plan.written(), plan.unchanged).await?;
    apply(&txn, ctx, settings, units, &created, &plan).await?;
    let mut audit_rows = AuditRows::default();
    audit_rows.add(&plan);
    audit_rows.record(&txn, ctx, &created).await?;
    txn.commit().await.map_err(map_write_error)?;
    Ok(SubmitOutcome {
        written: plan.written(),
        unchanged: plan.unchanged,
        submission: Some(created),
        row_errors: Vec::new(),
    })
}
