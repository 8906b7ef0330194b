//! Reading submissions and the values they carry, through the policy.

use crate::auth::{Identity, policy};
use crate::error::{AppError, AppResult};
use crate::service::observations::{ReadScope, Record, protect};
use crate::vocabulary::Status;
use entity::{observation, submission};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use std::collections::HashMap;

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
    Ok(find_submissions(db, identity, &[id]).await?.pop())
}

/// The submissions with these ids that the caller may see (its department's; coordinators: all).
pub async fn find_submissions(
    db: &impl ConnectionTrait,
    identity: &Identity,
    ids: &[i64],
) -> AppResult<Vec<submission::Model>> {
    policy::require_member(identity)?;
    Ok(submission::Entity::find()
        .filter(submission::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .filter(|s| policy::may_read_department_records(identity, s.department_id))
        .collect())
}

/// For a value read from a file: the cell its submission recorded for it.
pub fn cell_of(submission: &submission::Model, revision: &observation::Model) -> Option<String> {
    by_row(submission.cells.as_ref(), revision)
}

/// The reviewer's comment on a revision's row of its (rejected) submission.
pub fn comment_of(submission: &submission::Model, revision: &observation::Model) -> Option<String> {
    by_row(submission.comments.as_ref(), revision)
}

/// A submission's text about one of its rows, from a JSON object keyed by the row's key
/// (`submit::cell_key`), as `cells` and `comments` are.
fn by_row(map: Option<&serde_json::Value>, revision: &observation::Model) -> Option<String> {
    map?.get(crate::service::submissions::submit::cell_key(
        &revision.key(),
    ))?
    .as_str()
    .map(str::to_owned)
}

/// The values submissions carry, as the caller may read them: unapproved ones only for the owner
/// department and coordinators, restricted ones suppressed for everyone else — the read policy, as for any
/// other read. At most `limit` per submission, for all the given submissions in one query.
pub async fn submission_observations(
    db: &impl ConnectionTrait,
    scope: &ReadScope,
    identity: &Identity,
    ids: &[i64],
    limit: usize,
) -> AppResult<HashMap<i64, Vec<Record>>> {
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
    let mut out: HashMap<i64, Vec<Record>> = HashMap::new();
    for record in protect(db, scope, rows).await? {
        out.entry(record.model.submission_id.unwrap_or_default())
            .or_default()
            .push(record);
    }
    Ok(out)
}

/// What a submission covers: its indicators, regions and years (ids and years, sorted).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Coverage {
    pub indicator_ids: Vec<i32>,
    pub region_ids: Vec<i32>,
    pub years: Vec<i32>,
}

/// The coverage of each submission: three `SELECT DISTINCT` over its rows, whatever their number.
pub async fn coverage_of(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> AppResult<HashMap<i64, Coverage>> {
    let mut out: HashMap<i64, Coverage> = ids.iter().map(|id| (*id, Coverage::default())).collect();
    for part in [
        observation::Column::IndicatorId,
        observation::Column::RegionId,
        observation::Column::Year,
    ] {
        let pairs = observation::Entity::find()
            .select_only()
            .column(observation::Column::SubmissionId)
            .column(part)
            .distinct()
            .filter(observation::Column::SubmissionId.is_in(ids.iter().copied()))
            .into_tuple::<(Option<i64>, i32)>()
            .all(db)
            .await?;
        for (submission, v) in pairs {
            if let Some(c) = submission.and_then(|s| out.get_mut(&s)) {
                match part {
                    observation::Column::IndicatorId => c.indicator_ids.push(v),
                    observation::Column::RegionId => c.region_ids.push(v),
                    _ => c.years.push(v),
                }
            }
        }
    }
    for c in out.values_mut() {
        for v in [&mut c.indicator_ids, &mut c.region_ids, &mut c.years] {
            v.sort_unstable();
        }
    }
    Ok(out)
}
