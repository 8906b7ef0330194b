//! An indicator's values as an SDMX-JSON 2.0 data message (what `/sdmx/data/{indicator}` answers and
//! another hub's `sdmx_json` source reads): a suppressed cell is `null` with `OBS_STATUS` `C`.

use super::{SdmxQuery, read_records};
use crate::error::{AppError, AppResult};
use crate::service::catalogue;
use crate::service::observations::{self, ReadScope};
use crate::vocabulary::{AGE_CODES, RESIDENCE_CODES, SEX_CODES};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The dimensions of a series, in key order.
const SERIES_DIMENSIONS: [&str; 5] = ["INDICATOR", "REF_AREA", "SEX", "AGE", "URBANISATION"];

/// The SDMX-JSON data message of an indicator, at most `limit` observations.
pub async fn data_message(
    db: &impl ConnectionTrait,
    scope: &ReadScope,
    query: &SdmxQuery,
    limit: usize,
) -> AppResult<Value> {
    let indicator = scope
        .by_code(&query.indicator)
        .cloned()
        .ok_or_else(|| AppError::NotFound(format!("no indicator {}", query.indicator)))?;
    let records = read_records(db, scope, query, limit).await?;
    let regions = scope.reference.all_regions();
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
