//! Reading a department's file into rows of values, whatever made the file: the hub's own template (it
//! says so in a hidden sheet), the long layout of the command line (a row per value; English or
//! Chinese headers), or a wide sheet of another program's making (a region column, a year column, one
//! column per indicator headed by its code or name). Regions and indicators may be given by code or by
//! their Chinese or English name (an ambiguous name is an error listing the candidates); 男/女,
//! 城镇/农村, 是/否, `97.3%`, `1,687`, `2026年` and full-width digits are read as meant; blank rows and a
//! template's 合计 row are skipped. Every problem names its cell as the spreadsheet shows it
//! (`Sheet1!D7`), the value read, and what was expected. One reader for every way a file arrives: the
//! Reporting page, GraphQL uploads, `childhub import observations` and the `http_xlsx`/`http_csv` sources.

use crate::error::AppError;
use crate::service::submissions::{Codebook, RowInput};
use crate::spreadsheet::value::{self, Value, normalize};
use crate::spreadsheet::{Format, ReadLimits, Sheet, SheetRow, Workbook, address};
use crate::vocabulary::{AGE_CODES, RESIDENCE_CODES, SEX_CODES, TOTAL, Unit};
use entity::{indicator, region};
use std::collections::HashMap;

/// The version mark of the hub's template, in its hidden sheet's first cell.
pub const TEMPLATE_MARK: &str = "childhub-template/1";
/// The hidden sheet of the hub's template.
pub const TEMPLATE_META_SHEET: &str = "_childhub";

/// How the file laid out its values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// The hub's template.
    Template,
    /// A row per value.
    Long,
    /// A row per region (and year), a column per indicator.
    Wide,
}

impl Layout {
    pub fn name(self) -> &'static str {
        match self {
            Layout::Template => "template",
            Layout::Long => "long",
            Layout::Wide => "wide",
        }
    }
}

/// A problem with one cell of the file.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CellProblem {
    /// As the spreadsheet shows it: `Sheet1!D7`.
    pub cell: String,
    pub sheet: String,
    pub row: u32,
    /// From 0.
    pub col: u32,
    /// What was read there.
    pub value: String,
    /// What was expected.
    pub message: String,
}

/// A name the reader took for a code, for the preview to show: each name once, at its first cell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mapped {
    pub cell: String,
    pub given: String,
    pub code: String,
}

/// A file read into rows.
#[derive(Clone, Debug)]
pub struct Intake {
    pub format: Format,
    pub encoding: Option<&'static str>,
    pub layout: Layout,
    /// The sheets the values came from.
    pub sheets: Vec<String>,
    pub rows: Vec<RowInput>,
    /// The cell each row's value came from (same order as `rows`).
    pub cells: Vec<CellRef>,
    pub problems: Vec<CellProblem>,
    pub mapped: Vec<Mapped>,
    /// Rows left out on purpose: blank ones, the template's total row.
    pub skipped: usize,
    /// The department and year a template was made for.
    pub template: Option<(String, i32)>,
}

/// Where a row's value stands in the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CellRef {
    pub sheet: String,
    pub row: u32,
    pub col: u32,
    /// Whether the value was typed with a percent sign (`97.3%`).
    pub percent_sign: bool,
}

impl CellRef {
    pub fn address(&self) -> String {
        address(&self.sheet, self.row, self.col)
    }
}

/// What the reader is told besides the file.
#[derive(Clone, Debug, Default)]
pub struct IntakeOptions {
    /// The year of a sheet without a year column (the page's chosen year).
    pub year: Option<i32>,
}

/// Reads `bytes` (named `name`) against the catalogue. A file that cannot be read at all is an error;
/// everything else comes back as rows and problems.
pub fn read(
    bytes: &[u8],
    name: &str,
    limits: ReadLimits,
    catalogue: &Codebook,
    options: &IntakeOptions,
) -> Result<Intake, AppError> {
    let book = crate::spreadsheet::read(bytes, name, limits)
        .map_err(|e| AppError::invalid("file", name, e.0))?;
    Ok(recognise(&book, catalogue, options))
}

