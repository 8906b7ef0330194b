//! Reading a file into sheets of non-empty rows. `.xlsx` is streamed cell by cell (calamine's cell
//! reader), so a large sheet never becomes a document tree in memory; `.xls` and `.ods` are read a sheet
//! at a time. A formula counts with its cached value; one without a value is kept as such, so the caller
//! can name its cell. Macros are never run (nothing here runs anything). Limits hold before the work: a
//! compressed file whose parts would inflate past [`ReadLimits::max_inflated_bytes`] (a zip bomb) or a
//! sheet that goes on past `max_rows` is refused at once, naming the limit.

use crate::spreadsheet::value::Value;
use calamine::{Data, DataRef, Reader};
use std::io::{Cursor, Read};

/// What a file may hold.
#[derive(Clone, Copy, Debug)]
pub struct ReadLimits {
    /// Rows of one sheet, header included.
    pub max_rows: u32,
    /// The parts of a compressed workbook, inflated.
    pub max_inflated_bytes: u64,
}

impl Default for ReadLimits {
    fn default() -> Self {
        ReadLimits {
            max_rows: 200_100,
            max_inflated_bytes: 512 * 1024 * 1024,
        }
    }
}

/// The kind of file, by its first bytes (not its name).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Xlsx,
    Xls,
    Ods,
    Csv,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Xlsx => "xlsx",
            Format::Xls => "xls",
            Format::Ods => "ods",
            Format::Csv => "csv",
        }
    }
}

/// One non-empty row: its number as the spreadsheet shows it (from 1) and its non-empty cells by
/// column (from 0).
#[derive(Clone, Debug, PartialEq)]
pub struct SheetRow {
    pub number: u32,
    pub cells: Vec<(u32, Value)>,
}

impl SheetRow {
    /// The cell in column `col` (empty when the row has none there).
    pub fn get(&self, col: u32) -> &Value {
        static EMPTY: Value = Value::Empty;
        self.cells
            .iter()
            .find(|(c, _)| *c == col)
            .map_or(&EMPTY, |(_, v)| v)
    }
}

/// One sheet.
#[derive(Clone, Debug, PartialEq)]
pub struct Sheet {
    pub name: String,
    /// Hidden from the person (the hub's templates keep their code lists and version mark there).
    pub hidden: bool,
    pub rows: Vec<SheetRow>,
}

/// A file as read.
#[derive(Clone, Debug)]
pub struct Workbook {
    pub format: Format,
    /// For CSV: how its text was encoded (`UTF-8`, `UTF-8 with BOM`, `GB18030` (GBK), `UTF-16`).
    pub encoding: Option<&'static str>,
    pub sheets: Vec<Sheet>,
}

/// Why a file cannot be read; the message says what to do.
#[derive(Clone, Debug, thiserror::Error)]
#[error("{0}")]
pub struct ReadError(pub String);

fn refused(message: impl Into<String>) -> ReadError {
    ReadError(message.into())
}

/// Reads `bytes`; `name` (the file's name without its folder) names the one sheet of a CSV file, as
/// Excel does when it opens one.
pub fn read(bytes: &[u8], name: &str, limits: ReadLimits) -> Result<Workbook, ReadError> {
    match sniff(bytes) {
        Some(Format::Xlsx) => {
            check_inflation(bytes, limits)?;
            read_xlsx(bytes, limits)
        }
        Some(Format::Ods) => {
            check_inflation(bytes, limits)?;
            read_ranges::<calamine::Ods<_>>(bytes, Format::Ods, limits)
        }
        Some(Format::Xls) => read_ranges::<calamine::Xls<_>>(bytes, Format::Xls, limits),
        _ => read_csv(bytes, name, limits, None),
    }
}

/// Reads `bytes` as CSV separated by `delimiter` (a source that says how its file is separated), in any
/// encoding [`read`] knows.
pub fn read_delimited(
    bytes: &[u8],
    name: &str,
    limits: ReadLimits,
    delimiter: u8,
) -> Result<Workbook, ReadError> {
    read_csv(bytes, name, limits, Some(delimiter))
}

