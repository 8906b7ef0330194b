//! The graph's object types. Each wraps a row the services returned (already scoped by the policy) and
//! loads its neighbours through the request's DataLoaders.

use crate::auth::policy;
use crate::error::AppError;
use crate::graphql::context::{identity, loaders, reference, resolve_region, scope, stored};
use crate::graphql::loaders::LatestIn;
use crate::service::observations::{Record, SeriesKey};
use crate::vocabulary::{
    DepartmentKind, Dimension, RegionLevel, Sensitivity, Status, TOTAL, TargetKind, TargetScope,
    Unit,
};
use async_graphql::{Context, Object, Result};
use entity::{department, dimension_code, domain, indicator, region, target};

pub struct Department(pub department::Model);

/// A department: owns indicators or coordinates the monitoring.
///
/// Federation entity, `@key(fields: "code")`: another subgraph references one as
/// `{ "__typename": "Department", "code": "health" }`.
#[Object]
impl Department {
    /// Code such as `health` or `statistics`.
    async fn code(&self) -> &str {
        &self.0.code
    }
    /// Chinese name, e.g. 卫生健康局.
    #[graphql(shareable)]
    async fn name_zh(&self) -> &str {
        &self.0.name_zh
    }
    /// English name.
    #[graphql(shareable)]
    async fn name_en(&self) -> &str {
        &self.0.name_en
    }
    /// Owner of indicators, or coordinator (statistics bureau, women-and-children working committee).
    async fn kind(&self) -> Result<DepartmentKind> {
        Ok(self.0.kind)
    }
    /// Indicators this department reports.
    async fn indicators(&self, ctx: &Context<'_>) -> Result<Vec<Indicator>> {
        visible_indicators(ctx, |i| i.owner_department_id == self.0.id)
    }
}

/// The indicators the caller may see that `pick` keeps, in code order.
fn visible_indicators(
    ctx: &Context<'_>,
    pick: impl Fn(&indicator::Model) -> bool,
) -> Result<Vec<Indicator>> {
    let who = identity(ctx);
    Ok(reference(ctx)?
        .all_indicators()
        .iter()
        .filter(|i| pick(i) && policy::may_see_indicator(who, i))
        .cloned()
        .map(Indicator)
        .collect())
}

/// The indicator with this id, which the caller may see (else an internal error: a row the caller
/// read points at it, so the policy let them see it).
pub fn visible_indicator(ctx: &Context<'_>, id: i32) -> Result<Indicator> {
    let found = reference(ctx)?
        .indicator_by_id(id)
        .filter(|i| policy::may_see_indicator(identity(ctx), i));
    Ok(Indicator(stored(found, "indicator id", id)?.clone()))
}

/// The department with this id.
pub fn department_by_id(ctx: &Context<'_>, id: i32) -> Result<Department> {
    let found = reference(ctx)?.department_by_id(id);
    Ok(Department(stored(found, "department id", id)?.clone()))
}

/// The domain with this id.
pub fn domain_by_id(ctx: &Context<'_>, id: i32) -> Result<Domain> {
    let found = reference(ctx)?.domain_by_id(id);
    Ok(Domain(stored(found, "domain id", id)?.clone()))
}

/// The region with this id.
pub fn region_by_id(ctx: &Context<'_>, id: i32) -> Result<Region> {
    let found = reference(ctx)?.region_by_id(id);
    Ok(Region(stored(found, "region id", id)?.clone()))
}

pub struct Domain(pub domain::Model);

/// One of the plan's seven areas.
#[Object]
impl Domain {
    /// `health`, `safety`, `education`, `welfare`, `family`, `environment` or `legal`.
    async fn code(&self) -> &str {
        &self.0.code
    }
    /// Chinese name as in the plan, e.g. 儿童与健康.
    async fn name_zh(&self) -> &str {
        &self.0.name_zh
    }
    /// English name.
    async fn name_en(&self) -> &str {
        &self.0.name_en
    }
    /// Order in the plan.
    async fn position(&self) -> i32 {
        self.0.position
    }
    /// The domain's indicators the caller may see.
    async fn indicators(&self, ctx: &Context<'_>) -> Result<Vec<Indicator>> {
        visible_indicators(ctx, |i| i.domain_id == self.0.id)
    }
}

pub struct Indicator(pub indicator::Model);

