//! Warnings about values are tracked per year (issue 18): a township below a floor in a year the
//! dashboards do not show yet is announced when its value is published. Their keys gain the year, so the
//! tracked set is started afresh: the tracker's next run records what holds without announcing it (as
//! on its first run), instead of clearing and raising every warning once under its new key.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("DELETE FROM tracked_warning").await?;
        db.execute_unprepared("DELETE FROM job_cursor WHERE name = 'tracker'")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The same reset serves the old keys.
        self.up(manager).await
    }
}
