//! Object types of progress, summaries and early warnings.

use crate::graphql::context::reference;
use crate::graphql::types::{Domain, Indicator, Region, Target};
use crate::monitor::{Point, ProgressStatus, Severity, WarningKind};
use crate::service::progress::{
    EarlyWarning as EarlyWarningModel, TargetProgress as TargetProgressModel,
};
use async_graphql::{Context, Object, Result, SimpleObject};

/// One value of a series.
#[derive(SimpleObject, Clone, Copy)]
pub struct SeriesPoint {
    pub year: i32,
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

/// A township's progress under a per-township target.
pub struct TownshipProgress {
    pub region: entity::region::Model,
    pub status: ProgressStatus,
    pub latest: Option<Point>,
    pub below_floor: bool,
}

#[Object]
impl TownshipProgress {
    async fn region(&self) -> Region {
        Region(self.region.clone())
    }
    async fn status(&self) -> ProgressStatus {
        self.status
    }
    async fn latest(&self) -> Option<SeriesPoint> {
        self.latest.map(Into::into)
    }
    /// Its latest value breaches the per-township floor.
    async fn below_floor(&self) -> bool {
        self.below_floor
    }
}

/// How a target is progressing (Open SDG progress measure; see docs/progress.md).
pub struct TargetProgress {
    pub model: TargetProgressModel,
    pub region: entity::region::Model,
    pub year: i32,
}

#[Object]
impl TargetProgress {
    async fn indicator(&self) -> Indicator {
        Indicator(self.model.indicator.clone())
    }
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
    /// Open SDG's score, −5 to 5.
    async fn score(&self) -> Option<f64> {
        self.model.evaluation.progress.score
    }
    async fn cagr_observed(&self) -> Option<f64> {
        self.model.evaluation.progress.cagr_observed
    }
    async fn cagr_required(&self) -> Option<f64> {
        self.model.evaluation.progress.cagr_required
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

/// How a status is named and shown, so that pages and reports take the labels from one place.
pub struct StatusLabel(pub ProgressStatus);

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
    pub status: ProgressStatus,
    pub count: i32,
}

/// The counts of one domain.
pub struct DomainSummary {
    pub domain_id: i32,
    pub counts: Vec<StatusCount>,
    pub total: i32,
}

#[Object]
impl DomainSummary {
    async fn domain(&self, ctx: &Context<'_>) -> Result<Option<Domain>> {
        Ok(reference(ctx)?
            .domain_by_id(self.domain_id)
            .cloned()
            .map(Domain))
    }
    async fn counts(&self) -> &[StatusCount] {
        &self.counts
    }
    async fn total(&self) -> i32 {
        self.total
    }
}

/// Targets per status per domain for a year.
#[derive(SimpleObject)]
pub struct ProgressSummary {
    pub year: i32,
    pub region: Region,
    pub domains: Vec<DomainSummary>,
    /// All domains together.
    pub counts: Vec<StatusCount>,
}

/// A finding that needs attention.
pub enum EarlyWarning {
    /// About a target's series.
    Target(EarlyWarningModel),
    /// About a source connector that keeps failing.
    Source(crate::service::sources::SourceWarning),
}

#[Object]
impl EarlyWarning {
    async fn kind(&self) -> WarningKind {
        match self {
            EarlyWarning::Target(w) => w.warning.kind,
            EarlyWarning::Source(_) => WarningKind::SourceFailing,
        }
    }
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
