//! Reading observations through the policy: which indicators and versions a caller may read, keyset
//! pages for the `observations` connection, batched series and latest values for DataLoaders, and the
//! small-cell suppression of restricted data.

use crate::auth::Identity;
use crate::auth::policy::{self, DataAccess};
use crate::error::{AppError, AppResult};
use crate::service::disclosure::{self, ReleaseMemo};
use crate::service::reference::Reference;
use crate::vocabulary::{Dimension, RegionLevel, TOTAL, Unit, is_code};
use base64::Engine;
use entity::{indicator, observation, region};
use sea_orm::sea_query::{
    Alias, Asterisk, Expr, ExprTrait, Order, OverStatement, Query, WindowStatement,
};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait,
};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

pub mod aggregate;
pub mod order;

/// Which revision of each value to read.
#[derive(async_graphql::Enum, Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
#[graphql(name = "ObservationVersion")]
pub enum Version {
    /// The approved value in force (what every department reads).
    #[default]
    Published,
    /// The newest revision, pending or rejected included, for indicators the caller may read unapproved
    /// (owner department, coordinators); the published value elsewhere.
    Latest,
}

/// Filters of the `observations` query.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ObservationFilter {
    pub indicators: Option<Vec<String>>,
    pub regions: Option<Vec<String>>,
    pub region_level: Option<RegionLevel>,
    pub year_from: Option<i32>,
    pub year_to: Option<i32>,
    pub sex: Option<String>,
    pub age_group: Option<String>,
    pub residence: Option<String>,
    pub version: Version,
}

/// An observation as the caller may see it.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    pub model: observation::Model,
    /// The value is hidden by small-cell suppression.
    pub suppressed: bool,
    /// Numerator and denominator are hidden (restricted data read by a non-owner).
    pub counts_hidden: bool,
}

impl Record {
    /// The value, unless suppressed.
    pub fn value(&self) -> Option<f64> {
        (!self.suppressed).then_some(self.model.value)
    }

    /// The numerator, unless hidden.
    pub fn numerator(&self) -> Option<f64> {
        if self.suppressed || self.counts_hidden {
            None
        } else {
            self.model.numerator
        }
    }

    /// The denominator, unless hidden.
    pub fn denominator(&self) -> Option<f64> {
        if self.suppressed || self.counts_hidden {
            None
        } else {
            self.model.denominator
        }
    }
}

/// The condition that a row's `flag` (`IsPublished`, `IsLatest`) is set, written as the bare column
/// (`WHERE "observation"."is_published"`) rather than compared with a bound `true`: PostgreSQL's generic
/// plan for a prepared `is_published = $2` cannot prove the predicate of the partial indexes
/// `… WHERE is_published`, and after five executions of a statement it may switch to that plan.
pub fn flag_is_set(flag: observation::Column) -> sea_orm::sea_query::Expr {
    sea_orm::sea_query::Expr::col((observation::Entity, flag))
}

/// The indicators a caller may read and how, over one copy of the reference data.
#[derive(Clone, Debug)]
pub struct ReadScope {
    pub indicators: HashMap<i32, (indicator::Model, DataAccess)>,
    pub city_level_only: bool,
    /// The reference data the scope was made from (regions, targets).
    pub reference: Arc<Reference>,
    /// Releases of restricted tables already read at this reference's data version.
    releases: Option<Arc<ReleaseMemo>>,
    /// Where a release that must be computed is stored when reads go to a read-only standby: the
    /// primary (none: where the scope reads).
    writer: Option<crate::service::Db>,
}

impl ReadScope {
    /// The scope of `identity` over `reference`; `releases` memoises suppression patterns for as long
    /// as the published data is the reference's.
    pub fn new(
        identity: &Identity,
        reference: Arc<Reference>,
        releases: Option<Arc<ReleaseMemo>>,
    ) -> Self {
        let indicators = reference
            .all_indicators()
            .iter()
            .filter_map(|i| policy::data_access(identity, i).map(|a| (i.id, (i.clone(), a))))
            .collect();
        ReadScope {
            indicators,
            city_level_only: policy::city_level_only(identity),
            reference,
            releases,
            writer: None,
        }
    }

    /// The same scope, storing new releases on `writer` (the primary) when it is given.
    pub fn writing_to(mut self, writer: Option<crate::service::Db>) -> Self {
        self.writer = writer;
        self
    }

    /// Reads the reference data afresh and builds the scope of `identity`: for one-off uses (the
    /// command line, jobs); requests take theirs from the process's snapshot.
    pub async fn load(db: &impl ConnectionTrait, identity: &Identity) -> AppResult<Self> {
        let reference = Reference::load_current(db).await?;
        Ok(Self::new(identity, Arc::new(reference), None))
    }

