//! Progress of the plan's targets and early warnings, computed from the approved values the caller may
//! read (restricted data with its suppression) by the pure `monitor` module. Nothing is stored: every
//! answer reflects the data as approved at the time of asking, so approvals recompute it.

use crate::error::{AppError, AppResult};
use crate::monitor::evaluate::{Evaluation, TargetSpec, evaluate};
use crate::monitor::warnings::{self, Severity, Warning, WarningKind};
use crate::monitor::{Point, ProgressStatus};
use crate::service::observations::{ReadScope, Record, Version, protect};
use crate::service::reference::existed_in;
use crate::vocabulary::{RegionLevel, TOTAL, TargetKind, TargetScope};
use entity::{indicator, observation, region, target};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

/// Which targets to assess, where and when.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ProgressFilter {
    pub domain: Option<String>,
    pub department: Option<String>,
    pub indicators: Option<Vec<String>>,
    /// The area: a city (its townships are its children) or any region; default: the only city.
    pub region: Option<String>,
    /// The evaluation year: values after it are ignored. Default: [`reporting_year`].
    pub year: Option<i32>,
}

/// One assessed target.
#[derive(Clone, Debug)]
pub struct TargetProgress {
    pub indicator: indicator::Model,
    pub target: target::Model,
    pub spec: TargetSpec,
    pub evaluation: Evaluation<region::Model>,
}

/// An assessment of many targets in one area and year.
#[derive(Clone, Debug)]
pub struct Assessment {
    /// What the caller may read: the warnings of this assessment read through the same scope.
    pub scope: ReadScope,
    /// The evaluation year: the one asked for, else [`reporting_year`]'s.
    pub year: i32,
    /// Per year with values, how many of the assessed targets have one (ascending years).
    pub coverage: Vec<YearCoverage>,
    pub area: region::Model,
    pub townships: Vec<region::Model>,
    pub targets: Vec<TargetProgress>,
    /// Its early warnings of every severity, found once.
    warnings: tokio::sync::OnceCell<Arc<Vec<EarlyWarning>>>,
}

/// How many of the assessed targets have a value in one year.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct YearCoverage {
    pub year: i32,
    pub targets_with_values: usize,
}

/// The year every year's coverage is counted for when nothing has a value.
const NO_VALUES_YEAR: i32 = 2020;

/// Per year, the targets with a value: in the series their scope names, or for `each_township` in any
/// township's.
fn coverage_by_year(
    targets: &[target::Model],
    series: &HashMap<(i32, i32, String), Vec<Point>>,
    area_id: i32,
    townships: &[region::Model],
) -> Vec<YearCoverage> {
    let mut per_year: BTreeMap<i32, usize> = BTreeMap::new();
    for t in targets {
        let mut keys = vec![(t.indicator_id, area_id, residence_of(t.scope).to_owned())];
        if t.scope == TargetScope::EachTownship {
            keys.extend(
                townships
                    .iter()
                    .map(|r| (t.indicator_id, r.id, TOTAL.to_owned())),
            );
        }
        let years: BTreeSet<i32> = keys
            .iter()
            .filter_map(|k| series.get(k))
            .flatten()
            .map(|p| p.year)
            .collect();
        for y in years {
            *per_year.entry(y).or_default() += 1;
        }
    }
    per_year
        .into_iter()
        .map(|(year, n)| YearCoverage {
            year,
            targets_with_values: n,
        })
        .collect()
}

/// The default evaluation year: the latest year in which at least half of the assessed targets have a
/// value, so that one early submission for next year does not move every dashboard to a year without
/// data (and a flood of "missing value" warnings). Falls back to the latest year with any value.
pub fn reporting_year(coverage: &[YearCoverage], targets: usize) -> i32 {
    coverage
        .iter()
        .rev()
        .find(|c| 2 * c.targets_with_values >= targets)
        .or(coverage.last())
        .map_or(NO_VALUES_YEAR, |c| c.year)
}

/// The residence code of the series a target's scope names.
fn residence_of(scope: TargetScope) -> &'static str {
    match scope {
        TargetScope::Urban => "U",
        TargetScope::Rural => "R",
        TargetScope::City | TargetScope::EachTownship => TOTAL,
    }
}

/// The spec the monitor needs, from stored rows.
pub fn spec_of(target: &target::Model) -> TargetSpec {
    TargetSpec {
        kind: target.kind,
        value: target.value,
        baseline_year: target.baseline_year,
        target_year: target.target_year,
        scope: target.scope,
        natural_limit: target.natural_limit,
    }
}

