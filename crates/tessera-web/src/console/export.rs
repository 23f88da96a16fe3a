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

use std::borrow::Cow;

use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};
use rust_xlsxwriter::{Format as CellFormat, Workbook, XlsxError};

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

/// Keeps the writer's error type out of the public API; its message is all callers need.
fn xlsx_error(err: XlsxError) -> ExportError {
    ExportError::Xlsx(err.to_string())
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

// ---------------------------------------------------------------------------------------------
// CSV

/// Excel only reads a CSV file as UTF-8 when it starts with a byte order mark.
const UTF8_BOM: &str = "\u{FEFF}";

fn render_csv(table: &Table<'_>) -> Vec<u8> {
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

// ---------------------------------------------------------------------------------------------
// XLSX

/// Excel's limit on the length of a cell's text, in UTF-16 units.
const XLSX_MAX_CELL_UNITS: usize = 32_767;
/// Autofit stops here (pixels) so that one long redirect URI does not push every other
/// column off screen.
const XLSX_MAX_AUTOFIT_PIXELS: u32 = 300;
/// Excel's limit on the length of a worksheet name, in UTF-16 units.
const SHEET_NAME_MAX_UNITS: usize = 31;
/// The name used when the title leaves nothing usable.
const DEFAULT_SHEET_NAME: &str = "Sheet1";

fn render_xlsx(table: &Table<'_>) -> Result<Vec<u8>, ExportError> {
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

// ---------------------------------------------------------------------------------------------
// PDF

/// A4 landscape, in points.
const PAGE_WIDTH: f32 = 841.89;
const PAGE_HEIGHT: f32 = 595.28;
const MARGIN: f32 = 36.0;
const TABLE_WIDTH: f32 = PAGE_WIDTH - 2.0 * MARGIN;

const TITLE_SIZE: f32 = 14.0;
const TEXT_SIZE: f32 = 9.0;
const FOOTER_SIZE: f32 = 8.0;
const ROW_HEIGHT: f32 = 14.0;
/// Space on either side of a cell's text, so neighbouring columns never touch.
const CELL_PADDING: f32 = 3.0;
/// No column grows past this however long its text: a long URI would otherwise squeeze
/// every other column when the widths are scaled to the page.
const MAX_COLUMN_TEXT_WIDTH: f32 = 220.0;
/// How far below the baseline the row shading and the header rule sit (Helvetica's
/// descenders reach about 0.21 em).
const BELOW_BASELINE: f32 = 4.0;
const ROW_SHADE_GRAY: f32 = 0.93;

const TITLE_BASELINE: f32 = PAGE_HEIGHT - MARGIN - TITLE_SIZE;
const HEADER_BASELINE: f32 = TITLE_BASELINE - 26.0;
const FIRST_ROW_BASELINE: f32 = HEADER_BASELINE - ROW_HEIGHT - 2.0;
/// The lowest baseline a row may use, leaving the bottom margin to the page number.
const LAST_ROW_MIN_BASELINE: f32 = MARGIN + 8.0;
const FOOTER_BASELINE: f32 = MARGIN - 12.0;
/// Body rows per page (33 with the sizes above).
const ROWS_PER_PAGE: usize =
    ((FIRST_ROW_BASELINE - LAST_ROW_MIN_BASELINE) / ROW_HEIGHT) as usize + 1;

const CATALOG_ID: Ref = Ref::new(1);
const PAGE_TREE_ID: Ref = Ref::new(2);
const FONT_REGULAR_ID: Ref = Ref::new(3);
const FONT_BOLD_ID: Ref = Ref::new(4);
const INFO_ID: Ref = Ref::new(5);
/// Page `i` is object `FIRST_PAGE_OBJECT + 2 * i`, its content stream the next one.
const FIRST_PAGE_OBJECT: usize = 6;
/// Object numbers are 31-bit. Reaching this would take tens of billions of rows, far more
/// than fit in memory; the bound only keeps the numbering provably in range.
const MAX_PAGES: usize = (i32::MAX as usize - FIRST_PAGE_OBJECT) / 2;

const FONT_REGULAR: Name<'static> = Name(b"F1");
const FONT_BOLD: Name<'static> = Name(b"F2");

/// The two faces used; each knows its glyph widths.
#[derive(Clone, Copy)]
enum Face {
    Regular,
    Bold,
}

/// Helvetica's advance widths (1/1000 em) for WinAnsi codes 32..=126, from Adobe's AFM.
const HELVETICA_WIDTHS: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, // ' '../
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, // 0..9
    278, 278, 584, 584, 584, 556, 1015, // :..@
    667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, // A..M
    722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, // N..Z
    278, 278, 278, 469, 556, 333, // [..`
    556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, // a..m
    556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, // n..z
    334, 260, 334, 584, // {..~
];

/// Helvetica-Bold's advance widths (1/1000 em) for WinAnsi codes 32..=126, from Adobe's AFM.
const HELVETICA_BOLD_WIDTHS: [u16; 95] = [
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, // ' '../
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, // 0..9
    333, 333, 584, 584, 584, 611, 975, // :..@
    722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, // A..M
    722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, // N..Z
    333, 278, 333, 584, 556, 333, // [..`
    556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, // a..m
    611, 611, 611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, // n..z
    389, 280, 389, 584, // {..~
];

/// Upper bound for the Latin-1 letters and signs above ASCII (the widest, Æ, is one em):
/// overestimating only truncates a little early, underestimating would overflow a column.
const WIDE_GLYPH_WIDTH: u16 = 1000;

impl Face {
    fn resource(self) -> Name<'static> {
        match self {
            Self::Regular => FONT_REGULAR,
            Self::Bold => FONT_BOLD,
        }
    }

    /// Advance width of one WinAnsi byte, in 1/1000 em.
    fn glyph_width(self, byte: u8) -> u64 {
        let table = match self {
            Self::Regular => &HELVETICA_WIDTHS,
            Self::Bold => &HELVETICA_BOLD_WIDTHS,
        };
        let width = byte
            .checked_sub(b' ')
            .and_then(|i| table.get(usize::from(i)))
            .copied()
            .unwrap_or(WIDE_GLYPH_WIDTH);
        u64::from(width)
    }

    /// Width of WinAnsi text, in 1/1000 em. Integer units keep the fitting exact: what
    /// `fit` measures is what the page shows.
    fn text_width(self, text: &[u8]) -> u64 {
        text.iter().map(|&b| self.glyph_width(b)).sum()
    }
}

/// Points to 1/1000 em at `size`, rounded down so that text measured against it fits.
fn points_to_units(points: f32, size: f32) -> u64 {
    // A float-to-int `as` saturates: negative widths give 0.
    (points * 1000.0 / size).floor() as u64
}

fn units_to_points(units: u64, size: f32) -> f32 {
    units as f32 * size / 1000.0
}

/// Encodes text for WinAnsiEncoding. Latin-1 maps to the same byte; anything outside it
/// becomes `?`, since the base-14 fonts have no other glyphs. Line breaks and tabs become
/// spaces (a row is one line) and other control characters `?`.
fn win_ansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => b' ',
            // C1 controls share their codes with WinAnsi's extra glyphs (€, curly quotes...),
            // which would print something the cell never said.
            '\u{0}'..='\u{1F}' | '\u{7F}'..='\u{9F}' => b'?',
            _ => u8::try_from(c).unwrap_or(b'?'),
        })
        .collect()
}

