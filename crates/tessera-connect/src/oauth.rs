//! The HTTP adapter to the streaming platforms: building the authorize URL, exchanging a code,
//! refreshing, revoking, reading the connected channel and (Twitch) validating a token, each
//! in the platform's own wire shape, with every answer sorted into a [`PlatformError`] the
//! service layer can act on (reconnect, fix the credentials, or retry later).
//!
//! Tokens and secrets pass through here but are never logged nor put into an error text: the
//! texts carry the platform's own explanation and nothing the caller sent.

use std::time::Duration;

use base64::Engine as _;
use reqwest::{RequestBuilder, StatusCode};
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::{json, Value};
use tessera_domain::Platform;

use crate::platform::{Pkce, ProviderConfig};

/// The largest answer read from a platform; their token and identity answers are a few KiB.
const MAX_BODY: usize = 1024 * 1024;

/// The longest platform explanation carried into an error text.
const MAX_MESSAGE: usize = 200;

/// An organization's app on one platform (client id and secret).
#[derive(Clone)]
pub struct AppCredentials {
    pub client_id: String,
    pub client_secret: SecretString,
}

impl std::fmt::Debug for AppCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppCredentials")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .finish()
    }
}

/// What a code exchange or a refresh returned.
pub struct TokenSet {
    pub access_token: SecretString,
    /// Absent when the platform kept the previous one (YouTube on a refresh).
    pub refresh_token: Option<SecretString>,
    /// Seconds until the access token expires, when the platform said.
    pub expires_in: Option<i64>,
    /// The scopes granted, when the platform said.
    pub scopes: Option<Vec<String>>,
}

impl std::fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSet")
            .field("access_token", &"[redacted]")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[redacted]"),
            )
            .field("expires_in", &self.expires_in)
            .field("scopes", &self.scopes)
            .finish()
    }
}

/// The channel a token speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub channel_id: String,
    pub channel_name: String,
}

/// Why a platform call failed, sorted by what the caller should do about it.
#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    /// The code or refresh token was refused (invalid, expired, revoked): connect again.
    #[error("{0}")]
    InvalidGrant(String),
    /// The app credentials were refused: fix the client id or secret.
    #[error("{0}")]
    InvalidClient(String),
    /// The platform asked us to slow down (HTTP 429).
    #[error("the platform is rate limiting Tessera; try again in a minute")]
    RateLimited,
    /// The platform could not be reached or failed (network error, timeout, 5xx).
    #[error("{0}")]
    Unavailable(String),
    /// Any other refusal, or an answer Tessera could not read.
    #[error("{0}")]
    Rejected(String),
}

impl PlatformError {
    /// Whether trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::RateLimited | Self::Unavailable(_))
    }
}

/// The answer of a token validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validation {
    Valid { expires_in: Option<i64> },
    Invalid,
}

/// The S256 PKCE challenge of a verifier: base64url without padding of its SHA-256.
pub fn pkce_challenge(verifier: &str) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(d.as_ref())
}

/// Which call an answer belongs to; decides how a refusal is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Code,
    Refresh,
    Revoke,
    Identity,
    Validate,
}

impl Op {
    fn what(self) -> &'static str {
        match self {
            Op::Code => "the authorization code",
            Op::Refresh => "the token refresh",
            Op::Revoke => "the token revocation",
            Op::Identity => "the channel lookup",
            Op::Validate => "the token validation",
        }
    }
}

/// A platform's answer: its status and its body as JSON (`Null` when it was not JSON).
struct Answer {
    status: StatusCode,
    body: Value,
}

/// The client for all four platforms; cheap to clone (one connection pool).
#[derive(Clone)]
pub struct PlatformClient {
    /// `None` only if no HTTP client could be built at all; every call then fails as
    /// unavailable instead of the process panicking.
    http: Option<reqwest::Client>,
}

impl std::fmt::Debug for PlatformClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlatformClient").finish_non_exhaustive()
    }
}

/// Installs aws-lc-rs as the process's TLS crypto provider. reqwest's rustls backend is built
/// without a provider and panics ("No provider set") when a client is built before one is
/// installed; a second install is harmless.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

