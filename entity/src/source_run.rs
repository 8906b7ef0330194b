//! One pull of a source: when, how it went, what it fetched, wrote and rejected.

use crate::vocabulary::RunStatus;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "source_run")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub source_id: i64,
    /// `schedule`, `manual` (GraphQL or the command line) or `test` (a dry run).
    pub trigger: String,
    pub status: RunStatus,
    pub started_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
    /// The HTTP status of the last request, for HTTP sources.
    pub http_status: Option<i32>,
    /// Why the run failed, in words an IT person can act on (never a credential).
    pub error: Option<String>,
    pub rows_fetched: i32,
    pub rows_written: i32,
    pub rows_unchanged: i32,
    pub rows_rejected: i32,
    /// The submission the valid rows landed in.
    pub submission_id: Option<i64>,
    /// The first rejected rows, each with the source's own reference (page and row, line, …), the
    /// field and the reason.
    pub rejects: Json,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
