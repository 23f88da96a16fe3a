//! What a client publishes at an address of its own, fetched: its public keys at its `jwks_uri`
//! (RFC 7591 §2), which verify its `private_key_jwt` assertions and request objects, and the
//! request objects it passes by reference (`request_uri`, OIDC Core §6.2, RFC 9101 §5.2). The
//! address comes from the client, so the fetch is guarded against server-side request forgery: no redirects, a short timeout, a
//! bounded body, and, unless the operator allows it, no loopback, private, link-local or other
//! internal address, whether the URL names it or a DNS answer does (checked on every
//! connection, so a name that rebinds to an internal address is refused too).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use serde_json::Value;

/// The largest document fetched (a JWK Set or a request object).
pub const MAX_JWKS_BYTES: usize = 64 * 1024;

/// Why a client's document could not be fetched (for the log, and named to the client only as
/// much as the error says: never the address's answer).
#[derive(Debug, thiserror::Error)]
pub enum KeyFetchError {
    #[error("the URL is not an http(s) URL")]
    BadUrl,
    #[error("the URL names an internal address")]
    InternalAddress,
    #[error("the URL could not be fetched: {0}")]
    Http(String),
    #[error("the URL answered HTTP {0}")]
    Status(u16),
    #[error("the URL answered more than {MAX_JWKS_BYTES} bytes")]
    TooLarge,
    #[error("the URL did not answer JSON")]
    NotJson,
    #[error("the URL did not answer a JWT")]
    NotJwt,
}

/// Whether an address is one the internet can route to: not loopback, private (RFC 1918,
/// RFC 4193), link-local (cloud metadata lives there), shared (RFC 6598), unspecified,
/// multicast, broadcast, documentation or benchmarking space; IPv4 mapped into IPv6 counts
/// as the IPv4 address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 198 && (b == 18 || b == 19))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2001 && v6.segments()[1] == 0x0db8)
        }
    }
}

/// Resolves names as the system does, keeping only public addresses.
struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| is_public(a.ip()))
                .collect();
            if found.is_empty() {
                return Err(Box::new(KeyFetchError::InternalAddress)
                    as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(found.into_iter()) as Addrs)
        })
    }
}

/// Fetches clients' JWK Sets.
#[derive(Clone, Debug)]
pub struct KeyFetcher {
    http: reqwest::Client,
    allow_internal: bool,
}

