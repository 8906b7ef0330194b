//! Files for Excel: CSV with a UTF-8 BOM (without it Excel on Chinese Windows reads UTF-8 as GBK and
//! shows mojibake) and `.xlsx` workbooks (rust_xlsxwriter).

/// The byte-order mark Excel needs to read a CSV file as UTF-8.
pub const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// A CSV document with the BOM, from rows of fields.
pub fn csv_with_bom(rows: &[Vec<String>]) -> Vec<u8> {
    let mut out = UTF8_BOM.to_vec();
    {
        let mut writer = csv::Writer::from_writer(&mut out);
        for row in rows {
            let _ = writer.write_record(row);
        }
        let _ = writer.flush();
    }
    out
}

/// What goes in a template a department fills: a row per region, a pair of columns per expected value
/// (the value to type, last year's approved value beside it for reference), and the code lists.
#[derive(Clone, Debug, Default)]
pub struct Template {
    /// The hidden sheet's version mark (`service::intake::TEMPLATE_MARK`) and meta sheet name.
    pub mark: String,
    pub meta_sheet: String,
    pub department: String,
    pub department_name: String,
    pub year: i32,
    /// The title row: the plan's name, the department and the year, in Chinese and English.
    pub title: String,
    pub columns: Vec<TemplateColumn>,
    pub rows: Vec<TemplateRow>,
    /// Code lists for the extra rows' drop-downs: (heading, codes).
    pub lists: Vec<(String, Vec<String>)>,
    /// The deadline, for the instructions line.
    pub deadline: String,
}

/// One expected value column.
#[derive(Clone, Debug)]
pub struct TemplateColumn {
    /// `HEA-06|_T|_T|_T`: the indicator code and the sex, age group and residence codes.
    pub key: String,
    pub header_zh: String,
    pub header_en: String,
    /// A yes/no indicator (a 是/否 drop-down) or a count (whole numbers; a total row sums it).
    pub yes_no: bool,
    pub count: bool,
}

/// One region's row.
#[derive(Clone, Debug)]
pub struct TemplateRow {
    pub region_code: String,
    pub region_name: String,
    /// Per column: `None` when the plan expects no value there; else the value stored now (pending or
    /// approved) and last year's approved value.
    pub cells: Vec<Option<(Option<f64>, Option<f64>)>>,
}

