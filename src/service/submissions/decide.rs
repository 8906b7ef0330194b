//! Deciding on a submission: a coordinator approves (its values become the published ones) or rejects
//! it. The decision claims the submission with a conditional update, so two decisions cannot both land.
//!
//! **Overlaps.** An approval of a submission that shares values (the same indicator, region, year and
//! breakdown) with another pending submission is refused with `CONFLICT`, naming the others, unless the
//! approver says this one stands over them (`supersedes`): those are then rejected whole in the same
//! transaction, with a reason naming this one, and their departments hear of it. Without the rule,
//! approving a later two-row correction before the earlier file was decided published the two values on
//! their own, and approving the earlier one afterwards silently kept them over it. Rejections need no
//! such answer: they publish nothing.

use super::store::{flagged_rows, rows_with_keys};
use crate::auth::policy;
use crate::error::{AppError, AppResult};
use crate::service::audit::{self, Entry, WriteContext};
use crate::service::outbox;
use crate::service::retry::{map_write_error, with_retry};
use crate::vocabulary::{EventKind, Status};
use entity::observation::Key;
use entity::{indicator, observation, region, submission};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// A decision on a pending submission.
pub enum Decision {
    /// `supersedes`: the pending submissions sharing values with this one that it stands over.
    Approve { supersedes: Vec<i64> },
    /// `comments`: remarks on rows (observation ids of this submission) the submitter sees on them.
    Reject {
        reason: String,
        comments: Vec<(i64, String)>,
    },
}

/// Approves or rejects a pending submission (coordinators with the approver role). Approved values become
/// the published ones unless a newer revision was published already.
#[tracing::instrument(name = "decide submission", skip_all, fields(submission = id))]
pub async fn decide(
    db: &DatabaseConnection,
    ctx: &WriteContext,
    id: i64,
    decision: Decision,
) -> AppResult<submission::Model> {
    let approver = policy::authorize_approve(&ctx.identity)?.clone();
    if let Decision::Reject { reason, .. } = &decision
        && reason.trim().is_empty()
    {
        return Err(AppError::invalid(
            "reason",
            "",
            "a reason the department can act on",
        ));
    }
    let decided = with_retry("decision", || {
        decide_once(db, ctx, &approver, id, &decision)
    })
    .await?;
    let label = match decision {
        Decision::Approve { .. } => "approve",
        Decision::Reject { .. } => "reject",
    };
    metrics::counter!("childhub_decisions_total", "decision" => label).increment(1);
    Ok(decided)
}

