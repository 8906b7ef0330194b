//! What expensive fields cost in the complexity limit (`limits.max_complexity`), beyond their selected
//! fields: assessing every target, exporting, or reading whole record lists is far more work than a field,
//! and aliasing such a field many times must not add up to seconds of CPU.

/// `progress`, `summary`, `earlyWarnings`: assess every target of the plan.
pub const ASSESSMENT: usize = 2_000;

/// `Indicator.progress`: one indicator's targets (batched across indicators).
pub const INDICATOR_PROGRESS: usize = 50;

/// `exportObservations`: reads and formats up to a whole table.
pub const EXPORT: usize = 5_000;

/// Record lists read whole before paging: audit log, submissions, data quality, completeness.
pub const RECORDS: usize = 200;
