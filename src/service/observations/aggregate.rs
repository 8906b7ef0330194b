//! Aggregates over the observations a caller may read — count, sums, averages, extremes and the ratio of
//! sums, over a whole filter or per group — computed in SQL, one statement per question whatever the
//! number of groups. Only values the caller is *released* enter them: a value hidden by small-cell
//! suppression is left out (and counted in `suppressed_count`), so a group's sum can never be differenced
//! against a published total to recover it (docs/policy.md, "Aggregates").

use super::{ObservationFilter, ReadScope, filter_condition, releases_of};
use crate::auth::policy::DataAccess;
use crate::error::{AppError, AppResult};
use crate::vocabulary::{RegionLevel, Unit};
use entity::{observation, region};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, JoinType, Query, SelectStatement, SimpleExpr};
use sea_orm::{Condition, ConnectionTrait, QueryResult};
use std::collections::{BTreeSet, HashSet};

/// What observations are grouped by.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[graphql(name = "ObservationGroupBy")]
pub enum GroupBy {
    /// One group per indicator.
    Indicator,
    /// One group per region.
    Region,
    /// One group per parent region: a village's township, a township's city (the city's group has
    /// no parent).
    ParentRegion,
    /// One group per level: city, townships, villages.
    RegionLevel,
    /// One group per year.
    Year,
    /// One group per sex code (`_T`, `M`, `F`).
    Sex,
    /// One group per age group code.
    AgeGroup,
    /// One group per residence code (`_T`, `U`, `R`).
    Residence,
}

impl GroupBy {
    /// The column alias of the key in the statement.
    fn alias(self) -> &'static str {
        match self {
            GroupBy::Indicator => "k_indicator",
            GroupBy::Region => "k_region",
            GroupBy::ParentRegion => "k_parent",
            GroupBy::RegionLevel => "k_level",
            GroupBy::Year => "k_year",
            GroupBy::Sex => "k_sex",
            GroupBy::AgeGroup => "k_age",
            GroupBy::Residence => "k_residence",
        }
    }

    /// Whether the key is read from the observation's region row.
    fn needs_region(self) -> bool {
        matches!(self, GroupBy::ParentRegion | GroupBy::RegionLevel)
    }
}

/// Which quantity of the observations an aggregate reads.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Quantity {
    Value,
    Numerator,
    Denominator,
}

/// One aggregate of a group.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Measure {
    /// Values aggregated (released to the caller).
    Count,
    /// Values left out because the caller may not see them.
    SuppressedCount,
    Sum(Quantity),
    Average(Quantity),
    Min(Quantity),
    Max(Quantity),
    /// Σ numerator / Σ denominator × the unit's scale.
    RatioOfSums,
}

impl Measure {
    /// Whether the measure adds or compares the values themselves, which needs one unit.
    pub fn reads_values(self) -> bool {
        !matches!(self, Measure::Count | Measure::SuppressedCount)
    }

    /// The SQL of the measure over the statement's derived table (see [`released_rows`]).
    fn expr(self) -> SimpleExpr {
        let col = |c: Quantity| match c {
            Quantity::Value => "v",
            Quantity::Numerator => "n",
            Quantity::Denominator => "d",
        };
        Expr::cust(match self {
            Measure::Count => "COUNT(v)".to_owned(),
            Measure::SuppressedCount => "SUM(CASE WHEN v IS NULL THEN 1 ELSE 0 END)".to_owned(),
            Measure::Sum(c) => format!("SUM({})", col(c)),
            Measure::Average(c) => format!("AVG({})", col(c)),
            Measure::Min(c) => format!("MIN({})", col(c)),
            Measure::Max(c) => format!("MAX({})", col(c)),
            Measure::RatioOfSums => "SUM(rn) / NULLIF(SUM(rd), 0) * MAX(sc)".to_owned(),
        })
    }
}

/// How a `having` term compares.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Comparison {
    Equal,
    NotEqual,
    Greater,
    GreaterOrEqual,
    Less,
    LessOrEqual,
}

/// Keeps the groups whose `measure` compares so with `operand`.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Having {
    pub measure: Measure,
    pub comparison: Comparison,
    pub operand: f64,
}