    /// What identifies the scope's reach: two scopes with equal keys read exactly the same values.
    pub fn key(&self) -> ScopeKey {
        let mut access: Vec<(i32, DataAccess)> = self
            .indicators
            .iter()
            .map(|(id, (_, a))| (*id, *a))
            .collect();
        access.sort_unstable_by_key(|(id, _)| *id);
        ScopeKey {
            access,
            city_level_only: self.city_level_only,
        }
    }

    /// The indicator with this code if the caller may read its values.
    pub fn by_code(&self, code: &str) -> Option<&indicator::Model> {
        self.indicators
            .values()
            .map(|(i, _)| i)
            .find(|i| i.code == code)
    }

    /// The condition on `observation` rows that this scope lets through, for `version`, restricted to
    /// `indicator_ids` when given.
    pub fn condition(&self, version: Version, indicator_ids: Option<&[i32]>) -> Condition {
        let wanted = |id: &i32| indicator_ids.is_none_or(|ids| ids.contains(id));
        let mut published: Vec<i32> = Vec::new();
        let mut latest: Vec<i32> = Vec::new();
        for (id, (_, access)) in &self.indicators {
            if !wanted(id) {
                continue;
            }
            match (version, access) {
                (Version::Latest, DataAccess::Full { unapproved: true }) => latest.push(*id),
                _ => published.push(*id),
            }
        }
        published.sort_unstable();
        latest.sort_unstable();
        let mut any = Condition::any();
        if !published.is_empty() {
            any = any.add(
                Condition::all()
                    .add(observation::Column::IndicatorId.is_in(published))
                    .add(flag_is_set(observation::Column::IsPublished)),
            );
        }
        if !latest.is_empty() {
            any = any.add(
                Condition::all()
                    .add(observation::Column::IndicatorId.is_in(latest))
                    .add(flag_is_set(observation::Column::IsLatest)),
            );
        }
        let mut all = Condition::all().add(if any.is_empty() {
            // Nothing readable: a condition that matches no row.
            observation::Column::Id.lt(0)
        } else {
            any.into()
        });
        if self.city_level_only {
            all = all.add(
                observation::Column::RegionId.in_subquery(regions_of_level(RegionLevel::City)),
            );
        }
        all
    }
}

/// What a [`ReadScope`] reaches, comparable and hashable: the key of answers memoised per scope.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ScopeKey {
    access: Vec<(i32, DataAccess)>,
    city_level_only: bool,
}

fn regions_of_level(level: RegionLevel) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(region::Column::Id)
        .from(region::Entity)
        .and_where(region::Column::Level.eq(level.as_str()))
        .to_owned()
}

/// One page of the `observations` connection.
#[derive(Clone, Debug)]
pub struct Page {
    pub records: Vec<Record>,
    pub has_next: bool,
    pub has_previous: bool,
    /// What the page was selected by, kept so that `totalCount` is only counted when asked for.
    pub matching: Matching,
}

/// Paging arguments and their limits.
#[derive(Clone, Copy, Debug)]
pub struct PageRequest<'a> {
    pub first: Option<i32>,
    pub after: Option<&'a str>,
    pub default_size: usize,
    pub max_size: usize,
}

impl PageRequest<'_> {
    /// The page size asked for with `first`, within the limits.
    pub fn size(&self) -> AppResult<usize> {
        match self.first {
            None => Ok(self.default_size),
            Some(n) if n < 0 => Err(AppError::invalid("first", n, "a page size of 0 or more")),
            Some(n) if n as usize > self.max_size => Err(AppError::invalid(
                "first",
                n,
                format!("a page size of at most {}", self.max_size),
            )),
            Some(n) => Ok(n as usize),
        }
    }
}

const CURSOR_PREFIX: &str = "obs:";

/// The opaque cursor of an observation.
pub fn encode_cursor(id: i64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{CURSOR_PREFIX}{id}"))
}

/// The observation id in a cursor; an error naming the cursor when it was not made by [`encode_cursor`].
pub fn decode_cursor(cursor: &str) -> AppResult<i64> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.strip_prefix(CURSOR_PREFIX)?.parse::<i64>().ok())
        .ok_or_else(|| AppError::invalid("after", cursor, "a cursor returned by an earlier page"))
}