impl KeyFetcher {
    /// `allow_internal`: also fetch from loopback and private addresses (a deployment whose
    /// clients live on its own network, or a test).
    pub fn new(timeout: Duration, allow_internal: bool) -> Result<Self, KeyFetchError> {
        crate::oauth::install_crypto_provider();
        let mut b = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("tessera/", env!("CARGO_PKG_VERSION")));
        if !allow_internal {
            b = b.dns_resolver(Arc::new(PublicOnly));
        }
        let http = b.build().map_err(|e| KeyFetchError::Http(e.to_string()))?;
        Ok(Self {
            http,
            allow_internal,
        })
    }

    /// GETs the JWK Set at `url` as JSON (not yet checked as keys).
    pub async fn fetch(&self, url: &str) -> Result<Value, KeyFetchError> {
        let body = self
            .fetch_body(url, "application/json, application/jwk-set+json")
            .await?;
        serde_json::from_slice(&body).map_err(|_| KeyFetchError::NotJson)
    }

    /// GETs a Client ID Metadata Document (draft-ietf-oauth-client-id-metadata-document) as
    /// JSON, with how long it may be cached (`Cache-Control: max-age`, or `Some(0)` for
    /// `no-store`/`no-cache`; `None` when the answer says nothing).
    pub async fn fetch_client_metadata(
        &self,
        url: &str,
    ) -> Result<(Value, Option<u64>), KeyFetchError> {
        let (body, headers) = self
            .fetch_body_with_headers(url, "application/json")
            .await?;
        let max_age = headers
            .get(reqwest::header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let directives: Vec<String> = v
                    .split(',')
                    .map(|d| d.trim().to_ascii_lowercase())
                    .collect();
                if directives
                    .iter()
                    .any(|d| d == "no-store" || d == "no-cache")
                {
                    return Some(0);
                }
                directives
                    .iter()
                    .find_map(|d| d.strip_prefix("max-age=")?.parse::<u64>().ok())
            });
        let doc = serde_json::from_slice(&body).map_err(|_| KeyFetchError::NotJson)?;
        Ok((doc, max_age))
    }

    /// GETs the request object at `url` (a `request_uri`): a compact JWT, not yet verified.
    /// A fragment (OIDC Core §6.2 lets the client put the object's hash there) is not sent.
    pub async fn fetch_jwt(&self, url: &str) -> Result<String, KeyFetchError> {
        let mut parsed = url::Url::parse(url).map_err(|_| KeyFetchError::BadUrl)?;
        parsed.set_fragment(None);
        let body = self
            .fetch_body(
                parsed.as_str(),
                "application/oauth-authz-req+jwt, application/jwt",
            )
            .await?;
        let text = String::from_utf8(body).map_err(|_| KeyFetchError::NotJwt)?;
        let jwt = text.trim();
        let compact = jwt.split('.').count() == 3
            && jwt
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if !compact {
            return Err(KeyFetchError::NotJwt);
        }
        Ok(jwt.to_owned())
    }

    /// POSTs `form` (urlencoded) to `url` under the same address guard, and answers the
    /// status (a back-channel logout, whose answer body is not read).
    pub async fn post_form(&self, url: &str, form: &[(&str, &str)]) -> Result<u16, KeyFetchError> {
        let parsed = self.checked_url(url)?;
        let res = crate::trace::outbound(self.http.post(parsed).form(form))
            .send()
            .await
            .map_err(|e| send_error(&e))?;
        Ok(res.status().as_u16())
    }

    /// POSTs a JSON `body` with extra `headers` to `url` under the same address guard (a
    /// webhook delivery), and answers the status; the answer's body is not read.
    pub async fn post_json(
        &self,
        url: &str,
        headers: &[(&'static str, String)],
        body: String,
    ) -> Result<u16, KeyFetchError> {
        let parsed = self.checked_url(url)?;
        let mut req = self
            .http
            .post(parsed)
            .header("content-type", "application/json");
        for (name, value) in headers {
            req = req.header(*name, value);
        }
        let res = crate::trace::outbound(req.body(body))
            .send()
            .await
            .map_err(|e| send_error(&e))?;
        Ok(res.status().as_u16())
    }

    /// `url` parsed, if Tessera may call it: http(s), and (unless internal addresses are
    /// allowed) not a literal internal address (names are checked by the resolver).
    fn checked_url(&self, url: &str) -> Result<url::Url, KeyFetchError> {
        let parsed = url::Url::parse(url).map_err(|_| KeyFetchError::BadUrl)?;
        if !matches!(parsed.scheme(), "https" | "http") {
            return Err(KeyFetchError::BadUrl);
        }
        // An address written in the URL never reaches the resolver.
        let literal = match parsed.host() {
            Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
            Some(url::Host::Domain(_)) => None,
            None => return Err(KeyFetchError::BadUrl),
        };
        if !self.allow_internal && literal.is_some_and(|ip| !is_public(ip)) {
            return Err(KeyFetchError::InternalAddress);
        }
        Ok(parsed)
    }

    /// GETs `url`, within the limits, asking for `accept`.
    async fn fetch_body(&self, url: &str, accept: &str) -> Result<Vec<u8>, KeyFetchError> {
        self.fetch_body_with_headers(url, accept)
            .await
            .map(|(body, _)| body)
    }

    /// [`Self::fetch_body`], with the answer's headers.
    async fn fetch_body_with_headers(
        &self,
        url: &str,
        accept: &str,
    ) -> Result<(Vec<u8>, reqwest::header::HeaderMap), KeyFetchError> {
        let parsed = self.checked_url(url)?;
        let res = crate::trace::outbound(self.http.get(parsed).header("accept", accept))
            .send()
            .await
            .map_err(|e| send_error(&e))?;
        if !res.status().is_success() {
            return Err(KeyFetchError::Status(res.status().as_u16()));
        }
        let headers = res.headers().clone();
        if res
            .content_length()
            .is_some_and(|n| n > MAX_JWKS_BYTES as u64)
        {
            return Err(KeyFetchError::TooLarge);
        }
        let mut body = Vec::new();
        let mut res = res;
        while let Some(chunk) = res
            .chunk()
            .await
            .map_err(|e| KeyFetchError::Http(without_url(&e)))?
        {
            if body.len() + chunk.len() > MAX_JWKS_BYTES {
                return Err(KeyFetchError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        Ok((body, headers))
    }
}

/// A failed request: the resolver's refusal of an internal address, found among the causes,
/// or the error without the URL.
fn send_error(e: &reqwest::Error) -> KeyFetchError {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(c) = cause {
        if matches!(
            c.downcast_ref::<KeyFetchError>(),
            Some(KeyFetchError::InternalAddress)
        ) {
            return KeyFetchError::InternalAddress;
        }
        cause = c.source();
    }
    KeyFetchError::Http(without_url(e))
}

fn without_url(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    if let Some(u) = e.url() {
        text = text.replace(u.as_str(), "the URL");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_not_public() {
        for internal in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fc00::1",
            "fd12::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
        ] {
            assert!(!is_public(internal.parse().unwrap()), "{internal}");
        }
        for public in ["93.184.216.34", "1.1.1.1", "2606:4700::1111"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[tokio::test]
    async fn internal_urls_are_refused_before_any_request() {
        let f = KeyFetcher::new(Duration::from_secs(1), false).unwrap();
        for url in [
            "http://127.0.0.1:1/jwks",
            "https://[::1]/jwks",
            "http://169.254.169.254/latest/meta-data",
            "http://localhost:1/jwks",
        ] {
            let e = f.fetch(url).await.unwrap_err();
            assert!(matches!(e, KeyFetchError::InternalAddress), "{url}: {e}");
        }
        assert!(matches!(
            f.fetch("file:///etc/passwd").await.unwrap_err(),
            KeyFetchError::BadUrl
        ));
    }
}
