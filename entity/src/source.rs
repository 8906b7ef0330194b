//! A department's system the hub pulls indicator values from, on a schedule.

use crate::vocabulary::{SourceKind, SourceStatus};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "source")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub name: String,
    /// The department whose values it carries (they land as its submissions).
    pub department_id: i32,
    pub kind: SourceKind,
    /// Where and how to fetch, and the mapping onto the catalogue (credentials only by the names of the
    /// environment variables holding them).
    pub config: Json,
    /// An interval (`6h`) or a cron expression (`0 3 * * *`).
    pub schedule: String,
    pub status: SourceStatus,
    /// Land nothing when any row is bad (otherwise the valid rows land and the bad ones are reported).
    pub all_or_nothing: bool,
    /// `settings` (defined in the settings file) or `api` (created through GraphQL).
    pub origin: String,
    /// Validators of the last successful HTTP fetch, for conditional requests.
    pub http_etag: Option<String>,
    pub http_last_modified: Option<String>,
    /// When runs started failing (cleared by a successful run).
    pub failing_since: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