impl PlatformClient {
    /// A client whose every call gives up after `timeout`.
    pub fn new(timeout: Duration) -> Self {
        install_crypto_provider();
        let full = reqwest::Client::builder()
            .user_agent(concat!("tessera/", env!("CARGO_PKG_VERSION")))
            // A platform's redirect is an answer to report, not a place to send tokens to.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(timeout)
            .build();
        let http = match full {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::error!(error = %e, "could not build the platform HTTP client; retrying with plain settings");
                reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .timeout(timeout)
                    .build()
                    .map_err(|e| {
                        tracing::error!(error = %e, "could not build any platform HTTP client; platform calls will fail");
                    })
                    .ok()
            }
        };
        Self { http }
    }

    /// Where to send the user to authorize the app. `code_challenge` is used only where the
    /// platform takes PKCE (`cfg.pkce` is not `No`).
    pub fn authorize_url(
        cfg: &ProviderConfig,
        client_id: &str,
        redirect_uri: &str,
        state: &str,
        code_challenge: Option<&str>,
    ) -> String {
        let scope = cfg.scopes.join(" ");
        let mut params: Vec<(&str, &str)> = vec![
            ("client_id", client_id),
            ("redirect_uri", redirect_uri),
            ("response_type", "code"),
            ("scope", &scope),
            ("state", state),
        ];
        if let Some(c) = code_challenge.filter(|_| cfg.pkce != Pkce::No) {
            params.push(("code_challenge", c));
            params.push(("code_challenge_method", "S256"));
        }
        if cfg.platform == Platform::Youtube {
            // Without offline access and a forced consent Google issues no refresh token (or
            // only on the very first consent).
            params.push(("access_type", "offline"));
            params.push(("prompt", "consent"));
            params.push(("include_granted_scopes", "true"));
        }
        match url::Url::parse(&cfg.authorize_url) {
            Ok(mut u) => {
                u.query_pairs_mut().extend_pairs(params);
                u.into()
            }
            // The URLs are checked at start-up; should one still not parse, append the query
            // as text so the caller gets the configured address back rather than nothing.
            Err(_) => {
                let q = url::form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(params)
                    .finish();
                let sep = if cfg.authorize_url.contains('?') {
                    '&'
                } else {
                    '?'
                };
                format!("{}{sep}{q}", cfg.authorize_url)
            }
        }
    }

    /// Exchanges an authorization code for tokens.
    pub async fn exchange_code(
        &self,
        cfg: &ProviderConfig,
        creds: &AppCredentials,
        code: &str,
        redirect_uri: &str,
        code_verifier: Option<&str>,
    ) -> Result<TokenSet, PlatformError> {
        let http = self.http(cfg.platform)?;
        let req = match cfg.platform {
            Platform::Trovo => trovo_post(http, &cfg.token_url, creds).json(&json!({
                "client_secret": creds.client_secret.expose_secret(),
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
            })),
            Platform::Twitch | Platform::Youtube | Platform::Kick => {
                let mut form = vec![
                    ("client_id", creds.client_id.as_str()),
                    ("client_secret", creds.client_secret.expose_secret()),
                    ("code", code),
                    ("grant_type", "authorization_code"),
                    ("redirect_uri", redirect_uri),
                ];
                if let Some(v) = code_verifier.filter(|_| cfg.pkce != Pkce::No) {
                    form.push(("code_verifier", v));
                }
                http.post(&cfg.token_url)
                    .header(reqwest::header::ACCEPT, "application/json")
                    .form(&form)
            }
        };
        let a = send(cfg.platform, req).await?;
        token_answer(cfg.platform, Op::Code, &a)
    }

    /// Exchanges a refresh token for a new access token (and, where the platform rotates
    /// them, a new refresh token: the old one then stops working).
    pub async fn refresh(
        &self,
        cfg: &ProviderConfig,
        creds: &AppCredentials,
        refresh_token: &str,
    ) -> Result<TokenSet, PlatformError> {
        let http = self.http(cfg.platform)?;
        let req = match cfg.platform {
            Platform::Trovo => trovo_post(http, &cfg.refresh_url, creds).json(&json!({
                "client_secret": creds.client_secret.expose_secret(),
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
            })),
            Platform::Twitch | Platform::Youtube | Platform::Kick => http
                .post(&cfg.refresh_url)
                .header(reqwest::header::ACCEPT, "application/json")
                .form(&[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", refresh_token),
                    ("client_id", creds.client_id.as_str()),
                    ("client_secret", creds.client_secret.expose_secret()),
                ]),
        };
        let a = send(cfg.platform, req).await?;
        token_answer(cfg.platform, Op::Refresh, &a)
    }

    /// Revokes a token. Without a revocation endpoint there is nothing to call. A token the
    /// platform says is already invalid counts as revoked: it can no longer be used either way.
    pub async fn revoke(
        &self,
        cfg: &ProviderConfig,
        creds: &AppCredentials,
        token: &str,
    ) -> Result<(), PlatformError> {
        let Some(revoke_url) = &cfg.revoke_url else {
            return Ok(());
        };
        let http = self.http(cfg.platform)?;
        let req = match cfg.platform {
            Platform::Twitch => http
                .post(revoke_url)
                .form(&[("client_id", creds.client_id.as_str()), ("token", token)]),
            Platform::Youtube => http.post(revoke_url).form(&[("token", token)]),
            Platform::Kick => {
                // Kick takes the token in the query string of a POST.
                let url = with_query(
                    revoke_url,
                    &[("token", token), ("token_hint_type", "access_token")],
                );
                http.post(url)
                    .header(
                        reqwest::header::CONTENT_TYPE,
                        "application/x-www-form-urlencoded",
                    )
                    .body("")
            }
            Platform::Trovo => {
                trovo_post(http, revoke_url, creds).json(&json!({ "access_token": token }))
            }
        };
        let a = send(cfg.platform, req).await?;
        if a.status.is_success() || already_invalid(&a) {
            return Ok(());
        }
        Err(classify(cfg.platform, Op::Revoke, &a))
    }

    /// The channel an access token speaks for.
    pub async fn identity(
        &self,
        cfg: &ProviderConfig,
        creds: &AppCredentials,
        access_token: &str,
    ) -> Result<Identity, PlatformError> {
        let http = self.http(cfg.platform)?;
        let api = cfg.api_url.trim_end_matches('/');
        let req = match cfg.platform {
            Platform::Twitch => http
                .get(format!("{api}/users"))
                .bearer_auth(access_token)
                .header("Client-Id", &creds.client_id),
            Platform::Youtube => http
                .get(format!("{api}/channels"))
                .query(&[("part", "snippet"), ("mine", "true")])
                .bearer_auth(access_token),
            Platform::Kick => http
                .get(format!("{api}/channels"))
                .bearer_auth(access_token),
            Platform::Trovo => http
                .get(format!("{api}/getuserinfo"))
                .header(reqwest::header::ACCEPT, "application/json")
                .header("Client-ID", &creds.client_id)
                .header(
                    reqwest::header::AUTHORIZATION,
                    format!("OAuth {access_token}"),
                ),
        };
        let a = send(cfg.platform, req).await?;
        if !a.status.is_success() {
            return Err(classify(cfg.platform, Op::Identity, &a));
        }
        read_identity(cfg.platform, &a.body)
    }

    /// Checks an access token (Twitch requires apps to do so hourly). Without a validation
    /// endpoint the token is taken as valid.
    pub async fn validate(
        &self,
        cfg: &ProviderConfig,
        access_token: &str,
    ) -> Result<Validation, PlatformError> {
        let Some(validate_url) = &cfg.validate_url else {
            return Ok(Validation::Valid { expires_in: None });
        };
        let http = self.http(cfg.platform)?;
        let req = http.get(validate_url).header(
            reqwest::header::AUTHORIZATION,
            format!("OAuth {access_token}"),
        );
        let a = send(cfg.platform, req).await?;
        if a.status.is_success() {
            return Ok(Validation::Valid {
                expires_in: a.body.get("expires_in").and_then(as_i64),
            });
        }
        if a.status == StatusCode::UNAUTHORIZED {
            return Ok(Validation::Invalid);
        }
        Err(classify(cfg.platform, Op::Validate, &a))
    }

    fn http(&self, p: Platform) -> Result<&reqwest::Client, PlatformError> {
        self.http.as_ref().ok_or_else(|| {
            PlatformError::Unavailable(format!(
                "Tessera could not set up its HTTP client to call {}; see the server log",
                p.display_name()
            ))
        })
    }
}

