//! Departments submit values; coordinators approve or reject them. A submission is all-or-nothing, runs
//! in one transaction with its audit entry, and is idempotent: re-sending identical values writes nothing.
//! A changed value becomes a new revision; approved revisions are never changed, only superseded.

pub mod store;
pub mod validate;

use crate::auth::{Identity, policy};
use crate::config::Settings;
pub use crate::error::RowError;
use crate::error::{AppError, AppResult};
use crate::service::audit::{self, Entry, WriteContext};
pub use crate::service::retry::map_write_error;
use crate::service::retry::with_retry;
use crate::vocabulary::{Status, Unit};
use entity::observation::Key;
use entity::{indicator, observation, region, submission};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, TransactionTrait,
};
use serde_json::json;
use std::collections::HashMap;
use validate::Rules;
pub use validate::Seen;
pub use validate::{RowInput, ValidRow};

/// What a submission did (or, in a dry run, would do).
#[derive(Clone, Debug, Default)]
pub struct SubmitOutcome {
    pub submission: Option<submission::Model>,
    pub written: usize,
    pub unchanged: usize,
    pub row_errors: Vec<RowError>,
}

/// The catalogue a batch is checked against, by code.
pub struct Snapshot {
    pub indicators: HashMap<String, indicator::Model>,
    pub regions: HashMap<String, region::Model>,
}

impl Snapshot {
    /// The unit of each indicator, by id.
    pub fn units(&self) -> HashMap<i32, Unit> {
        self.indicators.values().map(|i| (i.id, i.unit)).collect()
    }

    /// The rules a batch is checked by.
    pub fn rules<'a>(&'a self, settings: &Settings) -> Rules<'a> {
        Rules {
            indicators: &self.indicators,
            regions: &self.regions,
            first_year: settings.plan.first_year,
            last_year: settings.plan.last_year,
        }
    }

    /// Reads the indicators and regions.
    pub async fn load(db: &impl ConnectionTrait) -> AppResult<Self> {
        Ok(Snapshot {
            indicators: indicator::Entity::find()
                .all(db)
                .await?
                .into_iter()
                .map(|i| (i.code.clone(), i))
                .collect(),
            regions: region::Entity::find()
                .all(db)
                .await?
                .into_iter()
                .map(|r| (r.code.clone(), r))
                .collect(),
        })
    }
}

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
    snapshot: &Snapshot,
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
    let snapshot = Snapshot::load(db).await?;
    submit_checked(db, ctx, settings, &snapshot, &rows, dry_run).await
}

/// Validates and writes a batch against an already loaded catalogue (the import reuses one snapshot for
/// every batch of a file).
pub async fn submit_checked(
    db: &DatabaseConnection,
    ctx: &WriteContext,
    settings: &Settings,
    snapshot: &Snapshot,
    rows: &[RowInput],
    dry_run: bool,
) -> AppResult<SubmitOutcome> {
    authorize_rows(&ctx.identity, rows, snapshot)?;
    let valid = match validate::check_rows(rows, &snapshot.rules(settings)) {
        Ok(valid) => valid,
        Err(row_errors) => {
            return Ok(SubmitOutcome {
                row_errors,
                ..SubmitOutcome::default()
            });
        }
    };
    let units = snapshot.units();
    with_retry("submission", || {
        write(db, ctx, settings, &valid, &units, dry_run)
    })
    .await
}

/// For each key of `keys`, the stored revision whose `flag` column (`IsLatest`: the newest of any status;
/// `IsPublished`: the approved one in force) is set.
async fn flagged_rows(
    db: &impl ConnectionTrait,
    keys: &[Key],
    flag: observation::Column,
) -> AppResult<HashMap<Key, observation::Model>> {
    let mut out = HashMap::new();
    // One query per chunk, by the chunk's distinct indicators, regions and years: a superset that the
    // partial indexes on newest and published revisions serve, filtered to the exact keys here.
    for chunk in keys.chunks(10_000) {
        let mut indicators: Vec<i32> = chunk.iter().map(|k| k.series.indicator_id).collect();
        let mut regions: Vec<i32> = chunk.iter().map(|k| k.series.region_id).collect();
        let mut years: Vec<i32> = chunk.iter().map(|k| k.year).collect();
        for v in [&mut indicators, &mut regions, &mut years] {
            v.sort_unstable();
            v.dedup();
        }
        let wanted: std::collections::HashSet<&Key> = chunk.iter().collect();
        let found = observation::Entity::find()
            .filter(observation::Column::IndicatorId.is_in(indicators))
            .filter(observation::Column::RegionId.is_in(regions))
            .filter(observation::Column::Year.is_in(years))
            .filter(flag.eq(true))
            .all(db)
            .await?;
        for m in found {
            let key = m.key();
            if wanted.contains(&key) {
                out.insert(key, m);
            }
        }
    }
    Ok(out)
}

