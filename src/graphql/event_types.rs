//! Object types of events out: events as a subscriber receives them, webhook endpoints and their
//! deliveries.

use crate::events::EventView;
use crate::graphql::context::reference;
use crate::graphql::types::Department;
use crate::monitor::ProgressStatus;
use crate::service::webhooks::kinds_of;
use crate::vocabulary::{DeliveryStatus, EventKind, WebhookStatus};
use async_graphql::{Context, ID, Object, Result, SimpleObject};
use entity::{webhook, webhook_delivery};

pub struct Event(pub EventView);

/// Something that happened, as the caller may hear of it (the same body a webhook receives).
#[Object]
impl Event {
    /// `evt_…`: the same id a webhook delivery carries in `webhook-id`.
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    /// What happened.
    async fn kind(&self) -> EventKind {
        self.0.kind
    }
    /// When it happened.
    async fn timestamp(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.timestamp
    }
    /// The department it concerns, if any.
    async fn department(&self) -> Option<&str> {
        self.0.department.as_deref()
    }
    /// Its facts (codes, years, statuses); for published values, the values as the caller reads them.
    async fn data(&self) -> async_graphql::Json<serde_json::Value> {
        async_graphql::Json(self.0.data.clone())
    }
}

/// A target's status changed.
#[derive(SimpleObject)]
pub struct StatusChange {
    /// The event's id.
    pub event_id: ID,
    /// The indicator code.
    pub indicator: String,
    /// The region assessed (the city).
    pub region: String,
    /// The evaluation year.
    pub year: i32,
    /// The status before (null: the target had no status yet).
    pub from: Option<ProgressStatus>,
    /// The status now (null: it can no longer be assessed).
    pub to: Option<ProgressStatus>,
    /// When the change was recorded.
    pub timestamp: chrono::DateTime<chrono::Utc>,
}

pub struct Webhook(pub webhook::Model);

/// An endpoint that hears of events for a department.
#[Object]
impl Webhook {
    /// The endpoint's id, for `pauseWebhook`, `redeliver` and the other mutations.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The department whose read policy its payloads follow.
    async fn department(&self, ctx: &Context<'_>) -> Result<Option<Department>> {
        Ok(reference(ctx)?
            .department_by_id(self.0.department_id)
            .cloned()
            .map(Department))
    }
    /// Where deliveries are POSTed.
    async fn url(&self) -> &str {
        &self.0.url
    }
    /// What the endpoint is for, as its owner wrote it.
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// Event kinds it receives; empty means every kind.
    async fn kinds(&self) -> Vec<EventKind> {
        kinds_of(&self.0)
    }
    /// Active, paused by an admin, or failing beyond the retry schedule.
    async fn status(&self) -> WebhookStatus {
        self.0.status
    }
    /// When deliveries started failing beyond the retry schedule.
    async fn failing_since(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.0.failing_since
    }
    /// When it was registered.
    async fn created_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.created_at
    }
}

/// A webhook endpoint with its signing secret, returned only when it is created or rotated.
#[derive(SimpleObject)]
pub struct WebhookWithSecret {
    /// The endpoint.
    pub webhook: Webhook,
    /// The Standard Webhooks secret (`whsec_…`). Store it now: it is not shown again.
    pub secret: String,
}

pub struct WebhookDelivery(pub webhook_delivery::Model, pub Option<String>);

/// One event for one endpoint.
#[Object]
impl WebhookDelivery {
    /// The event's id (`evt_…`), as sent in `webhook-id`.
    async fn event_id(&self) -> Option<&str> {
        self.1.as_deref()
    }
    /// Pending, delivered or skipped.
    async fn status(&self) -> DeliveryStatus {
        self.0.status
    }
    /// Attempts so far.
    async fn attempts(&self) -> i32 {
        self.0.attempts
    }
    /// The HTTP status of the last attempt, when an answer came.
    async fn last_status(&self) -> Option<i32> {
        self.0.last_status
    }
    /// Why the last attempt failed.
    async fn last_error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }
    /// How long the last attempt took, in milliseconds.
    async fn last_latency_ms(&self) -> Option<i32> {
        self.0.last_latency_ms
    }
    /// When the last attempt was made; null before the first.
    async fn last_attempt_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.0.last_attempt_at
    }
    /// When the next attempt is due (pending deliveries).
    async fn next_attempt_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.next_attempt_at
    }
    /// When an attempt was answered with a 2xx; null until then.
    async fn delivered_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.0.delivered_at
    }
}
