//! Catalogue changes by admins: departments, indicators, their targets, and regions (including the
//! validity years of a township that is merged or split). Each change is checked, written with its audit
//! entry in one transaction, and reports bad input by field.

use crate::auth::{Role, policy};
use crate::error::{AppError, AppResult};
use crate::service::audit::{self, Entry, WriteContext};
use crate::service::catalogue;
use crate::service::catalogue::{check_code, check_name};
use crate::vocabulary::{DepartmentKind, Dimension, Sensitivity, TargetKind, TargetScope, Unit};
use entity::{department, indicator, target};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, TransactionTrait,
};
use serde_json::json;

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
                kind: Set(input.kind.unwrap_or(DepartmentKind::Owner)),
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
                model.kind = Set(k);
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
                unit: Set(unit),
                sensitivity: Set(Sensitivity::Internal),
                decimals: Set(unit.default_decimals()),
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
            .map_or(s != Sensitivity::Internal, |e| e.sensitivity != s)
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
        if found.kind != DepartmentKind::Owner {
            return Err(AppError::invalid(
                "input.ownerDepartment",
                code,
                "a reporting department (coordinators own no indicators)",
            ));
        }
        model.owner_department_id = Set(found.id);
    }
    if let Some(unit) = input.unit {
        model.unit = Set(unit);
    }
    if let Some(s) = input.sensitivity {
        model.sensitivity = Set(s);
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
                kind: Set(t.kind),
                value: Set(t.value),
                baseline_year: Set(t.baseline_year),
                target_year: Set(t.target_year),
                scope: Set(t.scope),
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
