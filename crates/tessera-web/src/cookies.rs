//! Cookies, read and written here only. The console's and the browser binding's are
//! site-wide (`Path=/`) and behind https take the `__Host-` prefix; the flow's sign-in session
//! is scoped to its organization (`Path=/orgs/{org}`). All are `HttpOnly`, `SameSite=Lax` (the
//! sign-in callbacks are top-level navigations) and `Secure` behind https.

use http::{header, HeaderMap, HeaderValue};

use crate::AppState;

/// A console cookie's name: behind https with the `__Host-` prefix, so that the browser takes
/// it only from this host, over https, for the whole site, and no other subdomain can plant
/// one (a planted session or sign-in state would sign the victim in as someone else).
pub fn cookie_name(state: &AppState, name: &str) -> String {
    cookie_name_for(&state.config.public_url, name)
}

fn cookie_name_for(public_url: &str, name: &str) -> String {
    if public_url.starts_with("https://") {
        format!("__Host-{name}")
    } else {
        name.to_owned()
    }
}

/// The value of one of the console's cookies.
pub fn cookie(state: &AppState, headers: &HeaderMap, name: &str) -> Option<String> {
    cookie_value(headers, &cookie_name(state, name))
}

/// The value of the cookie `name` in the request's `Cookie` headers (RFC 6265 §5.4: pairs
/// separated by `;`), if it is there and not empty; the first one wins.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
        .filter(|v| !v.is_empty())
}

/// A `Set-Cookie` value for a site-wide cookie (`max_age` 0 clears it).
pub fn set_cookie(state: &AppState, name: &str, value: &str, max_age: i64) -> HeaderValue {
    set_cookie_at(state, &cookie_name(state, name), "/", value, max_age)
}

/// A `Set-Cookie` value for a cookie of one organization's flow pages, under
/// `/orgs/{org}` (`max_age` 0 clears it). A path other than `/` cannot take `__Host-`.
pub fn set_org_cookie(
    state: &AppState,
    org: &str,
    name: &str,
    value: &str,
    max_age: i64,
) -> HeaderValue {
    set_cookie_at(state, name, &format!("/orgs/{org}"), value, max_age)
}

fn set_cookie_at(
    state: &AppState,
    name: &str,
    path: &str,
    value: &str,
    max_age: i64,
) -> HeaderValue {
    let secure = if state.config.public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    // Names and values are ours (constants, slugs, base64url): this never fails in practice,
    // and an empty header sets nothing if it did.
    HeaderValue::from_str(&format!(
        "{name}={value}; Path={path}; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::cookie_value;
    use http::{HeaderMap, HeaderValue};

    proptest::proptest! {
        /// Whatever the header, parsing never panics, and a value found never carries a
        /// separator: one cookie cannot smuggle another.
        #[test]
        fn any_cookie_header_parses(raw in "[ -~]{0,80}", name in "[a-z_]{1,10}") {
            let mut h = HeaderMap::new();
            if let Ok(v) = HeaderValue::from_str(&raw) {
                h.insert(http::header::COOKIE, v);
            }
            if let Some(v) = cookie_value(&h, &name) {
                proptest::prop_assert!(!v.contains(';') && !v.is_empty());
            }
        }

        /// A cookie set among others is found, exactly.
        #[test]
        fn a_cookie_is_found_among_others(
            value in "[A-Za-z0-9_-]{1,43}",
            others in proptest::collection::vec(("[a-z]{1,8}", "[A-Za-z0-9_-]{0,12}"), 0..5),
        ) {
            let mut pairs: Vec<String> = others
                .iter()
                .filter(|(k, _)| k != "target")
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            pairs.insert(pairs.len() / 2, format!("target={value}"));
            let mut h = HeaderMap::new();
            h.insert(http::header::COOKIE, HeaderValue::from_str(&pairs.join("; ")).unwrap());
            proptest::prop_assert_eq!(cookie_value(&h, "target"), Some(value));
        }
    }

    #[test]
    fn cookies_are_host_only_behind_https() {
        use super::cookie_name_for;
        assert_eq!(
            cookie_name_for("https://id.example.com", "tessera_console"),
            "__Host-tessera_console"
        );
        assert_eq!(
            cookie_name_for("http://127.0.0.1:8700", "tessera_console"),
            "tessera_console"
        );
    }
}
