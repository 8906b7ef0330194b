//! Data quality: values flagged when they were accepted, and which departments have not yet reported
//! which indicators for a year.

use crate::auth::Identity;
use crate::config::Settings;
use crate::error::AppResult;
use crate::service::due::{self, IndicatorDue};
use crate::service::observations::{ReadScope, Record, Version, protect};
use crate::service::reference::Reference;
use entity::observation;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

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

/// For each indicator the caller answers for (coordinators and admins: all; a department: its own),
/// where its expected values for `year` stand: the same list of what is due as the Reporting page and
/// the template read (`service::due`), by indicator in code order.
pub async fn reporting_completeness(
    db: &impl ConnectionTrait,
    reference: &Reference,
    settings: &Settings,
    identity: &Identity,
    year: i32,
) -> AppResult<Vec<IndicatorDue>> {
    let mut out: Vec<IndicatorDue> = due::due_of_all(db, reference, settings, identity, year)
        .await?
        .iter()
        .flat_map(due::Due::by_indicator)
        .collect();
    out.sort_by(|a, b| a.indicator.code.cmp(&b.indicator.code));
    Ok(out)
}

/// A finding about a value before it is submitted: it does not stop the submission, but the submitter
/// confirms having looked, and the confirmation is kept with the submission.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct PreviewWarning {
    /// The row of the batch it is about (its index).
    pub row: usize,
    /// `jump`, `township_sum` or `share_for_percent`.
    pub kind: &'static str,
    pub message: String,
}

/// What a batch looks like against what is known, before it is stored: a value that jumps against the
/// last approved year (`plan.jump_threshold`), a city count that differs from the sum of all its
/// townships in the batch, a percentage typed as a share (0.973 where 97.3 is meant).
pub async fn preview_warnings(
    db: &impl ConnectionTrait,
    catalogue: &crate::service::submissions::Codebook,
    settings: &crate::config::Settings,
    rows: &[crate::service::submissions::RowInput],
) -> AppResult<Vec<PreviewWarning>> {
    use crate::vocabulary::{RegionLevel, Unit};
    use entity::observation::{Key, SeriesKey};
    use std::collections::HashMap;
    let key_of = |r: &crate::service::submissions::RowInput| -> Option<Key> {
        Some(Key {
            series: SeriesKey {
                indicator_id: catalogue.indicators.get(&r.indicator)?.id,
                region_id: catalogue.regions.get(&r.region)?.id,
                sex: r.sex.clone(),
                age_group: r.age_group.clone(),
                residence: r.residence.clone(),
            },
            year: r.year,
        })
    };
    let keys: Vec<Option<Key>> = rows.iter().map(key_of).collect();
    let in_batch: HashMap<&Key, f64> = keys
        .iter()
        .zip(rows)
        .filter_map(|(k, r)| Some((k.as_ref()?, r.value)))
        .collect();
    let before: Vec<Key> = keys
        .iter()
        .flatten()
        .map(Key::year_before)
        .filter(|k| !in_batch.contains_key(k))
        .collect();
    let approved = crate::service::submissions::store::flagged_rows(
        db,
        &before,
        observation::Column::IsPublished,
    )
    .await?;
    let mut out = Vec::new();
    for (index, (row, key)) in rows.iter().zip(&keys).enumerate() {
        let (Some(key), Some(indicator)) = (key, catalogue.indicators.get(&row.indicator)) else {
            continue;
        };
        let previous_key = key.year_before();
        let previous = in_batch
            .get(&previous_key)
            .copied()
            .or_else(|| approved.get(&previous_key).map(|m| m.value));
        if matches!(indicator.unit, Unit::Percent)
            && row.value > 0.0
            && row.value <= 1.0
            && previous.is_none_or(|p| p > 5.0)
        {
            out.push(PreviewWarning {
                row: index,
                kind: "share_for_percent",
                message: format!(
                    "{} is in percent: {} reads as {} %, not {} % — was {} meant?",
                    indicator.code,
                    row.value,
                    row.value,
                    row.value * 100.0,
                    row.value * 100.0
                ),
            });
            continue;
        }
        if let Some(p) = previous
            && crate::service::submissions::submit::implausible_jump(
                indicator.unit,
                p,
                row.value,
                settings.plan.jump_threshold,
            )
        {
            out.push(PreviewWarning {
                row: index,
                kind: "jump",
                message: format!(
                    "{} {} in {}: {} after {} in {} ({:+.0} %), more than the {:.0} % a year that is checked",
                    indicator.code,
                    row.region,
                    row.year,
                    row.value,
                    p,
                    row.year - 1,
                    (row.value - p) / p.abs().max(1e-9) * 100.0,
                    settings.plan.jump_threshold * 100.0
                ),
            });
        }
    }
    // A city count against the sum of its townships, when the batch has every township of the year.
    for (index, (row, key)) in rows.iter().zip(&keys).enumerate() {
        let (Some(key), Some(indicator), Some(city)) = (
            key,
            catalogue.indicators.get(&row.indicator),
            catalogue.regions.get(&row.region),
        ) else {
            continue;
        };
        if indicator.unit != Unit::Count || city.level != RegionLevel::City {
            continue;
        }
        let townships: Vec<&entity::region::Model> = catalogue
            .regions
            .values()
            .filter(|r| r.parent_id == Some(city.id) && r.level == RegionLevel::Township)
            .filter(|r| {
                r.valid_from.is_none_or(|f| f <= row.year)
                    && r.valid_to.is_none_or(|t| row.year <= t)
            })
            .collect();
        let parts: Vec<f64> = townships
            .iter()
            .filter_map(|t| {
                let mut k = key.clone();
                k.series.region_id = t.id;
                in_batch.get(&k).copied()
            })
            .collect();
        if townships.is_empty() || parts.len() != townships.len() {
            continue;
        }
        let sum: f64 = parts.iter().sum();
        if (sum - row.value).abs() > 0.5 {
            out.push(PreviewWarning {
                row: index,
                kind: "township_sum",
                message: format!(
                    "{} {} in {}: the city's {} differs from the sum of its {} townships in this file, {}",
                    indicator.code,
                    row.region,
                    row.year,
                    row.value,
                    townships.len(),
                    sum
                ),
            });
        }
    }
    out.sort_by_key(|w| w.row);
    Ok(out)
}
