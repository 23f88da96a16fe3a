//! Request parameters of the protocol endpoints. RFC 6749 §3.1 and §3.2: a parameter must not
//! appear more than once, except those an extension lets repeat (`resource`, RFC 8707 §2).
//! Checked with a cap on how many there may be, so that a body of a hundred thousand
//! parameters costs nothing before it is refused.

use std::borrow::Cow;

/// More than any protocol request needs (an authorization request has about fifteen).
pub const MAX_PARAMS: usize = 100;

/// Why a parameter list is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamError {
    TooMany,
    Repeated(String),
}

impl std::fmt::Display for ParamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::TooMany => write!(f, "more than {MAX_PARAMS} parameters"),
            Self::Repeated(k) => write!(f, "parameter '{k}' is repeated"),
        }
    }
}

/// The parameters that may appear more than once: RFC 8707 §2 asks for one `resource` per
/// resource a token is meant for.
pub const REPEATABLE: &[&str] = &["resource"];

/// Checks that no name other than [`REPEATABLE`] ones repeats and that there are at most
/// [`MAX_PARAMS`].
pub fn check_unique(params: &[(String, String)]) -> Result<(), ParamError> {
    if params.len() > MAX_PARAMS {
        return Err(ParamError::TooMany);
    }
    // At most a hundred names: comparing each with those before it is cheaper than hashing
    // them all (a request has a handful).
    for (i, (k, _)) in params.iter().enumerate() {
        if params[..i].iter().any(|(seen, _)| seen == k) && !REPEATABLE.contains(&k.as_str()) {
            return Err(ParamError::Repeated(k.clone()));
        }
    }
    Ok(())
}

/// The value of the parameter `name`, if present and not empty (RFC 6749 §3.1: "Parameters
/// sent without a value MUST be treated as if they were omitted").
pub fn get<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

/// Every non-empty value of a repeatable parameter, in order.
pub fn get_all<'a>(params: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    params
        .iter()
        .filter(|(n, v)| n == name && !v.is_empty())
        .map(|(_, v)| v.as_str())
        .collect()
}

/// Parses `application/x-www-form-urlencoded` (a body or a query string), refusing repeats
/// and overlong lists; stops reading at the first parameter past the cap.
pub fn parse_unique(raw: &[u8]) -> Result<Vec<(String, String)>, ParamError> {
    let mut out: Vec<(String, String)> = vec![];
    for pair in memchr::memchr_iter(b'&', raw)
        .chain([raw.len()])
        .scan(0, |start, end| {
            let pair = &raw[*start..end];
            *start = end + 1;
            Some(pair)
        })
        .filter(|p| !p.is_empty())
    {
        if out.len() == MAX_PARAMS {
            return Err(ParamError::TooMany);
        }
        let (k, v) = decode_pair(pair);
        out.push((k.into_owned(), v.into_owned()));
    }
    check_unique(&out)?;
    Ok(out)
}

/// One `name=value` of a form (the WHATWG URL standard's `application/x-www-form-urlencoded`
/// parser, as `url::form_urlencoded` implements it). Most pairs (a token, a grant type) hold
/// no `%` or `+` and are UTF-8 already: those are taken as they are, without the byte-by-byte
/// decoding and the lossy UTF-8 pass that a 1 KiB token otherwise costs.
fn decode_pair(pair: &[u8]) -> (Cow<'_, str>, Cow<'_, str>) {
    if memchr::memchr2(b'%', b'+', pair).is_none() {
        if let Ok(s) = std::str::from_utf8(pair) {
            let (k, v) = s.split_once('=').unwrap_or((s, ""));
            return (Cow::Borrowed(k), Cow::Borrowed(v));
        }
    }
    url::form_urlencoded::parse(pair)
        .next()
        .unwrap_or((Cow::Borrowed(""), Cow::Borrowed("")))
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The shortcut decodes every body exactly as the general parser does.
        #[test]
        fn pairs_decode_as_the_form_parser_does(raw in proptest::collection::vec(
            proptest::sample::select(b"ab=&%+2F0zZ\xc3\xa9\xff -._~".to_vec()), 0..40)
        ) {
            let ours: Vec<(String, String)> = raw
                .split(|&b| b == b'&')
                .filter(|p| !p.is_empty())
                .map(|p| { let (k, v) = decode_pair(p); (k.into_owned(), v.into_owned()) })
                .collect();
            let theirs: Vec<(String, String)> = url::form_urlencoded::parse(&raw)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            proptest::prop_assert_eq!(ours, theirs);
        }
    }

    #[test]
    fn plain_and_encoded_pairs_decode() {
        let p = parse_unique(b"token=eyJ.a-b_c~d&x&a=b=c&n=caf%C3%A9+au+lait&&e=").unwrap();
        assert_eq!(
            p,
            [
                ("token", "eyJ.a-b_c~d"),
                ("x", ""),
                ("a", "b=c"),
                ("n", "café au lait"),
                ("e", "")
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
        );
        // Bytes that are not UTF-8 become U+FFFD, as with the general parser.
        assert_eq!(parse_unique(b"k=\xff").unwrap()[0].1, "\u{fffd}");
    }

    #[test]
    fn an_empty_parameter_is_an_absent_one() {
        let p = parse_unique(b"state=&scope=openid").unwrap();
        assert_eq!(get(&p, "scope"), Some("openid"));
        assert_eq!(get(&p, "state"), None);
        assert_eq!(get(&p, "nonce"), None);
    }

    #[test]
    fn resource_may_repeat() {
        let p =
            parse_unique(b"resource=https%3A%2F%2Fa.example&scope=x&resource=urn%3Ab&resource=")
                .unwrap();
        assert_eq!(get_all(&p, "resource"), ["https://a.example", "urn:b"]);
        assert!(get_all(&p, "audience").is_empty());
    }

    #[test]
    fn repeats_and_floods_are_refused() {
        assert_eq!(parse_unique(b"a=1&b=2").unwrap().len(), 2);
        assert_eq!(
            parse_unique(b"a=1&b=2&a=3"),
            Err(ParamError::Repeated("a".into()))
        );
        let flood: String = (0..200_000).map(|i| format!("k{i}=v&")).collect();
        assert_eq!(parse_unique(flood.as_bytes()), Err(ParamError::TooMany));
        assert_eq!(
            ParamError::Repeated("scope".into()).to_string(),
            "parameter 'scope' is repeated"
        );
    }

    proptest::proptest! {
        /// Any body parses or is refused, never panics; what parses has unique names and at
        /// most the cap.
        #[test]
        fn any_body_is_parsed_or_refused(raw in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            if let Ok(p) = parse_unique(&raw) {
                proptest::prop_assert!(p.len() <= MAX_PARAMS);
                let mut names: Vec<&str> = p.iter().map(|(k, _)| k.as_str()).collect();
                names.sort_unstable();
                names.dedup();
                proptest::prop_assert_eq!(names.len(), p.len());
            }
        }

        /// Encoded pairs come back exactly.
        #[test]
        fn encoded_pairs_round_trip(pairs in proptest::collection::btree_map("\\PC{1,10}", "\\PC{0,20}", 0..10)) {
            let body = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(pairs.iter())
                .finish();
            let parsed: std::collections::BTreeMap<String, String> =
                parse_unique(body.as_bytes()).unwrap_or_default().into_iter().collect();
            proptest::prop_assert_eq!(parsed, pairs);
        }
    }
}
