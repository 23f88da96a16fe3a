//! CSV (RFC 4180, CRLF) with a UTF-8 byte order mark, every cell quoted and guarded
//! against formula injection.

use super::{column_count, Table};

/// Excel only reads a CSV file as UTF-8 when it starts with a byte order mark.
const UTF8_BOM: &str = "\u{FEFF}";

pub(super) fn render_csv(table: &Table<'_>) -> Vec<u8> {
    let columns = column_count(table);
    let mut out = String::with_capacity(64 * (table.rows.len() + 1));
    out.push_str(UTF8_BOM);
    write_csv_record(&mut out, table.headings.iter().copied(), columns);
    for row in &table.rows {
        write_csv_record(&mut out, row.iter().map(String::as_str), columns);
    }
    out.into_bytes()
}

/// Writes one record padded to `columns` fields, so every line has the same number of fields
/// as RFC 4180 asks.
fn write_csv_record<'c>(out: &mut String, cells: impl Iterator<Item = &'c str>, columns: usize) {
    let padding = std::iter::repeat("");
    for (index, cell) in cells.chain(padding).take(columns).enumerate() {
        if index > 0 {
            out.push(',');
        }
        write_csv_field(out, cell);
    }
    out.push_str("\r\n");
}

/// Characters that make a spreadsheet read a cell as a formula or a DDE command when the cell
/// starts with them (OWASP: `=`, `+`, `-`, `@`, tab, CR; and `|`, `%`, `;`, LF, which some
/// applications also act on).
const FORMULA_STARTS: [char; 10] = ['=', '+', '-', '@', '\t', '\r', '\n', '|', '%', ';'];

fn write_csv_field(out: &mut String, cell: &str) {
    out.push('"');
    if cell.starts_with(FORMULA_STARTS) {
        out.push('\'');
    }
    out.push_str(&cell.replace('"', "\"\""));
    out.push('"');
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::tests::table;
    use super::super::{render, Format};
    use super::*;

    fn csv(t: &Table<'_>) -> String {
        String::from_utf8(render(t, Format::Csv).unwrap()).unwrap()
    }

    #[test]
    fn csv_has_bom_header_and_crlf() {
        let out = csv(&table(vec![vec!["web", "Web app", "https://a.example/cb"]]));
        assert_eq!(
            out,
            "\u{FEFF}\"Client ID\",\"Name\",\"Redirect URIs\"\r\n\"web\",\"Web app\",\"https://a.example/cb\"\r\n"
        );
        assert!(render(&table(vec![]), Format::Csv)
            .unwrap()
            .starts_with(b"\xEF\xBB\xBF"));
    }

    #[test]
    fn csv_quotes_every_field_and_doubles_inner_quotes() {
        let out = csv(&table(vec![vec!["a,b", "say \"hi\"", "line\nbreak"]]));
        let body = out.split_once("\r\n").unwrap().1;
        assert_eq!(body, "\"a,b\",\"say \"\"hi\"\"\",\"line\nbreak\"\r\n");
        let out = csv(&table(vec![vec!["cr\rhere", "plain", "it's"]]));
        assert!(
            out.ends_with("\"cr\rhere\",\"plain\",\"it's\"\r\n"),
            "{out:?}"
        );
    }

    #[test]
    fn csv_guards_formula_cells() {
        let out = csv(&table(vec![
            vec!["=1+1", "+cmd", "-2"],
            vec!["@SUM(A1)", "\tx", "a=b"],
            vec!["=HYPERLINK(\"http://x\",\"y\")", "\rz", "ok"],
            vec![";=1+6", "|calc", "%0A"],
            vec!["\n=1", "x;=1+6", "'"],
        ]));
        let lines: Vec<&str> = out.split("\r\n").collect();
        assert_eq!(lines[1], "\"'=1+1\",\"'+cmd\",\"'-2\"");
        assert_eq!(lines[2], "\"'@SUM(A1)\",\"'\tx\",\"a=b\"");
        assert_eq!(
            lines[3],
            "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",\"'\rz\",\"ok\""
        );
        assert_eq!(lines[4], "\"';=1+6\",\"'|calc\",\"'%0A\"");
        // A separator inside a quoted cell never starts a new one.
        assert_eq!(lines[5], "\"'\n=1\",\"x;=1+6\",\"'\"");
    }

    proptest::proptest! {
        /// Whatever the cell, its CSV field is one quoted field that never starts (after the
        /// quote) with a formula character.
        #[test]
        fn every_csv_field_is_quoted_and_inert(cell in "\\PC{0,20}") {
            let mut out = String::new();
            write_csv_field(&mut out, &cell);
            proptest::prop_assert!(out.starts_with('"') && out.ends_with('"'));
            let inner = &out[1..out.len() - 1];
            proptest::prop_assert!(!inner.starts_with(FORMULA_STARTS));
            // Inner quotes come in pairs.
            proptest::prop_assert_eq!(inner.replace("\"\"", "").contains('"'), false);
        }
    }

    #[test]
    fn csv_pads_ragged_rows() {
        let out = csv(&table(vec![vec!["only"], vec!["a", "b", "c", "extra"]]));
        let lines: Vec<&str> = out.split("\r\n").collect();
        assert_eq!(
            lines[0],
            "\u{FEFF}\"Client ID\",\"Name\",\"Redirect URIs\",\"\""
        );
        assert_eq!(lines[1], "\"only\",\"\",\"\",\"\"");
        assert_eq!(lines[2], "\"a\",\"b\",\"c\",\"extra\"");
    }
}
