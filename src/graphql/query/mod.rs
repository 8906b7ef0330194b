//! The query root, merged from one object per area.

mod catalogue;
mod entities;
mod me;
mod observations;
mod regions;

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
);
