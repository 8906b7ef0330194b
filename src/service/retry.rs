//! Writes that lose a race to a concurrent writer are retried, in one way everywhere. Whether a failure
//! is such a race is decided from the database's error code, not its message: a unique-index violation
//! (another writer stored the same revision first), SQLite's busy or locked database, PostgreSQL's
//! serialization failure, deadlock or lock timeout. Everything else is not retried.

use crate::error::{AppError, AppResult};
use backon::{ExponentialBuilder, Retryable};
use sea_orm::{DbErr, RuntimeErr, SqlErr};
use std::future::Future;
use std::time::Duration;

/// How many times a write runs at most when it keeps losing races.
const ATTEMPTS: usize = 8;

/// The database error code, when the failure came from the database itself.
fn database_code(err: &DbErr) -> Option<String> {
    let (DbErr::Exec(RuntimeErr::SqlxError(e))
    | DbErr::Query(RuntimeErr::SqlxError(e))
    | DbErr::Conn(RuntimeErr::SqlxError(e))) = err
    else {
        return None;
    };
    match e.as_ref() {
        sea_orm::sqlx::Error::Database(db) => db.code().map(|c| c.into_owned()),
        _ => None,
    }
}

/// Whether a failed write lost a race to another writer (worth running again).
pub fn is_contention(err: &DbErr) -> bool {
    if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) {
        return true;
    }
    matches!(
        database_code(err).as_deref(),
        // SQLite: SQLITE_BUSY, SQLITE_LOCKED and their extended codes (BUSY_RECOVERY, BUSY_SNAPSHOT,
        // LOCKED_SHAREDCACHE). PostgreSQL: serialization_failure, deadlock_detected, lock_not_available.
        Some("5" | "6" | "261" | "517" | "262" | "40001" | "40P01" | "55P03")
    )
}

/// Maps a write's database failure: a lost race becomes [`AppError::Contention`] (retried by
/// [`with_retry`]), anything else an internal error.
pub fn map_write_error(err: DbErr) -> AppError {
    if is_contention(&err) {
        AppError::Contention
    } else {
        AppError::from(err)
    }
}

/// Runs `write` until it does not lose a race, at most [`ATTEMPTS`] times, with exponential backoff and
/// jitter between attempts. Each attempt must be a whole transaction, so a lost race left nothing behind.
pub async fn with_retry<T, F, Fut>(what: &'static str, write: F) -> AppResult<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = AppResult<T>>,
{
    let policy = ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(10))
        .with_max_delay(Duration::from_millis(400))
        .with_max_times(ATTEMPTS - 1)
        .with_jitter();
    write
        .retry(policy)
        .sleep(tokio::time::sleep)
        .when(|e: &AppError| matches!(e, AppError::Contention))
        .notify(|_, pause| tracing::info!(what, ?pause, "a write raced another; retrying"))
        .await
}
