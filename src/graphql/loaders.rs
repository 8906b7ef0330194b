//! Per-request DataLoaders: every nested field loads through here, so that a request costs a bounded
//! number of SQL statements however many rows it returns.
//!
//! Reference data (indicators, targets, departments, domains, regions) is small and read whole, at most
//! once per request, so its cost does not depend on how DataLoader happens to split batches. Observations
//! are batched by key. The source carries the caller's identity, so every read goes through the same
//! policy as the root fields.

use crate::auth::{Identity, policy};
use crate::error::AppError;
use crate::service::Db;
use crate::service::observations::{self, Key, ReadScope, Record, SeriesKey};
use crate::service::progress::{self, Assessment, ProgressFilter};
use crate::service::{catalogue, regions};
use async_graphql::dataloader::{DataLoader, Loader};
use entity::{department, domain, indicator, region, target};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::OnceCell;

/// The loader type resolvers find in the request context.
pub type Loaders = DataLoader<Source>;

/// Builds the loaders of one request.
pub fn for_request(db: Db, identity: Identity) -> Loaders {
    let source = Source {
        db,
        identity,
        indicators: OnceCell::new(),
        targets: OnceCell::new(),
        departments: OnceCell::new(),
        domains: OnceCell::new(),
        regions: OnceCell::new(),
        assessments: tokio::sync::Mutex::new(HashMap::new()),
    };
    // Big batches: observation queries use `IN` lists of distinct ids, far below bind limits.
    DataLoader::new(source, tokio::spawn).max_batch_size(10_000)
}

/// The regions of the tree, indexed three ways.
#[derive(Default)]
struct RegionTable {
    by_id: HashMap<i32, region::Model>,
    by_code: HashMap<String, i32>,
    children: HashMap<i32, Vec<i32>>,
}

/// What the loaders read with, and the request's memo of reference data.
pub struct Source {
    db: Db,
    identity: Identity,
    indicators: OnceCell<Arc<Vec<indicator::Model>>>,
    targets: OnceCell<Arc<HashMap<i32, Vec<target::Model>>>>,
    departments: OnceCell<Arc<HashMap<i32, department::Model>>>,
    domains: OnceCell<Arc<HashMap<i32, domain::Model>>>,
    regions: OnceCell<Arc<RegionTable>>,
    /// Assessments made in this request, so that `summary`, `progress` and `earlyWarnings` side by side
    /// assess once.
    assessments: tokio::sync::Mutex<HashMap<ProgressFilter, Arc<Assessment>>>,
}

impl Source {
    async fn indicators(&self) -> Result<Arc<Vec<indicator::Model>>, AppError> {
        self.indicators
            .get_or_try_init(|| async { Ok(Arc::new(catalogue::all_indicators(&self.db).await?)) })
            .await
            .cloned()
    }

    /// The assessment for `filter`, made at most once per request.
    pub async fn assessment(&self, filter: &ProgressFilter) -> Result<Arc<Assessment>, AppError> {
        let mut cache = self.assessments.lock().await;
        if let Some(found) = cache.get(filter) {
            return Ok(found.clone());
        }
        let made = Arc::new(progress::assess(&self.db, &self.identity, filter).await?);
        cache.insert(filter.clone(), made.clone());
        Ok(made)
    }

    async fn scope(&self) -> Result<ReadScope, AppError> {
        Ok(ReadScope::new(
            &self.identity,
            self.indicators().await?.to_vec(),
        ))
    }

    /// Visible indicators matching `pick`, in code order.
    async fn visible_indicators(
        &self,
        pick: impl Fn(&indicator::Model) -> bool,
    ) -> Result<Vec<indicator::Model>, AppError> {
        Ok(self
            .indicators()
            .await?
            .iter()
            .filter(|i| policy::may_see_indicator(&self.identity, i) && pick(i))
            .cloned()
            .collect())
    }

