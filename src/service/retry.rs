//! Writes that lose a race to a concurrent writer are retried, in one way everywhere. Whether a failure
//! is such a race is decided from the database's error code, not its message (`error::classify`): a
//! unique-index violation (another writer stored the same revision first), SQLite's stale WAL snapshot,
//! PostgreSQL's serialization failure, deadlock or lock timeout. A lock that outlasted the busy timeout
//! or a server that went away is `UNAVAILABLE` (503), not retried here; everything else is not retried.

use crate::error::{AppError, AppResult};
use crate::error::{DbFailure, classify};
use backon::{ExponentialBuilder, Retryable};
use sea_orm::DbErr;
use std::future::Future;
use std::time::Duration;

/// How many times a write runs at most when it keeps losing races.
const ATTEMPTS: usize = 8;

/// Whether a failed write lost a race to another writer (worth running again); the codes are read in
/// one place, [`crate::error::classify`].
pub fn is_contention(err: &DbErr) -> bool {
    classify(err) == DbFailure::Contention
}

/// Maps a write's database failure: a lost race becomes [`AppError::Contention`] (retried by
/// [`with_retry`]); an unavailable database stays unavailable (503, not retried here: the busy timeout
/// or the pool already waited); anything else is an internal error.
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
