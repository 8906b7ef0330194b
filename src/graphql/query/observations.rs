//! The `observations` root field: a Relay connection over the values the caller may read.

use crate::error::AppError;
use crate::graphql::aggregate_types::{
    ObservationAggregates, ObservationGroup, ObservationHaving, measures_of,
};
use crate::graphql::context::{db, scope, settings, snapshot};
use crate::graphql::types::Observation;
use crate::service::observations::aggregate::{self, GroupBy, Question};
use crate::service::observations::order::{self, OrderBy};
use crate::service::observations::{self, ObservationFilter, PageRequest, Version, encode_cursor};
use crate::vocabulary::RegionLevel;
use async_graphql::{Context, InputObject, Object, Result, SimpleObject};

/// An inclusive range of years; either end may be open.
#[derive(InputObject, Clone, Copy)]
pub struct YearRange {
    /// First year (inclusive); none: from the earliest.
    pub from: Option<i32>,
    /// Last year (inclusive); none: to the latest.
    pub to: Option<i32>,
}

/// Narrows the `observations` connection. Unknown codes are errors, never an empty list.
#[derive(InputObject, Default)]
#[graphql(name = "ObservationFilter")]
pub struct ObservationFilterInput {
    /// Indicator codes, e.g. `["HEA-03"]`.
    pub indicators: Option<Vec<String>>,
    /// Region codes.
    pub regions: Option<Vec<String>>,
    /// Only regions of this level.
    pub region_level: Option<RegionLevel>,
    /// Only these years.
    pub years: Option<YearRange>,
    /// `_T`, `M` or `F`.
    pub sex: Option<String>,
    /// `_T` or an age group such as `Y0T4`.
    pub age_group: Option<String>,
    /// `_T`, `U` or `R`.
    pub residence: Option<String>,
    /// Published values (default), or the newest revisions where the caller may read unapproved data.
    pub version: Option<Version>,
}

impl From<ObservationFilterInput> for ObservationFilter {
    fn from(f: ObservationFilterInput) -> Self {
        ObservationFilter {
            indicators: f.indicators,
            regions: f.regions,
            region_level: f.region_level,
            year_from: f.years.and_then(|y| y.from),
            year_to: f.years.and_then(|y| y.to),
            sex: f.sex,
            age_group: f.age_group,
            residence: f.residence,
            version: f.version.unwrap_or_default(),
        }
    }
}

/// Where a page stands in the whole list.
#[derive(SimpleObject)]
pub struct PageInfo {
    /// More observations follow this page.
    pub has_next_page: bool,
    /// Observations come before this page (an `after` cursor was given).
    pub has_previous_page: bool,
    /// The cursor of the first observation of the page.
    pub start_cursor: Option<String>,
    /// The cursor of the last observation of the page: pass it as `after` for the next page.
    pub end_cursor: Option<String>,
}

pub struct ObservationEdge(pub Observation, pub String);

/// An observation and its cursor.
#[Object]
impl ObservationEdge {
    /// Opaque position to pass as `after`.
    async fn cursor(&self) -> &str {
        &self.1
    }
    /// The observation.
    async fn node(&self) -> &Observation {
        &self.0
    }
}

pub struct ObservationConnection {
    edges: Vec<ObservationEdge>,
    /// None when no page was read (only aggregates or the count were asked for).
    page_info: Option<PageInfo>,
    filter: ObservationFilter,
}

