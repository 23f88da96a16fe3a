//! Helvetica and Helvetica-Bold, the base-14 fonts the PDF uses: their glyph widths,
//! WinAnsiEncoding, and fitting text into a width.

use std::borrow::Cow;

use pdf_writer::Name;

pub(super) const FONT_REGULAR: Name<'static> = Name(b"F1");
pub(super) const FONT_BOLD: Name<'static> = Name(b"F2");

/// The two faces used; each knows its glyph widths.
#[derive(Clone, Copy)]
pub(super) enum Face {
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
    pub(super) fn resource(self) -> Name<'static> {
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
    pub(super) fn text_width(self, text: &[u8]) -> u64 {
        text.iter().map(|&b| self.glyph_width(b)).sum()
    }
}

/// Points to 1/1000 em at `size`, rounded down so that text measured against it fits.
pub(super) fn points_to_units(points: f32, size: f32) -> u64 {
    // A float-to-int `as` saturates: negative widths give 0.
    (points * 1000.0 / size).floor() as u64
}

pub(super) fn units_to_points(units: u64, size: f32) -> f32 {
    units as f32 * size / 1000.0
}

/// Encodes text for WinAnsiEncoding. Latin-1 maps to the same byte; anything outside it
/// becomes `?`, since the base-14 fonts have no other glyphs. Line breaks and tabs become
/// spaces (a row is one line) and other control characters `?`.
pub(super) fn win_ansi(text: &str) -> Vec<u8> {
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
pub(super) fn fit(text: &[u8], face: Face, max_units: u64) -> Cow<'_, [u8]> {
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

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
}
