//! Per-request DataLoaders for what is read from the database: observations (series, latest values,
//! history, a submission's values), progress assessments and provenance. Every nested field loads
//! through here, so that a request costs a bounded number of SQL statements however many rows it
//! returns. Reference data (departments, indicators, regions…) needs no loader: resolvers read it from
//! the request's [`Snapshot`] in memory.
//!
//! The source carries the caller's scope, so every read goes through the same policy as the root fields.

use crate::auth::Identity;
use crate::error::AppError;
use crate::service::Db;
use crate::service::observations::{self, Key, ReadScope, Record, SeriesKey};
use crate::service::progress::{Assessment, ProgressFilter};
use crate::service::snapshot::Snapshot;
use async_graphql::dataloader::{DataLoader, Loader};
use entity::region;
use std::collections::HashMap;
use std::sync::Arc;

/// The loader type resolvers find in the request context.
pub type Loaders = DataLoader<RequestData>;

/// Builds the loaders of one request, over the snapshot the request was authenticated with.
pub fn for_request(db: Db, identity: Identity, snapshot: Arc<Snapshot>) -> Loaders {
    let data = RequestData {
        db,
        scope: snapshot.scope(&identity),
        identity,
        snapshot,
    };
    // Big batches: observation queries use `IN` lists of distinct ids, far below bind limits.
    DataLoader::new(data, tokio::spawn).max_batch_size(10_000)
}

/// What the loaders read with: the request's connection, caller, scope and snapshot.
pub struct RequestData {
    db: Db,
    identity: Identity,
    snapshot: Arc<Snapshot>,
    scope: ReadScope,
}

impl RequestData {
    /// The assessment for `filter`, shared by every request over the same snapshot that reads the
    /// same values.
    pub async fn assessment(&self, filter: &ProgressFilter) -> Result<Arc<Assessment>, AppError> {
        self.snapshot
            .assessment(&self.db, &self.identity, filter)
            .await
    }

    /// The snapshot the request reads.
    pub fn snapshot(&self) -> &Arc<Snapshot> {
        &self.snapshot
    }

    /// What the caller may read.
    pub fn scope(&self) -> &ReadScope {
        &self.scope
    }
}

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

/// The latest all-totals value of every readable indicator in a region, or of the given indicator ids.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LatestIn {
    pub region_id: i32,
    pub indicators: Option<Vec<i32>>,
}

/// The values a submission carries, at most `limit` of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SubmissionValues {
    pub submission_id: i64,
    pub limit: usize,
}

/// The source run a value came from (provenance), with its source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SourceRunId(pub i64);

type Loaded<K, V> = Result<HashMap<K, V>, AppError>;

impl Loader<SourceRunId> for RequestData {
    type Value = (entity::source_run::Model, entity::source::Model);
    type Error = AppError;
    #[tracing::instrument(name = "load source runs", skip_all, fields(keys = keys.len()))]
    async fn load(&self, keys: &[SourceRunId]) -> Loaded<SourceRunId, Self::Value> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let found = crate::sources::runs_by_id(&self.db, &ids).await?;
        Ok(found
            .into_iter()
            .map(|(run, source)| (SourceRunId(run.id), (run, source)))
            .collect())
    }
}

/// A submission by id, as the caller may see it (a revision's provenance).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SubmissionId(pub i64);

impl Loader<SubmissionId> for RequestData {
    type Value = entity::submission::Model;
    type Error = AppError;
    #[tracing::instrument(name = "load submissions", skip_all, fields(keys = keys.len()))]
    async fn load(&self, keys: &[SubmissionId]) -> Loaded<SubmissionId, Self::Value> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let found =
            crate::service::submissions::find_submissions(&self.db, &self.identity, &ids).await?;
        Ok(found.into_iter().map(|s| (SubmissionId(s.id), s)).collect())
    }
}

/// What one submission covers (its indicators, regions, years).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CoverageOf(pub i64);

impl Loader<CoverageOf> for RequestData {
    type Value = crate::service::submissions::Coverage;
    type Error = AppError;
    #[tracing::instrument(name = "load submission coverage", skip_all, fields(keys = keys.len()))]
    async fn load(&self, keys: &[CoverageOf]) -> Loaded<CoverageOf, Self::Value> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let found = crate::service::submissions::coverage_of(&self.db, &ids).await?;
        Ok(found
            .into_iter()
            .map(|(id, c)| (CoverageOf(id), c))
            .collect())
    }
}

