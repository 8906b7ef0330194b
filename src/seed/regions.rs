//! `childhub import-regions FILE.csv`: loads a city's real administrative divisions.
//!
//! Columns: `code,name_zh,name_en,level,residence,parent,valid_from,valid_to` (`parent` empty for the city,
//! `valid_*` empty when open). Rows are created or updated by code; every row is checked first and a file
//! with any bad row changes nothing.

use crate::error::{AppError, AppResult};
use crate::vocabulary::RegionLevel;
use entity::region;
use sea_orm::{ActiveValue::Set, DatabaseConnection, EntityTrait, TransactionTrait};
use serde::Deserialize;
use std::collections::HashMap;

/// One row of a regions file.
#[derive(Clone, Debug, Deserialize)]
pub struct RegionRow {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub level: String,
    pub residence: String,
    pub parent: Option<String>,
    pub valid_from: Option<i32>,
    pub valid_to: Option<i32>,
}

/// A bad row: its 1-based line in the file (after the header), the column, the value and what was expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    pub row: usize,
    pub field: String,
    pub value: String,
    pub expected: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "row {}: {} {:?} is not valid; expected {}",
            self.row, self.field, self.value, self.expected
        )
    }
}

/// What an import did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct RegionImport {
    pub created: usize,
    pub updated: usize,
}

fn level_rank(level: &str) -> u8 {
    match level {
        "city" => 0,
        "township" => 1,
        _ => 2,
    }
}

/// Parses and checks a regions file against the regions already stored.
pub fn check_rows(
    text: &str,
    stored: &HashMap<String, region::Model>,
) -> Result<Vec<RegionRow>, Vec<RowError>> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut err = |row: usize, field: &str, value: &str, expected: &str| {
        errors.push(RowError {
            row,
            field: field.into(),
            value: value.into(),
            expected: expected.into(),
        })
    };
    let mut levels: HashMap<String, String> = stored
        .values()
        .map(|r| (r.code.clone(), r.level.clone()))
        .collect();
    for (i, record) in reader.deserialize::<RegionRow>().enumerate() {
        let row = i + 1;
        let r = match record {
            Ok(r) => r,
            Err(e) => {
                err(
                    row,
                    "row",
                    &e.to_string(),
                    "code,name_zh,name_en,level,residence,parent,valid_from,valid_to",
                );
                continue;
            }
        };
        if r.code.trim().is_empty() || r.code.len() > 64 {
            err(
                row,
                "code",
                &r.code,
                "a non-empty code of at most 64 characters",
            );
        }
        if r.name_zh.trim().is_empty() {
            err(row, "name_zh", &r.name_zh, "a Chinese name");
        }
        if r.name_en.trim().is_empty() {
            err(row, "name_en", &r.name_en, "an English name");
        }
        if RegionLevel::parse(&r.level).is_none() {
            err(row, "level", &r.level, &RegionLevel::expected());
        }
        if !matches!(r.residence.as_str(), "U" | "R" | "_T") {
            err(row, "residence", &r.residence, "U, R or _T");
        }
        match (&r.parent, r.level.as_str()) {
            (None, "city") => {}
            (None, _) => err(
                row,
                "parent",
                "",
                "the code of the region this one belongs to",
            ),
            (Some(p), _) => match levels.get(p) {
                None => err(
                    row,
                    "parent",
                    p,
                    "a region code stored already or on an earlier row",
                ),
                Some(pl) if level_rank(pl) >= level_rank(&r.level) => {
                    err(row, "parent", p, "a region of a higher level")
                }
                Some(_) => {}
            },
        }
        if let (Some(from), Some(to)) = (r.valid_from, r.valid_to)
            && from > to
        {
            err(
                row,
                "valid_to",
                &to.to_string(),
                &format!("a year not before valid_from {from}"),
            );
        }
        levels.insert(r.code.clone(), r.level.clone());
        rows.push(r);
    }
    let mut seen = HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        if let Some(first) = seen.insert(r.code.clone(), i + 1) {
            err(
                i + 1,
                "code",
                &r.code,
                &format!("a code not already on row {first}"),
            );
        }
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

/// Imports a regions file in one transaction. Bad rows are all reported and nothing is written.
pub async fn import(
    db: &DatabaseConnection,
    text: &str,
) -> AppResult<Result<RegionImport, Vec<RowError>>> {
    let txn = db.begin().await?;
    let stored: HashMap<String, region::Model> = region::Entity::find()
        .all(&txn)
        .await?
        .into_iter()
        .map(|r| (r.code.clone(), r))
        .collect();
    let rows = match check_rows(text, &stored) {
        Ok(rows) => rows,
        Err(errors) => return Ok(Err(errors)),
    };
    let mut ids: HashMap<String, i32> = stored.values().map(|r| (r.code.clone(), r.id)).collect();
    let mut result = RegionImport::default();
    for r in rows {
        let parent_id = match &r.parent {
            Some(p) => Some(*ids.get(p).ok_or_else(|| {
                AppError::Internal(format!("parent {p} vanished during the import"))
            })?),
            None => None,
        };
        let mut model = region::ActiveModel {
            code: Set(r.code.clone()),
            name_zh: Set(r.name_zh),
            name_en: Set(r.name_en),
            level: Set(r.level),
            residence: Set(r.residence),
            parent_id: Set(parent_id),
            valid_from: Set(r.valid_from),
            valid_to: Set(r.valid_to),
            ..Default::default()
        };
        if let Some(existing) = stored.get(&r.code) {
            model.id = Set(existing.id);
            region::Entity::update(model).exec(&txn).await?;
            result.updated += 1;
        } else {
            let inserted = region::Entity::insert(model).exec(&txn).await?;
            ids.insert(r.code, inserted.last_insert_id);
            result.created += 1;
        }
    }
    txn.commit().await?;
    Ok(Ok(result))
}