/// A measured quantity of the plan.
///
/// Federation entity, `@key(fields: "code")`: another subgraph references one as
/// `{ "__typename": "Indicator", "code": "HEA-03" }`; the caller's policy applies as on `indicator`.
#[Object]
impl Indicator {
    /// How the indicator's targets progress in `region` (default: the only city) as of `year`
    /// (default: the latest year with approved values).
    #[graphql(complexity = "crate::graphql::cost::INDICATOR_PROGRESS + child_complexity")]
    async fn progress(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Region code (default: the only city).")] region: Option<String>,
        #[graphql(
            desc = "Evaluation year (default: the latest year in which at least half of the targets have approved values)."
        )]
        year: Option<i32>,
    ) -> Result<Vec<crate::graphql::progress_types::TargetProgress>> {
        let key = crate::graphql::loaders::ProgressOf {
            indicator_id: self.0.id,
            region,
            year,
        };
        let Some((area, year, targets)) = loaders(ctx)?.load_one(key).await? else {
            return Ok(Vec::new());
        };
        Ok(targets
            .into_iter()
            .map(|model| crate::graphql::progress_types::TargetProgress {
                model,
                region: area.clone(),
                year,
            })
            .collect())
    }
    /// Stable code, e.g. `HEA-03`.
    async fn code(&self) -> &str {
        &self.0.code
    }
    /// Name as the plan words it, e.g. 婴儿死亡率.
    #[graphql(shareable)]
    async fn name_zh(&self) -> &str {
        &self.0.name_zh
    }
    /// English name, e.g. `Infant mortality rate`.
    #[graphql(shareable)]
    async fn name_en(&self) -> &str {
        &self.0.name_en
    }
    /// What the values measure, and so their range (a percent lies in 0 – 100).
    async fn unit(&self) -> Result<Unit> {
        Ok(self.0.unit)
    }
    /// Who may read the values: public, internal (all departments) or restricted.
    async fn sensitivity(&self) -> Result<Sensitivity> {
        Ok(self.0.sensitivity)
    }
    /// Decimals to show values with.
    async fn decimals(&self) -> i32 {
        self.0.decimals
    }
    /// Where in the plan the target stands, e.g. `（一）主要目标3`.
    async fn plan_clause(&self) -> &str {
        &self.0.plan_clause
    }
    /// Dimensions the values are broken down by, besides region and year.
    async fn dimensions(&self) -> Vec<Dimension> {
        [
            (self.0.by_sex, Dimension::Sex),
            (self.0.by_age, Dimension::Age),
            (self.0.by_residence, Dimension::Residence),
        ]
        .into_iter()
        .filter_map(|(on, d)| on.then_some(d))
        .collect()
    }
    /// The plan's domain (领域) the indicator belongs to.
    async fn domain(&self, ctx: &Context<'_>) -> Result<Domain> {
        domain_by_id(ctx, self.0.domain_id)
    }
    /// The department that reports the indicator.
    async fn owner_department(&self, ctx: &Context<'_>) -> Result<Department> {
        department_by_id(ctx, self.0.owner_department_id)
    }
    /// What the plan wants of the indicator.
    async fn targets(&self, ctx: &Context<'_>) -> Result<Vec<Target>> {
        Ok(reference(ctx)?
            .targets_of(self.0.id)
            .iter()
            .cloned()
            .map(Target)
            .collect())
    }
    /// Published values for one region and disaggregation, ordered by year.
    // Each parameter is an argument of the API's field, as GraphQL clients send them.
    #[allow(clippy::too_many_arguments)]
    async fn series(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Region code")] region: String,
        #[graphql(
            desc = "Sex code: `_T` (total, default), `M` or `F`.",
            default_with = "TOTAL.to_owned()"
        )]
        sex: String,
        #[graphql(
            desc = "Age group code: `_T` (total, default) or e.g. `Y0T4`.",
            default_with = "TOTAL.to_owned()"
        )]
        age_group: String,
        #[graphql(
            desc = "Residence code: `_T` (total, default), `U` urban or `R` rural.",
            default_with = "TOTAL.to_owned()"
        )]
        residence: String,
        #[graphql(desc = "The first year (default: the earliest).")] from: Option<i32>,
        #[graphql(desc = "The last year (default: the latest).")] to: Option<i32>,
    ) -> Result<Vec<Observation>> {
        if let (Some(from), Some(to)) = (from, to)
            && from > to
        {
            return Err(
                AppError::invalid("from", from, format!("a year no later than to ({to})")).into(),
            );
        }
        let region = resolve_region(ctx, "region", &region)?;
        let key = SeriesKey {
            indicator_id: self.0.id,
            region_id: region.id,
            sex,
            age_group,
            residence,
        };
        // The whole series is loaded (batched with every other series of the request) and cut here.
        let found = loaders(ctx)?.load_one(key).await?.unwrap_or_default();
        Ok(found
            .into_iter()
            .filter(|r| {
                from.is_none_or(|f| r.model.year >= f) && to.is_none_or(|t| r.model.year <= t)
            })
            .map(Observation)
            .collect())
    }
    /// The most recent published value for one region and disaggregation.
    async fn latest(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Region code")] region: String,
        #[graphql(
            desc = "Sex code: `_T` (total, default), `M` or `F`.",
            default_with = "TOTAL.to_owned()"
        )]
        sex: String,
        #[graphql(
            desc = "Age group code: `_T` (total, default) or e.g. `Y0T4`.",
            default_with = "TOTAL.to_owned()"
        )]
        age_group: String,
        #[graphql(
            desc = "Residence code: `_T` (total, default), `U` urban or `R` rural.",
            default_with = "TOTAL.to_owned()"
        )]
        residence: String,
    ) -> Result<Option<Observation>> {
        let region = resolve_region(ctx, "region", &region)?;
        let key = SeriesKey {
            indicator_id: self.0.id,
            region_id: region.id,
            sex,
            age_group,
            residence,
        };
        let found = loaders(ctx)?.load_one(key).await?.unwrap_or_default();
        Ok(found.into_iter().last().map(Observation))
    }
}

