//! The authorization policy: the one place that says who may read or write what. Services call these
//! functions where data is read and written; the GraphQL layer only checks the coarse per-field rules in
//! [`FIELD_RULES`], which must name every field of the schema (default deny).
//!
//! | who | public/internal | restricted | unapproved | write values | approve | catalogue |
//! |---|---|---|---|---|---|---|
//! | anonymous (only with `anonymous_read = "public"`) | public, approved, city level | – | – | – | – | – |
//! | member of any department | approved | suppressed (small cells hidden) | – | – | – | – |
//! | owner department | approved | full | its own | `submitter`: its own indicators | – | – |
//! | coordinator (`statistics`, `wcwc`) | approved | full | all | – | `approver` | – |
//! | `admin` role | as above | as above | as above | – | – | `admin` |

use crate::auth::{Identity, Member, Role};
use crate::error::{AppError, AppResult};
use crate::vocabulary::{DepartmentKind, Sensitivity};
use entity::indicator;

/// How a caller reads the values of one indicator they may see.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum DataAccess {
    /// Every approved value as stored; unapproved values too when `unapproved` is set.
    Full { unapproved: bool },
    /// Approved values with small cells (and enough others) suppressed; numerators and denominators hidden.
    Suppressed,
}

/// Whether the caller may see the indicator in the catalogue at all. Anonymous callers see public
/// indicators only; members see every indicator (restricted ones with suppressed values).
pub fn may_see_indicator(identity: &Identity, indicator: &indicator::Model) -> bool {
    match identity {
        Identity::Anonymous => indicator.sensitivity == Sensitivity::Public.as_str(),
        Identity::Member(_) => true,
    }
}

/// How the caller reads the indicator's values, or `None` when they may not read them at all.
pub fn data_access(identity: &Identity, indicator: &indicator::Model) -> Option<DataAccess> {
    if !may_see_indicator(identity, indicator) {
        return None;
    }
    let privileged = owns_or_coordinates(identity, indicator);
    if indicator.sensitivity == Sensitivity::Restricted.as_str() && !privileged {
        return Some(DataAccess::Suppressed);
    }
    Some(DataAccess::Full {
        unapproved: privileged,
    })
}

/// Whether the caller may read only city-level values (anonymous callers).
pub fn city_level_only(identity: &Identity) -> bool {
    matches!(identity, Identity::Anonymous)
}

/// The owner department and the coordinators see an indicator in full, unapproved values included.
pub fn owns_or_coordinates(identity: &Identity, indicator: &indicator::Model) -> bool {
    identity.is_coordinator() || identity.belongs_to(indicator.owner_department_id)
}

/// The caller must have presented a valid token.
pub fn require_member(identity: &Identity) -> AppResult<&Member> {
    identity
        .member()
        .ok_or_else(|| AppError::Unauthenticated("this operation needs a bearer token".into()))
}

/// A `submitter` writes only observations of indicators its department owns.
pub fn authorize_submit(identity: &Identity, indicator: &indicator::Model) -> AppResult<()> {
    let member = require_member(identity)?;
    if !member.roles.contains(&Role::Submitter) {
        return Err(AppError::Forbidden(
            "submitting values needs the submitter role".into(),
        ));
    }
    if member.department_id != indicator.owner_department_id {
        return Err(AppError::Forbidden(format!(
            "department {} does not own indicator {} and may not submit its values",
            member.department, indicator.code
        )));
    }
    Ok(())
}

/// Approvers are members of a coordinating department with the `approver` role.
pub fn authorize_approve(identity: &Identity) -> AppResult<&Member> {
    let member = require_member(identity)?;
    if member.department_kind != DepartmentKind::Coordinator
        || !member.roles.contains(&Role::Approver)
    {
        return Err(AppError::Forbidden(
            "approving needs the approver role in a coordinating department (statistics, wcwc)"
                .into(),
        ));
    }
    Ok(member)
}

/// Admins manage the catalogue.
pub fn authorize_admin(identity: &Identity) -> AppResult<&Member> {
    let member = require_member(identity)?;
    if !member.roles.contains(&Role::Admin) {
        return Err(AppError::Forbidden(
            "changing the catalogue needs the admin role".into(),
        ));
    }
    Ok(member)
}

/// Submissions, audit entries and data-quality findings about a department's data are read by that
/// department, the coordinators and admins.
pub fn may_read_department_records(identity: &Identity, department_id: i32) -> bool {
    identity.is_coordinator()
        || identity.has_role(Role::Admin)
        || identity.belongs_to(department_id)
}

