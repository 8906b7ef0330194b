//! The order of the `observations` connection — by value, year, region code or indicator code, either
//! way, the id breaking ties — with keyset cursors that carry the last row's sort key, so a page is one
//! indexed range however deep it lies. A value the caller may not see sorts last whichever the direction,
//! as if it were unknown: ordering by a hidden value would tell its rank among the visible ones.

use super::aggregate::Released;
use super::{ObservationFilter, Page, ReadScope, Record, filter_condition, page_of};
use crate::error::{AppError, AppResult};
use base64::Engine;
use entity::{indicator, observation, region};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, JoinType, Order, SimpleExpr};
use sea_orm::{ConnectionTrait, EntityTrait, QueryFilter, QueryTrait};
use serde_json::{Value as Json, json};

/// How the `observations` connection is ordered; several apply in turn, the observation id last.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[graphql(name = "ObservationOrder")]
pub enum OrderBy {
    /// Smallest value first; values hidden from the caller last.
    ValueAsc,
    /// Largest value first; values hidden from the caller last.
    ValueDesc,
    /// Earliest year first.
    YearAsc,
    /// Latest year first.
    YearDesc,
    /// Region codes A → Z.
    RegionCodeAsc,
    /// Region codes Z → A.
    RegionCodeDesc,
    /// Indicator codes A → Z.
    IndicatorCodeAsc,
    /// Indicator codes Z → A.
    IndicatorCodeDesc,
}

/// What an order sorts by.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Key {
    Value,
    Year,
    RegionCode,
    IndicatorCode,
}

impl OrderBy {
    fn key(self) -> Key {
        match self {
            OrderBy::ValueAsc | OrderBy::ValueDesc => Key::Value,
            OrderBy::YearAsc | OrderBy::YearDesc => Key::Year,
            OrderBy::RegionCodeAsc | OrderBy::RegionCodeDesc => Key::RegionCode,
            OrderBy::IndicatorCodeAsc | OrderBy::IndicatorCodeDesc => Key::IndicatorCode,
        }
    }

    fn direction(self) -> Order {
        match self {
            OrderBy::ValueAsc
            | OrderBy::YearAsc
            | OrderBy::RegionCodeAsc
            | OrderBy::IndicatorCodeAsc => Order::Asc,
            _ => Order::Desc,
        }
    }

    fn name(self) -> &'static str {
        match self {
            OrderBy::ValueAsc => "VALUE_ASC",
            OrderBy::ValueDesc => "VALUE_DESC",
            OrderBy::YearAsc => "YEAR_ASC",
            OrderBy::YearDesc => "YEAR_DESC",
            OrderBy::RegionCodeAsc => "REGION_CODE_ASC",
            OrderBy::RegionCodeDesc => "REGION_CODE_DESC",
            OrderBy::IndicatorCodeAsc => "INDICATOR_CODE_ASC",
            OrderBy::IndicatorCodeDesc => "INDICATOR_CODE_DESC",
        }
    }
}

/// Refuses an order that names one key twice (`VALUE_ASC` and `VALUE_DESC`).
pub fn check_order(order: &[OrderBy]) -> AppResult<()> {
    for (i, o) in order.iter().enumerate() {
        if order[..i].iter().any(|p| p.key() == o.key()) {
            return Err(AppError::invalid(
                "orderBy",
                o.name(),
                "each of value, year, region code and indicator code at most once",
            ));
        }
    }
    Ok(())
}

const CURSOR_PREFIX: &str = "ord:";

/// The cursor of `record` in a page ordered by `order`: the order, the record's sort key and its id.
pub fn encode_cursor(order: &[OrderBy], scope: &ReadScope, record: &Record) -> String {
    let at: Vec<Json> = order
        .iter()
        .map(|o| match o.key() {
            // The bits, so that the value compares equal to the stored one when read back.
            Key::Value => record.value().map_or(Json::Null, |v| json!(v.to_bits())),
            Key::Year => json!(record.model.year),
            Key::RegionCode => json!(
                scope
                    .reference
                    .region_by_id(record.model.region_id)
                    .map(|r| r.code.as_str())
            ),
            Key::IndicatorCode => json!(
                scope
                    .reference
                    .indicator_by_id(record.model.indicator_id)
                    .map(|i| i.code.as_str())
            ),
        })
        .collect();
    let by: Vec<&str> = order.iter().map(|o| o.name()).collect();
    let text = json!({ "by": by, "at": at, "id": record.model.id }).to_string();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{CURSOR_PREFIX}{text}"))
}

/// A sort key read back from a cursor.
#[derive(Clone, Debug, PartialEq)]
enum At {
    Value(Option<f64>),
    Year(i32),
    Code(String),
}

