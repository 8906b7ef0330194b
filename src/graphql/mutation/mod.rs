//! The mutation root, merged from one object per area.

mod admin;
mod submissions;

/// Every root mutation field.
#[derive(async_graphql::MergedObject, Default)]
pub struct Mutation(submissions::SubmissionMutation, admin::AdminMutation);
