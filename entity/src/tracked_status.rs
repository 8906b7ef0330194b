//! The last status announced for a target in a region, so that a change of status is an event.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tracked_status")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub target_id: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub region_id: i32,
    pub year: i32,
    /// The progress status code, e.g. `ON_TRACK`.
    pub status: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
