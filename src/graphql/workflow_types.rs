//! Object types of the submission workflow: submissions, row errors, audit entries, completeness.

use crate::graphql::context::{loaders, reference, settings};
use crate::graphql::loaders::SubmissionValues;
use crate::graphql::types::{Department, Indicator, Observation};
use crate::service::due::{CellStatus, Counts, Due, DueCell, IndicatorDue};
use crate::service::submissions::RowError as RowErrorModel;
use crate::vocabulary::Status;
use async_graphql::{Context, ID, Object, Result, SimpleObject};
use entity::{audit_log, submission};

pub struct Submission(pub submission::Model);

impl Submission {
    async fn coverage(&self, ctx: &Context<'_>) -> Result<crate::service::submissions::Coverage> {
        Ok(loaders(ctx)?
            .load_one(crate::graphql::loaders::CoverageOf(self.0.id))
            .await?
            .unwrap_or_default())
    }
}

/// A batch of observations sent by one department in one request.
#[Object]
impl Submission {
    /// The submission's id, for `approveSubmission` and `rejectSubmission`.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The department that sent it.
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
    /// Pending until a coordinator approves or rejects it.
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
    /// When it was sent.
    async fn created_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.created_at
    }
    /// Token subject of the coordinator who approved or rejected it.
    async fn decided_by(&self) -> Option<&str> {
        self.0.decided_by.as_deref()
    }
    /// When it was approved or rejected.
    async fn decided_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.0.decided_at
    }
    /// Where its values came from: `file 卫健委-2026.xlsx (xlsx, template layout)`, `api` or
    /// `source run 12`.
    async fn origin(&self) -> Option<&str> {
        self.0.origin.as_deref()
    }
    /// The quality warnings found before it was sent, which the submitter confirmed (JSON list of
    /// `{row, cell, kind, message}`).
    async fn confirmed_warnings(&self) -> Option<async_graphql::Json<serde_json::Value>> {
        self.0.warnings.clone().map(async_graphql::Json)
    }
    /// How many quality warnings the submitter confirmed when sending it.
    async fn confirmed_warning_count(&self) -> i32 {
        self.0
            .warnings
            .as_ref()
            .and_then(|w| w["warnings"].as_array())
            .map_or(0, |w| w.len() as i32)
    }
    /// Why it was rejected.
    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }
    /// The indicators its values are for, in code order.
    async fn indicators(&self, ctx: &Context<'_>) -> Result<Vec<Indicator>> {
        let coverage = self.coverage(ctx).await?;
        let reference = reference(ctx)?;
        let mut found: Vec<Indicator> = coverage
            .indicator_ids
            .iter()
            .filter_map(|id| reference.indicator_by_id(*id).cloned().map(Indicator))
            .collect();
        found.sort_by(|a, b| a.0.code.cmp(&b.0.code));
        Ok(found)
    }
    /// The regions its values are for, in code order.
    async fn regions(&self, ctx: &Context<'_>) -> Result<Vec<crate::graphql::types::Region>> {
        let coverage = self.coverage(ctx).await?;
        let reference = reference(ctx)?;
        let mut found: Vec<_> = coverage
            .region_ids
            .iter()
            .filter_map(|id| {
                reference
                    .region_by_id(*id)
                    .cloned()
                    .map(crate::graphql::types::Region)
            })
            .collect();
        found.sort_by(|a, b| a.0.code.cmp(&b.0.code));
        Ok(found)
    }
    /// The years its values are for, ascending.
    async fn years(&self, ctx: &Context<'_>) -> Result<Vec<i32>> {
        Ok(self.coverage(ctx).await?.years)
    }
    /// The values it carries, as the caller may read them (pending ones: owner department and
    /// coordinators).
    #[graphql(complexity = "first as usize * child_complexity")]
    async fn observations(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "How many values to list (default and most: `limits.max_list_size`).",
            default = 1000
        )]
        first: u64,
    ) -> Result<Vec<Observation>> {
        let key = SubmissionValues {
            submission_id: self.0.id,
            limit: first.min(settings(ctx)?.limits.max_submission_rows as u64) as usize,
        };
        let found = loaders(ctx)?.load_one(key).await?.unwrap_or_default();
        Ok(found.into_iter().map(Observation).collect())
    }
}

