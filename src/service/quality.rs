//! Data quality: values flagged when they were accepted, and which departments have not yet reported
//! which indicators for a year.

use crate::auth::{Identity, policy};
use crate::error::AppResult;
use crate::service::observations::{ReadScope, Record, Version, protect};
use entity::{department, indicator, observation};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use std::collections::HashSet;

/// Flagged values of `year` the caller may read (newest revisions where they may read unapproved data).
pub async fn list_quality_issues(
    db: &impl ConnectionTrait,
    scope: &ReadScope,
    year: i32,
) -> AppResult<Vec<Record>> {
    let models = observation::Entity::find()
        .filter(scope.condition(Version::Latest, None))
        .filter(observation::Column::Year.eq(year))
        .filter(observation::Column::QualityFlag.is_not_null())
        .order_by_asc(observation::Column::Id)
        .limit(10_000)
        .all(db)
        .await?;
    protect(db, scope, models).await
}

/// Whether one indicator has been reported for a year.
#[derive(Clone, Debug)]
pub struct Completeness {
    pub indicator: indicator::Model,
    pub department: department::Model,
    /// Some value (any status) exists for the year.
    pub reported: bool,
}

/// For each indicator the caller answers for (coordinators and admins: all; a department: its own),
/// whether anything was reported for `year`.
pub async fn reporting_completeness(
    db: &impl ConnectionTrait,
    identity: &Identity,
    year: i32,
) -> AppResult<Vec<Completeness>> {
    let member = policy::require_member(identity)?;
    let reported: HashSet<i32> = observation::Entity::find()
        .select_only()
        .column(observation::Column::IndicatorId)
        .distinct()
        .filter(observation::Column::Year.eq(year))
        .filter(observation::Column::IsLatest.eq(true))
        .into_tuple::<i32>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let departments = department::Entity::find().all(db).await?;
    let all = policy::reads_all_department_records(identity);
    Ok(indicator::Entity::find()
        .order_by_asc(indicator::Column::Code)
        .all(db)
        .await?
        .into_iter()
        .filter(|i| all || i.owner_department_id == member.department_id)
        .filter_map(|i| {
            let department = departments
                .iter()
                .find(|d| d.id == i.owner_department_id)?
                .clone();
            Some(Completeness {
                reported: reported.contains(&i.id),
                indicator: i,
                department,
            })
        })
        .collect())
}
