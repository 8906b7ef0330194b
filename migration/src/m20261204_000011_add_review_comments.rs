//! A reviewer's comments on the rows of a submission they reject (issue 22): the submitter sees each on
//! its row when correcting and sending again.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("submission")
                    .add_column(ColumnDef::new("comments").json().null())
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("submission")
                    .drop_column("comments")
                    .take(),
            )
            .await
    }
}