async fn decide_once(
    db: &DatabaseConnection,
    ctx: &WriteContext,
    approver: &crate::auth::Member,
    id: i64,
    decision: &Decision,
) -> AppResult<submission::Model> {
    let txn = crate::service::begin_write(db).await?;
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
        Decision::Approve { .. } => (Status::Approved, None),
        Decision::Reject { reason, .. } => (Status::Rejected, Some(reason.trim().to_owned())),
    };
    claim(&txn, id, status, approver, reason.clone()).await?;
    let rows = observation::Entity::find()
        .filter(observation::Column::SubmissionId.eq(id))
        .filter(observation::Column::Status.eq(Status::Pending.as_str()))
        .all(&txn)
        .await?;
    if let Decision::Reject { comments, .. } = decision
        && !comments.is_empty()
    {
        let kept = comments_on(id, &rows, comments)?;
        submission::Entity::update_many()
            .col_expr(
                submission::Column::Comments,
                sea_orm::sea_query::Expr::value(kept),
            )
            .filter(submission::Column::Id.eq(id))
            .exec(&txn)
            .await
            .map_err(map_write_error)?;
    }
    if let Decision::Approve { supersedes } = decision {
        let overlapping = overlapping_pending(&txn, id, &rows).await?;
        settle_overlaps(&txn, ctx, approver, id, &overlapping, supersedes).await?;
    }
    let promoted = match decision {
        Decision::Approve { .. } => publish(&txn, &rows).await?,
        Decision::Reject { .. } => Vec::new(),
    };
    let published = promoted.len();
    settle_rows(&txn, id, status).await?;
    let updated = submission::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::Internal(format!("submission {id} vanished while deciding")))?;
    audit::record(
        &txn,
        ctx,
        Entry {
            action: match decision {
                Decision::Approve { .. } => "submission.approve",
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
    announce(&txn, &updated, &rows, &promoted).await?;
    txn.commit().await.map_err(map_write_error)?;
    Ok(updated)
}

/// A rejection's comments as stored: by each row's key (as `cells`), checked to be rows of this
/// submission, non-empty and of a readable length.
fn comments_on(
    id: i64,
    rows: &[observation::Model],
    comments: &[(i64, String)],
) -> AppResult<serde_json::Value> {
    let mut kept = serde_json::Map::new();
    for (i, (row, text)) in comments.iter().enumerate() {
        let field = format!("comments[{i}]");
        let found = rows.iter().find(|r| r.id == *row).ok_or_else(|| {
            AppError::invalid(
                format!("{field}.observation"),
                row,
                format!("a value of submission {id}"),
            )
        })?;
        let text = text.trim();
        if text.is_empty() || text.chars().count() > 2000 {
            return Err(AppError::invalid(
                format!("{field}.text"),
                text.chars().take(40).collect::<String>(),
                "a remark of 1 to 2,000 characters",
            ));
        }
        kept.insert(
            crate::service::submissions::submit::cell_key(&found.key()),
            json!(text),
        );
    }
    Ok(serde_json::Value::Object(kept))
}

/// The other pending submissions holding values of the same keys as `rows`, with how many each shares.
async fn overlapping_pending(
    db: &impl ConnectionTrait,
    id: i64,
    rows: &[observation::Model],
) -> AppResult<BTreeMap<i64, usize>> {
    let keys: Vec<Key> = rows.iter().map(observation::Model::key).collect();
    let pending_elsewhere = sea_orm::Condition::all()
        .add(observation::Column::Status.eq(Status::Pending.as_str()))
        .add(observation::Column::SubmissionId.ne(id));
    let mut shared: BTreeMap<i64, usize> = BTreeMap::new();
    for m in rows_with_keys(db, &keys, pending_elsewhere).await? {
        if let Some(other) = m.submission_id {
            *shared.entry(other).or_default() += 1;
        }
    }
    Ok(shared)
}

/// Claims a pending submission for a decision with a conditional update: of two decisions racing, the
/// second finds it no longer pending (PostgreSQL re-checks the row after the first commits; SQLite
/// lets one writer through) and writes nothing.
async fn claim(
    txn: &sea_orm::DatabaseTransaction,
    id: i64,
    status: Status,
    approver: &crate::auth::Member,
    reason: Option<String>,
) -> AppResult<()> {
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
            sea_orm::sea_query::Expr::value(reason),
        )
        .filter(submission::Column::Id.eq(id))
        .filter(submission::Column::Status.eq(Status::Pending.as_str()))
        .exec(txn)
        .await
        .map_err(map_write_error)?;
    if claimed.rows_affected != 1 {
        return Err(AppError::Conflict(format!(
            "submission {id} was decided by someone else at the same time"
        )));
    }
    Ok(())
}

/// Gives a decided submission's pending values its status; returns how many.
async fn settle_rows(
    txn: &sea_orm::DatabaseTransaction,
    id: i64,
    status: Status,
) -> AppResult<u64> {
    Ok(observation::Entity::update_many()
        .col_expr(
            observation::Column::Status,
            sea_orm::sea_query::Expr::value(status.as_str()),
        )
        .filter(observation::Column::SubmissionId.eq(id))
        .filter(observation::Column::Status.eq(Status::Pending.as_str()))
        .exec(txn)
        .await
        .map_err(map_write_error)?
        .rows_affected)
}

/// Refuses the approval while an overlapping submission is not answered for; rejects the ones this
/// approval supersedes (each claimed with a conditional update, audited and announced).
async fn settle_overlaps(
    txn: &sea_orm::DatabaseTransaction,
    ctx: &WriteContext,
    approver: &crate::auth::Member,
    id: i64,
    overlapping: &BTreeMap<i64, usize>,
    supersedes: &[i64],
) -> AppResult<()> {
    let unanswered: Vec<i64> = overlapping
        .keys()
        .copied()
        .filter(|other| !supersedes.contains(other))
        .collect();
    if !unanswered.is_empty() {
        let listed = unanswered
            .iter()
            .map(|o| format!("submission {o} ({} values)", overlapping[o]))
            .collect::<Vec<_>>()
            .join(", ");
        return Err(AppError::Overlap {
            message: format!(
                "submission {id} shares values with pending {listed}: say which stands — approve this one \
                 with supersedes: [{}] (the others are then rejected), or decide the others first",
                unanswered
                    .iter()
                    .map(i64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            submissions: unanswered,
        });
    }
    for other in supersedes {
        if !overlapping.contains_key(other) {
            return Err(AppError::invalid(
                "supersedes",
                other,
                format!("a pending submission that shares values with submission {id}"),
            ));
        }
        let found = submission::Entity::find_by_id(*other)
            .one(txn)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("submission {other} does not exist")))?;
        policy::authorize_decision_on(approver, &found.submitted_by)?;
        let reason = format!(
            "superseded by submission {id}, approved by {}: {} of its values were sent again there; send the others again if they are still needed",
            approver.subject, overlapping[other]
        );
        claim(
            txn,
            *other,
            Status::Rejected,
            approver,
            Some(reason.clone()),
        )
        .await?;
        let rows = settle_rows(txn, *other, Status::Rejected).await?;
        audit::record(
            txn,
            ctx,
            Entry {
                action: "submission.reject",
                entity_type: "submission",
                entity_key: other.to_string(),
                department_id: Some(found.department_id),
                before: Some(json!({ "status": found.status })),
                after: Some(json!({ "status": Status::Rejected.as_str(), "rows": rows, "published": 0, "reason": reason, "superseded_by": id.to_string() })),
            },
        )
        .await?;
        let rejected = submission::Entity::find_by_id(*other)
            .one(txn)
            .await?
            .ok_or_else(|| {
                AppError::Internal(format!("submission {other} vanished while deciding"))
            })?;
        announce(txn, &rejected, &[], &[]).await?;
    }
    Ok(())
}

/// The decision's events: the submission approved or rejected, and one `observations.published` per
/// indicator and year whose published values it changed.
async fn announce(
    db: &impl ConnectionTrait,
    decided: &submission::Model,
    rows: &[observation::Model],
    promoted: &[i64],
) -> AppResult<()> {
    let kind = if decided.status == Status::Approved {
        EventKind::SubmissionApproved
    } else {
        EventKind::SubmissionRejected
    };
    outbox::record(
        db,
        outbox::Draft {
            kind,
            department_id: Some(decided.department_id),
            indicator_id: None,
            payload: json!({ "submission": decided.id.to_string(), "reason": decided.reason }),
        },
    )
    .await?;
    let promoted: std::collections::HashSet<i64> = promoted.iter().copied().collect();
    let mut tables: BTreeMap<(i32, i32), BTreeSet<i32>> = BTreeMap::new();
    for row in rows.iter().filter(|r| promoted.contains(&r.id)) {
        tables
            .entry((row.indicator_id, row.year))
            .or_default()
            .insert(row.region_id);
    }
    if tables.is_empty() {
        return Ok(());
    }
    let indicators: HashMap<i32, String> = indicator::Entity::find()
        .filter(indicator::Column::Id.is_in(tables.keys().map(|(i, _)| *i)))
        .all(db)
        .await?
        .into_iter()
        .map(|i| (i.id, i.code))
        .collect();
    let regions: HashMap<i32, String> = region::Entity::find()
        .filter(region::Column::Id.is_in(tables.values().flatten().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.id, r.code))
        .collect();
    for ((indicator_id, year), region_ids) in tables {
        let codes: Vec<&str> = region_ids
            .iter()
            .filter_map(|id| regions.get(id).map(String::as_str))
            .collect();
        outbox::record(
            db,
            outbox::Draft {
                kind: EventKind::ObservationsPublished,
                department_id: Some(decided.department_id),
                indicator_id: Some(indicator_id),
                payload: json!({
                    "indicator": indicators.get(&indicator_id),
                    "year": year,
                    "regions": codes,
                    "submission": decided.id.to_string(),
                }),
            },
        )
        .await?;
    }
    Ok(())
}

/// Makes each approved row the published value of its key, unless a newer revision is published; returns
/// the ids of the rows that became published.
async fn publish(db: &impl ConnectionTrait, rows: &[observation::Model]) -> AppResult<Vec<i64>> {
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
    Ok(promote)
}
