//! Default deny at the GraphQL layer: before any field resolves, its rule in
//! [`FIELD_RULES`](crate::auth::policy::FIELD_RULES) is checked. A field the policy does not name is
//! refused, so a new field cannot be reached until someone decides who may read it.

use crate::auth::Identity;
use crate::auth::policy::{self, FieldRule};
use crate::error::ErrorCode;
use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextResolve, ResolveInfo,
};
use async_graphql::{ErrorExtensions, ServerError, ServerResult, Value};
use std::sync::Arc;

/// Installs [`PolicyGuard`] in the schema.
pub struct PolicyGuardFactory;

impl ExtensionFactory for PolicyGuardFactory {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(PolicyGuard)
    }
}

/// Checks each field's coarse rule before it resolves.
struct PolicyGuard;

fn refuse(message: String, code: ErrorCode, info: &ResolveInfo<'_>) -> ServerError {
    let err = async_graphql::Error::new(message).extend_with(|_, e| e.set("code", code.as_str()));
    err.into_server_error(info.field.name.pos)
}

#[async_trait::async_trait]
impl Extension for PolicyGuard {
    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        // List elements resolve with the list as their "parent"; the field itself was checked already.
        if info.is_for_introspection
            || info.parent_type.starts_with("__")
            || info.name.starts_with("__")
            || info.parent_type.starts_with('[')
        {
            return next.run(ctx, info).await;
        }
        let identity = ctx.data_opt::<Identity>().unwrap_or(&Identity::Anonymous);
        let rule = policy::field_rule(info.parent_type, info.name);
        if rule.is_some_and(|r| r != FieldRule::Open) && !policy::may_read(identity) {
            return Err(refuse(
                "this token grants no role that reads (viewer, submitter, approver or admin)"
                    .to_owned(),
                ErrorCode::Forbidden,
                &info,
            ));
        }
        match rule {
            Some(FieldRule::Scoped | FieldRule::Open) => next.run(ctx, info).await,
            Some(FieldRule::Member) if identity.member().is_some() => next.run(ctx, info).await,
            Some(FieldRule::Member) => Err(refuse(
                format!("{} needs a bearer token", info.name),
                ErrorCode::Unauthenticated,
                &info,
            )),
            None => Err(refuse(
                format!(
                    "{}.{} is not covered by the access policy",
                    info.parent_type, info.name
                ),
                ErrorCode::Forbidden,
                &info,
            )),
        }
    }
}
