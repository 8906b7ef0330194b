//! What a server process keeps between requests: the current [`Reference`] data and the answers derived
//! from published values alone — suppression releases and progress assessments — memoised for as long
//! as that reference is current.
//!
//! Each request asks [`Snapshots::current`], which reads the two versions (one indexed statement) and
//! reuses the snapshot when they are unchanged. An approval or a catalogue change on *any* replica bumps
//! a version in the change's own transaction, so the next request anywhere reads afresh: there is no
//! window in which one replica answers from data another has replaced. Dropping a snapshot drops its
//! memos, so nothing is invalidated piecemeal.

use crate::auth::Identity;
use crate::error::AppResult;
use crate::service::Db;
use crate::service::disclosure::ReleaseMemo;
use crate::service::memo::Memo;
use crate::service::observations::aggregate::{self, Group, Question};
use crate::service::observations::{self, ObservationFilter, ReadScope, Record, ScopeKey, Version};
use crate::service::progress::{self, Assessment, ProgressFilter};
use crate::service::reference::{self, Reference, Versions};
use sea_orm::ConnectionTrait;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use tokio::sync::OnceCell;

/// How many assessments one snapshot keeps (distinct scopes × filters); beyond it the memo starts
/// afresh, so odd filters cannot grow it without bound.
const MAX_ASSESSMENTS: usize = 512;

/// The latest values of some regions, by region: the answer memoised per scope and question.
pub type LatestByRegion = Arc<HashMap<i32, Vec<Record>>>;

/// The question a [`LatestByRegion`] answers: whose scope, which regions (sorted), which indicators.
type LatestQuestion = (ScopeKey, Vec<i32>, Option<Vec<i32>>);

/// One assessment, made once by whoever asks first while the others wait.
type AssessmentCell = Arc<OnceCell<Arc<Assessment>>>;

/// The reference data at one pair of versions, with the answers memoised over it.
#[derive(Debug)]
pub struct Snapshot {
    pub reference: Arc<Reference>,
    releases: Arc<ReleaseMemo>,
    assessments: Mutex<HashMap<(ScopeKey, ProgressFilter), AssessmentCell>>,
    counts: Memo<(ScopeKey, ObservationFilter), u64>,
    latest: Memo<LatestQuestion, LatestByRegion>,
    /// Aggregates of published values, by scope and question (its `Debug` text: filter, keys,
    /// `having`, measures and limit).
    aggregates: Memo<(ScopeKey, String), Arc<Vec<Group>>>,
    /// Where new suppression releases are stored when reads go to standbys (see [`Snapshots::new`]).
    writer: Option<Db>,
}

/// How many aggregate answers one snapshot keeps (each up to `limits.max_page_size` groups).
const MAX_AGGREGATES: usize = 256;

impl Snapshot {
    fn new(reference: Reference, writer: Option<Db>) -> Self {
        Snapshot {
            writer,
            reference: Arc::new(reference),
            releases: Arc::default(),
            assessments: Mutex::default(),
            counts: Memo::default(),
            latest: Memo::default(),
            aggregates: Memo::bounded(MAX_AGGREGATES),
        }
    }

    /// Reads a snapshot afresh without keeping it: for one-off uses (the command line, jobs).
    pub async fn load(db: &impl ConnectionTrait) -> AppResult<Self> {
        Ok(Self::new(Reference::load_current(db).await?, None))
    }

    /// What `identity` may read, over this snapshot.
    pub fn scope(&self, identity: &Identity) -> ReadScope {
        ReadScope::new(
            identity,
            self.reference.clone(),
            Some(self.releases.clone()),
        )
        .writing_to(self.writer.clone())
    }

    /// The answer to an aggregate question, made once per snapshot for each scope and question when
    /// it reads published values (the most expensive read an analyst makes is usually asked again).
    pub async fn aggregate(
        &self,
        db: &impl ConnectionTrait,
        scope: &ReadScope,
        question: &Question<'_>,
    ) -> AppResult<Arc<Vec<Group>>> {
        if question.filter.version != Version::Published {
            return Ok(Arc::new(aggregate::aggregate(db, scope, question).await?));
        }
        let key = (scope.key(), format!("{question:?}"));
        if let Some(found) = self.aggregates.get(&key) {
            return Ok(found);
        }
        let found = Arc::new(aggregate::aggregate(db, scope, question).await?);
        self.aggregates.put(key, found.clone());
        Ok(found)
    }

