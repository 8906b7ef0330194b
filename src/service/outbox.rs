//! The outbox: every change other systems may hear of writes its event here, in the change's own
//! transaction, so a rolled-back change leaves no event and a committed one always has its event. On
//! PostgreSQL the insert also notifies `childhub_events`, which PostgreSQL delivers at commit, so every
//! replica's relay hears of it at once.

use crate::error::AppResult;
use crate::vocabulary::EventKind;
use entity::event;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Statement,
};
use serde_json::Value;

/// The PostgreSQL notification channel of new events.
pub const CHANNEL: &str = "childhub_events";

/// An event to record.
#[derive(Clone, Debug)]
pub struct Draft {
    pub kind: EventKind,
    /// The department the event concerns, if any.
    pub department_id: Option<i32>,
    /// The indicator the event concerns, if any.
    pub indicator_id: Option<i32>,
    /// Its facts: codes and ids, never more values than the event needs.
    pub payload: Value,
}

/// Records an event; call it with the transaction of the change it describes.
pub async fn record(db: &impl ConnectionTrait, draft: Draft) -> AppResult<event::Model> {
    let saved = event::Entity::insert(event::ActiveModel {
        uid: Set(format!("evt_{}", uuid::Uuid::new_v4().simple())),
        kind: Set(draft.kind),
        department_id: Set(draft.department_id),
        indicator_id: Set(draft.indicator_id),
        payload: Set(draft.payload),
        occurred_at: Set(chrono::Utc::now()),
        ..Default::default()
    })
    .exec_with_returning(db)
    .await?;
    if db.get_database_backend() == DbBackend::Postgres {
        db.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_notify($1, $2)",
            [CHANNEL.into(), saved.id.to_string().into()],
        ))
        .await?;
    }
    Ok(saved)
}

/// Events after `after` (an event id), oldest first, at most `limit`.
pub async fn events_after(
    db: &impl ConnectionTrait,
    after: i64,
    limit: u64,
) -> AppResult<Vec<event::Model>> {
    Ok(event::Entity::find()
        .filter(event::Column::Id.gt(after))
        .order_by_asc(event::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

/// The newest event id (0 when there is none).
pub async fn last_event_id(db: &impl ConnectionTrait) -> AppResult<i64> {
    Ok(event::Entity::find()
        .select_only()
        .column_as(event::Column::Id.max(), "max")
        .into_tuple::<Option<i64>>()
        .one(db)
        .await?
        .flatten()
        .unwrap_or(0))
}

/// The event with this public id.
pub async fn find_event(db: &impl ConnectionTrait, uid: &str) -> AppResult<Option<event::Model>> {
    Ok(event::Entity::find()
        .filter(event::Column::Uid.eq(uid))
        .one(db)
        .await?)
}
