//! An endpoint a department registered to hear of events, signed with its own secret.

use crate::vocabulary::WebhookStatus;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The department whose read policy the payloads follow.
    pub department_id: i32,
    pub url: String,
    pub description: String,
    /// Event kinds wanted, as a JSON array of codes; empty means every kind.
    pub kinds: Json,
    /// The Standard Webhooks secret (`whsec_…`); shown once, when created or rotated.
    pub secret: String,
    pub status: WebhookStatus,
    /// When deliveries started failing beyond the retry schedule.
    pub failing_since: Option<DateTimeUtc>,
    pub created_by: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
