//! Export of a console table to CSV (RFC 4180), Excel (XLSX) and PDF.
//!
//! The console's list pages hand over the rows the operator is looking at (after search) as
//! plain text cells; this module only lays them out, so each format stays a pure function of
//! the table and the same table always gives the same bytes.
//!
//! - CSV follows RFC 4180 (CRLF) and starts with a UTF-8 byte order mark, without which Excel
//!   reads the file in the local code page. Client names and URIs are chosen by whoever
//!   registered the client, not by the operator opening the file, so every cell is guarded as
//!   the OWASP "CSV injection" guidance says: every cell is wrapped in double quotes (so a `;`
//!   or `,` inside it can never start a new cell in a locale whose separator it is: `;=1+6`
//!   stays one cell of text), inner quotes are doubled, and a cell that starts with a
//!   character a spreadsheet treats as a formula or a command (`=`, `+`, `-`, `@`, `|`, `%`,
//!   `;`, tab, CR, LF) gets a leading `'`, which makes it plain text.
//! - XLSX writes every cell as a string, so nothing is ever interpreted as a formula and no
//!   escaping is needed; the header row is bold and frozen and the columns are autofitted.
//! - PDF uses Helvetica, one of the base-14 fonts every reader has, with WinAnsiEncoding: no
//!   font files to ship or embed, at the price of Latin-1 only (anything else prints as `?`).
//!   Content streams are left uncompressed; the tables are small and no compressor is needed.

mod csv;
mod font;
mod pdf;
mod xlsx;

use csv::render_csv;
use pdf::render_pdf;
use xlsx::render_xlsx;

/// The table as a file to download, `{stem}.{extension}`, never cached.
pub(crate) fn download(table: &Table<'_>, format: Format, stem: &str) -> super::PageResult {
    use axum::response::IntoResponse;
    use http::{header, HeaderValue};
    let bytes = render(table, format).map_err(tessera_core::CoreError::internal)?;
    let mut res = (http::StatusCode::OK, bytes).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{stem}.{}\"",
        format.extension()
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(super::no_store_page(res))
}

/// A table to export: a title (sheet name / PDF heading), column headings, and rows of text
/// cells.
///
/// Rows may be ragged: the table is as wide as its widest row or its headings, and missing
/// cells are empty.
pub struct Table<'a> {
    /// Names the worksheet (after sanitizing) and heads every PDF page.
    pub title: &'a str,
    /// One heading per column, in display order.
    pub headings: &'a [&'a str],
    /// The cells, row by row, already formatted as text.
    pub rows: Vec<Vec<String>>,
}

/// The formats the console can export to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated values, RFC 4180, UTF-8 with a byte order mark.
    Csv,
    /// An Excel workbook with one worksheet.
    Xlsx,
    /// An A4 landscape PDF document.
    Pdf,
}

impl Format {
    /// `csv`, `xlsx`, `pdf` (the `format` query parameter); None for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "csv" => Some(Self::Csv),
            "xlsx" => Some(Self::Xlsx),
            "pdf" => Some(Self::Pdf),
            _ => None,
        }
    }

    /// The `Content-Type` of the rendered bytes.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv; charset=utf-8",
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Self::Pdf => "application/pdf",
        }
    }

    /// The file name extension for a download, without the dot: `csv`, `xlsx`, `pdf`.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Xlsx => "xlsx",
            Self::Pdf => "pdf",
        }
    }
}

/// Why a table could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The spreadsheet writer refused the table (for example more rows or columns than a
    /// worksheet holds); the text is the writer's own message.
    #[error("could not write the spreadsheet: {0}")]
    Xlsx(String),
}

/// Renders `table` in `format`.
///
/// CSV and PDF cannot fail; XLSX fails only when the table exceeds a worksheet's limits
/// (1,048,576 rows, 16,384 columns).
pub fn render(table: &Table<'_>, format: Format) -> Result<Vec<u8>, ExportError> {
    match format {
        Format::Csv => Ok(render_csv(table)),
        Format::Xlsx => render_xlsx(table),
        Format::Pdf => Ok(render_pdf(table)),
    }
}

/// The number of columns: headings and rows may disagree, and no cell should be dropped.
fn column_count(table: &Table<'_>) -> usize {
    table
        .rows
        .iter()
        .map(Vec::len)
        .fold(table.headings.len(), usize::max)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    pub(super) const HEADINGS: &[&str] = &["Client ID", "Name", "Redirect URIs"];

    pub(super) fn table(rows: Vec<Vec<&str>>) -> Table<'static> {
        Table {
            title: "OAuth clients",
            headings: HEADINGS,
            rows: rows
                .into_iter()
                .map(|r| r.into_iter().map(str::to_owned).collect())
                .collect(),
        }
    }

    pub(super) fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    pub(super) fn occurrences(haystack: &[u8], needle: &[u8]) -> usize {
        haystack
            .windows(needle.len())
            .filter(|w| *w == needle)
            .count()
    }

    #[test]
    fn format_parses_only_the_three_names() {
        assert_eq!(Format::parse("csv"), Some(Format::Csv));
        assert_eq!(Format::parse("xlsx"), Some(Format::Xlsx));
        assert_eq!(Format::parse("pdf"), Some(Format::Pdf));
        for other in ["", "CSV", "xls", "pdf ", "json"] {
            assert_eq!(Format::parse(other), None, "{other:?}");
        }
        for format in [Format::Csv, Format::Xlsx, Format::Pdf] {
            assert_eq!(Format::parse(format.extension()), Some(format));
        }
        assert_eq!(Format::Csv.content_type(), "text/csv; charset=utf-8");
        assert_eq!(Format::Pdf.content_type(), "application/pdf");
    }
}
