//! The bus: new outbox events as this replica learns of them, for its subscriptions. A relay task reads
//! events after the last one it saw whenever PostgreSQL notifies `childhub_events` (sent at the commit of
//! each change), and at least every `events.poll_interval` (SQLite, or a missed notification), so a
//! subscriber on any replica hears of a change made on any other within about a second.

use crate::error::AppResult;
use crate::service::{Db, outbox};
use entity::event;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;

/// Carries events to this replica's subscriptions.
#[derive(Clone)]
pub struct Bus {
    sender: broadcast::Sender<Arc<event::Model>>,
}

impl Default for Bus {
    fn default() -> Self {
        Bus::new()
    }
}

impl Bus {
    pub fn new() -> Self {
        let (sender, _) = broadcast::channel(1024);
        Bus { sender }
    }

    /// A receiver of the events published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<event::Model>> {
        self.sender.subscribe()
    }

    fn publish(&self, event: event::Model) {
        // No subscriber is not an error: nobody is listening on this replica right now.
        let _ = self.sender.send(Arc::new(event));
    }
}

/// Relays new events to `bus` until the process ends. `database_url` opens the PostgreSQL listener.
pub async fn relay(db: Db, database_url: String, poll: Duration, bus: Bus) {
    let mut cursor = match outbox::last_event_id(&db).await {
        Ok(id) => id,
        Err(e) => {
            tracing::error!(error = %e, "the event relay cannot read the outbox; subscriptions get nothing");
            return;
        }
    };
    let mut listener = listen(&database_url).await;
    loop {
        // Wait for a notification (PostgreSQL) or the poll interval, whichever comes first.
        match listener.as_mut() {
            Some(l) => {
                if let Ok(Err(e)) = tokio::time::timeout(poll, l.recv()).await {
                    tracing::warn!(error = %e, "event notifications lost; listening again");
                    listener = listen(&database_url).await;
                }
            }
            None => tokio::time::sleep(poll).await,
        }
        match drain(&db, &mut cursor, &bus).await {
            Ok(()) => {}
            Err(e) => tracing::warn!(error = %e, "reading new events failed; retrying"),
        }
    }
}

async fn drain(db: &Db, cursor: &mut i64, bus: &Bus) -> AppResult<()> {
    loop {
        let batch = outbox::events_after(db, *cursor, 500).await?;
        let Some(last) = batch.last() else {
            return Ok(());
        };
        *cursor = last.id;
        let full = batch.len() == 500;
        for event in batch {
            bus.publish(event);
        }
        if !full {
            return Ok(());
        }
    }
}

async fn listen(database_url: &str) -> Option<sea_orm::sqlx::postgres::PgListener> {
    if !database_url.starts_with("postgres") {
        return None;
    }
    let mut listener = match sea_orm::sqlx::postgres::PgListener::connect(database_url).await {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for event notifications; polling instead");
            return None;
        }
    };
    match listener.listen(outbox::CHANNEL).await {
        Ok(()) => Some(listener),
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for event notifications; polling instead");
            None
        }
    }
}