/// The published value of a key (what a pending value would replace; last year's approved one).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PublishedAt(pub Key);

impl Loader<PublishedAt> for RequestData {
    type Value = Record;
    type Error = AppError;
    #[tracing::instrument(name = "load published values", skip_all, fields(keys = keys.len()))]
    async fn load(&self, keys: &[PublishedAt]) -> Loaded<PublishedAt, Self::Value> {
        let wanted: Vec<Key> = keys.iter().map(|k| k.0.clone()).collect();
        let found = observations::published_of(&self.db, &self.scope, &wanted).await?;
        Ok(found
            .into_iter()
            .map(|(k, r)| (PublishedAt(k), r))
            .collect())
    }
}

impl Loader<SeriesKey> for RequestData {
    type Value = Vec<Record>;
    type Error = AppError;
    #[tracing::instrument(name = "load series", skip_all, fields(keys = keys.len()))]
    async fn load(&self, keys: &[SeriesKey]) -> Loaded<SeriesKey, Self::Value> {
        observations::load_series(&self.db, &self.scope, keys).await
    }
}

impl Loader<LatestIn> for RequestData {
    type Value = Vec<Record>;
    type Error = AppError;
    #[tracing::instrument(name = "load latest values", skip_all, fields(keys = keys.len()))]
    async fn load(&self, keys: &[LatestIn]) -> Loaded<LatestIn, Self::Value> {
        // One query per distinct indicator list: in practice one for the whole request.
        let mut groups: HashMap<&Option<Vec<i32>>, Vec<i32>> = HashMap::new();
        for k in keys {
            groups.entry(&k.indicators).or_default().push(k.region_id);
        }
        let mut out = HashMap::new();
        for (indicators, regions) in groups {
            let found = self
                .snapshot
                .latest_by_region(&self.db, &self.scope, &regions, indicators.as_deref())
                .await?;
            for region_id in regions {
                let key = LatestIn {
                    region_id,
                    indicators: indicators.clone(),
                };
                out.insert(key, found.get(&region_id).cloned().unwrap_or_default());
            }
        }
        Ok(out)
    }
}

impl Loader<SubmissionValues> for RequestData {
    type Value = Vec<Record>;
    type Error = AppError;
    #[tracing::instrument(name = "load submission values", skip_all, fields(keys = keys.len()))]
    async fn load(&self, keys: &[SubmissionValues]) -> Loaded<SubmissionValues, Self::Value> {
        let mut groups: HashMap<usize, Vec<i64>> = HashMap::new();
        for k in keys {
            groups.entry(k.limit).or_default().push(k.submission_id);
        }
        let mut out = HashMap::new();
        for (limit, ids) in groups {
            let mut found = crate::service::submissions::submission_observations(
                &self.db,
                &self.scope,
                &self.identity,
                &ids,
                limit,
            )
            .await?;
            for submission_id in ids {
                let key = SubmissionValues {
                    submission_id,
                    limit,
                };
                out.insert(key, found.remove(&submission_id).unwrap_or_default());
            }
        }
        Ok(out)
    }
}

impl Loader<ProgressOf> for RequestData {
    type Value = ProgressValue;
    type Error = AppError;
    #[tracing::instrument(name = "load progress", skip_all, fields(keys = keys.len()))]
    async fn load(&self, keys: &[ProgressOf]) -> Loaded<ProgressOf, Self::Value> {
        // The whole assessment of each (area, year) asked for: the same one `progress` and `summary`
        // use, so that all of them share one memoised assessment.
        let mut out = HashMap::new();
        for k in keys {
            let filter = ProgressFilter {
                region: k.region.clone(),
                year: k.year,
                ..Default::default()
            };
            let a = self.assessment(&filter).await?;
            let mine = a
                .targets
                .iter()
                .filter(|t| t.indicator.id == k.indicator_id)
                .cloned()
                .collect();
            out.insert(k.clone(), (a.area.clone(), a.year, mine));
        }
        Ok(out)
    }
}

impl Loader<Key> for RequestData {
    type Value = Vec<Record>;
    type Error = AppError;
    #[tracing::instrument(name = "load history", skip_all, fields(keys = keys.len()))]
    async fn load(&self, keys: &[Key]) -> Loaded<Key, Self::Value> {
        observations::load_history(&self.db, &self.scope, keys).await
    }
}
