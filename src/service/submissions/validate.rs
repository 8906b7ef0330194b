//! Checking a batch of submitted rows against the catalogue, without I/O: codes, years, units, the
//! indicator's disaggregations, numerator/denominator consistency, duplicates, and the consistency of
//! totals with their parts. Every bad row is reported, not just the first.

use crate::error::RowError;
use crate::vocabulary::{Dimension, TOTAL, Unit, codes, is_code};
use entity::observation::{Key, SeriesKey};
use entity::{indicator, region};
use std::collections::HashMap;

/// One submitted row, by codes (as sent through GraphQL or read from a CSV file).
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
pub struct RowInput {
    pub indicator: String,
    pub region: String,
    pub year: i32,
    #[serde(default = "total")]
    pub sex: String,
    #[serde(default = "total", alias = "ageGroup")]
    pub age_group: String,
    #[serde(default = "total")]
    pub residence: String,
    pub value: f64,
    #[serde(default)]
    pub numerator: Option<f64>,
    #[serde(default)]
    pub denominator: Option<f64>,
}

fn total() -> String {
    TOTAL.to_owned()
}

/// A row that passed every check, with its ids resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct ValidRow {
    pub index: usize,
    pub key: Key,
    pub value: f64,
    pub numerator: Option<f64>,
    pub denominator: Option<f64>,
}

/// What the checks need to know.
pub struct Rules<'a> {
    pub indicators: &'a HashMap<String, indicator::Model>,
    pub regions: &'a HashMap<String, region::Model>,
    pub first_year: i32,
    pub last_year: i32,
}

/// Values are compared with a tolerance that allows rounding to one decimal and 1% relative error.
fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 0.05 + 0.01 * b.abs()
}

fn fmt_number(v: f64) -> String {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// Checks every row; returns the valid rows, or every error found.
pub fn check_rows(rows: &[RowInput], rules: &Rules<'_>) -> Result<Vec<ValidRow>, Vec<RowError>> {
    check_rows_in(rows, rules, &mut Seen::default(), 0)
}

/// The keys met so far in a batch or a whole file, compactly (ids and code positions), with the row
/// where each was first met.
#[derive(Clone, Default)]
pub struct Seen(HashMap<(i32, i32, i32, u8, u8, u8), usize>);

fn position(dimension: Dimension, code: &str) -> u8 {
    codes(dimension)
        .iter()
        .position(|(c, _, _)| *c == code)
        .map_or(u8::MAX, |p| p as u8)
}

/// One problem of a row: the field, the value given, what was expected.
type Problem = (&'static str, String, String);

fn problem(field: &'static str, value: impl ToString, message: impl Into<String>) -> Problem {
    (field, value.to_string(), message.into())
}

/// The indicator code is in the catalogue.
fn check_indicator<'a>(row: &RowInput, rules: &Rules<'a>) -> Result<&'a indicator::Model, Problem> {
    rules.indicators.get(&row.indicator).ok_or_else(|| {
        let named = rules
            .indicators
            .values()
            .find(|i| named_as(&row.indicator, &i.name_zh, &i.name_en));
        let message = match named {
            Some(i) => format!(
                "expected an indicator code: {} is the name of {}; use the code",
                row.indicator, i.code
            ),
            None => "expected an indicator code such as HEA-03".to_owned(),
        };
        problem("indicator", &row.indicator, message)
    })
}

/// Whether `given` is one of a catalogue entry's names (a spreadsheet often has names where codes go).
fn named_as(given: &str, name_zh: &str, name_en: &str) -> bool {
    let given = given.trim();
    !given.is_empty() && (given == name_zh || given.eq_ignore_ascii_case(name_en))
}