/// Recognises the layout of every visible sheet with data and reads its values.
pub fn recognise(book: &Workbook, catalogue: &Codebook, options: &IntakeOptions) -> Intake {
    let names = Names::new(catalogue);
    let template = template_meta(book);
    let mut reader = Reader {
        names: &names,
        catalogue,
        noted: Default::default(),
        intake: Intake {
            format: book.format,
            encoding: book.encoding,
            layout: Layout::Long,
            sheets: Vec::new(),
            rows: Vec::new(),
            cells: Vec::new(),
            problems: Vec::new(),
            mapped: Vec::new(),
            skipped: 0,
            template: template.clone(),
        },
    };
    let mut layouts = Vec::new();
    for sheet in book
        .sheets
        .iter()
        .filter(|s| !s.hidden && !s.rows.is_empty())
    {
        let year = template.as_ref().map(|(_, y)| *y).or(options.year);
        if let Some(layout) = reader.sheet(sheet, year, template.is_some()) {
            layouts.push(layout);
            reader.intake.sheets.push(sheet.name.clone());
        }
    }
    let mut intake = reader.intake;
    intake.layout = if template.is_some() {
        Layout::Template
    } else {
        layouts.first().copied().unwrap_or(Layout::Long)
    };
    if intake.rows.is_empty() && intake.problems.is_empty() {
        let sheet = book
            .sheets
            .first()
            .map_or("Sheet1".to_owned(), |s| s.name.clone());
        intake.problems.push(CellProblem {
            cell: address(&sheet, 1, 0),
            sheet,
            row: 1,
            col: 0,
            value: String::new(),
            message: if template.is_some() {
                "no values found: the template is not filled in (type the values in the 数值 value columns, then upload it again)".into()
            } else {
                "no values found: expected the hub's template, a sheet with columns indicator, region, year, value (指标, 地区, 年份, 数值), or a sheet with a region column (地区) and one column per indicator".into()
            },
        });
    }
    intake
}

/// The department and year of the hub's template, from its hidden sheet.
fn template_meta(book: &Workbook) -> Option<(String, i32)> {
    let meta = book.sheets.iter().find(|s| s.name == TEMPLATE_META_SHEET)?;
    let first = meta.rows.first()?;
    (first.get(0).text() == TEMPLATE_MARK).then_some(())?;
    let field = |label: &str| {
        meta.rows
            .iter()
            .find(|r| r.get(0).text() == label)
            .map(|r| r.get(1).clone())
    };
    let department = field("department")?.text();
    let year = value::year(&field("year")?)?;
    Some((department, year))
}

/// The catalogue's names, looked up by what people write: indexed once per file, so a sheet of
/// 200,000 rows naming villages costs a hash lookup per cell, not a scan of every region.
struct Names<'a> {
    indicator_codes: HashMap<String, &'a indicator::Model>,
    /// By [`key`] of the Chinese or English name; each list in code order.
    indicator_names: HashMap<String, Vec<&'a indicator::Model>>,
    region_codes: HashMap<String, &'a region::Model>,
    region_names: HashMap<String, Vec<&'a region::Model>>,
}

/// A header or name as compared: full-width folded, spaces and a trailing unit in brackets dropped,
/// lower case.
fn key(text: &str) -> String {
    let text = normalize(text);
    let text = match text.find(['(', '（', '[', '【']) {
        Some(at) if at > 0 => &text[..at],
        _ => text.as_str(),
    };
    text.chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_lowercase()
}

/// Codes compare without case.
fn code_key(text: &str) -> String {
    text.to_ascii_uppercase()
}