fn check_code(field: &str, dimension: Dimension, code: &Option<String>) -> AppResult<()> {
    match code {
        Some(c) if !is_code(dimension, c) => {
            let expected = crate::vocabulary::codes(dimension)
                .iter()
                .map(|(c, _, _)| *c)
                .collect::<Vec<_>>()
                .join(", ");
            Err(AppError::invalid(field, c, format!("one of {expected}")))
        }
        _ => Ok(()),
    }
}

/// The condition for `filter` within `scope`; bad codes and ranges are errors naming the value.
pub fn filter_condition(scope: &ReadScope, filter: &ObservationFilter) -> AppResult<Condition> {
    let indicator_ids = match &filter.indicators {
        Some(codes) => {
            let mut ids = Vec::with_capacity(codes.len());
            for code in codes {
                let indicator = scope.by_code(code).ok_or_else(|| {
                    AppError::invalid(
                        "filter.indicators",
                        code,
                        "an indicator code (see `indicators`)",
                    )
                })?;
                ids.push(indicator.id);
            }
            Some(ids)
        }
        None => None,
    };
    let mut condition = scope.condition(filter.version, indicator_ids.as_deref());
    if let Some(codes) = &filter.regions {
        let regions = scope
            .reference
            .resolve_region_codes("filter.regions", codes)?;
        condition =
            condition.add(observation::Column::RegionId.is_in(regions.iter().map(|r| r.id)));
    }
    if let Some(level) = filter.region_level {
        condition = condition
            .add(observation::Column::RegionId.is_in(scope.reference.region_ids_of_level(level)));
    }
    if let (Some(from), Some(to)) = (filter.year_from, filter.year_to)
        && from > to
    {
        return Err(AppError::invalid(
            "filter.years",
            format!("from {from} to {to}"),
            "a range whose `from` is not after its `to`",
        ));
    }
    if let Some(from) = filter.year_from {
        condition = condition.add(observation::Column::Year.gte(from));
    }
    if let Some(to) = filter.year_to {
        condition = condition.add(observation::Column::Year.lte(to));
    }
    check_code("filter.sex", Dimension::Sex, &filter.sex)?;
    check_code("filter.ageGroup", Dimension::Age, &filter.age_group)?;
    check_code("filter.residence", Dimension::Residence, &filter.residence)?;
    if let Some(sex) = &filter.sex {
        condition = condition.add(observation::Column::Sex.eq(sex.as_str()));
    }
    if let Some(age) = &filter.age_group {
        condition = condition.add(observation::Column::AgeGroup.eq(age.as_str()));
    }
    if let Some(residence) = &filter.residence {
        condition = condition.add(observation::Column::Residence.eq(residence.as_str()));
    }
    Ok(condition)
}

/// One page of observations matching `filter` that the caller may read, in insertion order.
pub async fn list_observations(
    db: &impl ConnectionTrait,
    scope: &ReadScope,
    filter: &ObservationFilter,
    page: PageRequest<'_>,
) -> AppResult<Page> {
    let size = page.size()?;
    let after = page.after.map(decode_cursor).transpose()?;
    let condition = filter_condition(scope, filter)?;
    read_page(db, scope, condition, size, after).await
}

/// The page of at most `size` rows after observation id `after` that `condition` (already scoped by
/// `scope`) selects, with the value rules applied. Exports call it repeatedly with one condition.
pub async fn read_page(
    db: &impl ConnectionTrait,
    scope: &ReadScope,
    condition: Condition,
    size: usize,
    after: Option<i64>,
) -> AppResult<Page> {
    let mut query = observation::Entity::find()
        .filter(condition.clone())
        .order_by_asc(observation::Column::Id)
        .limit(size as u64 + 1);
    if let Some(after) = after {
        query = query.filter(observation::Column::Id.gt(after));
    }
    let models = query.all(db).await?;
    page_of(db, scope, models, size, after.is_some(), condition).await
}

/// The page made of `models`, read with one row more than `size` to tell whether more follow, with the
/// value rules applied; `condition` selected them (kept for `totalCount`).
pub(super) async fn page_of(
    db: &impl ConnectionTrait,
    scope: &ReadScope,
    mut models: Vec<observation::Model>,
    size: usize,
    has_previous: bool,
    condition: Condition,
) -> AppResult<Page> {
    let has_next = models.len() > size;
    models.truncate(size);
    let records = protect(db, scope, models).await?;
    Ok(Page {
        records,
        has_next,
        has_previous,
        matching: Matching(condition),
    })
}

/// The rows a filter selects within a caller's scope: a handle to count them later.
#[derive(Clone, Debug)]
pub struct Matching(Condition);