/// The region code is in the catalogue and the region existed in the row's year.
fn check_region<'a>(row: &RowInput, rules: &Rules<'a>) -> Result<&'a region::Model, Problem> {
    let r = rules.regions.get(&row.region).ok_or_else(|| {
        let named = rules
            .regions
            .values()
            .filter(|r| named_as(&row.region, &r.name_zh, &r.name_en))
            .min_by_key(|r| (r.valid_to.is_some(), r.code.clone()));
        let message = match named {
            Some(r) => format!(
                "expected a region code: {} is the name of {} ({}); use the code",
                row.region, r.code, r.name_zh
            ),
            None => "expected a region code (see `regions`)".to_owned(),
        };
        problem("region", &row.region, message)
    })?;
    let existed =
        r.valid_from.is_none_or(|f| f <= row.year) && r.valid_to.is_none_or(|t| row.year <= t);
    if existed {
        return Ok(r);
    }
    let span = format!(
        "{}–{}",
        r.valid_from.map_or("…".into(), |y| y.to_string()),
        r.valid_to.map_or("…".into(), |y| y.to_string())
    );
    Err(problem(
        "region",
        &row.region,
        format!(
            "expected a region that existed in {}; {} existed {span}",
            row.year, r.code
        ),
    ))
}

/// The year lies in the plan window of the settings.
fn check_year(row: &RowInput, rules: &Rules<'_>) -> Option<Problem> {
    (row.year < rules.first_year || row.year > rules.last_year).then(|| {
        problem(
            "year",
            row.year,
            format!(
                "expected a year from {} to {}",
                rules.first_year, rules.last_year
            ),
        )
    })
}

/// Sex, age group and residence are codes of their lists, and `_T` unless the indicator is broken down
/// by that dimension.
fn check_dimensions(row: &RowInput, indicator: Option<&indicator::Model>) -> Vec<Problem> {
    let dimensions = [
        (
            "sex",
            Dimension::Sex,
            &row.sex,
            indicator.is_none_or(|i| i.by_sex),
        ),
        (
            "ageGroup",
            Dimension::Age,
            &row.age_group,
            indicator.is_none_or(|i| i.by_age),
        ),
        (
            "residence",
            Dimension::Residence,
            &row.residence,
            indicator.is_none_or(|i| i.by_residence),
        ),
    ];
    dimensions
        .into_iter()
        .filter_map(|(field, dimension, code, allowed)| {
            if !is_code(dimension, code) {
                let list: Vec<&str> = codes(dimension).iter().map(|(c, _, _)| *c).collect();
                Some(problem(
                    field,
                    code,
                    format!("expected one of {}", list.join(", ")),
                ))
            } else if !allowed && code != TOTAL {
                Some(problem(
                    field,
                    code,
                    format!(
                        "expected _T: {} is not reported by {}",
                        row.indicator,
                        dimension.as_str()
                    ),
                ))
            } else {
                None
            }
        })
        .collect()
}

/// The value is finite, inside its unit's range, and whole for counts.
fn check_value(row: &RowInput, unit: Option<Unit>) -> Option<Problem> {
    if !row.value.is_finite() {
        return Some(problem(
            "value",
            fmt_number(row.value),
            "expected a finite number",
        ));
    }
    let unit = unit?;
    let (lo, hi) = unit.range();
    if row.value < lo || row.value > hi {
        return Some(problem(
            "value",
            fmt_number(row.value),
            format!(
                "expected a {} value from {} to {}",
                unit.as_str(),
                fmt_number(lo),
                fmt_number(hi)
            ),
        ));
    }
    (unit.is_integral() && row.value.fract() != 0.0).then(|| {
        problem(
            "value",
            fmt_number(row.value),
            format!("expected a whole number for a {} value", unit.as_str()),
        )
    })
}

/// Numerator and denominator are finite and not negative, and the denominator is above 0.
fn check_counts(row: &RowInput) -> Vec<Problem> {
    let mut out: Vec<Problem> = [
        ("numerator", row.numerator),
        ("denominator", row.denominator),
    ]
    .into_iter()
    .filter_map(|(field, part)| {
        let v = part?;
        (!v.is_finite() || v < 0.0).then(|| {
            problem(
                field,
                fmt_number(v),
                "expected a finite number of 0 or more",
            )
        })
    })
    .collect();
    if row.denominator == Some(0.0) {
        out.push(problem(
            "denominator",
            "0",
            "expected a denominator above 0",
        ));
    }
    out
}