pub struct Target(pub target::Model);

/// What the plan wants of an indicator by the target year.
#[Object]
impl Target {
    /// How the value is judged: at least, at most, a cut from the baseline, a trend or a milestone.
    async fn kind(&self) -> Result<TargetKind> {
        Ok(self.0.kind)
    }
    /// The threshold (for `REDUCE_BY_PERCENT` the percentage to cut from the baseline); none for trends.
    async fn value(&self) -> Option<f64> {
        self.0.value
    }
    /// The year the plan measures change from (2020 unless the target says otherwise).
    async fn baseline_year(&self) -> i32 {
        self.0.baseline_year
    }
    /// The year the target is due (2030 unless the target says otherwise).
    async fn target_year(&self) -> i32 {
        self.0.target_year
    }
    /// Which series the target applies to.
    async fn scope(&self) -> Result<TargetScope> {
        Ok(self.0.scope)
    }
    /// The value the indicator cannot pass in this target's assessment (100 for a share in percent),
    /// if any: it scales the trend thresholds (C) and bounds the projection on the side the series
    /// moves towards.
    async fn natural_limit(&self) -> Option<f64> {
        self.0.natural_limit
    }
    /// Why the natural limit is there.
    async fn limit_reason(&self) -> Option<&str> {
        self.0.limit_reason.as_deref()
    }
    /// The plan asks to reach the level and keep it (达到并保持): once reached, every later year below
    /// it is an early warning.
    async fn maintain(&self) -> bool {
        self.0.maintain
    }
}

pub struct Region(pub region::Model);

