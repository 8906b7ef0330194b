//! The subscription root, served over WebSocket (`graphql-transport-ws`): events as they happen, through
//! the same policy as webhooks — the caller hears only of what it could query, and published values come
//! suppressed as in a query. Events reach every replica's subscribers (see `events::bus`).

use crate::auth::policy;
use crate::events::{Bus, view_for};
use crate::graphql::context::{db, identity};
use crate::graphql::event_types::{Event, StatusChange};
use crate::monitor::ProgressStatus;
use crate::service::snapshot::Snapshots;
use crate::vocabulary::EventKind;
use async_graphql::{Context, ID, Result, Subscription};
use futures::{Stream, StreamExt};
use tokio_stream::wrappers::BroadcastStream;

#[derive(Default)]
pub struct SubscriptionRoot;

/// Events as they happen, over WebSocket at `/graphql/ws` (graphql-transport-ws); the same policy as
/// queries decides what each subscriber hears of.
#[Subscription(name = "Subscription")]
impl SubscriptionRoot {
    /// Every event the caller may hear of, of the given kinds (default: all), from now on.
    async fn events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only these kinds (default: every kind).")] kinds: Option<Vec<EventKind>>,
    ) -> Result<impl Stream<Item = Event>> {
        let identity = identity(ctx).clone();
        policy::require_member(&identity)?;
        policy::require_reader(&identity)?;
        let db = db(ctx)?.clone();
        let bus = ctx.data::<Bus>()?;
        let snapshots = ctx.data::<Snapshots>()?.clone();
        Ok(BroadcastStream::new(bus.subscribe()).filter_map(move |item| {
            let (db, identity, kinds) = (db.clone(), identity.clone(), kinds.clone());
            let snapshots = snapshots.clone();
            async move {
                let event = item.ok()?;
                if kinds.as_ref().is_some_and(|k| !k.contains(&event.kind)) {
                    return None;
                }
                // Each event is read over the snapshot current when it arrives, as a query would be.
                let view = async {
                    let snapshot = snapshots.current(&db).await?;
                    view_for(&db, &snapshot, &identity, &event).await
                };
                match view.await {
                    Ok(view) => view.map(Event),
                    Err(e) => {
                        tracing::warn!(error = %e, "an event could not be prepared for a subscriber");
                        None
                    }
                }
            }
        }))
    }

    /// Changes of a target's progress status (of `indicator`, or of every indicator the caller reads in
    /// full).
    async fn status_changed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Indicator code, e.g. `HEA-06`.")] indicator: Option<String>,
    ) -> Result<impl Stream<Item = StatusChange>> {
        let events = self
            .events(ctx, Some(vec![EventKind::TargetStatusChanged]))
            .await?;
        Ok(events.filter_map(move |event| {
            let indicator = indicator.clone();
            async move {
                let v = &event.0;
                let code = v.data["indicator"].as_str()?.to_owned();
                if indicator.as_ref().is_some_and(|i| *i != code) {
                    return None;
                }
                let status = |key: &str| {
                    v.data[key]
                        .as_str()
                        .and_then(|s| ProgressStatus::ALL.iter().copied().find(|p| p.code() == s))
                };
                Some(StatusChange {
                    event_id: ID(v.id.clone()),
                    indicator: code,
                    region: v.data["region"].as_str().unwrap_or_default().to_owned(),
                    year: v.data["year"].as_i64().unwrap_or_default() as i32,
                    from: status("from"),
                    to: status("to"),
                    timestamp: v.timestamp,
                })
            }
        }))
    }
}
