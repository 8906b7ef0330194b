//! The files departments keep their numbers in: reading `.xlsx`, `.xls`, `.ods` and CSV (UTF-8 with or
//! without a BOM, or GBK/GB18030 as Excel and WPS save it on Chinese Windows) into sheets of cells named
//! as the spreadsheet shows them (`Sheet1!D7`), reading the values people type (`97.3%`, `1,687`,
//! `2026年`, full-width digits, 是/否), and writing `.xlsx` and CSV that Excel opens as it should.
//! Pure: bytes in, cells out — the catalogue's names and codes are `service::intake`'s.

pub mod read;
pub mod value;
pub mod write;

pub use read::{Format, ReadLimits, Sheet, SheetRow, Workbook, read, read_delimited};
pub use value::Value;

/// The column's letters as a spreadsheet shows them: 0 → `A`, 25 → `Z`, 26 → `AA`.
pub fn column_name(mut col: u32) -> String {
    let mut letters = Vec::new();
    loop {
        letters.push(b'A' + (col % 26) as u8);
        if col < 26 {
            break;
        }
        col = col / 26 - 1;
    }
    letters.reverse();
    String::from_utf8(letters).unwrap_or_default()
}

/// A cell's address as the spreadsheet shows it: `Sheet1!D7` (rows counted from 1). A sheet name with
/// spaces or punctuation is quoted, as Excel writes it: `'填报 Report'!D7`.
pub fn address(sheet: &str, row: u32, col: u32) -> String {
    let plain = sheet
        .chars()
        .all(|c| c.is_alphanumeric() || c == '_' || c == '-' || !c.is_ascii());
    let plain = plain && !sheet.contains(' ');
    if plain {
        format!("{sheet}!{}{row}", column_name(col))
    } else {
        format!("'{}'!{}{row}", sheet.replace('\'', "''"), column_name(col))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_and_addresses_read_as_excel_shows_them() {
        assert_eq!(column_name(0), "A");
        assert_eq!(column_name(25), "Z");
        assert_eq!(column_name(26), "AA");
        assert_eq!(column_name(701), "ZZ");
        assert_eq!(column_name(702), "AAA");
        assert_eq!(address("Sheet1", 7, 3), "Sheet1!D7");
        assert_eq!(address("填报", 2, 0), "填报!A2");
        assert_eq!(address("填报 Report", 2, 0), "'填报 Report'!A2");
    }
}
