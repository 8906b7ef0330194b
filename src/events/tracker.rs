//! The tracker turns changes of progress into events: after values are published or the catalogue
//! changes, it assesses every target (as a coordinator reads them), compares each target's status and
//! the set of early warnings with what it announced last time, and writes `target.status_changed`,
//! `warning.raised` and `warning.cleared` events in the same transaction as its new state — so an event
//! is announced once, and only for a change that was stored. The first run records the state without
//! announcing it.
//!
//! Statuses and the assessment's own findings (off track, deteriorating, missing data) follow the
//! default evaluation year, as the dashboards do. Findings about values — a township below a floor, a
//! level not maintained, an implausible jump — are tracked for every year with approved values, keyed
//! by that year: a case-management system hears of a township below the floor when its value is
//! published, not when most targets have reached that year.

use crate::error::AppResult;
use crate::events::worker::{cursor_or_now, set_cursor};
use crate::monitor::Severity;
use crate::monitor::warnings::WarningKind;
use crate::service::observations::ReadScope;
use crate::service::progress::{self, ProgressFilter};
use crate::service::{Db, catalogue, outbox};
use crate::vocabulary::EventKind;
use entity::{job_cursor, tracked_status, tracked_warning};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use std::collections::HashMap;

/// Whether a finding is about the values of one year (tracked per year) rather than the assessment at
/// the evaluation year.
fn is_about_values(kind: WarningKind) -> bool {
    matches!(
        kind,
        WarningKind::BelowFloor | WarningKind::MaintainBreach | WarningKind::ImplausibleJump
    )
}

/// What identifies a finding: its kind, indicator and region, and for findings about values their year.
fn key_of(w: &progress::EarlyWarning) -> String {
    let base = format!("{:?}/{}/{}", w.warning.kind, w.indicator.id, w.region.id);
    if is_about_values(w.warning.kind) {
        format!("{base}/{}", w.warning.year)
    } else {
        base
    }
}

/// The tracker's cursor in the outbox.
const CURSOR: &str = "tracker";

/// Announces what changed since the last run, if values were published or the catalogue changed.
pub async fn track(db: &Db) -> AppResult<()> {
    let first_run = job_cursor::Entity::find_by_id(CURSOR.to_owned())
        .one(db)
        .await?
        .is_none();
    let after = cursor_or_now(db, CURSOR).await?;
    let events = outbox::events_after(db, after, 10_000).await?;
    let relevant = events.iter().any(|e| {
        matches!(
            e.kind,
            EventKind::ObservationsPublished | EventKind::CatalogueChanged
        )
    });
    let last = events.last().map(|e| e.id);
    if !relevant && !first_run {
        if let Some(last) = last {
            set_cursor(db, CURSOR, last).await?;
        }
        return Ok(());
    }
    let Some(identity) = catalogue::system_identity(db, "tracker").await? else {
        return Ok(());
    };
    let scope = ReadScope::load(db, &identity).await?;
    let (assessment, every_year) =
        progress::assess_every_year(db, scope, &ProgressFilter::default()).await?;
    let mut raised: HashMap<String, progress::EarlyWarning> = HashMap::new();
    for w in progress::warnings_of(db, &assessment, Severity::Low).await? {
        raised.entry(key_of(&w)).or_insert(w);
    }
    for other in every_year.iter().filter(|a| a.year != assessment.year) {
        for w in progress::warnings_of(db, other, Severity::Low).await? {
            if is_about_values(w.warning.kind) && w.warning.year == other.year {
                raised.entry(key_of(&w)).or_insert(w);
            }
        }
    }
    let area = &assessment.area;
    let txn = crate::service::begin_write(db).await?;
    let stored: HashMap<(i32, i32), tracked_status::Model> = tracked_status::Entity::find()
        .filter(tracked_status::Column::RegionId.eq(area.id))
        .all(&txn)
        .await?
        .into_iter()
        .map(|s| ((s.target_id, s.region_id), s))
        .collect();
    for t in &assessment.targets {
        let status = t.evaluation.progress.status;
        let code = status.code().to_owned();
        let before = stored.get(&(t.target.id, area.id));
        if before.is_some_and(|b| b.status == code && b.year == assessment.year) {
            continue;
        }
        let model = tracked_status::ActiveModel {
            target_id: Set(t.target.id),
            region_id: Set(area.id),
            year: Set(assessment.year),
            status: Set(code.clone()),
        };
        match before {
            Some(_) => {
                tracked_status::Entity::update(model).exec(&txn).await?;
            }
            None => {
                tracked_status::Entity::insert(model).exec(&txn).await?;
            }
        }
        if let Some(before) = before.filter(|b| b.status != code)
            && !first_run
        {
            outbox::record(
                &txn,
                outbox::Draft {
                    kind: EventKind::TargetStatusChanged,
                    department_id: Some(t.indicator.owner_department_id),
                    indicator_id: Some(t.indicator.id),
                    payload: json!({
                        "indicator": t.indicator.code, "target": t.target.id, "region": area.code,
                        "year": assessment.year, "from": before.status, "to": code,
                    }),
                },
            )
            .await?;
        }
    }
    let known: HashMap<String, tracked_warning::Model> = tracked_warning::Entity::find()
        .all(&txn)
        .await?
        .into_iter()
        .map(|w| (w.key.clone(), w))
        .collect();
    for (key, w) in &raised {
        if known.contains_key(key) {
            continue;
        }
        tracked_warning::Entity::insert(tracked_warning::ActiveModel {
            key: Set(key.clone()),
            indicator_id: Set(w.indicator.id),
            region_id: Set(w.region.id),
            kind: Set(format!("{:?}", w.warning.kind)),
            severity: Set(format!("{:?}", w.warning.severity)),
            message: Set(w.message.clone()),
            raised_at: Set(chrono::Utc::now()),
        })
        .exec(&txn)
        .await?;
        if !first_run {
            outbox::record(
                &txn,
                outbox::Draft {
                    kind: EventKind::WarningRaised,
                    department_id: Some(w.indicator.owner_department_id),
                    indicator_id: Some(w.indicator.id),
                    payload: json!({
                        "indicator": w.indicator.code, "region": w.region.code,
                        "kind": format!("{:?}", w.warning.kind), "severity": format!("{:?}", w.warning.severity),
                        "year": w.warning.year, "since": w.warning.since, "message": w.message,
                    }),
                },
            )
            .await?;
        }
    }
    let regions = crate::service::regions::codes_by_id(&txn).await?;
    let indicators = catalogue::all_indicators(&txn).await?;
    for (key, w) in known.iter().filter(|(k, _)| !raised.contains_key(*k)) {
        tracked_warning::Entity::delete_by_id(key.clone())
            .exec(&txn)
            .await?;
        let indicator = indicators.iter().find(|i| i.id == w.indicator_id);
        outbox::record(
            &txn,
            outbox::Draft {
                kind: EventKind::WarningCleared,
                department_id: indicator.map(|i| i.owner_department_id),
                indicator_id: Some(w.indicator_id),
                payload: json!({
                    "indicator": indicator.map(|i| &i.code), "region": regions.get(&w.region_id),
                    "kind": w.kind, "severity": w.severity, "message": w.message,
                }),
            },
        )
        .await?;
    }
    if let Some(last) = last {
        set_cursor(&txn, CURSOR, last).await?;
    }
    txn.commit().await?;
    Ok(())
}
