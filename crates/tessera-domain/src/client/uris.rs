//! The URLs of a client: redirect URIs ([`RedirectUri`]), CORS origins ([`CorsOrigin`]) and
//! web URLs such as `clientUri` ([`parse_web_url`]).

use serde::Serialize;
use url::Url;

use crate::error::FieldError;

/// Whether a redirect URI is one a native app or an agent on the user's machine uses (RFC 8252
/// §7): `http` on a loopback address, or a private-use (custom) scheme.
pub fn is_native_redirect(uri: &str) -> bool {
    match Url::parse(uri) {
        Ok(u) => match u.scheme() {
            "http" => is_loopback_host(&u),
            "https" => false,
            _ => true,
        },
        Err(_) => false,
    }
}

fn is_loopback_host(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Schemes that must never be a redirect target: they run code or read files.
const FORBIDDEN_SCHEMES: &[&str] = &["javascript", "data", "file", "vbscript", "about", "blob"];

/// A registered redirect URI, kept exactly as registered: matching is by exact string
/// comparison (RFC 9700 §4.1.3), so `/callback` and `/callback/` are different registrations.
///
/// Rules: absolute, no fragment (RFC 6749 §3.1.2), `https`, or `http` only on a loopback host
/// (RFC 8252 §7.3), or a private-use scheme such as `myapp://callback` (RFC 8252 §7.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct RedirectUri(String);

impl RedirectUri {
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        let err = |m: &str| FieldError::new("redirectUris", format!("'{s}' {m}"));
        if s.len() > 2000 {
            return Err(err("is longer than 2000 characters"));
        }
        if s.trim() != s || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(err("contains white space"));
        }
        if s.contains('#') {
            return Err(err("must not contain a fragment ('#')"));
        }
        let url = Url::parse(s).map_err(|_| err("is not an absolute URI"))?;
        match url.scheme() {
            "https" if url.host().is_none() => return Err(err("has no host")),
            "http" if !is_loopback_host(&url) => return Err(err(
                "must use https (http is allowed only for loopback: 127.0.0.1, [::1], localhost)",
            )),
            scheme if FORBIDDEN_SCHEMES.contains(&scheme) => {
                return Err(err(&format!("uses the forbidden scheme '{scheme}:'")));
            }
            _ => {}
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `presented` is this registration. Exact, except that the port of a loopback
    /// `http` redirect may vary (RFC 8252 §7.3: native apps bind an ephemeral port).
    pub fn matches(&self, presented: &str) -> bool {
        if self.0 == presented {
            return true;
        }
        let (Ok(reg), Ok(got)) = (Url::parse(&self.0), Url::parse(presented)) else {
            return false;
        };
        reg.scheme() == "http"
            && got.scheme() == "http"
            && is_loopback_host(&reg)
            && reg.host() == got.host()
            && reg.path() == got.path()
            && reg.query() == got.query()
            && got.fragment().is_none()
            && reg.username() == got.username()
            && got.password().is_none()
            && !presented.contains('#')
            // The raw strings must agree apart from the port, so no normalisation sneaks in.
            && strip_port(&self.0) == strip_port(presented)
    }
}

fn strip_port(s: &str) -> String {
    // scheme://host:port/rest -> scheme://host/rest
    let Some((scheme, rest)) = s.split_once("://") else {
        return s.to_owned();
    };
    let (authority, path) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
    let host = match authority.rfind(':') {
        Some(i) if !authority[i..].contains(']') => &authority[..i],
        _ => authority,
    };
    format!("{scheme}://{host}{path}")
}

/// A CORS origin (RFC 6454): `scheme://host[:port]`, no path, no trailing slash.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct CorsOrigin(String);

impl CorsOrigin {
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        let err = |m: &str| FieldError::new("allowedCorsOrigins", format!("'{s}' {m}"));
        if s.ends_with('/') {
            return Err(err("must not end with a slash"));
        }
        let url = Url::parse(s).map_err(|_| err("is not an origin (scheme://host[:port])"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(err("must use http or https"));
        }
        if url.host().is_none() {
            return Err(err("has no host"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(err("must not contain user information"));
        }
        if url.query().is_some() || url.fragment().is_some() || s.contains('?') || s.contains('#') {
            return Err(err("must not contain a query or fragment"));
        }
        // `Url` adds "/" as the path of a bare origin; anything more is a path.
        if url.path() != "/" {
            return Err(err("must not contain a path"));
        }
        if url.origin().ascii_serialization() != s {
            return Err(err(
                "is not in origin form (lowercase scheme and host, no default port)",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An optional https (or loopback http) URL such as `clientUri` and `logoUri`.
pub fn parse_web_url(s: &str, field: &str) -> Result<String, FieldError> {
    let url = Url::parse(s)
        .map_err(|_| FieldError::new(field, format!("'{s}' is not an absolute URL")))?;
    match url.scheme() {
        "https" => Ok(s.to_owned()),
        "http" if is_loopback_host(&url) => Ok(s.to_owned()),
        _ => Err(FieldError::new(field, format!("'{s}' must use https"))),
    }
}
