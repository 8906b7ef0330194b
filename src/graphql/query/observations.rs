//! The `observations` root field: a Relay connection over the values the caller may read.

use crate::graphql::context::{db, scope, settings, snapshot};
use crate::graphql::types::Observation;
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
    page_info: PageInfo,
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
    async fn page_info(&self) -> &PageInfo {
        &self.page_info
    }
    /// How many observations match the filter in all pages (what the caller may read).
    async fn total_count(&self, ctx: &Context<'_>) -> Result<u64> {
        // A first page without a next page is everything: no need to count.
        if !self.page_info.has_next_page && !self.page_info.has_previous_page {
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
    /// Observations the caller may read, in the order they were stored. `first` is the page size
    /// (default `limits.default_page_size`, at most `limits.max_page_size`); `after` is the `endCursor`
    /// of the previous page.
    #[graphql(complexity = "crate::graphql::cost::page(first) * child_complexity")]
    async fn observations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which observations (default: every one the caller may read).")]
        filter: Option<ObservationFilterInput>,
        #[graphql(desc = "Page size.")] first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
    ) -> Result<ObservationConnection> {
        let limits = &settings(ctx)?.limits;
        let filter: ObservationFilter = filter.unwrap_or_default().into();
        let page = observations::list_observations(
            db(ctx)?,
            scope(ctx)?,
            &filter,
            PageRequest {
                first,
                after: after.as_deref(),
                default_size: limits.default_page_size,
                max_size: limits.max_page_size,
            },
        )
        .await?;
        let edges: Vec<ObservationEdge> = page
            .records
            .into_iter()
            .map(|r| {
                let cursor = encode_cursor(r.model.id);
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
            page_info,
            filter,
        })
    }
}
