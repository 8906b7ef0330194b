//! What a cell holds, and reading the numbers, years and yes/no people actually type: `97.3%`, `1,687`,
//! `１２３`, `2026年`, `是`/`否`. One set of rules for every file and every column.

/// A cell's content.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Empty,
    Number(f64),
    Text(String),
    Bool(bool),
    /// A formula whose cached value the file does not carry (saved by a program that does not compute).
    UncomputedFormula(String),
    /// An error value the spreadsheet shows (`#DIV/0!`).
    Error(String),
}

impl Value {
    /// Whether the cell holds nothing: blank text, and a lone dash (—, –, -), which statistical tables
    /// print for "no value" (the hub's template does, where the plan expects none).
    pub fn is_empty(&self) -> bool {
        match self {
            Value::Empty => true,
            Value::Text(t) => matches!(t.trim(), "" | "—" | "–" | "-" | "－" | "——"),
            _ => false,
        }
    }

    /// The cell as text, as a person reads it (numbers without a needless `.0`).
    pub fn text(&self) -> String {
        match self {
            Value::Empty => String::new(),
            Value::Number(n) => {
                if n.fract() == 0.0 && n.abs() < 1e15 {
                    format!("{}", *n as i64)
                } else {
                    format!("{n}")
                }
            }
            Value::Text(t) => normalize(t),
            Value::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_owned(),
            Value::UncomputedFormula(f) => format!("={f}"),
            Value::Error(e) => e.clone(),
        }
    }
}

/// Full-width forms (what Chinese input methods type: `１２３．５％`, `，`) as their ASCII forms, the
/// ideographic space as a space, and surrounding spaces trimmed.
pub fn normalize(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            '、' => ',',
            '。' => '.',
            other => other,
        })
        .collect::<String>()
        .trim()
        .to_owned()
}

/// A number as typed: `97.3`, `97.3%` (the percent sign says "in percent": the value is 97.3), `1,687`,
/// `1 687`, full-width digits, a trailing unit-free `年`. `None` for anything else. The second part is
/// whether the text carried a percent sign.
pub fn number(value: &Value) -> Option<(f64, bool)> {
    match value {
        Value::Number(n) if n.is_finite() => Some((*n, false)),
        Value::Bool(b) => Some((f64::from(u8::from(*b)), false)),
        Value::Text(t) => {
            let text = normalize(t);
            let (text, percent) = match text.strip_suffix('%') {
                Some(rest) => (rest.trim_end(), true),
                None => (text.as_str(), false),
            };
            let text = text.strip_suffix('年').unwrap_or(text);
            let cleaned: String = text.chars().filter(|c| *c != ',' && *c != ' ').collect();
            if cleaned.is_empty() {
                return None;
            }
            cleaned
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .map(|n| (n, percent))
        }
        _ => None,
    }
}

/// A year as typed: `2026`, `2026年`, `２０２６`, or a number cell.
pub fn year(value: &Value) -> Option<i32> {
    let (n, percent) = number(value)?;
    (!percent && n.fract() == 0.0 && (1900.0..=2200.0).contains(&n)).then_some(n as i32)
}

/// Yes or no as typed: 是/否, 有/无, 是的, 已/未, Y/N, yes/no, true/false, 1/0.
pub fn yes_no(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::Number(n) if *n == 1.0 => Some(true),
        Value::Number(n) if *n == 0.0 => Some(false),
        Value::Text(t) => match normalize(t).to_lowercase().as_str() {
            "是" | "有" | "是的" | "已" | "已实现" | "y" | "yes" | "true" | "1" => {
                Some(true)
            }
            "否" | "无" | "没有" | "未" | "未实现" | "n" | "no" | "false" | "0" => {
                Some(false)
            }
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(t: &str) -> Value {
        Value::Text(t.to_owned())
    }

    #[test]
    fn numbers_are_read_as_people_type_them() {
        assert_eq!(number(&text("97.3")), Some((97.3, false)));
        assert_eq!(number(&text("97.3%")), Some((97.3, true)));
        assert_eq!(number(&text(" 97.3 % ")), Some((97.3, true)));
        assert_eq!(number(&text("1,687")), Some((1687.0, false)));
        assert_eq!(number(&text("１，６８７")), Some((1687.0, false)));
        assert_eq!(number(&text("９７．３％")), Some((97.3, true)));
        assert_eq!(number(&text("abc")), None);
        assert_eq!(number(&text("")), None);
        assert_eq!(number(&Value::Number(3.0)), Some((3.0, false)));
    }

    #[test]
    fn years_and_yes_no_are_read_in_either_language() {
        assert_eq!(year(&text("2026年")), Some(2026));
        assert_eq!(year(&text("２０２６")), Some(2026));
        assert_eq!(year(&Value::Number(2025.0)), Some(2025));
        assert_eq!(year(&text("26")), None);
        assert_eq!(yes_no(&text("是")), Some(true));
        assert_eq!(yes_no(&text("否")), Some(false));
        assert_eq!(yes_no(&text("Yes")), Some(true));
        assert_eq!(yes_no(&text("maybe")), None);
    }
}
