//! One pull of a source: record the run, fetch page by page, map each record, land the rows through the
//! submission path (pending, needing approval like any submission), and record how it went. A pull lands
//! in one transaction, so a failure at any point — or a process killed mid-run — leaves nothing
//! half-written. A dry run (`childhub sources test`) fetches, maps and checks, writes nothing, and shows
//! the first rows.

use crate::auth::{Identity, Member, Role};
use crate::config::Settings;
use crate::error::{AppError, AppResult};
use crate::service::Db;
use crate::service::audit::WriteContext;
use crate::service::submissions::RowInput;
use crate::sources::fetch::{PullError, Validators};
use crate::sources::landing::{Lander, Mode, Reject};
use crate::sources::mapping::map_record;
use crate::sources::records::{self, Opened};
use crate::sources::{self, RunResult, config_of};
use crate::vocabulary::RunStatus;
use entity::{source, source_run};

/// How many rejects a run keeps (the first ones; the count is complete).
const KEPT_REJECTS: usize = 100;
/// How many mapped rows a dry run shows.
const PREVIEW: usize = 10;

/// What started a pull.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    Schedule,
    /// GraphQL `runSource` or `childhub sources run`.
    Manual,
}

impl Trigger {
    fn as_str(self) -> &'static str {
        match self {
            Trigger::Schedule => "schedule",
            Trigger::Manual => "manual",
        }
    }
}

/// What a pull did.
#[derive(Clone, Debug)]
pub struct PullReport {
    /// The recorded run (none for a dry run).
    pub run: Option<source_run::Model>,
    pub status: RunStatus,
    pub http_status: Option<u16>,
    pub error: Option<String>,
    pub fetched: usize,
    pub written: usize,
    pub unchanged: usize,
    pub rejected: usize,
    pub rejects: Vec<Reject>,
    pub submission_id: Option<i64>,
    /// The first mapped rows (dry runs).
    pub preview: Vec<RowInput>,
}

/// The identity a source's rows land as: a submitter of its department.
async fn identity_of(db: &Db, source: &source::Model) -> AppResult<Identity> {
    let department = entity::department::Entity::find_by_id(source.department_id);
    use sea_orm::EntityTrait;
    let department = department
        .one(db)
        .await?
        .ok_or_else(|| AppError::Internal(format!("source {} has no department", source.name)))?;
    Ok(Identity::Member(Member::of(
        format!("source:{}", source.name),
        &department,
        vec![Role::Submitter, Role::Viewer],
    )))
}