/// Each model under the keys of its two names (once when they are the same).
fn by_name<'a, M>(
    models: &[&'a M],
    names: impl Fn(&M) -> [&str; 2],
) -> HashMap<String, Vec<&'a M>> {
    let mut index: HashMap<String, Vec<&'a M>> = HashMap::new();
    for m in models {
        let [zh, en] = names(m);
        let (zh, en) = (key(zh), key(en));
        if en != zh {
            index.entry(en).or_default().push(m);
        }
        index.entry(zh).or_default().push(m);
    }
    index
}

impl<'a> Names<'a> {
    fn new(catalogue: &'a Codebook) -> Self {
        let mut indicators: Vec<_> = catalogue.indicators.values().collect();
        indicators.sort_by(|a, b| a.code.cmp(&b.code));
        let mut regions: Vec<_> = catalogue.regions.values().collect();
        regions.sort_by(|a, b| a.code.cmp(&b.code));
        Names {
            indicator_codes: indicators.iter().map(|i| (code_key(&i.code), *i)).collect(),
            indicator_names: by_name(&indicators, |i| [&i.name_zh, &i.name_en]),
            region_codes: regions.iter().map(|r| (code_key(&r.code), *r)).collect(),
            region_names: by_name(&regions, |r| [&r.name_zh, &r.name_en]),
        }
    }

