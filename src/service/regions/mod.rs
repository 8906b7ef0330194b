//! The administrative tree. Region names and codes are public: every caller reads them. Writing goes
//! through [`write`], the one place a region is checked and saved (mutations, the regions file, the demo).

pub mod write;

use crate::error::{AppError, AppResult};
use crate::vocabulary::{RegionLevel, Residence};
use entity::region;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

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

/// Regions matching the filter, in code order. An unknown parent code is an error naming it.
pub async fn list_regions(
    db: &impl ConnectionTrait,
    filter: &RegionFilter,
) -> AppResult<Vec<region::Model>> {
    let mut query = region::Entity::find().order_by_asc(region::Column::Code);
    if let Some(level) = filter.level {
        query = query.filter(region::Column::Level.eq(level.as_str()));
    }
    if let Some(code) = &filter.parent {
        let parent = require_region(db, "filter.parent", code).await?;
        query = query.filter(region::Column::ParentId.eq(parent.id));
    }
    if let Some(residence) = filter.residence {
        query = query.filter(region::Column::Residence.eq(residence));
    }
    if let Some(year) = filter.year {
        query = query.filter(valid_in(year));
    }
    Ok(query.all(db).await?)
}

/// The condition "the region existed in `year`".
pub fn valid_in(year: i32) -> Condition {
    Condition::all()
        .add(
            Condition::any()
                .add(region::Column::ValidFrom.is_null())
                .add(region::Column::ValidFrom.lte(year)),
        )
        .add(
            Condition::any()
                .add(region::Column::ValidTo.is_null())
                .add(region::Column::ValidTo.gte(year)),
        )
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
        .ok_or_else(|| AppError::invalid(field, code, "a region code (see `regions`)"))
}

/// Regions with these codes; the first unknown code is an error naming it and `field`.
pub async fn resolve_region_codes(
    db: &impl ConnectionTrait,
    field: &str,
    codes: &[String],
) -> AppResult<Vec<region::Model>> {
    let found = region::Entity::find()
        .filter(region::Column::Code.is_in(codes.iter().cloned()))
        .all(db)
        .await?;
    if let Some(missing) = codes.iter().find(|c| !found.iter().any(|r| r.code == **c)) {
        return Err(AppError::invalid(
            field,
            missing,
            "a region code (see `regions`)",
        ));
    }
    Ok(found)
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
