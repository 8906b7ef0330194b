//! Who changed what and when: one row per write, written in the same transaction as the write.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub at: DateTimeUtc,
    /// The token's `sub`.
    pub actor: String,
    /// The actor's department code.
    pub actor_department: Option<String>,
    /// e.g. `submission.create`, `submission.approve`, `indicator.update`.
    pub action: String,
    /// e.g. `submission`, `indicator`, `region`.
    pub entity_type: String,
    pub entity_key: String,
    /// The department whose data the entry is about; it may read the entry.
    pub department_id: Option<i32>,
    pub before: Option<Json>,
    pub after: Option<Json>,
    pub request_id: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
