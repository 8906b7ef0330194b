//! Webhook endpoints: a department's admin registers, pauses, resumes, deletes them and rotates their
//! secret (coordinating admins for any department); every change is audited (never with the secret).
//! Deliveries are listed and redelivered here; sending them is the events worker's job.

use crate::auth::{Identity, Role, policy};
use crate::error::{AppError, AppResult};
use crate::service::audit::{self, Entry, WriteContext};
use crate::service::{catalogue, outbox};
use crate::vocabulary::{DeliveryStatus, EventKind, WebhookStatus};
use base64::Engine;
use entity::{webhook, webhook_delivery};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde_json::json;
use std::net::IpAddr;

/// A new endpoint.
#[derive(Clone, Debug, Default)]
pub struct WebhookInput {
    pub url: String,
    /// Event kinds wanted; empty means every kind.
    pub kinds: Vec<EventKind>,
    pub description: String,
    /// The department whose policy the payloads follow (default: the caller's own).
    pub department: Option<String>,
}

/// A new secret in the Standard Webhooks form: `whsec_` and 32 random bytes in base64.
fn new_secret() -> String {
    let bytes: [u8; 32] = rand::random();
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

/// Whether an address is one a city system should not be made to call in production: loopback,
/// link-local (cloud metadata lives there), unspecified.
pub fn is_local(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_link_local() || v4.is_unspecified(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.is_unspecified() || (v6.segments()[0] & 0xffc0) == 0xfe80
        }
    }
}

/// An endpoint URL: http or https with a host; loopback and link-local targets only where allowed.
pub fn check_url(url: &str, allow_local: bool) -> AppResult<reqwest::Url> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|_| AppError::invalid("url", url, "an absolute http:// or https:// URL"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(AppError::invalid("url", url, "an http:// or https:// URL"));
    }
    let host = parsed
        .host_str()
        .ok_or_else(|| AppError::invalid("url", url, "a URL with a host"))?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(AppError::invalid(
            "url",
            url,
            "a URL without credentials (the signature authenticates the hub)",
        ));
    }
    if !allow_local {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let local = bare.eq_ignore_ascii_case("localhost")
            || bare.ends_with(".localhost")
            || bare.parse::<IpAddr>().is_ok_and(is_local);
        if local {
            return Err(AppError::invalid(
                "url",
                url,
                "a URL that is not loopback or link-local (webhooks.allow_local_targets is off)",
            ));
        }
    }
    Ok(parsed)
}

fn kinds_json(kinds: &[EventKind]) -> serde_json::Value {
    let mut codes: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    codes.sort_unstable();
    codes.dedup();
    json!(codes)
}

/// The event kinds an endpoint wants (empty: every kind).
pub fn kinds_of(hook: &webhook::Model) -> Vec<EventKind> {
    hook.kinds
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().and_then(EventKind::parse))
        .collect()
}

/// What an audit entry says of an endpoint (never its secret).
fn described(hook: &webhook::Model) -> serde_json::Value {
    json!({ "id": hook.id, "department_id": hook.department_id, "url": hook.url,
            "kinds": hook.kinds, "description": hook.description, "status": hook.status })
}

async fn audit_hook(
    db: &impl ConnectionTrait,
    ctx: &WriteContext,
    action: &str,
    before: Option<&webhook::Model>,
    after: Option<&webhook::Model>,
    department_id: i32,
    id: i64,
) -> AppResult<()> {
    audit::record(
        db,
        ctx,
        Entry {
            action,
            entity_type: "webhook",
            entity_key: id.to_string(),
            department_id: Some(department_id),
            before: before.map(described),
            after: after.map(described),
        },
    )
    .await
}