impl Having {
    fn expr(&self) -> SimpleExpr {
        let (m, x) = (self.measure.expr(), self.operand);
        match self.comparison {
            Comparison::Equal => m.eq(x),
            Comparison::NotEqual => m.ne(x),
            Comparison::Greater => m.gt(x),
            Comparison::GreaterOrEqual => m.gte(x),
            Comparison::Less => m.lt(x),
            Comparison::LessOrEqual => m.lte(x),
        }
    }
}

/// A value, numerator and denominator aggregated alike.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Columns {
    pub value: Option<f64>,
    pub numerator: Option<f64>,
    pub denominator: Option<f64>,
}

/// The aggregates of one group (or of the whole filter).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Aggregates {
    pub count: u64,
    pub suppressed_count: u64,
    pub sum: Columns,
    pub average: Columns,
    pub min: Columns,
    pub max: Columns,
    pub ratio_of_sums: Option<f64>,
}

/// What a group is: the value of each key it was grouped by (none for the others).
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct GroupKeys {
    pub indicator_id: Option<i32>,
    pub region_id: Option<i32>,
    /// Grouped by parent region: the parent's id (none for the city, which has none).
    pub parent_region_id: Option<Option<i32>>,
    pub region_level: Option<RegionLevel>,
    pub year: Option<i32>,
    pub sex: Option<String>,
    pub age_group: Option<String>,
    pub residence: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    pub keys: GroupKeys,
    pub aggregates: Aggregates,
}

/// Whether value aggregates mean something: the units the aggregated indicators are measured in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Units {
    /// Every group is of one indicator (grouped by `INDICATOR`), or every indicator has this unit.
    Uniform,
    /// Indicators of these units fall into one group: only counts mean something.
    Mixed(Vec<Unit>),
}

