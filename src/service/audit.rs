//! The audit log: every write records who, which department, when, the request id, and the values before
//! and after, in the same transaction as the write. Reading it goes through the policy.

use crate::auth::policy::DataAccess;
use crate::auth::{Identity, policy};
use crate::error::{AppError, AppResult};
use crate::service::observations::ReadScope;
use entity::audit_log;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde_json::Value;

/// Who is writing, in which request, and (for pulled values) in which source run.
#[derive(Clone, Debug)]
pub struct WriteContext {
    pub identity: Identity,
    pub request_id: String,
    /// The source run whose values are being written: each stored value keeps it as its provenance.
    pub source_run_id: Option<i64>,
    /// The file the values were read from, with each row's cell and the warnings confirmed.
    pub upload: Option<std::sync::Arc<UploadInfo>>,
    /// Written by `childhub` on the command line (not through the API).
    pub command_line: bool,
}

/// What a submission read from a file keeps of it.
#[derive(Clone, Debug)]
pub struct UploadInfo {
    /// `file health-2026.xlsx (xlsx, template)`.
    pub origin: String,
    /// The cell of each submitted row, in the rows' order.
    pub cells: Vec<String>,
    /// The warnings the submitter saw and confirmed.
    pub warnings: serde_json::Value,
}

impl WriteContext {
    /// A write in request `request_id` by `identity`.
    pub fn new(identity: Identity, request_id: String) -> Self {
        WriteContext {
            identity,
            request_id,
            source_run_id: None,
            upload: None,
            command_line: false,
        }
    }

    /// A write made from the command line on behalf of `identity`.
    pub fn cli(identity: Identity) -> Self {
        WriteContext {
            command_line: true,
            ..Self::new(identity, format!("cli-{}", uuid::Uuid::new_v4().simple()))
        }
    }

    /// How the values arrived, as a submission's origin says it: `api`, `command line`, `source run 7`.
    pub fn channel(&self) -> String {
        match (self.source_run_id, self.command_line) {
            (Some(run), _) => format!("source run {run}"),
            (None, true) => "command line".to_owned(),
            (None, false) => "api".to_owned(),
        }
    }
}

/// One entry to record.
pub struct Entry<'a> {
    /// e.g. `submission.create`, `submission.approve`, `indicator.update`.
    pub action: &'a str,
    pub entity_type: &'a str,
    pub entity_key: String,
    /// The department whose data the entry is about (it may read the entry).
    pub department_id: Option<i32>,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// Records an entry; call it with the write's transaction.
pub async fn record(
    db: &impl ConnectionTrait,
    ctx: &WriteContext,
    entry: Entry<'_>,
) -> AppResult<()> {
    audit_log::Entity::insert(audit_log::ActiveModel {
        at: Set(chrono::Utc::now()),
        actor: Set(ctx.identity.subject().to_owned()),
        actor_department: Set(ctx.identity.department().map(str::to_owned)),
        action: Set(entry.action.to_owned()),
        entity_type: Set(entry.entity_type.to_owned()),
        entity_key: Set(entry.entity_key),
        department_id: Set(entry.department_id),
        before: Set(entry.before),
        after: Set(entry.after),
        request_id: Set(Some(ctx.request_id.clone())),
        ..Default::default()
    })
    .exec(db)
    .await?;
    Ok(())
}

/// What a catalogue change is about.
pub struct Change<'a> {
    pub action: &'a str,
    pub entity_type: &'a str,
    pub entity_key: &'a str,
    pub department_id: Option<i32>,
}

/// Records a catalogue change: the entity before (none when created) and after, whole, with its
/// `catalogue.changed` event.
pub async fn record_change<T: serde::Serialize>(
    db: &impl ConnectionTrait,
    ctx: &WriteContext,
    change: Change<'_>,
    before: Option<&T>,
    after: &T,
) -> AppResult<()> {
    record(
        db,
        ctx,
        Entry {
            action: change.action,
            entity_type: change.entity_type,
            entity_key: change.entity_key.to_owned(),
            department_id: change.department_id,
            before: before.map(|b| serde_json::json!(b)),
            after: Some(serde_json::json!(after)),
        },
    )
    .await?;
    catalogue_changed(db, &change).await
}