/// What is wrong with one submitted row (or, for a file, one cell).
#[derive(SimpleObject)]
pub struct RowError {
    /// Index of the row in `input.rows`, counting from 0 (the message also names it counting from 1).
    /// For a file: the spreadsheet's row number, counting from 1 as the spreadsheet does.
    pub row: i32,
    /// For a file: the cell as the spreadsheet shows it, e.g. `Sheet1!D7`.
    pub cell: Option<String>,
    /// For a file: the cell's sheet, to point at it on a grid.
    pub sheet: Option<String>,
    /// For a file: the cell's column, counting from 0 (`A` is 0).
    pub column: Option<i32>,
    /// The field, e.g. `value` or `region`.
    pub field: String,
    /// The value that was given.
    pub value: String,
    /// What was expected, after the row it concerns: `input.rows[0] (row 1 counting from 1): …`.
    pub message: String,
}

impl From<RowErrorModel> for RowError {
    fn from(e: RowErrorModel) -> Self {
        // `row` is an index, as in the request's list; a person counts from 1, as the command line's
        // line numbers do: the message says both, so nobody fixes the wrong row.
        RowError {
            row: e.row as i32,
            cell: None,
            sheet: None,
            column: None,
            message: format!(
                "input.rows[{}] (row {} counting from 1): {}",
                e.row,
                e.row + 1,
                e.message
            ),
            field: e.field,
            value: e.value,
        }
    }
}

impl From<crate::service::intake::CellProblem> for RowError {
    fn from(p: crate::service::intake::CellProblem) -> Self {
        RowError {
            row: p.row as i32,
            message: format!("{}: {}", p.cell, p.message),
            cell: Some(p.cell),
            sheet: Some(p.sheet),
            column: Some(p.col as i32),
            field: "value".to_owned(),
            value: p.value,
        }
    }
}

/// The result of `submitObservations` and `submitFile`.
#[derive(SimpleObject)]
pub struct SubmitResult {
    /// The new submission; null when nothing was written (errors, a dry run, or nothing changed).
    pub submission: Option<Submission>,
    /// Rows that created a new revision (in a dry run: would create).
    pub written: i32,
    /// Rows identical to the stored value.
    pub unchanged: i32,
    /// Every bad row (for a file: every bad cell); when there is any, nothing was written.
    pub row_errors: Vec<RowError>,
    /// Findings that do not stop a submission but need the submitter's confirmation (`submitFile`'s
    /// `confirmWarnings`): a jump against the last approved year, a city count that is not the sum of
    /// its townships, a percentage typed as a share.
    pub warnings: Vec<SubmitWarning>,
    /// Nothing was written because there are warnings and they were not confirmed.
    pub needs_confirmation: bool,
    /// For `submitFile`: how the file was read.
    pub file: Option<FileRead>,
}

/// A finding about one value before it is stored.
#[derive(SimpleObject)]
pub struct SubmitWarning {
    /// The row it is about (an index into the rows read).
    pub row: i32,
    /// For a file: the value's cell, e.g. `填报!D7`.
    pub cell: Option<String>,
    /// `jump`, `township_sum` or `share_for_percent`.
    pub kind: String,
    /// What was found and what to check, naming the indicator and region.
    pub message: String,
}

/// How a file was read.
#[derive(SimpleObject)]
pub struct FileRead {
    /// The file's name as uploaded.
    pub name: String,
    /// `xlsx`, `xls`, `ods` or `csv`.
    pub format: String,
    /// For CSV: the text encoding read (`UTF-8`, `UTF-8 with BOM`, `GB18030` for GBK, `UTF-16`).
    pub encoding: Option<String>,
    /// `template` (the hub's), `long` (a row per value) or `wide` (a column per indicator).
    pub layout: String,
    /// The sheets values were read from.
    pub sheets: Vec<String>,
    /// Values read.
    pub values: i32,
    /// Rows left out on purpose (blank, the template's 合计 row).
    pub skipped: i32,
    /// Names taken for codes (a township's name where its code goes), to check at a glance.
    pub mapped: Vec<MappedName>,
    /// The values read (at most 5,000), with their cells: what the preview grid shows.
    pub rows: Vec<ReadValue>,
}