/// `text` cut to at most `max_units` wide, ending in "..." when cut. When not even the dots
/// fit, as many dots as fit.
fn fit(text: &[u8], face: Face, max_units: u64) -> Cow<'_, [u8]> {
    if face.text_width(text) <= max_units {
        return Cow::Borrowed(text);
    }
    const ELLIPSIS: &[u8] = b"...";
    let ellipsis = face.text_width(ELLIPSIS);
    if ellipsis > max_units {
        let dot = face.glyph_width(b'.');
        let dots = (0..ELLIPSIS.len())
            .take_while(|&n| dot * (n as u64 + 1) <= max_units)
            .count();
        return Cow::Owned(vec![b'.'; dots]);
    }
    let budget = max_units - ellipsis;
    let mut used = 0;
    let mut end = 0;
    for &byte in text {
        let width = face.glyph_width(byte);
        if used + width > budget {
            break;
        }
        used += width;
        end += 1;
    }
    let mut cut = text[..end].trim_ascii_end().to_vec();
    cut.extend_from_slice(ELLIPSIS);
    Cow::Owned(cut)
}

/// Column widths in points, including padding: each as wide as its widest text (capped),
/// then all scaled down together when the table is wider than the page.
fn column_widths(headings: &[Vec<u8>], rows: &[Vec<Vec<u8>>], columns: usize) -> Vec<f32> {
    let mut widest = vec![0_u64; columns];
    for (slot, heading) in widest.iter_mut().zip(headings) {
        *slot = (*slot).max(Face::Bold.text_width(heading));
    }
    for row in rows {
        for (slot, cell) in widest.iter_mut().zip(row) {
            *slot = (*slot).max(Face::Regular.text_width(cell));
        }
    }
    let natural: Vec<f32> = widest
        .iter()
        .map(|&units| {
            units_to_points(units, TEXT_SIZE).min(MAX_COLUMN_TEXT_WIDTH) + 2.0 * CELL_PADDING
        })
        .collect();
    let total: f32 = natural.iter().sum();
    if total > TABLE_WIDTH {
        let scale = TABLE_WIDTH / total;
        natural.iter().map(|w| w * scale).collect()
    } else {
        natural
    }
}

