//! Per-request DataLoaders: every nested field loads through here, so that a request costs a bounded
//! number of SQL statements however many rows it returns. One loader source serves every key type; the
//! key's newtype says what is loaded. The source carries the caller's identity, so batched reads go
//! through the same policy as root fields.

use crate::auth::Identity;
use crate::error::AppError;
use crate::service::observations::{self, Record, SeriesKey};
use crate::service::{catalogue, regions};
use async_graphql::dataloader::{DataLoader, Loader};
use entity::{department, domain, indicator, region, target};
use sea_orm::DatabaseConnection;
use std::collections::HashMap;

/// The loader type resolvers find in the request context.
pub type Loaders = DataLoader<Source>;

/// Builds the loaders of one request.
pub fn for_request(db: DatabaseConnection, identity: Identity) -> Loaders {
    // Big batches: the SQL uses `IN` lists of distinct ids, which stay far below bind limits.
    DataLoader::new(Source { db, identity }, tokio::spawn).max_batch_size(10_000)
}

/// What the loaders read with.
pub struct Source {
    db: DatabaseConnection,
    identity: Identity,
}

/// An indicator by id (absent when the caller may not see it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IndicatorId(pub i32);
/// A department by id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DepartmentId(pub i32);
/// A domain by id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DomainId(pub i32);
/// A region by id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RegionId(pub i32);
/// A region by code.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RegionCode(pub String);
/// The targets of an indicator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TargetsOf(pub i32);
/// The direct children of a region.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ChildrenOf(pub i32);
/// The visible indicators of a domain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IndicatorsOfDomain(pub i32);
/// The visible indicators a department owns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IndicatorsOfDepartment(pub i32);
/// The latest all-totals value of every readable indicator in a region.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LatestIn(pub i32);

fn ids<K: Copy>(keys: &[K], f: impl Fn(K) -> i32) -> Vec<i32> {
    keys.iter().map(|k| f(*k)).collect()
}

fn rekey<K: Copy + Eq + std::hash::Hash, V>(
    keys: &[K],
    f: impl Fn(K) -> i32,
    mut values: HashMap<i32, V>,
) -> HashMap<K, V> {
    keys.iter()
        .filter_map(|k| values.remove(&f(*k)).map(|v| (*k, v)))
        .collect()
}

impl Loader<IndicatorId> for Source {
    type Value = indicator::Model;
    type Error = AppError;
    async fn load(&self, keys: &[IndicatorId]) -> Result<HashMap<IndicatorId, Self::Value>, AppError> {
        let found = catalogue::load_indicators(&self.db, &self.identity, &ids(keys, |k| k.0)).await?;
        Ok(rekey(keys, |k| k.0, found))
    }
}

impl Loader<DepartmentId> for Source {
    type Value = department::Model;
    type Error = AppError;
    async fn load(&self, keys: &[DepartmentId]) -> Result<HashMap<DepartmentId, Self::Value>, AppError> {
        let found = catalogue::load_departments(&self.db, &ids(keys, |k| k.0)).await?;
        Ok(rekey(keys, |k| k.0, found))
    }
}

impl Loader<DomainId> for Source {
    type Value = domain::Model;
    type Error = AppError;
    async fn load(&self, keys: &[DomainId]) -> Result<HashMap<DomainId, Self::Value>, AppError> {
        let found = catalogue::load_domains(&self.db, &ids(keys, |k| k.0)).await?;
        Ok(rekey(keys, |k| k.0, found))
    }
}

impl Loader<RegionId> for Source {
    type Value = region::Model;
    type Error = AppError;
    async fn load(&self, keys: &[RegionId]) -> Result<HashMap<RegionId, Self::Value>, AppError> {
        let found = regions::load_regions(&self.db, &ids(keys, |k| k.0)).await?;
        Ok(rekey(keys, |k| k.0, found))
    }
}

impl Loader<RegionCode> for Source {
    type Value = region::Model;
    type Error = AppError;
    async fn load(&self, keys: &[RegionCode]) -> Result<HashMap<RegionCode, Self::Value>, AppError> {
        let codes: Vec<String> = keys.iter().map(|k| k.0.clone()).collect();
        let found = regions::find_regions_by_code(&self.db, &codes).await?;
        Ok(found.into_iter().map(|r| (RegionCode(r.code.clone()), r)).collect())
    }
}

impl Loader<TargetsOf> for Source {
    type Value = Vec<target::Model>;
    type Error = AppError;
    async fn load(&self, keys: &[TargetsOf]) -> Result<HashMap<TargetsOf, Self::Value>, AppError> {
        let found = catalogue::load_targets(&self.db, &ids(keys, |k| k.0)).await?;
        Ok(rekey(keys, |k| k.0, found))
    }
}

impl Loader<ChildrenOf> for Source {
    type Value = Vec<region::Model>;
    type Error = AppError;
    async fn load(&self, keys: &[ChildrenOf]) -> Result<HashMap<ChildrenOf, Self::Value>, AppError> {
        let found = regions::load_children(&self.db, &ids(keys, |k| k.0)).await?;
        Ok(rekey(keys, |k| k.0, found))
    }
}

impl Loader<IndicatorsOfDomain> for Source {
    type Value = Vec<indicator::Model>;
    type Error = AppError;
    async fn load(
        &self,
        keys: &[IndicatorsOfDomain],
    ) -> Result<HashMap<IndicatorsOfDomain, Self::Value>, AppError> {
        let found =
            catalogue::load_indicators_by_group(&self.db, &self.identity, &ids(keys, |k| k.0), true)
                .await?;
        Ok(rekey(keys, |k| k.0, found))
    }
}

impl Loader<IndicatorsOfDepartment> for Source {
    type Value = Vec<indicator::Model>;
    type Error = AppError;
    async fn load(
        &self,
        keys: &[IndicatorsOfDepartment],
    ) -> Result<HashMap<IndicatorsOfDepartment, Self::Value>, AppError> {
        let found =
            catalogue::load_indicators_by_group(&self.db, &self.identity, &ids(keys, |k| k.0), false)
                .await?;
        Ok(rekey(keys, |k| k.0, found))
    }
}

impl Loader<SeriesKey> for Source {
    type Value = Vec<Record>;
    type Error = AppError;
    async fn load(&self, keys: &[SeriesKey]) -> Result<HashMap<SeriesKey, Self::Value>, AppError> {
        observations::load_series(&self.db, &self.identity, keys).await
    }
}

impl Loader<LatestIn> for Source {
    type Value = Vec<Record>;
    type Error = AppError;
    async fn load(&self, keys: &[LatestIn]) -> Result<HashMap<LatestIn, Self::Value>, AppError> {
        let found =
            observations::load_latest_by_region(&self.db, &self.identity, &ids(keys, |k| k.0)).await?;
        Ok(rekey(keys, |k| k.0, found))
    }
}
