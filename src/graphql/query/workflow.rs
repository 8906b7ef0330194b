//! Root fields of the workflow: submissions, the audit log, data quality, what is due and
//! completeness, exports.

use crate::error::AppError;
use crate::graphql::context::{db, identity, reference, scope, settings};
use crate::graphql::query::observations::ObservationFilterInput;
use crate::graphql::types::Observation;
use crate::graphql::workflow_types::{AuditEntry, Completeness, ReportingDue, Submission};
use crate::service::audit::{self, AuditFilter};
use crate::service::export::{self, ExportFormat};
use crate::service::submissions::{self, SubmissionFilter};
use crate::service::{due, quality};
use crate::vocabulary::Status;
use async_graphql::{Context, ID, InputObject, Object, Result};

/// Narrows `submissions`.
#[derive(InputObject, Default)]
pub struct SubmissionFilterInput {
    /// Department code.
    pub department: Option<String>,
    /// Only submissions with this status.
    pub status: Option<Status>,
}

/// Narrows `auditLog`.
#[derive(InputObject, Default)]
pub struct AuditFilterInput {
    /// Department code: entries about that department's data.
    pub department: Option<String>,
    /// e.g. `submission.approve`.
    pub action: Option<String>,
    /// e.g. `submission`, `indicator`, `region`.
    pub entity_type: Option<String>,
    /// A code or an id, e.g. `HEA-03`.
    pub entity_key: Option<String>,
    /// Entries at or after this time.
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    /// Entries before this time.
    pub until: Option<chrono::DateTime<chrono::Utc>>,
}

fn parse_id(field: &str, id: &ID) -> Result<i64> {
    id.parse::<i64>()
        .map_err(|_| AppError::invalid(field, id.as_str(), "a submission id such as \"12\"").into())
}

/// The most entries one list answers (`limits.max_list_size`).
fn max_list(ctx: &Context<'_>) -> Result<u64> {
    Ok(settings(ctx)?.limits.max_list_size)
}

#[derive(Default)]
pub struct WorkflowQuery;

#[Object]
impl WorkflowQuery {
    /// Submissions the caller may see (its department's; coordinators: all), newest first.
    #[graphql(complexity = "crate::graphql::cost::RECORDS + first as usize * child_complexity")]
    async fn submissions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which submissions (default: every one the caller may see).")]
        filter: Option<SubmissionFilterInput>,
        #[graphql(
            desc = "How many (default and most: `limits.max_list_size`).",
            default = 50
        )]
        first: u64,
    ) -> Result<Vec<Submission>> {
        let f = filter.unwrap_or_default();
        let filter = SubmissionFilter {
            department: f.department,
            status: f.status,
        };
        let found = submissions::list_submissions(
            db(ctx)?,
            identity(ctx),
            &filter,
            first.min(max_list(ctx)?),
        )
        .await?;
        Ok(found.into_iter().map(Submission).collect())
    }

    /// One submission; null when it does not exist or the caller may not see it.
    async fn submission(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The submission's id.")] id: ID,
    ) -> Result<Option<Submission>> {
        let id = parse_id("id", &id)?;
        Ok(submissions::find_submission(db(ctx)?, identity(ctx), id)
            .await?
            .map(Submission))
    }

    /// Who changed what and when (coordinators: everything; a department: entries about its own data).
    #[graphql(complexity = "crate::graphql::cost::RECORDS + first as usize * child_complexity")]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which entries (default: every one the caller may see).")] filter: Option<
            AuditFilterInput,
        >,
        #[graphql(
            desc = "How many, newest first (default and most: `limits.max_list_size`).",
            default = 100
        )]
        first: u64,
    ) -> Result<Vec<AuditEntry>> {
        let f = filter.unwrap_or_default();
        let db = db(ctx)?;
        let department_id = match &f.department {
            Some(code) => Some(
                crate::service::catalogue::require_department(db, "filter.department", code)
                    .await?
                    .id,
            ),
            None => None,
        };
        let filter = AuditFilter {
            department_id,
            action: f.action,
            entity_type: f.entity_type,
            entity_key: f.entity_key,
            since: f.since,
            until: f.until,
        };
        let found =
            audit::list_audit(db, identity(ctx), &filter, first.min(max_list(ctx)?)).await?;
        Ok(found.into_iter().map(AuditEntry).collect())
    }

    /// Values of `year` that were accepted with a data-quality flag (e.g. an implausible jump).
    #[graphql(complexity = "crate::graphql::cost::RECORDS + child_complexity")]
    async fn data_quality_issues(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The year the values are for.")] year: i32,
    ) -> Result<Vec<Observation>> {
        let found = quality::list_quality_issues(db(ctx)?, scope(ctx)?, year).await?;
        Ok(found.into_iter().map(Observation).collect())
    }

    /// Where each indicator the caller answers for stands for `year`: every value the plan expects
    /// (each township where a target is per township, each breakdown), counted as missing, pending,
    /// rejected or approved. Coordinators see every department; a department its own.
    #[graphql(complexity = "crate::graphql::cost::RECORDS + child_complexity")]
    async fn reporting_completeness(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The year to check.")] year: i32,
    ) -> Result<Vec<Completeness>> {
        let found = quality::reporting_completeness(
            db(ctx)?,
            reference(ctx)?,
            settings(ctx)?,
            identity(ctx),
            year,
        )
        .await?;
        Ok(found.into_iter().map(Completeness::from).collect())
    }

    /// What `department` owes for `year`: every expected value with where it stands, last year's
    /// approved value beside it, the deadline and the template's address. For the department's members
    /// and coordinators.
    #[graphql(complexity = "crate::graphql::cost::RECORDS + child_complexity")]
    async fn reporting_due(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The department's code, e.g. `health`.")] department: String,
        #[graphql(desc = "The year the values are for.")] year: i32,
    ) -> Result<ReportingDue> {
        let found = due::due(
            db(ctx)?,
            reference(ctx)?,
            settings(ctx)?,
            identity(ctx),
            &department,
            year,
            None,
        )
        .await?;
        Ok(found.into())
    }

    /// The observations matching `filter` as a CSV or JSON document (at most `limits.max_graphql_export_rows`
    /// rows; `GET /exports/observations.csv` streams whole tables). The same policy and suppression apply as
    /// everywhere.
    #[graphql(complexity = "crate::graphql::cost::EXPORT + child_complexity")]
    async fn export_observations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which observations (default: every one the caller may read).")]
        filter: Option<ObservationFilterInput>,
        #[graphql(desc = "CSV (default) or JSON.")] format: ExportFormat,
    ) -> Result<String> {
        let limit = settings(ctx)?.limits.max_graphql_export_rows;
        let filter = filter.unwrap_or_default().into();
        let mut out = Vec::new();
        export::export(
            db(ctx)?,
            scope(ctx)?.clone(),
            &filter,
            format,
            limit,
            &mut out,
        )
        .await?;
        String::from_utf8(out).map_err(|e| AppError::Internal(e.to_string()).into())
    }
}
