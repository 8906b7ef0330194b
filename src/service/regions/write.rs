//! Saving regions: the one place where a region is checked (code alphabet and length, names, level below
//! its parent's, validity years that do not cut off stored values) and written with its audit entry. The
//! `createRegion`/`updateRegion` mutations call it for one region; `childhub import-regions` calls it for
//! every row of a file inside one transaction; the demo loads its regions through it too.

use crate::auth::policy;
use crate::error::{AppError, AppResult, RowError};
use crate::service::audit::{self, WriteContext};
use crate::service::catalogue::{check_code, check_name};
use crate::service::regions::find_region;
use crate::vocabulary::{RegionLevel, Residence};
use entity::{observation, region};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

/// A region's fields as given (codes, not ids); on update, `None` keeps the stored value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RegionInput {
    pub name_zh: Option<String>,
    pub name_en: Option<String>,
    pub level: Option<RegionLevel>,
    pub residence: Option<Residence>,
    /// The parent region's code.
    pub parent: Option<String>,
    pub valid_from: Option<i32>,
    pub valid_to: Option<i32>,
}

/// A residence code (`_T`, `U` or `R`) read from text.
pub fn parse_residence(field: &str, code: &str) -> AppResult<Residence> {
    Residence::parse(code).ok_or_else(|| AppError::invalid(field, code, Residence::expected()))
}

/// Creates the region `code`; in the caller's transaction.
pub async fn create_region(
    db: &impl ConnectionTrait,
    ctx: &WriteContext,
    code: &str,
    input: RegionInput,
) -> AppResult<region::Model> {
    policy::authorize_city_admin(&ctx.identity)?;
    check_code("code", code)?;
    if find_region(db, code).await?.is_some() {
        return Err(AppError::Conflict(format!("region {code} exists already")));
    }
    let name_zh = input
        .name_zh
        .ok_or_else(|| AppError::invalid("nameZh", "", "a Chinese name"))?;
    let name_en = input
        .name_en
        .ok_or_else(|| AppError::invalid("nameEn", "", "an English name"))?;
    let level = input.level.unwrap_or(RegionLevel::Township);
    let parent_id = match &input.parent {
        Some(p) => Some(check_parent(db, code, level, p).await?),
        None if level == RegionLevel::City => None,
        None => {
            return Err(AppError::invalid(
                "parent",
                "",
                "the code of the region this one belongs to",
            ));
        }
    };
    let model = region::ActiveModel {
        code: Set(code.to_owned()),
        name_zh: Set(name_zh),
        name_en: Set(name_en),
        level: Set(level),
        residence: Set(input.residence.unwrap_or(Residence::Total)),
        parent_id: Set(parent_id),
        valid_from: Set(input.valid_from),
        valid_to: Set(input.valid_to),
        ..Default::default()
    };
    first_problem(&model)?;
    let saved = region::Entity::insert(model)
        .exec_with_returning(db)
        .await?;
    record(db, ctx, "region.create", None, &saved).await?;
    Ok(saved)
}

/// Updates the region `code`; in the caller's transaction. Validity years may not exclude years the region
/// already has values for (a township merged in 2024 keeps its history).
pub async fn update_region(
    db: &impl ConnectionTrait,
    ctx: &WriteContext,
    code: &str,
    input: RegionInput,
) -> AppResult<region::Model> {
    policy::authorize_city_admin(&ctx.identity)?;
    let current = find_region(db, code)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("region {code} does not exist")))?;
    let mut model: region::ActiveModel = current.clone().into();
    if let Some(n) = input.name_zh {
        model.name_zh = Set(n);
    }
    if let Some(n) = input.name_en {
        model.name_en = Set(n);
    }
    if let Some(l) = input.level {
        model.level = Set(l);
    }
    if let Some(r) = input.residence {
        model.residence = Set(r);
    }
    let level = input.level.unwrap_or(current.level);
    if let Some(p) = &input.parent {
        model.parent_id = Set(Some(check_parent(db, code, level, p).await?));
    }
    if let Some(f) = input.valid_from {
        model.valid_from = Set(Some(f));
    }
    if let Some(t) = input.valid_to {
        model.valid_to = Set(Some(t));
    }
    first_problem(&model)?;
    let (from, to) = (
        input.valid_from.or(current.valid_from),
        input.valid_to.or(current.valid_to),
    );
    check_stored_years(db, &current, from, to).await?;
    let saved = region::Entity::update(model).exec(db).await?;
    record(db, ctx, "region.update", Some(&current), &saved).await?;
    Ok(saved)
}

