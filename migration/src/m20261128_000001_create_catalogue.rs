//! The catalogue: departments, domains, indicators, targets, regions and the dimension code lists.

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
                    .table("department")
                    .col(pk_auto("id"))
                    .col(string_uniq("code"))
                    .col(string("name_zh"))
                    .col(string("name_en"))
                    .col(string("kind"))
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("domain")
                    .col(pk_auto("id"))
                    .col(string_uniq("code"))
                    .col(string("name_zh"))
                    .col(string("name_en"))
                    .col(integer("position"))
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("indicator")
                    .col(pk_auto("id"))
                    .col(string_uniq("code"))
                    .col(string("name_zh"))
                    .col(string("name_en"))
                    .col(integer("domain_id"))
                    .col(string("unit"))
                    .col(integer("owner_department_id"))
                    .col(string("sensitivity"))
                    .col(integer("decimals"))
                    .col(string("plan_clause"))
                    .col(double_null("natural_limit"))
                    .col(boolean("by_sex"))
                    .col(boolean("by_age"))
                    .col(boolean("by_residence"))
                    .foreign_key(&mut fk("indicator", "domain_id", "domain"))
                    .foreign_key(&mut fk("indicator", "owner_department_id", "department"))
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("target")
                    .col(pk_auto("id"))
                    .col(integer("indicator_id"))
                    .col(string("kind"))
                    .col(double_null("value"))
                    .col(integer("baseline_year"))
                    .col(integer("target_year"))
                    .col(string("scope"))
                    .foreign_key(&mut fk("target", "indicator_id", "indicator"))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_target_indicator")
                    .table("target")
                    .col("indicator_id")
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("region")
                    .col(pk_auto("id"))
                    .col(string_uniq("code"))
                    .col(string("name_zh"))
                    .col(string("name_en"))
                    .col(string("level"))
                    .col(string("residence"))
                    .col(integer_null("parent_id"))
                    .col(integer_null("valid_from"))
                    .col(integer_null("valid_to"))
                    .foreign_key(&mut fk("region", "parent_id", "region"))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_region_parent")
                    .table("region")
                    .col("parent_id")
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("dimension_code")
                    .col(pk_auto("id"))
                    .col(string("dimension"))
                    .col(string("code"))
                    .col(string("name_zh"))
                    .col(string("name_en"))
                    .col(integer("position"))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_dimension_code")
                    .table("dimension_code")
                    .col("dimension")
                    .col("code")
                    .unique()
                    .take(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "dimension_code",
            "region",
            "target",
            "indicator",
            "domain",
            "department",
        ] {
            manager
                .drop_table(Table::drop().table(table).take())
                .await?;
        }
        Ok(())
    }
}
