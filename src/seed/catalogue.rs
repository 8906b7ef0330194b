//! The plan's catalogue, carried in the binary: departments, domains, the 41 targets of `targets.csv`
//! with their indicators, and the disaggregations each indicator is reported by.

use crate::error::{AppError, AppResult};
use crate::vocabulary::{DepartmentKind, Sensitivity, TargetKind, TargetScope, Unit};
use serde::Deserialize;

const TARGETS_CSV: &str = include_str!("../../data/catalogue/targets.csv");
const DEPARTMENTS_CSV: &str = include_str!("../../data/catalogue/departments.csv");
const DOMAINS_CSV: &str = include_str!("../../data/catalogue/domains.csv");
const DISAGGREGATIONS_CSV: &str = include_str!("../../data/catalogue/disaggregations.csv");

/// A department row of `departments.csv`.
#[derive(Clone, Debug, Deserialize)]
pub struct DepartmentRow {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub kind: DepartmentKind,
}

/// A domain row of `domains.csv`.
#[derive(Clone, Debug, Deserialize)]
pub struct DomainRow {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub position: i32,
}

/// A row of the plan's `targets.csv`: one indicator and its target.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct TargetRow {
    pub code: String,
    pub domain: String,
    pub name_zh: String,
    pub name_en: String,
    pub unit: Unit,
    pub target_kind: TargetKind,
    pub target_value: Option<f64>,
    pub baseline_year: i32,
    pub target_year: i32,
    pub scope: TargetScope,
    pub owner_department: String,
    pub sensitivity: Sensitivity,
    pub plan_clause: String,
}

/// Which dimensions an indicator is broken down by (`disaggregations.csv`).
#[derive(Clone, Debug, Deserialize)]
pub struct DisaggregationRow {
    pub code: String,
    pub by_sex: bool,
    pub by_age: bool,
    pub by_residence: bool,
}

/// The whole catalogue, parsed and checked.
#[derive(Clone, Debug)]
pub struct Catalogue {
    pub departments: Vec<DepartmentRow>,
    pub domains: Vec<DomainRow>,
    pub targets: Vec<TargetRow>,
    pub disaggregations: Vec<DisaggregationRow>,
}

fn parse_csv<T: for<'de> Deserialize<'de>>(name: &str, text: &str) -> AppResult<Vec<T>> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    reader
        .deserialize()
        .enumerate()
        .map(|(i, row)| {
            row.map_err(|e| AppError::Internal(format!("catalogue {name} row {}: {e}", i + 1)))
        })
        .collect()
}

impl Catalogue {
    /// The catalogue embedded in the binary. Fails only if the embedded files are inconsistent, which the
    /// test suite rules out.
    pub fn embedded() -> AppResult<Self> {
        let catalogue = Catalogue {
            departments: parse_csv("departments.csv", DEPARTMENTS_CSV)?,
            domains: parse_csv("domains.csv", DOMAINS_CSV)?,
            targets: parse_csv("targets.csv", TARGETS_CSV)?,
            disaggregations: parse_csv("disaggregations.csv", DISAGGREGATIONS_CSV)?,
        };
        catalogue.check()?;
        Ok(catalogue)
    }

    fn check(&self) -> AppResult<()> {
        let bad = |row: usize, field: &str, value: &str, expected: String| {
            AppError::Internal(format!(
                "catalogue targets.csv row {row}: {field} {value:?}, expected {expected}"
            ))
        };
        for (i, t) in self.targets.iter().enumerate() {
            let row = i + 1;
            if t.target_kind.has_value() != t.target_value.is_some() {
                return Err(bad(
                    row,
                    "target_value",
                    &format!("{:?}", t.target_value),
                    "a number exactly for at_least, at_most, reduce_by_percent and milestone"
                        .into(),
                ));
            }
            if !self.domains.iter().any(|d| d.code == t.domain) {
                return Err(bad(
                    row,
                    "domain",
                    &t.domain,
                    "a domain of domains.csv".into(),
                ));
            }
            if !self
                .departments
                .iter()
                .any(|d| d.code == t.owner_department)
            {
                return Err(bad(
                    row,
                    "owner_department",
                    &t.owner_department,
                    "a department of departments.csv".into(),
                ));
            }
        }
        Ok(())
    }

    /// The disaggregations of an indicator; none when it is reported as totals only.
    pub fn disaggregation(&self, code: &str) -> (bool, bool, bool) {
        self.disaggregations
            .iter()
            .find(|d| d.code == code)
            .map_or((false, false, false), |d| {
                (d.by_sex, d.by_age, d.by_residence)
            })
    }
}

/// The natural limit of an indicator for the progress measure: 100 for percentages where higher is better
/// (coverage and enrolment rates cannot pass 100%).
pub fn natural_limit_for(unit: Unit, kind: TargetKind) -> Option<f64> {
    (unit == Unit::Percent && kind.direction() > 0 && kind != TargetKind::Milestone)
        .then_some(100.0)
}
