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
    /// Where the values came from: `file health-2026.xlsx (xlsx, template)`, `api`, `source run 12`.
    pub origin: Option<String>,
    /// The cell each value was read from, by its key: indicator id, region id, year and breakdown codes
    /// (`6|2|2026|_T|_T|_T` → `填报!D5`; `service::submissions::submit::cell_key`).
    pub cells: Option<Json>,
    /// The quality warnings found before submitting, which the submitter confirmed.
    pub warnings: Option<Json>,
    /// The reviewer's comments on rows of a rejected submission, by the same key as `cells`.
    pub comments: Option<Json>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
