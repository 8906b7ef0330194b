//! Catalogue changes (admin role): departments, indicators, targets, regions.

use crate::graphql::context::{db, settings, write_context};
use crate::graphql::types::{Department, Indicator, Region, Target};
use crate::service::admin::{self, DepartmentInput, IndicatorInput, TargetInput};
use crate::service::regions::write::{self as regions, RegionInput, parse_residence};
use crate::vocabulary::{
    DepartmentKind, Dimension, RegionLevel, Sensitivity, TargetKind, TargetScope, Unit,
};
use async_graphql::{Context, InputObject, Object, Result};

/// Fields of a department; on update, omitted fields keep their value.
#[derive(InputObject, Default)]
#[graphql(name = "DepartmentInput")]
pub struct DepartmentFields {
    /// Chinese name, e.g. 卫生健康局.
    pub name_zh: Option<String>,
    /// English name.
    pub name_en: Option<String>,
    /// Owner of indicators, or coordinator.
    pub kind: Option<DepartmentKind>,
}

/// Fields of an indicator; on update, omitted fields keep their value.
#[derive(InputObject, Default)]
#[graphql(name = "IndicatorInput")]
pub struct IndicatorFields {
    /// Chinese name.
    pub name_zh: Option<String>,
    /// English name.
    pub name_en: Option<String>,
    /// Domain code.
    pub domain: Option<String>,
    /// What the values measure.
    pub unit: Option<Unit>,
    /// Owner department code.
    pub owner_department: Option<String>,
    /// Who may read values: public, internal or restricted (suppressed small counts).
    pub sensitivity: Option<Sensitivity>,
    /// Decimals shown in tables and reports.
    pub decimals: Option<i32>,
    /// The plan's wording of the target, in Chinese.
    pub plan_clause: Option<String>,
    /// Dimensions the values are broken down by.
    pub dimensions: Option<Vec<Dimension>>,
}

/// One target.
#[derive(InputObject)]
#[graphql(name = "TargetInput")]
pub struct TargetFields {
    /// How the value is judged.
    pub kind: TargetKind,
    /// The threshold (for REDUCE_BY_PERCENT the percentage to cut); omit for trends.
    pub value: Option<f64>,
    /// Default: the plan's baseline year (`plan.baseline_year`, 2020).
    pub baseline_year: Option<i32>,
    /// Default: the plan's final year (`plan.target_year`, 2030).
    pub target_year: Option<i32>,
    /// Which series the target applies to (default: the city total).
    #[graphql(default_with = "TargetScope::City")]
    pub scope: TargetScope,
    /// The value the indicator cannot pass in this target's assessment (a ceiling for a rising series,
    /// a floor for a falling one); omit it for none.
    pub natural_limit: Option<f64>,
    /// Why the limit is there; required with `naturalLimit`.
    pub limit_reason: Option<String>,
    /// The plan asks to reach the level and keep it (达到并保持): every later year below it is a breach.
    #[graphql(default)]
    pub maintain: bool,
}

/// Fields of a region; on update, omitted fields keep their value.
#[derive(InputObject, Default)]
#[graphql(name = "RegionInput")]
pub struct RegionFields {
    /// Chinese name.
    pub name_zh: Option<String>,
    /// English name.
    pub name_en: Option<String>,
    /// City, township or village.
    pub level: Option<RegionLevel>,
    /// `U`, `R` or `_T`.
    pub residence: Option<String>,
    /// Parent region code.
    pub parent: Option<String>,
    /// First year the region existed (omit: since before the records).
    pub valid_from: Option<i32>,
    /// Last year the region existed (e.g. the year before a merger).
    pub valid_to: Option<i32>,
}

impl From<DepartmentFields> for DepartmentInput {
    fn from(f: DepartmentFields) -> Self {
        DepartmentInput {
            name_zh: f.name_zh,
            name_en: f.name_en,
            kind: f.kind,
        }
    }
}

