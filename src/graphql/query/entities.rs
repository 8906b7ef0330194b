//! Apollo Federation entity resolvers (`_entities`), keyed by `code`. async-graphql runs no guards here,
//! so each resolver reads through the same policy as the root fields. Entities come from the request's
//! reference snapshot, and their fields load through the request's DataLoaders, so twenty
//! representations cost the statements of one.

use crate::graphql::context::{identity, reference};
use crate::graphql::types::{Department, Indicator, Region};
use async_graphql::{Context, Object, Result};

#[derive(Default)]
pub struct EntityQuery;

#[Object]
impl EntityQuery {
    #[graphql(entity)]
    async fn find_indicator_by_code(
        &self,
        ctx: &Context<'_>,
        code: String,
    ) -> Result<Option<Indicator>> {
        let found = reference(ctx)?.indicator(identity(ctx), &code);
        Ok(found.cloned().map(Indicator))
    }

    #[graphql(entity)]
    async fn find_region_by_code(&self, ctx: &Context<'_>, code: String) -> Result<Option<Region>> {
        Ok(reference(ctx)?.region(&code).cloned().map(Region))
    }

    #[graphql(entity)]
    async fn find_department_by_code(
        &self,
        ctx: &Context<'_>,
        code: String,
    ) -> Result<Option<Department>> {
        Ok(reference(ctx)?.department(&code).cloned().map(Department))
    }
}