/// Pulls `source` now.
#[tracing::instrument(name = "pull source", skip_all, fields(source = %source.name))]
pub async fn pull(
    db: &Db,
    settings: &Settings,
    source: &source::Model,
    trigger: Trigger,
    dry_run: bool,
) -> AppResult<PullReport> {
    let config = config_of(source)?;
    let run = if dry_run {
        None
    } else {
        Some(sources::start_run(db, source, trigger.as_str()).await?)
    };
    let mut ctx = WriteContext::new(
        identity_of(db, source).await?,
        format!("source-{}", source.name),
    );
    ctx.source_run_id = run.as_ref().map(|r| r.id);
    let validators = Validators {
        etag: source.http_etag.clone(),
        last_modified: source.http_last_modified.clone(),
    };
    let mode = if config.all_or_nothing {
        Mode::AllOrNothing
    } else {
        Mode::ValidRows
    };
    let mut report = PullReport {
        run: None,
        status: RunStatus::Failed,
        http_status: None,
        error: None,
        fetched: 0,
        written: 0,
        unchanged: 0,
        rejected: 0,
        rejects: Vec::new(),
        submission_id: None,
        preview: Vec::new(),
    };
    let outcome = land(
        db,
        settings,
        &ctx,
        &config,
        mode,
        dry_run,
        &validators,
        &mut report,
    )
    .await;
    let mut result = RunResult::default();
    match outcome {
        Ok(Some(kept)) => {
            report.status = RunStatus::Succeeded;
            // Validators are kept only when everything landed: a later fix of the catalogue must not
            // be hidden behind a "not modified".
            if report.rejected == 0 {
                result.etag = kept.etag;
                result.last_modified = kept.last_modified;
            }
        }
        Ok(None) => report.status = RunStatus::Unchanged,
        Err(Failure::Pull(e)) => {
            report.status = RunStatus::Failed;
            report.http_status = e.http_status.or(report.http_status);
            report.error = Some(e.message);
            report.written = 0;
            report.unchanged = 0;
        }
        Err(Failure::App(e)) => {
            report.status = RunStatus::Failed;
            report.error = Some(e.public_message());
            report.written = 0;
            report.unchanged = 0;
            tracing::error!(source = %source.name, error = %e, "a source pull failed");
        }
    }
    if let Some(run) = run {
        result.status = Some(report.status);
        result.http_status = report.http_status.map(i32::from);
        result.error = report.error.clone();
        result.fetched = report.fetched;
        result.written = report.written;
        result.unchanged = report.unchanged;
        result.rejected = report.rejected;
        result.submission_id = report.submission_id;
        result.rejects = serde_json::to_value(&report.rejects).unwrap_or_default();
        report.run = Some(sources::finish_run(db, source, run, result).await?);
        metrics::counter!("childhub_source_runs_total", "status" => report.status.as_str())
            .increment(1);
        metrics::counter!("childhub_source_rows_total", "outcome" => "written")
            .increment(report.written as u64);
        metrics::counter!("childhub_source_rows_total", "outcome" => "rejected")
            .increment(report.rejected as u64);
    }
    Ok(report)
}

enum Failure {
    Pull(PullError),
    App(AppError),
}

impl From<PullError> for Failure {
    fn from(e: PullError) -> Self {
        Failure::Pull(e)
    }
}

impl From<AppError> for Failure {
    fn from(e: AppError) -> Self {
        Failure::App(e)
    }
}

/// Fetches, maps and lands; `None` when the source was unchanged, else the validators to keep.
#[allow(clippy::too_many_arguments)]
async fn land(
    db: &Db,
    settings: &Settings,
    ctx: &WriteContext,
    config: &crate::sources::config::SourceConfig,
    mode: Mode,
    dry_run: bool,
    validators: &Validators,
    report: &mut PullReport,
) -> Result<Option<Validators>, Failure> {
    let mut pager = match records::open(config, &settings.connectors, validators).await? {
        Opened::NotModified { http_status } => {
            report.http_status = Some(http_status);
            return Ok(None);
        }
        Opened::Pages(pager) => pager,
    };
    let mut lander = Lander::start(db, ctx, settings, mode, dry_run).await?;
    while let Some(chunk) = pager.next_chunk().await? {
        report.fetched += chunk.len();
        report.http_status = pager.http_status;
        let mapped: Vec<(String, Result<RowInput, crate::error::RowError>)> = chunk
            .iter()
            .map(|record| (record.at.clone(), map_record(&config.mapping, record)))
            .collect();
        for (_, row) in &mapped {
            if let Ok(row) = row
                && report.preview.len() < PREVIEW
            {
                report.preview.push(row.clone());
            }
        }
        lander.push(mapped).await?;
    }
    let validators = pager.validators.clone();
    let landed = lander.finish().await?;
    report.written = landed.written;
    report.unchanged = landed.unchanged;
    report.rejected = landed.rejects.len();
    report.rejects = landed.rejects.into_iter().take(KEPT_REJECTS).collect();
    report.submission_id = landed.submission.map(|s| s.id);
    Ok(Some(validators))
}

/// Pulls the source called `name` now, as `identity` (an admin of its department, or a coordinator's).
pub async fn pull_by_name(
    db: &Db,
    settings: &Settings,
    identity: &Identity,
    name: &str,
    dry_run: bool,
) -> AppResult<PullReport> {
    let source = sources::visible_source(db, identity, name).await?;
    if !dry_run {
        crate::auth::policy::authorize_department_admin(identity, source.department_id)?;
    }
    pull(db, settings, &source, Trigger::Manual, dry_run).await
}
