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
    /// The source run the value was pulled in (none for values sent by hand).
    pub source_run_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

/// One series: an indicator in a region for one disaggregation, over the years.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SeriesKey {
    pub indicator_id: i32,
    pub region_id: i32,
    pub sex: String,
    pub age_group: String,
    pub residence: String,
}

impl SeriesKey {
    /// The all-totals series of an indicator in a region.
    pub fn totals(indicator_id: i32, region_id: i32) -> Self {
        SeriesKey {
            indicator_id,
            region_id,
            sex: crate::vocabulary::TOTAL.into(),
            age_group: crate::vocabulary::TOTAL.into(),
            residence: crate::vocabulary::TOTAL.into(),
        }
    }
}

/// The natural key of a value: its series and year. Every revision of a value shares it; the store, the
/// validator, the readers and the loaders all use this one type.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub series: SeriesKey,
    pub year: i32,
}

impl Key {
    /// The same series one year earlier.
    pub fn year_before(&self) -> Key {
        Key {
            series: self.series.clone(),
            year: self.year - 1,
        }
    }
}

impl Model {
    /// The series this value belongs to.
    pub fn series(&self) -> SeriesKey {
        SeriesKey {
            indicator_id: self.indicator_id,
            region_id: self.region_id,
            sex: self.sex.clone(),
            age_group: self.age_group.clone(),
            residence: self.residence.clone(),
        }
    }

    /// The natural key of this value.
    pub fn key(&self) -> Key {
        Key {
            series: self.series(),
            year: self.year,
        }
    }
}

impl ActiveModelBehavior for ActiveModel {}