/// A node of the administrative tree: the city, its townships (乡镇街) and villages (村/社区).
///
/// Federation entity, `@key(fields: "code")`: another subgraph references one as
/// `{ "__typename": "Region", "code": "city" }`.
#[Object]
impl Region {
    /// Code such as `city` or a township's code; unique for all time (a merged township keeps its code).
    async fn code(&self) -> &str {
        &self.0.code
    }
    /// Chinese name, e.g. 城关镇.
    #[graphql(shareable)]
    async fn name_zh(&self) -> &str {
        &self.0.name_zh
    }
    /// English name.
    #[graphql(shareable)]
    async fn name_en(&self) -> &str {
        &self.0.name_en
    }
    /// City, township (乡镇街) or village (村/社区).
    async fn level(&self) -> Result<RegionLevel> {
        Ok(self.0.level)
    }
    /// `U` urban, `R` rural, `_T` mixed.
    async fn residence(&self) -> &str {
        self.0.residence.as_str()
    }
    /// First year the region existed (none: since before the records).
    async fn valid_from(&self) -> Option<i32> {
        self.0.valid_from
    }
    /// Last year the region existed (none: it still exists).
    async fn valid_to(&self) -> Option<i32> {
        self.0.valid_to
    }
    /// The region it belongs to; null for the city.
    async fn parent(&self, ctx: &Context<'_>) -> Result<Option<Region>> {
        let Some(parent) = self.0.parent_id else {
            return Ok(None);
        };
        region_by_id(ctx, parent).map(Some)
    }
    /// The direct children, in code order.
    async fn children(&self, ctx: &Context<'_>) -> Result<Vec<Region>> {
        Ok(reference(ctx)?
            .children(self.0.id)
            .cloned()
            .map(Region)
            .collect())
    }
    /// The latest published all-totals value of each indicator the caller may read (or of the given ones).
    async fn latest(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Indicator codes (default: every indicator the caller may read).")]
        indicators: Option<Vec<String>>,
    ) -> Result<Vec<Observation>> {
        let indicators = match indicators {
            Some(codes) => {
                let scope = scope(ctx)?;
                let mut ids = codes
                    .iter()
                    .map(|code| {
                        scope.by_code(code).map(|i| i.id).ok_or_else(|| {
                            AppError::invalid(
                                "indicators",
                                code,
                                "an indicator code (see `indicators`)",
                            )
                        })
                    })
                    .collect::<Result<Vec<i32>, AppError>>()?;
                ids.sort_unstable();
                ids.dedup();
                Some(ids)
            }
            None => None,
        };
        let key = LatestIn {
            region_id: self.0.id,
            indicators,
        };
        let found = loaders(ctx)?.load_one(key).await?.unwrap_or_default();
        Ok(found.into_iter().map(Observation).collect())
    }
}

pub struct Observation(pub Record);