/// A POST to Trovo's open platform, which names the app in a `Client-ID` header.
fn trovo_post(http: &reqwest::Client, url: &str, creds: &AppCredentials) -> RequestBuilder {
    http.post(url)
        .header(reqwest::header::ACCEPT, "application/json")
        .header("Client-ID", &creds.client_id)
}

/// `base` with `pairs` added to its query (kept as text if `base` does not parse).
fn with_query(base: &str, pairs: &[(&str, &str)]) -> String {
    match url::Url::parse(base) {
        Ok(mut u) => {
            u.query_pairs_mut().extend_pairs(pairs);
            u.into()
        }
        Err(_) => {
            let q = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(pairs)
                .finish();
            let sep = if base.contains('?') { '&' } else { '?' };
            format!("{base}{sep}{q}")
        }
    }
}

/// Sends a request and reads the answer, turning network failures into `Unavailable`.
async fn send(p: Platform, req: RequestBuilder) -> Result<Answer, PlatformError> {
    let name = p.display_name();
    let mut resp = req.send().await.map_err(|e| unreachable_error(p, &e))?;
    let status = resp.status();
    let mut bytes = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(c)) => {
                if bytes.len() + c.len() > MAX_BODY {
                    return Err(PlatformError::Rejected(format!(
                        "{name} answered with more than {MAX_BODY} bytes (HTTP {})",
                        status.as_u16()
                    )));
                }
                bytes.extend_from_slice(&c);
            }
            Ok(None) => break,
            Err(e) => return Err(unreachable_error(p, &e)),
        }
    }
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Ok(Answer { status, body })
}

/// A transport failure as a readable text. reqwest's own text names the URL, which can carry
/// a token (Kick's revocation), so only the underlying causes are shown.
fn unreachable_error(p: Platform, e: &reqwest::Error) -> PlatformError {
    let name = p.display_name();
    if e.is_timeout() {
        return PlatformError::Unavailable(format!("{name} did not answer in time"));
    }
    let mut cause = None;
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        cause = Some(s.to_string());
        src = s.source();
    }
    let kind = if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "the answer broke off"
    } else {
        "the request failed"
    };
    PlatformError::Unavailable(match cause {
        Some(c) => format!("{name} did not answer: {kind} ({c})"),
        None => format!("{name} did not answer: {kind}"),
    })
}

