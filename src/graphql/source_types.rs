//! Object types of source connectors: sources, their runs, and where a value came from.

use crate::graphql::context::reference;
use crate::graphql::types::Department;
use crate::sources::landing::Reject;
use crate::sources::runner::PullReport;
use crate::vocabulary::{RunStatus, SourceKind, SourceStatus};
use async_graphql::{Context, ID, Object, Result, SimpleObject};
use entity::{source, source_run};

pub struct Source(pub source::Model);

/// A department's system the hub pulls from.
#[Object]
impl Source {
    /// Unique name, e.g. `health-mch`; used by `runSource` and in `sourceRuns`.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// What kind of system it is (REST JSON, CSV over HTTP, SDMX-JSON, GraphQL, SQL).
    async fn kind(&self) -> SourceKind {
        self.0.kind
    }
    /// The department whose values it carries.
    async fn department(&self, ctx: &Context<'_>) -> Result<Option<Department>> {
        Ok(reference(ctx)?
            .department_by_id(self.0.department_id)
            .cloned()
            .map(Department))
    }
    /// An interval (`6h`) or a cron expression.
    async fn schedule(&self) -> &str {
        &self.0.schedule
    }
    /// Active (pulled on its schedule) or paused.
    async fn status(&self) -> SourceStatus {
        self.0.status
    }
    /// Whether one bad row keeps a whole pull out.
    async fn all_or_nothing(&self) -> bool {
        self.0.all_or_nothing
    }
    /// `settings` (the settings file) or `api`.
    async fn origin(&self) -> &str {
        &self.0.origin
    }
    /// Its description: where and how it is fetched and mapped (credentials only by variable name).
    async fn config(&self) -> async_graphql::Json<serde_json::Value> {
        async_graphql::Json(self.0.config.clone())
    }
    /// When its runs started failing, if they are.
    async fn failing_since(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.0.failing_since
    }
}

/// A bad row of a pull.
#[derive(SimpleObject)]
pub struct SourceReject {
    /// Where it was in the source: `page 2, record 14`, `line 37`, `row 12`.
    pub at: String,
    /// The field that was wrong, e.g. `value` or `region`.
    pub field: String,
    /// The value found there.
    pub value: String,
    /// What was expected.
    pub message: String,
}

impl From<Reject> for SourceReject {
    fn from(r: Reject) -> Self {
        SourceReject {
            at: r.at,
            field: r.field,
            value: r.value,
            message: r.message,
        }
    }
}

pub struct SourceRun(pub source_run::Model);

/// One pull of a source.
#[Object]
impl SourceRun {
    /// The run's id (as in an observation's `source.runId`).
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// `schedule` or `manual`.
    async fn trigger(&self) -> &str {
        &self.0.trigger
    }
    /// Running, succeeded, unchanged, failed or interrupted.
    async fn status(&self) -> RunStatus {
        self.0.status
    }
    /// When the pull started.
    async fn started_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.started_at
    }
    /// When it ended; null while running.
    async fn finished_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.0.finished_at
    }
    /// The HTTP status of the last request (HTTP sources).
    async fn http_status(&self) -> Option<i32> {
        self.0.http_status
    }
    /// Why it failed.
    async fn error(&self) -> Option<&str> {
        self.0.error.as_deref()
    }
    /// Rows read from the source.
    async fn rows_fetched(&self) -> i32 {
        self.0.rows_fetched
    }
    /// Rows that created a new revision (pending approval).
    async fn rows_written(&self) -> i32 {
        self.0.rows_written
    }
    /// Rows identical to the stored value.
    async fn rows_unchanged(&self) -> i32 {
        self.0.rows_unchanged
    }
    /// Rows that failed a check (see `rejects`).
    async fn rows_rejected(&self) -> i32 {
        self.0.rows_rejected
    }
    /// The submission the valid rows landed in (pending approval).
    async fn submission_id(&self) -> Option<ID> {
        self.0.submission_id.map(|id| ID(id.to_string()))
    }
    /// The first rejected rows (up to 100), with the source's own references and the reasons.
    async fn rejects(&self) -> Vec<SourceReject> {
        serde_json::from_value::<Vec<Reject>>(self.0.rejects.clone())
            .unwrap_or_default()
            .into_iter()
            .map(SourceReject::from)
            .collect()
    }
}

pub struct Pull(pub PullReport);

/// What a pull did, as `runSource` answers (a dry run has no recorded run).
#[Object]
impl Pull {
    /// The recorded run (none for a dry run).
    async fn run(&self) -> Option<SourceRun> {
        self.0.run.clone().map(SourceRun)
    }
    /// How the pull went.
    async fn status(&self) -> RunStatus {
        self.0.status
    }
    /// Why it failed; null when it did not.
    async fn error(&self) -> Option<&str> {
        self.0.error.as_deref()
    }
    /// Rows read from the source.
    async fn rows_fetched(&self) -> i32 {
        self.0.fetched as i32
    }
    /// Rows that landed (a dry run: would land).
    async fn rows_written(&self) -> i32 {
        self.0.written as i32
    }
    /// Rows identical to the stored value.
    async fn rows_unchanged(&self) -> i32 {
        self.0.unchanged as i32
    }
    /// Rows that failed a check.
    async fn rows_rejected(&self) -> i32 {
        self.0.rejected as i32
    }
    /// The first rejected rows (up to 100) and why.
    async fn rejects(&self) -> Vec<SourceReject> {
        self.0
            .rejects
            .iter()
            .cloned()
            .map(SourceReject::from)
            .collect()
    }
    /// The first mapped rows, to check a mapping.
    async fn preview(&self) -> async_graphql::Json<serde_json::Value> {
        async_graphql::Json(serde_json::json!(
            self.0
                .preview
                .iter()
                .map(|r| serde_json::json!({
                    "indicator": r.indicator, "region": r.region, "year": r.year, "sex": r.sex,
                    "ageGroup": r.age_group, "residence": r.residence, "value": r.value,
                    "numerator": r.numerator, "denominator": r.denominator,
                }))
                .collect::<Vec<_>>()
        ))
    }
}

pub struct Provenance(pub source_run::Model, pub source::Model);

/// Where a value came from: the source and the run that pulled it.
#[Object]
impl Provenance {
    /// The source's name.
    async fn name(&self) -> &str {
        &self.1.name
    }
    /// What kind of system the source is.
    async fn kind(&self) -> SourceKind {
        self.1.kind
    }
    /// The run that pulled it.
    async fn run_id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// When the run that pulled the value started.
    async fn pulled_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.started_at
    }
}
