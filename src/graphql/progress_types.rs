//! Object types of progress, summaries and early warnings.

use crate::graphql::context::reference;
use crate::graphql::types::{Domain, Indicator, Region, Target};
use crate::monitor::progress::METHOD_VERSION;
use crate::monitor::{Point, ProgressStatus, Severity, WarningKind};
use crate::service::progress::{
    self, EarlyWarning as EarlyWarningModel, TargetProgress as TargetProgressModel,
};
use crate::vocabulary::TargetKind;
use async_graphql::{Context, Object, Result, SimpleObject};

/// One value of a series.
#[derive(SimpleObject, Clone, Copy)]
pub struct SeriesPoint {
    /// The year.
    pub year: i32,
    /// The published value.
    pub value: f64,
}

impl From<Point> for SeriesPoint {
    fn from(p: Point) -> Self {
        SeriesPoint {
            year: p.year,
            value: p.value,
        }
    }
}

pub struct TownshipProgress {
    pub region: entity::region::Model,
    pub status: ProgressStatus,
    pub latest: Option<Point>,
    pub below_floor: bool,
}

/// A township's progress under a per-township target.
#[Object]
impl TownshipProgress {
    /// The township.
    async fn region(&self) -> Region {
        Region(self.region.clone())
    }
    /// Its own status against the target.
    async fn status(&self) -> ProgressStatus {
        self.status
    }
    /// Its latest published value.
    async fn latest(&self) -> Option<SeriesPoint> {
        self.latest.map(Into::into)
    }
    /// Its latest value breaches the per-township floor.
    async fn below_floor(&self) -> bool {
        self.below_floor
    }
}

pub struct TargetProgress {
    pub model: TargetProgressModel,
    pub region: entity::region::Model,
    pub year: i32,
}

/// How a target is progressing (Open SDG progress measure; see docs/progress.md).
#[Object]
impl TargetProgress {
    /// The indicator assessed.
    async fn indicator(&self) -> Indicator {
        Indicator(self.model.indicator.clone())
    }
    /// The target assessed.
    async fn target(&self) -> Target {
        Target(self.model.target.clone())
    }
    /// The area assessed.
    async fn region(&self) -> Region {
        Region(self.region.clone())
    }
    /// The evaluation year: values after it are not used.
    async fn year(&self) -> i32 {
        self.year
    }
    /// Where the target stands (see `why`).
    async fn status(&self) -> ProgressStatus {
        self.model.evaluation.progress.status
    }
    /// The latest value of the series the target's scope names.
    async fn latest(&self) -> Option<SeriesPoint> {
        self.model.evaluation.progress.current.map(Into::into)
    }
    /// The base point: the baseline year's value, else the first later one.
    async fn baseline(&self) -> Option<SeriesPoint> {
        self.model.evaluation.progress.base.map(Into::into)
    }
    /// The numeric target measured against (for "reduce by p%" derived from the baseline value).
    async fn target_value(&self) -> Option<f64> {
        self.model.evaluation.target_value
    }
    /// The current value grown at the observed rate to the target year.
    async fn projection(&self) -> Option<f64> {
        self.model.evaluation.progress.projection
    }
    /// How far the latest value still is from the target, in the direction it must move.
    async fn gap(&self) -> Option<f64> {
        self.model.evaluation.progress.gap
    }
    /// R (with a numeric target) or the growth x = s·d·CAGR (without).
    async fn ratio(&self) -> Option<f64> {
        self.model.evaluation.progress.ratio
    }
    /// Open SDG's score, −5 to 5, for every assessed target (trend kinds included); 5 when achieved.
    /// For `EACH_TOWNSHIP` targets not yet achieved, the mean score of the townships still short.
    async fn score(&self) -> Option<f64> {
        self.model.evaluation.progress.score
    }
    /// Compound annual growth rate from the base point to the latest value.
    async fn cagr_observed(&self) -> Option<f64> {
        self.model.evaluation.progress.cagr_observed
    }
    /// The growth rate needed from the base point to reach the target value in the target year.
    async fn cagr_required(&self) -> Option<f64> {
        self.model.evaluation.progress.cagr_required
    }
    /// C, the scaling of the growth thresholds by the target's natural limit (trend kinds; 1 without a
    /// limit).
    async fn limit_factor(&self) -> Option<f64> {
        self.model.evaluation.progress.limit_factor
    }
    /// The thresholds the status was decided with, as applied (trend thresholds already scaled by C).
    async fn thresholds(&self) -> Option<Thresholds> {
        Thresholds::of(&self.model)
    }
    /// The year of the base point actually used (the baseline year, else the first later year).
    async fn base_year_used(&self) -> Option<i32> {
        self.model.evaluation.progress.base.map(|p| p.year)
    }
    /// The value of the base point actually used.
    async fn base_value_used(&self) -> Option<f64> {
        self.model.evaluation.progress.base.map(|p| p.value)
    }
    /// Whether the latest value is at or past the target value (null for trend kinds, which have none).
    async fn target_achieved(&self) -> Option<bool> {
        let e = &self.model.evaluation;
        let (current, target) = (e.progress.current?, e.target_value?);
        Some(crate::monitor::progress::meets(
            f64::from(self.model.spec.kind.direction()),
            current.value,
            target,
        ))
    }
    /// Why a number is missing (one value only, a sign change, no growth required), if one is.
    async fn note(&self) -> Option<&'static str> {
        self.model.evaluation.progress.note.map(|n| n.text())
    }
    /// The target with its comparison and unit, as dashboards show it: `≥ 97 %`, `≤ 4 ‰`, `trend ↓`.
    async fn target_label(&self) -> String {
        progress::target_label(&self.model)
    }
    /// One line saying why the target has its status, e.g. "city 98.4 % but 3 townships below 97 %".
    async fn why(&self) -> String {
        progress::explain(&self.model)
    }
    /// The version of the progress method the numbers come from (see docs/progress.md).
    async fn method_version(&self) -> &'static str {
        METHOD_VERSION
    }
    /// The series measured.
    async fn series(&self) -> Vec<SeriesPoint> {
        self.model
            .evaluation
            .series
            .iter()
            .copied()
            .map(Into::into)
            .collect()
    }
    /// Per-township results (targets that every township must meet).
    async fn townships(&self) -> Vec<TownshipProgress> {
        self.model
            .evaluation
            .townships
            .iter()
            .map(|t| TownshipProgress {
                region: t.region.clone(),
                status: t.progress.status,
                latest: t.progress.current,
                below_floor: t.below_floor,
            })
            .collect()
    }
    /// Townships whose latest value breaches the floor.
    async fn below_floor(&self) -> Vec<Region> {
        self.model
            .evaluation
            .townships
            .iter()
            .filter(|t| t.below_floor)
            .map(|t| Region(t.region.clone()))
            .collect()
    }
    /// The trend chart (SVG): values, target line and projection.
    async fn chart_svg(&self) -> Result<String> {
        Ok(crate::report::trend_of(&self.model)?)
    }
}

