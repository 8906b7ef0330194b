//! Progress and early-warning computation: pure functions over series, no I/O. `progress` is the Open SDG
//! measure for one series; `evaluate` applies it to the plan's target kinds and scopes; `warnings` turns
//! evaluations and data-quality facts into findings that need attention.

pub mod evaluate;
pub mod progress;
pub mod warnings;

pub use evaluate::{Evaluation, TargetSpec, TownshipResult, evaluate};
pub use progress::{Point, Progress, ProgressStatus};
pub use warnings::{Severity, Warning, WarningKind};
