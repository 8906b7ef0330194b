//! Catalogue changes by admins: departments, indicators, their targets, and regions (including the
//! validity years of a township that is merged or split). Each change is checked, written with its audit
//! entry in one transaction, and reports bad input by field.

use crate::auth::{Role, policy};
use crate::error::{AppError, AppResult};
use crate::service::audit::{self, Entry, WriteContext};
use crate::service::{catalogue, regions};
use crate::vocabulary::{
    DepartmentKind, Dimension, RegionLevel, Sensitivity, TargetKind, TargetScope, Unit,
};
use entity::{department, indicator, observation, region, target};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
};
use serde_json::json;

fn check_code(field: &str, code: &str) -> AppResult<()> {
    let ok = !code.is_empty()
        && code.len() <= 32
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(AppError::invalid(
            field,
            code,
            "1–32 letters, digits, '-' or '_'",
        ))
    }
}

fn check_name(field: &str, name: &str) -> AppResult<()> {
    if name.trim().is_empty() || name.chars().count() > 200 {
        Err(AppError::invalid(field, name, "a name of 1–200 characters"))
    } else {
        Ok(())
    }
}

/// A department's fields; on update, `None` keeps the stored value.
#[derive(Clone, Debug, Default)]
pub struct DepartmentInput {
    pub name_zh: Option<String>,
    pub name_en: Option<String>,
    pub kind: Option<DepartmentKind>,
}

