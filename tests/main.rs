//! The one integration-test binary: every test starts the real router against a fresh database, on
//! SQLite always and on PostgreSQL when `CHILDHUB_TEST_POSTGRES` is set.

mod support;

mod aggregates;
mod architecture;
mod catalogue;
mod cli;
mod deploy;
mod events;
mod http;
mod monitoring;
mod operations;
mod partitions;
mod policy;
mod read_api;
mod replicas;
mod reporting;
mod review;
mod schema;
mod sdmx;
mod signin;
mod sources;
mod standbys;
mod statements;
mod submissions;
mod suppression;
mod tokens;
mod trust;
