//! The scheduler: runs inside `serve`, once across replicas (the `sources` lease), and pulls every active
//! source when its schedule says so, one after another. Runs left `running` by a process that stopped are
//! marked interrupted (nothing of them was written).

use crate::config::Settings;
use crate::service::Db;
use crate::service::lease;
use crate::sources::config::Schedule;
use crate::sources::runner::{Trigger, pull};
use crate::sources::{self, config_of};
use crate::vocabulary::SourceStatus;
use std::sync::Arc;
use std::time::Duration;

/// The lease name of the scheduler.
pub const LEASE: &str = "sources";

/// Runs the scheduler until the process ends; `holder` names this process in the lease.
pub async fn run(db: Db, settings: Arc<Settings>, holder: String) {
    loop {
        match lease::acquire(&db, LEASE, &holder, settings.events.lease).await {
            Ok(true) => {
                if let Err(e) = tick(&db, &settings, &holder).await {
                    tracing::warn!(error = %e, "a scheduler round failed; retrying");
                }
            }
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "cannot take the sources lease; retrying"),
        }
        tokio::time::sleep(settings.events.poll_interval.max(Duration::from_secs(1))).await;
    }
}

/// Pulls every source that is due.
pub async fn tick(db: &Db, settings: &Settings, holder: &str) -> crate::error::AppResult<()> {
    let stale = chrono::Duration::from_std(settings.connectors.timeout * 20)
        .unwrap_or(chrono::Duration::hours(1));
    sources::interrupt_stale_runs(db, stale).await?;
    for source in sources::all_sources(db).await? {
        if source.status != SourceStatus::Active {
            continue;
        }
        let Ok(config) = config_of(&source) else {
            continue;
        };
        let Ok(schedule) = Schedule::parse(&config.schedule) else {
            continue;
        };
        let last = sources::last_started(db, source.id).await?;
        if schedule.next_after(last) > chrono::Utc::now() {
            continue;
        }
        // A long pull must not let the lease lapse to another replica meanwhile.
        lease::acquire(db, LEASE, holder, settings.events.lease * 4).await?;
        let report = pull(db, settings, &source, Trigger::Schedule, false).await?;
        tracing::info!(
            source = %source.name, status = %report.status, fetched = report.fetched,
            written = report.written, rejected = report.rejected, "pulled a source"
        );
    }
    Ok(())
}
