//! One release of a restricted table (one indicator, one year) to readers who get it suppressed: which
//! stored values it showed and which it hid. Later releases are protected against every earlier one, so a
//! reader who kept old answers cannot work out hidden counts by differencing.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "disclosure_release")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub indicator_id: i32,
    pub year: i32,
    /// 1 for the first release of the table, +1 for each later one.
    pub seq: i32,
    /// A digest of the published values and region tree the pattern was computed on.
    pub fingerprint: String,
    /// Observation ids of the published values, as a JSON array.
    pub published: Json,
    /// Observation ids of the values hidden from readers, as a JSON array.
    pub hidden: Json,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
