//! The template a department fills for a year: what it owes (`due`) laid out wide — regions down,
//! indicators and breakdowns across, last year's approved value beside each cell — as `.xlsx`, or as a
//! long CSV (with a UTF-8 BOM) for those without Excel. Only what is missing or rejected when asked.

use crate::error::{AppError, AppResult};
use crate::service::due::{CellStatus, Due};
use crate::service::intake::{TEMPLATE_MARK, TEMPLATE_META_SHEET};
use crate::spreadsheet::write::{self, Template, TemplateColumn, TemplateRow};
use crate::vocabulary::{AGE_CODES, RESIDENCE_CODES, SEX_CODES, TOTAL, Unit};
use std::collections::BTreeMap;

/// A breakdown's label: `男 Male`, `城镇 Urban`, `0—5岁 0-5 years`; empty for the total.
fn breakdown_label(sex: &str, age: &str, residence: &str) -> (String, String) {
    let find = |list: &[(&str, &str, &str)], code: &str| {
        list.iter()
            .find(|(c, _, _)| *c == code)
            .map(|(_, zh, en)| ((*zh).to_owned(), (*en).to_owned()))
    };
    [
        (SEX_CODES, sex),
        (AGE_CODES, age),
        (RESIDENCE_CODES, residence),
    ]
    .into_iter()
    .filter(|(_, code)| *code != TOTAL)
    .find_map(|(list, code)| find(list, code))
    .unwrap_or_default()
}

/// The cells a template holds: everything due, or only what is missing or was rejected.
fn cells(due: &Due, missing_only: bool) -> Vec<&crate::service::due::DueCell> {
    due.cells
        .iter()
        .filter(|c| !missing_only || matches!(c.status, CellStatus::Missing | CellStatus::Rejected))
        .collect()
}

/// The template as an `.xlsx` workbook.
pub fn xlsx(
    due: &Due,
    missing_only: bool,
    lists: Vec<(String, Vec<String>)>,
) -> AppResult<Vec<u8>> {
    let chosen = cells(due, missing_only);
    // Columns in indicator order, the total first; rows: the city first, then townships in code order.
    let mut columns: BTreeMap<(String, u8, String), TemplateColumn> = BTreeMap::new();
    let mut regions: BTreeMap<(u8, String), String> = BTreeMap::new();
    for c in &chosen {
        let key = format!(
            "{}|{}|{}|{}",
            c.indicator.code, c.sex, c.age_group, c.residence
        );
        let total = u8::from(c.sex != TOTAL || c.age_group != TOTAL || c.residence != TOTAL);
        let (zh, en) = breakdown_label(&c.sex, &c.age_group, &c.residence);
        let unit = c.indicator.unit.symbol_or_name();
        columns
            .entry((c.indicator.code.clone(), total, key.clone()))
            .or_insert_with(|| TemplateColumn {
                header_zh: format!(
                    "{} {}{}（{}）",
                    c.indicator.code,
                    c.indicator.name_zh,
                    if zh.is_empty() {
                        String::new()
                    } else {
                        format!(" {zh}")
                    },
                    unit
                ),
                header_en: format!(
                    "{}{} ({})",
                    c.indicator.name_en,
                    if en.is_empty() {
                        String::new()
                    } else {
                        format!(", {en}")
                    },
                    unit
                ),
                yes_no: c.indicator.unit == Unit::Boolean,
                count: c.indicator.unit == Unit::Count,
                key,
            });
        regions
            .entry((c.region.level.rank(), c.region.code.clone()))
            .or_insert_with(|| c.region.name_zh.clone());
    }
    let columns: Vec<TemplateColumn> = columns.into_values().collect();
    let rows: Vec<TemplateRow> = regions
        .into_iter()
        .map(|((_, code), name)| TemplateRow {
            cells: columns
                .iter()
                .map(|col| {
                    chosen
                        .iter()
                        .find(|c| {
                            c.region.code == code
                                && format!(
                                    "{}|{}|{}|{}",
                                    c.indicator.code, c.sex, c.age_group, c.residence
                                ) == col.key
                        })
                        .map(|c| {
                            (
                                c.value.filter(|_| c.status != CellStatus::Rejected),
                                c.last_year,
                            )
                        })
                })
                .collect(),
            region_code: code,
            region_name: name,
        })
        .collect();
    let template = Template {
        mark: TEMPLATE_MARK.to_owned(),
        meta_sheet: TEMPLATE_META_SHEET.to_owned(),
        department: due.department.code.clone(),
        department_name: due.department.name_zh.clone(),
        year: due.year,
        title: format!(
            "儿童发展规划监测 · {} · {}年数据填报 — Children's development plan monitoring · {} · values of {}",
            due.department.name_zh, due.year, due.department.name_en, due.year
        ),
        columns,
        rows,
        lists,
        deadline: due.deadline.to_string(),
    };
    write::template_xlsx(&template)
        .map_err(|e| AppError::Internal(format!("writing a template: {e}")))
}

/// The template as a long CSV with a UTF-8 BOM: a row per value due, names and last year's value
/// beside the codes for reference (the hub reads only the code columns and the value).
pub fn csv(due: &Due, missing_only: bool) -> Vec<u8> {
    let mut rows = vec![
        [
            "指标",
            "指标名（仅供参考）",
            "地区",
            "地区名（仅供参考）",
            "年份",
            "性别",
            "年龄组",
            "城乡",
            "数值",
            "上年值（仅供参考）",
        ]
        .map(str::to_owned)
        .to_vec(),
    ];
    for c in cells(due, missing_only) {
        rows.push(vec![
            c.indicator.code.clone(),
            c.indicator.name_zh.clone(),
            c.region.code.clone(),
            c.region.name_zh.clone(),
            due.year.to_string(),
            c.sex.clone(),
            c.age_group.clone(),
            c.residence.clone(),
            c.value
                .filter(|_| c.status != CellStatus::Rejected)
                .map(|v| v.to_string())
                .unwrap_or_default(),
            c.last_year.map(|v| v.to_string()).unwrap_or_default(),
        ]);
    }
    write::csv_with_bom(&rows)
}
