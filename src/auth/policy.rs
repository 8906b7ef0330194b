//! The authorization policy: the one place that says who may read or write what. Services call these
//! functions where data is read and written; the GraphQL layer only checks the coarse per-field rules in
//! [`FIELD_RULES`], which must name every field of the schema (default deny).
//!
//! | who | public/internal | restricted | unapproved | write values | decide | catalogue |
//! |---|---|---|---|---|---|---|
//! | anonymous (only with `anonymous_read = "public"`) | public, approved, city level | – | – | – | – | – |
//! | member of any department with a reading role | approved | suppressed (small cells hidden) | – | – | – | – |
//! | owner department | approved | full | its own | `submitter`: its own indicators | – | its `admin`: its indicators' names, units, targets |
//! | coordinator (`statistics`, `wcwc`) | approved | full | all | – | `approver`, never on its own submissions | its `admin`: departments, regions, owners, sensitivity, everything |
//!
//! Roles: `viewer` reads; `submitter`, `approver` and `admin` each imply `viewer`. A token with no known
//! role reads nothing (unknown role names grant nothing).

use crate::auth::{Identity, Member, Role};
use crate::error::{AppError, AppResult};
use crate::vocabulary::{DepartmentKind, EventKind, Sensitivity};
use entity::indicator;
use std::collections::HashMap;
use std::sync::LazyLock;

/// How a caller reads the values of one indicator they may see.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum DataAccess {
    /// Every approved value as stored; unapproved values too when `unapproved` is set.
    Full { unapproved: bool },
    /// Approved values with small cells (and enough others) suppressed; numerators and denominators hidden.
    Suppressed,
}

/// Whether the caller may read anything: anonymous callers (let in only when anonymous read is on) and
/// members holding a role that grants reading.
pub fn may_read(identity: &Identity) -> bool {
    match identity {
        Identity::Anonymous => true,
        Identity::Member(m) => m.roles.iter().any(|r| r.grants_read()),
    }
}

/// The caller must hold a role that grants reading.
pub fn require_reader(identity: &Identity) -> AppResult<()> {
    if may_read(identity) {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "this token grants no role that reads (viewer, submitter, approver or admin)".into(),
        ))
    }
}

/// Whether the caller may see the indicator in the catalogue at all. Anonymous callers see public
/// indicators only; members with a reading role see every indicator (restricted ones with suppressed
/// values).
pub fn may_see_indicator(identity: &Identity, indicator: &indicator::Model) -> bool {
    match identity {
        Identity::Anonymous => indicator.sensitivity == Sensitivity::Public,
        Identity::Member(_) => may_read(identity),
    }
}