/// Reads the targets matching `filter` and their series with the values `scope` may read.
async fn load(
    db: &impl ConnectionTrait,
    scope: ReadScope,
    filter: &ProgressFilter,
) -> AppResult<Loaded> {
    let reference = scope.reference.clone();
    let area = reference.area(filter.region.as_deref())?.clone();
    let domain_id = match &filter.domain {
        Some(code) => Some(reference.require_domain("filter.domain", code)?.id),
        None => None,
    };
    let department_id = match &filter.department {
        Some(code) => Some(reference.require_department("filter.department", code)?.id),
        None => None,
    };
    if let Some(codes) = &filter.indicators {
        for code in codes {
            if scope.by_code(code).is_none() {
                return Err(AppError::invalid(
                    "indicators",
                    code,
                    "an indicator code (see `indicators`)",
                ));
            }
        }
    }
    let mut indicators: Vec<indicator::Model> = scope
        .indicators
        .values()
        .map(|(i, _)| i.clone())
        .filter(|i| domain_id.is_none_or(|d| i.domain_id == d))
        .filter(|i| department_id.is_none_or(|d| i.owner_department_id == d))
        .filter(|i| {
            filter
                .indicators
                .as_ref()
                .is_none_or(|codes| codes.contains(&i.code))
        })
        .collect();
    indicators.sort_by(|a, b| a.code.cmp(&b.code));
    let ids: Vec<i32> = indicators.iter().map(|i| i.id).collect();
    let targets: Vec<target::Model> = indicators
        .iter()
        .flat_map(|i| reference.targets_of(i.id).iter().cloned())
        .collect();

    let townships: Vec<region::Model> = reference
        .children(area.id)
        .filter(|r| r.level == RegionLevel::Township)
        .cloned()
        .collect();
    let mut region_ids: Vec<i32> = townships.iter().map(|t| t.id).collect();
    region_ids.push(area.id);
    let models = observation::Entity::find()
        .filter(scope.condition(Version::Published, Some(&ids)))
        .filter(observation::Column::RegionId.is_in(region_ids))
        .filter(observation::Column::Sex.eq(TOTAL))
        .filter(observation::Column::AgeGroup.eq(TOTAL))
        .order_by_asc(observation::Column::Year)
        .all(db)
        .await?;
    let records: Vec<Record> = protect(db, &scope, models).await?;
    // (indicator, region, residence) → the series, every year.
    let mut series: HashMap<(i32, i32, String), Vec<Point>> = HashMap::new();
    for r in &records {
        let Some(value) = r.value() else { continue };
        series
            .entry((
                r.model.indicator_id,
                r.model.region_id,
                r.model.residence.clone(),
            ))
            .or_default()
            .push(Point {
                year: r.model.year,
                value,
            });
    }
    let coverage = coverage_by_year(&targets, &series, area.id, &townships);
    Ok(Loaded {
        scope,
        area,
        indicators,
        targets,
        townships,
        series,
        coverage,
    })
}

/// What one read of the data gives: the targets and their series in every year, to be evaluated at any
/// year without reading again.
struct Loaded {
    scope: ReadScope,
    area: region::Model,
    indicators: Vec<indicator::Model>,
    targets: Vec<target::Model>,
    townships: Vec<region::Model>,
    /// (indicator, region, residence) → the series, every year.
    series: HashMap<(i32, i32, String), Vec<Point>>,
    coverage: Vec<YearCoverage>,
}

impl Loaded {
    /// The default evaluation year ([`reporting_year`]).
    fn default_year(&self) -> i32 {
        reporting_year(&self.coverage, self.targets.len())
    }