/// A name the file gave where a code goes, and the code it was taken for (each name once).
#[derive(SimpleObject)]
pub struct MappedName {
    /// The first cell the name was in, e.g. `Sheet1!A3`.
    pub cell: String,
    /// The name as the file gave it, e.g. `城关镇`.
    pub given: String,
    /// The code it was taken for, e.g. `CITY-01`.
    pub code: String,
}

/// One value read from a file.
#[derive(SimpleObject)]
pub struct ReadValue {
    /// The value's cell, e.g. `填报!D7`.
    pub cell: String,
    /// The indicator's code.
    pub indicator: String,
    /// The region's code.
    pub region: String,
    /// The year the value is for.
    pub year: i32,
    /// Sex breakdown code (`_T` for total).
    pub sex: String,
    /// Age-group breakdown code (`_T` for total).
    pub age_group: String,
    /// Residence breakdown code (`_T` for total).
    pub residence: String,
    /// The value as it will be stored (a percentage typed as `97.3%` is 97.3).
    pub value: f64,
}

pub struct AuditEntry(pub audit_log::Model);

/// One entry of the audit log.
#[Object]
impl AuditEntry {
    /// The entry's id, increasing in the order of writes.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// When the write was committed.
    async fn at(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.at
    }
    /// Token subject of who wrote.
    async fn actor(&self) -> &str {
        &self.0.actor
    }
    /// Department code of who wrote.
    async fn actor_department(&self) -> Option<&str> {
        self.0.actor_department.as_deref()
    }
    /// e.g. `submission.create`, `submission.approve`, `indicator.update`.
    async fn action(&self) -> &str {
        &self.0.action
    }
    /// What was written, e.g. `submission`, `indicator`, `region`.
    async fn entity_type(&self) -> &str {
        &self.0.entity_type
    }
    /// Which one: a code or an id.
    async fn entity_key(&self) -> &str {
        &self.0.entity_key
    }
    /// The `x-request-id` of the HTTP request that wrote, to find it in the logs.
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

/// How many expected values stand where.
#[derive(SimpleObject)]
pub struct DueCounts {
    /// How many values are expected.
    expected: i32,
    /// How many expected values nobody has sent.
    missing: i32,
    /// How many wait for a coordinator's decision.
    pending: i32,
    /// How many were rejected and are to be sent again.
    rejected: i32,
    /// How many are approved.
    approved: i32,
    /// Every expected value has been sent and is pending or approved.
    complete: bool,
}

impl From<Counts> for DueCounts {
    fn from(c: Counts) -> Self {
        let n = |v: usize| v as i32;
        DueCounts {
            expected: n(c.expected),
            missing: n(c.missing),
            pending: n(c.pending),
            rejected: n(c.rejected),
            approved: n(c.approved),
            complete: c.complete(),
        }
    }
}

/// Where an indicator stands for a year: every value the plan expects of it (each township where a target
/// is per township; each sex, urban/rural or age breakdown it has), counted by where it stands.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Completeness {
    #[graphql(flatten)]
    counts: DueCounts,
    #[graphql(skip)]
    due: IndicatorDue,
}

impl From<IndicatorDue> for Completeness {
    fn from(due: IndicatorDue) -> Self {
        Completeness {
            counts: Counts::of(&due.cells).into(),
            due,
        }
    }
}

#[async_graphql::ComplexObject]
impl Completeness {
    /// The indicator (null when the caller may not see it).
    async fn indicator(&self, ctx: &Context<'_>) -> Result<Option<Indicator>> {
        Ok(crate::graphql::types::visible_indicator(ctx, self.due.indicator.id).ok())
    }
    /// The department that owns it.
    async fn department(&self) -> Department {
        Department(self.due.department.clone())
    }
    /// Some value (of any status) exists for the year. `complete` says whether every expected one does.
    async fn reported(&self) -> bool {
        self.due.reported
    }
    /// The reporting deadline for the year (`reporting.deadline`, or `reporting.deadlines` per year).
    async fn deadline(&self) -> chrono::NaiveDate {
        self.due.deadline
    }
    /// The expected values, by region and breakdown (all, or those at `status`).
    async fn cells(
        &self,
        #[graphql(desc = "Only the values at these statuses.")] status: Option<Vec<DueStatus>>,
    ) -> Vec<DueValue> {
        filtered(&self.due.cells, status.as_deref())
    }
}

