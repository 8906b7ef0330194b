//! Releases of restricted tables. Readers without full access to a restricted indicator get each
//! indicator-year table with small counts suppressed; the pattern of every such release is recorded, and a
//! new release (after an approval changed the table) is computed against all earlier ones, so that no
//! hidden count can be worked out by comparing answers over time. Every path that shows suppressed values
//! (queries, exports, reports, events) goes through [`released`], so all of them hide the same cells.

pub mod suppression;

use crate::error::{AppError, AppResult};
use crate::service::Db;
use crate::service::memo::Memo;
use crate::service::retry::{map_write_error, with_retry};
use entity::{disclosure_release, observation, region};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use suppression::{Cell, Release};

/// One table to release: an indicator and a year, and whether its values are counts (else a rate,
/// protected through its numerators).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Table {
    pub indicator_id: i32,
    pub year: i32,
    pub additive: bool,
}

/// One release of a table as readers get it: which published values it covers and which it hides. A
/// value it does not cover (published after it was computed) is hidden too, so a reader racing an
/// approval never sees a cell no release has checked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Released {
    pub published: HashSet<i64>,
    pub hidden: HashSet<i64>,
}

impl Released {
    /// Whether the published value with this id may be shown.
    pub fn shows(&self, id: i64) -> bool {
        self.published.contains(&id) && !self.hidden.contains(&id)
    }
}

/// Releases already read, by (indicator, year), kept for as long as the published data they were read
/// at.
pub type ReleaseMemo = Memo<(i32, i32), Arc<Released>>;

/// The release in force of each table, by (indicator, year): from `memo` when it holds one, else read,
/// or computed and stored when the table's published values changed since its last release. `db` is
/// where the request reads; `writer`, when given, is the primary a new release is computed on and stored
/// in (the request reads a read-only standby).
pub async fn released(
    db: &impl ConnectionTrait,
    writer: Option<&Db>,
    memo: Option<&ReleaseMemo>,
    tables: &[Table],
) -> AppResult<HashMap<(i32, i32), Arc<Released>>> {
    let mut out = HashMap::new();
    let mut missing = Vec::new();
    for table in tables {
        let key = (table.indicator_id, table.year);
        match memo.and_then(|m| m.get(&key)) {
            Some(found) => {
                out.insert(key, found);
            }
            None => missing.push(*table),
        }
    }
    for (key, release) in release_tables(db, writer, &missing).await? {
        let release = Arc::new(Released {
            published: ids(&release.published).collect(),
            hidden: ids(&release.hidden).collect(),
        });
        if let Some(memo) = memo {
            memo.put(key, release.clone());
        }
        out.insert(key, release);
    }
    Ok(out)
}

/// The release in force of each table, releasing each table whose published values changed since its
/// last release.
async fn release_tables(
    db: &impl ConnectionTrait,
    writer: Option<&Db>,
    tables: &[Table],
) -> AppResult<Vec<((i32, i32), disclosure_release::Model)>> {
    if tables.is_empty() {
        return Ok(Vec::new());
    }
    let parents = region_parents(db).await?;
    let mut rows = published_rows(db, tables).await?;
    let mut releases = load_releases(db, tables).await?;
    let mut out = Vec::with_capacity(tables.len());
    for table in tables {
        let key = (table.indicator_id, table.year);
        let rows = rows.remove(&key).unwrap_or_default();
        let cells = cells_of(&rows, &parents, table.additive);
        let fingerprint = fingerprint(&cells, table.additive);
        let history = releases.remove(&key).unwrap_or_default();
        let release = match matching(&history, &fingerprint) {
            Some(found) => found.clone(),
            // Computed where releases are stored, from that server's rows: a standby's may lag behind.
            None => match writer {
                Some(primary) => {
                    let parents = region_parents(primary).await?;
                    let rows = published_rows(primary, std::slice::from_ref(table))
                        .await?
                        .remove(&key)
                        .unwrap_or_default();
                    let cells = cells_of(&rows, &parents, table.additive);
                    let print = self::fingerprint(&cells, table.additive);
                    release_once(primary, *table, &cells, &print, &parents).await?
                }
                None => release_once(db, *table, &cells, &fingerprint, &parents).await?,
            },
        };
        out.push((key, release));
    }
    Ok(out)
}

