//! Source connectors: the departments' systems the hub pulls from, every run of a pull, and the
//! provenance of each stored value (the run it came from).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::fk;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("source")
                    .col(big_pk_auto("id"))
                    .col(string_uniq("name"))
                    .col(integer("department_id"))
                    .col(string("kind"))
                    .col(json("config"))
                    .col(string("schedule"))
                    .col(string("status"))
                    .col(boolean("all_or_nothing"))
                    .col(string("origin"))
                    .col(string_null("http_etag"))
                    .col(string_null("http_last_modified"))
                    .col(timestamp_with_time_zone_null("failing_since"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut fk("source", "department_id", "department"))
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("source_run")
                    .col(big_pk_auto("id"))
                    .col(big_integer("source_id"))
                    .col(string("trigger"))
                    .col(string("status"))
                    .col(timestamp_with_time_zone("started_at"))
                    .col(timestamp_with_time_zone_null("finished_at"))
                    .col(integer_null("http_status"))
                    .col(text_null("error"))
                    .col(integer("rows_fetched"))
                    .col(integer("rows_written"))
                    .col(integer("rows_unchanged"))
                    .col(integer("rows_rejected"))
                    .col(big_integer_null("submission_id"))
                    .col(json("rejects"))
                    .foreign_key(&mut fk("source_run", "source_id", "source"))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_source_run_source")
                    .table("source_run")
                    .col("source_id")
                    .col("started_at")
                    .take(),
            )
            .await?;
        // Provenance: the run a value came from (none for values sent by hand).
        manager
            .alter_table(
                Table::alter()
                    .table("observation")
                    .add_column(big_integer_null("source_run_id"))
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("observation")
                    .drop_column("source_run_id")
                    .take(),
            )
            .await?;
        for table in ["source_run", "source"] {
            manager
                .drop_table(Table::drop().table(table).take())
                .await?;
        }
        Ok(())
    }
}
