//! The outbox: one row per change that other systems may hear of, written in the same transaction as the
//! change. Webhook deliveries and subscriptions read from here.

use crate::vocabulary::EventKind;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "event")]
pub struct Model {
    /// The order events happened in (per endpoint, deliveries follow it).
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The public id (`evt_…`): the `webhook-id` a receiver de-duplicates on.
    #[sea_orm(unique)]
    pub uid: String,
    pub kind: EventKind,
    /// The department the event concerns (its submission, its source), if any.
    pub department_id: Option<i32>,
    /// The indicator the event concerns, if any.
    pub indicator_id: Option<i32>,
    /// The facts of the event (codes and ids); what a recipient gets is built from them under its policy.
    pub payload: Json,
    pub occurred_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