/// The format by the first bytes: a ZIP package is xlsx or ods (by what it holds), an OLE compound file
/// is xls, anything else is read as text.
fn sniff(bytes: &[u8]) -> Option<Format> {
    if bytes.starts_with(b"PK\x03\x04") {
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).ok()?;
        if archive.by_name("xl/workbook.xml").is_ok() {
            return Some(Format::Xlsx);
        }
        let mut mime = String::new();
        if let Ok(mut entry) = archive.by_name("mimetype") {
            let _ = entry.by_ref().take(100).read_to_string(&mut mime);
        }
        return mime
            .contains("opendocument.spreadsheet")
            .then_some(Format::Ods);
    }
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return Some(Format::Xls);
    }
    None
}

/// Refuses a package whose parts would inflate beyond the limit, or by a ratio no real workbook has,
/// before anything is inflated.
fn check_inflation(bytes: &[u8], limits: ReadLimits) -> Result<(), ReadError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| refused(format!("the file is a damaged workbook ({e})")))?;
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        let entry = archive
            .by_index_raw(i)
            .map_err(|e| refused(format!("the file is a damaged workbook ({e})")))?;
        let (inflated, packed) = (entry.size(), entry.compressed_size().max(1));
        total = total.saturating_add(inflated);
        if inflated > 16 * 1024 * 1024 && inflated / packed > 200 {
            return Err(refused(format!(
                "the file's part {} would inflate {}-fold to {} MB: that is not a spreadsheet people fill in",
                entry.name().unwrap_or_default(),
                inflated / packed,
                inflated / 1_048_576
            )));
        }
    }
    if total > limits.max_inflated_bytes {
        return Err(refused(format!(
            "the file would inflate to {} MB, more than the {} MB a workbook may hold here",
            total / 1_048_576,
            limits.max_inflated_bytes / 1_048_576
        )));
    }
    Ok(())
}

fn too_long(sheet: &str, limits: ReadLimits) -> ReadError {
    refused(format!(
        "sheet {sheet} goes on past row {}: a file may hold at most {} rows per sheet (split it, or import it with `childhub import observations --batch`)",
        limits.max_rows,
        limits.max_rows.saturating_sub(100)
    ))
}

fn from_ref(data: DataRef<'_>) -> Value {
    match data {
        DataRef::Int(i) => Value::Number(i as f64),
        DataRef::Float(f) => Value::Number(f),
        DataRef::String(s) => Value::Text(s),
        DataRef::SharedString(s) => Value::Text(s.to_owned()),
        DataRef::Bool(b) => Value::Bool(b),
        DataRef::DateTime(d) => Value::Number(d.as_f64()),
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => Value::Text(s),
        DataRef::Error(e) => Value::Error(format!("{e}")),
        DataRef::Empty => Value::Empty,
    }
}

fn from_data(data: &Data) -> Value {
    match data {
        Data::Int(i) => Value::Number(*i as f64),
        Data::Float(f) => Value::Number(*f),
        Data::String(s) => Value::Text(s.clone()),
        Data::Bool(b) => Value::Bool(*b),
        Data::DateTime(d) => Value::Number(d.as_f64()),
        Data::DateTimeIso(s) | Data::DurationIso(s) => Value::Text(s.clone()),
        Data::Error(e) => Value::Error(format!("{e}")),
        Data::Empty => Value::Empty,
    }
}

/// Collects cells (in row order) into non-empty rows.
struct Rows {
    rows: Vec<SheetRow>,
}

impl Rows {
    fn push(&mut self, row: u32, col: u32, value: Value) {
        if value.is_empty() {
            return;
        }
        let number = row + 1;
        match self.rows.last_mut() {
            Some(last) if last.number == number => last.cells.push((col, value)),
            _ => self.rows.push(SheetRow {
                number,
                cells: vec![(col, value)],
            }),
        }
    }
}

