//! Turning a request's `Authorization` header into an [`Identity`].

use crate::auth::token::Verifier;
use crate::auth::{Identity, Member, Role};
use crate::config::AnonymousRead;
use crate::error::{AppError, AppResult};
use entity::department;

/// Where the authenticator finds a token's department. The services implement it over the catalogue;
/// the policy layer only asks, so it never depends on them.
#[async_trait::async_trait]
pub trait DepartmentLookup: Send + Sync {
    /// The department with this code, if any.
    async fn department(&self, code: &str) -> AppResult<Option<department::Model>>;
}

/// Identifies callers: verifies their token and checks that its department exists.
pub struct Authenticator {
    verifier: Verifier,
    anonymous_read: AnonymousRead,
}

impl Authenticator {
    /// The verifier behind it (sign-in checks ID tokens with the same keys).
    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    pub fn new(verifier: Verifier, anonymous_read: AnonymousRead) -> Self {
        Authenticator {
            verifier,
            anonymous_read,
        }
    }

    /// The caller behind `authorization` (the header's value, if any), whose department is looked up in
    /// `departments` (the request's copy of the catalogue).
    pub async fn identify(
        &self,
        authorization: Option<&str>,
        departments: &dyn DepartmentLookup,
    ) -> AppResult<Identity> {
        Ok(self.identify_session(authorization, departments).await?.0)
    }

    /// The caller and when its token expires (Unix seconds; none for anonymous callers), for sessions
    /// that outlive a request (subscriptions close when the token expires).
    pub async fn identify_session(
        &self,
        authorization: Option<&str>,
        departments: &dyn DepartmentLookup,
    ) -> AppResult<(Identity, Option<u64>)> {
        let Some(header) = authorization else {
            return match self.anonymous_read {
                AnonymousRead::Public => Ok((Identity::Anonymous, None)),
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
        let Some(code) = claims.department.as_deref() else {
            return Err(AppError::Unauthenticated(format!(
                "invalid bearer token: it names no department (claim `{}`)",
                self.verifier.department_claim()
            )));
        };
        let department = departments.department(code).await?.ok_or_else(|| {
            AppError::Unauthenticated(format!(
                "invalid bearer token: department {code:?} is not known"
            ))
        })?;
        // Unknown role names grant nothing.
        let roles: Vec<Role> = claims.roles.iter().filter_map(|r| Role::parse(r)).collect();
        Ok((
            Identity::Member(Member::of(claims.sub, &department, roles)),
            Some(claims.exp),
        ))
    }
}
