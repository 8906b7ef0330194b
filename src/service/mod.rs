//! Use cases over the database. Every function takes the caller's [`Identity`](crate::auth::Identity)
//! and applies the [policy](crate::auth::policy) in the query itself; transactions live here.

pub mod admin;
pub mod audit;
pub mod catalogue;
pub mod disclosure;
pub mod export;
pub mod import;
pub mod observations;
pub mod progress;
pub mod quality;
pub mod regions;
pub mod submissions;