impl From<IndicatorFields> for IndicatorInput {
    fn from(f: IndicatorFields) -> Self {
        IndicatorInput {
            name_zh: f.name_zh,
            name_en: f.name_en,
            domain: f.domain,
            unit: f.unit,
            owner_department: f.owner_department,
            sensitivity: f.sensitivity,
            decimals: f.decimals,
            plan_clause: f.plan_clause,
            dimensions: f.dimensions,
        }
    }
}

impl RegionFields {
    /// The service's input; a residence that is not a code is an error naming it.
    fn into_input(self) -> crate::error::AppResult<RegionInput> {
        Ok(RegionInput {
            name_zh: self.name_zh,
            name_en: self.name_en,
            level: self.level,
            residence: self
                .residence
                .map(|r| parse_residence("input.residence", &r))
                .transpose()?,
            parent: self.parent,
            valid_from: self.valid_from,
            valid_to: self.valid_to,
        })
    }
}

#[derive(Default)]
pub struct AdminMutation;

#[Object]
impl AdminMutation {
    /// Adds a department.
    async fn create_department(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Code, lower-case letters and dashes, e.g. `health`.")] code: String,
        #[graphql(desc = "Its fields (names and kind are required).")] input: DepartmentFields,
    ) -> Result<Department> {
        Ok(Department(
            admin::create_department(db(ctx)?, &write_context(ctx), &code, input.into()).await?,
        ))
    }
    /// Changes a department's names or kind.
    async fn update_department(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The department's code.")] code: String,
        #[graphql(desc = "The fields to change.")] input: DepartmentFields,
    ) -> Result<Department> {
        Ok(Department(
            admin::update_department(db(ctx)?, &write_context(ctx), &code, input.into()).await?,
        ))
    }
    /// Adds an indicator to the catalogue.
    async fn create_indicator(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Code such as `HEA-12`.")] code: String,
        #[graphql(desc = "Its fields (all but `dimensions` are required).")] input: IndicatorFields,
    ) -> Result<Indicator> {
        Ok(Indicator(
            admin::create_indicator(db(ctx)?, &write_context(ctx), &code, input.into()).await?,
        ))
    }
    /// Changes an indicator's fields; values already stored keep their meaning.
    async fn update_indicator(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The indicator's code.")] code: String,
        #[graphql(desc = "The fields to change.")] input: IndicatorFields,
    ) -> Result<Indicator> {
        Ok(Indicator(
            admin::update_indicator(db(ctx)?, &write_context(ctx), &code, input.into()).await?,
        ))
    }
    /// Replaces the targets of an indicator.
    async fn set_targets(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The indicator's code.")] indicator: String,
        #[graphql(desc = "Its targets (an empty list removes them all).")] targets: Vec<
            TargetFields,
        >,
    ) -> Result<Vec<Target>> {
        let plan = &settings(ctx)?.plan;
        let targets = targets
            .into_iter()
            .map(|t| TargetInput {
                kind: t.kind,
                value: t.value,
                baseline_year: t.baseline_year.unwrap_or(plan.baseline_year),
                target_year: t.target_year.unwrap_or(plan.target_year),
                scope: t.scope,
                natural_limit: t.natural_limit,
                limit_reason: t.limit_reason,
                maintain: t.maintain,
            })
            .collect();
        let saved = admin::set_targets(db(ctx)?, &write_context(ctx), &indicator, targets).await?;
        Ok(saved.into_iter().map(Target).collect())
    }
    /// Adds a region to the administrative tree.
    async fn create_region(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Code, unique for all time.")] code: String,
        #[graphql(desc = "Its fields (names, level and parent are required).")] input: RegionFields,
    ) -> Result<Region> {
        let input = input.into_input()?;
        let saved = regions::create_one(db(ctx)?, &write_context(ctx), &code, input)
            .await
            .map_err(|e| e.within("input"))?;
        Ok(Region(saved))
    }
    /// Updates a region, e.g. its `validTo` when a township is merged into another.
    async fn update_region(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The region's code.")] code: String,
        #[graphql(desc = "The fields to change.")] input: RegionFields,
    ) -> Result<Region> {
        let input = input.into_input()?;
        let saved = regions::update_one(db(ctx)?, &write_context(ctx), &code, input)
            .await
            .map_err(|e| e.within("input"))?;
        Ok(Region(saved))
    }
}
