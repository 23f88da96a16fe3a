//! Rules for text that people read or that ends up in a token: display names shown on the
//! login, consent and console pages, search terms, resource indicators and token-exchange
//! audiences.
//!
//! A name shown to a person must look like what it is. Control characters,
//! bidirectional overrides and isolates (`Tessera\u{202e}ILC` shows as "TesseraCLI" reversed)
//! and invisible characters (zero-width spaces and joiners, the soft hyphen, Hangul fillers,
//! tag characters) let one name pass for another, so they are refused, naming the character.

use crate::error::FieldError;

/// Characters that are invisible or reorder the text around them (Unicode's
/// `Bidi_Control` and `Default_Ignorable_Code_Point` sets, without the variation selectors
/// that emoji need).
fn is_deceptive(c: char) -> bool {
    matches!(c,
        '\u{00AD}'                      // soft hyphen
        | '\u{034F}'                    // combining grapheme joiner
        | '\u{061C}'                    // Arabic letter mark
        | '\u{115F}' | '\u{1160}'       // Hangul fillers
        | '\u{17B4}' | '\u{17B5}'       // Khmer inherent vowels
        | '\u{180B}'..='\u{180F}'       // Mongolian free variation selectors, vowel separator
        | '\u{200B}'..='\u{200F}'       // zero-width space, joiners, LRM, RLM
        | '\u{2028}' | '\u{2029}'       // line and paragraph separators
        | '\u{202A}'..='\u{202E}'       // bidirectional embeddings and overrides
        | '\u{2060}'..='\u{206F}'       // word joiner, invisible operators, isolates
        | '\u{3164}'                    // Hangul filler
        | '\u{FEFF}'                    // zero-width no-break space
        | '\u{FFA0}'                    // halfwidth Hangul filler
        | '\u{FFF0}'..='\u{FFFB}'       // interlinear annotations
        | '\u{1BCA0}'..='\u{1BCA3}'     // shorthand format controls
        | '\u{1D173}'..='\u{1D17A}'     // musical format controls
        | '\u{E0000}'..='\u{E0FFF}'     // tags and variation selectors supplement
    )
}

/// The first character that may not appear in text shown to people, if any.
pub fn forbidden_char(s: &str) -> Option<char> {
    s.chars().find(|c| c.is_control() || is_deceptive(*c))
}

/// Refuses control, bidirectional-override and invisible characters in `field`.
pub fn check_display_text(s: &str, field: &str) -> Result<(), FieldError> {
    match forbidden_char(s) {
        Some(c) => Err(FieldError::new(
            field,
            format!(
                "must not contain control, bidirectional-override or invisible characters (found U+{:04X})",
                u32::from(c)
            ),
        )),
        None => Ok(()),
    }
}

/// A search term as typed (`q=`): trimmed, at most 200 characters, no control or invisible
/// characters; empty means no filter.
pub fn parse_search(s: Option<&str>, field: &str) -> Result<Option<String>, FieldError> {
    let Some(t) = s.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if t.chars().count() > 200 {
        return Err(FieldError::new(field, "must be at most 200 characters"));
    }
    check_display_text(t, field)?;
    Ok(Some(t.to_owned()))
}

/// RFC 8707 §2: a resource indicator is an absolute URI without a fragment. Tessera takes
/// the URIs that name a resource server: `https` (or `http`) with a host and no user
/// information, or a `urn:`; never a `javascript:`, `data:` or `file:` URI, which would become
/// a token's audience. At most 2048 characters.
pub fn parse_resource(s: &str) -> Result<String, FieldError> {
    let bad = |m: &str| FieldError::new("resource", m.to_owned());
    if s.len() > 2048 {
        return Err(bad("must be at most 2048 characters"));
    }
    if s.contains('#') {
        return Err(bad("must not contain a fragment (RFC 8707 §2)"));
    }
    if s.chars()
        .any(|c| c.is_whitespace() || c.is_control() || is_deceptive(c))
    {
        return Err(bad("must not contain spaces or control characters"));
    }
    let url = url::Url::parse(s).map_err(|_| bad("must be an absolute URI (RFC 8707 §2)"))?;
    match url.scheme() {
        "https" | "http" => {
            if url.host_str().is_none_or(str::is_empty) {
                return Err(bad("must name a host"));
            }
            if !url.username().is_empty() || url.password().is_some() {
                return Err(bad("must not contain user information"));
            }
        }
        "urn" => {
            // `urn:NID:NSS` (RFC 8141).
            let mut parts = url.path().splitn(2, ':');
            let nid = parts.next().unwrap_or_default();
            let nss = parts.next().unwrap_or_default();
            if nid.is_empty() || nss.is_empty() {
                return Err(bad("a urn: resource must be urn:NID:NSS"));
            }
        }
        other => {
            return Err(bad(&format!(
                "must be an https, http or urn URI, not {other}:"
            )))
        }
    }
    Ok(s.to_owned())
}

