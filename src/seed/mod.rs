//! Loading data sets into the database: the plan's catalogue, the synthetic demo, and a city's real
//! administrative divisions from a CSV file. Each load runs in one transaction: all of it or nothing.

pub mod catalogue;
pub mod demo;

use crate::auth::Role;
use crate::error::AppResult;
use crate::service::audit::WriteContext;
use crate::service::regions::write::{RegionInput, create_region};
use crate::service::submissions::store::{Common, NewRow, insert};
use crate::vocabulary::{Dimension, Status, codes};
use catalogue::Catalogue;
use entity::observation::{Key, SeriesKey};
use entity::{department, dimension_code, domain, indicator, region, target};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter,
};
use std::collections::HashMap;

/// What a catalogue load added (rows already present by code are left as they are).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct CatalogueLoad {
    pub departments: usize,
    pub domains: usize,
    pub indicators: usize,
    pub targets: usize,
    pub dimension_codes: usize,
}

/// What a demo load added.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct DemoLoad {
    pub regions: usize,
    pub observations: usize,
}

/// Whether the database holds no catalogue yet.
pub async fn is_empty(db: &impl ConnectionTrait) -> AppResult<bool> {
    Ok(department::Entity::find().count(db).await? == 0)
}

/// Loads the plan's catalogue; rows whose code already exists are kept unchanged, so it can run again.
pub async fn load_catalogue(db: &DatabaseConnection) -> AppResult<CatalogueLoad> {
    let catalogue = Catalogue::embedded()?;
    let txn = crate::service::begin_write(db).await?;
    let mut load = CatalogueLoad::default();

    let existing: Vec<String> = department::Entity::find()
        .all(&txn)
        .await?
        .into_iter()
        .map(|d| d.code)
        .collect();
    for d in catalogue
        .departments
        .iter()
        .filter(|d| !existing.contains(&d.code))
    {
        department::Entity::insert(department::ActiveModel {
            code: Set(d.code.clone()),
            name_zh: Set(d.name_zh.clone()),
            name_en: Set(d.name_en.clone()),
            kind: Set(d.kind),
            ..Default::default()
        })
        .exec(&txn)
        .await?;
        load.departments += 1;
    }

    let existing: Vec<String> = domain::Entity::find()
        .all(&txn)
        .await?
        .into_iter()
        .map(|d| d.code)
        .collect();
    for d in catalogue
        .domains
        .iter()
        .filter(|d| !existing.contains(&d.code))
    {
        domain::Entity::insert(domain::ActiveModel {
            code: Set(d.code.clone()),
            name_zh: Set(d.name_zh.clone()),
            name_en: Set(d.name_en.clone()),
            position: Set(d.position),
            ..Default::default()
        })
        .exec(&txn)
        .await?;
        load.domains += 1;
    }

    let existing: Vec<(Dimension, String)> = dimension_code::Entity::find()
        .all(&txn)
        .await?
        .into_iter()
        .map(|d| (d.dimension, d.code))
        .collect();
    for dimension in Dimension::ALL {
        for (position, (code, zh, en)) in codes(*dimension).iter().enumerate() {
            if existing.contains(&(*dimension, (*code).to_owned())) {
                continue;
            }
            dimension_code::Entity::insert(dimension_code::ActiveModel {
                dimension: Set(*dimension),
                code: Set((*code).into()),
                name_zh: Set((*zh).into()),
                name_en: Set((*en).into()),
                position: Set(position as i32),
                ..Default::default()
            })
            .exec(&txn)
            .await?;
            load.dimension_codes += 1;
        }
    }

    let departments: HashMap<String, i32> = department::Entity::find()
        .all(&txn)
        .await?
        .into_iter()
        .map(|d| (d.code, d.id))
        .collect();
    let domains: HashMap<String, i32> = domain::Entity::find()
        .all(&txn)
        .await?
        .into_iter()
        .map(|d| (d.code, d.id))
        .collect();
    let existing: Vec<String> = indicator::Entity::find()
        .all(&txn)
        .await?
        .into_iter()
        .map(|i| i.code)
        .collect();
    for row in catalogue
        .targets
        .iter()
        .filter(|t| !existing.contains(&t.code))
    {
        let (unit, kind) = (row.unit, row.target_kind);
        let (by_sex, by_age, by_residence) = catalogue.disaggregation(&row.code);
        let inserted = indicator::Entity::insert(indicator::ActiveModel {
            code: Set(row.code.clone()),
            name_zh: Set(row.name_zh.clone()),
            name_en: Set(row.name_en.clone()),
            domain_id: Set(domains[&row.domain]),
            unit: Set(unit),
            owner_department_id: Set(departments[&row.owner_department]),
            sensitivity: Set(row.sensitivity),
            decimals: Set(unit.default_decimals()),
            plan_clause: Set(row.plan_clause.clone()),
            by_sex: Set(by_sex),
            by_age: Set(by_age),
            by_residence: Set(by_residence),
            ..Default::default()
        })
        .exec(&txn)
        .await?;
        load.indicators += 1;
        target::Entity::insert(target::ActiveModel {
            indicator_id: Set(inserted.last_insert_id),
            kind: Set(kind),
            value: Set(row.target_value),
            baseline_year: Set(row.baseline_year),
            target_year: Set(row.target_year),
            scope: Set(row.scope),
            natural_limit: Set(row.natural_limit),
            limit_reason: Set(row.limit_reason.clone()),
            maintain: Set(row.maintain),
            ..Default::default()
        })
        .exec(&txn)
        .await?;
        load.targets += 1;
    }
    if load != CatalogueLoad::default() {
        // Like any catalogue change: replicas holding the catalogue in memory read it again.
        let change = crate::service::audit::Change {
            action: "seed",
            entity_type: "catalogue",
            entity_key: "plan",
            department_id: None,
        };
        crate::service::audit::catalogue_changed(&txn, &change).await?;
    }
    txn.commit().await?;
    Ok(load)
}

