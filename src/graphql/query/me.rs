//! `me`: who the caller is and what they may do.

use crate::auth::{Identity, Role};
use crate::graphql::context::identity;
use async_graphql::{Context, Object, SimpleObject};

/// The caller as the server sees them.
#[derive(SimpleObject)]
pub struct Me {
    /// False for anonymous callers.
    pub authenticated: bool,
    /// The token's subject.
    pub subject: Option<String>,
    /// Department code.
    pub department: Option<String>,
    /// What the token lets the caller do: view, submit, approve, administer.
    pub roles: Vec<Role>,
    /// Whether the department coordinates the monitoring (reads everything, approves).
    pub coordinator: bool,
    /// May submit values of the department's own indicators.
    pub can_submit: bool,
    /// May approve or reject submissions.
    pub can_approve: bool,
    /// May change the catalogue.
    pub can_administer: bool,
}

impl From<&Identity> for Me {
    fn from(identity: &Identity) -> Self {
        let member = identity.member();
        Me {
            authenticated: member.is_some(),
            subject: member.map(|m| m.subject.clone()),
            department: member.map(|m| m.department.clone()),
            roles: member.map(|m| m.roles.clone()).unwrap_or_default(),
            coordinator: identity.is_coordinator(),
            can_submit: identity.has_role(Role::Submitter),
            can_approve: identity.is_coordinator() && identity.has_role(Role::Approver),
            can_administer: identity.has_role(Role::Admin),
        }
    }
}

#[derive(Default)]
pub struct MeQuery;

#[Object]
impl MeQuery {
    /// The caller's department, roles and what they may do.
    async fn me(&self, ctx: &Context<'_>) -> Me {
        Me::from(identity(ctx))
    }
}