impl Units {
    /// Refuses a value aggregate over mixed units, naming them.
    pub fn check(&self, what: &str) -> AppResult<()> {
        match self {
            Units::Uniform => Ok(()),
            Units::Mixed(units) => Err(AppError::invalid(
                what,
                format!(
                    "values in {}",
                    units
                        .iter()
                        .map(|u| u.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                "values of one unit: group by INDICATOR, or filter indicators measured in the same unit (sums and averages across units mean nothing)",
            )),
        }
    }
}

/// The units of the indicators `filter` admits in `scope`, grouped by `group_by`.
pub fn units_of(scope: &ReadScope, filter: &ObservationFilter, group_by: &[GroupBy]) -> Units {
    if group_by.contains(&GroupBy::Indicator) {
        return Units::Uniform;
    }
    let units: BTreeSet<Unit> = scope
        .indicators
        .values()
        .map(|(i, _)| i)
        .filter(|i| {
            filter
                .indicators
                .as_ref()
                .is_none_or(|codes| codes.contains(&i.code))
        })
        .map(|i| i.unit)
        .collect();
    if units.len() <= 1 {
        Units::Uniform
    } else {
        Units::Mixed(units.into_iter().collect())
    }
}

/// One aggregate question: the observations `filter` selects, grouped by `group_by` (none: one group of
/// everything), kept by `having`, with the `wanted` measures (the others are left empty: the database
/// computes only what is asked for); more than `limit.1` groups is an error naming `limit.0`.
#[derive(Debug)]
pub struct Question<'a> {
    pub filter: &'a ObservationFilter,
    pub group_by: &'a [GroupBy],
    pub having: &'a [Having],
    pub wanted: &'a [Measure],
    pub limit: (&'a str, usize),
}

/// The answer to `question` in `scope`, one SQL statement (and, for a caller reading restricted tables
/// with suppression, the one look-up of their releases).
pub async fn aggregate(
    db: &impl ConnectionTrait,
    scope: &ReadScope,
    question: &Question<'_>,
) -> AppResult<Vec<Group>> {
    let Question {
        filter,
        group_by,
        having,
        wanted,
        limit: (limit_field, max_groups),
    } = *question;
    let units = units_of(scope, filter, group_by);
    for term in having {
        if term.measure.reads_values() {
            units.check("having")?;
        }
    }
    let condition = filter_condition(scope, filter)?;
    let mut keys: Vec<GroupBy> = group_by.to_vec();
    keys.sort_unstable();
    keys.dedup();
    let rows = released_rows(db, scope, filter, condition, &keys).await?;
    let derived = Alias::new("released");
    let mut outer = Query::select();
    outer.from_subquery(rows, derived);
    for key in &keys {
        outer.expr_as(Expr::col(Alias::new(key.alias())), Alias::new(key.alias()));
        outer.add_group_by([Expr::col(Alias::new(key.alias()))]);
    }
    let measures: Vec<&(&str, Measure)> = MEASURES
        .iter()
        .filter(|(_, m)| *m == Measure::Count || wanted.contains(m))
        .collect();
    for (name, measure) in &measures {
        outer.expr_as(measure.expr(), Alias::new(*name));
    }
    for term in having {
        outer.and_having(term.expr());
    }
    if !keys.is_empty() {
        outer.limit(max_groups as u64 + 1);
    }
    let found = db.query_all(&outer).await?;
    if found.len() > max_groups {
        return Err(AppError::invalid(
            limit_field,
            max_groups,
            format!(
                "more groups than {max_groups}: narrow the filter, keep fewer groups with `having`, or raise `{limit_field}` (up to the page size limit)"
            ),
        ));
    }
    let mut groups = found
        .iter()
        .map(|row| read_group(row, &keys, &measures))
        .collect::<AppResult<Vec<_>>>()?;
    let reference = &scope.reference;
    let code_of_region = |id: Option<i32>| {
        id.and_then(|id| reference.region_by_id(id))
            .map(|r| r.code.clone())
    };
    groups.sort_by_cached_key(|g| {
        (
            g.keys
                .indicator_id
                .and_then(|id| reference.indicator_by_id(id))
                .map(|i| i.code.clone()),
            code_of_region(g.keys.region_id),
            g.keys.parent_region_id.map(code_of_region),
            g.keys.region_level,
            g.keys.year,
            g.keys.sex.clone(),
            g.keys.age_group.clone(),
            g.keys.residence.clone(),
        )
    });
    Ok(groups)
}

/// Every measure a statement can compute, by column alias; it computes the ones asked for (and the
/// count, always).
const MEASURES: &[(&str, Measure)] = &[
    ("count", Measure::Count),
    ("suppressed", Measure::SuppressedCount),
    ("sum_v", Measure::Sum(Quantity::Value)),
    ("sum_n", Measure::Sum(Quantity::Numerator)),
    ("sum_d", Measure::Sum(Quantity::Denominator)),
    ("avg_v", Measure::Average(Quantity::Value)),
    ("avg_n", Measure::Average(Quantity::Numerator)),
    ("avg_d", Measure::Average(Quantity::Denominator)),
    ("min_v", Measure::Min(Quantity::Value)),
    ("min_n", Measure::Min(Quantity::Numerator)),
    ("min_d", Measure::Min(Quantity::Denominator)),
    ("max_v", Measure::Max(Quantity::Value)),
    ("max_n", Measure::Max(Quantity::Numerator)),
    ("max_d", Measure::Max(Quantity::Denominator)),
    ("ratio", Measure::RatioOfSums),
];

/// The rows `condition` selects as the caller may see them, one per observation: the group keys, `v`
/// the value (null where suppressed), `n`/`d` numerator and denominator (null where hidden), `rn`/`rd`
/// the pairs where both are present (for the ratio of sums) and `sc` the unit's scale.
async fn released_rows(
    db: &impl ConnectionTrait,
    scope: &ReadScope,
    filter: &ObservationFilter,
    condition: Condition,
    keys: &[GroupBy],
) -> AppResult<SelectStatement> {
    let col = |c: observation::Column| Expr::col((observation::Entity, c));
    let mut rows = Query::select();
    rows.from(observation::Entity).cond_where(condition.clone());
    let region_alias = Alias::new("grp_region");
    if keys.iter().any(|k| k.needs_region()) {
        rows.join_as(
            JoinType::InnerJoin,
            region::Entity,
            region_alias.clone(),
            Expr::col((region_alias.clone(), region::Column::Id))
                .equals((observation::Entity, observation::Column::RegionId)),
        );
    }
    for key in keys {
        let expr: SimpleExpr = match key {
            GroupBy::Indicator => col(observation::Column::IndicatorId),
            GroupBy::Region => col(observation::Column::RegionId),
            GroupBy::ParentRegion => Expr::col((region_alias.clone(), region::Column::ParentId)),
            GroupBy::RegionLevel => Expr::col((region_alias.clone(), region::Column::Level)),
            GroupBy::Year => col(observation::Column::Year),
            GroupBy::Sex => col(observation::Column::Sex),
            GroupBy::AgeGroup => col(observation::Column::AgeGroup),
            GroupBy::Residence => col(observation::Column::Residence),
        };
        rows.expr_as(expr, Alias::new(key.alias()));
    }
    let released = Released::of(db, scope, filter, condition).await?;
    let value = released.value_sql();
    let counts_hidden = |column: &str| match released.restricted.is_empty() {
        true => format!("\"observation\".\"{column}\""),
        false => format!(
            "CASE WHEN \"observation\".\"indicator_id\" IN ({}) THEN NULL ELSE \"observation\".\"{column}\" END",
            list(&released.restricted)
        ),
    };
    let (n, d) = (counts_hidden("numerator"), counts_hidden("denominator"));
    rows.expr_as(Expr::cust(value), Alias::new("v"));
    rows.expr_as(Expr::cust(n.clone()), Alias::new("n"));
    rows.expr_as(Expr::cust(d.clone()), Alias::new("d"));
    rows.expr_as(
        Expr::cust(format!(
            "CASE WHEN ({n}) IS NOT NULL AND ({d}) IS NOT NULL THEN ({n}) END"
        )),
        Alias::new("rn"),
    );
    rows.expr_as(
        Expr::cust(format!(
            "CASE WHEN ({n}) IS NOT NULL AND ({d}) IS NOT NULL THEN ({d}) END"
        )),
        Alias::new("rd"),
    );
    rows.expr_as(Expr::cust(scale_sql(scope)), Alias::new("sc"));
    Ok(rows)
}

/// What of the selected rows a caller is released: the restricted indicators read with suppression,
/// and the ids of their values that the releases in force show.
pub(super) struct Released {
    pub restricted: Vec<i32>,
    pub shown: Vec<i64>,
}

impl Released {
    /// The releases of every restricted table `condition` (made from `filter`) touches: one `SELECT
    /// DISTINCT` of those tables when the filter admits an indicator the caller reads with
    /// suppression, none otherwise; the releases come from the memo.
    pub async fn of(
        db: &impl ConnectionTrait,
        scope: &ReadScope,
        filter: &ObservationFilter,
        condition: Condition,
    ) -> AppResult<Released> {
        let mut restricted: Vec<i32> = scope
            .indicators
            .iter()
            .filter(|(_, (indicator, access))| {
                *access == DataAccess::Suppressed
                    && filter
                        .indicators
                        .as_ref()
                        .is_none_or(|codes| codes.contains(&indicator.code))
            })
            .map(|(id, _)| *id)
            .collect();
        restricted.sort_unstable();
        if restricted.is_empty() {
            return Ok(Released {
                restricted,
                shown: Vec::new(),
            });
        }
        let tables = Query::select()
            .distinct()
            .column((observation::Entity, observation::Column::IndicatorId))
            .column((observation::Entity, observation::Column::Year))
            .from(observation::Entity)
            .cond_where(condition)
            .and_where(
                Expr::col((observation::Entity, observation::Column::IndicatorId))
                    .is_in(restricted.iter().copied()),
            )
            .to_owned();
        let found = db.query_all(&tables).await?;
        let tables: HashSet<(i32, i32)> = found
            .iter()
            .map(|row| {
                Ok((
                    row.try_get::<i32>("", "indicator_id")?,
                    row.try_get::<i32>("", "year")?,
                ))
            })
            .collect::<Result<_, sea_orm::DbErr>>()?;
        let mut shown: Vec<i64> = if tables.is_empty() {
            Vec::new()
        } else {
            releases_of(db, scope, &tables)
                .await?
                .values()
                .flat_map(|r| r.published.iter().filter(|id| !r.hidden.contains(id)))
                .copied()
                .collect()
        };
        shown.sort_unstable();
        Ok(Released { restricted, shown })
    }

    /// The value as the caller may see it: null where a release does not show it. The ids are
    /// written into the SQL (integers only), as a village table's release can pass the number of
    /// parameters a statement may bind.
    pub fn value_sql(&self) -> String {
        let value = "\"observation\".\"value\"";
        if self.restricted.is_empty() {
            return value.to_owned();
        }
        let shown = if self.shown.is_empty() {
            "NULL".to_owned()
        } else {
            format!(
                "CASE WHEN \"observation\".\"id\" IN ({}) THEN {value} END",
                list(&self.shown)
            )
        };
        format!(
            "CASE WHEN \"observation\".\"indicator_id\" IN ({}) THEN {shown} ELSE {value} END",
            list(&self.restricted)
        )
    }
}

/// Integers as an SQL list: `1, 2, 3`.
fn list<T: ToString>(ids: &[T]) -> String {
    ids.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The scale of each readable indicator's unit, by indicator id (null for counts and yes/no).
fn scale_sql(scope: &ReadScope) -> String {
    let mut arms: Vec<(i32, f64)> = scope
        .indicators
        .values()
        .filter_map(|(i, _)| i.unit.rate_scale().map(|s| (i.id, s)))
        .collect();
    if arms.is_empty() {
        // Typed, or PostgreSQL takes an untyped null for text.
        return "CAST(NULL AS DOUBLE PRECISION)".to_owned();
    }
    arms.sort_unstable_by_key(|(id, _)| *id);
    let arms: String = arms
        .iter()
        .map(|(id, scale)| format!(" WHEN {id} THEN {}", *scale as i64))
        .collect();
    format!("CASE \"observation\".\"indicator_id\"{arms} END")
}

fn read_group(
    row: &QueryResult,
    keys: &[GroupBy],
    measures: &[&(&str, Measure)],
) -> AppResult<Group> {
    let mut k = GroupKeys::default();
    for key in keys {
        let a = key.alias();
        match key {
            GroupBy::Indicator => k.indicator_id = Some(row.try_get("", a)?),
            GroupBy::Region => k.region_id = Some(row.try_get("", a)?),
            GroupBy::ParentRegion => k.parent_region_id = Some(row.try_get("", a)?),
            GroupBy::RegionLevel => {
                let code: String = row.try_get("", a)?;
                k.region_level = Some(RegionLevel::parse(&code).ok_or_else(|| {
                    AppError::Internal(format!("region level {code:?} in the database"))
                })?);
            }
            GroupBy::Year => k.year = Some(row.try_get("", a)?),
            GroupBy::Sex => k.sex = Some(row.try_get("", a)?),
            GroupBy::AgeGroup => k.age_group = Some(row.try_get("", a)?),
            GroupBy::Residence => k.residence = Some(row.try_get("", a)?),
        }
    }
    let mut a = Aggregates::default();
    for (name, measure) in measures {
        let count = || -> AppResult<u64> {
            Ok(u64::try_from(row.try_get::<Option<i64>>("", name)?.unwrap_or(0)).unwrap_or(0))
        };
        let number = || -> AppResult<Option<f64>> { Ok(row.try_get::<Option<f64>>("", name)?) };
        let slot = |columns: &mut Columns, q: &Quantity, v: Option<f64>| match q {
            Quantity::Value => columns.value = v,
            Quantity::Numerator => columns.numerator = v,
            Quantity::Denominator => columns.denominator = v,
        };
        match measure {
            Measure::Count => a.count = count()?,
            Measure::SuppressedCount => a.suppressed_count = count()?,
            Measure::Sum(q) => slot(&mut a.sum, q, number()?),
            Measure::Average(q) => slot(&mut a.average, q, number()?),
            Measure::Min(q) => slot(&mut a.min, q, number()?),
            Measure::Max(q) => slot(&mut a.max, q, number()?),
            Measure::RatioOfSums => a.ratio_of_sums = number()?,
        }
    }
    Ok(Group {
        keys: k,
        aggregates: a,
    })
}
