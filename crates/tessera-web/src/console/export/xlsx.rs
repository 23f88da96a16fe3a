//! An Excel workbook of one worksheet: every cell a string, the header row bold and frozen,
//! the columns autofitted.

use rust_xlsxwriter::{Format as CellFormat, Workbook, XlsxError};

use super::{ExportError, Table};

/// Keeps the writer's error type out of the public API; its message is all callers need.
fn xlsx_error(err: XlsxError) -> ExportError {
    ExportError::Xlsx(err.to_string())
}

/// Excel's limit on the length of a cell's text, in UTF-16 units.
const XLSX_MAX_CELL_UNITS: usize = 32_767;
/// Autofit stops here (pixels) so that one long redirect URI does not push every other
/// column off screen.
const XLSX_MAX_AUTOFIT_PIXELS: u32 = 300;
/// Excel's limit on the length of a worksheet name, in UTF-16 units.
const SHEET_NAME_MAX_UNITS: usize = 31;
/// The name used when the title leaves nothing usable.
const DEFAULT_SHEET_NAME: &str = "Sheet1";

pub(super) fn render_xlsx(table: &Table<'_>) -> Result<Vec<u8>, ExportError> {
    let mut workbook = Workbook::new();
    let bold = CellFormat::new().set_bold();
    let sheet = workbook.add_worksheet();
    sheet
        .set_name(sheet_name(table.title))
        .map_err(xlsx_error)?;

    // Indices past the sheet's limits saturate so that the writer itself reports the table as
    // too large, with its own message.
    for (col, heading) in table.headings.iter().enumerate() {
        let col = u16::try_from(col).unwrap_or(u16::MAX);
        sheet
            .write_string_with_format(0, col, cell_text(heading), &bold)
            .map_err(xlsx_error)?;
    }
    for (index, row) in table.rows.iter().enumerate() {
        let row_num = u32::try_from(index)
            .ok()
            .and_then(|r| r.checked_add(1))
            .unwrap_or(u32::MAX);
        for (col, cell) in row.iter().enumerate() {
            let col = u16::try_from(col).unwrap_or(u16::MAX);
            sheet
                .write_string(row_num, col, cell_text(cell))
                .map_err(xlsx_error)?;
        }
    }

    sheet.set_freeze_panes(1, 0).map_err(xlsx_error)?;
    sheet.set_autofit_max_width(XLSX_MAX_AUTOFIT_PIXELS);
    sheet.autofit();
    workbook.save_to_buffer().map_err(xlsx_error)
}

/// The cell's text cut to Excel's limit: the writer rejects longer strings outright, and a
/// shortened cell is more useful than no export at all.
fn cell_text(text: &str) -> &str {
    prefix_within_utf16(text, XLSX_MAX_CELL_UNITS)
}

/// The longest prefix of `text` that is at most `max_units` UTF-16 units long (Excel counts
/// lengths in UTF-16), never splitting a character.
fn prefix_within_utf16(text: &str, max_units: usize) -> &str {
    let mut units = 0;
    for (at, c) in text.char_indices() {
        units += c.len_utf16();
        if units > max_units {
            return &text[..at];
        }
    }
    text
}

/// A worksheet name Excel accepts, made from `title`: none of `[ ] : * ? / \` (nor control
/// characters), at most 31 UTF-16 units, no apostrophe at either end, not empty and not the
/// reserved `History`.
fn sheet_name(title: &str) -> String {
    let replaced: String = title
        .chars()
        .map(|c| {
            if matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\') || c.is_control() {
                ' '
            } else {
                c
            }
        })
        .collect();
    // Replaced characters become spaces; collapsing the runs keeps "a: b" as "a b".
    let collapsed = replaced.split_whitespace().collect::<Vec<_>>().join(" ");
    let is_edge = |c: char| c == '\'' || c.is_whitespace();
    let trimmed = collapsed.trim_matches(is_edge);
    // Cutting to length can expose a trailing apostrophe or space again.
    let cut = prefix_within_utf16(trimmed, SHEET_NAME_MAX_UNITS).trim_end_matches(is_edge);
    if cut.is_empty() || cut.eq_ignore_ascii_case("history") {
        DEFAULT_SHEET_NAME.to_owned()
    } else {
        cut.to_owned()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::tests::{contains, table, HEADINGS};
    use super::super::{render, Format};
    use super::*;

    #[test]
    fn xlsx_is_a_zip_with_a_worksheet() {
        let out = render(
            &table(vec![vec!["=1+1", "Web", "https://a.example"]]),
            Format::Xlsx,
        )
        .unwrap();
        assert!(out.starts_with(b"PK\x03\x04"));
        assert!(contains(&out, b"xl/worksheets/sheet1.xml"));
        assert!(contains(&out, b"xl/workbook.xml"));
        assert!(!contains(&out, b"xl/worksheets/sheet2.xml"));
    }

    #[test]
    fn xlsx_accepts_awkward_titles_and_overlong_cells() {
        let long = "x".repeat(XLSX_MAX_CELL_UNITS + 10);
        let t = Table {
            title: "'Clients: [all] / *?'",
            headings: HEADINGS,
            rows: vec![vec![long, "\u{1F600}".repeat(20_000)]],
        };
        let out = render(&t, Format::Xlsx).unwrap();
        assert!(out.starts_with(b"PK\x03\x04"));
    }

    #[test]
    fn xlsx_reports_too_many_columns() {
        let headings: Vec<&str> = vec!["h"; 16_385];
        let t = Table {
            title: "wide",
            headings: &headings,
            rows: vec![],
        };
        let err = render(&t, Format::Xlsx).unwrap_err();
        assert!(err
            .to_string()
            .starts_with("could not write the spreadsheet: "));
    }

    #[test]
    fn sheet_names_follow_excels_rules() {
        assert_eq!(sheet_name("OAuth clients"), "OAuth clients");
        assert_eq!(sheet_name("Clients: [a/b] *?\\"), "Clients a b");
        assert_eq!(sheet_name("'quoted'"), "quoted");
        assert_eq!(sheet_name(""), "Sheet1");
        assert_eq!(sheet_name("[]:*?/\\"), "Sheet1");
        assert_eq!(sheet_name("HISTORY"), "Sheet1");
        assert_eq!(sheet_name("tab\there"), "tab here");
        let long = sheet_name("abcdefghij abcdefghij abcdefghij abcdefghij");
        assert_eq!(long, "abcdefghij abcdefghij abcdefghi");
        assert_eq!(long.encode_utf16().count(), 31);
        // The cut lands just after a space and before an apostrophe: both are trimmed.
        assert_eq!(
            sheet_name("abcdefghij abcdefghij abcdefgh 'x"),
            "abcdefghij abcdefghij abcdefgh"
        );
        // Characters outside the BMP count twice.
        assert_eq!(
            sheet_name(&"\u{1F600}".repeat(20)).encode_utf16().count(),
            30
        );

        for title in [
            "OAuth clients",
            "'a'",
            "' '",
            "x'",
            "a: b",
            "history",
            "",
            "\u{1F600}\u{1F600}\u{1F600}\u{1F600}\u{1F600}\u{1F600}\u{1F600}\u{1F600}\u{1F600}\u{1F600}\u{1F600}\u{1F600}\u{1F600}\u{1F600}\u{1F600}x",
            "abcdefghijabcdefghijabcdefghij'x",
        ] {
            let name = sheet_name(title);
            let mut workbook = Workbook::new();
            assert!(
                workbook.add_worksheet().set_name(name.as_str()).is_ok(),
                "{title:?} gave {name:?}"
            );
        }
    }
}