/// An object number for the PDF. Callers stay below `MAX_PAGES`, so the conversion never
/// saturates and every number is distinct and positive.
fn object_ref(number: usize) -> Ref {
    Ref::new(i32::try_from(number).unwrap_or(i32::MAX).max(1))
}

fn render_pdf(table: &Table<'_>) -> Vec<u8> {
    let columns = column_count(table);
    let headings: Vec<Vec<u8>> = table.headings.iter().map(|h| win_ansi(h)).collect();
    let rows: Vec<Vec<Vec<u8>>> = table
        .rows
        .iter()
        .map(|row| row.iter().map(|cell| win_ansi(cell)).collect())
        .collect();
    let widths = column_widths(&headings, &rows, columns);
    let title = win_ansi(table.title);

    // An empty table still gets a page, with its headings.
    let pages: Vec<&[Vec<Vec<u8>>]> = if rows.is_empty() {
        vec![&[]]
    } else {
        rows.chunks(ROWS_PER_PAGE).take(MAX_PAGES).collect()
    };
    let page_count = pages.len();
    let page_ids: Vec<Ref> = (0..page_count)
        .map(|i| object_ref(FIRST_PAGE_OBJECT + 2 * i))
        .collect();

    let mut pdf = Pdf::new();
    pdf.catalog(CATALOG_ID).pages(PAGE_TREE_ID);
    pdf.pages(PAGE_TREE_ID)
        .kids(page_ids.iter().copied())
        .count(i32::try_from(page_count).unwrap_or(i32::MAX));
    pdf.document_info(INFO_ID).title(TextStr(table.title));
    for (id, base) in [
        (FONT_REGULAR_ID, Name(b"Helvetica")),
        (FONT_BOLD_ID, Name(b"Helvetica-Bold")),
    ] {
        pdf.type1_font(id)
            .base_font(base)
            .encoding_predefined(Name(b"WinAnsiEncoding"));
    }

    for (index, (page_rows, &page_id)) in pages.iter().zip(&page_ids).enumerate() {
        let content_id = object_ref(FIRST_PAGE_OBJECT + 2 * index + 1);
        let mut page = pdf.page(page_id);
        page.parent(PAGE_TREE_ID)
            .media_box(Rect::new(0.0, 0.0, PAGE_WIDTH, PAGE_HEIGHT))
            .contents(content_id);
        page.resources()
            .fonts()
            .pair(FONT_REGULAR, FONT_REGULAR_ID)
            .pair(FONT_BOLD, FONT_BOLD_ID);
        page.finish();

        let footer = format!("Page {} of {}", index + 1, page_count);
        let content = page_content(&title, &headings, page_rows, &widths, footer.as_bytes());
        pdf.stream(content_id, &content);
    }
    pdf.finish()
}

