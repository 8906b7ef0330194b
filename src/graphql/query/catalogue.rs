//! Root fields over the catalogue: departments, domains, dimension codes, indicators.

use crate::graphql::context::{identity, reference};
use crate::graphql::types::{Department, DimensionCode, Domain, Indicator};
use crate::service::catalogue::IndicatorFilter;
use async_graphql::{Context, InputObject, Object, Result};

/// Narrows the `indicators` list.
#[derive(InputObject, Default)]
#[graphql(name = "IndicatorFilter")]
pub struct IndicatorFilterInput {
    /// Domain code, e.g. `health`.
    pub domain: Option<String>,
    /// Owner department code, e.g. `education`.
    pub department: Option<String>,
    /// Text in the code or either name, e.g. `死亡率` or `mortality`.
    pub search: Option<String>,
}

#[derive(Default)]
pub struct CatalogueQuery;

#[Object]
impl CatalogueQuery {
    /// Every department, owners and coordinators.
    async fn departments(&self, ctx: &Context<'_>) -> Result<Vec<Department>> {
        let found = reference(ctx)?.departments();
        Ok(found.iter().cloned().map(Department).collect())
    }

    /// The department with this code, e.g. `health`.
    async fn department(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Department code, e.g. `health`.")] code: String,
    ) -> Result<Option<Department>> {
        Ok(reference(ctx)?.department(&code).cloned().map(Department))
    }

    /// The plan's seven domains, in plan order.
    async fn domains(&self, ctx: &Context<'_>) -> Result<Vec<Domain>> {
        let found = reference(ctx)?.domains();
        Ok(found.iter().cloned().map(Domain).collect())
    }

    /// The code lists of sex, age group and residence.
    async fn dimension_codes(&self, ctx: &Context<'_>) -> Result<Vec<DimensionCode>> {
        let found = reference(ctx)?.dimension_codes();
        Ok(found.iter().cloned().map(DimensionCode).collect())
    }

    /// Indicators the caller may see, in code order.
    async fn indicators(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which indicators (default: every one the caller may see).")]
        filter: Option<IndicatorFilterInput>,
    ) -> Result<Vec<Indicator>> {
        let filter = filter.unwrap_or_default();
        let filter = IndicatorFilter {
            domain: filter.domain,
            department: filter.department,
            search: filter.search,
        };
        let found = reference(ctx)?.indicators(identity(ctx), &filter)?;
        Ok(found.into_iter().cloned().map(Indicator).collect())
    }

    /// The indicator with this code, e.g. `HEA-03`; null when unknown.
    async fn indicator(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Indicator code, e.g. `HEA-03`.")] code: String,
    ) -> Result<Option<Indicator>> {
        let found = reference(ctx)?.indicator(identity(ctx), &code);
        Ok(found.cloned().map(Indicator))
    }
}