/// The newest stored revision (any status) of each key.
async fn latest_rows(
    db: &impl ConnectionTrait,
    keys: &[Key],
) -> AppResult<HashMap<Key, observation::Model>> {
    flagged_rows(db, keys, observation::Column::IsLatest).await
}

/// Whether a value jumps implausibly from the year before (a relative change above the threshold, for
/// values large enough for the change to mean something).
fn implausible_jump(unit: Unit, previous: f64, value: f64, threshold: f64) -> bool {
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

/// Creates the submission a batch's rows will belong to.
pub async fn open_submission(
    db: &impl ConnectionTrait,
    ctx: &WriteContext,
    total: usize,
    written: usize,
    unchanged: usize,
) -> AppResult<submission::Model> {
    let member = policy::require_member(&ctx.identity)?;
    submission::Entity::insert(submission::ActiveModel {
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
            .filter(observation::Column::IsLatest.eq(true))
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
}

impl AuditRows {
    /// Adds a plan's changed rows.
    pub fn add(&mut self, plan: &Plan<'_>) {
        self.total += plan.changed.len();
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

    /// Records the `submission.create` entry; call it in the submission's transaction.
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
        .await
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
    let txn = db.begin().await?;
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
    let created = open_submission(&txn, ctx, rows.len(), plan.written(), plan.unchanged).await?;
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

/// A decision on a pending submission.
pub enum Decision {
    Approve,
    Reject { reason: String },
}

/// Approves or rejects a pending submission (coordinators with the approver role). Approved values become
/// the published ones unless a newer revision was published already.
pub async fn decide(
    db: &DatabaseConnection,
    ctx: &WriteContext,
    id: i64,
    decision: Decision,
) -> AppResult<submission::Model> {
    let approver = policy::authorize_approve(&ctx.identity)?.clone();
    if let Decision::Reject { reason } = &decision
        && reason.trim().is_empty()
    {
        return Err(AppError::invalid(
            "reason",
            "",
            "a reason the department can act on",
        ));
    }
    with_retry("decision", || {
        decide_once(db, ctx, &approver, id, &decision)
    })
    .await
}

async fn decide_once(
    db: &DatabaseConnection,
    ctx: &WriteContext,
    approver: &crate::auth::Member,
    id: i64,
    decision: &Decision,
) -> AppResult<submission::Model> {
    let txn = db.begin().await?;
    let found = submission::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("submission {id} does not exist")))?;
    policy::authorize_decision_on(approver, &found.submitted_by)?;
    if found.status != Status::Pending {
        return Err(AppError::Conflict(format!(
            "submission {id} is already {}",
            found.status
        )));
    }
    let (status, reason) = match decision {
        Decision::Approve => (Status::Approved, None),
        Decision::Reject { reason } => (Status::Rejected, Some(reason.trim().to_owned())),
    };
    // The decision claims the submission with a conditional update first: of two decisions racing, the
    // second finds it no longer pending (PostgreSQL re-checks the row after the first commits; SQLite
    // lets one writer through) and writes nothing.
    let claimed = submission::Entity::update_many()
        .col_expr(
            submission::Column::Status,
            sea_orm::sea_query::Expr::value(status.as_str()),
        )
        .col_expr(
            submission::Column::DecidedBy,
            sea_orm::sea_query::Expr::value(approver.subject.clone()),
        )
        .col_expr(
            submission::Column::DecidedAt,
            sea_orm::sea_query::Expr::value(chrono::Utc::now()),
        )
        .col_expr(
            submission::Column::Reason,
            sea_orm::sea_query::Expr::value(reason.clone()),
        )
        .filter(submission::Column::Id.eq(id))
        .filter(submission::Column::Status.eq(Status::Pending.as_str()))
        .exec(&txn)
        .await
        .map_err(map_write_error)?;
    if claimed.rows_affected != 1 {
        return Err(AppError::Conflict(format!(
            "submission {id} was decided by someone else at the same time"
        )));
    }
    let rows = observation::Entity::find()
        .filter(observation::Column::SubmissionId.eq(id))
        .filter(observation::Column::Status.eq(Status::Pending.as_str()))
        .all(&txn)
        .await?;
    let published = match decision {
        Decision::Approve => publish(&txn, &rows).await?,
        Decision::Reject { .. } => 0,
    };
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    for chunk in ids.chunks(2000) {
        observation::Entity::update_many()
            .col_expr(
                observation::Column::Status,
                sea_orm::sea_query::Expr::value(status.as_str()),
            )
            .filter(observation::Column::Id.is_in(chunk.to_vec()))
            .exec(&txn)
            .await
            .map_err(map_write_error)?;
    }
    let updated = submission::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::Internal(format!("submission {id} vanished while deciding")))?;
    audit::record(
        &txn,
        ctx,
        Entry {
            action: match decision {
                Decision::Approve => "submission.approve",
                Decision::Reject { .. } => "submission.reject",
            },
            entity_type: "submission",
            entity_key: id.to_string(),
            department_id: Some(found.department_id),
            before: Some(json!({ "status": found.status })),
            after: Some(json!({ "status": status.as_str(), "rows": rows.len(), "published": published, "reason": reason })),
        },
    )
    .await?;
    txn.commit().await.map_err(map_write_error)?;
    Ok(updated)
}

/// Makes each approved row the published value of its key, unless a newer revision is published.
async fn publish(db: &impl ConnectionTrait, rows: &[observation::Model]) -> AppResult<usize> {
    let keys: Vec<Key> = rows.iter().map(observation::Model::key).collect();
    let current = flagged_rows(db, &keys, observation::Column::IsPublished).await?;
    let mut retire = Vec::new();
    let mut promote = Vec::new();
    for (key, m) in keys.iter().zip(rows) {
        match current.get(key) {
            Some(p) if p.revision > m.revision => {}
            Some(p) => {
                retire.push(p.id);
                promote.push(m.id);
            }
            None => promote.push(m.id),
        }
    }
    for (ids, flag) in [(&retire, false), (&promote, true)] {
        for chunk in ids.chunks(2000) {
            observation::Entity::update_many()
                .col_expr(
                    observation::Column::IsPublished,
                    sea_orm::sea_query::Expr::value(flag),
                )
                .filter(observation::Column::Id.is_in(chunk.to_vec()))
                .exec(db)
                .await
                .map_err(map_write_error)?;
        }
    }
    Ok(promote.len())
}

/// Filters of the `submissions` query.
#[derive(Clone, Debug, Default)]
pub struct SubmissionFilter {
    pub department: Option<String>,
    pub status: Option<Status>,
}

/// Submissions the caller may see (its department's; coordinators and admins: all), newest first.
pub async fn list_submissions(
    db: &impl ConnectionTrait,
    identity: &Identity,
    filter: &SubmissionFilter,
    limit: u64,
) -> AppResult<Vec<submission::Model>> {
    let member = policy::require_member(identity)?;
    let mut query = submission::Entity::find()
        .order_by_desc(submission::Column::Id)
        .limit(limit);
    if let Some(code) = &filter.department {
        let department =
            crate::service::catalogue::require_department(db, "filter.department", code).await?;
        if !policy::may_read_department_records(identity, department.id) {
            return Err(AppError::Forbidden(format!(
                "department {} reads its own submissions only",
                member.department
            )));
        }
        query = query.filter(submission::Column::DepartmentId.eq(department.id));
    }
    if !policy::reads_all_department_records(identity) {
        query = query.filter(submission::Column::DepartmentId.eq(member.department_id));
    }
    if let Some(status) = filter.status {
        query = query.filter(submission::Column::Status.eq(status.as_str()));
    }
    Ok(query.all(db).await?)
}

/// The submission with this id, if the caller may see it (a hidden one and a missing one look the same).
pub async fn find_submission(
    db: &impl ConnectionTrait,
    identity: &Identity,
    id: i64,
) -> AppResult<Option<submission::Model>> {
    policy::require_member(identity)?;
    Ok(submission::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|s| policy::may_read_department_records(identity, s.department_id)))
}

/// The values submissions carry, as the caller may read them: unapproved ones only for the owner
/// department and coordinators, restricted ones suppressed for everyone else — the read policy, as for any
/// other read. At most `limit` per submission, for all the given submissions in one query.
pub async fn submission_observations(
    db: &impl ConnectionTrait,
    identity: &Identity,
    ids: &[i64],
    limit: usize,
) -> AppResult<HashMap<i64, Vec<crate::service::observations::Record>>> {
    let scope = crate::service::observations::ReadScope::load(db, identity).await?;
    let rows = observation::Entity::find()
        .filter(observation::Column::SubmissionId.is_in(ids.iter().copied()))
        .order_by_asc(observation::Column::Id)
        .all(db)
        .await?;
    let mut kept: HashMap<i64, usize> = HashMap::new();
    let rows: Vec<observation::Model> =
        rows.into_iter()
            .filter(|r| {
                scope.indicators.get(&r.indicator_id).is_some_and(|(i, _)| {
                    r.is_published || policy::owns_or_coordinates(identity, i)
                })
            })
            .filter(|r| {
                let n = kept.entry(r.submission_id.unwrap_or_default()).or_default();
                *n += 1;
                *n <= limit
            })
            .collect();
    let mut out: HashMap<i64, Vec<crate::service::observations::Record>> = HashMap::new();
    for record in crate::service::observations::protect(db, &scope, rows).await? {
        out.entry(record.model.submission_id.unwrap_or_default())
            .or_default()
            .push(record);
    }
    Ok(out)
}
