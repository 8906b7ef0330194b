//! CPU-bound work off the async runtime: assessments, suppression patterns and report rendering run on
//! the blocking pool, at most one per core at a time, so a heavy request cannot starve `/healthz`, small
//! queries or the request timeout of the worker threads. When the request that asked is dropped (its
//! client left, or `limits.request_timeout` fired), the work is told to stop at its next check.

use crate::error::{AppError, AppResult};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Tells running work that nobody waits for its answer any more.
#[derive(Clone, Debug, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    /// Whether the asker is gone: long work checks this between its steps and gives up.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Sets the flag when the asking future is dropped (before the work finished, that is what stops it).
struct CancelOnDrop(Cancel);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        (self.0).0.store(true, Ordering::Relaxed);
    }
}

/// How many pieces of CPU-bound work run at once in this process: one per core but one (at least
/// one), so a core is always left for the runtime — health checks, small queries, timeouts. A
/// process-wide bound like the runtime's own pools: a burst of heavy requests queues here instead of
/// taking every core from the rest.
fn slots() -> &'static tokio::sync::Semaphore {
    static SLOTS: std::sync::LazyLock<tokio::sync::Semaphore> = std::sync::LazyLock::new(|| {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        tokio::sync::Semaphore::new(cores.saturating_sub(1).max(1))
    });
    &SLOTS
}

/// Runs `work` on the blocking pool once a slot is free and waits for its answer. `work` gets the
/// [`Cancel`] of this call.
pub async fn run<T, F>(what: &'static str, work: F) -> AppResult<T>
where
    T: Send + 'static,
    F: FnOnce(&Cancel) -> T + Send + 'static,
{
    let permit = slots()
        .acquire()
        .await
        .map_err(|_| AppError::Internal(format!("{what}: the compute pool is closed")))?;
    let cancel = Cancel::default();
    let guard = CancelOnDrop(cancel.clone());
    let span = tracing::Span::current();
    let answer = tokio::task::spawn_blocking(move || {
        let _entered = span.enter();
        // The slot is held until the work ends, even when the asker is gone.
        let _permit = permit;
        work(&cancel)
    })
    .await
    .map_err(|e| AppError::Internal(format!("{what}: {e}")));
    // Dropping the guard now, after the work ended, cancels nothing.
    drop(guard);
    answer
}
