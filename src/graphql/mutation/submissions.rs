//! Submitting values, and approving or rejecting submissions.

use crate::error::AppError;
use crate::graphql::context::{db, settings, write_context};
use crate::graphql::workflow_types::{FileRead, MappedName, ReadValue, SubmitWarning};
use crate::graphql::workflow_types::{Submission, SubmitResult};
use crate::service::submissions::{self, Decision, RowInput};
use crate::service::upload::{self, UploadOptions, UploadOutcome};
use async_graphql::{Context, ID, InputObject, Object, Result, Upload};

/// The answer to `submitFile`.
fn file_result(name: &str, done: UploadOutcome) -> SubmitResult {
    let intake = &done.intake;
    let rows = intake
        .rows
        .iter()
        .zip(&intake.cells)
        .take(5_000)
        .map(|(r, c)| ReadValue {
            cell: c.address(),
            indicator: r.indicator.clone(),
            region: r.region.clone(),
            year: r.year,
            sex: r.sex.clone(),
            age_group: r.age_group.clone(),
            residence: r.residence.clone(),
            value: r.value,
        })
        .collect();
    SubmitResult {
        file: Some(FileRead {
            name: name.to_owned(),
            format: intake.format.name().to_owned(),
            encoding: intake.encoding.map(str::to_owned),
            layout: intake.layout.name().to_owned(),
            sheets: intake.sheets.clone(),
            values: intake.rows.len() as i32,
            skipped: intake.skipped as i32,
            mapped: intake
                .mapped
                .iter()
                .map(|m| MappedName {
                    cell: m.cell.clone(),
                    given: m.given.clone(),
                    code: m.code.clone(),
                })
                .collect(),
            rows,
        }),
        submission: done.outcome.submission.map(Submission),
        written: done.outcome.written as i32,
        unchanged: done.outcome.unchanged as i32,
        row_errors: done.problems.into_iter().map(Into::into).collect(),
        warnings: done
            .warnings
            .into_iter()
            .map(|(w, cell)| SubmitWarning {
                row: w.row as i32,
                cell: Some(cell),
                kind: w.kind.to_owned(),
                message: w.message,
            })
            .collect(),
        needs_confirmation: done.needs_confirmation,
    }
}

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

/// A reviewer's remark on one row of a submission being rejected.
#[derive(async_graphql::InputObject)]
pub struct RowCommentInput {
    /// The row's `Observation.id`.
    pub observation: ID,
    /// What to fix, e.g. `比上年高出三倍，请核对`.
    pub text: String,
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
            warnings: Vec::new(),
            needs_confirmation: false,
            file: None,
        })
    }

    /// Submits a file of values (`.xlsx`, `.xls`, `.ods`, or CSV in UTF-8 or GBK), sent as the GraphQL
    /// multipart request spec has it: the hub's template, the long layout (a row per value) or a wide
    /// sheet (a region column, a year column, a column per indicator by code or name). Every problem names
    /// its cell; with any, nothing is written. `dryRun` previews: what was read, the problems and the
    /// warnings. Warnings must be confirmed (`confirmWarnings`) for the values to be written; the
    /// confirmation is kept with the submission.
    async fn submit_file(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The file.")] file: Upload,
        #[graphql(desc = "The year of a sheet without a year column.")] year: Option<i32>,
        #[graphql(desc = "Read and check, write nothing: the preview.")] dry_run: Option<bool>,
        #[graphql(desc = "The warnings of the preview were looked at; write anyway.")]
        confirm_warnings: Option<bool>,
    ) -> Result<SubmitResult> {
        let upload = file.value(ctx).map_err(|_| {
            AppError::invalid(
                "file",
                "the upload",
                "a file sent as the GraphQL multipart request spec has it",
            )
        })?;
        let name = upload.filename.clone();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut upload.into_read(), &mut bytes)
            .map_err(|e| AppError::Internal(format!("reading an upload: {e}")))?;
        let options = UploadOptions {
            year,
            dry_run: dry_run.unwrap_or(false),
            confirm_warnings: confirm_warnings.unwrap_or(false),
        };
        let done = upload::submit_file(
            db(ctx)?,
            &write_context(ctx),
            settings(ctx)?,
            bytes,
            &name,
            &options,
        )
        .await?;
        Ok(file_result(&name, done))
    }

    /// Approves a pending submission: its values become visible to every department and are locked.
    /// A submission that shares values with other pending ones is refused with `CONFLICT`
    /// (`extensions.submissions` names them) until the approver says which stands.
    async fn approve_submission(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The submission's id.")] id: ID,
        #[graphql(
            desc = "Pending submissions sharing values with this one that it stands over: they are rejected, with a reason naming this one, in the same transaction.",
            default
        )]
        supersedes: Vec<ID>,
    ) -> Result<Submission> {
        let id = parse_id(&id)?;
        let supersedes = supersedes
            .iter()
            .map(parse_id)
            .collect::<Result<Vec<i64>, _>>()?;
        let decided = submissions::decide(
            db(ctx)?,
            &write_context(ctx),
            id,
            Decision::Approve { supersedes },
        )
        .await?;
        Ok(Submission(decided))
    }

    /// Rejects a pending submission with a reason the department can act on.
    async fn reject_submission(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The submission's id.")] id: ID,
        #[graphql(desc = "Why, in words the department can act on.")] reason: String,
        #[graphql(
            desc = "Remarks on rows of the submission, which the submitter sees on those rows.",
            default
        )]
        comments: Vec<RowCommentInput>,
    ) -> Result<Submission> {
        let id = parse_id(&id)?;
        let comments = comments
            .into_iter()
            .enumerate()
            .map(|(i, c)| {
                c.observation
                    .parse::<i64>()
                    .map(|row| (row, c.text))
                    .map_err(|_| {
                        AppError::invalid(
                            format!("comments[{i}].observation"),
                            c.observation.as_str(),
                            "a value's id (Observation.id)",
                        )
                    })
            })
            .collect::<Result<Vec<_>, AppError>>()?;
        let decided = submissions::decide(
            db(ctx)?,
            &write_context(ctx),
            id,
            Decision::Reject { reason, comments },
        )
        .await?;
        Ok(Submission(decided))
    }
}