    /// The assessment at `year`: values after it are ignored.
    fn at(&self, year: i32) -> Assessment {
        // Townships that existed in the evaluation year (a merged one keeps its history but drops out).
        let townships: Vec<region::Model> = self
            .townships
            .iter()
            .filter(|t| existed_in(t, year))
            .cloned()
            .collect();
        let until = |points: Option<&Vec<Point>>| -> Vec<Point> {
            points
                .map(|p| p.iter().filter(|p| p.year <= year).cloned().collect())
                .unwrap_or_default()
        };
        let mut out = Vec::new();
        for t in &self.targets {
            let Some(indicator) = self.indicators.iter().find(|i| i.id == t.indicator_id) else {
                continue;
            };
            let spec = spec_of(t);
            let residence = residence_of(spec.scope);
            let own = until(
                self.series
                    .get(&(indicator.id, self.area.id, residence.to_owned())),
            );
            let per_township: Vec<(region::Model, Vec<Point>)> =
                if spec.scope == TargetScope::EachTownship {
                    townships
                        .iter()
                        .map(|r| {
                            (
                                r.clone(),
                                until(self.series.get(&(indicator.id, r.id, TOTAL.to_owned()))),
                            )
                        })
                        .collect()
                } else {
                    Vec::new()
                };
            out.push(TargetProgress {
                evaluation: evaluate(&spec, own, per_township),
                indicator: indicator.clone(),
                target: t.clone(),
                spec,
            });
        }
        Assessment {
            scope: self.scope.clone(),
            year,
            coverage: self.coverage.clone(),
            area: self.area.clone(),
            townships,
            targets: out,
            warnings: tokio::sync::OnceCell::new(),
        }
    }
}

/// Assesses the targets matching `filter` with the values `scope` may read.
#[tracing::instrument(name = "assess targets", skip_all)]
pub async fn assess(
    db: &impl ConnectionTrait,
    scope: ReadScope,
    filter: &ProgressFilter,
) -> AppResult<Assessment> {
    let loaded = load(db, scope, filter).await?;
    let year = filter.year;
    crate::service::compute::run("assessment", move |_| {
        let year = year.unwrap_or_else(|| loaded.default_year());
        loaded.at(year)
    })
    .await
}

/// The assessment at the default evaluation year, and one at every year with values (ascending), from
/// one read of the data: for the tracker, which announces a township below a floor when its value is
/// published, whatever year the dashboards show.
pub async fn assess_every_year(
    db: &impl ConnectionTrait,
    scope: ReadScope,
    filter: &ProgressFilter,
) -> AppResult<(Assessment, Vec<Assessment>)> {
    let loaded = load(db, scope, filter).await?;
    crate::service::compute::run("assessment", move |cancel| {
        let default = loaded.at(loaded.default_year());
        let every = loaded
            .coverage
            .iter()
            .take_while(|_| !cancel.is_cancelled())
            .map(|c| loaded.at(c.year))
            .collect();
        (default, every)
    })
    .await
}

/// The target as a person reads it, with the comparison and the unit: `≥ 97 %`, `≤ 4 ‰`, `下降 trend ↓`,
/// `−20 % of 2020 (≤ 9.6 /100k)`.
pub fn target_label(t: &TargetProgress) -> String {
    let unit = t.indicator.unit.symbol();
    let value = t.target.value.unwrap_or_default();
    let spaced = |v: f64| {
        if unit.is_empty() {
            format!("{v}")
        } else {
            format!("{v} {unit}")
        }
    };
    match t.spec.kind {
        TargetKind::AtLeast => format!("≥ {}", spaced(value)),
        TargetKind::AtMost => format!("≤ {}", spaced(value)),
        TargetKind::ReduceByPercent => match t.evaluation.target_value {
            Some(derived) => format!(
                "−{value} % of {} (≤ {})",
                t.spec.baseline_year,
                spaced((derived * 100.0).round() / 100.0)
            ),
            None => format!("−{value} % of {}", t.spec.baseline_year),
        },
        TargetKind::TrendUp => "上升 trend ↑".into(),
        TargetKind::TrendDown => "下降 trend ↓".into(),
        TargetKind::TrendNotUp => "不再上升 not ↑".into(),
        TargetKind::Milestone => format!("实现 done by {}", t.spec.target_year),
    }
}

