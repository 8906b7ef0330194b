//! Root fields of source connectors: the sources the caller may see and their runs.

use crate::graphql::context::{db, identity};
use crate::graphql::source_types::{Source, SourceRun};
use crate::sources;
use async_graphql::{Context, Object, Result};

#[derive(Default)]
pub struct SourceQuery;

#[Object]
impl SourceQuery {
    /// The sources the caller may see (its department's; coordinators: all).
    async fn sources(&self, ctx: &Context<'_>) -> Result<Vec<Source>> {
        let found = sources::list_sources(db(ctx)?, identity(ctx)).await?;
        Ok(found.into_iter().map(Source).collect())
    }

    /// One source; null when it does not exist or the caller may not see it.
    async fn source(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The source's name.")] name: String,
    ) -> Result<Option<Source>> {
        match sources::visible_source(db(ctx)?, identity(ctx), &name).await {
            Ok(found) => Ok(Some(Source(found))),
            Err(crate::error::AppError::NotFound(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// A source's runs, newest first: when, how it went, rows fetched, written, unchanged, rejected.
    #[graphql(complexity = "crate::graphql::cost::RECORDS + first as usize * child_complexity")]
    async fn source_runs(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The source's name.")] source: String,
        #[graphql(
            desc = "How many, newest first (default and most: `limits.max_list_size`).",
            default = 20
        )]
        first: u64,
    ) -> Result<Vec<SourceRun>> {
        let found = sources::list_runs(db(ctx)?, identity(ctx), &source, first.min(1000)).await?;
        Ok(found.into_iter().map(SourceRun).collect())
    }
}
