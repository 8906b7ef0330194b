//! How a source is described: where and how to fetch, and how each record maps onto the catalogue. The
//! same description comes from the settings file (`[[sources]]`) and from the GraphQL API, and is stored
//! as JSON. Credentials are never in it: only the names of the environment variables that hold them.

use crate::error::{AppError, AppResult};
use crate::vocabulary::SourceKind;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;

/// A source, as configured.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// A name of letters, digits, `-` and `_`, e.g. `health-vaccination`.
    pub name: String,
    /// The department whose values it carries.
    pub department: String,
    pub kind: SourceKind,
    /// What to fetch (`http_json`, `http_csv`, `http_xlsx`, `sdmx_json`, `graphql`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The GraphQL query (`graphql`) or the SELECT statement (`sql`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// GraphQL variables.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variables: Option<Value>,
    /// `sql`: the environment variable holding the database URL (with its password), e.g.
    /// `EDU_DB_URL=postgres://reader:…@db.edu.city/edu`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_url_env: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<Credentials>,
    /// JSON pointer to the array of records (`/data/items`); default: the body (or `data`) itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub records: Option<String>,
    /// Paging by links: a JSON pointer to the next page's URL (`/links/next`), or `link` for the HTTP
    /// `Link: <…>; rel="next"` header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// Paging by cursors: a JSON pointer to the next cursor (`/meta/next_cursor`; for `graphql`, to a
    /// `pageInfo` object with `hasNextPage` and `endCursor`), sent back as `cursor_param` (a query
    /// parameter, or a GraphQL variable).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor_param: Option<String>,
    /// CSV delimiter (default `,`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delimiter: Option<String>,
    /// An interval (`6h`, `1d`) or a cron expression (`0 3 * * *`, minute hour day month weekday).
    #[serde(default = "default_schedule")]
    pub schedule: String,
    /// Land nothing when any row is bad (default: the valid rows land, the bad ones are reported).
    #[serde(default)]
    pub all_or_nothing: bool,
    /// Not pulled on its schedule until resumed.
    #[serde(default)]
    pub paused: bool,
    pub mapping: Mapping,
}

fn default_schedule() -> String {
    "1d".to_owned()
}

/// Credentials, by the names of the environment variables that hold them.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    /// Sends `Authorization: Bearer <value of this variable>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bearer_env: Option<String>,
    /// HTTP basic authentication: the user name, and the variable holding the password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basic_user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basic_password_env: Option<String>,
}

/// Where each part of an observation comes from in a record.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    pub indicator: Field,
    pub region: Field,
    pub year: Field,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sex: Option<Field>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age_group: Option<Field>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub residence: Option<Field>,
    pub value: Field,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub numerator: Option<Field>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub denominator: Option<Field>,
}

/// One part of an observation: a field of the record (a column, a key or JSON pointer, an SDMX
/// dimension, `TIME_PERIOD`, `OBS_VALUE`) or a constant; codes translated through `map` (the department's
/// own codes, such as 示范镇01 or `1`/`2` → the hub's); numbers multiplied by `scale`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Field {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constant: Option<Value>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub map: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale: Option<f64>,
}

/// When a source is pulled.
#[derive(Clone, Debug, PartialEq)]
pub enum Schedule {
    Every(Duration),
    Cron(Box<croner::Cron>),
}

impl Schedule {
    /// Reads `6h`-style intervals (at least a minute) and five-field cron expressions.
    pub fn parse(text: &str) -> AppResult<Schedule> {
        let expected =
            "an interval such as 30m, 6h or 1d, or a cron expression such as `0 3 * * *`";
        if let Ok(every) = humantime::parse_duration(text.trim()) {
            if every < Duration::from_secs(60) {
                return Err(AppError::invalid(
                    "schedule",
                    text,
                    "an interval of a minute or more",
                ));
            }
            return Ok(Schedule::Every(every));
        }
        text.trim()
            .parse::<croner::Cron>()
            .map(|c| Schedule::Cron(Box::new(c)))
            .map_err(|_| AppError::invalid("schedule", text, expected))
    }

    /// When a source last started at `last` (never: `None`) is next due.
    pub fn next_after(
        &self,
        last: Option<chrono::DateTime<chrono::Utc>>,
    ) -> chrono::DateTime<chrono::Utc> {
        let Some(last) = last else {
            return chrono::Utc::now();
        };
        match self {
            Schedule::Every(every) => {
                last + chrono::Duration::from_std(*every).unwrap_or(chrono::Duration::days(1))
            }
            Schedule::Cron(cron) => cron
                .find_next_occurrence(&last, false)
                .unwrap_or(last + chrono::Duration::days(1)),
        }
    }
}

fn check_env_name(field: &str, name: &str) -> AppResult<()> {
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(AppError::invalid(
            field,
            name,
            "the NAME of an environment variable (A–Z, 0–9, _), never the secret itself",
        ))
    }
}

fn check_pointer(field: &str, pointer: &Option<String>) -> AppResult<()> {
    match pointer {
        Some(p) if !p.is_empty() && !p.starts_with('/') && p != "link" => Err(AppError::invalid(
            field,
            p,
            "a JSON pointer such as /data/items",
        )),
        _ => Ok(()),
    }
}

/// Whether a SELECT is one read-only statement.
pub fn is_single_select(sql: &str) -> bool {
    let text = sql.trim().trim_end_matches(';').trim();
    let lower = text.to_ascii_lowercase();
    (lower.starts_with("select") || lower.starts_with("with")) && !text.contains(';')
}

