//! The monitoring reports of chapter 四 of the plan: yearly, mid-term (2025) and final (2030), as HTML (with
//! charts) or Markdown, following the plan's structure: a summary by domain, then each domain's targets
//! with value, target, status, trend, township breakdown and warnings.

pub mod charts;
pub mod escape;
mod render;
pub mod view;

pub use render::{ReportFormat, ReportKind, ReportRequest, render, trend_of};
