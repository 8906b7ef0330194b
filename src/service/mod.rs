//! Use cases over the database. Every function takes the caller's [`Identity`](crate::auth::Identity)
//! and applies the [policy](crate::auth::policy) in the query itself; transactions live here.

pub mod catalogue;
pub mod observations;
pub mod regions;
