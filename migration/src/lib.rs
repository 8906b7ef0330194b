//! childhub's schema migrations: one file per migration, named by date and verb. They run unchanged on
//! SQLite and PostgreSQL, except the partitioning of observations, which is PostgreSQL's alone.

pub use sea_orm_migration::prelude::*;

mod m20261128_000001_create_catalogue;
mod m20261128_000002_create_observations;
mod m20261129_000003_create_disclosure_releases;
mod m20261129_000004_create_events;
mod m20261129_000005_create_sources;
mod m20261129_000006_add_read_indexes;
mod m20261129_000007_move_limits_to_targets;
mod m20261203_000008_key_warnings_by_year;
mod m20261203_000009_create_sessions;
mod m20261203_000010_add_submission_provenance;
mod m20261204_000011_add_review_comments;
mod m20261208_000012_partition_observations;
mod m20261208_000013_add_published_value_index;

/// A restricting foreign key `from.column → to.id`, named so that errors say which one failed.
fn fk(from: &str, column: &str, to: &str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{from}_{column}"))
        .from(from.to_owned(), column.to_owned())
        .to(to.to_owned(), "id")
        .on_delete(ForeignKeyAction::Restrict)
        .take()
}

/// Applies every migration in order; `Migrator::up(&db, None)` brings any database to the current schema.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261128_000001_create_catalogue::Migration),
            Box::new(m20261128_000002_create_observations::Migration),
            Box::new(m20261129_000003_create_disclosure_releases::Migration),
            Box::new(m20261129_000004_create_events::Migration),
            Box::new(m20261129_000005_create_sources::Migration),
            Box::new(m20261129_000006_add_read_indexes::Migration),
            Box::new(m20261129_000007_move_limits_to_targets::Migration),
            Box::new(m20261203_000008_key_warnings_by_year::Migration),
            Box::new(m20261203_000009_create_sessions::Migration),
            Box::new(m20261203_000010_add_submission_provenance::Migration),
            Box::new(m20261204_000011_add_review_comments::Migration),
            Box::new(m20261208_000012_partition_observations::Migration),
            Box::new(m20261208_000013_add_published_value_index::Migration),
        ]
    }
}