/// The release of these cells: one recorded earlier, or the next one, computed and stored. A release is
/// computed once however many readers ask: one computation per table at a time in this process, and
/// a concurrent reader elsewhere that stores the same release number first makes this one read again
/// and use theirs (or release after it, when the table changed in between).
async fn release_once(
    db: &impl ConnectionTrait,
    table: Table,
    cells: &[Cell],
    fingerprint: &str,
    parents: &HashMap<i32, Option<i32>>,
) -> AppResult<disclosure_release::Model> {
    let key = (table.indicator_id, table.year);
    let lock = table_lock(key);
    let _computing = lock.lock().await;
    with_retry("release", || async move {
        let history = load_releases(db, std::slice::from_ref(&table))
            .await?
            .remove(&key)
            .unwrap_or_default();
        match matching(&history, fingerprint) {
            Some(found) => Ok(found.clone()),
            None => release(db, table, cells, fingerprint, &history, parents).await,
        }
    })
    .await
}

/// The latest release recorded for exactly these published values. Any of them, not only the last:
/// each was checked against every release before it and every later one against it, so showing it
/// again gives nothing away — and a standby that has not replayed the newest values yet reuses the
/// release of the values it has instead of storing a new one each time it is asked.
fn matching<'a>(
    history: &'a [disclosure_release::Model],
    fingerprint: &str,
) -> Option<&'a disclosure_release::Model> {
    history.iter().rev().find(|r| r.fingerprint == fingerprint)
}

/// The lock a process holds while it computes a table's next release (one per indicator and year: a
/// few hundred at most, kept for the life of the process).
fn table_lock(key: (i32, i32)) -> Arc<tokio::sync::Mutex<()>> {
    type Locks = std::sync::Mutex<HashMap<(i32, i32), Arc<tokio::sync::Mutex<()>>>>;
    static LOCKS: std::sync::LazyLock<Locks> = std::sync::LazyLock::new(Default::default);
    match LOCKS.lock() {
        Ok(mut locks) => locks.entry(key).or_default().clone(),
        // A poisoned map only loses the sharing: compute on its own.
        Err(_) => Arc::default(),
    }
}

/// Computes and stores the next release of `table` after `history`.
async fn release(
    db: &impl ConnectionTrait,
    table: Table,
    cells: &[Cell],
    fingerprint: &str,
    history: &[disclosure_release::Model],
    parents: &HashMap<i32, Option<i32>>,
) -> AppResult<disclosure_release::Model> {
    let earlier = earlier_releases(db, history, parents, table.additive).await?;
    let owned = cells.to_vec();
    let pattern = crate::service::compute::run("suppression", move |cancel| {
        suppression::suppress_after_unless(&earlier, &owned, &|| cancel.is_cancelled())
    })
    .await?
    .ok_or_else(|| AppError::Internal("the suppression was stopped: nobody waits for it".into()))?;
    if !pattern.unprotected.is_empty() {
        // Earlier releases gave these away already; nothing hidden now can take that back.
        tracing::warn!(
            indicator_id = table.indicator_id,
            year = table.year,
            values = ?pattern.unprotected,
            "earlier releases leave hidden counts unprotected"
        );
    }
    let published: Vec<i64> = cells.iter().map(|c| c.value).collect();
    let hidden: Vec<i64> = cells
        .iter()
        .zip(&pattern.hidden)
        .filter(|(_, h)| **h)
        .map(|(c, _)| c.value)
        .collect();
    let model = disclosure_release::ActiveModel {
        indicator_id: Set(table.indicator_id),
        year: Set(table.year),
        seq: Set(history.last().map_or(1, |r| r.seq + 1)),
        fingerprint: Set(fingerprint.to_owned()),
        published: Set(serde_json::json!(published)),
        hidden: Set(serde_json::json!(hidden)),
        created_at: Set(chrono::Utc::now()),
        ..Default::default()
    };
    disclosure_release::Entity::insert(model)
        .exec_with_returning(db)
        .await
        .map_err(map_write_error)
}

/// The earlier releases as the reader got them: each one's cells (their stored values never change) and
/// which were hidden.
async fn earlier_releases(
    db: &impl ConnectionTrait,
    history: &[disclosure_release::Model],
    parents: &HashMap<i32, Option<i32>>,
    additive: bool,
) -> AppResult<Vec<Release>> {
    let wanted: HashSet<i64> = history.iter().flat_map(|r| ids(&r.published)).collect();
    let mut rows: HashMap<i64, observation::Model> = HashMap::new();
    let wanted: Vec<i64> = wanted.into_iter().collect();
    for chunk in wanted.chunks(2000) {
        for row in observation::Entity::find()
            .filter(observation::Column::Id.is_in(chunk.to_vec()))
            .all(db)
            .await?
        {
            rows.insert(row.id, row);
        }
    }
    Ok(history
        .iter()
        .map(|release| {
            let shown: Vec<observation::Model> = ids(&release.published)
                .filter_map(|id| rows.get(&id).cloned())
                .collect();
            let cells = cells_of(&shown, parents, additive);
            let hidden_ids: HashSet<i64> = ids(&release.hidden).collect();
            let hidden = cells
                .iter()
                .map(|c| hidden_ids.contains(&c.value))
                .collect();
            Release { cells, hidden }
        })
        .collect())
}