    /// The indicator a cell or header names: by code (also at the start: `HEA-06 接种率`), Chinese or
    /// English name. `Err` says why not (unknown, or which candidates an ambiguous name fits).
    fn indicator(&self, given: &str) -> Result<&'a indicator::Model, String> {
        let text = normalize(given);
        let first = text.split_whitespace().next().unwrap_or("");
        if let Some(found) = self
            .indicator_codes
            .get(&code_key(&text))
            .or_else(|| self.indicator_codes.get(&code_key(first)))
        {
            return Ok(found);
        }
        let matches = self
            .indicator_names
            .get(&key(&text))
            .map_or(&[][..], Vec::as_slice);
        match matches {
            [one] => Ok(one),
            [] => Err(
                "an indicator code (such as HEA-06) or its name as the catalogue has it".to_owned(),
            ),
            many => Err(format!(
                "one indicator, but the name fits {}: use the code",
                many.iter()
                    .map(|i| format!("{} {}", i.code, i.name_zh))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }

    /// The region a cell names, by code or name; of several regions with the name, the one that
    /// existed in `year`.
    fn region(&self, given: &str, year: Option<i32>) -> Result<&'a region::Model, String> {
        let text = normalize(given);
        if let Some(found) = self.region_codes.get(&code_key(&text)) {
            return Ok(found);
        }
        let mut matches: Vec<&region::Model> = self
            .region_names
            .get(&key(&text))
            .cloned()
            .unwrap_or_default();
        if matches.len() > 1
            && let Some(y) = year
        {
            matches.retain(|r| {
                r.valid_from.is_none_or(|f| f <= y) && r.valid_to.is_none_or(|t| y <= t)
            });
        }
        match matches.as_slice() {
            [one] => Ok(one),
            [] => {
                Err("a region code (such as DEMO-T01) or its name as the catalogue has it".into())
            }
            many => Err(format!(
                "one region, but the name fits {}: use the code",
                many.iter()
                    .map(|r| format!("{} {}", r.code, r.name_zh))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }
}

/// A dimension's code as written: the code itself, or its Chinese or English name (男 → `M`).
fn dimension_code(
    list: &[(&'static str, &'static str, &'static str)],
    given: &Value,
) -> Option<&'static str> {
    let text = given.text();
    if text.is_empty() {
        return Some(TOTAL);
    }
    let wanted = key(&text);
    let extra: &[(&str, &str)] = &[
        ("总计", TOTAL),
        ("全部", TOTAL),
        ("total", TOTAL),
        ("男性", "M"),
        ("女性", "F"),
        ("boys", "M"),
        ("girls", "F"),
        ("城市", "U"),
        ("城区", "U"),
        ("乡村", "R"),
        ("农村地区", "R"),
    ];
    list.iter()
        .find(|(code, zh, en)| key(code) == wanted || key(zh) == wanted || key(en) == wanted)
        .map(|(code, _, _)| *code)
        .or_else(|| {
            extra
                .iter()
                .find(|(name, code)| key(name) == wanted && list.iter().any(|(c, _, _)| c == code))
                .map(|(_, code)| *code)
        })
}

/// Whether a region cell marks a total row to leave out (the template's 合计 row).
fn is_total_row(text: &str) -> bool {
    matches!(
        key(text).as_str(),
        "合计" | "总计" | "合计total" | "total" | "sum"
    )
}

/// Column roles of the long layout, by header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Column {
    Indicator,
    Region,
    Year,
    Sex,
    Age,
    Residence,
    Value,
    Numerator,
    Denominator,
}

fn column_of(header: &str) -> Option<Column> {
    Some(match key(header).as_str() {
        "indicator" | "indicatorcode" | "指标" | "指标代码" | "指标名称" => {
            Column::Indicator
        }
        "region" | "regioncode" | "地区" | "区域" | "地区代码" | "乡镇" | "乡镇(街道)"
        | "乡镇街道" | "行政区划" | "单位" => Column::Region,
        "year" | "年份" | "年度" | "统计年度" => Column::Year,
        "sex" | "性别" => Column::Sex,
        "age_group" | "agegroup" | "age" | "年龄组" | "年龄" | "年龄段" => Column::Age,
        "residence" | "城乡" | "城乡分类" => Column::Residence,
        "value" | "数值" | "值" | "指标值" | "数据" => Column::Value,
        "numerator" | "分子" => Column::Numerator,
        "denominator" | "分母" => Column::Denominator,
        _ => return None,
    })
}

struct Reader<'a> {
    names: &'a Names<'a>,
    catalogue: &'a Codebook,
    intake: Intake,
    /// The names already listed in `intake.mapped` (each once, at its first cell).
    noted: std::collections::HashSet<(String, String)>,
}

impl Reader<'_> {
    fn problem(
        &mut self,
        sheet: &str,
        row: u32,
        col: u32,
        value: &Value,
        message: impl Into<String>,
    ) {
        self.intake.problems.push(CellProblem {
            cell: address(sheet, row, col),
            sheet: sheet.to_owned(),
            row,
            col,
            value: value.text(),
            message: message.into(),
        });
    }

    /// Reads one sheet; `None` when it holds nothing the hub recognises (a notes sheet).
    fn sheet(&mut self, sheet: &Sheet, year: Option<i32>, template: bool) -> Option<Layout> {
        // The header is the first row with two or more recognised headers (a title row may come first).
        for (at, row) in sheet.rows.iter().enumerate().take(6) {
            let roles: Vec<(u32, Column)> = row
                .cells
                .iter()
                .filter_map(|(c, v)| column_of(&v.text()).map(|role| (*c, role)))
                .collect();
            let has = |role| roles.iter().any(|(_, r)| *r == role);
            if template && row.get(0).text() == "region" {
                self.template_sheet(sheet, at, year);
                return Some(Layout::Template);
            }
            if has(Column::Indicator) && has(Column::Region) && has(Column::Value) {
                self.long_sheet(sheet, at, &roles, year);
                return Some(Layout::Long);
            }
            if has(Column::Region) {
                let indicators: Vec<(u32, &indicator::Model, Breakdown)> = row
                    .cells
                    .iter()
                    .filter(|(c, _)| !roles.iter().any(|(rc, _)| rc == c))
                    .filter_map(|(c, v)| {
                        let (name, breakdown) = split_breakdown(&v.text());
                        self.names.indicator(&name).ok().map(|i| (*c, i, breakdown))
                    })
                    .collect();
                if !indicators.is_empty() {
                    self.wide_sheet(sheet, at, &roles, &indicators, year);
                    return Some(Layout::Wide);
                }
            }
        }
        None
    }

    fn long_sheet(
        &mut self,
        sheet: &Sheet,
        header: usize,
        roles: &[(u32, Column)],
        year: Option<i32>,
    ) {
        let col = |role| roles.iter().find(|(_, r)| *r == role).map(|(c, _)| *c);
        for row in &sheet.rows[header + 1..] {
            if row.cells.iter().all(|(_, v)| v.is_empty()) {
                self.intake.skipped += 1;
                continue;
            }
            let region_col = col(Column::Region).unwrap_or(0);
            if is_total_row(&row.get(region_col).text()) {
                self.intake.skipped += 1;
                continue;
            }
            let Some(year) = self.year_of(sheet, row, col(Column::Year), year) else {
                continue;
            };
            let indicator_col = col(Column::Indicator).unwrap_or(0);
            let indicator = match self.names.indicator(&row.get(indicator_col).text()) {
                Ok(i) => i,
                Err(expected) => {
                    self.problem(
                        &sheet.name,
                        row.number,
                        indicator_col,
                        row.get(indicator_col),
                        expected,
                    );
                    continue;
                }
            };
            self.note_mapping(sheet, row, indicator_col, &indicator.code);
            let Some(region) = self.region_of(sheet, row, region_col, year) else {
                continue;
            };
            let mut dims = [TOTAL; 3];
            let mut ok = true;
            for (i, (role, list)) in [
                (Column::Sex, SEX_CODES),
                (Column::Age, AGE_CODES),
                (Column::Residence, RESIDENCE_CODES),
            ]
            .into_iter()
            .enumerate()
            {
                if let Some(c) = col(role) {
                    match dimension_code(list, row.get(c)) {
                        Some(code) => dims[i] = code,
                        None => {
                            let codes: Vec<String> =
                                list.iter().map(|(c, zh, _)| format!("{c} {zh}")).collect();
                            self.problem(
                                &sheet.name,
                                row.number,
                                c,
                                row.get(c),
                                format!("one of {}", codes.join(", ")),
                            );
                            ok = false;
                        }
                    }
                }
            }
            let value_col = col(Column::Value).unwrap_or(0);
            let value = self.value_of(sheet, row, value_col, indicator);
            let numerator =
                col(Column::Numerator).and_then(|c| self.optional_number(sheet, row, c, &mut ok));
            let denominator =
                col(Column::Denominator).and_then(|c| self.optional_number(sheet, row, c, &mut ok));
            let (Some((value, percent_sign)), true) = (value, ok) else {
                continue;
            };
            self.push(
                RowInput {
                    indicator: indicator.code.clone(),
                    region: region.clone(),
                    year,
                    sex: dims[0].to_owned(),
                    age_group: dims[1].to_owned(),
                    residence: dims[2].to_owned(),
                    value,
                    numerator,
                    denominator,
                },
                CellRef {
                    sheet: sheet.name.clone(),
                    row: row.number,
                    col: value_col,
                    percent_sign,
                },
            );
        }
    }

    fn wide_sheet(
        &mut self,
        sheet: &Sheet,
        header: usize,
        roles: &[(u32, Column)],
        indicators: &[(u32, &indicator::Model, Breakdown)],
        year: Option<i32>,
    ) {
        let col = |role| roles.iter().find(|(_, r)| *r == role).map(|(c, _)| *c);
        let region_col = col(Column::Region).unwrap_or(0);
        for row in &sheet.rows[header + 1..] {
            let region_text = row.get(region_col).text();
            if row.cells.iter().all(|(_, v)| v.is_empty()) || is_total_row(&region_text) {
                self.intake.skipped += 1;
                continue;
            }
            let Some(year) = self.year_of(sheet, row, col(Column::Year), year) else {
                continue;
            };
            let Some(region) = self.region_of(sheet, row, region_col, year) else {
                continue;
            };
            for (c, indicator, breakdown) in indicators {
                if row.get(*c).is_empty() {
                    continue;
                }
                if let Some((value, percent_sign)) = self.value_of(sheet, row, *c, indicator) {
                    self.push(
                        RowInput {
                            indicator: indicator.code.clone(),
                            region: region.clone(),
                            year,
                            sex: breakdown.sex.to_owned(),
                            age_group: breakdown.age.to_owned(),
                            residence: breakdown.residence.to_owned(),
                            value,
                            numerator: None,
                            denominator: None,
                        },
                        CellRef {
                            sheet: sheet.name.clone(),
                            row: row.number,
                            col: *c,
                            percent_sign,
                        },
                    );
                }
            }
        }
    }

    /// The template's data sheet: row `header` holds each column's key (`v|HEA-06|_T|_T|_T` for a value,
    /// `p|…` for last year's, which is not read), the region code stands in column A.
    fn template_sheet(&mut self, sheet: &Sheet, header: usize, year: Option<i32>) {
        let Some(year) = year else { return };
        let keys: Vec<(u32, &indicator::Model, [String; 3])> = sheet.rows[header]
            .cells
            .iter()
            .filter_map(|(c, v)| {
                let text = v.text();
                let mut parts = text.split('|');
                (parts.next()? == "v").then_some(())?;
                let indicator = self.catalogue.indicators.get(parts.next()?)?;
                let dims = [
                    parts.next()?.to_owned(),
                    parts.next()?.to_owned(),
                    parts.next()?.to_owned(),
                ];
                Some((*c, indicator, dims))
            })
            .collect();
        // The title and the two heading rows people read come after the keys.
        for row in sheet.rows[header + 1..]
            .iter()
            .filter(|r| r.number > sheet.rows[header].number + 3)
        {
            let region_text = row.get(0).text();
            if is_total_row(&region_text) || row.get(1).text().contains("合计") {
                self.intake.skipped += 1;
                continue;
            }
            if keys.iter().all(|(c, _, _)| row.get(*c).is_empty()) {
                self.intake.skipped += 1;
                continue;
            }
            let Some(region) = self.region_of(sheet, row, 0, year) else {
                continue;
            };
            for (c, indicator, dims) in &keys {
                if row.get(*c).is_empty() {
                    continue;
                }
                if let Some((value, percent_sign)) = self.value_of(sheet, row, *c, indicator) {
                    self.push(
                        RowInput {
                            indicator: indicator.code.clone(),
                            region: region.clone(),
                            year,
                            sex: dims[0].clone(),
                            age_group: dims[1].clone(),
                            residence: dims[2].clone(),
                            value,
                            numerator: None,
                            denominator: None,
                        },
                        CellRef {
                            sheet: sheet.name.clone(),
                            row: row.number,
                            col: *c,
                            percent_sign,
                        },
                    );
                }
            }
        }
    }

    fn push(&mut self, row: RowInput, cell: CellRef) {
        self.intake.rows.push(row);
        self.intake.cells.push(cell);
    }

    fn note_mapping(&mut self, sheet: &Sheet, row: &SheetRow, col: u32, code: &str) {
        let given = row.get(col).text();
        if given != code && self.noted.insert((given.clone(), code.to_owned())) {
            self.intake.mapped.push(Mapped {
                cell: address(&sheet.name, row.number, col),
                given,
                code: code.to_owned(),
            });
        }
    }

    fn year_of(
        &mut self,
        sheet: &Sheet,
        row: &SheetRow,
        col: Option<u32>,
        default: Option<i32>,
    ) -> Option<i32> {
        match col {
            Some(c) => match value::year(row.get(c)) {
                Some(y) => Some(y),
                None if row.get(c).is_empty() && default.is_some() => default,
                None => {
                    self.problem(
                        &sheet.name,
                        row.number,
                        c,
                        row.get(c),
                        "a year such as 2026 (2026年 is read too)",
                    );
                    None
                }
            },
            None => {
                if default.is_none() {
                    self.problem(
                        &sheet.name,
                        row.number,
                        0,
                        row.get(0),
                        "a year column (年份 / year), or a year chosen with the upload",
                    );
                }
                default
            }
        }
    }

    /// The code of the region a cell names.
    fn region_of(&mut self, sheet: &Sheet, row: &SheetRow, col: u32, year: i32) -> Option<String> {
        match self.names.region(&row.get(col).text(), Some(year)) {
            Ok(region) => {
                self.note_mapping(sheet, row, col, &region.code);
                Some(region.code.clone())
            }
            Err(expected) => {
                self.problem(&sheet.name, row.number, col, row.get(col), expected);
                None
            }
        }
    }

    /// A value cell for `indicator`: a number (a percent sign only where the unit is a percentage), yes
    /// or no for a yes/no indicator; a formula needs its computed value.
    fn value_of(
        &mut self,
        sheet: &Sheet,
        row: &SheetRow,
        col: u32,
        indicator: &indicator::Model,
    ) -> Option<(f64, bool)> {
        let cell = row.get(col);
        if let Value::UncomputedFormula(formula) = cell {
            let formula = formula.clone();
            self.problem(&sheet.name, row.number, col, cell, format!(
                "a value, but the cell holds the formula ={formula} without its result (the program that saved the file does not compute): open and save it in Excel or WPS, or type the value"
            ));
            return None;
        }
        if indicator.unit == Unit::Boolean {
            return match value::yes_no(cell) {
                Some(b) => Some((f64::from(u8::from(b)), false)),
                None => {
                    self.problem(
                        &sheet.name,
                        row.number,
                        col,
                        cell,
                        format!("是 or 否 (yes or no) for {}", indicator.code),
                    );
                    None
                }
            };
        }
        match value::number(cell) {
            Some((n, true)) if !matches!(indicator.unit, Unit::Percent | Unit::RatioPercent) => {
                self.problem(
                    &sheet.name,
                    row.number,
                    col,
                    cell,
                    format!(
                        "a number in {} (the unit of {}), not a percentage",
                        indicator.unit.symbol_or_name(),
                        indicator.code
                    ),
                );
                let _ = n;
                None
            }
            Some(found) => Some(found),
            None => {
                self.problem(
                    &sheet.name,
                    row.number,
                    col,
                    cell,
                    format!(
                        "a number for {} ({}), such as 97.3 or 1,687",
                        indicator.code,
                        indicator.unit.symbol_or_name()
                    ),
                );
                None
            }
        }
    }

    fn optional_number(
        &mut self,
        sheet: &Sheet,
        row: &SheetRow,
        col: u32,
        ok: &mut bool,
    ) -> Option<f64> {
        let cell = row.get(col);
        if cell.is_empty() {
            return None;
        }
        match value::number(cell) {
            Some((n, false)) => Some(n),
            _ => {
                self.problem(
                    &sheet.name,
                    row.number,
                    col,
                    cell,
                    "a count such as 1,687 (or nothing)",
                );
                *ok = false;
                None
            }
        }
    }
}

/// A wide column's breakdown, after its indicator: `婴儿死亡率 男`, `HEA-03 农村`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Breakdown {
    sex: &'static str,
    age: &'static str,
    residence: &'static str,
}

/// The indicator part and the breakdown of a wide column's header.
fn split_breakdown(header: &str) -> (String, Breakdown) {
    let mut breakdown = Breakdown {
        sex: TOTAL,
        age: TOTAL,
        residence: TOTAL,
    };
    let text = normalize(header);
    let Some((head, last)) = text.rsplit_once([' ', '/', '-', '·', '_']) else {
        return (text, breakdown);
    };
    let tail = Value::Text(last.to_owned());
    if let Some(code) = dimension_code(SEX_CODES, &tail).filter(|c| *c != TOTAL) {
        breakdown.sex = code;
    } else if let Some(code) = dimension_code(RESIDENCE_CODES, &tail).filter(|c| *c != TOTAL) {
        breakdown.residence = code;
    } else if let Some(code) = dimension_code(AGE_CODES, &tail).filter(|c| *c != TOTAL) {
        breakdown.age = code;
    } else {
        return (text, breakdown);
    }
    (head.to_owned(), breakdown)
}
