//! What the plan wants of an indicator: kind, value, baseline and target year, scope, the natural limit
//! of its assessment and whether the level is to be maintained.

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
    /// The value the indicator cannot pass (a ceiling for rising series, a floor for falling ones) in
    /// this target's assessment; none when nothing bounds it.
    pub natural_limit: Option<f64>,
    /// Why the limit is there, for the analyst re-checking a status.
    pub limit_reason: Option<String>,
    /// The plan asks to reach the level and keep it (达到并保持): every later year below it is a breach.
    pub maintain: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