/// `createRegion`: one region in its own transaction.
pub async fn create_one(
    db: &DatabaseConnection,
    ctx: &WriteContext,
    code: &str,
    input: RegionInput,
) -> AppResult<region::Model> {
    let txn = crate::service::begin_write(db).await?;
    let saved = create_region(&txn, ctx, code, input).await?;
    txn.commit().await?;
    Ok(saved)
}

/// `updateRegion`: one region in its own transaction.
pub async fn update_one(
    db: &DatabaseConnection,
    ctx: &WriteContext,
    code: &str,
    input: RegionInput,
) -> AppResult<region::Model> {
    let txn = crate::service::begin_write(db).await?;
    let saved = update_region(&txn, ctx, code, input).await?;
    txn.commit().await?;
    Ok(saved)
}

/// Creates the region, or updates it when the code exists (a regions file).
pub async fn upsert_region(
    db: &impl ConnectionTrait,
    ctx: &WriteContext,
    code: &str,
    input: RegionInput,
) -> AppResult<(region::Model, bool)> {
    if find_region(db, code).await?.is_some() {
        Ok((update_region(db, ctx, code, input).await?, false))
    } else {
        Ok((create_region(db, ctx, code, input).await?, true))
    }
}

/// Every problem of a region's own fields (code, names, the order of its validity years), without
/// looking at the database. Create and update stop at the first; a regions file reports them all.
pub fn problems(
    code: &str,
    name_zh: &str,
    name_en: &str,
    from: Option<i32>,
    to: Option<i32>,
) -> Vec<AppError> {
    let mut out = Vec::new();
    out.extend(check_code("code", code).err());
    out.extend(check_name("nameZh", name_zh).err());
    out.extend(check_name("nameEn", name_en).err());
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        out.push(AppError::invalid(
            "validTo",
            t,
            format!("a year not before validFrom {f}"),
        ));
    }
    out
}

fn first_problem(model: &region::ActiveModel) -> AppResult<()> {
    fn get<T: Clone + Into<sea_orm::Value>>(v: &sea_orm::ActiveValue<T>, default: T) -> T {
        match v {
            sea_orm::ActiveValue::Set(x) | sea_orm::ActiveValue::Unchanged(x) => x.clone(),
            sea_orm::ActiveValue::NotSet => default,
        }
    }
    let found = problems(
        &get(&model.code, String::new()),
        &get(&model.name_zh, String::new()),
        &get(&model.name_en, String::new()),
        get(&model.valid_from, None),
        get(&model.valid_to, None),
    );
    match found.into_iter().next() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// The parent's id, when it is a region of a higher level than `level` (and not the region itself).
async fn check_parent(
    db: &impl ConnectionTrait,
    code: &str,
    level: RegionLevel,
    parent: &str,
) -> AppResult<i32> {
    let found = find_region(db, parent).await?.ok_or_else(|| {
        AppError::invalid(
            "parent",
            parent,
            "a region code stored already (or on an earlier row of the file)",
        )
    })?;
    if found.level.rank() >= level.rank() || found.code == code {
        return Err(AppError::invalid(
            "parent",
            parent,
            format!("a region of a higher level than {level}"),
        ));
    }
    Ok(found.id)
}

async fn check_stored_years(
    db: &impl ConnectionTrait,
    current: &region::Model,
    from: Option<i32>,
    to: Option<i32>,
) -> AppResult<()> {
    let years: Vec<i32> = observation::Entity::find()
        .select_only()
        .column(observation::Column::Year)
        .filter(observation::Column::RegionId.eq(current.id))
        .order_by_asc(observation::Column::Year)
        .into_tuple::<i32>()
        .all(db)
        .await?;
    if let (Some(t), Some(&last)) = (to, years.last())
        && last > t
    {
        return Err(AppError::invalid(
            "validTo",
            t,
            format!(
                "a year not before {last}, the last year {} has values for",
                current.code
            ),
        ));
    }
    if let (Some(f), Some(&first)) = (from, years.first())
        && first < f
    {
        return Err(AppError::invalid(
            "validFrom",
            f,
            format!(
                "a year not after {first}, the first year {} has values for",
                current.code
            ),
        ));
    }
    Ok(())
}

async fn record(
    db: &impl ConnectionTrait,
    ctx: &WriteContext,
    action: &str,
    before: Option<&region::Model>,
    after: &region::Model,
) -> AppResult<()> {
    let change = audit::Change {
        action,
        entity_type: "region",
        entity_key: &after.code,
        department_id: None,
    };
    audit::record_change(db, ctx, change, before, after).await
}

/// One row of a regions file: `code,name_zh,name_en,level,residence,parent,valid_from,valid_to`.
#[derive(Clone, Debug, serde::Deserialize)]
struct RegionRow {
    code: String,
    name_zh: String,
    name_en: String,
    level: String,
    residence: String,
    parent: Option<String>,
    valid_from: Option<i32>,
    valid_to: Option<i32>,
}

/// The columns of a regions file, for error messages.
pub const REGION_COLUMNS: &str = "code,name_zh,name_en,level,residence,parent,valid_from,valid_to";

/// What an import did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct RegionImport {
    pub created: usize,
    pub updated: usize,
}

