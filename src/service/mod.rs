//! Use cases over the database. Every function takes the caller's [`Identity`](crate::auth::Identity)
//! and applies the [policy](crate::auth::policy) in the query itself; transactions live here.

/// The database handle every use case takes. Layers above the services (GraphQL, HTTP, the command
/// line) hold it and pass it on; they never build queries with it (an architecture test keeps `sea_orm`
/// out of them).
pub use sea_orm::DatabaseConnection as Db;

/// Starts a transaction that will write. On SQLite it takes the write lock at `BEGIN` (`IMMEDIATE`):
/// a deferred transaction that reads first and then writes gets `SQLITE_BUSY` at once when another
/// connection wrote meanwhile — the busy timeout cannot help there — whereas an immediate one waits for
/// the lock (`database.sqlite_busy_timeout`). PostgreSQL ignores the mode.
pub async fn begin_write<C: sea_orm::TransactionTrait>(
    db: &C,
) -> Result<C::Transaction, sea_orm::DbErr> {
    db.begin_with_options(sea_orm::TransactionOptions {
        sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

/// Counts one SQL statement into the `/metrics` histogram, by its kind (`select`, `insert`, …) and
/// whether it failed: query time per kind, without the statements' text as labels.
pub fn record_statement(info: &sea_orm::metric::Info<'_>) {
    let sql = info.statement.sql.trim_start();
    let word = sql.split_ascii_whitespace().next().unwrap_or("");
    let kind = ["select", "insert", "update", "delete", "with"]
        .into_iter()
        .find(|k| word.eq_ignore_ascii_case(k))
        .unwrap_or("other");
    let failed = if info.failed { "true" } else { "false" };
    metrics::histogram!("childhub_db_statement_duration_seconds", "statement" => kind, "failed" => failed)
        .record(info.elapsed.as_secs_f64());
}

/// The pool's size and idle connections now, for the metrics endpoint.
pub fn pool_usage(db: &Db) -> (u32, u32) {
    match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (
                pool.size(),
                u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
            )
        }
        sea_orm::DbBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            (
                pool.size(),
                u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
            )
        }
        _ => (0, 0),
    }
}

pub mod admin;
pub mod audit;
pub mod catalogue;
pub mod compute;
pub mod disclosure;
pub mod due;
pub mod export;
pub mod import;
pub mod intake;
pub mod lease;
pub mod memo;
pub mod observations;
pub mod outbox;
pub mod progress;
pub mod quality;
pub mod reference;
pub mod regions;
pub mod replicas;
pub mod retry;
pub mod sdmx;
pub mod sessions;
pub mod snapshot;
pub mod submissions;
pub mod template;
pub mod upload;
pub mod webhooks;
