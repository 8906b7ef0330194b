//! Root fields of events out: the events the caller may hear of (to catch up after a reconnect), the
//! caller's webhook endpoints and their deliveries.

use crate::error::AppError;
use crate::events::view_for;
use crate::graphql::context::{db, identity, snapshot};
use crate::graphql::event_types::{Event, Webhook, WebhookDelivery};
use crate::graphql::mutation::parse_webhook_id;
use crate::service::{outbox, webhooks};
use crate::vocabulary::EventKind;
use async_graphql::{Context, ID, Object, Result};

#[derive(Default)]
pub struct EventQuery;

#[Object]
impl EventQuery {
    /// Events after `after` (an event id; default: the newest 100) that the caller may hear of, oldest
    /// first — what a subscriber missed while disconnected.
    #[graphql(complexity = "crate::graphql::cost::RECORDS + first as usize * child_complexity")]
    async fn events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "An event id (`evt_…`): the events after it.")] after: Option<ID>,
        #[graphql(desc = "Only these kinds (default: every kind).")] kinds: Option<Vec<EventKind>>,
        #[graphql(
            desc = "How many (default 100, at most `limits.max_list_size`).",
            default = 100
        )]
        first: u64,
    ) -> Result<Vec<Event>> {
        let db = db(ctx)?;
        let identity = identity(ctx);
        let snapshot = snapshot(ctx)?;
        crate::auth::policy::require_member(identity)?;
        let first = first.min(1000);
        let after_id = match &after {
            Some(uid) => {
                outbox::find_event(db, uid)
                    .await?
                    .ok_or_else(|| AppError::invalid("after", uid.as_str(), "an event id (evt_…)"))?
                    .id
            }
            None => (outbox::last_event_id(db).await? - first as i64).max(0),
        };
        let mut out = Vec::new();
        let mut cursor = after_id;
        // Events the caller may not hear of are skipped, so read on until the page is full.
        while out.len() < first as usize {
            let batch = outbox::events_after(db, cursor, 500).await?;
            let Some(last) = batch.last() else { break };
            cursor = last.id;
            for event in &batch {
                if kinds.as_ref().is_some_and(|k| !k.contains(&event.kind)) {
                    continue;
                }
                if let Some(view) = view_for(db, snapshot, identity, event).await? {
                    out.push(Event(view));
                    if out.len() == first as usize {
                        break;
                    }
                }
            }
        }
        Ok(out)
    }

    /// Webhook endpoints the caller may see (its department's; coordinators: all).
    async fn webhooks(&self, ctx: &Context<'_>) -> Result<Vec<Webhook>> {
        let found = webhooks::list_webhooks(db(ctx)?, identity(ctx)).await?;
        Ok(found.into_iter().map(Webhook).collect())
    }

    /// An endpoint's deliveries, newest first: attempts, status codes, latency.
    #[graphql(complexity = "crate::graphql::cost::RECORDS + first as usize * child_complexity")]
    async fn webhook_deliveries(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint's id.")] webhook: ID,
        #[graphql(
            desc = "How many, newest first (default and most: `limits.max_list_size`).",
            default = 50
        )]
        first: u64,
    ) -> Result<Vec<WebhookDelivery>> {
        let id = parse_webhook_id(&webhook)?;
        let found = webhooks::list_deliveries(db(ctx)?, identity(ctx), id, first.min(1000)).await?;
        Ok(found
            .into_iter()
            .map(|(d, uid)| WebhookDelivery(d, uid))
            .collect())
    }
}
