//! Apollo Federation entity resolvers (`_entities`), keyed by `code`. async-graphql runs no guards here,
//! so each resolver goes through the same service functions, and so the same policy, as the root fields.

use crate::graphql::context::{db, identity};
use crate::graphql::types::{Department, Indicator, Region};
use crate::service::{catalogue, regions};
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
        let found = catalogue::find_indicator(db(ctx)?, identity(ctx), &code).await?;
        Ok(found.map(Indicator))
    }

    #[graphql(entity)]
    async fn find_region_by_code(&self, ctx: &Context<'_>, code: String) -> Result<Option<Region>> {
        Ok(regions::find_region(db(ctx)?, &code).await?.map(Region))
    }

    #[graphql(entity)]
    async fn find_department_by_code(
        &self,
        ctx: &Context<'_>,
        code: String,
    ) -> Result<Option<Department>> {
        Ok(catalogue::find_department(db(ctx)?, &code)
            .await?
            .map(Department))
    }
}