/// The sort key and id in `cursor`, which must have been made for the same `order`.
fn decode_cursor(order: &[OrderBy], cursor: &str) -> AppResult<(Vec<At>, i64)> {
    let bad = || {
        AppError::invalid(
            "after",
            cursor,
            "a cursor returned by an earlier page with the same orderBy",
        )
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let body: Json = serde_json::from_str(text.strip_prefix(CURSOR_PREFIX).ok_or_else(bad)?)
        .map_err(|_| bad())?;
    let by: Vec<&str> = order.iter().map(|o| o.name()).collect();
    if body["by"] != json!(by) {
        return Err(bad());
    }
    let at = body["at"].as_array().ok_or_else(bad)?;
    if at.len() != order.len() {
        return Err(bad());
    }
    let keys = order
        .iter()
        .zip(at)
        .map(|(o, a)| match o.key() {
            Key::Value if a.is_null() => Some(At::Value(None)),
            Key::Value => a.as_u64().map(|bits| At::Value(Some(f64::from_bits(bits)))),
            Key::Year => a.as_i64().and_then(|y| i32::try_from(y).ok()).map(At::Year),
            Key::RegionCode | Key::IndicatorCode => a.as_str().map(|c| At::Code(c.to_owned())),
        })
        .collect::<Option<Vec<At>>>()
        .ok_or_else(bad)?;
    let id = body["id"].as_i64().ok_or_else(bad)?;
    Ok((keys, id))
}

/// One page of the observations `filter` selects in `scope`, in `order`, after the row of `after`.
pub async fn read_ordered_page(
    db: &impl ConnectionTrait,
    scope: &ReadScope,
    filter: &ObservationFilter,
    order: &[OrderBy],
    size: usize,
    after: Option<&str>,
) -> AppResult<Page> {
    check_order(order)?;
    let after = after.map(|c| decode_cursor(order, c)).transpose()?;
    let condition = filter_condition(scope, filter)?;
    let mut query = observation::Entity::find()
        .filter(condition.clone())
        .into_query();
    let (regions, indicators) = (Alias::new("ord_region"), Alias::new("ord_indicator"));
    if order.iter().any(|o| o.key() == Key::RegionCode) {
        query.join_as(
            JoinType::InnerJoin,
            region::Entity,
            regions.clone(),
            Expr::col((regions.clone(), region::Column::Id))
                .equals((observation::Entity, observation::Column::RegionId)),
        );
    }
    if order.iter().any(|o| o.key() == Key::IndicatorCode) {
        query.join_as(
            JoinType::InnerJoin,
            indicator::Entity,
            indicators.clone(),
            Expr::col((indicators.clone(), indicator::Column::Id))
                .equals((observation::Entity, observation::Column::IndicatorId)),
        );
    }
    // Sort components: (expression, direction, the cursor's value of it).
    let released = if order.iter().any(|o| o.key() == Key::Value) {
        Some(Released::of(db, scope, filter, condition.clone()).await?)
    } else {
        None
    };
    let mut components: Vec<(SimpleExpr, Order, Option<SimpleExpr>)> = Vec::new();
    for (i, o) in order.iter().enumerate() {
        let at = after.as_ref().map(|(keys, _)| &keys[i]);
        match o.key() {
            Key::Value => {
                let released = released
                    .as_ref()
                    .ok_or_else(|| AppError::Internal("value order without its release".into()))?;
                let value = Expr::cust(released.value_sql());
                if !released.restricted.is_empty() {
                    // Hidden (null) values last: a 0/1 flag sorted ascending before the value.
                    let flag = Expr::cust(format!(
                        "CASE WHEN ({}) IS NULL THEN 1 ELSE 0 END",
                        released.value_sql()
                    ));
                    let flag_at = at.map(|a| Expr::val(i32::from(a == &At::Value(None))));
                    components.push((flag, Order::Asc, flag_at));
                }
                // Past the visible values every later row is hidden too: the value is not compared
                // (null equals nothing), the flag and the components after it decide.
                let value_at = match at {
                    Some(At::Value(Some(v))) => Some(Expr::val(*v)),
                    _ => None,
                };
                components.push((value, o.direction(), value_at));
            }
            Key::Year => components.push((
                Expr::col((observation::Entity, observation::Column::Year)),
                o.direction(),
                match at {
                    Some(At::Year(y)) => Some(Expr::val(*y)),
                    _ => None,
                },
            )),
            Key::RegionCode | Key::IndicatorCode => {
                let table = if o.key() == Key::RegionCode {
                    regions.clone()
                } else {
                    indicators.clone()
                };
                components.push((
                    Expr::col((table, Alias::new("code"))),
                    o.direction(),
                    match at {
                        Some(At::Code(c)) => Some(Expr::val(c.clone())),
                        _ => None,
                    },
                ))
            }
        }
    }
    for (expr, direction, _) in &components {
        query.order_by_expr(expr.clone(), direction.clone());
    }
    query.order_by((observation::Entity, observation::Column::Id), Order::Asc);
    if let Some((_, id)) = &after {
        query.and_where(beyond(&components, *id));
    }
    query.limit(size as u64 + 1);
    let models = observation::Entity::find()
        .from_raw_sql(db.get_database_backend().build(&query))
        .all(db)
        .await?;
    page_of(db, scope, models, size, after.is_some(), condition).await
}

/// The rows after the cursor: past it on the first component, or equal there and past it on the
/// next, …, or equal on all and with a greater id.
fn beyond(components: &[(SimpleExpr, Order, Option<SimpleExpr>)], id: i64) -> SimpleExpr {
    let mut rest: SimpleExpr = Expr::col((observation::Entity, observation::Column::Id)).gt(id);
    for (expr, direction, at) in components.iter().rev() {
        let Some(at) = at else { continue };
        let past = match direction {
            Order::Desc => expr.clone().lt(at.clone()),
            _ => expr.clone().gt(at.clone()),
        };
        rest = past.or(expr.clone().eq(at.clone()).and(rest));
    }
    rest
}
