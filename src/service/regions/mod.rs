//! The administrative tree. Region names and codes are public: every caller reads them. Writing goes
//! through [`write`], the one place a region is checked and saved (mutations, the regions file, the demo).

pub mod write;

use crate::error::{AppError, AppResult};
use crate::vocabulary::{RegionLevel, Residence};
use entity::region;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

/// Filters of the `regions` query.
#[derive(Clone, Debug, Default)]
pub struct RegionFilter {
    pub level: Option<RegionLevel>,
    /// Code of the parent region: its direct children.
    pub parent: Option<String>,
    pub residence: Option<Residence>,
    /// Only regions that existed in this year.
    pub year: Option<i32>,
}

/// The region with this code.
pub async fn find_region(
    db: &impl ConnectionTrait,
    code: &str,
) -> AppResult<Option<region::Model>> {
    Ok(region::Entity::find()
        .filter(region::Column::Code.eq(code))
        .one(db)
        .await?)
}

/// The region with this code; an unknown code is a `BAD_USER_INPUT` error naming `field`.
pub async fn require_region(
    db: &impl ConnectionTrait,
    field: &str,
    code: &str,
) -> AppResult<region::Model> {
    find_region(db, code)
        .await?
        .ok_or_else(|| unknown_region(field, code))
}

/// The error for a region code that names none.
pub fn unknown_region(field: &str, code: &str) -> AppError {
    AppError::invalid(field, code, "a region code (see `regions`)")
}

/// The code of every region, by id.
pub async fn codes_by_id(
    db: &impl ConnectionTrait,
) -> AppResult<std::collections::HashMap<i32, String>> {
    Ok(all_regions(db)
        .await?
        .into_iter()
        .map(|r| (r.id, r.code))
        .collect())
}

/// Every region, in code order.
pub async fn all_regions(db: &impl ConnectionTrait) -> AppResult<Vec<region::Model>> {
    Ok(region::Entity::find()
        .order_by_asc(region::Column::Code)
        .all(db)
        .await?)
}
