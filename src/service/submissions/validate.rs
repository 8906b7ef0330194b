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

/// The scale between numerator/denominator and the value of a rate unit.
fn scale(unit: Unit) -> Option<f64> {
    match unit {
        Unit::Percent => Some(100.0),
        Unit::PerMille | Unit::Per1000Children | Unit::Per1000Population => Some(1000.0),
        Unit::Per100000 => Some(100_000.0),
        Unit::Count | Unit::Boolean => None,
    }
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
#[derive(Default)]
pub struct Seen(HashMap<(i32, i32, i32, u8, u8, u8), usize>);

fn position(dimension: Dimension, code: &str) -> u8 {
    codes(dimension)
        .iter()
        .position(|(c, _, _)| *c == code)
        .map_or(u8::MAX, |p| p as u8)
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
        let before = errors.len();
        let mut err = |field: &str, value: String, message: String| {
            errors.push(RowError {
                row: index,
                field: field.to_owned(),
                value,
                message,
            })
        };
        let indicator = rules.indicators.get(&row.indicator);
        if indicator.is_none() {
            err(
                "indicator",
                row.indicator.clone(),
                "expected an indicator code such as HEA-03".into(),
            );
        }
        let region = rules.regions.get(&row.region);
        match region {
            None => err(
                "region",
                row.region.clone(),
                "expected a region code (see `regions`)".into(),
            ),
            Some(r) => {
                let existed = r.valid_from.is_none_or(|f| f <= row.year)
                    && r.valid_to.is_none_or(|t| row.year <= t);
                if !existed {
                    let span = format!(
                        "{}–{}",
                        r.valid_from.map_or("…".into(), |y| y.to_string()),
                        r.valid_to.map_or("…".into(), |y| y.to_string())
                    );
                    err(
                        "region",
                        row.region.clone(),
                        format!(
                            "expected a region that existed in {}; {} existed {span}",
                            row.year, r.code
                        ),
                    );
                }
            }
        }
        if row.year < rules.first_year || row.year > rules.last_year {
            err(
                "year",
                row.year.to_string(),
                format!(
                    "expected a year from {} to {}",
                    rules.first_year, rules.last_year
                ),
            );
        }
        for (field, dimension, code, allowed) in [
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
        ] {
            if !is_code(dimension, code) {
                let list: Vec<&str> = codes(dimension).iter().map(|(c, _, _)| *c).collect();
                err(
                    field,
                    code.clone(),
                    format!("expected one of {}", list.join(", ")),
                );
            } else if !allowed && code != TOTAL {
                err(
                    field,
                    code.clone(),
                    format!(
                        "expected _T: {} is not reported by {}",
                        row.indicator,
                        dimension.as_str()
                    ),
                );
            }
        }
        let unit = indicator.map(|i| i.unit);
        if !row.value.is_finite() {
            err(
                "value",
                fmt_number(row.value),
                "expected a finite number".into(),
            );
        } else if let Some(unit) = unit {
            let (lo, hi) = unit.range();
            if row.value < lo || row.value > hi {
                err(
                    "value",
                    fmt_number(row.value),
                    format!(
                        "expected a {} value from {} to {}",
                        unit.as_str(),
                        fmt_number(lo),
                        fmt_number(hi)
                    ),
                );
            } else if unit.is_integral() && row.value.fract() != 0.0 {
                err(
                    "value",
                    fmt_number(row.value),
                    format!("expected a whole number for a {} value", unit.as_str()),
                );
            }
        }
        for (field, part) in [
            ("numerator", row.numerator),
            ("denominator", row.denominator),
        ] {
            if let Some(v) = part
                && (!v.is_finite() || v < 0.0)
            {
                err(
                    field,
                    fmt_number(v),
                    "expected a finite number of 0 or more".into(),
                );
            }
        }
        if let Some(d) = row.denominator
            && d == 0.0
        {
            err(
                "denominator",
                "0".into(),
                "expected a denominator above 0".into(),
            );
        }
        if let (Some(n), Some(d), Some(unit)) = (row.numerator, row.denominator, unit)
            && n.is_finite()
            && d.is_finite()
            && d > 0.0
            && row.value.is_finite()
        {
            match scale(unit) {
                Some(s) if !close(row.value, n / d * s) => err(
                    "value",
                    fmt_number(row.value),
                    format!(
                        "expected about {:.2} = numerator {} / denominator {} × {}",
                        n / d * s,
                        fmt_number(n),
                        fmt_number(d),
                        fmt_number(s)
                    ),
                ),
                _ => {}
            }
        }
        if let (Some(n), Some(Unit::Count)) = (row.numerator, unit)
            && n.is_finite()
            && n != row.value
        {
            err(
                "numerator",
                fmt_number(n),
                format!(
                    "expected the count itself ({}) for a count indicator",
                    fmt_number(row.value)
                ),
            );
        }
        if let (Some(i), Some(r)) = (indicator, region) {
            let key = (
                i.id,
                r.id,
                row.year,
                position(Dimension::Sex, &row.sex),
                position(Dimension::Age, &row.age_group),
                position(Dimension::Residence, &row.residence),
            );
            if let Some(first) = seen.0.get(&key) {
                err(
                    "row",
                    format!(
                        "{} {} {} {}/{}/{}",
                        row.indicator, row.region, row.year, row.sex, row.age_group, row.residence
                    ),
                    format!("expected each key once per batch; row {first} has the same key"),
                );
            } else {
                seen.0.insert(key, offset + index);
            }
        }
        if errors.len() == before
            && let (Some(i), Some(r)) = (indicator, region)
        {
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
