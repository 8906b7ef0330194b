//! The natural limit and "keep at this level" become attributes of a target (issue 11): the limit belongs
//! to the assessment of a target, can be cleared and says why it is there; whether a level is to be
//! maintained is stated, not read from the plan clause's text. Gross enrolment ratios get their own unit,
//! which may pass 100 %.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Why the limits that existed before are there: each was the 100 % a share cannot pass.
const COPY_LIMITS: &str = "UPDATE target SET \
     natural_limit = (SELECT i.natural_limit FROM indicator i WHERE i.id = target.indicator_id), \
     limit_reason = 'A share in percent cannot pass 100 % (百分比不超过 100%).' \
     WHERE EXISTS (SELECT 1 FROM indicator i WHERE i.id = target.indicator_id AND i.natural_limit IS NOT NULL)";

/// The one place the clause text still decides: stating what it meant when the targets were loaded.
const MAINTAIN_FROM_CLAUSE: &str = "UPDATE target SET maintain = TRUE WHERE value IS NOT NULL \
     AND indicator_id IN (SELECT id FROM indicator WHERE plan_clause LIKE '%保持%')";

/// The seeded gross ratios (学前教育毛入园率, 高中阶段毛入学率) count pupils outside the age group and can
/// pass 100 %, so they are ratios, not shares, and have no 100 % limit.
const GROSS_RATIOS: &str = "UPDATE indicator SET unit = 'ratio_percent' \
     WHERE code IN ('EDU-01', 'EDU-03') AND unit = 'percent'";
const GROSS_RATIOS_UNLIMITED: &str = "UPDATE target SET natural_limit = NULL, limit_reason = NULL \
     WHERE indicator_id IN (SELECT id FROM indicator WHERE unit = 'ratio_percent')";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per statement.
        for column in [
            ColumnDef::new("natural_limit").double().null().take(),
            ColumnDef::new("limit_reason").text().null().take(),
            ColumnDef::new("maintain")
                .boolean()
                .not_null()
                .default(false)
                .take(),
        ] {
            manager
                .alter_table(Table::alter().table("target").add_column(column).take())
                .await?;
        }
        let db = manager.get_connection();
        for sql in [
            COPY_LIMITS,
            MAINTAIN_FROM_CLAUSE,
            GROSS_RATIOS,
            GROSS_RATIOS_UNLIMITED,
            // Both backends drop a column with this statement (SQLite since 3.35).
            "ALTER TABLE indicator DROP COLUMN natural_limit",
        ] {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("ALTER TABLE indicator ADD COLUMN natural_limit DOUBLE PRECISION")
            .await?;
        db.execute_unprepared(
            "UPDATE indicator SET natural_limit = (SELECT max(t.natural_limit) FROM target t \
             WHERE t.indicator_id = indicator.id)",
        )
        .await?;
        db.execute_unprepared("UPDATE indicator SET unit = 'percent' WHERE unit = 'ratio_percent'")
            .await?;
        for column in ["maintain", "limit_reason", "natural_limit"] {
            db.execute_unprepared(&format!("ALTER TABLE target DROP COLUMN {column}"))
                .await?;
        }
        Ok(())
    }
}
