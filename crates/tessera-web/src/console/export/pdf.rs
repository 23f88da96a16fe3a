//! An A4 landscape PDF: the title, a bold header row repeated on every page, shaded rows
//! and page numbers; content streams uncompressed.

use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

use super::font::{fit, points_to_units, units_to_points, win_ansi, Face, FONT_BOLD, FONT_REGULAR};
use super::{column_count, Table};

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

pub(super) fn render_pdf(table: &Table<'_>) -> Vec<u8> {
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
    use super::super::tests::{contains, occurrences, table, HEADINGS};
    use super::super::{render, Format};
    use super::*;

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