fn read_xlsx(bytes: &[u8], limits: ReadLimits) -> Result<Workbook, ReadError> {
    let mut workbook = calamine::Xlsx::new(Cursor::new(bytes))
        .map_err(|e| refused(format!("the .xlsx file cannot be read ({e})")))?;
    let sheets: Vec<(String, bool)> = workbook
        .sheets_metadata()
        .iter()
        .map(|s| (s.name.clone(), s.visible != calamine::SheetVisible::Visible))
        .collect();
    let mut out = Vec::new();
    for (name, hidden) in sheets {
        let mut reader = workbook
            .worksheet_cells_reader(&name)
            .map_err(|e| refused(format!("sheet {name} cannot be read ({e})")))?;
        let mut rows = Rows { rows: Vec::new() };
        while let Some(cell) = reader
            .next_cell_with_formula()
            .map_err(|e| refused(format!("sheet {name} cannot be read ({e})")))?
        {
            let (row, col) = cell.pos;
            if row >= limits.max_rows {
                return Err(too_long(&name, limits));
            }
            let value = match (from_ref(cell.value), cell.formula) {
                (Value::Empty, Some(formula)) if !formula.is_empty() => {
                    Value::UncomputedFormula(formula)
                }
                (value, _) => value,
            };
            rows.push(row, col, value);
        }
        out.push(Sheet {
            name,
            hidden,
            rows: rows.rows,
        });
    }
    Ok(Workbook {
        format: Format::Xlsx,
        encoding: None,
        sheets: out,
    })
}

fn read_ranges<R>(bytes: &[u8], format: Format, limits: ReadLimits) -> Result<Workbook, ReadError>
where
    R: Reader<Cursor<Vec<u8>>>,
    R::Error: std::fmt::Display,
{
    let mut workbook = R::new(Cursor::new(bytes.to_vec()))
        .map_err(|e| refused(format!("the .{} file cannot be read ({e})", format.name())))?;
    let sheets: Vec<(String, bool)> = workbook
        .sheets_metadata()
        .iter()
        .map(|s| (s.name.clone(), s.visible != calamine::SheetVisible::Visible))
        .collect();
    let mut out = Vec::new();
    for (name, hidden) in sheets {
        let range = workbook
            .worksheet_range(&name)
            .map_err(|e| refused(format!("sheet {name} cannot be read ({e})")))?;
        let formulas = workbook.worksheet_formula(&name).ok();
        if range.end().is_some_and(|(row, _)| row >= limits.max_rows) {
            return Err(too_long(&name, limits));
        }
        let mut rows = Rows { rows: Vec::new() };
        let (row0, col0) = range.start().unwrap_or((0, 0));
        for (r, row) in range.rows().enumerate() {
            for (c, data) in row.iter().enumerate() {
                let (row, col) = (row0 + r as u32, col0 + c as u32);
                let mut value = from_data(data);
                if value.is_empty()
                    && let Some(formula) = formulas
                        .as_ref()
                        .and_then(|f| f.get_value((row, col)))
                        .filter(|f| !f.is_empty())
                {
                    value = Value::UncomputedFormula(formula.clone());
                }
                rows.push(row, col, value);
            }
        }
        out.push(Sheet {
            name,
            hidden,
            rows: rows.rows,
        });
    }
    Ok(Workbook {
        format,
        encoding: None,
        sheets: out,
    })
}

/// The text of a CSV file and how it was encoded: UTF-8 (with or without a BOM), UTF-16 with a BOM
/// (Excel's "Unicode text"), or else GB18030 — the superset of GBK that Excel and WPS write on Chinese
/// Windows.
fn decode(bytes: &[u8]) -> Result<(String, &'static str), ReadError> {
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return String::from_utf8(rest.to_vec())
            .map(|t| (t, "UTF-8 with BOM"))
            .map_err(|_| refused("the file starts as UTF-8 but is not UTF-8 further on: save it again as \"CSV UTF-8\""));
    }
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        let (text, _, bad) = encoding_rs::UTF_16LE.decode(bytes);
        if !bad {
            return Ok((text.into_owned(), "UTF-16"));
        }
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok((text.to_owned(), "UTF-8"));
    }
    let (text, _, bad) = encoding_rs::GB18030.decode(bytes);
    if bad {
        return Err(refused(
            "the file is neither UTF-8 nor GBK/GB18030 text, nor a spreadsheet (.xlsx, .xls, .ods): save it from Excel or WPS as .xlsx or as \"CSV UTF-8\"",
        ));
    }
    Ok((text.into_owned(), "GB18030"))
}

