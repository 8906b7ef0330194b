//! What one recipient is told of an event: nothing unless the read policy lets it hear of the event
//! (`policy::may_hear`), and then the event's facts plus, for published values, the values as that
//! recipient reads them through GraphQL — restricted cells suppressed exactly as in a query. Webhooks and
//! subscriptions both use this, so they never carry more than the recipient could query.

use crate::auth::{Identity, Role, policy};
use crate::error::AppResult;
use crate::service::Db;
use crate::service::observations::{self, ObservationFilter, PageRequest, ReadScope, Version};
use crate::service::snapshot::Snapshot;
use crate::vocabulary::EventKind;
use entity::{department, event, indicator};
use serde::Serialize;
use serde_json::{Value, json};

/// An event as one recipient receives it (the JSON body of a webhook, the `events` subscription's item).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct EventView {
    /// `evt_…`, also the `webhook-id` header: receivers de-duplicate on it.
    pub id: String,
    #[serde(rename = "type")]
    pub kind: EventKind,
    pub timestamp: chrono::DateTime<chrono::Utc>,
    /// The department the event concerns, if any.
    pub department: Option<String>,
    pub data: Value,
}

/// The identity a department's endpoint receives events as: a viewer of that department.
pub fn recipient(department: &department::Model, endpoint: &str) -> Identity {
    Identity::Member(crate::auth::Member::of(
        format!("webhook:{endpoint}"),
        department,
        vec![Role::Viewer],
    ))
}

/// The most values one `observations.published` event carries; the rest are a query away.
const MAX_VALUES: usize = 5_000;

/// What `identity` is told of `event`, or `None` when it may not hear of it, read over `snapshot`.
pub async fn view_for(
    db: &Db,
    snapshot: &Snapshot,
    identity: &Identity,
    event: &event::Model,
) -> AppResult<Option<EventView>> {
    let reference = &snapshot.reference;
    let indicator = event
        .indicator_id
        .and_then(|id| reference.indicator_by_id(id))
        .cloned();
    if !policy::may_hear(
        identity,
        event.kind,
        event.department_id,
        indicator.as_ref(),
    ) {
        return Ok(None);
    }
    let department = event
        .department_id
        .and_then(|id| reference.department_by_id(id))
        .map(|d| d.code.clone());
    let mut data = event.payload.clone();
    if event.kind == EventKind::ObservationsPublished
        && let Some(indicator) = &indicator
    {
        let scope = snapshot.scope(identity);
        data["values"] = published_values(db, &scope, indicator, &event.payload).await?;
    }
    Ok(Some(EventView {
        id: event.uid.clone(),
        kind: event.kind,
        timestamp: event.occurred_at,
        department,
        data,
    }))
}

/// The published values of the event's indicator, year and regions, read as `identity` reads them.
async fn published_values(
    db: &Db,
    scope: &ReadScope,
    indicator: &indicator::Model,
    payload: &Value,
) -> AppResult<Value> {
    let year = payload["year"].as_i64().map(|y| y as i32);
    let regions: Vec<String> = payload["regions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r.as_str().map(str::to_owned))
        .collect();
    let filter = ObservationFilter {
        indicators: Some(vec![indicator.code.clone()]),
        regions: (!regions.is_empty()).then_some(regions),
        year_from: year,
        year_to: year,
        version: Version::Published,
        ..ObservationFilter::default()
    };
    let page = observations::list_observations(
        db,
        scope,
        &filter,
        PageRequest {
            first: Some(MAX_VALUES as i32),
            after: None,
            default_size: MAX_VALUES,
            max_size: MAX_VALUES,
        },
    )
    .await?;

    Ok(Value::Array(
        page.records
            .iter()
            .map(|r| {
                let m = &r.model;
                json!({
                    "region": scope.reference.region_by_id(m.region_id).map(|r| &r.code),
                    "sex": m.sex, "ageGroup": m.age_group, "residence": m.residence,
                    "value": r.value(), "suppressed": r.suppressed,
                })
            })
            .collect(),
    ))
}
