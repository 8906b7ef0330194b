//! The mutation root, merged from one object per area.

mod admin;
mod sources;
mod submissions;
mod webhooks;

pub use webhooks::parse_webhook_id;

/// Every root mutation field.
#[derive(async_graphql::MergedObject, Default)]
pub struct Mutation(
    submissions::SubmissionMutation,
    admin::AdminMutation,
    webhooks::WebhookMutation,
    sources::SourceMutation,
);
