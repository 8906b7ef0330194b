//! The sources as stored: the departments' systems the hub pulls from, defined in the settings file
//! (`[[sources]]`, synced at start) or by admins through GraphQL (a department's admin for its own
//! department's), each change audited, and their runs. Fetching and mapping are `fetch`, `records` and
//! `mapping`'s; landing the rows is `landing`'s.

use crate::auth::{Identity, Role, policy};
use crate::error::{AppError, AppResult};
use crate::service::audit::{self, Entry, WriteContext};
use crate::service::{catalogue, outbox};
use crate::sources::config::SourceConfig;
use crate::vocabulary::{EventKind, RunStatus, SourceStatus};
use entity::{source, source_run};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde_json::json;

/// Where a source's description lives.
pub const FROM_SETTINGS: &str = "settings";
pub const FROM_API: &str = "api";

/// The description stored with a source.
pub fn config_of(source: &source::Model) -> AppResult<SourceConfig> {
    serde_json::from_value(source.config.clone()).map_err(|e| {
        AppError::Internal(format!("stored source {} does not parse: {e}", source.name))
    })
}

fn model_of(
    config: &SourceConfig,
    department_id: i32,
    origin: &str,
) -> AppResult<source::ActiveModel> {
    let now = chrono::Utc::now();
    Ok(source::ActiveModel {
        name: Set(config.name.clone()),
        department_id: Set(department_id),
        kind: Set(config.kind),
        config: Set(serde_json::to_value(config)
            .map_err(|e| AppError::Internal(format!("storing a source: {e}")))?),
        schedule: Set(config.schedule.clone()),
        status: Set(if config.paused {
            SourceStatus::Paused
        } else {
            SourceStatus::Active
        }),
        all_or_nothing: Set(config.all_or_nothing),
        origin: Set(origin.to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
}

/// The source called `name`.
pub async fn find_source(
    db: &impl ConnectionTrait,
    name: &str,
) -> AppResult<Option<source::Model>> {
    Ok(source::Entity::find()
        .filter(source::Column::Name.eq(name))
        .one(db)
        .await?)
}

/// The source called `name`, when the caller may see it (its department's, or any for coordinators).
pub async fn visible_source(
    db: &impl ConnectionTrait,
    identity: &Identity,
    name: &str,
) -> AppResult<source::Model> {
    find_source(db, name)
        .await?
        .filter(|s| policy::may_read_department_records(identity, s.department_id))
        .ok_or_else(|| AppError::NotFound(format!("source {name} does not exist")))
}

async fn audit_source(
    db: &impl ConnectionTrait,
    ctx: &WriteContext,
    action: &str,
    before: Option<&source::Model>,
    after: &source::Model,
) -> AppResult<()> {
    let describe = |s: &source::Model| {
        json!({ "name": s.name, "kind": s.kind, "status": s.status, "schedule": s.schedule,
                "all_or_nothing": s.all_or_nothing, "config": s.config })
    };
    audit::record(
        db,
        ctx,
        Entry {
            action,
            entity_type: "source",
            entity_key: after.name.clone(),
            department_id: Some(after.department_id),
            before: before.map(describe),
            after: Some(describe(after)),
        },
    )
    .await
}

/// Creates a source (an admin of its department, or a coordinating admin).
pub async fn create_source(
    db: &DatabaseConnection,
    ctx: &WriteContext,
    config: SourceConfig,
) -> AppResult<source::Model> {
    policy::require_role(&ctx.identity, Role::Admin)?;
    config.check()?;
    let txn = crate::service::begin_write(db).await?;
    let department = catalogue::require_department(&txn, "department", &config.department).await?;
    policy::authorize_department_admin(&ctx.identity, department.id)?;
    if find_source(&txn, &config.name).await?.is_some() {
        return Err(AppError::Conflict(format!(
            "source {} exists already",
            config.name
        )));
    }
    let saved = source::Entity::insert(model_of(&config, department.id, FROM_API)?)
        .exec_with_returning(&txn)
        .await?;
    audit_source(&txn, ctx, "source.create", None, &saved).await?;
    txn.commit().await?;
    Ok(saved)
}

/// Replaces a source's description. Sources of the settings file change there, not here.
pub async fn update_source(
    db: &DatabaseConnection,
    ctx: &WriteContext,
    name: &str,
    config: SourceConfig,
) -> AppResult<source::Model> {
    policy::require_role(&ctx.identity, Role::Admin)?;
    config.check()?;
    let txn = crate::service::begin_write(db).await?;
    let current = visible_source(&txn, &ctx.identity, name).await?;
    policy::authorize_department_admin(&ctx.identity, current.department_id)?;
    if current.origin == FROM_SETTINGS {
        return Err(AppError::Conflict(format!(
            "source {name} is defined in the settings file; change it there"
        )));
    }
    if config.name != name {
        return Err(AppError::invalid(
            "name",
            &config.name,
            format!("{name} (a source keeps its name)"),
        ));
    }
    let department = catalogue::require_department(&txn, "department", &config.department).await?;
    policy::authorize_department_admin(&ctx.identity, department.id)?;
    let mut model = model_of(&config, department.id, FROM_API)?;
    model.id = Set(current.id);
    model.created_at = Set(current.created_at);
    model.http_etag = Set(None);
    model.http_last_modified = Set(None);
    let saved = source::Entity::update(model).exec(&txn).await?;
    audit_source(&txn, ctx, "source.update", Some(&current), &saved).await?;
    txn.commit().await?;
    Ok(saved)
}

/// Pauses or resumes a source's schedule.
pub async fn set_source_status(
    db: &DatabaseConnection,
    ctx: &WriteContext,
    name: &str,
    status: SourceStatus,
) -> AppResult<source::Model> {
    let txn = crate::service::begin_write(db).await?;
    let current = visible_source(&txn, &ctx.identity, name).await?;
    policy::authorize_department_admin(&ctx.identity, current.department_id)?;
    let mut model: source::ActiveModel = current.clone().into();
    model.status = Set(status);
    model.updated_at = Set(chrono::Utc::now());
    let saved = source::Entity::update(model).exec(&txn).await?;
    let action = match status {
        SourceStatus::Paused => "source.pause",
        SourceStatus::Active => "source.resume",
    };
    audit_source(&txn, ctx, action, Some(&current), &saved).await?;
    txn.commit().await?;
    Ok(saved)
}

/// Sources the caller may see: its department's (coordinators: all), by name.
pub async fn list_sources(
    db: &impl ConnectionTrait,
    identity: &Identity,
) -> AppResult<Vec<source::Model>> {
    let member = policy::require_member(identity)?;
    policy::require_reader(identity)?;
    let mut query = source::Entity::find().order_by_asc(source::Column::Name);
    if !policy::reads_all_department_records(identity) {
        query = query.filter(source::Column::DepartmentId.eq(member.department_id));
    }
    Ok(query.all(db).await?)
}

/// Every source (the scheduler's view).
pub async fn all_sources(db: &impl ConnectionTrait) -> AppResult<Vec<source::Model>> {
    Ok(source::Entity::find()
        .order_by_asc(source::Column::Name)
        .all(db)
        .await?)
}

/// Brings the sources of the settings file into the database: new ones are created, changed ones
/// updated (each with an audit entry by `settings`); sources no longer in the file are paused.
pub async fn sync_from_settings(
    db: &DatabaseConnection,
    configs: &[SourceConfig],
) -> AppResult<()> {
    if configs.is_empty()
        && source::Entity::find()
            .filter(source::Column::Origin.eq(FROM_SETTINGS))
            .one(db)
            .await?
            .is_none()
    {
        return Ok(());
    }
    let identity = catalogue::system_identity(db, "settings")
        .await?
        .unwrap_or(Identity::Anonymous);
    let ctx = WriteContext::new(identity, "settings".into());
    let txn = crate::service::begin_write(db).await?;
    for config in configs {
        config.check().map_err(|e| match e {
            AppError::Invalid(bad) => AppError::invalid(
                format!("sources[{}].{}", config.name, bad.field),
                bad.value,
                bad.expected,
            ),
            other => other,
        })?;
        let department =
            catalogue::require_department(&txn, "sources.department", &config.department).await?;
        let current = find_source(&txn, &config.name).await?;
        let mut model = model_of(config, department.id, FROM_SETTINGS)?;
        match &current {
            Some(c) if config_of(c).ok().as_ref() == Some(config) && c.origin == FROM_SETTINGS => {}
            Some(c) => {
                model.id = Set(c.id);
                model.created_at = Set(c.created_at);
                let saved = source::Entity::update(model).exec(&txn).await?;
                audit_source(&txn, &ctx, "source.update", Some(c), &saved).await?;
            }
            None => {
                let saved = source::Entity::insert(model)
                    .exec_with_returning(&txn)
                    .await?;
                audit_source(&txn, &ctx, "source.create", None, &saved).await?;
            }
        }
    }
    let named: Vec<&str> = configs.iter().map(|c| c.name.as_str()).collect();
    for stale in source::Entity::find()
        .filter(source::Column::Origin.eq(FROM_SETTINGS))
        .filter(source::Column::Status.eq(SourceStatus::Active))
        .all(&txn)
        .await?
        .into_iter()
        .filter(|s| !named.contains(&s.name.as_str()))
    {
        let mut model: source::ActiveModel = stale.clone().into();
        model.status = Set(SourceStatus::Paused);
        let saved = source::Entity::update(model).exec(&txn).await?;
        audit_source(&txn, &ctx, "source.pause", Some(&stale), &saved).await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Records the start of a run.
pub async fn start_run(
    db: &impl ConnectionTrait,
    source: &source::Model,
    trigger: &str,
) -> AppResult<source_run::Model> {
    Ok(source_run::Entity::insert(source_run::ActiveModel {
        source_id: Set(source.id),
        trigger: Set(trigger.to_owned()),
        status: Set(RunStatus::Running),
        started_at: Set(chrono::Utc::now()),
        rows_fetched: Set(0),
        rows_written: Set(0),
        rows_unchanged: Set(0),
        rows_rejected: Set(0),
        rejects: Set(json!([])),
        ..Default::default()
    })
    .exec_with_returning(db)
    .await?)
}

/// How a run ended.
#[derive(Clone, Debug, Default)]
pub struct RunResult {
    pub status: Option<RunStatus>,
    pub http_status: Option<i32>,
    pub error: Option<String>,
    pub fetched: usize,
    pub written: usize,
    pub unchanged: usize,
    pub rejected: usize,
    pub submission_id: Option<i64>,
    pub rejects: serde_json::Value,
    /// The validators of a successful HTTP fetch, for the next conditional request.
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// Records how a run ended, and the source's failing state; a failed run writes `source.failed`.
pub async fn finish_run(
    db: &DatabaseConnection,
    source: &source::Model,
    run: source_run::Model,
    result: RunResult,
) -> AppResult<source_run::Model> {
    let status = result.status.unwrap_or(RunStatus::Failed);
    let txn = crate::service::begin_write(db).await?;
    let mut model: source_run::ActiveModel = run.into();
    model.status = Set(status);
    model.finished_at = Set(Some(chrono::Utc::now()));
    model.http_status = Set(result.http_status);
    model.error = Set(result.error.clone());
    model.rows_fetched = Set(result.fetched as i32);
    model.rows_written = Set(result.written as i32);
    model.rows_unchanged = Set(result.unchanged as i32);
    model.rows_rejected = Set(result.rejected as i32);
    model.submission_id = Set(result.submission_id);
    model.rejects = Set(result.rejects.clone());
    let saved = source_run::Entity::update(model).exec(&txn).await?;
    let mut current: source::ActiveModel = source.clone().into();
    match status {
        RunStatus::Failed => {
            let since = source.failing_since.unwrap_or(saved.started_at);
            current.failing_since = Set(Some(since));
            outbox::record(
                &txn,
                outbox::Draft {
                    kind: EventKind::SourceFailed,
                    department_id: Some(source.department_id),
                    indicator_id: None,
                    payload: json!({
                        "source": source.name, "run": saved.id.to_string(),
                        "error": result.error, "since": since,
                    }),
                },
            )
            .await?;
        }
        _ => {
            current.failing_since = Set(None);
            if result.etag.is_some() || result.last_modified.is_some() {
                current.http_etag = Set(result.etag);
                current.http_last_modified = Set(result.last_modified);
            }
        }
    }
    source::Entity::update(current).exec(&txn).await?;
    txn.commit().await?;
    Ok(saved)
}

/// Marks runs left `running` by a process that stopped as interrupted (nothing of them was written:
/// a run lands in one transaction).
pub async fn interrupt_stale_runs(
    db: &impl ConnectionTrait,
    older_than: chrono::Duration,
) -> AppResult<u64> {
    let result = source_run::Entity::update_many()
        .col_expr(
            source_run::Column::Status,
            sea_orm::sea_query::Expr::value(RunStatus::Interrupted),
        )
        .col_expr(
            source_run::Column::FinishedAt,
            sea_orm::sea_query::Expr::value(chrono::Utc::now()),
        )
        .filter(source_run::Column::Status.eq(RunStatus::Running))
        .filter(source_run::Column::StartedAt.lt(chrono::Utc::now() - older_than))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// The runs of a source the caller may see, newest first.
pub async fn list_runs(
    db: &impl ConnectionTrait,
    identity: &Identity,
    name: &str,
    limit: u64,
) -> AppResult<Vec<source_run::Model>> {
    let source = visible_source(db, identity, name).await?;
    Ok(source_run::Entity::find()
        .filter(source_run::Column::SourceId.eq(source.id))
        .order_by_desc(source_run::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

/// The latest run start of each source (the scheduler's "last pulled").
pub async fn last_started(
    db: &impl ConnectionTrait,
    source_id: i64,
) -> AppResult<Option<chrono::DateTime<chrono::Utc>>> {
    Ok(source_run::Entity::find()
        .filter(source_run::Column::SourceId.eq(source_id))
        .filter(source_run::Column::Trigger.eq("schedule"))
        .order_by_desc(source_run::Column::Id)
        .one(db)
        .await?
        .map(|r| r.started_at))
}

/// A source that keeps failing, as an early warning.
#[derive(Clone, Debug)]
pub struct SourceWarning {
    pub source: source::Model,
    pub since: chrono::DateTime<chrono::Utc>,
    /// Failed runs in a row.
    pub failures: usize,
    pub message: String,
}

/// Failing sources the caller may know of (its department's; coordinators: all), as early warnings.
pub async fn source_warnings(
    db: &impl ConnectionTrait,
    identity: &Identity,
) -> AppResult<Vec<SourceWarning>> {
    let failing = source::Entity::find()
        .filter(source::Column::FailingSince.is_not_null())
        .order_by_asc(source::Column::Name)
        .all(db)
        .await?;
    let mut out = Vec::new();
    for s in failing
        .into_iter()
        .filter(|s| policy::may_read_department_records(identity, s.department_id))
    {
        let since = s.failing_since.unwrap_or_else(chrono::Utc::now);
        let recent = source_run::Entity::find()
            .filter(source_run::Column::SourceId.eq(s.id))
            .order_by_desc(source_run::Column::Id)
            .limit(20)
            .all(db)
            .await?;
        let failures = recent
            .iter()
            .take_while(|r| r.status == RunStatus::Failed)
            .count();
        let error = recent
            .first()
            .and_then(|r| r.error.clone())
            .unwrap_or_default();
        out.push(SourceWarning {
            message: format!(
                "数据源 {name} 自 {day} 起拉取失败 · source {name} failing since {day} ({failures} failed runs): {error}",
                name = s.name,
                day = since.format("%Y-%m-%d %H:%M UTC"),
            ),
            source: s,
            since,
            failures,
        });
    }
    Ok(out)
}

/// The run a stored value came from, with its source (provenance).
pub async fn runs_by_id(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> AppResult<Vec<(source_run::Model, source::Model)>> {
    let runs = source_run::Entity::find()
        .filter(source_run::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?;
    let sources = source::Entity::find()
        .filter(source::Column::Id.is_in(runs.iter().map(|r| r.source_id)))
        .all(db)
        .await?;
    Ok(runs
        .into_iter()
        .filter_map(|r| {
            let s = sources.iter().find(|s| s.id == r.source_id)?.clone();
            Some((r, s))
        })
        .collect())
}
