//! Source connectors: the hub pulls from the departments' own systems — a REST/JSON service, a CSV file
//! on an intranet server, an SDMX data API, another GraphQL service, a table in their own database — on a
//! schedule, maps what it gets onto the catalogue, and lands it through the same checks and approval as a
//! submission. Sources are described in `service::sources::config`; runs are recorded by
//! `service::sources`.

pub mod fetch;
pub mod mapping;
pub mod records;
pub mod runner;
pub mod scheduler;
