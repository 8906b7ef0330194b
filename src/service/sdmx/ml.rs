//! SDMX-ML 2.1: the structure message (dataflows, the data structure, code lists, the concept scheme)
//! and the structure-specific data message, rendered from `templates/sdmx/` (askama escapes every value
//! for XML). Structures show what the caller may read: one dataflow per readable indicator, and only
//! the city among the areas for a caller who reads city values only.

use super::{AGENCY, DSD, KEY_DIMENSIONS, SdmxQuery, VERSION, read_records};
use crate::error::{AppError, AppResult};
use crate::service::observations::ReadScope;
use crate::vocabulary::{AGE_CODES, CodeEntry, RESIDENCE_CODES, RegionLevel, SEX_CODES, Unit};
use askama::Template;
use sea_orm::ConnectionTrait;
use std::collections::BTreeMap;

/// The concept scheme of every component.
const SCHEME: &str = "CS_CHILDHUB";

/// A structure resource of SDMX 2.1 REST.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Resource {
    Dataflow,
    DataStructure,
    Codelist,
    ConceptScheme,
}

impl Resource {
    /// The resource of a REST path segment (`dataflow`, `datastructure`, `codelist`, `conceptscheme`).
    pub fn parse(segment: &str) -> Option<Resource> {
        match segment {
            "dataflow" => Some(Resource::Dataflow),
            "datastructure" => Some(Resource::DataStructure),
            "codelist" => Some(Resource::Codelist),
            "conceptscheme" => Some(Resource::ConceptScheme),
            _ => None,
        }
    }
}

/// The `references` of a structure query: which related structures come along.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum References {
    None,
    Parents,
    Children,
    Descendants,
    All,
}

impl References {
    pub fn parse(value: &str) -> AppResult<References> {
        match value {
            "none" => Ok(References::None),
            "parents" | "parentsandsiblings" => Ok(References::Parents),
            "children" => Ok(References::Children),
            "descendants" => Ok(References::Descendants),
            "all" => Ok(References::All),
            // A structure type asks for those related structures of that type; every structure here
            // is related to every other, so it is answered as `all`.
            "dataflow" | "datastructure" | "codelist" | "conceptscheme" => Ok(References::All),
            other => Err(AppError::invalid(
                "references",
                other,
                "none, parents, parentsandsiblings, children, descendants, all, or a structure type",
            )),
        }
    }
}

/// A name in Chinese and English.
type Names = Vec<(&'static str, String)>;

fn names(zh: &str, en: &str) -> Names {
    vec![("en", en.to_owned()), ("zh", zh.to_owned())]
}

struct Item {
    id: String,
    names: Names,
    parent: Option<String>,
}

struct Codelist {
    id: String,
    names: Names,
    items: Vec<Item>,
}

struct Flow {
    id: String,
    names: Names,
}

#[derive(Template)]
#[template(path = "sdmx/structure.xml")]
struct StructureMessage<'a> {
    id: String,
    prepared: String,
    agency: &'a str,
    version: &'a str,
    dsd: &'a str,
    scheme: &'a str,
    dimensions: &'a [&'a str],
    flows: Vec<Flow>,
    codelists: Vec<Codelist>,
    concepts: Vec<Item>,
    with_dsd: bool,
}

/// What a structure query for `resource` (`id`: one of them, none: all) with `references` answers, as
/// an SDMX-ML 2.1 structure message; an unknown or unreadable id is `NotFound`.
pub fn structure_message(
    scope: &ReadScope,
    resource: Resource,
    id: Option<&str>,
    references: References,
) -> AppResult<String> {
    let children = matches!(
        references,
        References::Children | References::Descendants | References::All
    );
    let descendants = matches!(references, References::Descendants | References::All);
    let parents = matches!(references, References::Parents | References::All);
    let (mut flows, mut codelists, mut concepts, mut with_dsd) = (false, false, false, false);
    let mut only_flow = None;
    let mut only_list = None;
    match resource {
        Resource::Dataflow => {
            flows = true;
            only_flow = id;
            with_dsd = children;
            codelists = descendants;
            concepts = descendants;
        }
        Resource::DataStructure => {
            if id.is_some_and(|i| i != DSD) {
                return Err(not_found("data structure", id));
            }
            with_dsd = true;
            codelists = children;
            concepts = children;
            flows = parents;
        }
        Resource::Codelist => {
            codelists = true;
            only_list = id;
        }
        Resource::ConceptScheme => {
            if id.is_some_and(|i| i != SCHEME) {
                return Err(not_found("concept scheme", id));
            }
            concepts = true;
        }
    }
    let flows: Vec<Flow> = if flows {
        let mut readable: Vec<_> = scope.indicators.values().map(|(i, _)| i).collect();
        readable.sort_by(|a, b| a.code.cmp(&b.code));
        let found: Vec<Flow> = readable
            .into_iter()
            .filter(|i| only_flow.is_none_or(|code| code == i.code))
            .map(|i| Flow {
                id: i.code.clone(),
                names: names(&i.name_zh, &i.name_en),
            })
            .collect();
        if found.is_empty() && only_flow.is_some() {
            return Err(not_found("dataflow", only_flow));
        }
        found
    } else {
        Vec::new()
    };
    let codelists: Vec<Codelist> = if codelists {
        let found: Vec<Codelist> = code_lists(scope)
            .into_iter()
            .filter(|l| only_list.is_none_or(|id| id == l.id))
            .collect();
        if found.is_empty() {
            return Err(not_found("codelist", only_list));
        }
        found
    } else {
        Vec::new()
    };
    let message = StructureMessage {
        id: message_id(),
        prepared: prepared(),
        agency: AGENCY,
        version: VERSION,
        dsd: DSD,
        scheme: SCHEME,
        dimensions: &KEY_DIMENSIONS,
        flows,
        codelists,
        concepts: if concepts {
            concept_items()
        } else {
            Vec::new()
        },
        with_dsd,
    };
    render(&message)
}