/// What a progress value is compared with.
#[derive(async_graphql::Enum, Copy, Clone, PartialEq, Eq)]
pub enum ThresholdMeasure {
    /// R = s·d·CAGR observed / |CAGR required| (targets with a number).
    Ratio,
    /// x = s·d·CAGR observed (trend kinds), against thresholds scaled by C.
    Growth,
}

/// The thresholds a status was decided with: at or above `onTrack` → `ON_TRACK`, at or above
/// `needsAcceleration` → `NEEDS_ACCELERATION`, at or above 0 → `LIMITED_PROGRESS`, below → `DETERIORATING`.
#[derive(SimpleObject)]
pub struct Thresholds {
    /// What the thresholds compare: the trend score, or the ratio of observed to required growth.
    pub measure: ThresholdMeasure,
    /// At or above it the status is ON_TRACK.
    pub on_track: f64,
    /// At or above it (and below `onTrack`) the status is NEEDS_ACCELERATION; below, LIMITED_PROGRESS.
    pub needs_acceleration: f64,
}

impl Thresholds {
    fn of(model: &TargetProgressModel) -> Option<Thresholds> {
        use crate::monitor::progress::{
            NEEDS_ACCELERATION_R, NEEDS_ACCELERATION_X, ON_TRACK_R, ON_TRACK_X,
        };
        match model.spec.kind {
            TargetKind::Milestone => None,
            kind if kind.has_value() => Some(Thresholds {
                measure: ThresholdMeasure::Ratio,
                on_track: ON_TRACK_R,
                needs_acceleration: NEEDS_ACCELERATION_R,
            }),
            _ => {
                let c = model.evaluation.progress.limit_factor.unwrap_or(1.0);
                Some(Thresholds {
                    measure: ThresholdMeasure::Growth,
                    on_track: ON_TRACK_X * c,
                    needs_acceleration: NEEDS_ACCELERATION_X * c,
                })
            }
        }
    }
}

pub struct StatusLabel(pub ProgressStatus);

/// How a status is named and shown, so that pages and reports take the labels from one place.
#[async_graphql::Object]
impl StatusLabel {
    /// The status.
    async fn status(&self) -> ProgressStatus {
        self.0
    }
    /// Chinese label, e.g. 进展顺利.
    async fn label_zh(&self) -> &'static str {
        self.0.label_zh()
    }
    /// English label, e.g. `On track`.
    async fn label_en(&self) -> &'static str {
        self.0.label_en()
    }
    /// The colour dashboards and reports show it in (`#rrggbb`).
    async fn colour(&self) -> &'static str {
        self.0.colour()
    }
    /// Its place from best (0, achieved) to worst; `NO_DATA` last.
    async fn rank(&self) -> i32 {
        ProgressStatus::ALL
            .iter()
            .position(|s| *s == self.0)
            .unwrap_or_default() as i32
    }
}

/// How many targets have a status.
#[derive(SimpleObject)]
pub struct StatusCount {
    /// The status.
    pub status: ProgressStatus,
    /// How many targets have it.
    pub count: i32,
}

