//! A warning that was raised and not cleared yet, so that raising and clearing are events.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tracked_warning")]
pub struct Model {
    /// What identifies the finding: its kind, indicator and region, and for findings about values
    /// (below a floor, a level not kept, a jump) their year.
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    pub indicator_id: i32,
    pub region_id: i32,
    pub kind: String,
    pub severity: String,
    pub message: String,
    pub raised_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
