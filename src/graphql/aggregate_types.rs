//! The aggregates of the `observations` connection: `aggregates` over the whole filter and
//! `groupedAggregates` per group, in the shape of PostGraphile's pg-aggregates with typed keys. What is
//! counted and summed is decided in `service::observations::aggregate` (released values only).

use crate::graphql::types::{Indicator, Region, region_by_id, visible_indicator};
use crate::service::observations::aggregate::{
    Aggregates, Comparison, Group, GroupKeys, Having, Measure, Quantity, Units,
};
use crate::vocabulary::RegionLevel;
use async_graphql::{Context, InputObject, Lookahead, Object, Result, SimpleObject};

/// The measures a selection of aggregates asks for (`sum { value }` → the sum of values), so that the
/// database computes those only.
pub fn measures_of(selection: &Lookahead<'_>) -> Vec<Measure> {
    let mut out = Vec::new();
    if selection.field("suppressedCount").exists() {
        out.push(Measure::SuppressedCount);
    }
    for (name, measure) in [
        ("sum", Measure::Sum as fn(Quantity) -> Measure),
        ("average", Measure::Average),
        ("min", Measure::Min),
        ("max", Measure::Max),
    ] {
        let field = selection.field(name);
        for (part, quantity) in [
            ("value", Quantity::Value),
            ("numerator", Quantity::Numerator),
            ("denominator", Quantity::Denominator),
        ] {
            if field.field(part).exists() {
                out.push(measure(quantity));
            }
        }
    }
    if selection.field("ratioOfSums").exists() {
        out.push(Measure::RatioOfSums);
    }
    out
}

/// Aggregates of the values that entered them (the caller's released values).
pub struct ObservationAggregates {
    pub aggregates: Aggregates,
    pub units: Units,
}

/// A value, its numerator and its denominator, aggregated alike; numerators and denominators only over
/// the values whose counts the caller may read.
#[derive(SimpleObject)]
pub struct ObservationAggregateValues {
    /// Of the values.
    pub value: Option<f64>,
    /// Of the numerators.
    pub numerator: Option<f64>,
    /// Of the denominators.
    pub denominator: Option<f64>,
}

impl ObservationAggregates {
    fn values(
        &self,
        what: &str,
        pick: impl Fn(&Aggregates) -> crate::service::observations::aggregate::Columns,
    ) -> Result<ObservationAggregateValues> {
        self.units.check(what)?;
        let c = pick(&self.aggregates);
        Ok(ObservationAggregateValues {
            value: c.value,
            numerator: c.numerator,
            denominator: c.denominator,
        })
    }
}

/// Count, sums, averages, extremes and the ratio of sums. Values hidden from the caller by small-cell
/// suppression never enter them; `suppressedCount` says how many were left out. Sums and the like over
/// indicators of different units are refused (group by `INDICATOR`).
#[Object]
impl ObservationAggregates {
    /// How many values entered the aggregates.
    async fn count(&self) -> u64 {
        self.aggregates.count
    }
    /// How many matching values were left out because the caller may not see them.
    async fn suppressed_count(&self) -> u64 {
        self.aggregates.suppressed_count
    }
    /// Sums.
    async fn sum(&self) -> Result<ObservationAggregateValues> {
        self.values("sum", |a| a.sum)
    }
    /// Arithmetic means (for a rate across regions, `ratioOfSums` is usually the right one).
    async fn average(&self) -> Result<ObservationAggregateValues> {
        self.values("average", |a| a.average)
    }
    /// Smallest values.
    async fn min(&self) -> Result<ObservationAggregateValues> {
        self.values("min", |a| a.min)
    }
    /// Largest values.
    async fn max(&self) -> Result<ObservationAggregateValues> {
        self.values("max", |a| a.max)
    }
    /// Σ numerator / Σ denominator × the unit's scale (‰: × 1000), over values with both: the rate of
    /// the group as a whole. Null for counts and where the counts are hidden.
    async fn ratio_of_sums(&self) -> Result<Option<f64>> {
        self.units.check("ratioOfSums")?;
        Ok(self.aggregates.ratio_of_sums)
    }
}

/// One group of `groupedAggregates`: its keys and its aggregates.
#[derive(SimpleObject)]
pub struct ObservationGroup {
    /// What the group is (the keys not grouped by are null).
    pub keys: ObservationGroupKeys,
    #[graphql(flatten)]
    pub aggregates: ObservationAggregates,
}

impl ObservationGroup {
    pub fn new(group: Group, units: Units) -> Self {
        ObservationGroup {
            keys: ObservationGroupKeys(group.keys),
            aggregates: ObservationAggregates {
                aggregates: group.aggregates,
                units,
            },
        }
    }
}

pub struct ObservationGroupKeys(pub GroupKeys);