/// One line saying why a target has its status, in the numbers an analyst would check first: e.g.
/// "city 98.4 % but 3 of 15 townships below 97 %", or "5.2 ‰ in 2025; at −2.5 % a year it reaches
/// 4.58 ‰ by 2030, target ≤ 4 ‰".
pub fn explain(t: &TargetProgress) -> String {
    let unit = t.indicator.unit.symbol();
    let decimals = usize::try_from(t.indicator.decimals).unwrap_or(1);
    let num = |v: f64| format!("{v:.decimals$}{unit}");
    let p = &t.evaluation.progress;
    let cmp = if t.spec.kind.direction() > 0 {
        "≥"
    } else {
        "≤"
    };
    let target = t
        .evaluation
        .target_value
        .map(|v| format!("{cmp} {}", num(v)));
    let Some(current) = p.current else {
        return "no approved value yet".into();
    };
    if t.spec.scope == TargetScope::EachTownship && !t.evaluation.townships.is_empty() {
        let below = t
            .evaluation
            .townships
            .iter()
            .filter(|r| r.below_floor)
            .count();
        let total = t.evaluation.townships.len();
        let floor = target.unwrap_or_default();
        let city = format!("city {} in {}", num(current.value), current.year);
        return if below == 0 {
            format!("{city}; all {total} townships {floor}")
        } else {
            format!("{city} but {below} of {total} townships below {floor}")
        };
    }
    let latest = format!("{} in {}", num(current.value), current.year);
    if let Some(note) = p.note {
        return format!("{latest}; {}", note.text());
    }
    match (&target, p.cagr_observed, p.projection) {
        (Some(target), _, _) if p.status == ProgressStatus::Achieved => {
            format!("{latest} meets the target {target}")
        }
        (Some(target), Some(rate), Some(projection)) => format!(
            "{latest}; at {:+.1} % a year it reaches {} by {}, target {target}",
            rate * 100.0,
            num(projection),
            t.spec.target_year
        ),
        (None, Some(_), _) => {
            let x = p.ratio.unwrap_or_default();
            let c = p.limit_factor.unwrap_or(1.0);
            format!(
                "{latest}; moving {:+.2} % a year the way the plan wants, {:.2} % needed to be on track",
                x * 100.0,
                crate::monitor::progress::ON_TRACK_X * c * 100.0
            )
        }
        _ => latest,
    }
}

/// Counts of targets per status, per domain.
pub fn summarise(assessment: &Assessment) -> Vec<(i32, HashMap<ProgressStatus, usize>)> {
    let mut by_domain: HashMap<i32, HashMap<ProgressStatus, usize>> = HashMap::new();
    for t in &assessment.targets {
        *by_domain
            .entry(t.indicator.domain_id)
            .or_default()
            .entry(t.evaluation.progress.status)
            .or_default() += 1;
    }
    let mut out: Vec<_> = by_domain.into_iter().collect();
    out.sort_by_key(|(d, _)| *d);
    out
}

/// An early warning, with what a reader needs to act on it.
#[derive(Clone, Debug)]
pub struct EarlyWarning {
    pub warning: Warning<region::Model>,
    pub indicator: indicator::Model,
    /// The region concerned: the township, or the area.
    pub region: region::Model,
    pub message: String,
}