/// A page of observations.
#[Object]
impl ObservationConnection {
    /// The observations of the page with their cursors.
    async fn edges(&self) -> &[ObservationEdge] {
        &self.edges
    }
    /// The observations of the page without their cursors.
    async fn nodes(&self) -> Vec<&Observation> {
        self.edges.iter().map(|e| &e.0).collect()
    }
    /// Where the page stands.
    async fn page_info(&self) -> Result<&PageInfo> {
        self.page_info.as_ref().ok_or_else(|| {
            AppError::Internal("pageInfo of a connection read without its page".into()).into()
        })
    }
    /// Aggregates of every observation the filter selects, whatever the page and order: one SQL
    /// statement over the values released to the caller.
    #[graphql(complexity = "crate::graphql::cost::AGGREGATE + child_complexity")]
    async fn aggregates(&self, ctx: &Context<'_>) -> Result<ObservationAggregates> {
        let scope = scope(ctx)?;
        let wanted = measures_of(&ctx.look_ahead());
        let question = Question {
            filter: &self.filter,
            group_by: &[],
            having: &[],
            wanted: &wanted,
            limit: ("first", 1),
        };
        let whole = snapshot(ctx)?
            .aggregate(db(ctx)?, scope, &question)
            .await?
            .first()
            .map(|g| g.aggregates.clone())
            .unwrap_or_default();
        Ok(ObservationAggregates {
            aggregates: whole,
            units: aggregate::units_of(scope, &self.filter, &[]),
        })
    }
    /// The observations the filter selects, grouped by the keys given, in key order (indicator and
    /// region codes, year, …); groups failing `having` are left out. More groups than `first` is an
    /// error, never a silently shortened answer.
    #[graphql(
        complexity = "crate::graphql::cost::AGGREGATE + crate::graphql::cost::page(first) * child_complexity"
    )]
    async fn grouped_aggregates(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to group by (at least one key).")] group_by: Vec<GroupBy>,
        #[graphql(desc = "Which groups to keep.")] having: Option<ObservationHaving>,
        #[graphql(
            desc = "The most groups to answer with (default `limits.default_page_size`, at most `limits.max_page_size`)."
        )]
        first: Option<i32>,
    ) -> Result<Vec<ObservationGroup>> {
        if group_by.is_empty() {
            return Err(AppError::invalid(
                "groupBy",
                "[]",
                "at least one key (`aggregates` is the whole filter as one group)",
            )
            .into());
        }
        let limits = &settings(ctx)?.limits;
        let max_groups = PageRequest {
            first,
            after: None,
            default_size: limits.default_page_size,
            max_size: limits.max_page_size,
        }
        .size()?;
        let scope = scope(ctx)?;
        let having = having.map(ObservationHaving::terms).unwrap_or_default();
        let wanted = measures_of(&ctx.look_ahead());
        let question = Question {
            filter: &self.filter,
            group_by: &group_by,
            having: &having,
            wanted: &wanted,
            limit: ("first", max_groups),
        };
        let groups = snapshot(ctx)?.aggregate(db(ctx)?, scope, &question).await?;
        let units = aggregate::units_of(scope, &self.filter, &group_by);
        Ok(groups
            .iter()
            .map(|g| ObservationGroup::new(g.clone(), units.clone()))
            .collect())
    }
    /// How many observations match the filter in all pages (what the caller may read).
    async fn total_count(&self, ctx: &Context<'_>) -> Result<u64> {
        // A first page without a next page is everything: no need to count.
        if let Some(p) = &self.page_info
            && !p.has_next_page
            && !p.has_previous_page
        {
            return Ok(self.edges.len() as u64);
        }
        Ok(snapshot(ctx)?
            .count(db(ctx)?, scope(ctx)?, &self.filter)
            .await?)
    }
}

#[derive(Default)]
pub struct ObservationQuery;

#[Object]
impl ObservationQuery {
    /// Observations the caller may read, in `orderBy` (default: the order they were stored). `first`
    /// is the page size (default `limits.default_page_size`, at most `limits.max_page_size`); `after`
    /// is the `endCursor` of the previous page (of the same order).
    #[graphql(complexity = "crate::graphql::cost::connection(first, &__field, child_complexity)")]
    async fn observations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which observations (default: every one the caller may read).")]
        filter: Option<ObservationFilterInput>,
        #[graphql(
            desc = "Sort keys in turn, ties broken by storage order; values hidden from the caller sort last."
        )]
        order_by: Option<Vec<OrderBy>>,
        #[graphql(desc = "Page size.")] first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
    ) -> Result<ObservationConnection> {
        let limits = &settings(ctx)?.limits;
        let filter: ObservationFilter = filter.unwrap_or_default().into();
        let request = PageRequest {
            first,
            after: after.as_deref(),
            default_size: limits.default_page_size,
            max_size: limits.max_page_size,
        };
        let (db, scope) = (db(ctx)?, scope(ctx)?);
        let order = order_by.unwrap_or_default();
        let wanted = ctx.look_ahead();
        if !["edges", "nodes", "pageInfo"]
            .iter()
            .any(|f| wanted.field(f).exists())
        {
            // An aggregates-only (or count-only) question reads no page; the arguments are still
            // checked, as a bad cursor or order is an error whatever is selected.
            request.size()?;
            order::check_order(&order)?;
            return Ok(ObservationConnection {
                edges: Vec::new(),
                page_info: None,
                filter,
            });
        }
        let page = if order.is_empty() {
            observations::list_observations(db, scope, &filter, request).await?
        } else {
            order::read_ordered_page(db, scope, &filter, &order, request.size()?, request.after)
                .await?
        };
        let edges: Vec<ObservationEdge> = page
            .records
            .into_iter()
            .map(|r| {
                let cursor = if order.is_empty() {
                    encode_cursor(r.model.id)
                } else {
                    order::encode_cursor(&order, scope, &r)
                };
                ObservationEdge(Observation(r), cursor)
            })
            .collect();
        let page_info = PageInfo {
            has_next_page: page.has_next,
            has_previous_page: page.has_previous,
            start_cursor: edges.first().map(|e| e.1.clone()),
            end_cursor: edges.last().map(|e| e.1.clone()),
        };
        Ok(ObservationConnection {
            edges,
            page_info: Some(page_info),
            filter,
        })
    }
}
