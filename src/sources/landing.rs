//! Landing pulled rows: the values a source connector fetched and mapped go through exactly the checks of
//! `submitObservations` (the same validator, the same ownership rule) and land as one pending submission
//! of the owning department, in one transaction, chunk by chunk so that memory stays bounded. Either the
//! valid rows land and the bad ones are reported, or (all-or-nothing) a single bad row keeps the whole
//! pull out. Pulling unchanged data again writes nothing.

use crate::auth::policy;
use crate::config::Settings;
use crate::error::{AppResult, RowError};
use crate::service::audit::WriteContext;
use crate::service::retry::map_write_error;
use crate::service::submissions::{self, AuditRows, Codebook, RowInput, Seen, validate};
use crate::vocabulary::Unit;
use sea_orm::{ActiveValue::Set, DatabaseConnection, DatabaseTransaction, EntityTrait};
use std::collections::{HashMap, HashSet};

/// What to do with a pull that has bad rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The valid rows land; the bad ones are reported.
    ValidRows,
    /// Nothing lands when any row is bad.
    AllOrNothing,
}

/// A bad row of a pull: where it came from in the source, and why.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Reject {
    /// The source's own reference: `page 2, record 14`, `line 37`, `row 12`.
    pub at: String,
    pub field: String,
    pub value: String,
    pub message: String,
}

/// What a pull landed.
#[derive(Clone, Debug, Default)]
pub struct Landed {
    pub submission: Option<entity::submission::Model>,
    pub rows: usize,
    pub written: usize,
    pub unchanged: usize,
    pub rejects: Vec<Reject>,
}

/// A pull being landed.
pub struct Lander<'a> {
    ctx: &'a WriteContext,
    settings: &'a Settings,
    snapshot: Codebook,
    units: HashMap<i32, Unit>,
    mode: Mode,
    dry_run: bool,
    txn: DatabaseTransaction,
    seen: Seen,
    audit: AuditRows,
    landed: Landed,
}

impl<'a> Lander<'a> {
    /// Opens the pull's transaction. `dry_run` checks everything and writes nothing.
    pub async fn start(
        db: &DatabaseConnection,
        ctx: &'a WriteContext,
        settings: &'a Settings,
        mode: Mode,
        dry_run: bool,
    ) -> AppResult<Lander<'a>> {
        let snapshot = Codebook::load(db).await?;
        Ok(Lander {
            ctx,
            settings,
            units: snapshot.units(),
            snapshot,
            mode,
            dry_run,
            txn: crate::service::begin_write(db).await?,
            seen: Seen::default(),
            audit: AuditRows::default(),
            landed: Landed::default(),
        })
    }

    /// Bad rows so far.
    pub fn rejects(&self) -> &[Reject] {
        &self.landed.rejects
    }

    /// Checks a chunk of rows (each with its source reference, or the problem met while mapping it) and
    /// writes the valid ones into the pull's transaction.
    pub async fn push(
        &mut self,
        chunk: Vec<(String, Result<RowInput, RowError>)>,
    ) -> AppResult<()> {
        let offset = self.landed.rows;
        self.landed.rows += chunk.len();
        let mut errors: Vec<RowError> = Vec::new();
        let mut rows: Vec<(usize, String, RowInput)> = Vec::new();
        let references: Vec<String> = chunk.iter().map(|(at, _)| at.clone()).collect();
        for (i, (at, mapped)) in chunk.into_iter().enumerate() {
            match mapped {
                Ok(row) => match self.owned(&row) {
                    Ok(()) => rows.push((i, at, row)),
                    Err(e) => errors.push(RowError::new(i, "indicator", &row.indicator, e)),
                },
                Err(mut e) => {
                    e.row = i;
                    errors.push(e);
                }
            }
        }
        let rules = self.snapshot.rules(self.settings);
        // The validator numbers rows by their place in what it is given; map them back to the chunk.
        let mut candidates = rows;
        let mut before = self.seen.clone();
        let valid = loop {
            let inputs: Vec<RowInput> = candidates.iter().map(|(_, _, r)| r.clone()).collect();
            let mut seen = before.clone();
            match validate::check_rows_in(&inputs, &rules, &mut seen, offset) {
                Ok(valid) => {
                    before = seen;
                    break valid;
                }
                Err(found) => {
                    let bad: HashSet<usize> = found.iter().map(|e| e.row).collect();
                    errors.extend(found.into_iter().map(|mut e| {
                        e.row = candidates[e.row].0;
                        e
                    }));
                    if self.mode == Mode::AllOrNothing {
                        break Vec::new();
                    }
                    // The valid rows are checked again on their own (a total may have lost a part).
                    candidates = candidates
                        .into_iter()
                        .enumerate()
                        .filter(|(n, _)| !bad.contains(n))
                        .map(|(_, c)| c)
                        .collect();
                }
            }
        };
        self.seen = before;
        errors.sort_by_key(|e| e.row);
        for e in errors {
            let at = references
                .get(e.row)
                .cloned()
                .unwrap_or_else(|| format!("record {}", offset + e.row + 1));
            self.landed.rejects.push(Reject {
                at,
                field: e.field,
                value: e.value,
                message: e.message,
            });
        }
        let blocked = self.mode == Mode::AllOrNothing && !self.landed.rejects.is_empty();
        if valid.is_empty() || blocked {
            return Ok(());
        }
        let plan = submissions::plan(&self.txn, &valid).await?;
        self.landed.written += plan.written();
        self.landed.unchanged += plan.unchanged();
        if plan.written() == 0 || self.dry_run {
            return Ok(());
        }
        let submission = match &self.landed.submission {
            Some(s) => s.clone(),
            None => {
                let s = submissions::open_submission(&self.txn, self.ctx, 0, 0, 0).await?;
                self.landed.submission = Some(s.clone());
                s
            }
        };
        submissions::apply(
            &self.txn,
            self.ctx,
            self.settings,
            &self.units,
            &submission,
            &plan,
        )
        .await?;
        self.audit.add(&plan);
        Ok(())
    }

    /// The department of the pull must own the row's indicator (an unknown code is the validator's to
    /// report).
    fn owned(&self, row: &RowInput) -> Result<(), String> {
        match self.snapshot.indicators.get(&row.indicator) {
            Some(indicator) => {
                policy::authorize_submit(&self.ctx.identity, indicator).map_err(|e| e.to_string())
            }
            None => Ok(()),
        }
    }

    /// Commits what landed (nothing, in a dry run or when all-or-nothing met a bad row).
    pub async fn finish(mut self) -> AppResult<Landed> {
        let blocked = self.mode == Mode::AllOrNothing && !self.landed.rejects.is_empty();
        let keep = !self.dry_run && !blocked;
        match self.landed.submission.take() {
            Some(submission) if keep => {
                let mut model: entity::submission::ActiveModel = submission.into();
                model.rows_total = Set(self.landed.rows as i32);
                model.rows_written = Set(self.landed.written as i32);
                model.rows_unchanged = Set(self.landed.unchanged as i32);
                let submission = entity::submission::Entity::update(model)
                    .exec(&self.txn)
                    .await?;
                self.audit.record(&self.txn, self.ctx, &submission).await?;
                self.txn.commit().await.map_err(map_write_error)?;
                self.landed.submission = Some(submission);
            }
            _ => {
                self.txn.rollback().await?;
                // A dry run reports what would have landed; a blocked pull landed nothing.
                if blocked {
                    self.landed.written = 0;
                }
            }
        }
        Ok(self.landed)
    }
}