fn read_csv(
    bytes: &[u8],
    name: &str,
    limits: ReadLimits,
    delimiter: Option<u8>,
) -> Result<Workbook, ReadError> {
    let (text, encoding) = decode(bytes)?;
    // Excel's "Unicode text" is tab-separated; a CSV whose first line has tabs but no commas is too.
    let first = text.lines().next().unwrap_or("");
    let delimiter = delimiter.unwrap_or(if first.contains('\t') && !first.contains(',') {
        b'\t'
    } else {
        b','
    });
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let sheet = std::path::Path::new(name)
        .file_stem()
        .and_then(|s| s.to_str())
        .filter(|s| !s.is_empty())
        .unwrap_or("Sheet1")
        .to_owned();
    let mut rows = Rows { rows: Vec::new() };
    let mut record = csv::StringRecord::new();
    let mut records: u32 = 0;
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                // Rows as Excel shows the file: one per record (a quoted field may span lines), counted
                // here rather than from the reader's line, which does not advance on `\r\n` endings.
                let row = records;
                records += 1;
                if records > limits.max_rows {
                    return Err(too_long(&sheet, limits));
                }
                for (col, field) in record.iter().enumerate() {
                    rows.push(row, col as u32, Value::Text(field.to_owned()));
                }
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                return Err(refused(format!(
                    "line {line} is not well-formed CSV ({e}): check for an unclosed quote"
                )));
            }
        }
    }
    Ok(Workbook {
        format: Format::Csv,
        encoding: Some(encoding),
        sheets: vec![Sheet {
            name: sheet,
            hidden: false,
            rows: rows.rows,
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gbk_csv_is_decoded_and_says_so() {
        let (bytes, _, _) =
            encoding_rs::GB18030.encode("地区,年份,数值\n示范镇01,2026年,97.3%\n,,,\n");
        let book = read(&bytes, "卫健-2026.csv", ReadLimits::default()).expect("read");
        assert_eq!(book.encoding, Some("GB18030"));
        assert_eq!(book.sheets[0].name, "卫健-2026");
        // Excel's trailing ",,," row is no row at all.
        assert_eq!(book.sheets[0].rows.len(), 2);
        assert_eq!(
            book.sheets[0].rows[1].get(0),
            &Value::Text("示范镇01".into())
        );
        assert_eq!(book.sheets[0].rows[1].number, 2);
    }

    #[test]
    fn windows_line_endings_and_quoted_line_breaks_keep_excels_row_numbers() {
        let book = read(
            b"a,b\r\n1,\"two\r\nlines\"\r\n3,4\r\n",
            "x.csv",
            ReadLimits::default(),
        )
        .unwrap();
        let rows = &book.sheets[0].rows;
        assert_eq!(rows.len(), 3, "{rows:?}");
        assert_eq!((rows[1].number, rows[2].number), (2, 3));
        assert_eq!(rows[2].get(1), &Value::Text("4".into()));
    }

    #[test]
    fn a_bom_and_utf8_are_told_apart() {
        let book = read(b"\xEF\xBB\xBFa,b\n1,2\n", "x.csv", ReadLimits::default()).unwrap();
        assert_eq!(book.encoding, Some("UTF-8 with BOM"));
        assert_eq!(book.sheets[0].rows[0].get(0), &Value::Text("a".into()));
        let book = read(b"a,b\n1,2\n", "x.csv", ReadLimits::default()).unwrap();
        assert_eq!(book.encoding, Some("UTF-8"));
    }

    #[test]
    fn a_sheet_longer_than_the_limit_is_refused() {
        let text = "a\n".repeat(50);
        let limits = ReadLimits {
            max_rows: 10,
            ..ReadLimits::default()
        };
        let refused = read(text.as_bytes(), "long.csv", limits).unwrap_err();
        assert!(refused.0.contains("past row 10"), "{refused}");
    }
}
