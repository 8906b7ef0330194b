//! The events worker, run once across replicas under the `events` lease: it fans new outbox events out
//! to the endpoints that may hear of them (a delivery row each, in the same transaction as the cursor),
//! lets the tracker announce status and warning changes, and delivers due webhooks.
//!
//! Delivery follows Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature` =
//! HMAC-SHA256 over `id.timestamp.body`). It is at least once and in order per endpoint: only an
//! endpoint's oldest pending delivery is attempted, so later events wait behind a failing one. A failed
//! attempt is retried after a pause that doubles (with jitter) up to `webhooks.max_delay`; after
//! `webhooks.attempts_before_failing` failures the endpoint is marked failing and keeps being retried at
//! that slow pace — nothing is dropped. A delivery is marked delivered only after a 2xx answer, so a
//! replica killed mid-delivery leaves it pending for the next lease holder.

use crate::auth::Identity;
use crate::config::Settings;
use crate::error::{AppError, AppResult};
use crate::events::{payload, tracker};
use crate::service::lease;
use crate::service::snapshot::{Snapshot, Snapshots};
use crate::service::webhooks::{is_local, kinds_of};
use crate::service::{Db, outbox};
use crate::vocabulary::{DeliveryStatus, WebhookStatus};
use entity::{department, event, job_cursor, webhook, webhook_delivery};
use futures::StreamExt;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The lease name of the worker.
pub const LEASE: &str = "events";
/// The cursor of the webhook fan-out.
const FANOUT: &str = "webhooks";

/// Runs the worker until the process ends; `holder` names this process in the lease.
pub async fn run(db: Db, settings: Arc<Settings>, snapshots: Snapshots, holder: String) {
    let client = match client(&settings) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "no HTTP client for webhooks; the events worker does not run");
            return;
        }
    };
    loop {
        match lease::acquire(&db, LEASE, &holder, settings.events.lease).await {
            Ok(true) => {
                if let Err(e) = round(&db, &settings, &client, &snapshots).await {
                    tracing::warn!(error = %e, "an events round failed; retrying");
                }
            }
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "cannot take the events lease; retrying"),
        }
        tokio::time::sleep(settings.events.poll_interval).await;
    }
}

/// One round: fan out, track, deliver what is due.
pub async fn round(
    db: &Db,
    settings: &Settings,
    client: &reqwest::Client,
    snapshots: &Snapshots,
) -> AppResult<()> {
    fan_out(db).await?;
    tracker::track(db).await?;
    deliver_due(db, settings, client, snapshots).await
}

/// The HTTP client deliveries go out with: the webhook timeout, no redirects (a receiver answers
/// itself), gzip off (bodies are small).
pub fn client(settings: &Settings) -> AppResult<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(settings.webhooks.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!(
            "childhub/",
            env!("CARGO_PKG_VERSION"),
            " (webhooks)"
        ))
        .build()
        .map_err(|e| AppError::Internal(format!("building the webhook client: {e}")))
}

async fn cursor(db: &impl ConnectionTrait, name: &str) -> AppResult<Option<i64>> {
    Ok(job_cursor::Entity::find_by_id(name.to_owned())
        .one(db)
        .await?
        .map(|c| c.position))
}

/// Moves a job's cursor to `position`.
pub async fn set_cursor(db: &impl ConnectionTrait, name: &str, position: i64) -> AppResult<()> {
    let exists = cursor(db, name).await?.is_some();
    let model = job_cursor::ActiveModel {
        name: Set(name.to_owned()),
        position: Set(position),
    };
    if exists {
        job_cursor::Entity::update(model).exec(db).await?;
    } else {
        job_cursor::Entity::insert(model).exec(db).await?;
    }
    Ok(())
}

/// The job cursor `name`, starting at the newest event the first time (jobs hear of what comes after).
pub async fn cursor_or_now(db: &impl ConnectionTrait, name: &str) -> AppResult<i64> {
    match cursor(db, name).await? {
        Some(p) => Ok(p),
        None => {
            let now = outbox::last_event_id(db).await?;
            set_cursor(db, name, now).await?;
            Ok(now)
        }
    }
}

