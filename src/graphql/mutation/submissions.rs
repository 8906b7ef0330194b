//! Submitting values, and approving or rejecting submissions.

use crate::error::AppError;
use crate::graphql::context::{db, settings, write_context};
use crate::graphql::workflow_types::{Submission, SubmitResult};
use crate::service::submissions::{self, Decision, RowInput};
use async_graphql::{Context, ID, InputObject, Object, Result};

/// One value to submit. Codes are strings; totals are `_T`.
#[derive(InputObject)]
pub struct ObservationInput {
    /// Indicator code, e.g. `HEA-03`.
    pub indicator: String,
    /// Region code.
    pub region: String,
    /// The calendar year the value is for.
    pub year: i32,
    /// Sex code: `_T` (total), `M` or `F`.
    #[graphql(default = "_T")]
    pub sex: String,
    /// Age group code: `_T` (total) or e.g. `Y0T4`.
    #[graphql(default = "_T")]
    pub age_group: String,
    /// Residence code: `_T` (total), `U` urban or `R` rural.
    #[graphql(default = "_T")]
    pub residence: String,
    /// The value, in the indicator's unit (e.g. percent for a rate in percent).
    pub value: f64,
    /// The count the value was computed from (needed for restricted indicators' suppression).
    pub numerator: Option<f64>,
    /// The population the value was computed over.
    pub denominator: Option<f64>,
}

/// A batch of values (up to 10,000 rows).
#[derive(InputObject)]
pub struct SubmitObservationsInput {
    /// The values; one per indicator, region, year and disaggregation.
    pub rows: Vec<ObservationInput>,
    /// Validate and report without writing.
    pub dry_run: Option<bool>,
}

fn parse_id(id: &ID) -> Result<i64> {
    id.parse::<i64>()
        .map_err(|_| AppError::invalid("id", id.as_str(), "a submission id such as \"12\"").into())
}

#[derive(Default)]
pub struct SubmissionMutation;

#[Object]
impl SubmissionMutation {
    /// Submits values of indicators the caller's department owns. All or nothing: with any bad row nothing
    /// is written and `rowErrors` lists every bad row. New and changed values are pending until approved.
    async fn submit_observations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The values and whether this is a dry run.")]
        input: SubmitObservationsInput,
    ) -> Result<SubmitResult> {
        let rows: Vec<RowInput> = input
            .rows
            .into_iter()
            .map(|r| RowInput {
                indicator: r.indicator,
                region: r.region,
                year: r.year,
                sex: r.sex,
                age_group: r.age_group,
                residence: r.residence,
                value: r.value,
                numerator: r.numerator,
                denominator: r.denominator,
            })
            .collect();
        let outcome = submissions::submit(
            db(ctx)?,
            &write_context(ctx),
            settings(ctx)?,
            rows,
            input.dry_run.unwrap_or(false),
        )
        .await?;
        Ok(SubmitResult {
            submission: outcome.submission.map(Submission),
            written: outcome.written as i32,
            unchanged: outcome.unchanged as i32,
            row_errors: outcome.row_errors.into_iter().map(Into::into).collect(),
        })
    }

    /// Approves a pending submission: its values become visible to every department and are locked.
    async fn approve_submission(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The submission's id.")] id: ID,
    ) -> Result<Submission> {
        let id = parse_id(&id)?;
        let decided =
            submissions::decide(db(ctx)?, &write_context(ctx), id, Decision::Approve).await?;
        Ok(Submission(decided))
    }

    /// Rejects a pending submission with a reason the department can act on.
    async fn reject_submission(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The submission's id.")] id: ID,
        #[graphql(desc = "Why, in words the department can act on.")] reason: String,
    ) -> Result<Submission> {
        let id = parse_id(&id)?;
        let decided = submissions::decide(
            db(ctx)?,
            &write_context(ctx),
            id,
            Decision::Reject { reason },
        )
        .await?;
        Ok(Submission(decided))
    }
}