/// How many observations a page's filter matches.
pub async fn count_observations(db: &impl ConnectionTrait, matching: &Matching) -> AppResult<u64> {
    Ok(observation::Entity::find()
        .filter(matching.0.clone())
        .count(db)
        .await?)
}

/// How many observations `filter` selects among those the caller may read.
pub async fn count_matching(
    db: &impl ConnectionTrait,
    scope: &ReadScope,
    filter: &ObservationFilter,
) -> AppResult<u64> {
    let condition = filter_condition(scope, filter)?;
    count_observations(db, &Matching(condition)).await
}

pub use entity::observation::{Key, SeriesKey};

/// Published series for many keys at once, each ordered by year; keys the caller may not read are absent.
pub async fn load_series(
    db: &impl ConnectionTrait,
    scope: &ReadScope,
    keys: &[SeriesKey],
) -> AppResult<HashMap<SeriesKey, Vec<Record>>> {
    let indicator_ids: HashSet<i32> = keys.iter().map(|k| k.indicator_id).collect();
    let region_ids: HashSet<i32> = keys.iter().map(|k| k.region_id).collect();
    let ids: Vec<i32> = indicator_ids.into_iter().collect();
    let models = observation::Entity::find()
        .filter(scope.condition(Version::Published, Some(&ids)))
        .filter(observation::Column::RegionId.is_in(region_ids))
        .order_by_asc(observation::Column::Year)
        .all(db)
        .await?;
    let wanted: HashSet<&SeriesKey> = keys.iter().collect();
    let models: Vec<_> = models
        .into_iter()
        .filter(|m| wanted.contains(&m.series()))
        .collect();
    let mut out: HashMap<SeriesKey, Vec<Record>> = HashMap::new();
    for record in protect(db, scope, models).await? {
        out.entry(record.model.series()).or_default().push(record);
    }
    Ok(out)
}

/// For each region, the latest published all-totals value of every indicator the caller may read (of
/// `indicator_ids` only, when given), in indicator-id order. The latest year is picked in SQL, through
/// the published natural-key index, so the rows read are the rows returned.
pub async fn load_latest_by_region(
    db: &impl ConnectionTrait,
    scope: &ReadScope,
    region_ids: &[i32],
    indicator_ids: Option<&[i32]>,
) -> AppResult<HashMap<i32, Vec<Record>>> {
    // The newest year per (region, indicator) picked by a window function: one index range scan and a
    // small sort. (A correlated `year = (SELECT max(year) …)` probed the index once per candidate row,
    // three times the cost at a million rows.) SQLite has window functions since 3.25.
    let mut candidates = observation::Entity::find()
        .filter(scope.condition(Version::Published, indicator_ids))
        .filter(observation::Column::RegionId.is_in(region_ids.iter().copied()))
        .filter(observation::Column::Sex.eq(TOTAL))
        .filter(observation::Column::AgeGroup.eq(TOTAL))
        .filter(observation::Column::Residence.eq(TOTAL))
        .into_query();
    let mut newest_first = WindowStatement::partition_by(observation::Column::RegionId);
    newest_first
        .add_partition_by(Expr::col(observation::Column::IndicatorId))
        .order_by(observation::Column::Year, Order::Desc);
    candidates.expr_window_as(
        Expr::cust("ROW_NUMBER()"),
        newest_first,
        Alias::new("newest"),
    );
    let latest = Query::select()
        .column(Asterisk)
        .from_subquery(candidates, Alias::new("candidates"))
        .and_where(Expr::col(Alias::new("newest")).eq(1))
        .order_by(observation::Column::RegionId, Order::Asc)
        .order_by(observation::Column::IndicatorId, Order::Asc)
        .to_owned();
    let models = observation::Entity::find()
        .from_raw_sql(db.get_database_backend().build(&latest))
        .all(db)
        .await?;
    let mut out: HashMap<i32, Vec<Record>> = HashMap::new();
    for record in protect(db, scope, models).await? {
        out.entry(record.model.region_id).or_default().push(record);
    }
    Ok(out)
}

/// Applies the read policy's value rules to rows already selected through the scope: suppression and
/// hidden counts for restricted indicators read by other departments.
pub async fn protect(
    db: &impl ConnectionTrait,
    scope: &ReadScope,
    models: Vec<observation::Model>,
) -> AppResult<Vec<Record>> {
    let restricted: HashSet<(i32, i32)> = models
        .iter()
        .filter(|m| {
            matches!(
                scope.indicators.get(&m.indicator_id),
                Some((_, DataAccess::Suppressed))
            )
        })
        .map(|m| (m.indicator_id, m.year))
        .collect();
    let releases = if restricted.is_empty() {
        HashMap::new()
    } else {
        releases_of(db, scope, &restricted).await?
    };
    Ok(models
        .into_iter()
        .map(|model| {
            let suppressed_access = matches!(
                scope.indicators.get(&model.indicator_id),
                Some((_, DataAccess::Suppressed))
            );
            let shown = model.is_published
                && releases
                    .get(&(model.indicator_id, model.year))
                    .is_some_and(|r| r.shows(model.id));
            Record {
                suppressed: suppressed_access && !shown,
                counts_hidden: suppressed_access,
                model,
            }
        })
        .collect())
}

