//! The caller of a request: anonymous, or a member of a department with roles.

use crate::vocabulary::DepartmentKind;
use async_graphql::Enum;

/// What a member may do, as granted by the token's `roles` claim.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Read what the department may see.
    Viewer,
    /// Submit values of indicators the department owns.
    Submitter,
    /// Approve or reject submissions (coordinating departments only).
    Approver,
    /// Manage the catalogue: indicators, targets, regions, departments.
    Admin,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 4] = [Role::Viewer, Role::Submitter, Role::Approver, Role::Admin];

    /// The code used in tokens and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Submitter => "submitter",
            Role::Approver => "approver",
            Role::Admin => "admin",
        }
    }

    /// Whether the role lets its holder read (every known role does: submitting, deciding and
    /// managing all need to see the data).
    pub fn grants_read(self) -> bool {
        matches!(
            self,
            Role::Viewer | Role::Submitter | Role::Approver | Role::Admin
        )
    }

    /// Reads a role code.
    pub fn parse(code: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == code)
    }
}

/// A verified member of a department.
#[derive(Clone, Debug, PartialEq)]
pub struct Member {
    /// The token's `sub`.
    pub subject: String,
    /// The department's code (the token's `dept`), known to exist.
    pub department: String,
    pub department_id: i32,
    pub department_kind: DepartmentKind,
    pub roles: Vec<Role>,
}

impl Member {
    /// A member of `department` known as `subject`, holding `roles`.
    pub fn of(subject: String, department: &entity::department::Model, roles: Vec<Role>) -> Self {
        Member {
            subject,
            department: department.code.clone(),
            department_id: department.id,
            department_kind: department.kind,
            roles,
        }
    }
}

/// The caller of one request. Every service function takes one.
#[derive(Clone, Debug, PartialEq)]
pub enum Identity {
    /// No token. Reaches data only when anonymous read is switched on.
    Anonymous,
    Member(Member),
}

impl Identity {
    /// The member, if any.
    pub fn member(&self) -> Option<&Member> {
        match self {
            Identity::Member(m) => Some(m),
            Identity::Anonymous => None,
        }
    }

    /// The token subject, or `anonymous`.
    pub fn subject(&self) -> &str {
        self.member().map_or("anonymous", |m| m.subject.as_str())
    }

    /// The department code, if any.
    pub fn department(&self) -> Option<&str> {
        self.member().map(|m| m.department.as_str())
    }

    /// Whether the caller belongs to a coordinating department (statistics, wcwc).
    pub fn is_coordinator(&self) -> bool {
        self.member()
            .is_some_and(|m| m.department_kind == DepartmentKind::Coordinator)
    }

    /// Whether the caller holds `role`.
    pub fn has_role(&self, role: Role) -> bool {
        self.member().is_some_and(|m| m.roles.contains(&role))
    }

    /// Whether the caller belongs to the department with this id.
    pub fn belongs_to(&self, department_id: i32) -> bool {
        self.member()
            .is_some_and(|m| m.department_id == department_id)
    }
}