    async fn regions(&self) -> Result<Arc<RegionTable>, AppError> {
        self.regions
            .get_or_try_init(|| async {
                let mut table = RegionTable::default();
                for r in regions::all_regions(&self.db).await? {
                    table.by_code.insert(r.code.clone(), r.id);
                    if let Some(parent) = r.parent_id {
                        table.children.entry(parent).or_default().push(r.id);
                    }
                    table.by_id.insert(r.id, r);
                }
                Ok(Arc::new(table))
            })
            .await
            .cloned()
    }
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
/// The direct children of a region, in code order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ChildrenOf(pub i32);
/// The visible indicators of a domain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IndicatorsOfDomain(pub i32);
/// The visible indicators a department owns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IndicatorsOfDepartment(pub i32);
/// The progress of an indicator's targets in an area (default: the only city) and year.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ProgressOf {
    pub indicator_id: i32,
    pub region: Option<String>,
    pub year: Option<i32>,
}

/// The assessed area, the evaluation year and the indicator's targets.
pub type ProgressValue = (
    region::Model,
    i32,
    Vec<crate::service::progress::TargetProgress>,
);

/// The latest all-totals value of every readable indicator in a region.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LatestIn(pub i32);

/// The source run a value came from (provenance), with its source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SourceRunId(pub i64);

type Loaded<K, V> = Result<HashMap<K, V>, AppError>;

/// Answers keys from a table read whole.
fn pick<K: Clone + Eq + std::hash::Hash, V: Clone>(
    keys: &[K],
    find: impl Fn(&K) -> Option<V>,
) -> HashMap<K, V> {
    keys.iter()
        .filter_map(|k| find(k).map(|v| (k.clone(), v)))
        .collect()
}

impl Loader<SourceRunId> for Source {
    type Value = (entity::source_run::Model, entity::source::Model);
    type Error = AppError;
    async fn load(&self, keys: &[SourceRunId]) -> Loaded<SourceRunId, Self::Value> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let found = crate::service::sources::runs_by_id(&self.db, &ids).await?;
        Ok(found
            .into_iter()
            .map(|(run, source)| (SourceRunId(run.id), (run, source)))
            .collect())
    }
}

impl Loader<IndicatorId> for Source {
    type Value = indicator::Model;
    type Error = AppError;
    async fn load(&self, keys: &[IndicatorId]) -> Loaded<IndicatorId, Self::Value> {
        let visible = self.visible_indicators(|_| true).await?;
        Ok(pick(keys, |k| {
            visible.iter().find(|i| i.id == k.0).cloned()
        }))
    }
}

impl Loader<IndicatorsOfDomain> for Source {
    type Value = Vec<indicator::Model>;
    type Error = AppError;
    async fn load(&self, keys: &[IndicatorsOfDomain]) -> Loaded<IndicatorsOfDomain, Self::Value> {
        let visible = self.visible_indicators(|_| true).await?;
        Ok(pick(keys, |k| {
            Some(
                visible
                    .iter()
                    .filter(|i| i.domain_id == k.0)
                    .cloned()
                    .collect(),
            )
        }))
    }
}

impl Loader<IndicatorsOfDepartment> for Source {
    type Value = Vec<indicator::Model>;
    type Error = AppError;
    async fn load(
        &self,
        keys: &[IndicatorsOfDepartment],
    ) -> Loaded<IndicatorsOfDepartment, Self::Value> {
        let visible = self.visible_indicators(|_| true).await?;
        Ok(pick(keys, |k| {
            Some(
                visible
                    .iter()
                    .filter(|i| i.owner_department_id == k.0)
                    .cloned()
                    .collect(),
            )
        }))
    }
}

impl Loader<TargetsOf> for Source {
    type Value = Vec<target::Model>;
    type Error = AppError;
    async fn load(&self, keys: &[TargetsOf]) -> Loaded<TargetsOf, Self::Value> {
        let all = self
            .targets
            .get_or_try_init(|| async {
                Ok::<_, AppError>(Arc::new(catalogue::all_targets(&self.db).await?))
            })
            .await?;
        Ok(pick(keys, |k| all.get(&k.0).cloned()))
    }
}

impl Loader<DepartmentId> for Source {
    type Value = department::Model;
    type Error = AppError;
    async fn load(&self, keys: &[DepartmentId]) -> Loaded<DepartmentId, Self::Value> {
        let all = self
            .departments
            .get_or_try_init(|| async {
                let list = catalogue::list_departments(&self.db).await?;
                Ok::<_, AppError>(Arc::new(list.into_iter().map(|d| (d.id, d)).collect()))
            })
            .await?;
        Ok(pick(keys, |k| all.get(&k.0).cloned()))
    }
}

