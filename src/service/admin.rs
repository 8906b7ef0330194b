//! Catalogue changes by admins: departments, indicators and their targets (regions: `regions::write`).
//! Each change is checked, written with its audit entry in one transaction, and reports bad input by
//! field. Creating and updating are separate paths that share their field checks.

use crate::auth::{Role, policy};
use crate::error::{AppError, AppResult};
use crate::monitor::evaluate::check_target;
use crate::service::audit::{self, Entry, WriteContext};
use crate::service::catalogue;
use crate::service::catalogue::{check_code, check_name};
use crate::vocabulary::{DepartmentKind, Dimension, Sensitivity, TargetKind, TargetScope, Unit};
use entity::{department, indicator, target};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
};
use serde_json::json;

/// A department's fields; on update, `None` keeps the stored value.
#[derive(Clone, Debug, Default)]
pub struct DepartmentInput {
    pub name_zh: Option<String>,
    pub name_en: Option<String>,
    pub kind: Option<DepartmentKind>,
}

/// Creates the department `code` (city admins).
pub async fn create_department(
    db: &DatabaseConnection,
    ctx: &WriteContext,
    code: &str,
    input: DepartmentInput,
) -> AppResult<department::Model> {
    policy::authorize_city_admin(&ctx.identity)?;
    check_code("code", code)?;
    let name_zh = input
        .name_zh
        .ok_or_else(|| AppError::invalid("input.nameZh", "", "a Chinese name"))?;
    let name_en = input
        .name_en
        .ok_or_else(|| AppError::invalid("input.nameEn", "", "an English name"))?;
    check_name("input.nameZh", &name_zh)?;
    check_name("input.nameEn", &name_en)?;
    let txn = crate::service::begin_write(db).await?;
    if catalogue::find_department(&txn, code).await?.is_some() {
        return Err(AppError::Conflict(format!(
            "department {code} exists already"
        )));
    }
    let saved = department::Entity::insert(department::ActiveModel {
        code: Set(code.to_owned()),
        name_zh: Set(name_zh),
        name_en: Set(name_en),
        kind: Set(input.kind.unwrap_or(DepartmentKind::Owner)),
        ..Default::default()
    })
    .exec_with_returning(&txn)
    .await?;
    record_department(&txn, ctx, "department.create", None, &saved).await?;
    txn.commit().await?;
    Ok(saved)
}

/// Updates the department `code` (city admins); omitted fields keep their value.
pub async fn update_department(
    db: &DatabaseConnection,
    ctx: &WriteContext,
    code: &str,
    input: DepartmentInput,
) -> AppResult<department::Model> {
    policy::authorize_city_admin(&ctx.identity)?;
    let txn = crate::service::begin_write(db).await?;
    let current = catalogue::find_department(&txn, code)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("department {code} does not exist")))?;
    let mut model: department::ActiveModel = current.clone().into();
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
    let saved = department::Entity::update(model).exec(&txn).await?;
    record_department(&txn, ctx, "department.update", Some(&current), &saved).await?;
    txn.commit().await?;
    Ok(saved)
}

async fn record_department(
    db: &impl ConnectionTrait,
    ctx: &WriteContext,
    action: &str,
    before: Option<&department::Model>,
    after: &department::Model,
) -> AppResult<()> {
    let change = audit::Change {
        action,
        entity_type: "department",
        entity_key: &after.code,
        department_id: Some(after.id),
    };
    audit::record_change(db, ctx, change, before, after).await
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
    pub dimensions: Option<Vec<Dimension>>,
}

/// Creates the indicator `code`, owned by the caller's department (its admin) or any reporting department
/// (city admins). Sensitivity other than `internal` needs a city admin.
pub async fn create_indicator(
    db: &DatabaseConnection,
    ctx: &WriteContext,
    code: &str,
    input: IndicatorInput,
) -> AppResult<indicator::Model> {
    policy::require_role(&ctx.identity, Role::Admin)?;
    check_code("code", code)?;
    let required = |v: &Option<String>, field: &str, what: &str| {
        v.clone().ok_or_else(|| AppError::invalid(field, "", what))
    };
    required(&input.name_zh, "input.nameZh", "a Chinese name")?;
    required(&input.name_en, "input.nameEn", "an English name")?;
    required(&input.domain, "input.domain", "a domain code")?;
    let owner = required(
        &input.owner_department,
        "input.ownerDepartment",
        "a department code",
    )?;
    let unit = input
        .unit
        .ok_or_else(|| AppError::invalid("input.unit", "", Unit::expected()))?;
    let txn = crate::service::begin_write(db).await?;
    if catalogue::find_indicator(&txn, &ctx.identity, code)
        .await?
        .is_some()
    {
        return Err(AppError::Conflict(format!(
            "indicator {code} exists already"
        )));
    }
    let owner = require_owner(&txn, &owner).await?;
    policy::authorize_department_admin(&ctx.identity, owner.id)?;
    if input
        .sensitivity
        .is_some_and(|s| s != Sensitivity::Internal)
    {
        policy::authorize_city_admin(&ctx.identity)?;
    }
    let mut model = indicator::ActiveModel {
        code: Set(code.to_owned()),
        unit: Set(unit),
        owner_department_id: Set(owner.id),
        sensitivity: Set(Sensitivity::Internal),
        decimals: Set(unit.default_decimals()),
        plan_clause: Set(String::new()),
        by_sex: Set(false),
        by_age: Set(false),
        by_residence: Set(false),
        ..Default::default()
    };
    apply_indicator_fields(&txn, &mut model, input).await?;
    let saved = indicator::Entity::insert(model)
        .exec_with_returning(&txn)
        .await?;
    record_indicator(&txn, ctx, "indicator.create", None, &saved).await?;
    txn.commit().await?;
    Ok(saved)
}