/// The releases in force of the given (indicator, year) tables, as released to every reader with
/// suppressed access.
pub(super) async fn releases_of(
    db: &impl ConnectionTrait,
    scope: &ReadScope,
    tables: &HashSet<(i32, i32)>,
) -> AppResult<HashMap<(i32, i32), Arc<disclosure::Released>>> {
    let mut tables: Vec<disclosure::Table> = tables
        .iter()
        .map(|&(indicator_id, year)| disclosure::Table {
            indicator_id,
            year,
            additive: scope
                .indicators
                .get(&indicator_id)
                .map(|(i, _)| i.unit)
                .is_some_and(Unit::is_additive),
        })
        .collect();
    tables.sort();
    disclosure::released(
        db,
        scope.writer.as_ref(),
        scope.releases.as_deref(),
        &tables,
    )
    .await
}

/// The published value of each key whose indicator the caller may read, protected as every read is
/// (a suppressed cell stays hidden): what a pending value would replace, or last year's approved one.
pub async fn published_of(
    db: &impl ConnectionTrait,
    scope: &ReadScope,
    keys: &[Key],
) -> AppResult<HashMap<Key, Record>> {
    let keys: Vec<Key> = keys
        .iter()
        .filter(|k| scope.indicators.contains_key(&k.series.indicator_id))
        .cloned()
        .collect();
    let found = crate::service::submissions::store::flagged_rows(
        db,
        &keys,
        observation::Column::IsPublished,
    )
    .await?;
    Ok(protect(db, scope, found.into_values().collect())
        .await?
        .into_iter()
        .map(|r| (r.model.key(), r))
        .collect())
}

/// Every revision of the given cells that the caller may see, oldest first: all of them for the owner
/// department and coordinators, the approved ones for everyone else.
pub async fn load_history(
    db: &impl ConnectionTrait,
    scope: &ReadScope,
    keys: &[Key],
) -> AppResult<HashMap<Key, Vec<Record>>> {
    let wanted: HashSet<&Key> = keys.iter().collect();
    let mut everything = Vec::new();
    let mut approved_only = Vec::new();
    let mut published_only = Vec::new();
    for k in keys {
        match scope.indicators.get(&k.series.indicator_id) {
            Some((_, DataAccess::Full { unapproved: true })) => {
                everything.push(k.series.indicator_id)
            }
            Some((_, DataAccess::Full { unapproved: false })) => {
                approved_only.push(k.series.indicator_id)
            }
            // Earlier revisions of a suppressed table are not shown: comparing them with the values in
            // force would reveal what suppression hides.
            Some((_, DataAccess::Suppressed)) => published_only.push(k.series.indicator_id),
            None => {}
        }
    }
    let visible = Condition::any()
        .add(observation::Column::IndicatorId.is_in(everything))
        .add(
            Condition::all()
                .add(observation::Column::IndicatorId.is_in(approved_only))
                .add(observation::Column::Status.eq(crate::vocabulary::Status::Approved.as_str())),
        )
        .add(
            Condition::all()
                .add(observation::Column::IndicatorId.is_in(published_only))
                .add(flag_is_set(observation::Column::IsPublished)),
        );
    let mut query = observation::Entity::find()
        .filter(visible)
        .filter(observation::Column::RegionId.is_in(keys.iter().map(|k| k.series.region_id)))
        .filter(observation::Column::Year.is_in(keys.iter().map(|k| k.year)))
        .order_by_asc(observation::Column::Revision);
    if scope.city_level_only {
        query = query
            .filter(observation::Column::RegionId.in_subquery(regions_of_level(RegionLevel::City)));
    }
    let models: Vec<_> = query
        .all(db)
        .await?
        .into_iter()
        .filter(|m| wanted.contains(&m.key()))
        .collect();
    let mut out: HashMap<Key, Vec<Record>> = HashMap::new();
    for record in protect(db, scope, models).await? {
        out.entry(record.model.key()).or_default().push(record);
    }
    Ok(out)
}
