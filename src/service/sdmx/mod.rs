//! The other direction of the exchange: the hub as an SDMX source, so statistical tools and other hubs
//! pull its values in their own format — SDMX 2.1 REST structure queries (dataflows, the data
//! structure, code lists, concepts) and data for a dotted key and a period, as SDMX-ML 2.1
//! (`ml`), SDMX-JSON (`json`) or SDMX-CSV (`csv`). Every value is read through the caller's policy: a
//! suppressed cell has no value and `OBS_STATUS` `C` (confidential), as SDMX marks confidential values;
//! dataflows are the indicators the caller may read.

pub mod csv;
pub mod json;
pub mod ml;

pub use json::data_message;

use crate::error::{AppError, AppResult};
use crate::service::observations::{self, ObservationFilter, ReadScope, Record, Version};
use sea_orm::ConnectionTrait;

/// The agency every structure of the hub is maintained by.
pub const AGENCY: &str = "CHILDHUB";
/// The version of every structure.
pub const VERSION: &str = "1.0";
/// The one data structure every dataflow (one per indicator) uses.
pub const DSD: &str = "DSD_CHILDHUB";
/// The series dimensions of the data structure, in key order (time comes last).
pub const KEY_DIMENSIONS: [&str; 4] = ["REF_AREA", "SEX", "AGE", "URBANISATION"];

/// Which values to put in a data message.
#[derive(Clone, Debug, Default)]
pub struct SdmxQuery {
    pub indicator: String,
    pub regions: Option<Vec<String>>,
    pub year_from: Option<i32>,
    pub year_to: Option<i32>,
    /// Sex, age and residence codes wanted (none: all).
    pub sexes: Option<Vec<String>>,
    pub ages: Option<Vec<String>>,
    pub residences: Option<Vec<String>>,
}

impl SdmxQuery {
    /// The query of `flow` for an SDMX key: `all`, or four dot-separated positions (REF_AREA, SEX, AGE,
    /// URBANISATION), each empty (any) or codes joined by `+`.
    pub fn for_key(indicator: &str, key: Option<&str>) -> AppResult<SdmxQuery> {
        let mut query = SdmxQuery {
            indicator: indicator.to_owned(),
            ..SdmxQuery::default()
        };
        let Some(key) = key.filter(|k| !matches!(*k, "all" | "ALL")) else {
            return Ok(query);
        };
        let parts: Vec<&str> = key.split('.').collect();
        if parts.len() != KEY_DIMENSIONS.len() {
            return Err(AppError::invalid(
                "key",
                key,
                format!(
                    "`all` or {} dot-separated positions ({}), each empty or codes joined by `+`",
                    KEY_DIMENSIONS.len(),
                    KEY_DIMENSIONS.join(".")
                ),
            ));
        }
        let codes = |part: &str| {
            (!part.is_empty()).then(|| part.split('+').map(str::to_owned).collect::<Vec<_>>())
        };
        query.regions = codes(parts[0]);
        query.sexes = codes(parts[1]);
        query.ages = codes(parts[2]);
        query.residences = codes(parts[3]);
        Ok(query)
    }
}

/// The published values `query` selects in `scope` (suppression applied), at most `limit`.
pub async fn read_records(
    db: &impl ConnectionTrait,
    scope: &ReadScope,
    query: &SdmxQuery,
    limit: usize,
) -> AppResult<Vec<Record>> {
    let filter = ObservationFilter {
        indicators: Some(vec![query.indicator.clone()]),
        regions: query.regions.clone(),
        year_from: query.year_from,
        year_to: query.year_to,
        version: Version::Published,
        ..ObservationFilter::default()
    };
    if scope.by_code(&query.indicator).is_none() {
        return Err(AppError::NotFound(format!(
            "no dataflow {} (an indicator the caller may read)",
            query.indicator
        )));
    }
    let wanted = |list: &Option<Vec<String>>, code: &str| {
        list.as_ref().is_none_or(|l| l.iter().any(|c| c == code))
    };
    let condition = observations::filter_condition(scope, &filter)?;
    let mut records = Vec::new();
    let mut after = None;
    loop {
        let page = observations::read_page(db, scope, condition.clone(), 5000, after).await?;
        after = page.records.last().map(|r| r.model.id);
        let more = page.has_next;
        records.extend(page.records.into_iter().filter(|r| {
            wanted(&query.sexes, &r.model.sex)
                && wanted(&query.ages, &r.model.age_group)
                && wanted(&query.residences, &r.model.residence)
        }));
        if records.len() > limit {
            return Err(AppError::invalid(
                "filter",
                format!("more than {limit} observations"),
                "a narrower request (a key, startPeriod, endPeriod)",
            ));
        }
        if !more {
            return Ok(records);
        }
    }
}
