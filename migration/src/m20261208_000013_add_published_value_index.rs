//! An index for the "five worst" kind of question: one indicator's published values of a year in value
//! order (`orderBy: [VALUE_DESC], first: 5` with a year). Without it the read scanned every published
//! value of the indicator and sorted them: 578 ms at 10⁷ observations against 39 ms at 10⁶
//! (bench/results/scale.md); with it the top of the index is read, whatever the size.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Partial indexes are not in sea-query's builder; this SQL is the same on SQLite and PostgreSQL (where
/// the partitioned table gets one such index per partition).
const PUBLISHED_YEAR_VALUE: &str = "CREATE INDEX ix_observation_published_year_value ON observation \
     (indicator_id, year, value) WHERE is_published";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(PUBLISHED_YEAR_VALUE)
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_observation_published_year_value")
                    .table("observation")
                    .to_owned(),
            )
            .await
    }
}
