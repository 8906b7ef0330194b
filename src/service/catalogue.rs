//! Reading the catalogue: departments, domains, indicators, targets and dimension codes.

use crate::auth::{Identity, policy};
use crate::error::{AppError, AppResult};
use entity::{department, domain, indicator};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

/// The codes of the given indicators, in code order.
pub async fn indicator_codes(
    db: &impl ConnectionTrait,
    ids: &std::collections::BTreeSet<i32>,
) -> AppResult<Vec<String>> {
    let mut codes: Vec<String> = indicator::Entity::find()
        .filter(indicator::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|i| i.code)
        .collect();
    codes.sort();
    Ok(codes)
}

/// The identity of a command-line user acting for a department (`--as DEPT`): the operator already holds
/// the database credentials, so no token is involved, but the same policy applies to what they do.
pub async fn local_identity(
    db: &impl ConnectionTrait,
    department: &str,
    roles: &[crate::auth::Role],
) -> AppResult<Identity> {
    let found = find_department(db, department).await?.ok_or_else(|| {
        AppError::invalid("--as", department, "a department code (see `departments`)")
    })?;
    Ok(Identity::Member(crate::auth::Member::of(
        format!("cli:{department}"),
        &found,
        roles.to_vec(),
    )))
}

/// The identity the hub's own jobs read with: a viewer of the first coordinating department, so that they
/// see everything (none when the catalogue has no coordinator yet).
pub async fn system_identity(db: &impl ConnectionTrait, job: &str) -> AppResult<Option<Identity>> {
    let coordinator = department::Entity::find()
        .filter(department::Column::Kind.eq(crate::vocabulary::DepartmentKind::Coordinator))
        .order_by_asc(department::Column::Id)
        .one(db)
        .await?;
    Ok(coordinator.map(|d| {
        Identity::Member(crate::auth::Member::of(
            format!("system:{job}"),
            &d,
            vec![crate::auth::Role::Viewer],
        ))
    }))
}

/// The longest code of a catalogue entry (department, indicator, region).
pub const MAX_CODE_LEN: usize = 32;
/// The longest name of a catalogue entry, in characters.
pub const MAX_NAME_LEN: usize = 200;

/// A catalogue code: letters, digits, `-` and `_`, at most [`MAX_CODE_LEN`] long.
pub fn check_code(field: &str, code: &str) -> AppResult<()> {
    let ok = !code.is_empty()
        && code.len() <= MAX_CODE_LEN
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(AppError::invalid(
            field,
            code,
            format!("1–{MAX_CODE_LEN} letters, digits, '-' or '_'"),
        ))
    }
}

/// A catalogue name: not blank, at most [`MAX_NAME_LEN`] characters.
pub fn check_name(field: &str, name: &str) -> AppResult<()> {
    if name.trim().is_empty() || name.chars().count() > MAX_NAME_LEN {
        Err(AppError::invalid(
            field,
            name,
            format!("a name of 1–{MAX_NAME_LEN} characters"),
        ))
    } else {
        Ok(())
    }
}

/// Filters of the `indicators` query.
#[derive(Clone, Debug, Default)]
pub struct IndicatorFilter {
    /// Domain code, e.g. `health`.
    pub domain: Option<String>,
    /// Owner department code, e.g. `education`.
    pub department: Option<String>,
    /// Text found in the code or either name (case-insensitive).
    pub search: Option<String>,
}

/// Every department, in code order.
pub async fn list_departments(db: &impl ConnectionTrait) -> AppResult<Vec<department::Model>> {
    Ok(department::Entity::find()
        .order_by_asc(department::Column::Code)
        .all(db)
        .await?)
}

/// The department with this code.
pub async fn find_department(
    db: &impl ConnectionTrait,
    code: &str,
) -> AppResult<Option<department::Model>> {
    Ok(department::Entity::find()
        .filter(department::Column::Code.eq(code))
        .one(db)
        .await?)
}

/// The department with this code; an unknown code is a `BAD_USER_INPUT` error naming `field`.
pub async fn require_department(
    db: &impl ConnectionTrait,
    field: &str,
    code: &str,
) -> AppResult<department::Model> {
    find_department(db, code)
        .await?
        .ok_or_else(|| unknown_department(field, code))
}

/// The error for a department code that names none.
pub fn unknown_department(field: &str, code: &str) -> AppError {
    AppError::invalid(field, code, "a department code (see `departments`)")
}

/// The error for a domain code that names none.
pub fn unknown_domain(field: &str, code: &str) -> AppError {
    AppError::invalid(field, code, "a domain code (see `domains`)")
}

/// The domain with this code; an unknown code is a `BAD_USER_INPUT` error naming `field`.
pub async fn require_domain(
    db: &impl ConnectionTrait,
    field: &str,
    code: &str,
) -> AppResult<domain::Model> {
    domain::Entity::find()
        .filter(domain::Column::Code.eq(code))
        .one(db)
        .await?
        .ok_or_else(|| unknown_domain(field, code))
}

/// The indicator with this code, if it exists and the caller may see it. A hidden indicator and a
/// missing one give the same answer.
pub async fn find_indicator(
    db: &impl ConnectionTrait,
    identity: &Identity,
    code: &str,
) -> AppResult<Option<indicator::Model>> {
    Ok(indicator::Entity::find()
        .filter(indicator::Column::Code.eq(code))
        .one(db)
        .await?
        .filter(|i| policy::may_see_indicator(identity, i)))
}

/// The indicator with this code that the caller may see; otherwise a `BAD_USER_INPUT` error naming
/// `field` (a hidden indicator and a missing one look the same).
pub async fn require_indicator(
    db: &impl ConnectionTrait,
    identity: &Identity,
    field: &str,
    code: &str,
) -> AppResult<indicator::Model> {
    find_indicator(db, identity, code)
        .await?
        .ok_or_else(|| AppError::invalid(field, code, "an indicator code (see `indicators`)"))
}

/// Every indicator, unfiltered: for callers that apply the policy themselves (the per-request
/// reference-data memo and [`ReadScope`](crate::service::observations::ReadScope)).
pub async fn all_indicators(db: &impl ConnectionTrait) -> AppResult<Vec<indicator::Model>> {
    Ok(indicator::Entity::find()
        .order_by_asc(indicator::Column::Code)
        .all(db)
        .await?)
}
