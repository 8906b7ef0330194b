//! Loading data sets into the database: the plan's catalogue, the synthetic demo, and a city's real
//! administrative divisions from a CSV file. Each load runs in one transaction: all of it or nothing.

pub mod catalogue;
pub mod demo;
pub mod regions;

use crate::error::AppResult;
use crate::service::submissions::store::{Common, NewRow, insert};
use crate::vocabulary::{Dimension, Sensitivity, Status, TargetKind, Unit, codes};
use catalogue::{Catalogue, decimals_for, natural_limit_for};
use entity::{department, dimension_code, domain, indicator, region, target};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, TransactionTrait,
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
    let txn = db.begin().await?;
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
            kind: Set(d.kind.clone()),
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

    let existing: Vec<(String, String)> = dimension_code::Entity::find()
        .all(&txn)
        .await?
        .into_iter()
        .map(|d| (d.dimension, d.code))
        .collect();
    for dimension in Dimension::ALL {
        for (position, (code, zh, en)) in codes(*dimension).iter().enumerate() {
            if existing.contains(&(dimension.as_str().to_owned(), (*code).to_owned())) {
                continue;
            }
            dimension_code::Entity::insert(dimension_code::ActiveModel {
                dimension: Set(dimension.as_str().into()),
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
        // `Catalogue::embedded` checked every code, so these lookups only fail on a broken build.
        let unit = Unit::parse(&row.unit).unwrap_or(Unit::Count);
        let kind = TargetKind::parse(&row.target_kind).unwrap_or(TargetKind::TrendUp);
        let (by_sex, by_age, by_residence) = catalogue.disaggregation(&row.code);
        let inserted = indicator::Entity::insert(indicator::ActiveModel {
            code: Set(row.code.clone()),
            name_zh: Set(row.name_zh.clone()),
            name_en: Set(row.name_en.clone()),
            domain_id: Set(domains[&row.domain]),
            unit: Set(unit.as_str().into()),
            owner_department_id: Set(departments[&row.owner_department]),
            sensitivity: Set(Sensitivity::parse(&row.sensitivity)
                .unwrap_or(Sensitivity::Restricted)
                .as_str()
                .into()),
            decimals: Set(decimals_for(unit)),
            plan_clause: Set(row.plan_clause.clone()),
            natural_limit: Set(natural_limit_for(unit, kind)),
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
            kind: Set(kind.as_str().into()),
            value: Set(row.target_value),
            baseline_year: Set(row.baseline_year),
            target_year: Set(row.target_year),
            scope: Set(row.scope.clone()),
            ..Default::default()
        })
        .exec(&txn)
        .await?;
        load.targets += 1;
    }
    txn.commit().await?;
    Ok(load)
}

/// Loads the synthetic demo (regions under `DEMO` and their observations, approved). Does nothing when
/// the demo city is already there. Needs the catalogue.
pub async fn load_demo(db: &DatabaseConnection) -> AppResult<DemoLoad> {
    let catalogue = Catalogue::embedded()?;
    let txn = db.begin().await?;
    if region::Entity::find()
        .filter(region::Column::Code.eq(demo::CITY))
        .count(&txn)
        .await?
        > 0
    {
        return Ok(DemoLoad::default());
    }
    let seeds = demo::regions();
    let mut region_ids: HashMap<String, i32> = HashMap::new();
    for r in &seeds {
        let inserted = region::Entity::insert(region::ActiveModel {
            code: Set(r.code.clone()),
            name_zh: Set(r.name_zh.clone()),
            name_en: Set(r.name_en.clone()),
            level: Set(r.level.into()),
            residence: Set(r.residence.into()),
            parent_id: Set(r.parent.as_ref().and_then(|p| region_ids.get(p).copied())),
            valid_from: Set(r.valid_from),
            valid_to: Set(r.valid_to),
            ..Default::default()
        })
        .exec(&txn)
        .await?;
        region_ids.insert(r.code.clone(), inserted.last_insert_id);
    }
    let indicator_ids: HashMap<String, i32> = indicator::Entity::find()
        .all(&txn)
        .await?
        .into_iter()
        .map(|i| (i.code, i.id))
        .collect();
    let common = Common {
        status: Status::Approved.as_str().into(),
        is_latest: true,
        is_published: true,
        submission_id: None,
        created_by: "demo".into(),
        created_at: chrono::Utc::now(),
    };
    let rows: Vec<NewRow> = demo::observations(&catalogue.targets, &seeds)
        .into_iter()
        .filter_map(|o| {
            Some(NewRow {
                indicator_id: *indicator_ids.get(&o.indicator)?,
                region_id: *region_ids.get(&o.region)?,
                year: o.year,
                sex: o.sex.into(),
                age_group: o.age_group.into(),
                residence: o.residence.into(),
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
