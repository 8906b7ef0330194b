//! Root fields over the administrative tree.

use crate::graphql::context::reference;
use crate::graphql::types::Region;
use crate::service::regions::RegionFilter;
use crate::service::regions::write::parse_residence;
use crate::vocabulary::RegionLevel;
use async_graphql::{Context, InputObject, Object, Result};

/// Narrows the `regions` list.
#[derive(InputObject, Default)]
#[graphql(name = "RegionFilter")]
pub struct RegionFilterInput {
    /// Only regions of this level.
    pub level: Option<RegionLevel>,
    /// Code of the parent region: its direct children.
    pub parent: Option<String>,
    /// `U`, `R` or `_T`.
    pub residence: Option<String>,
    /// Only regions that existed in this year.
    pub year: Option<i32>,
}

#[derive(Default)]
pub struct RegionQuery;

#[Object]
impl RegionQuery {
    /// Regions matching the filter, in code order.
    async fn regions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which regions (default: all).")] filter: Option<RegionFilterInput>,
    ) -> Result<Vec<Region>> {
        let filter = filter.unwrap_or_default();
        let filter = RegionFilter {
            level: filter.level,
            parent: filter.parent,
            residence: filter
                .residence
                .map(|r| parse_residence("filter.residence", &r))
                .transpose()?,
            year: filter.year,
        };
        let found = reference(ctx)?.regions(&filter)?;
        Ok(found.into_iter().cloned().map(Region).collect())
    }

    /// The region with this code; null when unknown.
    async fn region(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Region code, e.g. `city`.")] code: String,
    ) -> Result<Option<Region>> {
        Ok(reference(ctx)?.region(&code).cloned().map(Region))
    }
}