/// The keys of a group; those not grouped by are null.
#[Object]
impl ObservationGroupKeys {
    /// Grouped by `INDICATOR`: the indicator.
    async fn indicator(&self, ctx: &Context<'_>) -> Result<Option<Indicator>> {
        self.0
            .indicator_id
            .map(|id| visible_indicator(ctx, id))
            .transpose()
    }
    /// Grouped by `REGION`: the region.
    async fn region(&self, ctx: &Context<'_>) -> Result<Option<Region>> {
        self.0.region_id.map(|id| region_by_id(ctx, id)).transpose()
    }
    /// Grouped by `PARENT_REGION`: the parent (null for the city's group).
    async fn parent_region(&self, ctx: &Context<'_>) -> Result<Option<Region>> {
        self.0
            .parent_region_id
            .flatten()
            .map(|id| region_by_id(ctx, id))
            .transpose()
    }
    /// Grouped by `REGION_LEVEL`: the level.
    async fn region_level(&self) -> Option<RegionLevel> {
        self.0.region_level
    }
    /// Grouped by `YEAR`: the year.
    async fn year(&self) -> Option<i32> {
        self.0.year
    }
    /// Grouped by `SEX`: `_T`, `M` or `F`.
    async fn sex(&self) -> Option<&str> {
        self.0.sex.as_deref()
    }
    /// Grouped by `AGE_GROUP`: `_T` or an age group such as `Y0T4`.
    async fn age_group(&self) -> Option<&str> {
        self.0.age_group.as_deref()
    }
    /// Grouped by `RESIDENCE`: `_T`, `U` or `R`.
    async fn residence(&self) -> Option<&str> {
        self.0.residence.as_deref()
    }
}

/// Compares a number; every bound given must hold.
#[derive(InputObject, Default, Clone, Copy)]
pub struct NumberComparison {
    /// Equal to this.
    pub equal_to: Option<f64>,
    /// Not equal to this.
    pub not_equal_to: Option<f64>,
    /// Greater than this.
    pub greater_than: Option<f64>,
    /// Greater than or equal to this.
    pub greater_than_or_equal_to: Option<f64>,
    /// Less than this.
    pub less_than: Option<f64>,
    /// Less than or equal to this.
    pub less_than_or_equal_to: Option<f64>,
}

impl NumberComparison {
    fn terms(self, measure: Measure, out: &mut Vec<Having>) {
        for (operand, comparison) in [
            (self.equal_to, Comparison::Equal),
            (self.not_equal_to, Comparison::NotEqual),
            (self.greater_than, Comparison::Greater),
            (self.greater_than_or_equal_to, Comparison::GreaterOrEqual),
            (self.less_than, Comparison::Less),
            (self.less_than_or_equal_to, Comparison::LessOrEqual),
        ] {
            if let Some(operand) = operand {
                out.push(Having {
                    measure,
                    comparison,
                    operand,
                });
            }
        }
    }
}

/// Compares an aggregate of values, numerators or denominators.
#[derive(InputObject, Default, Clone, Copy)]
pub struct ObservationValuesComparison {
    /// The aggregate of the values.
    pub value: Option<NumberComparison>,
    /// The aggregate of the numerators.
    pub numerator: Option<NumberComparison>,
    /// The aggregate of the denominators.
    pub denominator: Option<NumberComparison>,
}

impl ObservationValuesComparison {
    fn terms(self, measure: fn(Quantity) -> Measure, out: &mut Vec<Having>) {
        for (c, q) in [
            (self.value, Quantity::Value),
            (self.numerator, Quantity::Numerator),
            (self.denominator, Quantity::Denominator),
        ] {
            if let Some(c) = c {
                c.terms(measure(q), out);
            }
        }
    }
}

/// Keeps the groups whose aggregates compare so; every condition given must hold.
#[derive(InputObject, Default, Clone, Copy)]
pub struct ObservationHaving {
    /// The number of values aggregated.
    pub count: Option<NumberComparison>,
    /// The number of values left out (hidden from the caller).
    pub suppressed_count: Option<NumberComparison>,
    /// The sums.
    pub sum: Option<ObservationValuesComparison>,
    /// The averages.
    pub average: Option<ObservationValuesComparison>,
    /// The smallest values.
    pub min: Option<ObservationValuesComparison>,
    /// The largest values.
    pub max: Option<ObservationValuesComparison>,
    /// The ratio of sums.
    pub ratio_of_sums: Option<NumberComparison>,
}

impl ObservationHaving {
    /// The conditions as the service takes them.
    pub fn terms(self) -> Vec<Having> {
        let mut out = Vec::new();
        if let Some(c) = self.count {
            c.terms(Measure::Count, &mut out);
        }
        if let Some(c) = self.suppressed_count {
            c.terms(Measure::SuppressedCount, &mut out);
        }
        for (c, measure) in [
            (self.sum, Measure::Sum as fn(Quantity) -> Measure),
            (self.average, Measure::Average),
            (self.min, Measure::Min),
            (self.max, Measure::Max),
        ] {
            if let Some(c) = c {
                c.terms(measure, &mut out);
            }
        }
        if let Some(c) = self.ratio_of_sums {
            c.terms(Measure::RatioOfSums, &mut out);
        }
        out
    }
}
