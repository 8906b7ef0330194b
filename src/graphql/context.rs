//! What resolvers take from the request context: the caller, the database, settings and loaders.

use crate::auth::Identity;
use crate::config::Settings;
use crate::error::AppError;
use crate::graphql::loaders::Loaders;
use crate::service::Db;
use crate::service::observations::ReadScope;
use crate::service::reference::Reference;
use crate::service::snapshot::Snapshot;
use async_graphql::{Context, Result};
use entity::region;
use std::sync::Arc;

/// The id the HTTP layer gave this request (`x-request-id`), for the audit log and the logs.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// The caller of this request (anonymous when no identity was attached).
pub fn identity<'a>(ctx: &Context<'a>) -> &'a Identity {
    ctx.data_opt::<Identity>().unwrap_or(&Identity::Anonymous)
}

/// The database connection pool.
pub fn db<'a>(ctx: &Context<'a>) -> Result<&'a Db> {
    ctx.data::<Db>()
        .map_err(|_| AppError::Internal("no database in the schema data".into()).into())
}

/// The settings the process runs with.
pub fn settings<'a>(ctx: &Context<'a>) -> Result<&'a Arc<Settings>> {
    ctx.data::<Arc<Settings>>()
        .map_err(|_| AppError::Internal("no settings in the schema data".into()).into())
}

/// The request's DataLoaders.
pub fn loaders<'a>(ctx: &Context<'a>) -> Result<&'a Loaders> {
    ctx.data::<Loaders>()
        .map_err(|_| AppError::Internal("no loaders in the request data".into()).into())
}

/// The snapshot the request reads (reference data and memoised answers).
pub fn snapshot<'a>(ctx: &Context<'a>) -> Result<&'a Arc<Snapshot>> {
    Ok(loaders(ctx)?.loader().snapshot())
}

/// The reference data the request reads (departments, domains, indicators, targets, regions).
pub fn reference<'a>(ctx: &Context<'a>) -> Result<&'a Reference> {
    Ok(&loaders(ctx)?.loader().scope().reference)
}

/// What the caller may read in this request.
pub fn scope<'a>(ctx: &Context<'a>) -> Result<&'a ReadScope> {
    Ok(loaders(ctx)?.loader().scope())
}

/// The region with this code; an unknown code is a `BAD_USER_INPUT` error naming `field`.
pub fn resolve_region<'a>(ctx: &Context<'a>, field: &str, code: &str) -> Result<&'a region::Model> {
    Ok(reference(ctx)?.require_region(field, code)?)
}

/// A stored reference that must exist (an id from another row); its absence is a bug, reported
/// without detail.
pub fn stored<T>(found: Option<T>, what: &str, id: i32) -> Result<T> {
    found.ok_or_else(|| AppError::Internal(format!("stored {what} {id} is not known")).into())
}

/// Who is writing in this request, for the audit log.
pub fn write_context(ctx: &Context<'_>) -> crate::service::audit::WriteContext {
    crate::service::audit::WriteContext::new(
        identity(ctx).clone(),
        ctx.data_opt::<RequestId>()
            .map(|r| r.0.clone())
            .unwrap_or_default(),
    )
}
