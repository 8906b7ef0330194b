//! The plan's catalogue, carried in the binary: departments, domains, the 41 targets of `targets.csv`
//! with their indicators, and the disaggregations each indicator is reported by.

use crate::error::{AppError, AppResult};
use crate::monitor::evaluate::check_target;
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
    /// The value the indicator cannot pass in this target's assessment, and why.
    pub natural_limit: Option<f64>,
    pub limit_reason: Option<String>,
    /// The plan asks to reach the level and keep it (达到并保持).
    pub maintain: bool,
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
            check_target(
                t.target_kind,
                t.target_value,
                t.natural_limit,
                t.limit_reason.as_deref(),
                t.maintain,
            )
            .map_err(|(field, value, expected)| bad(row, field, &value, expected))?;
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
