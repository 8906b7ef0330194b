//! Turning a request's `Authorization` header into an [`Identity`].

use crate::auth::token::Verifier;
use crate::auth::{Identity, Member, Role};
use crate::config::AnonymousRead;
use crate::error::{AppError, AppResult};
use crate::service::catalogue::find_department;
use sea_orm::ConnectionTrait;

/// Identifies callers: verifies their token and checks that its department exists.
pub struct Authenticator {
    verifier: Verifier,
    anonymous_read: AnonymousRead,
}

impl Authenticator {
    pub fn new(verifier: Verifier, anonymous_read: AnonymousRead) -> Self {
        Authenticator {
            verifier,
            anonymous_read,
        }
    }

    /// The caller behind `authorization` (the header's value, if any).
    pub async fn identify(
        &self,
        db: &impl ConnectionTrait,
        authorization: Option<&str>,
    ) -> AppResult<Identity> {
        let Some(header) = authorization else {
            return match self.anonymous_read {
                AnonymousRead::Public => Ok(Identity::Anonymous),
                AnonymousRead::None => Err(AppError::Unauthenticated(
                    "this API needs a bearer token (Authorization: Bearer <JWT>)".into(),
                )),
            };
        };
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                AppError::Unauthenticated("the Authorization header must be `Bearer <JWT>`".into())
            })?;
        let claims = self.verifier.verify(token).await?;
        let department = find_department(db, &claims.dept).await?.ok_or_else(|| {
            AppError::Unauthenticated(format!(
                "invalid bearer token: department {:?} is not known",
                claims.dept
            ))
        })?;
        let roles: Vec<Role> = claims.roles.iter().filter_map(|r| Role::parse(r)).collect();
        Ok(Identity::Member(Member {
            subject: claims.sub,
            department: department.code,
            department_id: department.id,
            department_kind: department.kind,
            roles,
        }))
    }
}

/// The identity of a command-line user acting for a department (`--as DEPT`): the operator already holds
/// the database credentials, so no token is involved, but the same policy applies to what they do.
pub async fn local_identity(
    db: &impl ConnectionTrait,
    department: &str,
    roles: &[Role],
) -> AppResult<Identity> {
    let found = find_department(db, department).await?.ok_or_else(|| {
        AppError::invalid("--as", department, "a department code (see `departments`)")
    })?;
    Ok(Identity::Member(Member {
        subject: format!("cli:{department}"),
        department: found.code,
        department_id: found.id,
        department_kind: found.kind,
        roles: roles.to_vec(),
    }))
}
