//! Where a submission came from (issue 21): the file it was read from (or the API, a connector run), the
//! cell each value was read from, and the quality warnings the submitter saw and confirmed.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per statement.
        for column in [
            ColumnDef::new("origin").string().null().take(),
            ColumnDef::new("cells").json().null().take(),
            ColumnDef::new("warnings").json().null().take(),
        ] {
            manager
                .alter_table(Table::alter().table("submission").add_column(column).take())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in ["warnings", "cells", "origin"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("submission")
                        .drop_column(column)
                        .take(),
                )
                .await?;
        }
        Ok(())
    }
}