impl SourceConfig {
    /// Checks the description; errors name the field, e.g. `mapping.value`.
    pub fn check(&self) -> AppResult<()> {
        crate::service::catalogue::check_code("name", &self.name)?;
        Schedule::parse(&self.schedule)?;
        let http = matches!(
            self.kind,
            SourceKind::HttpJson
                | SourceKind::HttpCsv
                | SourceKind::HttpXlsx
                | SourceKind::SdmxJson
                | SourceKind::Graphql
        );
        if http {
            let url = self.url.as_deref().ok_or_else(|| {
                AppError::invalid("url", "", format!("the URL a {} source fetches", self.kind))
            })?;
            let parsed = reqwest::Url::parse(url).map_err(|_| {
                AppError::invalid("url", url, "an absolute http:// or https:// URL")
            })?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(AppError::invalid("url", url, "an http:// or https:// URL"));
            }
            if parsed.password().is_some() {
                return Err(AppError::invalid(
                    "url",
                    url,
                    "a URL without a password (name the variable holding it in auth.basic_password_env)",
                ));
            }
        }
        if self.kind == SourceKind::Graphql && self.query.is_none() {
            return Err(AppError::invalid("query", "", "the GraphQL query to send"));
        }
        if self.kind == SourceKind::Sql {
            let env = self.database_url_env.as_deref().ok_or_else(|| {
                AppError::invalid(
                    "database_url_env",
                    "",
                    "the name of the environment variable holding the database URL",
                )
            })?;
            check_env_name("database_url_env", env)?;
            let query = self.query.as_deref().unwrap_or_default();
            if !is_single_select(query) {
                return Err(AppError::invalid(
                    "query",
                    query,
                    "one SELECT (or WITH … SELECT) statement",
                ));
            }
        }
        if let Some(auth) = &self.auth {
            for (field, name) in [
                ("auth.bearer_env", &auth.bearer_env),
                ("auth.basic_password_env", &auth.basic_password_env),
            ] {
                if let Some(name) = name {
                    check_env_name(field, name)?;
                }
            }
        }
        check_pointer("records", &self.records)?;
        check_pointer("next", &self.next)?;
        check_pointer("cursor", &self.cursor)?;
        if self.cursor.is_some() && self.cursor_param.is_none() {
            return Err(AppError::invalid(
                "cursor_param",
                "",
                "the query parameter (or GraphQL variable) that carries the cursor",
            ));
        }
        if let Some(d) = &self.delimiter
            && d.chars().count() != 1
        {
            return Err(AppError::invalid(
                "delimiter",
                d,
                "one character, e.g. , or ;",
            ));
        }
        let m = &self.mapping;
        let required = [
            ("mapping.indicator", Some(&m.indicator)),
            ("mapping.region", Some(&m.region)),
            ("mapping.year", Some(&m.year)),
            ("mapping.value", Some(&m.value)),
            ("mapping.sex", m.sex.as_ref()),
            ("mapping.age_group", m.age_group.as_ref()),
            ("mapping.residence", m.residence.as_ref()),
            ("mapping.numerator", m.numerator.as_ref()),
            ("mapping.denominator", m.denominator.as_ref()),
        ];
        for (field, spec) in required {
            if let Some(spec) = spec
                && spec.field.is_some() == spec.constant.is_some()
            {
                return Err(AppError::invalid(
                    field,
                    "",
                    "either `field` (where the record has it) or `constant`",
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(toml: &str) -> SourceConfig {
        toml::from_str(toml).expect("parses")
    }

    const BASE: &str = r#"
        name = "health-vaccination"
        department = "health"
        kind = "http_csv"
        url = "https://data.health.city.example/vaccination.csv"
        schedule = "0 3 * * *"
        [mapping]
        indicator = { constant = "HEA-06" }
        region = { field = "township", map = { "示范镇01" = "DEMO-T01" } }
        year = { field = "year" }
        value = { field = "coverage" }
    "#;

    #[test]
    fn a_described_source_passes_its_checks() {
        let c = config(BASE);
        assert!(c.check().is_ok());
        assert_eq!(c.mapping.region.map["示范镇01"], "DEMO-T01");
    }

    #[test]
    fn secrets_are_named_never_given() {
        let mut c = config(BASE);
        c.auth = Some(Credentials {
            bearer_env: Some("eyJhbGciOi...".into()),
            ..Credentials::default()
        });
        assert!(c.check().is_err());
        c.auth = None;
        c.url = Some("https://user:secret@x.example/a.csv".into());
        assert!(c.check().is_err());
    }

    #[test]
    fn sql_sources_run_one_select() {
        let mut c = config(BASE);
        c.kind = SourceKind::Sql;
        c.database_url_env = Some("EDU_DB_URL".into());
        c.query = Some("SELECT * FROM t; DROP TABLE t".into());
        assert!(c.check().is_err());
        c.query = Some("select township, y, v from enrolment".into());
        assert!(c.check().is_ok());
    }

    #[test]
    fn schedules_are_intervals_or_cron() {
        assert_eq!(
            Schedule::parse("6h").expect("interval"),
            Schedule::Every(Duration::from_secs(6 * 3600))
        );
        assert!(Schedule::parse("0 3 * * *").is_ok());
        assert!(Schedule::parse("5s").is_err(), "too often");
        assert!(Schedule::parse("whenever").is_err());
    }
}