/// The identity an endpoint hears as.
fn recipient_of(
    hook: &webhook::Model,
    departments: &HashMap<i32, department::Model>,
) -> Option<Identity> {
    departments
        .get(&hook.department_id)
        .map(|d| payload::recipient(d, &hook.id.to_string()))
}

/// Where the fan-out starts the first time: after the last event older than the oldest endpoint (no
/// endpoint hears of what happened before it was registered).
async fn first_fan_out_position(db: &impl ConnectionTrait) -> AppResult<i64> {
    let oldest = webhook::Entity::find()
        .order_by_asc(webhook::Column::CreatedAt)
        .one(db)
        .await?;
    let Some(oldest) = oldest else {
        return outbox::last_event_id(db).await;
    };
    Ok(event::Entity::find()
        .filter(event::Column::OccurredAt.lt(oldest.created_at))
        .order_by_desc(event::Column::Id)
        .one(db)
        .await?
        .map_or(0, |e| e.id))
}

/// Creates the deliveries of new events for the endpoints that want them and may hear of them.
pub async fn fan_out(db: &Db) -> AppResult<()> {
    let txn = crate::service::begin_write(db).await?;
    let after = match cursor(&txn, FANOUT).await? {
        Some(position) => position,
        None => first_fan_out_position(&txn).await?,
    };
    let events = outbox::events_after(&txn, after, 500).await?;
    let Some(last) = events.last().map(|e| e.id) else {
        txn.commit().await?;
        return Ok(());
    };
    let hooks = webhook::Entity::find().all(&txn).await?;
    let departments: HashMap<i32, department::Model> = department::Entity::find()
        .all(&txn)
        .await?
        .into_iter()
        .map(|d| (d.id, d))
        .collect();
    let indicators: HashMap<i32, entity::indicator::Model> = entity::indicator::Entity::find()
        .all(&txn)
        .await?
        .into_iter()
        .map(|i| (i.id, i))
        .collect();
    for event in &events {
        for hook in &hooks {
            let kinds = kinds_of(hook);
            let wanted = (kinds.is_empty() || kinds.contains(&event.kind))
                && hook.created_at <= event.occurred_at;
            let Some(identity) = recipient_of(hook, &departments) else {
                continue;
            };
            let indicator = event.indicator_id.and_then(|i| indicators.get(&i));
            if wanted
                && crate::auth::policy::may_hear(
                    &identity,
                    event.kind,
                    event.department_id,
                    indicator,
                )
            {
                webhook_delivery::Entity::insert(webhook_delivery::ActiveModel {
                    webhook_id: Set(hook.id),
                    event_id: Set(event.id),
                    status: Set(DeliveryStatus::Pending),
                    attempts: Set(0),
                    next_attempt_at: Set(event.occurred_at),
                    ..Default::default()
                })
                .on_conflict(
                    sea_orm::sea_query::OnConflict::columns([
                        webhook_delivery::Column::WebhookId,
                        webhook_delivery::Column::EventId,
                    ])
                    .do_nothing()
                    .to_owned(),
                )
                .exec_without_returning(&txn)
                .await?;
            }
        }
    }
    set_cursor(&txn, FANOUT, last).await?;
    txn.commit().await?;
    Ok(())
}

/// Sends every endpoint's due deliveries, endpoints side by side, each endpoint's in event order.
pub async fn deliver_due(
    db: &Db,
    settings: &Settings,
    client: &reqwest::Client,
    snapshots: &Snapshots,
) -> AppResult<()> {
    let hooks: Vec<webhook::Model> = webhook::Entity::find()
        .filter(webhook::Column::Status.ne(WebhookStatus::Paused))
        .all(db)
        .await?;
    if hooks.is_empty() {
        return Ok(());
    }
    let snapshot = snapshots.current(db).await?;
    let snapshot = &snapshot;
    let departments: HashMap<i32, department::Model> = department::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|d| (d.id, d))
        .collect();
    let departments = &departments;
    futures::stream::iter(hooks)
        .for_each_concurrent(8, |hook| async move {
            let to = (&hook, departments, snapshot.as_ref());
            if let Err(e) = deliver_endpoint(db, settings, client, to).await {
                tracing::warn!(webhook = hook.id, error = %e, "delivering to an endpoint failed");
            }
        })
        .await;
    Ok(())
}

