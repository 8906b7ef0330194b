//! The other direction of the exchange: an indicator's values as an SDMX-JSON data message, so other
//! statistical systems (and another hub's `sdmx_json` source) pull from the hub in their own format. The
//! values are read through the caller's policy: a suppressed cell is `null` with `OBS_STATUS` `C`
//! (confidential), as SDMX marks confidential values.

use crate::error::{AppError, AppResult};
use crate::service::catalogue;
use crate::service::observations::ReadScope;
use crate::service::observations::{self, ObservationFilter, Version};
use crate::vocabulary::{AGE_CODES, RESIDENCE_CODES, SEX_CODES};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Which values to put in the message.
#[derive(Clone, Debug, Default)]
pub struct SdmxQuery {
    pub indicator: String,
    pub regions: Option<Vec<String>>,
    pub year_from: Option<i32>,
    pub year_to: Option<i32>,
}

/// The dimensions of a series, in key order.
const SERIES_DIMENSIONS: [&str; 5] = ["INDICATOR", "REF_AREA", "SEX", "AGE", "URBANISATION"];

/// The SDMX-JSON data message of an indicator, at most `limit` observations.
pub async fn data_message(
    db: &impl ConnectionTrait,
    scope: &ReadScope,
    query: &SdmxQuery,
    limit: usize,
) -> AppResult<Value> {
    let filter = ObservationFilter {
        indicators: Some(vec![query.indicator.clone()]),
        regions: query.regions.clone(),
        year_from: query.year_from,
        year_to: query.year_to,
        version: Version::Published,
        ..ObservationFilter::default()
    };
    let indicator = scope
        .by_code(&query.indicator)
        .cloned()
        .ok_or_else(|| AppError::NotFound(format!("no indicator {}", query.indicator)))?;
    let condition = observations::filter_condition(scope, &filter)?;
    let regions = scope.reference.all_regions();
    let mut records = Vec::new();
    let mut after = None;
    loop {
        let page = observations::read_page(db, scope, condition.clone(), 5000, after).await?;
        if records.len() + page.records.len() > limit {
            return Err(AppError::invalid(
                "filter",
                format!("more than {limit} observations"),
                "a narrower request (from, to, regions)",
            ));
        }
        after = page.records.last().map(|r| r.model.id);
        let more = page.has_next;
        records.extend(page.records);
        if !more {
            break;
        }
    }
    // Each dimension lists the values that occur, in a stable order; keys are positions in those lists.
    let mut values: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut years: Vec<i32> = records.iter().map(|r| r.model.year).collect();
    years.sort_unstable();
    years.dedup();
    let region_code = |id: i32| {
        regions
            .iter()
            .find(|r| r.id == id)
            .map_or_else(String::new, |r| r.code.clone())
    };
    let key_of = |r: &observations::Record| -> [String; 5] {
        [
            indicator.code.clone(),
            region_code(r.model.region_id),
            r.model.sex.clone(),
            r.model.age_group.clone(),
            r.model.residence.clone(),
        ]
    };
    for r in &records {
        for (dim, v) in SERIES_DIMENSIONS.iter().zip(key_of(r)) {
            let list = values.entry(dim).or_default();
            if !list.contains(&v) {
                list.push(v);
            }
        }
    }
    for list in values.values_mut() {
        list.sort();
    }
    let position = |dim: &str, v: &str| {
        values
            .get(dim)
            .and_then(|l| l.iter().position(|x| x == v))
            .unwrap_or(0)
    };
    let mut series: BTreeMap<String, BTreeMap<String, Value>> = BTreeMap::new();
    for r in &records {
        let key: Vec<String> = SERIES_DIMENSIONS
            .iter()
            .zip(key_of(r))
            .map(|(dim, v)| position(dim, &v).to_string())
            .collect();
        let time = years.iter().position(|y| *y == r.model.year).unwrap_or(0);
        // Attribute OBS_STATUS: 0 = A (normal), 1 = C (confidential).
        let status = usize::from(r.suppressed);
        series
            .entry(key.join(":"))
            .or_default()
            .insert(time.to_string(), json!([r.value(), status]));
    }
    let name_of = |list: &[(&str, &str, &str)], code: &str| {
        list.iter()
            .find(|(c, _, _)| *c == code)
            .map(|(_, zh, en)| json!({ "zh": zh, "en": en }))
            .unwrap_or_else(|| json!({ "en": code }))
    };
    let dimension = |dim: &str, index: usize| {
        let vals: Vec<Value> = values
            .get(dim)
            .into_iter()
            .flatten()
            .map(|v| {
                let names = match dim {
                    "INDICATOR" => json!({ "zh": indicator.name_zh, "en": indicator.name_en }),
                    "REF_AREA" => regions
                        .iter()
                        .find(|r| r.code == *v)
                        .map(|r| json!({ "zh": r.name_zh, "en": r.name_en }))
                        .unwrap_or_else(|| json!({ "en": v })),
                    "SEX" => name_of(SEX_CODES, v),
                    "AGE" => name_of(AGE_CODES, v),
                    _ => name_of(RESIDENCE_CODES, v),
                };
                json!({ "id": v, "names": names })
            })
            .collect();
        json!({ "id": dim, "keyPosition": index, "values": vals })
    };
    let department = catalogue::list_departments(db)
        .await?
        .into_iter()
        .find(|d| d.id == indicator.owner_department_id)
        .map(|d| d.code)
        .unwrap_or_default();
    Ok(json!({
        "meta": {
            "schema": "https://raw.githubusercontent.com/sdmx-twg/sdmx-json/v2.0.0/data-message/tools/schemas/2.0.0/sdmx-json-data-schema.json",
            "id": format!("childhub-{}-{}", indicator.code, uuid::Uuid::new_v4().simple()),
            "prepared": chrono::Utc::now(),
            "sender": { "id": "childhub" },
            "contentLanguages": ["zh", "en"],
        },
        "data": {
            "structures": [{
                "dimensions": {
                    "dataSet": [],
                    "series": SERIES_DIMENSIONS.iter().enumerate().map(|(i, d)| dimension(d, i)).collect::<Vec<_>>(),
                    "observation": [{
                        "id": "TIME_PERIOD", "keyPosition": 5, "role": "TIME_PERIOD",
                        "values": years.iter().map(|y| json!({ "id": y.to_string(), "value": y.to_string() })).collect::<Vec<_>>(),
                    }],
                },
                "attributes": {
                    "observation": [{ "id": "OBS_STATUS", "values": [
                        { "id": "A", "names": { "en": "Normal value" } },
                        { "id": "C", "names": { "en": "Confidential (suppressed)" } },
                    ] }],
                },
                "annotations": [{ "id": "unit", "text": indicator.unit.as_str() }, { "id": "owner", "text": department }],
            }],
            "dataSets": [{
                "structure": 0,
                "action": "Information",
                "series": series.into_iter().map(|(k, obs)| (k, json!({ "observations": obs }))).collect::<serde_json::Map<String, Value>>(),
            }],
        },
    }))
}
