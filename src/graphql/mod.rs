//! The GraphQL API: async-graphql only, no SQL. Roots are merged from one file per area; resolvers call
//! `service::…` with the caller's identity; nested fields load through per-request DataLoaders.

pub mod aggregate_types;
pub mod context;
pub mod cost;
pub mod documents;
pub mod event_types;
pub mod guard;
pub mod loaders;
pub mod mutation;
pub mod progress_types;
pub mod query;
pub mod source_types;
pub mod subscription;
pub mod types;
pub mod workflow_types;

use crate::config::Settings;
use crate::service::Db;
use async_graphql::{Schema, SchemaBuilder};
use std::sync::Arc;

pub use mutation::Mutation;
pub use query::Query;
pub use subscription::SubscriptionRoot;

/// The schema type served at `/graphql`.
pub type AppSchema = Schema<Query, Mutation, SubscriptionRoot>;

/// The schema as a gateway composes it: a federation v2 subgraph whose `_service { sdl }` includes the
/// `Subscription` root, so a router that routes subscriptions (Apollo Router's passthrough mode, over
/// `graphql-transport-ws` at `/graphql/ws`) can plan them to this subgraph.
fn builder() -> SchemaBuilder<Query, Mutation, SubscriptionRoot> {
    Schema::build(Query::default(), Mutation::default(), SubscriptionRoot)
        .enable_federation()
        .enable_subscription_in_federation()
}

/// The schema with its limits, the policy guard and the shared data (database, settings, the event bus
/// and the process's snapshots, which subscriptions read each event over).
pub fn build_schema(
    db: Db,
    settings: Arc<Settings>,
    bus: crate::events::Bus,
    snapshots: crate::service::snapshot::Snapshots,
    documents: Arc<documents::Documents>,
) -> AppSchema {
    let limits = &settings.limits;
    cost::set_page_sizes(limits.default_page_size, limits.max_page_size);
    let mut schema = builder()
        .limit_depth(limits.max_depth)
        .limit_complexity(limits.max_complexity)
        .limit_recursive_depth(32)
        .limit_directives(limits.max_directives)
        .disable_suggestions()
        .extension(guard::PolicyGuardFactory);
    if settings.documents.only_trusted {
        schema = schema.extension(documents::OnlyTrusted(documents));
    }
    if !settings.introspection_enabled() {
        schema = schema.disable_introspection();
    }
    schema
        .data(db)
        .data(settings.clone())
        .data(bus)
        .data(snapshots)
        .finish()
}

/// The SDL of the schema, as checked in at `schema.graphql` (federation directives and subscriptions
/// included, as `_service { sdl }` serves it).
pub fn sdl() -> String {
    builder().finish().sdl_with_options(
        async_graphql::SDLExportOptions::new()
            .federation()
            .sorted_fields()
            .sorted_enum_items(),
    )
}

/// The standard introspection query, as GraphiQL sends it.
const INTROSPECTION_QUERY: &str = r#"query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }"#;

/// The introspection result of the schema, for GraphiQL when `/graphql` answers no introspection. The
/// schema is public anyway (`schema.graphql` is checked in; federation publishes the SDL).
pub async fn introspection_json() -> String {
    let schema = builder().finish();
    let response = schema.execute(INTROSPECTION_QUERY).await;
    serde_json::to_string(&response).unwrap_or_else(|_| "{}".to_owned())
}