/// Column names of a regions file for the fields the checks name.
fn column_of(field: &str) -> String {
    match field {
        "nameZh" => "name_zh".into(),
        "nameEn" => "name_en".into(),
        "validFrom" => "valid_from".into(),
        "validTo" => "valid_to".into(),
        other => other.into(),
    }
}

/// A problem of one row as a row error naming the file's column, or `None` for a failure that is not
/// about the row (the database, authorization).
fn row_error(row: usize, error: &AppError) -> Option<RowError> {
    match error {
        AppError::Invalid(bad) => Some(RowError::new(
            row,
            column_of(&bad.field),
            &bad.value,
            &bad.expected,
        )),
        _ => None,
    }
}

/// Imports a regions file (created or updated by code) in one transaction, each row through the same
/// checks and audit as the mutations. Every bad row is reported (row numbers count data rows from 1) and
/// a file with any bad row changes nothing.
pub async fn import_regions(
    db: &DatabaseConnection,
    ctx: &WriteContext,
    text: &str,
) -> AppResult<Result<RegionImport, Vec<RowError>>> {
    policy::authorize_city_admin(&ctx.identity)?;
    let txn = crate::service::begin_write(db).await?;
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let mut errors = Vec::new();
    let mut result = RegionImport::default();
    let mut seen = std::collections::HashMap::new();
    for (i, record) in reader.deserialize::<RegionRow>().enumerate() {
        let row = i + 1;
        let r = match record {
            Ok(r) => r,
            Err(e) => {
                errors.push(RowError::new(row, "row", e.to_string(), REGION_COLUMNS));
                continue;
            }
        };
        if let Some(first) = seen.insert(r.code.clone(), row) {
            errors.push(RowError::new(
                row,
                "code",
                &r.code,
                format!("a code not already on row {first}"),
            ));
            continue;
        }
        // Everything wrong with the row's own fields is reported at once; the database checks (parent,
        // stored years) follow only for rows that pass.
        let level = RegionLevel::parse(&r.level);
        let residence = parse_residence("residence", &r.residence);
        let mut found = problems(&r.code, &r.name_zh, &r.name_en, r.valid_from, r.valid_to);
        if level.is_none() {
            found.push(AppError::invalid(
                "level",
                &r.level,
                RegionLevel::expected(),
            ));
        }
        found.extend(residence.as_ref().err().cloned());
        if !found.is_empty() {
            errors.extend(found.iter().filter_map(|e| row_error(row, e)));
            continue;
        }
        let input = RegionInput {
            name_zh: Some(r.name_zh),
            name_en: Some(r.name_en),
            level,
            residence: residence.ok(),
            parent: r.parent.filter(|p| !p.trim().is_empty()),
            valid_from: r.valid_from,
            valid_to: r.valid_to,
        };
        let outcome = upsert_region(&txn, ctx, &r.code, input).await;
        match outcome {
            Ok((_, true)) => result.created += 1,
            Ok((_, false)) => result.updated += 1,
            // A check failed before anything was written for this row; the others are still checked.
            Err(e) => match row_error(row, &e) {
                Some(bad) => errors.push(bad),
                None => return Err(e),
            },
        }
    }
    if errors.is_empty() {
        txn.commit().await?;
        Ok(Ok(result))
    } else {
        txn.rollback().await?;
        Ok(Err(errors))
    }
}
