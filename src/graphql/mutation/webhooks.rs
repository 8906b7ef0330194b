//! Managing webhook endpoints (a department's admin for its own; coordinating admins for any).

use crate::error::AppError;
use crate::graphql::context::{db, settings, write_context};
use crate::graphql::event_types::{Webhook, WebhookDelivery, WebhookWithSecret};
use crate::service::webhooks::{self, WebhookChange, WebhookInput};
use crate::vocabulary::EventKind;
use async_graphql::{Context, ID, Object, Result};

/// A webhook id from the API.
pub fn parse_webhook_id(id: &ID) -> Result<i64> {
    id.parse::<i64>()
        .map_err(|_| AppError::invalid("id", id.as_str(), "a webhook id such as \"3\"").into())
}

#[derive(Default)]
pub struct WebhookMutation;

#[Object]
impl WebhookMutation {
    /// Registers an endpoint for the caller's department (or `department`, for coordinating admins).
    /// The answer carries the signing secret, shown only this once.
    async fn create_webhook(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "An http:// or https:// URL that accepts POSTed JSON.")] url: String,
        #[graphql(desc = "Event kinds to receive; none or empty: every kind.")] kinds: Option<
            Vec<EventKind>,
        >,
        #[graphql(desc = "What the endpoint is for.", default)] description: String,
        #[graphql(desc = "Department code (coordinating admins only; default: your own).")]
        department: Option<String>,
    ) -> Result<WebhookWithSecret> {
        let allow_local = settings(ctx)?.allow_local_targets();
        let input = WebhookInput {
            url,
            kinds: kinds.unwrap_or_default(),
            description,
            department,
        };
        let (saved, secret) =
            webhooks::create_webhook(db(ctx)?, &write_context(ctx), allow_local, input).await?;
        Ok(WebhookWithSecret {
            webhook: Webhook(saved),
            secret,
        })
    }

    /// Stops deliveries to an endpoint; they wait, none is dropped.
    async fn pause_webhook(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint's id.")] id: ID,
    ) -> Result<Webhook> {
        let id = parse_webhook_id(&id)?;
        let (saved, _) =
            webhooks::change_webhook(db(ctx)?, &write_context(ctx), id, WebhookChange::Pause)
                .await?;
        Ok(Webhook(saved))
    }

    /// Resumes a paused or failing endpoint; its waiting deliveries go out at once.
    async fn resume_webhook(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint's id.")] id: ID,
    ) -> Result<Webhook> {
        let id = parse_webhook_id(&id)?;
        let (saved, _) =
            webhooks::change_webhook(db(ctx)?, &write_context(ctx), id, WebhookChange::Resume)
                .await?;
        Ok(Webhook(saved))
    }

    /// Replaces an endpoint's signing secret; the old one stops working at once.
    async fn rotate_webhook_secret(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint's id.")] id: ID,
    ) -> Result<WebhookWithSecret> {
        let id = parse_webhook_id(&id)?;
        let (saved, secret) = webhooks::change_webhook(
            db(ctx)?,
            &write_context(ctx),
            id,
            WebhookChange::RotateSecret,
        )
        .await?;
        Ok(WebhookWithSecret {
            webhook: Webhook(saved),
            secret: secret.unwrap_or_default(),
        })
    }

    /// Deletes an endpoint and its delivery records. Returns its id.
    async fn delete_webhook(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint's id.")] id: ID,
    ) -> Result<ID> {
        let parsed = parse_webhook_id(&id)?;
        webhooks::delete_webhook(db(ctx)?, &write_context(ctx), parsed).await?;
        Ok(id)
    }

    /// Sends an event to an endpoint again (or for the first time), now.
    async fn redeliver(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint's id.")] webhook: ID,
        #[graphql(desc = "The event's id, `evt_…`.")] event_id: ID,
    ) -> Result<WebhookDelivery> {
        let id = parse_webhook_id(&webhook)?;
        let saved =
            webhooks::redeliver(db(ctx)?, &write_context(ctx), id, event_id.as_str()).await?;
        Ok(WebhookDelivery(saved, Some(event_id.to_string())))
    }
}