/// Creates (`create`) or updates the department `code`.
pub async fn save_department(
    db: &DatabaseConnection,
    ctx: &WriteContext,
    code: &str,
    input: DepartmentInput,
    create: bool,
) -> AppResult<department::Model> {
    policy::authorize_city_admin(&ctx.identity)?;
    check_code("code", code)?;
    let txn = db.begin().await?;
    let existing = catalogue::find_department(&txn, code).await?;
    let saved = match (existing.clone(), create) {
        (Some(_), true) => {
            return Err(AppError::Conflict(format!(
                "department {code} exists already"
            )));
        }
        (None, false) => {
            return Err(AppError::NotFound(format!(
                "department {code} does not exist"
            )));
        }
        (None, true) => {
            let name_zh = input
                .name_zh
                .ok_or_else(|| AppError::invalid("input.nameZh", "", "a Chinese name"))?;
            let name_en = input
                .name_en
                .ok_or_else(|| AppError::invalid("input.nameEn", "", "an English name"))?;
            check_name("input.nameZh", &name_zh)?;
            check_name("input.nameEn", &name_en)?;
            department::Entity::insert(department::ActiveModel {
                code: Set(code.to_owned()),
                name_zh: Set(name_zh),
                name_en: Set(name_en),
                kind: Set(input.kind.unwrap_or(DepartmentKind::Owner).as_str().into()),
                ..Default::default()
            })
            .exec_with_returning(&txn)
            .await?
        }
        (Some(current), false) => {
            let mut model: department::ActiveModel = current.into();
            if let Some(n) = input.name_zh {
                check_name("input.nameZh", &n)?;
                model.name_zh = Set(n);
            }
            if let Some(n) = input.name_en {
                check_name("input.nameEn", &n)?;
                model.name_en = Set(n);
            }
            if let Some(k) = input.kind {
                model.kind = Set(k.as_str().into());
            }
            department::Entity::update(model).exec(&txn).await?
        }
    };
    audit::record(
        &txn,
        ctx,
        Entry {
            action: if create {
                "department.create"
            } else {
                "department.update"
            },
            entity_type: "department",
            entity_key: code.to_owned(),
            department_id: Some(saved.id),
            before: existing.map(|e| json!(e)),
            after: Some(json!(saved)),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}

/// An indicator's fields; on update, `None` keeps the stored value.
#[derive(Clone, Debug, Default)]
pub struct IndicatorInput {
    pub name_zh: Option<String>,
    pub name_en: Option<String>,
    pub domain: Option<String>,
    pub unit: Option<Unit>,
    pub owner_department: Option<String>,
    pub sensitivity: Option<Sensitivity>,
    pub decimals: Option<i32>,
    pub plan_clause: Option<String>,
    pub natural_limit: Option<f64>,
    pub dimensions: Option<Vec<Dimension>>,
}

/// Creates (`create`) or updates the indicator `code`.
pub async fn save_indicator(
    db: &DatabaseConnection,
    ctx: &WriteContext,
    code: &str,
    input: IndicatorInput,
    create: bool,
) -> AppResult<indicator::Model> {
    policy::require_role(&ctx.identity, Role::Admin)?;
    check_code("code", code)?;
    let txn = db.begin().await?;
    let existing = catalogue::find_indicator(&txn, &ctx.identity, code).await?;
    let mut model: indicator::ActiveModel = match (&existing, create) {
        (Some(_), true) => {
            return Err(AppError::Conflict(format!(
                "indicator {code} exists already"
            )));
        }
        (None, false) => {
            return Err(AppError::NotFound(format!(
                "indicator {code} does not exist"
            )));
        }
        (Some(current), false) => current.clone().into(),
        (None, true) => {
            let required = |v: &Option<String>, field: &str, what: &str| {
                v.clone().ok_or_else(|| AppError::invalid(field, "", what))
            };
            required(&input.name_zh, "input.nameZh", "a Chinese name")?;
            required(&input.name_en, "input.nameEn", "an English name")?;
            required(&input.domain, "input.domain", "a domain code")?;
            required(
                &input.owner_department,
                "input.ownerDepartment",
                "a department code",
            )?;
            let unit = input
                .unit
                .ok_or_else(|| AppError::invalid("input.unit", "", Unit::expected()))?;
            indicator::ActiveModel {
                code: Set(code.to_owned()),
                unit: Set(unit.as_str().into()),
                sensitivity: Set(Sensitivity::Internal.as_str().into()),
                decimals: Set(crate::seed::catalogue::decimals_for(unit)),
                plan_clause: Set(String::new()),
                natural_limit: Set(None),
                by_sex: Set(false),
                by_age: Set(false),
                by_residence: Set(false),
                ..Default::default()
            }
        }
    };
    if let Some(n) = input.name_zh {
        check_name("input.nameZh", &n)?;
        model.name_zh = Set(n);
    }
    if let Some(n) = input.name_en {
        check_name("input.nameEn", &n)?;
        model.name_en = Set(n);
    }
    if let Some(code) = &input.domain {
        let found = catalogue::require_domain(&txn, "input.domain", code).await?;
        model.domain_id = Set(found.id);
    }
    // Who may do this depends on whose indicator it is and what changes: the owner department's admin
    // manages its indicator, only a city admin moves it to another owner or changes its sensitivity.
    let current_owner = existing.as_ref().map(|e| e.owner_department_id);
    if let Some(owner) = current_owner {
        policy::authorize_department_admin(&ctx.identity, owner)?;
    }
    let sensitivity_changes = input.sensitivity.is_some_and(|s| {
        existing
            .as_ref()
            .map_or(s != Sensitivity::Internal, |e| e.sensitivity != s.as_str())
    });
    if sensitivity_changes {
        policy::authorize_city_admin(&ctx.identity)?;
    }
    if let Some(code) = &input.owner_department {
        let found = catalogue::require_department(&txn, "input.ownerDepartment", code).await?;
        match current_owner {
            Some(owner) if owner != found.id => {
                policy::authorize_city_admin(&ctx.identity)?;
            }
            Some(_) => {}
            None => {
                policy::authorize_department_admin(&ctx.identity, found.id)?;
            }
        }
        if found.kind != DepartmentKind::Owner.as_str() {
            return Err(AppError::invalid(
                "input.ownerDepartment",
                code,
                "a reporting department (coordinators own no indicators)",
            ));
        }
        model.owner_department_id = Set(found.id);
    }
    if let Some(unit) = input.unit {
        model.unit = Set(unit.as_str().into());
    }
    if let Some(s) = input.sensitivity {
        model.sensitivity = Set(s.as_str().into());
    }
    if let Some(d) = input.decimals {
        if !(0..=6).contains(&d) {
            return Err(AppError::invalid("input.decimals", d, "0 to 6"));
        }
        model.decimals = Set(d);
    }
    if let Some(c) = input.plan_clause {
        model.plan_clause = Set(c);
    }
    if let Some(l) = input.natural_limit {
        if !l.is_finite() || l <= 0.0 {
            return Err(AppError::invalid(
                "input.naturalLimit",
                l,
                "a positive number",
            ));
        }
        model.natural_limit = Set(Some(l));
    }
    if let Some(dims) = input.dimensions {
        model.by_sex = Set(dims.contains(&Dimension::Sex));
        model.by_age = Set(dims.contains(&Dimension::Age));
        model.by_residence = Set(dims.contains(&Dimension::Residence));
    }
    let saved = if create {
        indicator::Entity::insert(model)
            .exec_with_returning(&txn)
            .await?
    } else {
        indicator::Entity::update(model).exec(&txn).await?
    };
    audit::record(
        &txn,
        ctx,
        Entry {
            action: if create {
                "indicator.create"
            } else {
                "indicator.update"
            },
            entity_type: "indicator",
            entity_key: code.to_owned(),
            department_id: Some(saved.owner_department_id),
            before: existing.map(|e| json!(e)),
            after: Some(json!(saved)),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}

/// One target of an indicator.
#[derive(Clone, Debug)]
pub struct TargetInput {
    pub kind: TargetKind,
    pub value: Option<f64>,
    pub baseline_year: i32,
    pub target_year: i32,
    pub scope: TargetScope,
}

/// Replaces the targets of an indicator.
pub async fn set_targets(
    db: &DatabaseConnection,
    ctx: &WriteContext,
    indicator_code: &str,
    targets: Vec<TargetInput>,
) -> AppResult<Vec<target::Model>> {
    policy::require_role(&ctx.identity, Role::Admin)?;
    for (i, t) in targets.iter().enumerate() {
        let field = |name: &str| format!("targets[{i}].{name}");
        match (t.kind.has_value(), t.value) {
            (true, None) => {
                return Err(AppError::invalid(
                    field("value"),
                    "null",
                    format!("a number for {}", t.kind),
                ));
            }
            (false, Some(v)) => {
                return Err(AppError::invalid(
                    field("value"),
                    v,
                    format!("no value for {}", t.kind),
                ));
            }
            (_, Some(v)) if !v.is_finite() => {
                return Err(AppError::invalid(field("value"), v, "a finite number"));
            }
            _ => {}
        }
        if t.baseline_year >= t.target_year {
            return Err(AppError::invalid(
                field("targetYear"),
                t.target_year,
                format!("a year after the baseline year {}", t.baseline_year),
            ));
        }
    }
    let txn = db.begin().await?;
    let indicator =
        catalogue::require_indicator(&txn, &ctx.identity, "indicator", indicator_code).await?;
    policy::authorize_department_admin(&ctx.identity, indicator.owner_department_id)?;
    let before = target::Entity::find()
        .filter(target::Column::IndicatorId.eq(indicator.id))
        .all(&txn)
        .await?;
    target::Entity::delete_many()
        .filter(target::Column::IndicatorId.eq(indicator.id))
        .exec(&txn)
        .await?;
    let mut saved = Vec::new();
    for t in targets {
        saved.push(
            target::Entity::insert(target::ActiveModel {
                indicator_id: Set(indicator.id),
                kind: Set(t.kind.as_str().into()),
                value: Set(t.value),
                baseline_year: Set(t.baseline_year),
                target_year: Set(t.target_year),
                scope: Set(t.scope.as_str().into()),
                ..Default::default()
            })
            .exec_with_returning(&txn)
            .await?,
        );
    }
    audit::record(
        &txn,
        ctx,
        Entry {
            action: "targets.set",
            entity_type: "indicator",
            entity_key: indicator.code.clone(),
            department_id: Some(indicator.owner_department_id),
            before: Some(json!(before)),
            after: Some(json!(saved)),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}

/// A region's fields; on update, `None` keeps the stored value. `clear_valid_to` reopens a region.
#[derive(Clone, Debug, Default)]
pub struct RegionInput {
    pub name_zh: Option<String>,
    pub name_en: Option<String>,
    pub level: Option<RegionLevel>,
    pub residence: Option<String>,
    pub parent: Option<String>,
    pub valid_from: Option<i32>,
    pub valid_to: Option<i32>,
}

/// Creates (`create`) or updates the region `code`. Validity years may not exclude years the region
/// already has values for.
pub async fn save_region(
    db: &DatabaseConnection,
    ctx: &WriteContext,
    code: &str,
    input: RegionInput,
    create: bool,
) -> AppResult<region::Model> {
    policy::authorize_city_admin(&ctx.identity)?;
    check_code("code", code)?;
    let txn = db.begin().await?;
    let existing = regions::find_region(&txn, code).await?;
    let mut model: region::ActiveModel = match (&existing, create) {
        (Some(_), true) => return Err(AppError::Conflict(format!("region {code} exists already"))),
        (None, false) => return Err(AppError::NotFound(format!("region {code} does not exist"))),
        (Some(current), false) => current.clone().into(),
        (None, true) => {
            for (v, field, what) in [
                (&input.name_zh, "input.nameZh", "a Chinese name"),
                (&input.name_en, "input.nameEn", "an English name"),
            ] {
                if v.is_none() {
                    return Err(AppError::invalid(field, "", what));
                }
            }
            region::ActiveModel {
                code: Set(code.to_owned()),
                level: Set(input.level.unwrap_or(RegionLevel::Township).as_str().into()),
                residence: Set("_T".into()),
                parent_id: Set(None),
                valid_from: Set(None),
                valid_to: Set(None),
                ..Default::default()
            }
        }
    };
    if let Some(n) = input.name_zh {
        check_name("input.nameZh", &n)?;
        model.name_zh = Set(n);
    }
    if let Some(n) = input.name_en {
        check_name("input.nameEn", &n)?;
        model.name_en = Set(n);
    }
    if let Some(l) = input.level {
        model.level = Set(l.as_str().into());
    }
    if let Some(r) = input.residence {
        if !matches!(r.as_str(), "U" | "R" | "_T") {
            return Err(AppError::invalid("input.residence", r, "U, R or _T"));
        }
        model.residence = Set(r);
    }
    let level = match &model.level {
        sea_orm::ActiveValue::Set(l) | sea_orm::ActiveValue::Unchanged(l) => l.clone(),
        sea_orm::ActiveValue::NotSet => RegionLevel::Township.as_str().to_owned(),
    };
    if let Some(p) = &input.parent {
        let parent = regions::require_region(&txn, "input.parent", p).await?;
        let rank = |l: &str| RegionLevel::parse(l).map_or(3, |l| l as u8);
        if rank(&parent.level) >= rank(&level) || parent.code == code {
            return Err(AppError::invalid(
                "input.parent",
                p,
                format!("a region of a higher level than {level}"),
            ));
        }
        model.parent_id = Set(Some(parent.id));
    } else if create && level != RegionLevel::City.as_str() {
        return Err(AppError::invalid(
            "input.parent",
            "",
            "the code of the region this one belongs to",
        ));
    }
    if let Some(f) = input.valid_from {
        model.valid_from = Set(Some(f));
    }
    if let Some(t) = input.valid_to {
        model.valid_to = Set(Some(t));
    }
    let get = |v: &sea_orm::ActiveValue<Option<i32>>| match v {
        sea_orm::ActiveValue::Set(x) | sea_orm::ActiveValue::Unchanged(x) => *x,
        sea_orm::ActiveValue::NotSet => None,
    };
    let (from, to) = (get(&model.valid_from), get(&model.valid_to));
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        return Err(AppError::invalid(
            "input.validTo",
            t,
            format!("a year not before validFrom {f}"),
        ));
    }
    if let Some(current) = &existing {
        // A township merged in 2024 keeps its history: its validity may not cut off stored values.
        let years: Vec<i32> = observation::Entity::find()
            .select_only()
            .column(observation::Column::Year)
            .filter(observation::Column::RegionId.eq(current.id))
            .order_by_asc(observation::Column::Year)
            .into_tuple::<i32>()
            .all(&txn)
            .await?;
        if let (Some(t), Some(&last)) = (to, years.last())
            && last > t
        {
            return Err(AppError::invalid(
                "input.validTo",
                t,
                format!("a year not before {last}, the last year {code} has values for"),
            ));
        }
        if let (Some(f), Some(&first)) = (from, years.first())
            && first < f
        {
            return Err(AppError::invalid(
                "input.validFrom",
                f,
                format!("a year not after {first}, the first year {code} has values for"),
            ));
        }
    }
    let saved = if create {
        region::Entity::insert(model)
            .exec_with_returning(&txn)
            .await?
    } else {
        region::Entity::update(model).exec(&txn).await?
    };
    audit::record(
        &txn,
        ctx,
        Entry {
            action: if create {
                "region.create"
            } else {
                "region.update"
            },
            entity_type: "region",
            entity_key: code.to_owned(),
            department_id: None,
            before: existing.map(|e| json!(e)),
            after: Some(json!(saved)),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}