/// A token endpoint's answer as tokens, or the refusal sorted.
fn token_answer(p: Platform, op: Op, a: &Answer) -> Result<TokenSet, PlatformError> {
    if !a.status.is_success() {
        return Err(classify(p, op, a));
    }
    let name = p.display_name();
    let text = |k: &str| {
        a.body
            .get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let Some(access) = text("access_token") else {
        return Err(PlatformError::Rejected(match platform_message(&a.body) {
            Some(m) => format!("{name} answered {} without an access token: {m}", op.what()),
            None => format!("{name} answered {} without an access token", op.what()),
        }));
    };
    let scopes = match a.body.get("scope") {
        // Twitch sends an array, the others a space-separated string (RFC 6749).
        Some(Value::Array(v)) => Some(
            v.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
        ),
        Some(Value::String(s)) => Some(s.split_whitespace().map(str::to_owned).collect()),
        _ => None,
    };
    Ok(TokenSet {
        access_token: SecretString::from(access.to_owned()),
        refresh_token: text("refresh_token").map(|r| SecretString::from(r.to_owned())),
        expires_in: a.body.get("expires_in").and_then(as_i64),
        scopes,
    })
}

/// A number, or a string holding one (some platforms send `"3600"`).
fn as_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n
            .as_i64()
            // Truncation is intended: a fractional second count is still a second count.
            .or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Whether a revocation was refused only because the token is already unusable
/// (RFC 7009's `invalid_token`, Twitch's and Trovo's "Invalid token").
fn already_invalid(a: &Answer) -> bool {
    if a.status != StatusCode::BAD_REQUEST {
        return false;
    }
    let error = a.body.get("error").and_then(Value::as_str).unwrap_or("");
    let message = a.body.get("message").and_then(Value::as_str).unwrap_or("");
    [error, message]
        .iter()
        .any(|s| s.eq_ignore_ascii_case("invalid_token") || s.eq_ignore_ascii_case("invalid token"))
}

/// The platform's own explanation: OAuth's `error_description`, Twitch's and Trovo's
/// `message`, Google APIs' `error.message`, or a bare `error` code. Shortened and stripped of
/// control characters so it reads as one line.
fn platform_message(body: &Value) -> Option<String> {
    let m = nonempty(body.get("error_description"))
        .or_else(|| nonempty(body.get("message")))
        .or_else(|| nonempty(body.get("error").and_then(|e| e.get("message"))))
        .or_else(|| nonempty(body.get("error")))?;
    // Without its final full stop it can be followed by "; what to do".
    Some(
        m.trim_end_matches('.')
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .take(MAX_MESSAGE)
            .collect(),
    )
}

fn nonempty(v: Option<&Value>) -> Option<&str> {
    v.and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// Sorts a refusal (any non-2xx answer).
fn classify(p: Platform, op: Op, a: &Answer) -> PlatformError {
    let name = p.display_name();
    let code = a.status.as_u16();
    let said = platform_message(&a.body);
    let suffix = said
        .as_deref()
        .map(|m| format!(": {m}"))
        .unwrap_or_default();
    if a.status == StatusCode::TOO_MANY_REQUESTS {
        return PlatformError::RateLimited;
    }
    if a.status.is_server_error() {
        let reason = a.status.canonical_reason().unwrap_or("Server Error");
        // A body that only repeats the status line adds nothing.
        let suffix = if said.as_deref() == Some(reason) {
            ""
        } else {
            &suffix
        };
        return PlatformError::Unavailable(format!(
            "{name} answered {code} {reason}{suffix}; try again later"
        ));
    }
    let grant_refused = || {
        PlatformError::InvalidGrant(match op {
            Op::Refresh => format!(
                "{name} no longer accepts the refresh token{suffix}; connect the platform again"
            ),
            _ => format!("{name} refused {}{suffix}; try connecting again", op.what()),
        })
    };
    let client_refused = || {
        PlatformError::InvalidClient(format!(
            "{name} refused the app credentials{suffix}; check the client ID and secret"
        ))
    };
    // OAuth error codes (RFC 6749 §5.2): Google, Kick.
    match a.body.get("error").and_then(Value::as_str) {
        Some("invalid_grant") => return grant_refused(),
        Some("invalid_client" | "unauthorized_client") => return client_refused(),
        _ => {}
    }
    let token_call = matches!(op, Op::Code | Op::Refresh);
    if token_call && matches!(code, 400 | 401 | 403) {
        // Twitch and Trovo say what they refuse in prose rather than with an OAuth code.
        let prose = [body_str(&a.body, "message"), body_str(&a.body, "error")]
            .join(" ")
            .to_ascii_lowercase();
        let prose_platform = matches!(p, Platform::Twitch | Platform::Trovo);
        if prose_platform && (prose.contains("client") || prose.contains("secret")) {
            return client_refused();
        }
        let grant = match p {
            Platform::Trovo => true,
            Platform::Twitch => op == Op::Refresh || prose.contains("code"),
            Platform::Youtube | Platform::Kick => false,
        };
        // On a refresh, a plain 400/401 is the refresh token being refused.
        if grant || (op == Op::Refresh && code != 403) {
            return grant_refused();
        }
    }
    tracing::debug!(platform = %p, status = code, call = op.what(), "platform refused a call");
    PlatformError::Rejected(format!(
        "{name} refused {} (HTTP {code}){suffix}",
        op.what()
    ))
}

fn body_str<'a>(body: &'a Value, k: &str) -> &'a str {
    body.get(k).and_then(Value::as_str).unwrap_or("")
}