/// One value of one indicator for one region, year and disaggregation.
#[Object]
impl Observation {
    /// The indicator measured.
    async fn indicator(&self, ctx: &Context<'_>) -> Result<Indicator> {
        visible_indicator(ctx, self.0.model.indicator_id)
    }
    /// The region the value is about.
    async fn region(&self, ctx: &Context<'_>) -> Result<Region> {
        region_by_id(ctx, self.0.model.region_id)
    }
    /// The calendar year the value is for.
    async fn year(&self) -> i32 {
        self.0.model.year
    }
    /// `_T`, `M` or `F`.
    async fn sex(&self) -> &str {
        &self.0.model.sex
    }
    /// `_T` or an age group such as `Y0T4`.
    async fn age_group(&self) -> &str {
        &self.0.model.age_group
    }
    /// `_T`, `U` or `R`.
    async fn residence(&self) -> &str {
        &self.0.model.residence
    }
    /// The value; null when suppressed.
    async fn value(&self) -> Option<f64> {
        self.0.value()
    }
    /// The count the value was computed from; hidden on restricted data read by other departments.
    async fn numerator(&self) -> Option<f64> {
        self.0.numerator()
    }
    /// The population the value was computed over; hidden like the numerator.
    async fn denominator(&self) -> Option<f64> {
        self.0.denominator()
    }
    /// The value is hidden by small-cell suppression (restricted indicators).
    async fn suppressed(&self) -> bool {
        self.0.suppressed
    }
    /// Pending until a coordinator approves it; approved values are the published ones.
    async fn status(&self) -> Result<Status> {
        Ok(self.0.model.status)
    }
    /// 1 for the first value sent for this key, +1 for each changed value after it; null when the value
    /// is suppressed (a revision number would tell that a hidden count was corrected).
    async fn revision(&self) -> Option<i32> {
        (!self.0.suppressed).then_some(self.0.model.revision)
    }
    /// Every revision of this value the caller may see, oldest first (owner department and coordinators:
    /// pending and rejected ones too; everyone else: the approved ones; restricted values read suppressed:
    /// none, as earlier revisions would open a differencing attack).
    async fn history(&self, ctx: &Context<'_>) -> Result<Vec<Observation>> {
        if self.0.suppressed {
            return Ok(Vec::new());
        }
        let key = self.0.model.key();
        let found = loaders(ctx)?.load_one(key).await?.unwrap_or_default();
        Ok(found.into_iter().map(Observation).collect())
    }
    /// The source connector run that pulled this value; null for values sent by hand.
    async fn source(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<crate::graphql::source_types::Provenance>> {
        let Some(run) = self.0.model.source_run_id else {
            return Ok(None);
        };
        Ok(loaders(ctx)?
            .load_one(crate::graphql::loaders::SourceRunId(run))
            .await?
            .map(|(run, source)| crate::graphql::source_types::Provenance(run, source)))
    }
    /// When this revision was stored; null when the value is suppressed.
    async fn recorded_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        (!self.0.suppressed).then_some(self.0.model.created_at)
    }
    /// Who stored this revision (the token subject), for the owner department and coordinators; null
    /// for everyone else and when the value is suppressed.
    async fn recorded_by(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        let owner = reference(ctx)?
            .indicator_by_id(self.0.model.indicator_id)
            .map(|i| i.owner_department_id);
        let may = owner.is_some_and(|d| policy::may_read_department_records(identity(ctx), d));
        Ok((may && !self.0.suppressed).then_some(self.0.model.created_by.as_str()))
    }
    /// The submission that carried this revision, for the owner department and coordinators (null
    /// otherwise, when suppressed, and for values stored without one).
    async fn submission(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<crate::graphql::workflow_types::Submission>> {
        Ok(self
            .submission_of(ctx)
            .await?
            .map(crate::graphql::workflow_types::Submission))
    }
    /// The value's id, for `rejectSubmission(comments:)`.
    async fn id(&self) -> async_graphql::ID {
        async_graphql::ID(self.0.model.id.to_string())
    }
    /// The reviewer's comment on this row when its submission was rejected (same visibility as
    /// `submission`).
    async fn review_comment(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        Ok(self
            .submission_of(ctx)
            .await?
            .and_then(|s| crate::service::submissions::comment_of(&s, &self.0.model)))
    }
    /// For a value read from a file: the cell it came from, e.g. `填报!D7` (same visibility as
    /// `submission`).
    async fn cell(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        Ok(self
            .submission_of(ctx)
            .await?
            .and_then(|s| crate::service::submissions::cell_of(&s, &self.0.model)))
    }
    /// The approved value of the same indicator, region, year and breakdown that this one would
    /// replace (for a review: a pending row beside what is published), as the caller may read it;
    /// null when there is none, or this is it.
    async fn previous_approved(&self, ctx: &Context<'_>) -> Result<Option<Observation>> {
        let key = crate::graphql::loaders::PublishedAt(self.0.model.key());
        let found = loaders(ctx)?.load_one(key).await?;
        Ok(found
            .filter(|r| r.model.id != self.0.model.id)
            .map(Observation))
    }
    /// The approved value of the same series one year earlier, as the caller may read it.
    async fn last_year_approved(&self, ctx: &Context<'_>) -> Result<Option<Observation>> {
        let key = crate::graphql::loaders::PublishedAt(self.0.model.key().year_before());
        Ok(loaders(ctx)?.load_one(key).await?.map(Observation))
    }
    /// A data-quality flag raised when the value was accepted, e.g. `implausible_jump`; null when the
    /// value is suppressed.
    async fn quality_flag(&self) -> Option<&str> {
        if self.0.suppressed {
            return None;
        }
        self.0.model.quality_flag.as_deref()
    }
}

impl Observation {
    /// The revision's submission, through the policy (batched per request); none when suppressed.
    async fn submission_of(&self, ctx: &Context<'_>) -> Result<Option<entity::submission::Model>> {
        let Some(id) = self.0.model.submission_id.filter(|_| !self.0.suppressed) else {
            return Ok(None);
        };
        Ok(loaders(ctx)?
            .load_one(crate::graphql::loaders::SubmissionId(id))
            .await?)
    }
}

pub struct DimensionCode(pub dimension_code::Model);

/// One code of a disaggregation dimension.
#[Object]
impl DimensionCode {
    /// The dimension the code belongs to.
    async fn dimension(&self) -> Result<Dimension> {
        Ok(self.0.dimension)
    }
    /// SDMX-style code; totals are `_T`.
    async fn code(&self) -> &str {
        &self.0.code
    }
    /// Chinese name, e.g. 男.
    async fn name_zh(&self) -> &str {
        &self.0.name_zh
    }
    /// English name.
    async fn name_en(&self) -> &str {
        &self.0.name_en
    }
}