/// Draws one page: the title, the bold header row with a rule under it, the rows (every
/// other one shaded, to follow a line across wide tables) and the page number.
fn page_content(
    title: &[u8],
    headings: &[Vec<u8>],
    rows: &[Vec<Vec<u8>>],
    widths: &[f32],
    footer: &[u8],
) -> Vec<u8> {
    let table_width: f32 = widths.iter().sum();
    let mut content = Content::new();

    for index in (1..rows.len()).step_by(2) {
        let baseline = FIRST_ROW_BASELINE - ROW_HEIGHT * index as f32;
        content
            .set_fill_gray(ROW_SHADE_GRAY)
            .rect(MARGIN, baseline - BELOW_BASELINE, table_width, ROW_HEIGHT)
            .fill_nonzero();
    }
    content.set_fill_gray(0.0);

    let rule = HEADER_BASELINE - BELOW_BASELINE - 1.0;
    content
        .set_line_width(0.5)
        .move_to(MARGIN, rule)
        .line_to(MARGIN + table_width, rule)
        .stroke();

    content.begin_text();
    let title_units = points_to_units(TABLE_WIDTH, TITLE_SIZE);
    show_at(
        &mut content,
        Face::Bold,
        TITLE_SIZE,
        MARGIN,
        TITLE_BASELINE,
        &fit(title, Face::Bold, title_units),
    );
    show_row(&mut content, Face::Bold, HEADER_BASELINE, headings, widths);
    for (index, row) in rows.iter().enumerate() {
        let baseline = FIRST_ROW_BASELINE - ROW_HEIGHT * index as f32;
        show_row(&mut content, Face::Regular, baseline, row, widths);
    }
    let footer_width = units_to_points(Face::Regular.text_width(footer), FOOTER_SIZE);
    show_at(
        &mut content,
        Face::Regular,
        FOOTER_SIZE,
        (PAGE_WIDTH - footer_width) / 2.0,
        FOOTER_BASELINE,
        footer,
    );
    content.end_text();
    content.finish().into_vec()
}

/// Shows one row of cells, each fitted into its column.
fn show_row(content: &mut Content, face: Face, baseline: f32, cells: &[Vec<u8>], widths: &[f32]) {
    let mut x = MARGIN;
    for (cell, &width) in cells.iter().zip(widths) {
        let room = points_to_units(width - 2.0 * CELL_PADDING, TEXT_SIZE);
        let text = fit(cell, face, room);
        if !text.is_empty() {
            show_at(content, face, TEXT_SIZE, x + CELL_PADDING, baseline, &text);
        }
        x += width;
    }
}