/// The template as an `.xlsx` workbook: sheet `填报 Report` with its keys in a hidden first row, code
/// columns locked, value cells open, last year's values beside them, a 合计 row for counts; sheet
/// `补充 Extra` for values the grid has no place for, with drop-down lists of codes; and the hidden
/// sheet with the version mark, the department, the year and the code lists.
pub fn template_xlsx(t: &Template) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{
        Color, DataValidation, DataValidationRule, Format, FormatBorder, Formula, Workbook,
    };
    let mut book = Workbook::new();
    let header = Format::new()
        .set_bold()
        .set_text_wrap()
        .set_background_color(Color::RGB(0xDCE6F1))
        .set_border(FormatBorder::Thin);
    let locked = Format::new().set_background_color(Color::RGB(0xF2F2F2));
    let previous = Format::new()
        .set_font_color(Color::RGB(0x555555))
        .set_background_color(Color::RGB(0xF2F2F2));
    let not_expected = Format::new()
        .set_font_color(Color::RGB(0x999999))
        .set_background_color(Color::RGB(0xE7E6E6));
    let open = Format::new()
        .set_unlocked()
        .set_border(FormatBorder::Thin)
        .set_background_color(Color::RGB(0xFFFFF0));
    let title = Format::new().set_bold().set_font_size(13);

    let sheet = book.add_worksheet();
    sheet.set_name("填报 Report")?;
    // Row 0 holds the keys the hub reads back (hidden); row 1 the title; rows 2 and 3 the headings.
    sheet.write_string(0, 0, "region")?;
    sheet.write_string(0, 1, "name")?;
    sheet.set_row_hidden(0)?;
    sheet.write_string_with_format(1, 0, &t.title, &title)?;
    sheet.write_string_with_format(2, 0, "地区代码", &header)?;
    sheet.write_string_with_format(3, 0, "Region code", &header)?;
    sheet.write_string_with_format(2, 1, "地区", &header)?;
    sheet.write_string_with_format(3, 1, "Region", &header)?;
    sheet.set_column_width(0, 14)?;
    sheet.set_column_width(1, 26)?;
    for (i, c) in t.columns.iter().enumerate() {
        let (value_col, prev_col) = (2 + 2 * i as u16, 3 + 2 * i as u16);
        sheet.write_string(0, value_col, format!("v|{}", c.key))?;
        sheet.write_string(0, prev_col, format!("p|{}", c.key))?;
        sheet.write_string_with_format(2, value_col, &c.header_zh, &header)?;
        sheet.write_string_with_format(3, value_col, &c.header_en, &header)?;
        sheet.write_string_with_format(
            2,
            prev_col,
            format!("{}年（参考）", t.year - 1),
            &header,
        )?;
        sheet.write_string_with_format(
            3,
            prev_col,
            format!("{} (for reference)", t.year - 1),
            &header,
        )?;
        sheet.set_column_width(value_col, 18)?;
        sheet.set_column_width(prev_col, 11)?;
    }
    let first = 4u32;
    for (r, row) in t.rows.iter().enumerate() {
        let at = first + r as u32;
        sheet.write_string_with_format(at, 0, &row.region_code, &locked)?;
        sheet.write_string_with_format(at, 1, &row.region_name, &locked)?;
        for (i, cell) in row.cells.iter().enumerate() {
            let (value_col, prev_col) = (2 + 2 * i as u16, 3 + 2 * i as u16);
            match cell {
                None => {
                    sheet.write_string_with_format(at, value_col, "—", &not_expected)?;
                    sheet.write_string_with_format(at, prev_col, "", &not_expected)?;
                }
                Some((current, last)) => {
                    match current {
                        Some(v) => sheet.write_number_with_format(at, value_col, *v, &open)?,
                        None => sheet.write_blank(at, value_col, &open)?,
                    };
                    match last {
                        Some(v) => sheet.write_number_with_format(at, prev_col, *v, &previous)?,
                        None => sheet.write_string_with_format(at, prev_col, "–", &previous)?,
                    };
                }
            }
        }
    }
    let last = first + t.rows.len().max(1) as u32 - 1;
    for (i, c) in t.columns.iter().enumerate() {
        let value_col = 2 + 2 * i as u16;
        let rule = if c.yes_no {
            DataValidation::new().allow_list_strings(&["是", "否"])?
        } else if c.count {
            DataValidation::new().allow_whole_number(DataValidationRule::GreaterThanOrEqualTo(0))
        } else {
            DataValidation::new()
                .allow_decimal_number(DataValidationRule::GreaterThanOrEqualTo(0.0))
        };
        let rule = rule
            .set_error_title("数值不符 Not a value")?
            .set_error_message("请填写数字（是/否指标填“是”或“否”）。Type a number (是 or 否 for a yes/no indicator).")?;
        sheet.add_data_validation(first, value_col, last, value_col, &rule)?;
    }
    // The 合计 row: the sum of the townships for counts, as a check (the hub skips this row).
    if t.rows.len() > 1 {
        let total = last + 1;
        sheet.write_string_with_format(total, 0, "合计", &locked)?;
        sheet.write_string_with_format(
            total,
            1,
            "合计 Total of the rows above (not read)",
            &locked,
        )?;
        for (i, c) in t.columns.iter().enumerate() {
            if c.count {
                let col = 2 + 2 * i as u16;
                let letter = crate::spreadsheet::column_name(col as u32);
                let formula =
                    Formula::new(format!("=SUM({letter}{}:{letter}{})", first + 2, last + 1));
                sheet.write_formula_with_format(total, col, formula, &locked)?;
            }
        }
    }
    sheet.write_string(
        last + 3,
        0,
        format!(
            "填写浅黄色单元格；灰色为参考值和代码，已锁定。截止日期 {}。Fill in the pale yellow cells; grey cells (codes, last year's values) are locked. Due by {}.",
            t.deadline, t.deadline
        ),
    )?;
    sheet.set_freeze_panes(4, 2)?;
    sheet.protect();

    // Values the grid has no place for (a village, another breakdown), one per row, codes from lists.
    let extra = book.add_worksheet();
    extra.set_name("补充 Extra")?;
    let headings = [
        "指标",
        "地区",
        "年份",
        "性别",
        "年龄组",
        "城乡",
        "数值",
        "分子",
        "分母",
    ];
    for (col, h) in headings.iter().enumerate() {
        extra.write_string_with_format(0, col as u16, *h, &header)?;
        extra.set_column_width(col as u16, 14)?;
    }
    for (col, list) in [(0u16, 0usize), (1, 1), (3, 2), (4, 3), (5, 4)] {
        if let Some((_, codes)) = t.lists.get(list) {
            let letter = crate::spreadsheet::column_name(3 + list as u32);
            let range = format!(
                "='{}'!${letter}$2:${letter}${}",
                t.meta_sheet,
                codes.len().max(1) + 1
            );
            let rule = DataValidation::new().allow_list_formula(Formula::new(range));
            extra.add_data_validation(1, col, 2000, col, &rule)?;
        }
    }

    let meta = book.add_worksheet();
    meta.set_name(&t.meta_sheet)?;
    meta.write_string(0, 0, &t.mark)?;
    meta.write_string(1, 0, "department")?;
    meta.write_string(1, 1, &t.department)?;
    meta.write_string(2, 0, "year")?;
    meta.write_number(2, 1, f64::from(t.year))?;
    meta.write_string(3, 0, "department_name")?;
    meta.write_string(3, 1, &t.department_name)?;
    for (i, (heading, codes)) in t.lists.iter().enumerate() {
        let col = 3 + i as u16;
        meta.write_string(0, col, heading)?;
        for (r, code) in codes.iter().enumerate() {
            meta.write_string(1 + r as u32, col, code)?;
        }
    }
    meta.set_hidden(true);
    book.save_to_buffer()
}