/// Sends one endpoint's due deliveries in order, stopping at the first that fails.
async fn deliver_endpoint(
    db: &Db,
    settings: &Settings,
    client: &reqwest::Client,
    (hook, departments, snapshot): (&webhook::Model, &HashMap<i32, department::Model>, &Snapshot),
) -> AppResult<()> {
    let Some(identity) = recipient_of(hook, departments) else {
        return Ok(());
    };
    for _ in 0..100 {
        let Some(next) = webhook_delivery::Entity::find()
            .filter(webhook_delivery::Column::WebhookId.eq(hook.id))
            .filter(webhook_delivery::Column::Status.eq(DeliveryStatus::Pending))
            .order_by_asc(webhook_delivery::Column::EventId)
            .limit(1)
            .one(db)
            .await?
        else {
            return Ok(());
        };
        if next.next_attempt_at > chrono::Utc::now() {
            return Ok(());
        }
        let Some(event) = event::Entity::find_by_id(next.event_id).one(db).await? else {
            return Ok(());
        };
        let outcome = match payload::view_for(db, snapshot, &identity, &event).await? {
            Some(view) => send(settings, client, hook, &view).await,
            None => Outcome::Skipped,
        };
        let ok = outcome.succeeded();
        record(db, settings, hook, next, outcome).await?;
        if !ok {
            return Ok(());
        }
    }
    Ok(())
}

/// How one attempt went.
enum Outcome {
    Answered { status: u16, latency: Duration },
    Failed { error: String, latency: Duration },
    Skipped,
}

impl Outcome {
    fn succeeded(&self) -> bool {
        match self {
            Outcome::Answered { status, .. } => (200..300).contains(status),
            Outcome::Failed { .. } => false,
            Outcome::Skipped => true,
        }
    }
}

