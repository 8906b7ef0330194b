//! Source connectors, in one place: the hub pulls from the departments' own systems — a REST/JSON
//! service, a file on an intranet server, an SDMX data API, another GraphQL service, a table in their own
//! database — on a schedule, maps what it gets onto the catalogue, and lands it through the same checks
//! and approval as a submission. How a source is described (`config`), stored with its runs (`store`,
//! whose functions are re-exported here), fetched (`fetch`, `records`), mapped (`mapping`), landed
//! (`landing`), run (`runner`) and scheduled (`scheduler`).

pub mod config;
pub mod fetch;
pub mod landing;
pub mod mapping;
pub mod records;
pub mod runner;
pub mod scheduler;
pub mod store;

pub use store::*;
