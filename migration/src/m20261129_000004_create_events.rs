//! Events out: the outbox written with every change, webhook endpoints and their deliveries, the state the
//! monitor tracker compares against, leases for jobs that run once across replicas, and job cursors.

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
                    .table("event")
                    .col(big_pk_auto("id"))
                    .col(string_uniq("uid"))
                    .col(string("kind"))
                    .col(integer_null("department_id"))
                    .col(integer_null("indicator_id"))
                    .col(json("payload"))
                    .col(timestamp_with_time_zone("occurred_at"))
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("webhook")
                    .col(big_pk_auto("id"))
                    .col(integer("department_id"))
                    .col(string("url"))
                    .col(string("description"))
                    .col(json("kinds"))
                    .col(string("secret"))
                    .col(string("status"))
                    .col(timestamp_with_time_zone_null("failing_since"))
                    .col(string("created_by"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut fk("webhook", "department_id", "department"))
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("webhook_delivery")
                    .col(big_pk_auto("id"))
                    .col(big_integer("webhook_id"))
                    .col(big_integer("event_id"))
                    .col(string("status"))
                    .col(integer("attempts"))
                    .col(timestamp_with_time_zone("next_attempt_at"))
                    .col(timestamp_with_time_zone_null("last_attempt_at"))
                    .col(integer_null("last_status"))
                    .col(text_null("last_error"))
                    .col(integer_null("last_latency_ms"))
                    .col(timestamp_with_time_zone_null("delivered_at"))
                    .foreign_key(&mut fk("webhook_delivery", "webhook_id", "webhook"))
                    .foreign_key(&mut fk("webhook_delivery", "event_id", "event"))
                    .take(),
            )
            .await?;
        // One delivery per endpoint and event (fan-out may run twice after a crash); the worker walks an
        // endpoint's deliveries in event order.
        manager
            .create_index(
                Index::create()
                    .name("ux_webhook_delivery_event")
                    .table("webhook_delivery")
                    .col("webhook_id")
                    .col("event_id")
                    .unique()
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_webhook_delivery_status")
                    .table("webhook_delivery")
                    .col("status")
                    .col("webhook_id")
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("job_lease")
                    .col(string("name").primary_key())
                    .col(string("holder"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("job_cursor")
                    .col(string("name").primary_key())
                    .col(big_integer("position"))
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("tracked_status")
                    .col(integer("target_id"))
                    .col(integer("region_id"))
                    .col(integer("year"))
                    .col(string("status"))
                    .primary_key(Index::create().col("target_id").col("region_id"))
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("tracked_warning")
                    .col(string("key").primary_key())
                    .col(integer("indicator_id"))
                    .col(integer("region_id"))
                    .col(string("kind"))
                    .col(string("severity"))
                    .col(text("message"))
                    .col(timestamp_with_time_zone("raised_at"))
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "tracked_warning",
            "tracked_status",
            "job_cursor",
            "job_lease",
            "webhook_delivery",
            "webhook",
            "event",
        ] {
            manager
                .drop_table(Table::drop().table(table).take())
                .await?;
        }
        Ok(())
    }
}