    /// The assessment of `filter` as `identity` may read it, made once per snapshot for every caller
    /// who reads the same values.
    pub async fn assessment(
        &self,
        db: &impl ConnectionTrait,
        identity: &Identity,
        filter: &ProgressFilter,
    ) -> AppResult<Arc<Assessment>> {
        let scope = self.scope(identity);
        let key = (scope.key(), filter.clone());
        // One cell per key: concurrent askers (`summary`, `progress` and `earlyWarnings` of one request,
        // or many requests) wait for the one assessment, so its warnings are found once too.
        let cell = match self.assessments.lock() {
            Ok(mut memo) => {
                if memo.len() >= MAX_ASSESSMENTS && !memo.contains_key(&key) {
                    memo.clear();
                }
                memo.entry(key).or_default().clone()
            }
            Err(_) => Arc::default(),
        };
        cell.get_or_try_init(|| async { Ok(Arc::new(progress::assess(db, scope, filter).await?)) })
            .await
            .cloned()
    }
}

impl Snapshot {
    /// How many values match `filter` in `scope`; counts of published values are made once per
    /// snapshot (a `totalCount` over a million rows is the most expensive part of a page).
    pub async fn count(
        &self,
        db: &impl ConnectionTrait,
        scope: &ReadScope,
        filter: &ObservationFilter,
    ) -> AppResult<u64> {
        if filter.version != Version::Published {
            // Unapproved revisions change without a new snapshot: always counted.
            return observations::count_matching(db, scope, filter).await;
        }
        let key = (scope.key(), filter.clone());
        if let Some(n) = self.counts.get(&key) {
            return Ok(n);
        }
        let n = observations::count_matching(db, scope, filter).await?;
        self.counts.put(key, n);
        Ok(n)
    }

    /// The latest published all-totals values of `regions` (of `indicators`, or of every indicator
    /// the scope reads), made once per snapshot for each scope and question.
    pub async fn latest_by_region(
        &self,
        db: &impl ConnectionTrait,
        scope: &ReadScope,
        regions: &[i32],
        indicators: Option<&[i32]>,
    ) -> AppResult<LatestByRegion> {
        let mut sorted = regions.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        let key = (scope.key(), sorted, indicators.map(<[i32]>::to_vec));
        if let Some(found) = self.latest.get(&key) {
            return Ok(found);
        }
        let found =
            Arc::new(observations::load_latest_by_region(db, scope, regions, indicators).await?);
        self.latest.put(key, found.clone());
        Ok(found)
    }
}

/// How many snapshots a process keeps: the primary's and those of standbys a little behind it, so
/// that requests routed to servers at different versions do not read the reference data afresh in
/// turn.
const KEPT: usize = 3;

/// The process's recent snapshots, newest first. Cheap to clone: clones share them.
#[derive(Clone, Default)]
pub struct Snapshots {
    kept: Arc<RwLock<Vec<Arc<Snapshot>>>>,
    /// Held while reading a new snapshot, so that a burst of requests after a change reads it once.
    reloading: Arc<tokio::sync::Mutex<()>>,
    writer: Option<Db>,
}

impl Snapshots {
    /// Snapshots whose new suppression releases are stored on `writer` when given: the primary, in a
    /// process whose reads may go to read-only standbys.
    pub fn new(writer: Option<Db>) -> Self {
        Snapshots {
            writer,
            ..Default::default()
        }
    }

    /// The snapshot at the versions `db` holds now, read afresh when no kept one is at them. Each
    /// server's answer is its own: a standby a little behind gets the snapshot of what it has replayed,
    /// never one newer (whose memos would cover rows it does not have) — and a caller routed by a
    /// consistency token reaches only a standby whose versions include its write.
    pub async fn current(&self, db: &impl ConnectionTrait) -> AppResult<Arc<Snapshot>> {
        let versions = reference::versions(db).await?;
        if let Some(found) = self.at(versions) {
            return Ok(found);
        }
        let _reading = self.reloading.lock().await;
        if let Some(found) = self.at(versions) {
            return Ok(found);
        }
        let fresh = Arc::new(Snapshot::new(
            Reference::load(db, versions).await?,
            self.writer.clone(),
        ));
        if let Ok(mut kept) = self.kept.write() {
            // Newest first; the oldest goes when more than `KEPT` are held.
            let at = kept
                .iter()
                .position(|s| !newer(s.reference.versions, versions))
                .unwrap_or(kept.len());
            kept.insert(at, fresh.clone());
            kept.truncate(KEPT);
        }
        Ok(fresh)
    }

    fn at(&self, versions: Versions) -> Option<Arc<Snapshot>> {
        let kept = self.kept.read().ok()?;
        kept.iter()
            .find(|s| s.reference.versions == versions)
            .cloned()
    }
}

fn newer(a: Versions, b: Versions) -> bool {
    a.catalogue >= b.catalogue && a.data >= b.data && a != b
}
