//! Managing source connectors (a department's admin for its own; coordinating admins for any) and
//! pulling one now.

use crate::error::AppError;
use crate::graphql::context::{db, identity, settings, write_context};
use crate::graphql::source_types::{Pull, Source};
use crate::sources::runner;
use crate::sources::{self, config::SourceConfig};
use crate::vocabulary::SourceStatus;
use async_graphql::{Context, Object, Result};

/// Reads a source description given as JSON (the same keys as a `[[sources]]` table).
fn parse(config: async_graphql::Json<serde_json::Value>) -> Result<SourceConfig> {
    serde_json::from_value(config.0).map_err(|e| {
        AppError::invalid(
            "config",
            e.to_string(),
            "a source description with the keys of docs/sources.md",
        )
        .into()
    })
}

#[derive(Default)]
pub struct SourceMutation;

#[Object]
impl SourceMutation {
    /// Adds a source. `config` has the keys of a `[[sources]]` table of the settings file (see
    /// docs/sources.md); credentials only by the names of environment variables.
    async fn create_source(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The source's description as JSON.")] config: async_graphql::Json<
            serde_json::Value,
        >,
    ) -> Result<Source> {
        let config = parse(config)?;
        Ok(Source(
            sources::create_source(db(ctx)?, &write_context(ctx), config).await?,
        ))
    }

    /// Replaces a source's description (not for sources of the settings file).
    async fn update_source(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The source's name.")] name: String,
        #[graphql(desc = "Its new description as JSON.")] config: async_graphql::Json<
            serde_json::Value,
        >,
    ) -> Result<Source> {
        let config = parse(config)?;
        Ok(Source(
            sources::update_source(db(ctx)?, &write_context(ctx), &name, config).await?,
        ))
    }

    /// Stops pulling a source on its schedule.
    async fn pause_source(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The source's name.")] name: String,
    ) -> Result<Source> {
        Ok(Source(
            sources::set_source_status(db(ctx)?, &write_context(ctx), &name, SourceStatus::Paused)
                .await?,
        ))
    }

    /// Pulls a paused source on its schedule again.
    async fn resume_source(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The source's name.")] name: String,
    ) -> Result<Source> {
        Ok(Source(
            sources::set_source_status(db(ctx)?, &write_context(ctx), &name, SourceStatus::Active)
                .await?,
        ))
    }

    /// Pulls a source now. With `dryRun`, fetches, maps and checks without writing, and shows the first
    /// rows and every problem.
    async fn run_source(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The source's name.")] name: String,
        #[graphql(desc = "Check without writing (default: false).")] dry_run: Option<bool>,
    ) -> Result<Pull> {
        let dry_run = dry_run.unwrap_or(false);
        let report =
            runner::pull_by_name(db(ctx)?, settings(ctx)?, identity(ctx), &name, dry_run).await?;
        Ok(Pull(report))
    }
}