/// Registers an endpoint; returns it and its secret (shown this once).
pub async fn create_webhook(
    db: &DatabaseConnection,
    ctx: &WriteContext,
    allow_local: bool,
    input: WebhookInput,
) -> AppResult<(webhook::Model, String)> {
    let member = policy::require_role(&ctx.identity, Role::Admin)?.clone();
    check_url(&input.url, allow_local)?;
    if input.description.chars().count() > 500 {
        return Err(AppError::invalid(
            "description",
            "…",
            "a description of at most 500 characters",
        ));
    }
    let txn = crate::service::begin_write(db).await?;
    let department_id = match &input.department {
        Some(code) => {
            catalogue::require_department(&txn, "department", code)
                .await?
                .id
        }
        None => member.department_id,
    };
    policy::authorize_department_admin(&ctx.identity, department_id)?;
    let secret = new_secret();
    let now = chrono::Utc::now();
    let saved = webhook::Entity::insert(webhook::ActiveModel {
        department_id: Set(department_id),
        url: Set(input.url.clone()),
        description: Set(input.description),
        kinds: Set(kinds_json(&input.kinds)),
        secret: Set(secret.clone()),
        status: Set(WebhookStatus::Active),
        failing_since: Set(None),
        created_by: Set(member.subject.clone()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .exec_with_returning(&txn)
    .await?;
    audit_hook(
        &txn,
        ctx,
        "webhook.create",
        None,
        Some(&saved),
        department_id,
        saved.id,
    )
    .await?;
    txn.commit().await?;
    Ok((saved, secret))
}

/// The endpoint with this id, when the caller may manage it; a hidden one looks missing.
async fn manageable(
    db: &impl ConnectionTrait,
    identity: &Identity,
    id: i64,
) -> AppResult<webhook::Model> {
    let found = webhook::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|h| policy::may_read_department_records(identity, h.department_id))
        .ok_or_else(|| AppError::NotFound(format!("webhook {id} does not exist")))?;
    policy::authorize_department_admin(identity, found.department_id)?;
    Ok(found)
}

/// What an admin can do to an endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WebhookChange {
    Pause,
    /// Back to active (also after it was failing): its waiting deliveries go out at once.
    Resume,
    /// A new secret; the old one stops working at once.
    RotateSecret,
}

/// Pauses, resumes or rotates the secret of an endpoint; returns it and, when rotated, the new secret.
pub async fn change_webhook(
    db: &DatabaseConnection,
    ctx: &WriteContext,
    id: i64,
    change: WebhookChange,
) -> AppResult<(webhook::Model, Option<String>)> {
    let txn = crate::service::begin_write(db).await?;
    let current = manageable(&txn, &ctx.identity, id).await?;
    let mut model: webhook::ActiveModel = current.clone().into();
    model.updated_at = Set(chrono::Utc::now());
    let mut secret = None;
    let action = match change {
        WebhookChange::Pause => {
            model.status = Set(WebhookStatus::Paused);
            "webhook.pause"
        }
        WebhookChange::Resume => {
            model.status = Set(WebhookStatus::Active);
            model.failing_since = Set(None);
            // Deliveries waiting for a later attempt go out now.
            webhook_delivery::Entity::update_many()
                .col_expr(
                    webhook_delivery::Column::NextAttemptAt,
                    sea_orm::sea_query::Expr::value(chrono::Utc::now()),
                )
                .filter(webhook_delivery::Column::WebhookId.eq(id))
                .filter(webhook_delivery::Column::Status.eq(DeliveryStatus::Pending))
                .exec(&txn)
                .await?;
            "webhook.resume"
        }
        WebhookChange::RotateSecret => {
            let fresh = new_secret();
            model.secret = Set(fresh.clone());
            secret = Some(fresh);
            "webhook.rotate_secret"
        }
    };
    let saved = webhook::Entity::update(model).exec(&txn).await?;
    audit_hook(
        &txn,
        ctx,
        action,
        Some(&current),
        Some(&saved),
        saved.department_id,
        id,
    )
    .await?;
    txn.commit().await?;
    Ok((saved, secret))
}

/// Deletes an endpoint and its delivery records.
pub async fn delete_webhook(db: &DatabaseConnection, ctx: &WriteContext, id: i64) -> AppResult<()> {
    let txn = crate::service::begin_write(db).await?;
    let current = manageable(&txn, &ctx.identity, id).await?;
    webhook_delivery::Entity::delete_many()
        .filter(webhook_delivery::Column::WebhookId.eq(id))
        .exec(&txn)
        .await?;
    webhook::Entity::delete_by_id(id).exec(&txn).await?;
    audit_hook(
        &txn,
        ctx,
        "webhook.delete",
        Some(&current),
        None,
        current.department_id,
        id,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Endpoints the caller may see: its department's (coordinators: all), newest first.
pub async fn list_webhooks(
    db: &impl ConnectionTrait,
    identity: &Identity,
) -> AppResult<Vec<webhook::Model>> {
    let member = policy::require_member(identity)?;
    policy::require_reader(identity)?;
    let mut query = webhook::Entity::find().order_by_desc(webhook::Column::Id);
    if !policy::reads_all_department_records(identity) {
        query = query.filter(webhook::Column::DepartmentId.eq(member.department_id));
    }
    Ok(query.all(db).await?)
}

/// The deliveries of an endpoint the caller may see, newest first, each with its event's public id.
pub async fn list_deliveries(
    db: &impl ConnectionTrait,
    identity: &Identity,
    webhook_id: i64,
    limit: u64,
) -> AppResult<Vec<(webhook_delivery::Model, Option<String>)>> {
    let hook = webhook::Entity::find_by_id(webhook_id)
        .one(db)
        .await?
        .filter(|h| policy::may_read_department_records(identity, h.department_id))
        .ok_or_else(|| AppError::NotFound(format!("webhook {webhook_id} does not exist")))?;
    let deliveries = webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::WebhookId.eq(hook.id))
        .order_by_desc(webhook_delivery::Column::EventId)
        .limit(limit)
        .all(db)
        .await?;
    let uids: std::collections::HashMap<i64, String> = entity::event::Entity::find()
        .filter(entity::event::Column::Id.is_in(deliveries.iter().map(|d| d.event_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|e| (e.id, e.uid))
        .collect();
    Ok(deliveries
        .into_iter()
        .map(|d| {
            let uid = uids.get(&d.event_id).cloned();
            (d, uid)
        })
        .collect())
}

/// Sends an event to an endpoint again (or for the first time): its delivery goes back to pending, due
/// now. The endpoint must be one the caller manages and one that may hear of the event.
pub async fn redeliver(
    db: &DatabaseConnection,
    ctx: &WriteContext,
    webhook_id: i64,
    event_uid: &str,
) -> AppResult<webhook_delivery::Model> {
    let txn = crate::service::begin_write(db).await?;
    let hook = manageable(&txn, &ctx.identity, webhook_id).await?;
    let event = outbox::find_event(&txn, event_uid)
        .await?
        .ok_or_else(|| AppError::invalid("eventId", event_uid, "the id of an event (evt_…)"))?;
    let now = chrono::Utc::now();
    let existing = webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::WebhookId.eq(hook.id))
        .filter(webhook_delivery::Column::EventId.eq(event.id))
        .one(&txn)
        .await?;
    let saved = match existing {
        Some(found) => {
            let mut model: webhook_delivery::ActiveModel = found.into();
            model.status = Set(DeliveryStatus::Pending);
            model.next_attempt_at = Set(now);
            webhook_delivery::Entity::update(model).exec(&txn).await?
        }
        None => {
            webhook_delivery::Entity::insert(webhook_delivery::ActiveModel {
                webhook_id: Set(hook.id),
                event_id: Set(event.id),
                status: Set(DeliveryStatus::Pending),
                attempts: Set(0),
                next_attempt_at: Set(now),
                ..Default::default()
            })
            .exec_with_returning(&txn)
            .await?
        }
    };
    audit::record(
        &txn,
        ctx,
        Entry {
            action: "webhook.redeliver",
            entity_type: "webhook",
            entity_key: hook.id.to_string(),
            department_id: Some(hook.department_id),
            before: None,
            after: Some(json!({ "event": event.uid })),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_urls_are_http_and_not_local_in_production() {
        assert!(check_url("https://cases.wcwc.city.example/hooks", false).is_ok());
        assert!(
            check_url("http://10.2.3.4:8080/in", false).is_ok(),
            "intranet addresses are fine"
        );
        for bad in [
            "ftp://x.example/",
            "not a url",
            "http://localhost:9000/",
            "http://127.0.0.1/",
            "http://[::1]/",
            "http://169.254.169.254/latest/meta-data",
            "https://user:pw@x.example/",
        ] {
            assert!(check_url(bad, false).is_err(), "{bad}");
        }
        assert!(check_url("http://127.0.0.1:9000/", true).is_ok());
    }

    #[test]
    fn secrets_follow_the_standard_webhooks_form() {
        let secret = new_secret();
        assert!(secret.starts_with("whsec_"));
        assert!(standardwebhooks::Webhook::new(&secret).is_ok());
        assert_ne!(secret, new_secret());
    }
}