/// Shows `text` with its baseline starting at (`x`, `y`). Absolute positioning per string
/// keeps each cell independent of the width of the one before it.
fn show_at(content: &mut Content, face: Face, size: f32, x: f32, y: f32, text: &[u8]) {
    content
        .set_font(face.resource(), size)
        .set_text_matrix([1.0, 0.0, 0.0, 1.0, x, y])
        .show(Str(text));
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const HEADINGS: &[&str] = &["Client ID", "Name", "Redirect URIs"];

    fn table(rows: Vec<Vec<&str>>) -> Table<'static> {
        Table {
            title: "OAuth clients",
            headings: HEADINGS,
            rows: rows
                .into_iter()
                .map(|r| r.into_iter().map(str::to_owned).collect())
                .collect(),
        }
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    fn occurrences(haystack: &[u8], needle: &[u8]) -> usize {
        haystack
            .windows(needle.len())
            .filter(|w| *w == needle)
            .count()
    }

    fn csv(t: &Table<'_>) -> String {
        String::from_utf8(render(t, Format::Csv).unwrap()).unwrap()
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

    fn pdf(t: &Table<'_>) -> Vec<u8> {
        render(t, Format::Pdf).unwrap()
    }

    #[test]
    fn pdf_is_well_formed() {
        let out = pdf(&table(vec![vec!["web", "Web app", "https://a.example/cb"]]));
        assert!(out.starts_with(b"%PDF-"));
        assert!(out.trim_ascii_end().ends_with(b"%%EOF"));
        assert!(contains(&out, b"xref"));
        assert!(contains(&out, b"/BaseFont /Helvetica"));
        assert!(contains(&out, b"/BaseFont /Helvetica-Bold"));
        assert!(contains(&out, b"/Encoding /WinAnsiEncoding"));
        assert!(contains(&out, b"/MediaBox [0 0 841.89 595.28]"));
        assert!(contains(&out, b"(Client ID) Tj"));
        assert!(contains(&out, b"(Redirect URIs) Tj"));
        assert!(contains(&out, b"(https://a.example/cb) Tj"));
        assert!(contains(&out, b"(OAuth clients) Tj"));
        assert!(contains(&out, b"(Page 1 of 1) Tj"));
        assert!(!contains(&out, b"FontFile"));
    }

    #[test]
    fn pdf_is_deterministic() {
        let t = table(vec![vec!["web", "Web app", "https://a.example/cb"]]);
        assert_eq!(pdf(&t), pdf(&t));
    }

    #[test]
    fn pdf_breaks_pages_and_numbers_them() {
        let rows: Vec<Vec<String>> = (0..=ROWS_PER_PAGE)
            .map(|i| vec![format!("client-{i:03}"), "Name".into(), String::new()])
            .collect();
        let t = Table {
            title: "OAuth clients",
            headings: HEADINGS,
            rows,
        };
        let out = pdf(&t);
        assert!(contains(&out, b"(Page 1 of 2) Tj"));
        assert!(contains(&out, b"(Page 2 of 2) Tj"));
        assert!(contains(&out, b"/Count 2"));
        // The header repeats on every page; every row appears exactly once.
        assert_eq!(occurrences(&out, b"(Client ID) Tj"), 2);
        let last = format!("(client-{ROWS_PER_PAGE:03}) Tj");
        assert_eq!(occurrences(&out, last.as_bytes()), 1);
        assert_eq!(occurrences(&out, b"(client-000) Tj"), 1);

        // One row fewer fits on one page.
        let mut t = t;
        t.rows.pop();
        let out = pdf(&t);
        assert!(contains(&out, b"(Page 1 of 1) Tj"));
        assert!(!contains(&out, b"Page 2"));
    }

    #[test]
    fn pdf_of_an_empty_table_has_one_page_with_headings() {
        let out = pdf(&table(vec![]));
        assert!(contains(&out, b"/Count 1"));
        assert!(contains(&out, b"(Client ID) Tj"));
        assert!(contains(&out, b"(Page 1 of 1) Tj"));
    }

    #[test]
    fn pdf_replaces_characters_outside_latin1() {
        let out = pdf(&table(vec![vec![
            "Tokyo \u{6771}\u{4EAC} \u{2713}",
            "x",
            "y",
        ]]));
        assert!(contains(&out, b"(Tokyo ?? ?) Tj"));
        assert_eq!(win_ansi("Caf\u{E9} \u{20AC}"), b"Caf\xE9 ?");
        assert_eq!(win_ansi("a\r\nb\u{0}\u{85}"), b"a  b??");
    }

    #[test]
    fn pdf_truncates_long_cells() {
        let long = "https://very-long.example/callback?".repeat(20);
        let out = pdf(&table(vec![vec!["web", "Web", &long]]));
        assert!(!contains(&out, long.as_bytes()));
        assert!(contains(&out, b"...) Tj"));
        assert!(contains(&out, b"(https://very-long.example/callback?"));
    }

    #[test]
    fn fit_never_exceeds_its_width() {
        let text = win_ansi("WWW mmm iii \u{C6}\u{C6} @@@ https://example.com/a/b/c");
        for face in [Face::Regular, Face::Bold] {
            for max in 0..=face.text_width(&text) + 10 {
                let cut = fit(&text, face, max);
                assert!(face.text_width(&cut) <= max, "max {max}: {cut:?}");
                if cut.as_ref() != text.as_slice() && face.text_width(b"...") <= max {
                    assert!(cut.ends_with(b"..."));
                }
            }
        }
        assert_eq!(fit(b"short", Face::Regular, 10_000).as_ref(), b"short");
        assert_eq!(fit(b"abcdef", Face::Regular, 600).as_ref(), b"..");
        assert_eq!(fit(b"abcdef", Face::Regular, 0).as_ref(), b"");
    }

    #[test]
    fn columns_fit_the_page() {
        let long = win_ansi(&"w".repeat(500));
        let headings: Vec<Vec<u8>> = (0..12).map(|i| win_ansi(&format!("Heading {i}"))).collect();
        let rows = vec![vec![long.clone(); 12]];
        let widths = column_widths(&headings, &rows, 12);
        let total: f32 = widths.iter().sum();
        assert!(total <= TABLE_WIDTH + 0.01, "{total}");

        // Narrow content keeps its natural width, and the cap applies before scaling.
        let widths = column_widths(&headings[..2], &[vec![b"ab".to_vec(), long]], 2);
        let heading = units_to_points(Face::Bold.text_width(&headings[0]), TEXT_SIZE);
        assert!((widths[0] - (heading + 2.0 * CELL_PADDING)).abs() < 0.01);
        assert!((widths[1] - (MAX_COLUMN_TEXT_WIDTH + 2.0 * CELL_PADDING)).abs() < 0.01);
    }

    #[test]
    fn page_layout_leaves_room_for_the_footer() {
        assert_eq!(ROWS_PER_PAGE, 33);
        let last = FIRST_ROW_BASELINE - ROW_HEIGHT * (ROWS_PER_PAGE - 1) as f32;
        assert!(last - BELOW_BASELINE > FOOTER_BASELINE + FOOTER_SIZE);
        assert!(last >= LAST_ROW_MIN_BASELINE);
    }
}