/// How the caller reads the indicator's values, or `None` when they may not read them at all.
pub fn data_access(identity: &Identity, indicator: &indicator::Model) -> Option<DataAccess> {
    if !may_see_indicator(identity, indicator) {
        return None;
    }
    let privileged = owns_or_coordinates(identity, indicator);
    if indicator.sensitivity == Sensitivity::Restricted && !privileged {
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

/// The caller must hold `role` (a first, coarse check before the data says which department is
/// concerned).
pub fn require_role(identity: &Identity, role: Role) -> AppResult<&Member> {
    let member = require_member(identity)?;
    if !member.roles.contains(&role) {
        return Err(AppError::Forbidden(format!(
            "this needs the {} role",
            role.as_str()
        )));
    }
    Ok(member)
}

/// Separation of duties: nobody decides on a submission they sent, whatever roles they hold.
pub fn authorize_decision_on(member: &Member, submitted_by: &str) -> AppResult<()> {
    if member.subject == submitted_by {
        return Err(AppError::Forbidden(
            "nobody approves or rejects a submission they sent; another approver must decide"
                .into(),
        ));
    }
    Ok(())
}

/// Admins of a coordinating department manage the city catalogue: departments and their kinds, regions,
/// indicators' owners and sensitivity.
pub fn authorize_city_admin(identity: &Identity) -> AppResult<&Member> {
    let member = require_member(identity)?;
    if !member.roles.contains(&Role::Admin) || member.department_kind != DepartmentKind::Coordinator
    {
        return Err(AppError::Forbidden(
            "changing the city catalogue (departments, regions, owners, sensitivity) needs the admin role in a coordinating department (statistics, wcwc)"
                .into(),
        ));
    }
    Ok(member)
}

/// What belongs to one department (its indicators' names, units, dimensions and targets; its sources
/// and webhooks) is managed by an admin of that department or of a coordinating department.
pub fn authorize_department_admin(identity: &Identity, department_id: i32) -> AppResult<&Member> {
    let member = require_member(identity)?;
    let allowed = member.roles.contains(&Role::Admin)
        && (member.department_kind == DepartmentKind::Coordinator
            || member.department_id == department_id);
    if !allowed {
        return Err(AppError::Forbidden(format!(
            "this needs the admin role in the department it belongs to or in a coordinating department; {} may not",
            member.department
        )));
    }
    Ok(member)
}

/// Submissions, audit entries and data-quality findings about a department's data are read by that
/// department and the coordinators.
pub fn may_read_department_records(identity: &Identity, department_id: i32) -> bool {
    may_read(identity) && (identity.is_coordinator() || identity.belongs_to(department_id))
}

/// Whether the caller reads every department's records (coordinators).
pub fn reads_all_department_records(identity: &Identity) -> bool {
    may_read(identity) && identity.is_coordinator()
}

/// Whether the caller hears of an event (webhooks and subscriptions) — the read policy applied to what
/// the event tells: a submission's or a source's events go to its department and the coordinators;
/// published values to whoever may read the indicator (the payload then suppresses as a query would);
/// progress statuses and warnings to those who read the indicator in full (a status computed from
/// hidden counts is not shown to readers of the suppressed table); catalogue changes to every member.
pub fn may_hear(
    identity: &Identity,
    kind: EventKind,
    department_id: Option<i32>,
    indicator: Option<&indicator::Model>,
) -> bool {
    if identity.member().is_none() || !may_read(identity) {
        return false;
    }
    match kind {
        EventKind::SubmissionCreated
        | EventKind::SubmissionApproved
        | EventKind::SubmissionRejected
        | EventKind::SourceFailed => {
            department_id.is_some_and(|d| may_read_department_records(identity, d))
        }
        EventKind::ObservationsPublished => {
            indicator.is_some_and(|i| data_access(identity, i).is_some())
        }
        EventKind::TargetStatusChanged | EventKind::WarningRaised | EventKind::WarningCleared => {
            indicator
                .is_some_and(|i| matches!(data_access(identity, i), Some(DataAccess::Full { .. })))
        }
        EventKind::CatalogueChanged => true,
    }
}

/// The coarse rule for a GraphQL field, checked before it resolves.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum FieldRule {
    /// Any caller let into the graph; the data behind the field is scoped by the services.
    Scoped,
    /// A valid token is needed.
    Member,
    /// Answered for any caller let in, whatever its roles: what the caller's own token grants.
    Open,
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
    ("Query.me", FieldRule::Open),
    ("Query._entities", FieldRule::Scoped),
    // The schema itself, for federation gateways: no data behind it.
    ("Query._service", FieldRule::Open),
    ("_Service.*", FieldRule::Open),
    ("Me.*", FieldRule::Open),
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
    // Aggregates are computed over what the caller's scope releases (service::observations::aggregate).
    ("ObservationAggregates.*", FieldRule::Scoped),
    ("ObservationAggregateValues.*", FieldRule::Scoped),
    ("ObservationGroup.*", FieldRule::Scoped),
    ("ObservationGroupKeys.*", FieldRule::Scoped),
    ("Query.exportObservations", FieldRule::Scoped),
    ("Query.progress", FieldRule::Scoped),
    ("Query.summary", FieldRule::Scoped),
    ("Query.progressStatuses", FieldRule::Scoped),
    ("Query.events", FieldRule::Member),
    ("Query.sources", FieldRule::Member),
    ("Query.source", FieldRule::Member),
    ("Query.sourceRuns", FieldRule::Member),
    ("Source.*", FieldRule::Scoped),
    ("SourceRun.*", FieldRule::Scoped),
    ("SourceReject.*", FieldRule::Scoped),
    ("Pull.*", FieldRule::Scoped),
    ("Provenance.*", FieldRule::Scoped),
    ("Query.webhooks", FieldRule::Member),
    ("Query.webhookDeliveries", FieldRule::Member),
    ("Subscription.events", FieldRule::Member),
    ("Subscription.statusChanged", FieldRule::Member),
    ("Event.*", FieldRule::Scoped),
    ("StatusChange.*", FieldRule::Scoped),
    ("Webhook.*", FieldRule::Scoped),
    ("WebhookWithSecret.*", FieldRule::Scoped),
    ("WebhookDelivery.*", FieldRule::Scoped),
    ("StatusLabel.*", FieldRule::Scoped),
    ("Query.earlyWarnings", FieldRule::Scoped),
    ("TargetProgress.*", FieldRule::Scoped),
    ("TownshipProgress.*", FieldRule::Scoped),
    ("SeriesPoint.*", FieldRule::Scoped),
    ("StatusCount.*", FieldRule::Scoped),
    ("Thresholds.*", FieldRule::Scoped),
    ("YearCoverage.*", FieldRule::Scoped),
    ("DomainSummary.*", FieldRule::Scoped),
    ("ProgressSummary.*", FieldRule::Scoped),
    ("EarlyWarning.*", FieldRule::Scoped),
    ("Query.submissions", FieldRule::Member),
    ("Query.submission", FieldRule::Member),
    ("Query.auditLog", FieldRule::Member),
    ("Query.dataQualityIssues", FieldRule::Member),
    ("Query.reportingCompleteness", FieldRule::Member),
    ("Query.reportingDue", FieldRule::Member),
    ("Submission.*", FieldRule::Scoped),
    ("SubmitResult.*", FieldRule::Scoped),
    ("RowError.*", FieldRule::Scoped),
    ("SubmitWarning.*", FieldRule::Scoped),
    ("FileRead.*", FieldRule::Scoped),
    ("MappedName.*", FieldRule::Scoped),
    ("ReadValue.*", FieldRule::Scoped),
    ("AuditEntry.*", FieldRule::Scoped),
    ("Completeness.*", FieldRule::Scoped),
    ("ReportingDue.*", FieldRule::Scoped),
    ("DueValue.*", FieldRule::Scoped),
    // Writes: a token is needed here; the services check roles and ownership.
    ("Mutation.submitObservations", FieldRule::Member),
    ("Mutation.submitFile", FieldRule::Member),
    ("Mutation.approveSubmission", FieldRule::Member),
    ("Mutation.rejectSubmission", FieldRule::Member),
    ("Mutation.createDepartment", FieldRule::Member),
    ("Mutation.updateDepartment", FieldRule::Member),
    ("Mutation.createIndicator", FieldRule::Member),
    ("Mutation.updateIndicator", FieldRule::Member),
    ("Mutation.setTargets", FieldRule::Member),
    ("Mutation.createRegion", FieldRule::Member),
    ("Mutation.updateRegion", FieldRule::Member),
    ("Mutation.createWebhook", FieldRule::Member),
    ("Mutation.pauseWebhook", FieldRule::Member),
    ("Mutation.resumeWebhook", FieldRule::Member),
    ("Mutation.rotateWebhookSecret", FieldRule::Member),
    ("Mutation.deleteWebhook", FieldRule::Member),
    ("Mutation.redeliver", FieldRule::Member),
    ("Mutation.createSource", FieldRule::Member),
    ("Mutation.updateSource", FieldRule::Member),
    ("Mutation.pauseSource", FieldRule::Member),
    ("Mutation.resumeSource", FieldRule::Member),
    ("Mutation.runSource", FieldRule::Member),
];

/// The rule of `Type.field`, or `None` when the policy does not cover it (refused). The first entry of
/// [`FIELD_RULES`] that matches wins, as if the list were scanned; the lookup is a hash map because the
/// guard asks for every field of every answer (a list scan was a tenth of a page's CPU).
pub fn field_rule(type_name: &str, field: &str) -> Option<FieldRule> {
    /// `(type, field or "*")` → the entry's position in the list and its rule.
    type RulesByKey = HashMap<(&'static str, &'static str), (usize, FieldRule)>;
    static BY_KEY: LazyLock<RulesByKey> = LazyLock::new(|| {
        let mut map = HashMap::new();
        for (i, (key, rule)) in FIELD_RULES.iter().enumerate() {
            if let Some((t, f)) = key.split_once('.') {
                map.entry((t, f)).or_insert((i, *rule));
            }
        }
        map
    });
    let exact = BY_KEY.get(&(type_name, field));
    let any = BY_KEY.get(&(type_name, "*"));
    match (exact, any) {
        (Some(e), Some(a)) => Some(if e.0 < a.0 { e.1 } else { a.1 }),
        (Some(m), None) | (None, Some(m)) => Some(m.1),
        (None, None) => None,
    }
}