pub struct DomainSummary {
    pub domain_id: i32,
    pub counts: Vec<StatusCount>,
    pub total: i32,
}

/// The counts of one domain.
#[Object]
impl DomainSummary {
    /// The domain; null for the targets of indicators outside the seven domains.
    async fn domain(&self, ctx: &Context<'_>) -> Result<Option<Domain>> {
        Ok(reference(ctx)?
            .domain_by_id(self.domain_id)
            .cloned()
            .map(Domain))
    }
    /// How many of its targets have each status.
    async fn counts(&self) -> &[StatusCount] {
        &self.counts
    }
    /// Its targets assessed.
    async fn total(&self) -> i32 {
        self.total
    }
}

/// How many of the assessed targets have a value in a year: the years a dashboard offers, and the
/// evidence for the default year.
#[derive(SimpleObject)]
pub struct YearCoverage {
    /// The year.
    pub year: i32,
    /// How many assessed targets have an approved value for it.
    pub targets_with_values: i32,
    /// How many targets are assessed.
    pub targets: i32,
}

/// Targets per status per domain for a year.
#[derive(SimpleObject)]
pub struct ProgressSummary {
    /// The evaluation year: the one asked for, else the latest year in which at least half of the
    /// targets have approved values.
    pub year: i32,
    /// Every year with values, ascending, with how many targets have one.
    pub years: Vec<YearCoverage>,
    /// The area assessed.
    pub region: Region,
    /// Counts per domain, in plan order.
    pub domains: Vec<DomainSummary>,
    /// All domains together.
    pub counts: Vec<StatusCount>,
}

pub enum EarlyWarning {
    /// About a target's series.
    Target(EarlyWarningModel),
    /// About a source connector that keeps failing.
    Source(crate::sources::SourceWarning),
}

/// A finding that needs attention: about a target's series, or about a source that keeps failing.
#[Object]
impl EarlyWarning {
    /// What was found.
    async fn kind(&self) -> WarningKind {
        match self {
            EarlyWarning::Target(w) => w.warning.kind,
            EarlyWarning::Source(_) => WarningKind::SourceFailing,
        }
    }
    /// How urgent it is.
    async fn severity(&self) -> Severity {
        match self {
            EarlyWarning::Target(w) => w.warning.severity,
            EarlyWarning::Source(_) => Severity::High,
        }
    }
    /// The indicator concerned (none for a failing source).
    async fn indicator(&self) -> Option<Indicator> {
        match self {
            EarlyWarning::Target(w) => Some(Indicator(w.indicator.clone())),
            EarlyWarning::Source(_) => None,
        }
    }
    /// The failing source's name (source findings).
    async fn source(&self) -> Option<&str> {
        match self {
            EarlyWarning::Target(_) => None,
            EarlyWarning::Source(s) => Some(&s.source.name),
        }
    }
    /// The township concerned, or the area (none for a failing source).
    async fn region(&self) -> Option<Region> {
        match self {
            EarlyWarning::Target(w) => Some(Region(w.region.clone())),
            EarlyWarning::Source(_) => None,
        }
    }
    /// The department that should act: the indicator's owner, or the source's department.
    async fn department(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<crate::graphql::types::Department>> {
        let id = match self {
            EarlyWarning::Target(w) => w.indicator.owner_department_id,
            EarlyWarning::Source(s) => s.source.department_id,
        };
        Ok(reference(ctx)?
            .department_by_id(id)
            .cloned()
            .map(crate::graphql::types::Department))
    }
    /// The year the finding is about (for a failing source: the year it started failing).
    async fn year(&self) -> i32 {
        match self {
            EarlyWarning::Target(w) => w.warning.year,
            EarlyWarning::Source(s) => chrono::Datelike::year(&s.since),
        }
    }
    /// The first year of the run that leads to the finding.
    async fn since(&self) -> i32 {
        match self {
            EarlyWarning::Target(w) => w.warning.since,
            EarlyWarning::Source(s) => chrono::Datelike::year(&s.since),
        }
    }
    /// When a source started failing.
    async fn failing_since(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        match self {
            EarlyWarning::Target(_) => None,
            EarlyWarning::Source(s) => Some(s.since),
        }
    }
    /// The value that raised it, if any.
    async fn value(&self) -> Option<f64> {
        match self {
            EarlyWarning::Target(w) => w.warning.value,
            EarlyWarning::Source(_) => None,
        }
    }
    /// The target or floor breached.
    async fn threshold(&self) -> Option<f64> {
        match self {
            EarlyWarning::Target(w) => w.warning.threshold,
            EarlyWarning::Source(_) => None,
        }
    }
    /// The target's status, for off-track findings.
    async fn status(&self) -> Option<ProgressStatus> {
        match self {
            EarlyWarning::Target(w) => w.warning.status,
            EarlyWarning::Source(_) => None,
        }
    }
    /// What, where, how bad and since when, in a sentence.
    async fn message(&self) -> &str {
        match self {
            EarlyWarning::Target(w) => &w.message,
            EarlyWarning::Source(s) => &s.message,
        }
    }
}
