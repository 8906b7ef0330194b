//! Departments submit values; coordinators approve or reject them. A submission is all-or-nothing, runs
//! in one transaction with its audit entry, and is idempotent: re-sending identical values writes nothing.
//! A changed value becomes a new revision; approved revisions are never changed, only superseded.

pub mod decide;
pub mod query;
pub mod store;
pub mod submit;
pub mod validate;

pub use decide::{Decision, decide};
pub use query::{
    Coverage, SubmissionFilter, cell_of, comment_of, coverage_of, find_submission,
    find_submissions, list_submissions, submission_observations,
};
pub use submit::{
    AuditRows, IMPLAUSIBLE_JUMP, Plan, apply, authorize_rows, open_submission, plan, submit,
    submit_checked,
};

use crate::config::Settings;
use crate::error::AppResult;
pub use crate::error::RowError;
pub use crate::service::retry::map_write_error;
use crate::vocabulary::Unit;
use entity::{indicator, region, submission};
use sea_orm::{ConnectionTrait, EntityTrait};
use std::collections::HashMap;
use validate::Rules;
pub use validate::Seen;
pub use validate::{RowInput, ValidRow};

/// What a submission did (or, in a dry run, would do).
#[derive(Clone, Debug, Default)]
pub struct SubmitOutcome {
    pub submission: Option<submission::Model>,
    pub written: usize,
    pub unchanged: usize,
    pub row_errors: Vec<RowError>,
}

/// The catalogue a batch is checked against, by code (not to be confused with `service::snapshot::Snapshot`,
/// the versioned reference data a request reads).
pub struct Codebook {
    pub indicators: HashMap<String, indicator::Model>,
    pub regions: HashMap<String, region::Model>,
}

impl Codebook {
    /// The unit of each indicator, by id.
    pub fn units(&self) -> HashMap<i32, Unit> {
        self.indicators.values().map(|i| (i.id, i.unit)).collect()
    }

    /// The rules a batch is checked by.
    pub fn rules<'a>(&'a self, settings: &Settings) -> Rules<'a> {
        Rules {
            indicators: &self.indicators,
            regions: &self.regions,
            first_year: settings.plan.first_year,
            last_year: settings.plan.last_year,
        }
    }

    /// Reads the indicators and regions.
    pub async fn load(db: &impl ConnectionTrait) -> AppResult<Self> {
        Ok(Codebook {
            indicators: indicator::Entity::find()
                .all(db)
                .await?
                .into_iter()
                .map(|i| (i.code.clone(), i))
                .collect(),
            regions: region::Entity::find()
                .all(db)
                .await?
                .into_iter()
                .map(|r| (r.code.clone(), r))
                .collect(),
        })
    }
}
