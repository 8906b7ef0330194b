//! A batch of observations sent by one department in one request; approved or rejected as a whole.

use crate::vocabulary::Status;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "submission")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub department_id: i32,
    pub submitted_by: String,
    pub status: Status,
    pub rows_total: i32,
    pub rows_written: i32,
    pub rows_unchanged: i32,
    pub request_id: Option<String>,
    pub created_at: DateTimeUtc,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTimeUtc>,
    pub reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