/// Loads the synthetic demo (regions under `DEMO` and their observations, approved). Does nothing when
/// the demo city is already there. Needs the catalogue.
pub async fn load_demo(db: &DatabaseConnection) -> AppResult<DemoLoad> {
    let catalogue = Catalogue::embedded()?;
    let txn = crate::service::begin_write(db).await?;
    if region::Entity::find()
        .filter(region::Column::Code.eq(demo::CITY))
        .count(&txn)
        .await?
        > 0
    {
        return Ok(DemoLoad::default());
    }
    let seeds = demo::regions();
    // The demo's regions go through the same checks and audit as an admin's.
    let ctx = WriteContext::new(
        crate::service::catalogue::local_identity(&txn, "statistics", &[Role::Admin]).await?,
        "seed-demo".into(),
    );
    let mut region_ids: HashMap<String, i32> = HashMap::new();
    for r in &seeds {
        let input = RegionInput {
            name_zh: Some(r.name_zh.clone()),
            name_en: Some(r.name_en.clone()),
            level: Some(r.level),
            residence: Some(r.residence),
            parent: r.parent.clone(),
            valid_from: r.valid_from,
            valid_to: r.valid_to,
        };
        let saved = create_region(&txn, &ctx, &r.code, input).await?;
        region_ids.insert(r.code.clone(), saved.id);
    }
    let indicator_ids: HashMap<String, i32> = indicator::Entity::find()
        .all(&txn)
        .await?
        .into_iter()
        .map(|i| (i.code, i.id))
        .collect();
    let common = Common {
        status: Status::Approved,
        is_latest: true,
        is_published: true,
        submission_id: None,
        created_by: "demo".into(),
        created_at: chrono::Utc::now(),
        source_run_id: None,
    };
    let rows: Vec<NewRow> = demo::observations(&catalogue.targets, &seeds)
        .into_iter()
        .filter_map(|o| {
            Some(NewRow {
                key: Key {
                    series: SeriesKey {
                        indicator_id: *indicator_ids.get(&o.indicator)?,
                        region_id: *region_ids.get(&o.region)?,
                        sex: o.sex.into(),
                        age_group: o.age_group.into(),
                        residence: o.residence.into(),
                    },
                    year: o.year,
                },
                value: o.value,
                numerator: o.numerator,
                denominator: o.denominator,
                revision: 1,
                quality_flag: None,
            })
        })
        .collect();
    let observations = rows.len();
    insert(&txn, &common, &rows).await?;
    txn.commit().await?;
    Ok(DemoLoad {
        regions: seeds.len(),
        observations,
    })
}
