//! A measured quantity of the plan, with its unit, owner department and sensitivity.

use crate::vocabulary::{Sensitivity, Unit};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "indicator")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// Stable code such as `HEA-03`.
    #[sea_orm(unique)]
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub domain_id: i32,
    pub unit: Unit,
    pub owner_department_id: i32,
    pub sensitivity: Sensitivity,
    /// Decimals to show values with.
    pub decimals: i32,
    /// Where in the plan the indicator's target stands, e.g. `（一）主要目标3`.
    pub plan_clause: String,
    /// Whether values are broken down by sex, age group and urban/rural residence.
    pub by_sex: bool,
    pub by_age: bool,
    pub by_residence: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
