//! The query root, merged from one object per area.

mod catalogue;
mod entities;
mod events;
mod me;
pub(crate) mod observations;
mod progress;
mod regions;
mod sources;
mod workflow;

pub use me::Me;
pub use observations::{ObservationConnection, ObservationEdge, PageInfo};

/// Every root query field.
#[derive(async_graphql::MergedObject, Default)]
pub struct Query(
    catalogue::CatalogueQuery,
    regions::RegionQuery,
    observations::ObservationQuery,
    me::MeQuery,
    entities::EntityQuery,
    workflow::WorkflowQuery,
    progress::ProgressQuery,
    events::EventQuery,
    sources::SourceQuery,
);
