//! Code lists of the disaggregation dimensions (sex, age group, residence), totals included as `_T`.

use crate::vocabulary::Dimension;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "dimension_code")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub dimension: Dimension,
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub position: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
