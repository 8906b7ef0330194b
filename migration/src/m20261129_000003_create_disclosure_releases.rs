//! The releases of restricted tables: what each suppressed release showed and hid.

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
                    .table("disclosure_release")
                    .col(big_pk_auto("id"))
                    .col(integer("indicator_id"))
                    .col(integer("year"))
                    .col(integer("seq"))
                    .col(string("fingerprint"))
                    .col(json("published"))
                    .col(json("hidden"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut fk("disclosure_release", "indicator_id", "indicator"))
                    .take(),
            )
            .await?;
        // Two replicas releasing the same table at once: one wins, the other reads the winner's pattern.
        manager
            .create_index(
                Index::create()
                    .name("ux_disclosure_release_seq")
                    .table("disclosure_release")
                    .col("indicator_id")
                    .col("year")
                    .col("seq")
                    .unique()
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("disclosure_release").take())
            .await
    }
}