fn ids(json: &serde_json::Value) -> impl Iterator<Item = i64> + '_ {
    json.as_array()
        .into_iter()
        .flatten()
        .filter_map(serde_json::Value::as_i64)
}

/// The cells of a table in a fixed order (region, sex, age group, residence), whatever order the rows
/// came in, so that the pattern depends on the data only.
fn cells_of(
    rows: &[observation::Model],
    parents: &HashMap<i32, Option<i32>>,
    additive: bool,
) -> Vec<Cell> {
    let mut cells: Vec<Cell> = rows
        .iter()
        .map(|r| Cell {
            value: r.id,
            region: r.region_id,
            parent: parents.get(&r.region_id).copied().flatten(),
            sex: r.sex.clone(),
            age: r.age_group.clone(),
            residence: r.residence.clone(),
            // Rates are protected through the counts they are made of.
            amount: if additive { Some(r.value) } else { r.numerator },
        })
        .collect();
    cells.sort_by(|a, b| {
        (a.region, &a.sex, &a.age, &a.residence).cmp(&(b.region, &b.sex, &b.age, &b.residence))
    });
    cells
}

/// What a release depends on: the published values, the region tree above them, and how amounts are
/// read. Equal fingerprints mean the stored pattern still applies.
fn fingerprint(cells: &[Cell], additive: bool) -> String {
    let mut digest = Sha256::new();
    digest.update([u8::from(additive)]);
    for c in cells {
        digest.update(c.value.to_le_bytes());
        digest.update(c.parent.unwrap_or(-1).to_le_bytes());
    }
    format!("{:x}", digest.finalize())
}

async fn region_parents(db: &impl ConnectionTrait) -> AppResult<HashMap<i32, Option<i32>>> {
    Ok(region::Entity::find()
        .select_only()
        .column(region::Column::Id)
        .column(region::Column::ParentId)
        .into_tuple::<(i32, Option<i32>)>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}

/// The published rows of the tables, by (indicator, year).
async fn published_rows(
    db: &impl ConnectionTrait,
    tables: &[Table],
) -> AppResult<HashMap<(i32, i32), Vec<observation::Model>>> {
    let wanted: HashSet<(i32, i32)> = tables.iter().map(|t| (t.indicator_id, t.year)).collect();
    let rows = observation::Entity::find()
        .filter(observation::Column::IndicatorId.is_in(tables.iter().map(|t| t.indicator_id)))
        .filter(observation::Column::Year.is_in(tables.iter().map(|t| t.year)))
        .filter(crate::service::observations::flag_is_set(
            observation::Column::IsPublished,
        ))
        .all(db)
        .await?;
    let mut out: HashMap<(i32, i32), Vec<observation::Model>> = HashMap::new();
    for row in rows {
        let key = (row.indicator_id, row.year);
        if wanted.contains(&key) {
            out.entry(key).or_default().push(row);
        }
    }
    Ok(out)
}

/// Every release of the tables, oldest first, by (indicator, year).
async fn load_releases(
    db: &impl ConnectionTrait,
    tables: &[Table],
) -> AppResult<BTreeMap<(i32, i32), Vec<disclosure_release::Model>>> {
    let wanted: HashSet<(i32, i32)> = tables.iter().map(|t| (t.indicator_id, t.year)).collect();
    let found = disclosure_release::Entity::find()
        .filter(
            disclosure_release::Column::IndicatorId.is_in(tables.iter().map(|t| t.indicator_id)),
        )
        .filter(disclosure_release::Column::Year.is_in(tables.iter().map(|t| t.year)))
        .order_by_asc(disclosure_release::Column::Seq)
        .all(db)
        .await?;
    let mut out: BTreeMap<(i32, i32), Vec<disclosure_release::Model>> = BTreeMap::new();
    for release in found {
        let key = (release.indicator_id, release.year);
        if wanted.contains(&key) {
            out.entry(key).or_default().push(release);
        }
    }
    Ok(out)
}
