//! Object types of the submission workflow: submissions, row errors, audit entries, completeness.

use crate::graphql::context::{loaders, reference, settings};
use crate::graphql::loaders::SubmissionValues;
use crate::graphql::types::{Department, Indicator, Observation};
use crate::service::quality::Completeness as CompletenessModel;
use crate::service::submissions::RowError as RowErrorModel;
use crate::vocabulary::Status;
use async_graphql::{Context, ID, Object, Result, SimpleObject};
use entity::{audit_log, submission};

/// A batch of observations sent by one department in one request.
pub struct Submission(pub submission::Model);

#[Object]
impl Submission {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn department(&self, ctx: &Context<'_>) -> Result<Option<Department>> {
        Ok(reference(ctx)?
            .department_by_id(self.0.department_id)
            .cloned()
            .map(Department))
    }
    /// The token subject that sent it.
    async fn submitted_by(&self) -> &str {
        &self.0.submitted_by
    }
    async fn status(&self) -> Result<Status> {
        Ok(self.0.status)
    }
    /// Rows sent.
    async fn rows_total(&self) -> i32 {
        self.0.rows_total
    }
    /// Rows that created a new revision.
    async fn rows_written(&self) -> i32 {
        self.0.rows_written
    }
    /// Rows identical to the stored value.
    async fn rows_unchanged(&self) -> i32 {
        self.0.rows_unchanged
    }
    async fn created_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.created_at
    }
    async fn decided_by(&self) -> Option<&str> {
        self.0.decided_by.as_deref()
    }
    async fn decided_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.0.decided_at
    }
    /// Why it was rejected.
    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }
    /// The values it carries, as the caller may read them (pending ones: owner department and
    /// coordinators).
    #[graphql(complexity = "first as usize * child_complexity")]
    async fn observations(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 1000)] first: u64,
    ) -> Result<Vec<Observation>> {
        let key = SubmissionValues {
            submission_id: self.0.id,
            limit: first.min(settings(ctx)?.limits.max_submission_rows as u64) as usize,
        };
        let found = loaders(ctx)?.load_one(key).await?.unwrap_or_default();
        Ok(found.into_iter().map(Observation).collect())
    }
}

/// What is wrong with one submitted row.
#[derive(SimpleObject)]
pub struct RowError {
    /// Index of the row in `input.rows` (0-based).
    pub row: i32,
    /// The field, e.g. `value` or `region`.
    pub field: String,
    /// The value that was given.
    pub value: String,
    /// What was expected.
    pub message: String,
}

impl From<RowErrorModel> for RowError {
    fn from(e: RowErrorModel) -> Self {
        RowError {
            row: e.row as i32,
            field: e.field,
            value: e.value,
            message: e.message,
        }
    }
}

/// The result of `submitObservations`.
#[derive(SimpleObject)]
pub struct SubmitResult {
    /// The new submission; null when nothing was written (errors, a dry run, or nothing changed).
    pub submission: Option<Submission>,
    /// Rows that created a new revision (in a dry run: would create).
    pub written: i32,
    /// Rows identical to the stored value.
    pub unchanged: i32,
    /// Every bad row; when there is any, nothing was written.
    pub row_errors: Vec<RowError>,
}

/// One entry of the audit log.
pub struct AuditEntry(pub audit_log::Model);

#[Object]
impl AuditEntry {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn at(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.at
    }
    /// Token subject of who wrote.
    async fn actor(&self) -> &str {
        &self.0.actor
    }
    async fn actor_department(&self) -> Option<&str> {
        self.0.actor_department.as_deref()
    }
    /// e.g. `submission.create`, `submission.approve`, `indicator.update`.
    async fn action(&self) -> &str {
        &self.0.action
    }
    async fn entity_type(&self) -> &str {
        &self.0.entity_type
    }
    async fn entity_key(&self) -> &str {
        &self.0.entity_key
    }
    async fn request_id(&self) -> Option<&str> {
        self.0.request_id.as_deref()
    }
    /// The values before the write (JSON).
    async fn before(&self) -> Option<async_graphql::Json<serde_json::Value>> {
        self.0.before.clone().map(async_graphql::Json)
    }
    /// The values after the write (JSON).
    async fn after(&self) -> Option<async_graphql::Json<serde_json::Value>> {
        self.0.after.clone().map(async_graphql::Json)
    }
}

/// Whether an indicator has been reported for a year.
pub struct Completeness(pub CompletenessModel);

#[Object]
impl Completeness {
    async fn indicator(&self, ctx: &Context<'_>) -> Result<Option<Indicator>> {
        Ok(crate::graphql::types::visible_indicator(ctx, self.0.indicator.id).ok())
    }
    async fn department(&self) -> Department {
        Department(self.0.department.clone())
    }
    /// Some value (of any status) exists for the year.
    async fn reported(&self) -> bool {
        self.0.reported
    }
}