/// The `catalogue.changed` event of a catalogue change.
pub async fn catalogue_changed(db: &impl ConnectionTrait, change: &Change<'_>) -> AppResult<()> {
    crate::service::outbox::record(
        db,
        crate::service::outbox::Draft {
            kind: crate::vocabulary::EventKind::CatalogueChanged,
            department_id: change.department_id,
            indicator_id: None,
            payload: serde_json::json!({
                "action": change.action,
                "entity": change.entity_type,
                "key": change.entity_key,
            }),
        },
    )
    .await?;
    Ok(())
}

/// Filters of the `auditLog` query.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    pub department_id: Option<i32>,
    pub action: Option<String>,
    pub entity_type: Option<String>,
    pub entity_key: Option<String>,
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    pub until: Option<chrono::DateTime<chrono::Utc>>,
}

/// Entries the caller may read (coordinators and admins: all; a department: those about its data), newest
/// first, at most `limit`.
pub async fn list_audit(
    db: &impl ConnectionTrait,
    identity: &Identity,
    filter: &AuditFilter,
    limit: u64,
) -> AppResult<Vec<audit_log::Model>> {
    let member = policy::require_member(identity)?;
    policy::require_reader(identity)?;
    let mut query = audit_log::Entity::find()
        .order_by_desc(audit_log::Column::Id)
        .limit(limit);
    if !policy::reads_all_department_records(identity) {
        if filter
            .department_id
            .is_some_and(|d| d != member.department_id)
        {
            return Err(AppError::Forbidden(
                "a department reads the audit entries about its own data only".into(),
            ));
        }
        query = query.filter(audit_log::Column::DepartmentId.eq(member.department_id));
    }
    if let Some(d) = filter.department_id {
        query = query.filter(audit_log::Column::DepartmentId.eq(d));
    }
    if let Some(a) = &filter.action {
        query = query.filter(audit_log::Column::Action.eq(a.as_str()));
    }
    if let Some(t) = &filter.entity_type {
        query = query.filter(audit_log::Column::EntityType.eq(t.as_str()));
    }
    if let Some(k) = &filter.entity_key {
        query = query.filter(audit_log::Column::EntityKey.eq(k.as_str()));
    }
    if let Some(s) = filter.since {
        query = query.filter(audit_log::Column::At.gte(s));
    }
    if let Some(u) = filter.until {
        query = query.filter(audit_log::Column::At.lte(u));
    }
    let entries = query.all(db).await?;
    let scope = ReadScope::load(db, identity).await?;
    Ok(entries
        .into_iter()
        .map(|mut entry| {
            entry.before = entry.before.map(|v| redact(v, &scope));
            entry.after = entry.after.map(|v| redact(v, &scope));
            entry
        })
        .collect())
}

/// Applies the read policy to the values an entry copied: a value of an indicator the reader may not
/// read in full (unapproved values included) is replaced by `null` with `"suppressed": true`, exactly as
/// a pending or restricted value is withheld everywhere else.
fn redact(value: Value, scope: &ReadScope) -> Value {
    match value {
        Value::Array(items) => Value::Array(items.into_iter().map(|v| redact(v, scope)).collect()),
        Value::Object(mut fields) => {
            let indicator = fields.get("indicator_id").and_then(Value::as_i64);
            if let Some(id) = indicator
                && fields.contains_key("value")
            {
                let full = scope
                    .indicators
                    .get(&(id as i32))
                    .is_some_and(|(_, access)| *access == DataAccess::Full { unapproved: true });
                if !full {
                    fields.insert("value".into(), Value::Null);
                    fields.insert("suppressed".into(), Value::Bool(true));
                }
            }
            Value::Object(fields)
        }
        other => other,
    }
}
