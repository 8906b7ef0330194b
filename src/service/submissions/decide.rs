//! Deciding on a submission: a coordinator approves (its values become the published ones) or rejects
//! it. The decision claims the submission with a conditional update, so two decisions cannot both land.

use super::store::flagged_rows;
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
    Approve,
    Reject { reason: String },
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
    if let Decision::Reject { reason } = &decision
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
        Decision::Approve => "approve",
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
    let promoted = match decision {
        Decision::Approve => publish(&txn, &rows).await?,
        Decision::Reject { .. } => Vec::new(),
    };
    let published = promoted.len();
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
    announce(&txn, &updated, &rows, &promoted).await?;
    txn.commit().await.map_err(map_write_error)?;
    Ok(updated)
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
