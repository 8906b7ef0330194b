//! A node of the administrative tree: city → township/street → village/community.

use crate::vocabulary::{RegionLevel, Residence};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "region")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub level: RegionLevel,
    /// Urban, rural, or both (the city itself).
    pub residence: Residence,
    pub parent_id: Option<i32>,
    /// First and last year the region existed; a township merged in 2024 has `valid_to = 2023`.
    pub valid_from: Option<i32>,
    pub valid_to: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