/// RFC 8693 §2.1: a token-exchange `audience` is a logical name of the target service (or a
/// URI): 1 to 256 characters of letters, digits and URI punctuation, so that it is never
/// markup, never whitespace and never a control character.
pub fn parse_audience(s: &str) -> Result<String, FieldError> {
    let ok = !s.is_empty()
        && s.len() <= 256
        && s.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'-' | b'.'
                        | b'_'
                        | b'~'
                        | b':'
                        | b'/'
                        | b'?'
                        | b'@'
                        | b'!'
                        | b'$'
                        | b'&'
                        | b'('
                        | b')'
                        | b'*'
                        | b'+'
                        | b','
                        | b';'
                        | b'='
                        | b'%'
                )
        });
    if ok {
        Ok(s.to_owned())
    } else {
        Err(FieldError::new(
            "audience",
            "must be 1 to 256 characters of letters, digits and - . _ ~ : / ? @ ! $ & ( ) * + , ; = %",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deceptive_names_are_refused_and_named() {
        for s in [
            "Tessera\u{202e}CLI",
            "Tessera\u{2066}CLI",
            "Tes\u{200b}sera",
            "Tes\u{00ad}sera",
            "a\u{0000}b",
            "a\nb",
            "\u{feff}x",
            "x\u{e0041}",
        ] {
            let e = check_display_text(s, "name").unwrap_err();
            assert_eq!(e.field, "name");
            assert!(e.message.contains("U+"), "{}", e.message);
        }
        for s in [
            "Tessera CLI",
            "Zürich Café",
            "東京",
            "Ünïcödé ✓ ❤️",
            "O'Brien & Co",
        ] {
            assert!(check_display_text(s, "name").is_ok(), "{s}");
        }
    }

    #[test]
    fn search_terms() {
        assert_eq!(parse_search(Some("  "), "q").unwrap(), None);
        assert_eq!(parse_search(None, "q").unwrap(), None);
        assert_eq!(
            parse_search(Some(" app "), "q").unwrap().as_deref(),
            Some("app")
        );
        assert!(parse_search(Some("\u{0}"), "q").is_err());
        assert!(parse_search(Some(&"x".repeat(201)), "q").is_err());
    }

    #[test]
    fn resource_indicators() {
        for ok in [
            "https://api.example.com",
            "https://api.example.com/v1?x=1",
            "http://127.0.0.1:9000/mcp",
            "urn:example:api",
        ] {
            assert!(parse_resource(ok).is_ok(), "{ok}");
        }
        for bad in [
            "javascript:alert(1)",
            "data:text/html,<b>x</b>",
            "file:///etc/passwd",
            "https://api.example.com/#frag",
            "/relative",
            "api",
            "https://user:pw@api.example.com",
            "https://api.example.com/a b",
            "urn:",
            "urn:x",
        ] {
            let e = parse_resource(bad).unwrap_err();
            assert_eq!(e.field, "resource", "{bad}");
        }
    }

    #[test]
    fn audiences() {
        for ok in [
            "billing",
            "urn:example:billing",
            "https://api.example.com/x",
        ] {
            assert!(parse_audience(ok).is_ok(), "{ok}");
        }
        for bad in ["", "<script>", "a b", "a\"b", &"x".repeat(257), "é"] {
            assert!(parse_audience(bad).is_err(), "{bad}");
        }
    }

    proptest::proptest! {
        /// Text that passes is free of every refused character.
        #[test]
        fn accepted_text_has_nothing_deceptive(s in "\\PC{0,40}") {
            if check_display_text(&s, "f").is_ok() {
                proptest::prop_assert!(s.chars().all(|c| !c.is_control() && !is_deceptive(c)));
            }
        }

        /// An accepted audience can never be markup or break a header or a line.
        #[test]
        fn accepted_audiences_are_inert(s in "[ -~]{0,60}") {
            if let Ok(a) = parse_audience(&s) {
                proptest::prop_assert!(!a.contains(['<', '>', '"', '\'', ' ', '\\']));
            }
        }

        /// An accepted resource is an absolute URI without a fragment.
        #[test]
        fn accepted_resources_are_absolute_without_fragment(s in "(https?|urn|javascript|data):[ -~]{0,40}") {
            if let Ok(r) = parse_resource(&s) {
                proptest::prop_assert!(!r.contains('#'));
                proptest::prop_assert!(url::Url::parse(&r).is_ok());
                proptest::prop_assert!(r.starts_with("https:") || r.starts_with("http:") || r.starts_with("urn:"));
            }
        }
    }
}
