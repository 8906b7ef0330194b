//! On PostgreSQL, `observation` becomes a table partitioned by hash of `indicator_id` (16 partitions,
//! `observation_p0` … `observation_p15`); SQLite keeps its one table. Why indicator, by hash: every API
//! shape names its indicators (pages, series, latest values, aggregates, restricted tables, the
//! dashboard's per-indicator progress), so each prunes to the partitions of those indicators, while year
//! and region do not appear in most of them (latest values span years; pages and aggregates span
//! regions); a hash needs no new partition when the catalogue grows; and `indicator_id` is the column
//! Citus would distribute the same table by (docs/operations.md). ARCHITECTURE.md has the measurements.
//!
//! An existing table is converted in the migration's transaction: the rows are copied into the new
//! table, the old one is dropped, and every index and foreign key it had is made again under its own
//! name, read from the catalogue — so the conversion does not depend on which earlier migrations added
//! which index. The primary key becomes `(id, indicator_id)` (PostgreSQL requires the partition key in
//! every unique constraint); ids still come from one sequence, so they stay unique. PostgreSQL 15 has
//! no identity columns on partitioned tables: `id` takes `nextval` of a sequence it owns instead.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// How many hash partitions: a few thousand rows each for the demo, a few hundred thousand per
/// partition at 10⁷ observations, and a modulus that divides into 32 or 64 later by splitting.
const PARTITIONS: u32 = 16;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        rebuild(manager, true).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        rebuild(manager, false).await
    }
}

/// Makes `observation` again, partitioned or not, with its rows, indexes and foreign keys.
async fn rebuild(manager: &SchemaManager<'_>, partitioned: bool) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let texts = |sql: &'static str| async move {
        let rows = db
            .query_all_raw(Statement::from_string(DbBackend::Postgres, sql))
            .await?;
        rows.iter()
            .map(|r| r.try_get_by_index::<String>(0))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| DbErr::Custom(e.to_string()))
    };
    // What to make again: every index but the primary key's, every foreign key.
    let indexes = texts(
        "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'observation' \
         AND indexname <> 'observation_pkey' AND indexname NOT LIKE 'observation_p%' ORDER BY indexname",
    )
    .await?;
    let foreign_keys = texts(
        "SELECT format('ALTER TABLE observation ADD CONSTRAINT %I %s', conname, pg_get_constraintdef(oid)) \
         FROM pg_constraint WHERE conrelid = 'observation'::regclass AND contype = 'f' ORDER BY conname",
    )
    .await?;
    let mut steps = vec![
        "LOCK TABLE observation IN ACCESS EXCLUSIVE MODE".to_owned(),
        // Columns, NOT NULL and CHECK constraints; no identity, indexes or keys (made below).
        format!(
            "CREATE TABLE observation_rebuilt (LIKE observation INCLUDING CONSTRAINTS INCLUDING STORAGE){}",
            if partitioned {
                " PARTITION BY HASH (indicator_id)"
            } else {
                ""
            }
        ),
    ];
    if partitioned {
        for remainder in 0..PARTITIONS {
            steps.push(format!(
                "CREATE TABLE observation_p{remainder} PARTITION OF observation_rebuilt \
                 FOR VALUES WITH (MODULUS {PARTITIONS}, REMAINDER {remainder})"
            ));
        }
    }
    steps.extend(
        [
            "INSERT INTO observation_rebuilt SELECT * FROM observation",
            "DROP TABLE observation",
            "ALTER TABLE observation_rebuilt RENAME TO observation",
            // The old table's identity sequence went with it; a sequence of the table's own continues it.
            "CREATE SEQUENCE IF NOT EXISTS observation_id_seq OWNED BY observation.id",
            "SELECT setval('observation_id_seq', COALESCE((SELECT max(id) FROM observation), 0) + 1, false)",
            "ALTER TABLE observation ALTER COLUMN id SET DEFAULT nextval('observation_id_seq')",
        ]
        .map(str::to_owned),
    );
    steps.push(if partitioned {
        "ALTER TABLE observation ADD CONSTRAINT observation_pkey PRIMARY KEY (id, indicator_id)"
            .to_owned()
    } else {
        "ALTER TABLE observation ADD CONSTRAINT observation_pkey PRIMARY KEY (id)".to_owned()
    });
    steps.extend(indexes);
    steps.extend(foreign_keys);
    steps.push("ANALYZE observation".to_owned());
    for step in steps {
        db.execute_unprepared(&step).await?;
    }
    Ok(())
}
