//! Observations with their revisions, the submissions that carry them, and the audit log.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::fk;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Partial unique indexes are not in sea-query's builder; this SQL is the same on SQLite and PostgreSQL.
const PARTIAL_INDEXES: [&str; 2] = [
    // At most one newest revision per natural key.
    "CREATE UNIQUE INDEX ux_observation_latest ON observation \
     (indicator_id, region_id, year, sex, age_group, residence) WHERE is_latest",
    // At most one published (approved, in force) revision per natural key; also the main read path.
    "CREATE UNIQUE INDEX ux_observation_published ON observation \
     (indicator_id, region_id, year, sex, age_group, residence) WHERE is_published",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("submission")
                    .col(big_pk_auto("id"))
                    .col(integer("department_id"))
                    .col(string("submitted_by"))
                    .col(string("status"))
                    .col(integer("rows_total"))
                    .col(integer("rows_written"))
                    .col(integer("rows_unchanged"))
                    .col(string_null("request_id"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(string_null("decided_by"))
                    .col(timestamp_with_time_zone_null("decided_at"))
                    .col(text_null("reason"))
                    .foreign_key(&mut fk("submission", "department_id", "department"))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_submission_department_status")
                    .table("submission")
                    .col("department_id")
                    .col("status")
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("observation")
                    .col(big_pk_auto("id"))
                    .col(integer("indicator_id"))
                    .col(integer("region_id"))
                    .col(integer("year"))
                    .col(string("sex"))
                    .col(string("age_group"))
                    .col(string("residence"))
                    .col(double("value"))
                    .col(double_null("numerator"))
                    .col(double_null("denominator"))
                    .col(string("status"))
                    .col(integer("revision"))
                    .col(boolean("is_latest"))
                    .col(boolean("is_published"))
                    .col(big_integer_null("submission_id"))
                    .col(string_null("quality_flag"))
                    .col(string("created_by"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut fk("observation", "indicator_id", "indicator"))
                    .foreign_key(&mut fk("observation", "region_id", "region"))
                    .foreign_key(&mut fk("observation", "submission_id", "submission"))
                    .take(),
            )
            .await?;
        // The natural key with the revision: re-sending a value never duplicates a revision.
        manager
            .create_index(
                Index::create()
                    .name("ux_observation_revision")
                    .table("observation")
                    .col("indicator_id")
                    .col("region_id")
                    .col("year")
                    .col("sex")
                    .col("age_group")
                    .col("residence")
                    .col("revision")
                    .unique()
                    .take(),
            )
            .await?;
        // Region-first reads: a township's latest values across indicators.
        manager
            .create_index(
                Index::create()
                    .name("ix_observation_region_year")
                    .table("observation")
                    .col("region_id")
                    .col("year")
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_observation_submission")
                    .table("observation")
                    .col("submission_id")
                    .take(),
            )
            .await?;
        let db = manager.get_connection();
        for sql in PARTIAL_INDEXES {
            db.execute_unprepared(sql).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table("audit_log")
                    .col(big_pk_auto("id"))
                    .col(timestamp_with_time_zone("at"))
                    .col(string("actor"))
                    .col(string_null("actor_department"))
                    .col(string("action"))
                    .col(string("entity_type"))
                    .col(string("entity_key"))
                    .col(integer_null("department_id"))
                    .col(json_null("before"))
                    .col(json_null("after"))
                    .col(string_null("request_id"))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_audit_log_department_at")
                    .table("audit_log")
                    .col("department_id")
                    .col("at")
                    .take(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["audit_log", "observation", "submission"] {
            manager
                .drop_table(Table::drop().table(table).take())
                .await?;
        }
        Ok(())
    }
}
