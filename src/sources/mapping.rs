//! Mapping a record onto an observation: each part from a field of the record or a constant, the
//! department's own codes translated through the configured maps, numbers scaled. A record that does not
//! map is a row error naming the part, the record's field and what was found, so the department can fix
//! its system or the mapping.

use crate::error::RowError;
use crate::service::submissions::RowInput;
use crate::sources::config::{Field, Mapping};
use crate::sources::records::Record;
use crate::vocabulary::TOTAL;
use serde_json::Value;

/// The raw value of a part: the constant, or the record's field (a key, or a JSON pointer `/a/b`).
fn raw<'a>(spec: &'a Field, record: &'a Record) -> Option<&'a Value> {
    if let Some(constant) = &spec.constant {
        return Some(constant);
    }
    let name = spec.field.as_deref()?;
    if name.starts_with('/') {
        record.value.pointer(name)
    } else {
        record.value.get(name)
    }
}

fn where_from(part: &str, spec: &Field) -> String {
    match &spec.field {
        Some(field) => format!("{part} (field {field})"),
        None => part.to_owned(),
    }
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Number(n) => Some(match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
            _ => n.to_string(),
        }),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A code part (indicator, region, sex, age group, residence), translated through its map.
fn code(part: &str, spec: &Field, record: &Record) -> Result<String, RowError> {
    let found = raw(spec, record)
        .and_then(text)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            RowError::new(
                0,
                where_from(part, spec),
                "",
                "the record has no value here",
            )
        })?;
    Ok(spec.map.get(&found).cloned().unwrap_or(found))
}

/// An optional disaggregation: absent means the total `_T`.
fn dimension(part: &str, spec: Option<&Field>, record: &Record) -> Result<String, RowError> {
    match spec {
        None => Ok(TOTAL.to_owned()),
        Some(spec) => match raw(spec, record) {
            None | Some(Value::Null) => Ok(spec
                .map
                .get("")
                .cloned()
                .unwrap_or_else(|| TOTAL.to_owned())),
            Some(_) => code(part, spec, record),
        },
    }
}

/// A number part, scaled.
fn number(part: &str, spec: &Field, record: &Record) -> Result<Option<f64>, RowError> {
    let value = match raw(spec, record) {
        None | Some(Value::Null) => return Ok(None),
        Some(v) => v,
    };
    let parsed = match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) if s.trim().is_empty() => return Ok(None),
        // As a person typed it in a file: `97.3%`, `1,687`, full-width digits (one set of rules).
        Value::String(s) => {
            crate::spreadsheet::value::number(&crate::spreadsheet::Value::Text(s.clone()))
                .map(|(n, _)| n)
        }
        _ => None,
    };
    let shown = text(value).unwrap_or_else(|| value.to_string());
    let n = parsed
        .ok_or_else(|| RowError::new(0, where_from(part, spec), shown, "expected a number"))?;
    Ok(Some(n * spec.scale.unwrap_or(1.0)))
}

/// A year: a number, or text that starts with one (`2024`, `2024-A`, `2024-12-31`).
fn year(spec: &Field, record: &Record) -> Result<i32, RowError> {
    let found = raw(spec, record).and_then(text).unwrap_or_default();
    let digits: String = found.chars().take_while(char::is_ascii_digit).collect();
    digits
        .parse::<i32>()
        .ok()
        .filter(|_| digits.len() == 4)
        .ok_or_else(|| {
            RowError::new(
                0,
                where_from("year", spec),
                found,
                "expected a year such as 2024",
            )
        })
}

/// The observation a record stands for, or the first problem met.
pub fn map_record(mapping: &Mapping, record: &Record) -> Result<RowInput, RowError> {
    let value = number("value", &mapping.value, record)?.ok_or_else(|| {
        RowError::new(
            0,
            where_from("value", &mapping.value),
            "",
            "the record has no value here",
        )
    })?;
    let optional = |part: &str, spec: Option<&Field>| match spec {
        Some(spec) => number(part, spec, record),
        None => Ok(None),
    };
    Ok(RowInput {
        indicator: code("indicator", &mapping.indicator, record)?,
        region: code("region", &mapping.region, record)?,
        year: year(&mapping.year, record)?,
        sex: dimension("sex", mapping.sex.as_ref(), record)?,
        age_group: dimension("ageGroup", mapping.age_group.as_ref(), record)?,
        residence: dimension("residence", mapping.residence.as_ref(), record)?,
        value,
        numerator: optional("numerator", mapping.numerator.as_ref())?,
        denominator: optional("denominator", mapping.denominator.as_ref())?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn mapping() -> Mapping {
        toml::from_str(
            r#"
            indicator = { constant = "HEA-06" }
            region = { field = "township", map = { "示范镇01" = "DEMO-T01" } }
            year = { field = "/period/year" }
            sex = { field = "sex", map = { "1" = "M", "2" = "F", "0" = "_T" } }
            value = { field = "rate", scale = 100.0 }
            "#,
        )
        .expect("mapping")
    }

    fn record(value: Value) -> Record {
        Record {
            at: "page 1, record 1".into(),
            value,
        }
    }

    #[test]
    fn a_departments_own_codes_become_the_hubs() {
        let row = map_record(
            &mapping(),
            &record(json!({ "township": "示范镇01", "period": { "year": 2024 }, "sex": 2, "rate": 0.9712 })),
        )
        .expect("maps");
        assert_eq!(row.indicator, "HEA-06");
        assert_eq!(row.region, "DEMO-T01");
        assert_eq!(row.year, 2024);
        assert_eq!(row.sex, "F");
        assert_eq!(row.age_group, "_T");
        assert!((row.value - 97.12).abs() < 1e-9);
    }

    #[test]
    fn a_record_that_does_not_map_names_the_part_and_the_field() {
        let err = map_record(
            &mapping(),
            &record(json!({ "township": "示范镇01", "period": { "year": "soon" }, "rate": 0.5 })),
        )
        .expect_err("no year");
        assert_eq!(err.field, "year (field /period/year)");
        assert_eq!(err.value, "soon");
        let err = map_record(
            &mapping(),
            &record(json!({ "township": "示范镇01", "period": { "year": 2024 }, "rate": "n/a" })),
        )
        .expect_err("no number");
        assert_eq!(err.field, "value (field rate)");
    }
}
