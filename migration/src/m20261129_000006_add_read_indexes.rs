//! Indexes for the read paths measured in `bench/compare`: the per-request version check and pages of
//! one indicator's published values in storage order.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Partial indexes are not in sea-query's builder; this SQL is the same on SQLite and PostgreSQL.
const PUBLISHED_PAGE: &str = "CREATE INDEX ix_observation_published_page ON observation \
     (indicator_id, id) WHERE is_published";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // `SELECT max(id) FROM event WHERE kind = …` for each version: one index probe each, however
        // many events the outbox holds.
        manager
            .create_index(
                Index::create()
                    .name("ix_event_kind_id")
                    .table("event")
                    .col("kind")
                    .col("id")
                    .take(),
            )
            .await?;
        // A page of one indicator's published values after a cursor reads only that page.
        manager
            .get_connection()
            .execute_unprepared(PUBLISHED_PAGE)
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_observation_published_page")
                    .table("observation")
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("ix_event_kind_id")
                    .table("event")
                    .to_owned(),
            )
            .await
    }
}