impl Loader<DomainId> for Source {
    type Value = domain::Model;
    type Error = AppError;
    async fn load(&self, keys: &[DomainId]) -> Loaded<DomainId, Self::Value> {
        let all = self
            .domains
            .get_or_try_init(|| async {
                let list = catalogue::list_domains(&self.db).await?;
                Ok::<_, AppError>(Arc::new(list.into_iter().map(|d| (d.id, d)).collect()))
            })
            .await?;
        Ok(pick(keys, |k| all.get(&k.0).cloned()))
    }
}

impl Loader<RegionId> for Source {
    type Value = region::Model;
    type Error = AppError;
    async fn load(&self, keys: &[RegionId]) -> Loaded<RegionId, Self::Value> {
        let table = self.regions().await?;
        Ok(pick(keys, |k| table.by_id.get(&k.0).cloned()))
    }
}

impl Loader<RegionCode> for Source {
    type Value = region::Model;
    type Error = AppError;
    async fn load(&self, keys: &[RegionCode]) -> Loaded<RegionCode, Self::Value> {
        let table = self.regions().await?;
        Ok(pick(keys, |k| {
            table
                .by_code
                .get(&k.0)
                .and_then(|id| table.by_id.get(id))
                .cloned()
        }))
    }
}

impl Loader<ChildrenOf> for Source {
    type Value = Vec<region::Model>;
    type Error = AppError;
    async fn load(&self, keys: &[ChildrenOf]) -> Loaded<ChildrenOf, Self::Value> {
        let table = self.regions().await?;
        Ok(pick(keys, |k| {
            let mut children: Vec<region::Model> = table
                .children
                .get(&k.0)
                .into_iter()
                .flatten()
                .filter_map(|id| table.by_id.get(id).cloned())
                .collect();
            children.sort_by(|a, b| a.code.cmp(&b.code));
            Some(children)
        }))
    }
}

impl Loader<SeriesKey> for Source {
    type Value = Vec<Record>;
    type Error = AppError;
    async fn load(&self, keys: &[SeriesKey]) -> Loaded<SeriesKey, Self::Value> {
        observations::load_series(&self.db, &self.scope().await?, keys).await
    }
}

impl Loader<LatestIn> for Source {
    type Value = Vec<Record>;
    type Error = AppError;
    async fn load(&self, keys: &[LatestIn]) -> Loaded<LatestIn, Self::Value> {
        let ids: Vec<i32> = keys.iter().map(|k| k.0).collect();
        let mut found =
            observations::load_latest_by_region(&self.db, &self.scope().await?, &ids).await?;
        Ok(keys
            .iter()
            .filter_map(|k| found.remove(&k.0).map(|v| (*k, v)))
            .collect())
    }
}

impl Loader<ProgressOf> for Source {
    type Value = ProgressValue;
    type Error = AppError;
    async fn load(&self, keys: &[ProgressOf]) -> Loaded<ProgressOf, Self::Value> {
        // One assessment per (area, year) asked for, covering every indicator asked for there.
        let mut groups: HashMap<(Option<String>, Option<i32>), Vec<&ProgressOf>> = HashMap::new();
        for k in keys {
            groups
                .entry((k.region.clone(), k.year))
                .or_default()
                .push(k);
        }
        let indicators = self.indicators().await?;
        let mut out = HashMap::new();
        for ((region, year), group) in groups {
            let codes: Vec<String> = group
                .iter()
                .filter_map(|k| indicators.iter().find(|i| i.id == k.indicator_id))
                .map(|i| i.code.clone())
                .collect();
            let filter = ProgressFilter {
                indicators: Some(codes),
                region,
                year,
                ..Default::default()
            };
            let a = self.assessment(&filter).await?;
            for k in group {
                let mine = a
                    .targets
                    .iter()
                    .filter(|t| t.indicator.id == k.indicator_id)
                    .cloned()
                    .collect();
                out.insert(k.clone(), (a.area.clone(), a.year, mine));
            }
        }
        Ok(out)
    }
}

impl Loader<Key> for Source {
    type Value = Vec<Record>;
    type Error = AppError;
    async fn load(&self, keys: &[Key]) -> Loaded<Key, Self::Value> {
        observations::load_history(&self.db, &self.scope().await?, keys).await
    }
}
