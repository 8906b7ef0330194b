//! What expensive fields cost in the complexity limit (`limits.max_complexity`), beyond their selected
//! fields: assessing every target, exporting, or reading whole record lists is far more work than a field,
//! and aliasing such a field many times must not add up to seconds of CPU.

/// `progress`, `summary`, `earlyWarnings`: assess every target of the plan. The assessment itself is
/// weighed by its arguments before the request runs (`limits.max_assessments`, counted in
/// `http::graphql::check_size`): aliases with the same arguments share one assessment, so each alias
/// costs only what it reads out of it.
pub const ASSESSMENT: usize = 200;

/// `Indicator.progress`: one indicator's targets (batched across indicators).
pub const INDICATOR_PROGRESS: usize = 50;

/// `exportObservations`: reads and formats up to a whole table.
pub const EXPORT: usize = 5_000;

/// `aggregates`, `groupedAggregates`: one grouped scan of every matching row (a group's fields are
/// counted per group on top, by `first`).
pub const AGGREGATE: usize = 500;

/// Record lists read whole before paging: audit log, submissions, data quality, completeness.
pub const RECORDS: usize = 200;

/// The page sizes the complexity of a connection is counted with: the configured default when `first`
/// is not given, capped at the configured maximum. Complexity is counted before a request has any data,
/// so the sizes are the process's, set once when the schema is built.
static PAGE_SIZES: std::sync::RwLock<(usize, usize)> = std::sync::RwLock::new((100, 1000));

/// Sets the default and maximum page size (from `limits`).
pub fn set_page_sizes(default: usize, max: usize) {
    if let Ok(mut sizes) = PAGE_SIZES.write() {
        *sizes = (default, max);
    }
}

/// A connection's cost: its selection times the page size when it selects rows (`edges`, `nodes`, or
/// a fragment that may), else its selection once — an analyst's `aggregates`/`groupedAggregates`
/// question reads no page, and its own fields weigh what it returns. A request that asks for both is
/// counted as if every field were per row (on the safe side; ask them in two requests).
pub fn connection(
    first: Option<i32>,
    field: &async_graphql::parser::types::Field,
    child_complexity: usize,
) -> usize {
    use async_graphql::parser::types::Selection;
    let selects_rows = field
        .selection_set
        .node
        .items
        .iter()
        .any(|item| match &item.node {
            Selection::Field(f) => matches!(f.node.name.node.as_str(), "edges" | "nodes"),
            Selection::FragmentSpread(_) | Selection::InlineFragment(_) => true,
        });
    if selects_rows {
        page(first) * child_complexity
    } else {
        child_complexity + 1
    }
}

/// How many rows a page asked for with `first` is counted as.
pub fn page(first: Option<i32>) -> usize {
    let (default, max) = PAGE_SIZES.read().map_or((100, 1000), |s| *s);
    first.map_or(default, |n| n.max(1) as usize).min(max)
}
