//! One value of one indicator for one region, year and disaggregation, in one revision.

use crate::vocabulary::Status;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "observation")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub indicator_id: i32,
    pub region_id: i32,
    pub year: i32,
    pub sex: String,
    pub age_group: String,
    pub residence: String,
    pub value: f64,
    pub numerator: Option<f64>,
    pub denominator: Option<f64>,
    pub status: Status,
    /// 1 for the first value of a key, +1 for every changed value sent later.
    pub revision: i32,
    /// The newest revision of its key, whatever its status.
    pub is_latest: bool,
    /// The approved revision in force: what departments other than the owner read.
    pub is_published: bool,
    pub submission_id: Option<i64>,
    /// Data-quality flag (e.g. `implausible_jump`), set when the value was accepted.
    pub quality_flag: Option<String>,
    pub created_by: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