/// Where an expected value stands.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum DueStatus {
    /// Nobody has sent it.
    Missing,
    /// Sent and rejected: to be corrected and sent again.
    Rejected,
    /// Sent, waiting for a coordinator.
    Pending,
    /// Approved (a later pending or rejected correction does not undo that).
    Approved,
}

impl From<CellStatus> for DueStatus {
    fn from(s: CellStatus) -> Self {
        match s {
            CellStatus::Missing => DueStatus::Missing,
            CellStatus::Rejected => DueStatus::Rejected,
            CellStatus::Pending => DueStatus::Pending,
            CellStatus::Approved => DueStatus::Approved,
        }
    }
}

fn filtered(cells: &[DueCell], status: Option<&[DueStatus]>) -> Vec<DueValue> {
    cells
        .iter()
        .filter(|c| status.is_none_or(|s| s.contains(&c.status.into())))
        .cloned()
        .map(DueValue)
        .collect()
}

pub struct DueValue(pub DueCell);

/// One value the plan expects of a department for a year.
#[Object]
impl DueValue {
    /// The indicator's code.
    async fn indicator(&self) -> &str {
        &self.0.indicator.code
    }
    /// The indicator's name in Chinese, as the plan writes it.
    async fn indicator_name_zh(&self) -> &str {
        &self.0.indicator.name_zh
    }
    /// The indicator's name in English.
    async fn indicator_name_en(&self) -> &str {
        &self.0.indicator.name_en
    }
    /// The region's code.
    async fn region(&self) -> &str {
        &self.0.region.code
    }
    /// The region's name in Chinese.
    async fn region_name_zh(&self) -> &str {
        &self.0.region.name_zh
    }
    /// Sex breakdown code (`_T` for total).
    async fn sex(&self) -> &str {
        &self.0.sex
    }
    /// Age-group breakdown code (`_T` for total).
    async fn age_group(&self) -> &str {
        &self.0.age_group
    }
    /// Residence breakdown code (`_T` for total).
    async fn residence(&self) -> &str {
        &self.0.residence
    }
    /// Where it stands.
    async fn status(&self) -> DueStatus {
        self.0.status.into()
    }
    /// The newest value sent for the year (any status), if any.
    async fn value(&self) -> Option<f64> {
        self.0.value
    }
    /// Last year's approved value, for reference.
    async fn last_year(&self) -> Option<f64> {
        self.0.last_year
    }
}

/// What a department owes for a year: every expected value with where it stands, and the deadline.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct ReportingDue {
    #[graphql(flatten)]
    counts: DueCounts,
    #[graphql(skip)]
    due: Due,
}

impl From<Due> for ReportingDue {
    fn from(due: Due) -> Self {
        ReportingDue {
            counts: due.counts().into(),
            due,
        }
    }
}

#[async_graphql::ComplexObject]
impl ReportingDue {
    /// The department.
    async fn department(&self) -> Department {
        Department(self.due.department.clone())
    }
    /// The year the values are for.
    async fn year(&self) -> i32 {
        self.due.year
    }
    /// The reporting deadline (`reporting.deadline`, or `reporting.deadlines` per year).
    async fn deadline(&self) -> chrono::NaiveDate {
        self.due.deadline
    }
    /// Days from today (UTC) to the deadline; negative once it has passed.
    async fn days_left(&self) -> i32 {
        (self.due.deadline - chrono::Utc::now().date_naive()).num_days() as i32
    }
    /// The same counts per indicator, in code order.
    async fn indicators(&self) -> Vec<Completeness> {
        self.due
            .by_indicator()
            .into_iter()
            .map(Completeness::from)
            .collect()
    }
    /// The expected values (all, or those at `status`), by indicator, region and breakdown.
    async fn cells(
        &self,
        #[graphql(desc = "Only the values at these statuses.")] status: Option<Vec<DueStatus>>,
    ) -> Vec<DueValue> {
        filtered(&self.due.cells, status.as_deref())
    }
    /// Where to download the template of the whole year (add `?missing=true` for what is missing or
    /// rejected; `.csv` for a CSV with a BOM). Opened with the session cookie or a bearer token.
    async fn template_url(&self) -> String {
        format!(
            "/templates/{}/{}.xlsx",
            self.due.department.code, self.due.year
        )
    }
}