/// A table written row by row into an `.xlsx` workbook of one sheet — a bold, frozen header row, then
/// the rows — kept in a temporary file as it grows (rust_xlsxwriter's constant-memory mode), so a large
/// export does not hold every cell in memory. Excel's sheet ends at [`XLSX_MAX_ROWS`] rows.
pub struct TableWriter {
    book: rust_xlsxwriter::Workbook,
    next_row: u32,
}

/// Rows one Excel sheet holds, its header included.
pub const XLSX_MAX_ROWS: u32 = 1_048_576;

impl TableWriter {
    /// A workbook whose one sheet is `sheet_name`, headed by `headers`.
    pub fn new(sheet_name: &str, headers: &[&str]) -> Result<Self, rust_xlsxwriter::XlsxError> {
        use rust_xlsxwriter::Format;
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet_with_constant_memory()?;
        sheet.set_name(sheet_name)?;
        for col in 0..headers.len() {
            sheet.set_column_width(col as u16, 14)?;
        }
        sheet.set_freeze_panes(1, 0)?;
        let bold = Format::new().set_bold();
        for (col, h) in headers.iter().enumerate() {
            sheet.write_string_with_format(0, col as u16, *h, &bold)?;
        }
        Ok(TableWriter { book, next_row: 1 })
    }

    /// Appends one row.
    pub fn push(&mut self, cells: &[Cell]) -> Result<(), rust_xlsxwriter::XlsxError> {
        let row = self.next_row;
        let sheet = self.book.worksheet_from_index(0)?;
        for (col, cell) in cells.iter().enumerate() {
            let col = col as u16;
            match cell {
                Cell::Text(t) => sheet.write_string(row, col, t)?,
                Cell::Number(n) => sheet.write_number(row, col, *n)?,
                Cell::Empty => sheet,
            };
        }
        self.next_row += 1;
        Ok(())
    }

    /// The workbook's bytes.
    pub fn finish(mut self) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
        self.book.save_to_buffer()
    }
}

/// One cell of a table to write.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Text(String),
    Number(f64),
    Empty,
}