/// Updates the indicator `code` (its owner department's admin or a city admin); moving it to another
/// owner or changing its sensitivity needs a city admin. Omitted fields keep their value.
pub async fn update_indicator(
    db: &DatabaseConnection,
    ctx: &WriteContext,
    code: &str,
    input: IndicatorInput,
) -> AppResult<indicator::Model> {
    policy::require_role(&ctx.identity, Role::Admin)?;
    let txn = crate::service::begin_write(db).await?;
    let current = catalogue::find_indicator(&txn, &ctx.identity, code)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("indicator {code} does not exist")))?;
    policy::authorize_department_admin(&ctx.identity, current.owner_department_id)?;
    if input.sensitivity.is_some_and(|s| s != current.sensitivity) {
        policy::authorize_city_admin(&ctx.identity)?;
    }
    let mut model: indicator::ActiveModel = current.clone().into();
    if let Some(code) = &input.owner_department {
        let owner = require_owner(&txn, code).await?;
        if owner.id != current.owner_department_id {
            policy::authorize_city_admin(&ctx.identity)?;
        }
        model.owner_department_id = Set(owner.id);
    }
    apply_indicator_fields(&txn, &mut model, input).await?;
    let saved = indicator::Entity::update(model).exec(&txn).await?;
    record_indicator(&txn, ctx, "indicator.update", Some(&current), &saved).await?;
    txn.commit().await?;
    Ok(saved)
}

/// A reporting department (coordinators own no indicators).
async fn require_owner(db: &impl ConnectionTrait, code: &str) -> AppResult<department::Model> {
    let found = catalogue::require_department(db, "input.ownerDepartment", code).await?;
    if found.kind != DepartmentKind::Owner {
        return Err(AppError::invalid(
            "input.ownerDepartment",
            code,
            "a reporting department (coordinators own no indicators)",
        ));
    }
    Ok(found)
}

/// The fields create and update share, checked the same way for both.
async fn apply_indicator_fields(
    db: &impl ConnectionTrait,
    model: &mut indicator::ActiveModel,
    input: IndicatorInput,
) -> AppResult<()> {
    if let Some(n) = input.name_zh {
        check_name("input.nameZh", &n)?;
        model.name_zh = Set(n);
    }
    if let Some(n) = input.name_en {
        check_name("input.nameEn", &n)?;
        model.name_en = Set(n);
    }
    if let Some(code) = &input.domain {
        let found = catalogue::require_domain(db, "input.domain", code).await?;
        model.domain_id = Set(found.id);
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
    if let Some(dims) = input.dimensions {
        model.by_sex = Set(dims.contains(&Dimension::Sex));
        model.by_age = Set(dims.contains(&Dimension::Age));
        model.by_residence = Set(dims.contains(&Dimension::Residence));
    }
    Ok(())
}

async fn record_indicator(
    db: &impl ConnectionTrait,
    ctx: &WriteContext,
    action: &str,
    before: Option<&indicator::Model>,
    after: &indicator::Model,
) -> AppResult<()> {
    let change = audit::Change {
        action,
        entity_type: "indicator",
        entity_key: &after.code,
        department_id: Some(after.owner_department_id),
    };
    audit::record_change(db, ctx, change, before, after).await
}

/// One target of an indicator.
#[derive(Clone, Debug)]
pub struct TargetInput {
    pub kind: TargetKind,
    pub value: Option<f64>,
    pub baseline_year: i32,
    pub target_year: i32,
    pub scope: TargetScope,
    pub natural_limit: Option<f64>,
    pub limit_reason: Option<String>,
    pub maintain: bool,
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
        check_target(
            t.kind,
            t.value,
            t.natural_limit,
            t.limit_reason.as_deref(),
            t.maintain,
        )
        .map_err(|(name, value, expected)| AppError::invalid(field(name), value, expected))?;
        if t.baseline_year >= t.target_year {
            return Err(AppError::invalid(
                field("targetYear"),
                t.target_year,
                format!("a year after the baseline year {}", t.baseline_year),
            ));
        }
    }
    let txn = crate::service::begin_write(db).await?;
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
                natural_limit: Set(t.natural_limit),
                limit_reason: Set(t.limit_reason.map(|r| r.trim().to_owned())),
                maintain: Set(t.maintain),
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
    let change = audit::Change {
        action: "targets.set",
        entity_type: "indicator",
        entity_key: &indicator.code,
        department_id: Some(indicator.owner_department_id),
    };
    audit::catalogue_changed(&txn, &change).await?;
    txn.commit().await?;
    Ok(saved)
}