fn number(v: Option<f64>) -> String {
    v.map_or("–".into(), |v| {
        let s = format!("{v:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    })
}

fn describe(
    w: &Warning<region::Model>,
    indicator: &indicator::Model,
    place: &region::Model,
) -> String {
    let name = format!("{} ({})", indicator.name_en, indicator.name_zh);
    let place = format!("{} ({})", place.name_en, place.name_zh);
    match w.kind {
        WarningKind::OffTrack | WarningKind::Deteriorating => format!(
            "{name} in {place}: {} since {}; latest {} against a target of {}",
            w.status.map_or("off track", |s| s.label_en()),
            w.since,
            number(w.value),
            number(w.threshold)
        ),
        WarningKind::BelowFloor => format!(
            "{name} in {place} is {} in {}, below the floor of {} since {}",
            number(w.value),
            w.year,
            number(w.threshold),
            w.since
        ),
        WarningKind::MaintainBreach => format!(
            "{name} in {place} was {} in {}, under the level of {} the plan asks to maintain",
            number(w.value),
            w.year,
            number(w.threshold)
        ),
        WarningKind::ImplausibleJump => format!(
            "{name} in {place} jumped to {} in {}: check the value",
            number(w.value),
            w.year
        ),
        WarningKind::MissingData => {
            format!("{name} has no approved value for {} in {place}", w.year)
        }
        // Source findings are described by the sources service; none comes from a series.
        WarningKind::SourceFailing => format!("{name}: a source is failing"),
    }
}

/// Early warnings of an assessment, of at least `min_severity`, most severe first. They are derived
/// from the assessment itself, so they always agree with its progress.
pub async fn warnings_of(
    db: &impl ConnectionTrait,
    assessment: &Assessment,
    min_severity: Severity,
) -> AppResult<Vec<EarlyWarning>> {
    let all = assessment
        .warnings
        .get_or_try_init(|| async {
            Ok::<_, AppError>(Arc::new(find_warnings(db, assessment).await?))
        })
        .await?;
    Ok(all
        .iter()
        .filter(|w| w.warning.severity >= min_severity)
        .cloned()
        .collect())
}

/// Every early warning of an assessment, most severe first.
async fn find_warnings(
    db: &impl ConnectionTrait,
    assessment: &Assessment,
) -> AppResult<Vec<EarlyWarning>> {
    let year = assessment.year;
    let mut out: Vec<EarlyWarning> = Vec::new();
    for t in &assessment.targets {
        for w in warnings::for_target(&t.spec, t.target.maintain, &t.evaluation, year) {
            let place = w.region.clone().unwrap_or_else(|| assessment.area.clone());
            out.push(EarlyWarning {
                message: describe(&w, &t.indicator, &place),
                warning: w,
                indicator: t.indicator.clone(),
                region: place,
            });
        }
    }
    // Implausible jumps flagged on approved values, and indicators with no approved value for the year.
    let scope = &assessment.scope;
    let mut region_ids: Vec<i32> = assessment.townships.iter().map(|t| t.id).collect();
    region_ids.push(assessment.area.id);
    let ids: Vec<i32> = assessment.targets.iter().map(|t| t.indicator.id).collect();
    let in_year = observation::Entity::find()
        .filter(scope.condition(Version::Published, Some(&ids)))
        .filter(observation::Column::RegionId.is_in(region_ids))
        .filter(observation::Column::Year.eq(year))
        .all(db)
        .await?;
    let reported: HashSet<i32> = in_year.iter().map(|o| o.indicator_id).collect();
    let regions: HashMap<i32, region::Model> = assessment
        .townships
        .iter()
        .chain(std::iter::once(&assessment.area))
        .map(|r| (r.id, r.clone()))
        .collect();
    for record in protect(
        db,
        scope,
        in_year
            .into_iter()
            .filter(|o| o.quality_flag.is_some())
            .collect(),
    )
    .await?
    {
        let (Some(indicator), Some(place)) = (
            assessment
                .targets
                .iter()
                .find(|t| t.indicator.id == record.model.indicator_id)
                .map(|t| t.indicator.clone()),
            regions.get(&record.model.region_id).cloned(),
        ) else {
            continue;
        };
        let w = Warning {
            kind: WarningKind::ImplausibleJump,
            severity: Severity::Low,
            region: Some(place.clone()),
            year,
            since: year,
            value: record.value(),
            threshold: None,
            status: None,
        };
        out.push(EarlyWarning {
            message: describe(&w, &indicator, &place),
            warning: w,
            indicator,
            region: place,
        });
    }
    let mut missing_seen = HashSet::new();
    for t in &assessment.targets {
        if reported.contains(&t.indicator.id) || !missing_seen.insert(t.indicator.id) {
            continue;
        }
        let w = Warning {
            kind: WarningKind::MissingData,
            severity: Severity::Medium,
            region: None,
            year,
            since: year,
            value: None,
            threshold: None,
            status: None,
        };
        out.push(EarlyWarning {
            message: describe(&w, &t.indicator, &assessment.area),
            warning: w,
            indicator: t.indicator.clone(),
            region: assessment.area.clone(),
        });
    }
    out.sort_by(|a, b| {
        b.warning
            .severity
            .cmp(&a.warning.severity)
            .then(a.indicator.code.cmp(&b.indicator.code))
            .then(a.region.code.cmp(&b.region.code))
            .then(a.warning.year.cmp(&b.warning.year))
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn coverage(counts: &[(i32, usize)]) -> Vec<YearCoverage> {
        counts
            .iter()
            .map(|&(year, n)| YearCoverage {
                year,
                targets_with_values: n,
            })
            .collect()
    }

    #[test]
    fn one_early_value_does_not_move_the_reporting_year() {
        // 41 targets: 2025 is reported for 30, 2026 has one early submission.
        let c = coverage(&[(2024, 38), (2025, 30), (2026, 1)]);
        assert_eq!(reporting_year(&c, 41), 2025);
        // Half is enough; fewer than half is not.
        assert_eq!(
            reporting_year(&coverage(&[(2025, 20), (2026, 21)]), 41),
            2026
        );
        assert_eq!(
            reporting_year(&coverage(&[(2025, 21), (2026, 20)]), 41),
            2025
        );
        // Nothing anywhere near half: the latest year with any value.
        assert_eq!(reporting_year(&coverage(&[(2023, 2), (2024, 1)]), 41), 2024);
        assert_eq!(reporting_year(&[], 41), NO_VALUES_YEAR);
    }
}