/// A rate agrees with its numerator and denominator; a count's numerator is the count itself.
fn check_consistency(row: &RowInput, unit: Option<Unit>) -> Option<Problem> {
    let unit = unit?;
    if let (Some(n), Some(d)) = (row.numerator, row.denominator)
        && n.is_finite()
        && d.is_finite()
        && d > 0.0
        && row.value.is_finite()
        && let Some(s) = unit.rate_scale()
        && !close(row.value, n / d * s)
    {
        return Some(problem(
            "value",
            fmt_number(row.value),
            format!(
                "expected about {:.2} = numerator {} / denominator {} × {}",
                n / d * s,
                fmt_number(n),
                fmt_number(d),
                fmt_number(s)
            ),
        ));
    }
    match (row.numerator, unit) {
        (Some(n), Unit::Count) if n.is_finite() && n != row.value => Some(problem(
            "numerator",
            fmt_number(n),
            format!(
                "expected the count itself ({}) for a count indicator",
                fmt_number(row.value)
            ),
        )),
        _ => None,
    }
}

/// Each key appears once in a batch (or a whole file, through `seen`).
fn check_unique(
    row: &RowInput,
    indicator: &indicator::Model,
    region: &region::Model,
    seen: &mut Seen,
    at: usize,
) -> Option<Problem> {
    let key = (
        indicator.id,
        region.id,
        row.year,
        position(Dimension::Sex, &row.sex),
        position(Dimension::Age, &row.age_group),
        position(Dimension::Residence, &row.residence),
    );
    match seen.0.get(&key) {
        Some(first) => Some(problem(
            "row",
            format!(
                "{} {} {} {}/{}/{}",
                row.indicator, row.region, row.year, row.sex, row.age_group, row.residence
            ),
            format!("expected each key once per batch; row {first} has the same key"),
        )),
        None => {
            seen.0.insert(key, at);
            None
        }
    }
}

/// Like [`check_rows`], for one part of a longer input: `seen` carries the keys of earlier parts and
/// `offset` is the index of this part's first row in the whole input.
pub fn check_rows_in(
    rows: &[RowInput],
    rules: &Rules<'_>,
    seen: &mut Seen,
    offset: usize,
) -> Result<Vec<ValidRow>, Vec<RowError>> {
    let mut errors = Vec::new();
    let mut valid = Vec::with_capacity(rows.len());
    for (index, row) in rows.iter().enumerate() {
        let mut problems: Vec<Problem> = Vec::new();
        let indicator = check_indicator(row, rules)
            .map_err(|p| problems.push(p))
            .ok();
        let region = check_region(row, rules).map_err(|p| problems.push(p)).ok();
        let unit = indicator.map(|i| i.unit);
        problems.extend(check_year(row, rules));
        problems.extend(check_dimensions(row, indicator));
        problems.extend(check_value(row, unit));
        problems.extend(check_counts(row));
        problems.extend(check_consistency(row, unit));
        if let (Some(i), Some(r)) = (indicator, region) {
            problems.extend(check_unique(row, i, r, seen, offset + index));
            if problems.is_empty() {
                valid.push(ValidRow {
                    index,
                    key: Key {
                        series: SeriesKey {
                            indicator_id: i.id,
                            region_id: r.id,
                            sex: row.sex.clone(),
                            age_group: row.age_group.clone(),
                            residence: row.residence.clone(),
                        },
                        year: row.year,
                    },
                    value: row.value,
                    numerator: row.numerator,
                    denominator: row.denominator,
                });
            }
        }
        errors.extend(
            problems
                .into_iter()
                .map(|(field, value, message)| RowError::new(index, field, value, message)),
        );
    }
    errors.extend(check_parts(&valid, rules));
    if errors.is_empty() {
        Ok(valid)
    } else {
        errors.sort_by_key(|e| e.row);
        Err(errors)
    }
}