fn not_found(what: &str, id: Option<&str>) -> AppError {
    AppError::NotFound(format!(
        "no {what} {} maintained by {AGENCY} that the caller may read",
        id.unwrap_or("at all")
    ))
}

fn render(template: &impl Template) -> AppResult<String> {
    template
        .render()
        .map_err(|e| AppError::Internal(format!("SDMX template: {e}")))
}

fn message_id() -> String {
    format!("CHILDHUB_{}", uuid::Uuid::new_v4().simple())
}

fn prepared() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn concept_items() -> Vec<Item> {
    [
        ("REF_AREA", "地区", "Reference area"),
        ("SEX", "性别", "Sex"),
        ("AGE", "年龄", "Age"),
        ("URBANISATION", "城乡", "Degree of urbanisation"),
        ("TIME_PERIOD", "时期", "Time period"),
        ("OBS_VALUE", "观测值", "Observation value"),
        ("OBS_STATUS", "观测状态", "Observation status"),
        ("UNIT_MEASURE", "计量单位", "Unit of measure"),
    ]
    .into_iter()
    .map(|(id, zh, en)| Item {
        id: id.to_owned(),
        names: names(zh, en),
        parent: None,
    })
    .collect()
}

fn entries(list: &[CodeEntry]) -> Vec<Item> {
    list.iter()
        .map(|(code, zh, en)| Item {
            id: (*code).to_owned(),
            names: names(zh, en),
            parent: None,
        })
        .collect()
}

/// Every code list of the data structure, areas limited to what the caller may read.
fn code_lists(scope: &ReadScope) -> Vec<Codelist> {
    let reference = &scope.reference;
    let areas = reference
        .all_regions()
        .iter()
        .filter(|r| !scope.city_level_only || r.level == RegionLevel::City)
        .map(|r| Item {
            id: r.code.clone(),
            names: names(&r.name_zh, &r.name_en),
            parent: r
                .parent_id
                .filter(|_| !scope.city_level_only)
                .and_then(|p| reference.region_by_id(p))
                .map(|p| p.code.clone()),
        })
        .collect();
    let units = Unit::ALL
        .iter()
        .map(|u| Item {
            id: u.as_str().to_owned(),
            names: vec![("en", u.as_str().replace('_', " "))],
            parent: None,
        })
        .collect();
    vec![
        Codelist {
            id: "CL_REF_AREA".into(),
            names: names("地区", "Reference area"),
            items: areas,
        },
        Codelist {
            id: "CL_SEX".into(),
            names: names("性别", "Sex"),
            items: entries(SEX_CODES),
        },
        Codelist {
            id: "CL_AGE".into(),
            names: names("年龄组", "Age group"),
            items: entries(AGE_CODES),
        },
        Codelist {
            id: "CL_URBANISATION".into(),
            names: names("城乡", "Degree of urbanisation"),
            items: entries(RESIDENCE_CODES),
        },
        Codelist {
            id: "CL_OBS_STATUS".into(),
            names: names("观测状态", "Observation status"),
            items: entries(&[
                ("A", "正常值", "Normal value"),
                (
                    "C",
                    "保密（小数值抑制）",
                    "Confidential (small-cell suppression)",
                ),
            ]),
        },
        Codelist {
            id: "CL_UNIT_MEASURE".into(),
            names: names("计量单位", "Unit of measure"),
            items: units,
        },
    ]
}

struct Obs {
    time: i32,
    value: Option<String>,
    status: &'static str,
}

struct Series {
    ref_area: String,
    sex: String,
    age: String,
    urbanisation: String,
    observations: Vec<Obs>,
}

#[derive(Template)]
#[template(path = "sdmx/data.xml")]
struct DataMessage<'a> {
    id: String,
    prepared: String,
    agency: &'a str,
    version: &'a str,
    dsd: &'a str,
    structure_id: String,
    unit: &'a str,
    series: Vec<Series>,
}

/// The structure-specific data message of `query`, at most `limit` observations.
pub async fn data_message(
    db: &impl ConnectionTrait,
    scope: &ReadScope,
    query: &SdmxQuery,
    limit: usize,
) -> AppResult<String> {
    let records = read_records(db, scope, query, limit).await?;
    let indicator = scope
        .by_code(&query.indicator)
        .ok_or_else(|| not_found("dataflow", Some(&query.indicator)))?;
    let mut series: BTreeMap<(String, String, String, String), Vec<Obs>> = BTreeMap::new();
    for r in &records {
        let area = scope
            .reference
            .region_by_id(r.model.region_id)
            .map(|g| g.code.clone())
            .unwrap_or_default();
        series
            .entry((
                area,
                r.model.sex.clone(),
                r.model.age_group.clone(),
                r.model.residence.clone(),
            ))
            .or_default()
            .push(Obs {
                time: r.model.year,
                value: r.value().map(|v| v.to_string()),
                status: if r.suppressed { "C" } else { "A" },
            });
    }
    let series = series
        .into_iter()
        .map(|((ref_area, sex, age, urbanisation), mut observations)| {
            observations.sort_by_key(|o| o.time);
            Series {
                ref_area,
                sex,
                age,
                urbanisation,
                observations,
            }
        })
        .collect();
    render(&DataMessage {
        id: message_id(),
        prepared: prepared(),
        agency: AGENCY,
        version: VERSION,
        dsd: DSD,
        structure_id: format!("{AGENCY}_{DSD}_1_0"),
        unit: indicator.unit.as_str(),
        series,
    })
}
