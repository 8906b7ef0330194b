//! childhub: an open data hub for a city's child-development statistics. Departments submit yearly
//! indicator values, coordinators approve them, and everyone reads one GraphQL graph through one
//! authorization policy.

pub mod auth;
pub mod cli;
pub mod config;
pub mod error;
pub mod events;
pub mod graphql;
pub mod http;
pub mod monitor;
pub mod report;
pub mod seed;
pub mod service;
pub mod sources;
pub mod spreadsheet;
pub mod startup;
pub mod telemetry;
pub mod vocabulary;