/// Whether the caller reads every department's records (coordinators and admins).
pub fn reads_all_department_records(identity: &Identity) -> bool {
    identity.is_coordinator() || identity.has_role(Role::Admin)
}

/// The coarse rule for a GraphQL field, checked before it resolves.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum FieldRule {
    /// Any caller let into the graph; the data behind the field is scoped by the services.
    Scoped,
    /// A valid token is needed.
    Member,
}

/// Every field of the schema with its rule, as `Type.field` (or `Type.*` for every field of a type whose
/// values were scoped when the object was loaded). A field missing here is refused at run time, and the
/// policy-coverage test fails.
pub const FIELD_RULES: &[(&str, FieldRule)] = &[
    ("Query.departments", FieldRule::Scoped),
    ("Query.department", FieldRule::Scoped),
    ("Query.domains", FieldRule::Scoped),
    ("Query.dimensionCodes", FieldRule::Scoped),
    ("Query.indicators", FieldRule::Scoped),
    ("Query.indicator", FieldRule::Scoped),
    ("Query.regions", FieldRule::Scoped),
    ("Query.region", FieldRule::Scoped),
    ("Query.observations", FieldRule::Scoped),
    ("Query.me", FieldRule::Scoped),
    ("Query._entities", FieldRule::Scoped),
    ("Query._service", FieldRule::Scoped),
    ("_Service.*", FieldRule::Scoped),
    ("Me.*", FieldRule::Scoped),
    ("Department.*", FieldRule::Scoped),
    ("Domain.*", FieldRule::Scoped),
    ("Indicator.*", FieldRule::Scoped),
    ("Target.*", FieldRule::Scoped),
    ("Region.*", FieldRule::Scoped),
    ("DimensionCode.*", FieldRule::Scoped),
    ("Observation.*", FieldRule::Scoped),
    ("ObservationConnection.*", FieldRule::Scoped),
    ("ObservationEdge.*", FieldRule::Scoped),
    ("PageInfo.*", FieldRule::Scoped),
    ("Query.exportObservations", FieldRule::Scoped),
    ("Query.progress", FieldRule::Scoped),
    ("Query.summary", FieldRule::Scoped),
    ("Query.earlyWarnings", FieldRule::Scoped),
    ("TargetProgress.*", FieldRule::Scoped),
    ("TownshipProgress.*", FieldRule::Scoped),
    ("SeriesPoint.*", FieldRule::Scoped),
    ("StatusCount.*", FieldRule::Scoped),
    ("DomainSummary.*", FieldRule::Scoped),
    ("ProgressSummary.*", FieldRule::Scoped),
    ("EarlyWarning.*", FieldRule::Scoped),
    ("Query.submissions", FieldRule::Member),
    ("Query.submission", FieldRule::Member),
    ("Query.auditLog", FieldRule::Member),
    ("Query.dataQualityIssues", FieldRule::Member),
    ("Query.reportingCompleteness", FieldRule::Member),
    ("Submission.*", FieldRule::Scoped),
    ("SubmitResult.*", FieldRule::Scoped),
    ("RowError.*", FieldRule::Scoped),
    ("AuditEntry.*", FieldRule::Scoped),
    ("Completeness.*", FieldRule::Scoped),
    // Writes: a token is needed here; the services check roles and ownership.
    ("Mutation.submitObservations", FieldRule::Member),
    ("Mutation.approveSubmission", FieldRule::Member),
    ("Mutation.rejectSubmission", FieldRule::Member),
    ("Mutation.createDepartment", FieldRule::Member),
    ("Mutation.updateDepartment", FieldRule::Member),
    ("Mutation.createIndicator", FieldRule::Member),
    ("Mutation.updateIndicator", FieldRule::Member),
    ("Mutation.setTargets", FieldRule::Member),
    ("Mutation.createRegion", FieldRule::Member),
    ("Mutation.updateRegion", FieldRule::Member),
];

/// The rule of `Type.field`, or `None` when the policy does not cover it (refused).
pub fn field_rule(type_name: &str, field: &str) -> Option<FieldRule> {
    FIELD_RULES.iter().find_map(|(key, rule)| {
        let (t, f) = key.split_once('.')?;
        (t == type_name && (f == "*" || f == field)).then_some(*rule)
    })
}