/// Totals against their parts inside the batch: for counts `M + F = _T` and `U + R = _T`; for rates the
/// total lies between its parts.
fn check_parts(rows: &[ValidRow], rules: &Rules<'_>) -> Vec<RowError> {
    let units: HashMap<i32, Unit> = rules.indicators.values().map(|i| (i.id, i.unit)).collect();
    let by_key: HashMap<&Key, &ValidRow> = rows.iter().map(|r| (&r.key, r)).collect();
    let mut errors = Vec::new();
    for total in rows {
        let Some(&unit) = units.get(&total.key.series.indicator_id) else {
            continue;
        };
        if unit == Unit::Boolean {
            continue;
        }
        let splits: [(&str, [&str; 2], bool); 2] = [
            ("sex", ["M", "F"], total.key.series.sex == TOTAL),
            ("residence", ["U", "R"], total.key.series.residence == TOTAL),
        ];
        for (dimension, parts, is_total) in splits {
            if !is_total {
                continue;
            }
            let found: Vec<f64> = parts
                .iter()
                .filter_map(|p| {
                    let mut key = total.key.clone();
                    if dimension == "sex" {
                        key.series.sex = (*p).to_owned();
                    } else {
                        key.series.residence = (*p).to_owned();
                    }
                    by_key.get(&&key).map(|r| r.value)
                })
                .collect();
            if found.len() != 2 {
                continue;
            }
            let (a, b) = (found[0], found[1]);
            let problem = if unit.is_additive() {
                (a + b != total.value).then(|| {
                    format!(
                        "expected the sum of its {} parts {}+{} = {}",
                        dimension,
                        fmt_number(a),
                        fmt_number(b),
                        fmt_number(a + b)
                    )
                })
            } else {
                let (lo, hi) = (a.min(b), a.max(b));
                (total.value < lo - 0.05 || total.value > hi + 0.05).then(|| {
                    format!(
                        "expected a total between its {} parts {} and {}",
                        dimension,
                        fmt_number(lo),
                        fmt_number(hi)
                    )
                })
            };
            if let Some(message) = problem {
                errors.push(RowError {
                    row: total.index,
                    field: "value".into(),
                    value: fmt_number(total.value),
                    message,
                });
            }
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocabulary::{RegionLevel, Residence, Sensitivity};

    fn indicator(code: &str, unit: Unit, by_sex: bool) -> indicator::Model {
        indicator::Model {
            id: 1,
            code: code.into(),
            name_zh: "指标".into(),
            name_en: "Indicator".into(),
            domain_id: 1,
            unit,
            owner_department_id: 1,
            sensitivity: Sensitivity::Internal,
            decimals: 1,
            plan_clause: String::new(),
            by_sex,
            by_age: false,
            by_residence: false,
        }
    }

    fn region(code: &str, valid_to: Option<i32>) -> region::Model {
        region::Model {
            id: 7,
            code: code.into(),
            name_zh: "镇".into(),
            name_en: "Town".into(),
            level: RegionLevel::Township,
            residence: Residence::Rural,
            parent_id: None,
            valid_from: None,
            valid_to,
        }
    }

    fn row(value: f64) -> RowInput {
        RowInput {
            indicator: "HEA-03".into(),
            region: "T1".into(),
            year: 2024,
            sex: TOTAL.into(),
            age_group: TOTAL.into(),
            residence: TOTAL.into(),
            value,
            numerator: None,
            denominator: None,
        }
    }

    struct Catalogue {
        indicators: HashMap<String, indicator::Model>,
        regions: HashMap<String, region::Model>,
    }

    impl Catalogue {
        fn new() -> Self {
            Catalogue {
                indicators: [(
                    "HEA-03".to_owned(),
                    indicator("HEA-03", Unit::PerMille, true),
                )]
                .into(),
                regions: [
                    ("T1".to_owned(), region("T1", None)),
                    ("T9".to_owned(), region("T9", Some(2023))),
                ]
                .into(),
            }
        }

        fn rules(&self) -> Rules<'_> {
            Rules {
                indicators: &self.indicators,
                regions: &self.regions,
                first_year: 2015,
                last_year: 2035,
            }
        }
    }

    #[test]
    fn an_unknown_indicator_is_named() {
        let c = Catalogue::new();
        let bad = RowInput {
            indicator: "HEA-99".into(),
            ..row(1.0)
        };
        assert_eq!(
            check_indicator(&bad, &c.rules()).err().map(|p| p.0),
            Some("indicator")
        );
        assert!(check_indicator(&row(1.0), &c.rules()).is_ok());
    }

    #[test]
    fn a_region_must_have_existed_in_the_year() {
        let c = Catalogue::new();
        let merged = RowInput {
            region: "T9".into(),
            ..row(1.0)
        };
        let p = check_region(&merged, &c.rules()).expect_err("refused");
        assert!(
            p.2.contains("existed in 2024; T9 existed …–2023"),
            "{}",
            p.2
        );
        let unknown = RowInput {
            region: "NOWHERE".into(),
            ..row(1.0)
        };
        assert!(check_region(&unknown, &c.rules()).is_err());
    }

    #[test]
    fn years_outside_the_plan_window_are_refused() {
        let c = Catalogue::new();
        assert!(
            check_year(
                &RowInput {
                    year: 2014,
                    ..row(1.0)
                },
                &c.rules()
            )
            .is_some()
        );
        assert!(
            check_year(
                &RowInput {
                    year: 2035,
                    ..row(1.0)
                },
                &c.rules()
            )
            .is_none()
        );
    }

    #[test]
    fn dimensions_need_known_codes_and_a_breakdown() {
        let by_sex = indicator("HEA-03", Unit::Percent, true);
        let totals = indicator("HEA-01", Unit::Percent, false);
        let boys = RowInput {
            sex: "M".into(),
            ..row(1.0)
        };
        assert!(check_dimensions(&boys, Some(&by_sex)).is_empty());
        let refused = check_dimensions(&boys, Some(&totals));
        assert_eq!(refused.len(), 1);
        assert!(refused[0].2.starts_with("expected _T"));
        let nonsense = RowInput {
            age_group: "Y99".into(),
            ..row(1.0)
        };
        assert_eq!(check_dimensions(&nonsense, None)[0].0, "ageGroup");
    }

    #[test]
    fn values_stay_in_their_units_range() {
        assert!(check_value(&row(f64::NAN), None).is_some());
        assert!(check_value(&row(100.5), Some(Unit::Percent)).is_some());
        assert!(check_value(&row(99.5), Some(Unit::Percent)).is_none());
        assert!(check_value(&row(2.5), Some(Unit::Count)).is_some());
        assert!(check_value(&row(3.0), Some(Unit::Count)).is_none());
    }

    #[test]
    fn counts_are_finite_and_denominators_positive() {
        let bad = RowInput {
            numerator: Some(-1.0),
            denominator: Some(0.0),
            ..row(1.0)
        };
        let found: Vec<&str> = check_counts(&bad).iter().map(|p| p.0).collect();
        assert_eq!(found, vec!["numerator", "denominator"]);
        assert!(check_counts(&row(1.0)).is_empty());
    }

    #[test]
    fn rates_agree_with_their_counts() {
        let rate = RowInput {
            numerator: Some(12.0),
            denominator: Some(3100.0),
            ..row(3.9)
        };
        assert!(check_consistency(&rate, Some(Unit::PerMille)).is_none());
        let off = RowInput {
            value: 5.0,
            ..rate.clone()
        };
        assert!(check_consistency(&off, Some(Unit::PerMille)).is_some());
        let count = RowInput {
            numerator: Some(4.0),
            ..row(5.0)
        };
        assert_eq!(
            check_consistency(&count, Some(Unit::Count)).map(|p| p.0),
            Some("numerator")
        );
    }

    #[test]
    fn a_key_is_accepted_once() {
        let c = Catalogue::new();
        let mut seen = Seen::default();
        let i = &c.indicators["HEA-03"];
        let r = &c.regions["T1"];
        assert!(check_unique(&row(1.0), i, r, &mut seen, 0).is_none());
        let again = check_unique(&row(2.0), i, r, &mut seen, 5).expect("a duplicate");
        assert!(again.2.contains("row 0"), "{}", again.2);
    }

    #[test]
    fn every_bad_row_is_reported_and_nothing_passes() {
        let c = Catalogue::new();
        let rows = vec![
            row(3.9),
            RowInput {
                year: 2040,
                sex: "X".into(),
                ..row(3.9)
            },
        ];
        let errors = check_rows(&rows, &c.rules()).expect_err("refused");
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["year", "sex"]);
        assert!(errors.iter().all(|e| e.row == 1));
    }
}
