//! What the plan wants of an indicator: kind, value, baseline and target year, scope.

use crate::vocabulary::{TargetKind, TargetScope};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "target")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub indicator_id: i32,
    pub kind: TargetKind,
    /// The threshold; for `reduce_by_percent` the percentage to cut; none for trend kinds.
    pub value: Option<f64>,
    pub baseline_year: i32,
    pub target_year: i32,
    pub scope: TargetScope,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