/// Signs and sends one event to one endpoint.
#[tracing::instrument(name = "deliver webhook", skip_all, fields(webhook = hook.id, event = %view.id))]
async fn send(
    settings: &Settings,
    client: &reqwest::Client,
    hook: &webhook::Model,
    view: &payload::EventView,
) -> Outcome {
    let started = Instant::now();
    let failed = |error: String| Outcome::Failed {
        error,
        latency: started.elapsed(),
    };
    let Ok(url) = reqwest::Url::parse(&hook.url) else {
        return failed("the stored URL does not parse".into());
    };
    if !settings.allow_local_targets()
        && let Err(e) = check_resolved(&url).await
    {
        return failed(e);
    }
    let body = match serde_json::to_vec(view) {
        Ok(b) => b,
        Err(e) => return failed(format!("encoding the payload: {e}")),
    };
    let timestamp = chrono::Utc::now().timestamp();
    let signature = match standardwebhooks::Webhook::new(&hook.secret)
        .map_err(|e| e.to_string())
        .and_then(|w| {
            w.sign(&view.id, timestamp, &body)
                .map_err(|e| e.to_string())
        }) {
        Ok(s) => s,
        Err(e) => return failed(format!("signing: {e}")),
    };
    let mut trace = reqwest::header::HeaderMap::new();
    crate::telemetry::inject_trace_context(&mut trace);
    let sent = client
        .post(url)
        .headers(trace)
        .header("content-type", "application/json")
        .header("webhook-id", &view.id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(body)
        .send()
        .await;
    match sent {
        Ok(response) => Outcome::Answered {
            status: response.status().as_u16(),
            latency: started.elapsed(),
        },
        Err(e) if e.is_timeout() => failed("timed out".into()),
        Err(e) if e.is_connect() => failed("could not connect".into()),
        Err(e) => failed(format!("request failed: {e}")),
    }
}

/// Refuses endpoints whose name resolves to a loopback or link-local address (checked at delivery too,
/// since a name may point elsewhere than when it was registered).
async fn check_resolved(url: &reqwest::Url) -> Result<(), String> {
    let host = url.host_str().unwrap_or_default().to_owned();
    let port = url.port_or_known_default().unwrap_or(443);
    let addresses = tokio::net::lookup_host((host.as_str(), port))
        .await
        .map_err(|_| format!("cannot resolve {host}"))?;
    for address in addresses {
        if is_local(address.ip()) {
            return Err(format!(
                "{host} resolves to a local address; webhooks.allow_local_targets is off"
            ));
        }
    }
    Ok(())
}

/// The pause before attempt `attempts + 1`: `first_retry` doubling up to `max_delay`, ± 20 % jitter.
pub fn backoff(settings: &Settings, attempts: i32) -> Duration {
    let first = settings.webhooks.first_retry.as_secs_f64();
    let max = settings.webhooks.max_delay.as_secs_f64();
    let exponent = (attempts.max(1) - 1).min(30);
    let base = (first * 2f64.powi(exponent)).min(max);
    let jitter = 0.8 + rand::random::<f64>() * 0.4;
    Duration::from_secs_f64((base * jitter).min(max).max(0.0))
}

/// Stores an attempt's outcome and moves the endpoint to failing (or back to active).
async fn record(
    db: &Db,
    settings: &Settings,
    hook: &webhook::Model,
    delivery: webhook_delivery::Model,
    outcome: Outcome,
) -> AppResult<()> {
    let now = chrono::Utc::now();
    let succeeded = outcome.succeeded();
    let skipped = matches!(outcome, Outcome::Skipped);
    let attempts = delivery.attempts + i32::from(!skipped);
    let mut model: webhook_delivery::ActiveModel = delivery.into();
    model.attempts = Set(attempts);
    model.last_attempt_at = Set(Some(now));
    match outcome {
        Outcome::Answered { status, latency } => {
            model.last_status = Set(Some(i32::from(status)));
            model.last_latency_ms = Set(Some(latency.as_millis() as i32));
            model.last_error = Set((!succeeded).then(|| format!("answered {status}")));
        }
        Outcome::Failed { error, latency } => {
            model.last_status = Set(None);
            model.last_latency_ms = Set(Some(latency.as_millis() as i32));
            model.last_error = Set(Some(error));
        }
        Outcome::Skipped => {
            model.status = Set(DeliveryStatus::Skipped);
            model.last_error = Set(Some(
                "not sent: the endpoint's department may not hear of this event".into(),
            ));
        }
    }
    let label = match (skipped, succeeded) {
        (true, _) => "skipped",
        (false, true) => "delivered",
        (false, false) => "failed",
    };
    metrics::counter!("childhub_webhook_deliveries_total", "outcome" => label).increment(1);
    if succeeded {
        if !skipped {
            model.status = Set(DeliveryStatus::Delivered);
            model.delivered_at = Set(Some(now));
        }
    } else {
        let pause = chrono::Duration::from_std(backoff(settings, attempts))
            .unwrap_or(chrono::Duration::seconds(60));
        model.next_attempt_at = Set(now + pause);
    }
    let txn = crate::service::begin_write(db).await?;
    webhook_delivery::Entity::update(model).exec(&txn).await?;
    let failing = !succeeded && attempts >= settings.webhooks.attempts_before_failing;
    let status = match (succeeded, failing, hook.status) {
        (true, _, WebhookStatus::Failing) => Some((WebhookStatus::Active, None)),
        (false, true, WebhookStatus::Active) => Some((WebhookStatus::Failing, Some(now))),
        _ => None,
    };
    if let Some((status, since)) = status {
        webhook::Entity::update_many()
            .col_expr(
                webhook::Column::Status,
                sea_orm::sea_query::Expr::value(status),
            )
            .col_expr(
                webhook::Column::FailingSince,
                sea_orm::sea_query::Expr::value(since),
            )
            .filter(webhook::Column::Id.eq(hook.id))
            .filter(webhook::Column::Status.ne(WebhookStatus::Paused))
            .exec(&txn)
            .await?;
        if status == WebhookStatus::Failing {
            tracing::warn!(webhook = hook.id, url = %hook.url, "webhook endpoint is failing; its deliveries wait");
        }
    }
    txn.commit().await?;
    Ok(())
}