/// The channel out of an identity answer, in the platform's shape.
fn read_identity(p: Platform, body: &Value) -> Result<Identity, PlatformError> {
    let name = p.display_name();
    let unreadable = || {
        PlatformError::Rejected(format!(
            "{name} answered the channel lookup without a channel"
        ))
    };
    let text = |v: Option<&Value>| match v {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let (id, channel_name) = match p {
        Platform::Twitch => {
            let u = body
                .get("data")
                .and_then(|d| d.get(0))
                .ok_or_else(unreadable)?;
            (
                text(u.get("id")),
                text(u.get("display_name")).or_else(|| text(u.get("login"))),
            )
        }
        Platform::Youtube => {
            let Some(c) = body.get("items").and_then(|d| d.get(0)) else {
                return Err(PlatformError::Rejected(
                    "this Google account has no YouTube channel; create one on YouTube, then \
                     connect again"
                        .to_owned(),
                ));
            };
            (
                text(c.get("id")),
                text(c.get("snippet").and_then(|s| s.get("title"))),
            )
        }
        Platform::Kick => {
            let c = body
                .get("data")
                .and_then(|d| d.get(0))
                .ok_or_else(unreadable)?;
            (text(c.get("broadcaster_user_id")), text(c.get("slug")))
        }
        Platform::Trovo => (
            text(body.get("channelId")),
            text(body.get("nickName")).or_else(|| text(body.get("userName"))),
        ),
    };
    let channel_id = id.ok_or_else(unreadable)?;
    Ok(Identity {
        // A channel without a readable name is still the channel; its id stands in.
        channel_name: channel_name.unwrap_or_else(|| channel_id.clone()),
        channel_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fakes::platforms::{FailMode, FakePlatforms};
    use crate::Providers;

    const REDIRECT: &str = "http://127.0.0.1:9/callback";
    /// RFC 7636 appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

    fn creds(p: Platform) -> AppCredentials {
        AppCredentials {
            client_id: format!("{p}-client"),
            client_secret: SecretString::from(format!("{p}-secret")),
        }
    }

    async fn setup() -> (FakePlatforms, PlatformClient) {
        let client = PlatformClient::new(Duration::from_secs(5));
        let fake = FakePlatforms::start().await;
        for p in Platform::ALL {
            let c = creds(p);
            fake.register_app(p, &c.client_id, c.client_secret.expose_secret());
        }
        (fake, client)
    }

    fn verifier(cfg: &ProviderConfig) -> Option<&'static str> {
        (cfg.pkce != Pkce::No).then_some(VERIFIER)
    }

    /// Follows the authorize URL as a browser would (the user consents) and returns where
    /// the platform sent the user back.
    async fn authorize_redirect(cfg: &ProviderConfig, c: &AppCredentials) -> url::Url {
        let challenge = pkce_challenge(VERIFIER);
        let url =
            PlatformClient::authorize_url(cfg, &c.client_id, REDIRECT, "st-1", Some(&challenge));
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let r = http.get(url).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FOUND, "{}", cfg.platform);
        let loc = r.headers()[reqwest::header::LOCATION].to_str().unwrap();
        let loc = url::Url::parse(loc).unwrap();
        assert!(loc.as_str().starts_with(REDIRECT));
        loc
    }

    fn query(u: &url::Url, k: &str) -> Option<String> {
        u.query_pairs()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.into_owned())
    }

    async fn code_for(cfg: &ProviderConfig, c: &AppCredentials) -> String {
        let back = authorize_redirect(cfg, c).await;
        assert_eq!(query(&back, "state").as_deref(), Some("st-1"));
        query(&back, "code").unwrap()
    }

    fn secret(s: &SecretString) -> String {
        s.expose_secret().to_owned()
    }

    async fn full_flow(p: Platform) {
        let (fake, client) = setup().await;
        let providers = fake.providers();
        let cfg = providers.get(p);
        let c = creds(p);
        let code = code_for(cfg, &c).await;
        let t = client
            .exchange_code(cfg, &c, &code, REDIRECT, verifier(cfg))
            .await
            .unwrap();
        let at = secret(&t.access_token);
        assert!(at.starts_with(&format!("at-{p}-")), "{at}");
        let rt = secret(t.refresh_token.as_ref().unwrap());
        assert!(rt.starts_with(&format!("rt-{p}-")), "{rt}");
        assert_eq!(t.expires_in, Some(14400));
        let expected_scopes = (p != Platform::Trovo).then(|| cfg.scopes.clone());
        assert_eq!(t.scopes, expected_scopes, "{p}");
        assert_eq!(fake.token_calls(p, "authorization_code"), 1);

        // A code is single-use.
        let again = client
            .exchange_code(cfg, &c, &code, REDIRECT, verifier(cfg))
            .await
            .unwrap_err();
        assert!(
            matches!(again, PlatformError::InvalidGrant(_)),
            "{p}: {again:?}"
        );

        let (id, name) = match p {
            Platform::Twitch => ("1001", "TwitchStreamer"),
            Platform::Youtube => ("UCfakeYouTubeChannel1002", "YouTubeStreamer"),
            Platform::Kick => ("1003", "kickstreamer"),
            Platform::Trovo => ("1004", "TrovoStreamer"),
        };
        let who = client.identity(cfg, &c, &at).await.unwrap();
        assert_eq!(
            who,
            Identity {
                channel_id: id.into(),
                channel_name: name.into()
            }
        );
        let v = client.validate(cfg, &at).await.unwrap();
        let expected = (p == Platform::Twitch).then_some(14400);
        assert_eq!(
            v,
            Validation::Valid {
                expires_in: expected
            }
        );

        let r = client.refresh(cfg, &c, &rt).await.unwrap();
        let at2 = secret(&r.access_token);
        assert_ne!(at2, at);
        assert_eq!(fake.token_calls(p, "refresh_token"), 1);
        if p == Platform::Youtube {
            // Google keeps the refresh token and leaves it out of the answer.
            assert!(r.refresh_token.is_none());
            assert_eq!(fake.current_refresh_token(p).as_deref(), Some(rt.as_str()));
            client.refresh(cfg, &c, &rt).await.unwrap();
        } else {
            let rt2 = secret(r.refresh_token.as_ref().unwrap());
            assert_ne!(rt2, rt);
            assert_eq!(fake.current_refresh_token(p), Some(rt2));
            let old = client.refresh(cfg, &c, &rt).await.unwrap_err();
            assert!(
                matches!(old, PlatformError::InvalidGrant(_)),
                "{p}: {old:?}"
            );
            assert!(!old.to_string().contains(&rt), "no token in error texts");
        }

        client.revoke(cfg, &c, &at2).await.unwrap();
        assert_eq!(fake.revoked(p), vec![at2.clone()]);
        assert!(!fake.is_access_token_valid(p, &at2));
        let gone = client.identity(cfg, &c, &at2).await.unwrap_err();
        assert!(matches!(gone, PlatformError::Rejected(_)), "{p}: {gone:?}");
        if p == Platform::Twitch {
            assert_eq!(
                client.validate(cfg, &at2).await.unwrap(),
                Validation::Invalid
            );
        }
        // Revoking what is already revoked is done, not an error.
        client.revoke(cfg, &c, &at2).await.unwrap();
        assert_eq!(fake.revoked(p).len(), 1);
    }

    #[tokio::test]
    async fn twitch_full_flow() {
        full_flow(Platform::Twitch).await;
    }

    #[tokio::test]
    async fn youtube_full_flow() {
        full_flow(Platform::Youtube).await;
    }

    #[tokio::test]
    async fn kick_full_flow() {
        full_flow(Platform::Kick).await;
    }

    #[tokio::test]
    async fn trovo_full_flow() {
        full_flow(Platform::Trovo).await;
    }

    #[test]
    fn pkce_challenge_matches_rfc_7636_appendix_b() {
        assert_eq!(
            pkce_challenge(VERIFIER),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn authorize_url_carries_pkce_and_offline_access_where_they_belong() {
        let providers = Providers::default();
        for p in Platform::ALL {
            let cfg = providers.get(p);
            let u = PlatformClient::authorize_url(cfg, "cid", REDIRECT, "s t", Some("chal"));
            let u = url::Url::parse(&u).unwrap();
            assert!(u.as_str().starts_with(&cfg.authorize_url));
            assert_eq!(query(&u, "client_id").as_deref(), Some("cid"));
            assert_eq!(query(&u, "redirect_uri").as_deref(), Some(REDIRECT));
            assert_eq!(query(&u, "response_type").as_deref(), Some("code"));
            assert_eq!(query(&u, "state").as_deref(), Some("s t"));
            assert_eq!(query(&u, "scope"), Some(cfg.scopes.join(" ")));
            let pkce = matches!(p, Platform::Youtube | Platform::Kick);
            assert_eq!(query(&u, "code_challenge").is_some(), pkce, "{p}");
            assert_eq!(
                query(&u, "code_challenge_method").as_deref(),
                pkce.then_some("S256")
            );
            let google = p == Platform::Youtube;
            assert_eq!(
                query(&u, "access_type").as_deref(),
                google.then_some("offline")
            );
            assert_eq!(query(&u, "prompt").as_deref(), google.then_some("consent"));
        }
        // Space in the scope is form-encoded; a query already in the configured URL stays.
        let mut cfg = providers.get(Platform::Twitch).clone();
        cfg.authorize_url = "https://id.example/authorize?tenant=a".into();
        cfg.scopes = vec!["chat:read".into(), "chat:edit".into()];
        let u = PlatformClient::authorize_url(&cfg, "cid", REDIRECT, "s", None);
        assert!(
            u.starts_with("https://id.example/authorize?tenant=a&client_id=cid&"),
            "{u}"
        );
        assert!(u.contains("scope=chat%3Aread+chat%3Aedit"), "{u}");
    }

    #[tokio::test]
    async fn the_fake_authorize_endpoint_checks_and_denies() {
        let (fake, _client) = setup().await;
        let providers = fake.providers();
        let cfg = providers.get(Platform::Kick);
        let c = creds(Platform::Kick);
        fake.deny_next_authorize(Platform::Kick);
        let back = authorize_redirect(cfg, &c).await;
        assert_eq!(query(&back, "error").as_deref(), Some("access_denied"));
        assert_eq!(query(&back, "state").as_deref(), Some("st-1"));
        assert_eq!(query(&back, "code"), None);
        let seen = fake.last_authorize_query(Platform::Kick).unwrap();
        assert!(seen.iter().any(|(k, _)| k == "code_challenge"));

        // Kick without a challenge, or an unknown client: a page, no redirect.
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let no_pkce = PlatformClient::authorize_url(cfg, &c.client_id, REDIRECT, "s", None);
        assert_eq!(http.get(no_pkce).send().await.unwrap().status(), 400);
        let stranger = PlatformClient::authorize_url(cfg, "nobody", REDIRECT, "s", Some("x"));
        assert_eq!(http.get(stranger).send().await.unwrap().status(), 400);
    }

    #[tokio::test]
    async fn a_wrong_pkce_verifier_is_an_invalid_grant() {
        let (fake, client) = setup().await;
        let providers = fake.providers();
        for p in [Platform::Youtube, Platform::Kick] {
            let cfg = providers.get(p);
            let c = creds(p);
            let code = code_for(cfg, &c).await;
            let e = client
                .exchange_code(cfg, &c, &code, REDIRECT, Some("not-the-verifier"))
                .await
                .unwrap_err();
            assert!(matches!(e, PlatformError::InvalidGrant(_)), "{p}: {e:?}");
        }
    }

    #[tokio::test]
    async fn failures_are_sorted_the_same_on_every_platform() {
        let (fake, client) = setup().await;
        let providers = fake.providers();
        for p in Platform::ALL {
            let cfg = providers.get(p);
            let c = creds(p);
            let code = code_for(cfg, &c).await;
            let t = client
                .exchange_code(cfg, &c, &code, REDIRECT, verifier(cfg))
                .await
                .unwrap();
            let rt = secret(t.refresh_token.as_ref().unwrap());

            fake.fail_next(p, FailMode::InvalidGrant, 2);
            let e = client
                .exchange_code(cfg, &c, "code-x", REDIRECT, verifier(cfg))
                .await
                .unwrap_err();
            assert!(matches!(e, PlatformError::InvalidGrant(_)), "{p}: {e:?}");
            assert!(!e.is_transient());
            let e = client.refresh(cfg, &c, &rt).await.unwrap_err();
            assert!(matches!(e, PlatformError::InvalidGrant(_)), "{p}: {e:?}");
            assert!(e.to_string().contains(p.display_name()), "{e}");

            fake.fail_next(p, FailMode::ServerError, 1);
            let e = client.refresh(cfg, &c, &rt).await.unwrap_err();
            assert!(matches!(e, PlatformError::Unavailable(_)), "{p}: {e:?}");
            assert!(e.is_transient());
            assert!(e.to_string().contains("500"), "{e}");

            fake.fail_next(p, FailMode::RateLimited, 1);
            let e = client.refresh(cfg, &c, &rt).await.unwrap_err();
            assert!(matches!(e, PlatformError::RateLimited), "{p}: {e:?}");
            assert!(e.is_transient());

            // The failures spent, the refresh token still works.
            client.refresh(cfg, &c, &rt).await.unwrap();
            assert_eq!(fake.token_calls(p, "refresh_token"), 4);
            assert_eq!(fake.token_calls(p, "authorization_code"), 2);

            let unknown = client.refresh(cfg, &c, "rt-unknown").await.unwrap_err();
            assert!(
                matches!(unknown, PlatformError::InvalidGrant(_)),
                "{p}: {unknown:?}"
            );

            let wrong = AppCredentials {
                client_id: c.client_id.clone(),
                client_secret: SecretString::from("wrong".to_owned()),
            };
            let e = client.refresh(cfg, &wrong, "rt-any").await.unwrap_err();
            assert!(matches!(e, PlatformError::InvalidClient(_)), "{p}: {e:?}");
            assert!(!e.to_string().contains("wrong"), "no secret in error texts");
            let code = code_for(cfg, &c).await;
            let e = client
                .exchange_code(cfg, &wrong, &code, REDIRECT, verifier(cfg))
                .await
                .unwrap_err();
            assert!(matches!(e, PlatformError::InvalidClient(_)), "{p}: {e:?}");
        }
    }

    #[tokio::test]
    async fn revoked_grants_are_invalid_grants() {
        let (fake, client) = setup().await;
        let providers = fake.providers();
        for p in Platform::ALL {
            let cfg = providers.get(p);
            let c = creds(p);
            let code = code_for(cfg, &c).await;
            let t = client
                .exchange_code(cfg, &c, &code, REDIRECT, verifier(cfg))
                .await
                .unwrap();
            fake.invalidate_grants(p);
            let rt = secret(t.refresh_token.as_ref().unwrap());
            let e = client.refresh(cfg, &c, &rt).await.unwrap_err();
            assert!(matches!(e, PlatformError::InvalidGrant(_)), "{p}: {e:?}");
            assert_eq!(fake.current_refresh_token(p), None);
        }
        let cfg = providers.get(Platform::Twitch);
        assert_eq!(
            client.validate(cfg, "at-twitch-1").await.unwrap(),
            Validation::Invalid
        );
    }

    #[tokio::test]
    async fn a_closed_port_is_unavailable_and_the_text_carries_no_token() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        drop(listener);
        let providers = Providers::all_at(&base);
        let client = PlatformClient::new(Duration::from_secs(5));
        for p in Platform::ALL {
            let cfg = providers.get(p);
            let c = creds(p);
            let e = client
                .refresh(cfg, &c, "rt-secret-value")
                .await
                .unwrap_err();
            assert!(matches!(e, PlatformError::Unavailable(_)), "{p}: {e:?}");
            assert!(e.is_transient());
            assert!(e.to_string().starts_with(p.display_name()), "{e}");
            let e = client.revoke(cfg, &c, "at-secret-value").await.unwrap_err();
            assert!(matches!(e, PlatformError::Unavailable(_)), "{p}: {e:?}");
            assert!(!e.to_string().contains("secret-value"), "{e}");
        }
    }

    #[tokio::test]
    async fn a_slow_platform_times_out_as_unavailable() {
        let (fake, _) = setup().await;
        let client = PlatformClient::new(Duration::from_millis(30));
        fake.set_token_delay(Platform::Twitch, Duration::from_secs(5));
        let providers = fake.providers();
        let cfg = providers.get(Platform::Twitch);
        let e = client
            .refresh(cfg, &creds(Platform::Twitch), "rt-x")
            .await
            .unwrap_err();
        assert!(matches!(e, PlatformError::Unavailable(_)), "{e:?}");
        assert!(e.to_string().contains("in time"), "{e}");
    }

    #[tokio::test]
    async fn a_google_account_without_a_channel_is_rejected() {
        let (fake, client) = setup().await;
        let providers = fake.providers();
        let cfg = providers.get(Platform::Youtube);
        let c = creds(Platform::Youtube);
        fake.set_identity(Platform::Youtube, "", "");
        fake.set_expires_in(Platform::Youtube, 3599);
        let code = code_for(cfg, &c).await;
        let t = client
            .exchange_code(cfg, &c, &code, REDIRECT, verifier(cfg))
            .await
            .unwrap();
        assert_eq!(t.expires_in, Some(3599));
        let e = client
            .identity(cfg, &c, &secret(&t.access_token))
            .await
            .unwrap_err();
        assert!(e.to_string().contains("has no YouTube channel"), "{e}");
    }

    #[tokio::test]
    async fn no_endpoint_means_no_call() {
        let client = PlatformClient::new(Duration::from_secs(1));
        let mut cfg = Providers::all_at("http://127.0.0.1:9")
            .get(Platform::Twitch)
            .clone();
        cfg.revoke_url = None;
        cfg.validate_url = None;
        let c = creds(Platform::Twitch);
        client.revoke(&cfg, &c, "t").await.unwrap();
        assert_eq!(
            client.validate(&cfg, "t").await.unwrap(),
            Validation::Valid { expires_in: None }
        );
    }

    #[test]
    fn token_answers_accept_numeric_strings_and_missing_tokens_are_rejected() {
        let a = Answer {
            status: StatusCode::OK,
            body: json!({"access_token": "a", "expires_in": "3600", "scope": "x y"}),
        };
        let t = token_answer(Platform::Kick, Op::Refresh, &a).unwrap();
        assert_eq!(t.expires_in, Some(3600));
        assert_eq!(t.scopes, Some(vec!["x".to_owned(), "y".to_owned()]));
        assert!(t.refresh_token.is_none());
        let a = Answer {
            status: StatusCode::OK,
            body: json!({"token_type": "bearer"}),
        };
        let e = token_answer(Platform::Kick, Op::Code, &a).unwrap_err();
        assert!(matches!(e, PlatformError::Rejected(_)), "{e:?}");
    }

    #[test]
    fn debug_output_hides_secrets() {
        let c = creds(Platform::Twitch);
        let t = TokenSet {
            access_token: SecretString::from("at-hidden".to_owned()),
            refresh_token: Some(SecretString::from("rt-hidden".to_owned())),
            expires_in: Some(1),
            scopes: None,
        };
        let shown = format!("{c:?} {t:?}");
        assert!(!shown.contains("twitch-secret"), "{shown}");
        assert!(!shown.contains("hidden"), "{shown}");
        assert!(shown.contains("twitch-client"), "{shown}");
    }
}
