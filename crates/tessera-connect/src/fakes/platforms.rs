//! Fake Twitch, YouTube, Kick and Trovo on 127.0.0.1: one HTTP server with the layout of
//! [`Providers::all_at`], speaking each platform's own wire shapes (form or JSON bodies, OAuth
//! error codes or prose messages, rotating or kept refresh tokens), so that the adapter and the
//! service layer are tested against what the real platforms answer, failures included.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use serde_json::{json, Value};
use tessera_domain::Platform;

use crate::Providers;

/// How the next token-endpoint calls of a platform fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailMode {
    /// The grant is refused, in the platform's own shape.
    InvalidGrant,
    /// HTTP 500.
    ServerError,
    /// HTTP 429.
    RateLimited,
}

/// A running fake; the server stops when this is dropped.
pub struct FakePlatforms {
    pub base_url: String,
    state: Arc<Mutex<State0>>,
    server: tokio::task::JoinHandle<()>,
}

/// What an issued code is bound to.
struct Code {
    client_id: String,
    redirect_uri: String,
    challenge: Option<String>,
    scopes: Vec<String>,
}

/// What an issued token is bound to. `grant` ties the tokens of one authorization together
/// (revoking a refresh token ends its access tokens too); `seq` orders issuance.
#[derive(Clone)]
struct Tok {
    client_id: String,
    grant: u64,
    seq: u64,
    scopes: Vec<String>,
}

/// One platform's state.
struct Plat {
    apps: HashMap<String, String>,
    identity: (String, String),
    expires_in: i64,
    fail: Option<(FailMode, u32)>,
    token_delay: Duration,
    deny_next: bool,
    calls: HashMap<String, u32>,
    revoked: Vec<String>,
    codes: HashMap<String, Code>,
    access: HashMap<String, Tok>,
    refresh: HashMap<String, Tok>,
    last_authorize: Option<Vec<(String, String)>>,
}

struct State0 {
    plats: HashMap<Platform, Plat>,
    counter: u64,
}

impl State0 {
    fn next(&mut self) -> u64 {
        self.counter += 1;
        self.counter
    }

    fn plat(&mut self, p: Platform) -> &mut Plat {
        self.plats.get_mut(&p).expect("every platform has a state")
    }
}

type Shared = Arc<Mutex<State0>>;

fn default_identity(p: Platform) -> (&'static str, &'static str) {
    match p {
        Platform::Twitch => ("1001", "TwitchStreamer"),
        Platform::Youtube => ("UCfakeYouTubeChannel1002", "YouTubeStreamer"),
        Platform::Kick => ("1003", "kickstreamer"),
        Platform::Trovo => ("1004", "TrovoStreamer"),
    }
}

impl FakePlatforms {
    /// Binds 127.0.0.1 on a free port and serves all four platforms there.
    pub async fn start() -> Self {
        let plats = Platform::ALL
            .into_iter()
            .map(|p| {
                let (id, name) = default_identity(p);
                (
                    p,
                    Plat {
                        apps: HashMap::new(),
                        identity: (id.to_owned(), name.to_owned()),
                        expires_in: 14400,
                        fail: None,
                        token_delay: Duration::ZERO,
                        deny_next: false,
                        calls: HashMap::new(),
                        revoked: Vec::new(),
                        codes: HashMap::new(),
                        access: HashMap::new(),
                        refresh: HashMap::new(),
                        last_authorize: None,
                    },
                )
            })
            .collect();
        let state = Arc::new(Mutex::new(State0 { plats, counter: 0 }));
        let app = Router::new()
            .route("/{platform}/authorize", get(authorize))
            .route("/{platform}/token", post(token))
            .route("/{platform}/refresh", post(trovo_refresh))
            .route("/{platform}/revoke", post(revoke))
            .route("/{platform}/validate", get(validate))
            .route("/{platform}/api/{*rest}", get(api))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            base_url: format!("http://{addr}"),
            state,
            server,
        }
    }

    /// Every platform pointed at this server.
    pub fn providers(&self) -> Providers {
        Providers::all_at(&self.base_url)
    }

    fn with<R>(&self, p: Platform, f: impl FnOnce(&mut Plat) -> R) -> R {
        f(self.state.lock().unwrap().plat(p))
    }

    /// Registers an app (client id and secret) on a platform.
    pub fn register_app(&self, p: Platform, client_id: &str, client_secret: &str) {
        self.with(p, |s| {
            s.apps
                .insert(client_id.to_owned(), client_secret.to_owned())
        });
    }

    /// The channel every token of `p` speaks for. On YouTube an empty `channel_id` stands for
    /// a Google account without a channel (the lookup answers no items).
    pub fn set_identity(&self, p: Platform, channel_id: &str, channel_name: &str) {
        self.with(p, |s| {
            s.identity = (channel_id.to_owned(), channel_name.to_owned())
        });
    }

    /// The lifetime announced for new access tokens (default 14400 s).
    pub fn set_expires_in(&self, p: Platform, secs: i64) {
        self.with(p, |s| s.expires_in = secs);
    }

    /// The next `times` token-endpoint calls (code or refresh) of `p` fail with `mode`.
    pub fn fail_next(&self, p: Platform, mode: FailMode, times: u32) {
        self.with(p, |s| s.fail = (times > 0).then_some((mode, times)));
    }

    /// The token endpoint of `p` waits this long before answering.
    pub fn set_token_delay(&self, p: Platform, d: Duration) {
        self.with(p, |s| s.token_delay = d);
    }

    /// The next authorization of `p` is denied by the user.
    pub fn deny_next_authorize(&self, p: Platform) {
        self.with(p, |s| s.deny_next = true);
    }

    /// Token-endpoint calls of `p` with this grant type, refused ones included.
    pub fn token_calls(&self, p: Platform, grant_type: &str) -> u32 {
        self.with(p, |s| s.calls.get(grant_type).copied().unwrap_or(0))
    }

    /// The tokens revoked on `p`, in order.
    pub fn revoked(&self, p: Platform) -> Vec<String> {
        self.with(p, |s| s.revoked.clone())
    }

    /// Every token of `p` stops working, as if the user had disconnected the app.
    pub fn invalidate_grants(&self, p: Platform) {
        self.with(p, |s| {
            s.access.clear();
            s.refresh.clear();
        });
    }

    /// The live refresh token of `p` issued most recently.
    pub fn current_refresh_token(&self, p: Platform) -> Option<String> {
        self.with(p, |s| {
            s.refresh
                .iter()
                .max_by_key(|(_, t)| t.seq)
                .map(|(k, _)| k.clone())
        })
    }

    pub fn is_access_token_valid(&self, p: Platform, t: &str) -> bool {
        self.with(p, |s| s.access.contains_key(t))
    }

    /// The query the authorize endpoint of `p` last received.
    pub fn last_authorize_query(&self, p: Platform) -> Option<Vec<(String, String)>> {
        self.with(p, |s| s.last_authorize.clone())
    }
}

impl Drop for FakePlatforms {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn pairs(s: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(s).into_owned().collect()
}

fn param<'a>(ps: &'a [(String, String)], k: &str) -> Option<&'a str> {
    ps.iter()
        .find(|(n, _)| n == k)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

fn header_str<'a>(h: &'a HeaderMap, k: &str) -> Option<&'a str> {
    h.get(k).and_then(|v| v.to_str().ok())
}

fn platform_of(s: &str) -> Option<Platform> {
    Platform::parse(s).ok()
}

fn json_answer(status: StatusCode, v: Value) -> Response {
    (status, Json(v)).into_response()
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "not found").into_response()
}

fn challenge_of(verifier: &str) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(d.as_ref())
}

async fn authorize(
    State(st): State<Shared>,
    Path(platform): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let Some(p) = platform_of(&platform) else {
        return not_found();
    };
    let ps = pairs(q.unwrap_or_default().as_bytes());
    let mut g = st.lock().unwrap();
    let n = g.next();
    let s = g.plat(p);
    s.last_authorize = Some(ps.clone());
    let bad = |m: &str| (StatusCode::BAD_REQUEST, Html(format!("<h1>{m}</h1>"))).into_response();
    let Some(client_id) = param(&ps, "client_id").filter(|c| s.apps.contains_key(*c)) else {
        return bad("invalid client");
    };
    let (Some(redirect_uri), Some(state)) = (param(&ps, "redirect_uri"), param(&ps, "state"))
    else {
        return bad("missing redirect_uri or state");
    };
    let Ok(mut back) = url::Url::parse(redirect_uri) else {
        return bad("invalid redirect_uri");
    };
    if param(&ps, "response_type") != Some("code") {
        return bad("unsupported response_type");
    }
    let challenge = match p {
        Platform::Kick | Platform::Youtube => {
            match (
                param(&ps, "code_challenge"),
                param(&ps, "code_challenge_method"),
            ) {
                (Some(c), Some("S256")) => Some(c.to_owned()),
                (Some(_), _) => return bad("code_challenge_method must be S256"),
                (None, _) if p == Platform::Kick => return bad("code_challenge is required"),
                (None, _) => None,
            }
        }
        Platform::Twitch | Platform::Trovo => None,
    };
    if std::mem::take(&mut s.deny_next) {
        back.query_pairs_mut()
            .append_pair("error", "access_denied")
            .append_pair("error_description", "The user denied the request")
            .append_pair("state", state);
    } else {
        let code = format!("code-{}-{n}", p.as_str());
        s.codes.insert(
            code.clone(),
            Code {
                client_id: client_id.to_owned(),
                redirect_uri: redirect_uri.to_owned(),
                challenge,
                scopes: param(&ps, "scope")
                    .unwrap_or("")
                    .split_whitespace()
                    .map(str::to_owned)
                    .collect(),
            },
        );
        back.query_pairs_mut()
            .append_pair("code", &code)
            .append_pair("state", state);
    }
    (StatusCode::FOUND, [(header::LOCATION, back.to_string())]).into_response()
}

/// The parameters of a token-endpoint call: Trovo's JSON body and `Client-ID` header, or the
/// others' form body.
fn token_params(p: Platform, headers: &HeaderMap, body: &[u8]) -> Vec<(String, String)> {
    if p != Platform::Trovo {
        return pairs(body);
    }
    let mut ps: Vec<(String, String)> = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_owned())))
        .collect();
    if let Some(c) = header_str(headers, "client-id") {
        ps.push(("client_id".to_owned(), c.to_owned()));
    }
    ps
}

fn invalid_grant(p: Platform, grant_type: &str) -> Response {
    let code = grant_type == "authorization_code";
    match p {
        Platform::Twitch => json_answer(
            StatusCode::BAD_REQUEST,
            json!({"status": 400, "message": if code { "Invalid authorization code" } else { "Invalid refresh token" }}),
        ),
        Platform::Youtube => json_answer(
            StatusCode::BAD_REQUEST,
            json!({"error": "invalid_grant", "error_description": if code { "Bad Request" } else { "Token has been expired or revoked." }}),
        ),
        Platform::Kick => json_answer(
            StatusCode::BAD_REQUEST,
            json!({"error": "invalid_grant", "error_description": "The provided authorization grant or refresh token is invalid, expired or revoked."}),
        ),
        Platform::Trovo => json_answer(
            StatusCode::BAD_REQUEST,
            json!({"status": 10703, "error": "Invalid grant", "message": if code { "The authorization code is invalid or has expired." } else { "The refresh token is invalid or has expired." }}),
        ),
    }
}

fn invalid_client(p: Platform) -> Response {
    match p {
        Platform::Twitch => json_answer(
            StatusCode::FORBIDDEN,
            json!({"status": 403, "message": "invalid client secret"}),
        ),
        Platform::Youtube => json_answer(
            StatusCode::UNAUTHORIZED,
            json!({"error": "invalid_client", "error_description": "Unauthorized"}),
        ),
        Platform::Kick => json_answer(
            StatusCode::UNAUTHORIZED,
            json!({"error": "invalid_client", "error_description": "Client authentication failed."}),
        ),
        Platform::Trovo => json_answer(
            StatusCode::UNAUTHORIZED,
            json!({"status": 10708, "error": "Invalid client", "message": "Invalid client_id or client_secret."}),
        ),
    }
}

fn server_error(p: Platform) -> Response {
    match p {
        Platform::Twitch | Platform::Trovo => json_answer(
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({"status": 500, "message": "Internal Server Error"}),
        ),
        Platform::Youtube | Platform::Kick => {
            (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response()
        }
    }
}

fn rate_limited(p: Platform) -> Response {
    match p {
        Platform::Twitch | Platform::Trovo => json_answer(
            StatusCode::TOO_MANY_REQUESTS,
            json!({"status": 429, "message": "Too Many Requests"}),
        ),
        Platform::Youtube => json_answer(
            StatusCode::TOO_MANY_REQUESTS,
            json!({"error": "rate_limit_exceeded", "error_description": "Rate Limit Exceeded"}),
        ),
        Platform::Kick => (StatusCode::TOO_MANY_REQUESTS, "Too Many Requests").into_response(),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Token,
    TrovoRefresh,
}

async fn token(
    State(st): State<Shared>,
    Path(platform): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    token_endpoint(st, &platform, Endpoint::Token, &headers, &body).await
}

async fn trovo_refresh(
    State(st): State<Shared>,
    Path(platform): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if platform != "trovo" {
        return not_found();
    }
    token_endpoint(st, &platform, Endpoint::TrovoRefresh, &headers, &body).await
}

async fn token_endpoint(
    st: Shared,
    platform: &str,
    endpoint: Endpoint,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let Some(p) = platform_of(platform) else {
        return not_found();
    };
    let delay = st.lock().unwrap().plat(p).token_delay;
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let ps = token_params(p, headers, body);
    let grant_type = param(&ps, "grant_type").unwrap_or("").to_owned();
    // Trovo has one endpoint per grant; the others take both on the token endpoint.
    let allowed = match (p, endpoint) {
        (Platform::Trovo, Endpoint::Token) => grant_type == "authorization_code",
        (Platform::Trovo, Endpoint::TrovoRefresh) => grant_type == "refresh_token",
        (_, _) => matches!(grant_type.as_str(), "authorization_code" | "refresh_token"),
    };
    let mut g = st.lock().unwrap();
    let n = g.next();
    let s = g.plat(p);
    *s.calls.entry(grant_type.clone()).or_insert(0) += 1;
    if !allowed {
        return match p {
            Platform::Twitch | Platform::Trovo => json_answer(
                StatusCode::BAD_REQUEST,
                json!({"status": 400, "message": "invalid grant type"}),
            ),
            Platform::Youtube | Platform::Kick => json_answer(
                StatusCode::BAD_REQUEST,
                json!({"error": "unsupported_grant_type"}),
            ),
        };
    }
    if let Some((mode, left)) = s.fail {
        s.fail = (left > 1).then_some((mode, left - 1));
        return match mode {
            FailMode::InvalidGrant => invalid_grant(p, &grant_type),
            FailMode::ServerError => server_error(p),
            FailMode::RateLimited => rate_limited(p),
        };
    }
    let client_id = param(&ps, "client_id").unwrap_or("").to_owned();
    let secret_ok = matches!(
        (s.apps.get(&client_id), param(&ps, "client_secret")),
        (Some(known), Some(given)) if known == given
    );
    if !secret_ok {
        return invalid_client(p);
    }
    let (grant, scopes, old_refresh) = if grant_type == "authorization_code" {
        // A code is spent by any attempt, as on the real platforms.
        let Some(c) = param(&ps, "code").and_then(|c| s.codes.remove(c)) else {
            return invalid_grant(p, &grant_type);
        };
        let verifier_ok = match &c.challenge {
            Some(ch) => param(&ps, "code_verifier").map(challenge_of).as_ref() == Some(ch),
            None => true,
        };
        if c.client_id != client_id
            || param(&ps, "redirect_uri") != Some(c.redirect_uri.as_str())
            || !verifier_ok
        {
            return invalid_grant(p, &grant_type);
        }
        (n, c.scopes, None)
    } else {
        let Some(rt) = param(&ps, "refresh_token") else {
            return invalid_grant(p, &grant_type);
        };
        let Some(t) = s.refresh.get(rt).filter(|t| t.client_id == client_id) else {
            return invalid_grant(p, &grant_type);
        };
        (t.grant, t.scopes.clone(), Some(rt.to_owned()))
    };
    let tok = Tok {
        client_id,
        grant,
        seq: n,
        scopes: scopes.clone(),
    };
    let access = format!("at-{}-{n}", p.as_str());
    s.access.insert(access.clone(), tok.clone());
    // YouTube keeps the refresh token and leaves it out of a refresh answer; the others
    // rotate it, and the old one stops working.
    let new_refresh = match (&old_refresh, p) {
        (Some(_), Platform::Youtube) => None,
        (old, _) => {
            if let Some(old) = old {
                s.refresh.remove(old);
            }
            let r = format!("rt-{}-{n}", p.as_str());
            s.refresh.insert(r.clone(), tok);
            Some(r)
        }
    };
    let expires_in = s.expires_in;
    let body = match p {
        Platform::Twitch => json!({
            "access_token": access,
            "refresh_token": new_refresh,
            "expires_in": expires_in,
            "scope": scopes,
            "token_type": "bearer",
        }),
        Platform::Youtube | Platform::Kick => {
            let mut b = json!({
                "access_token": access,
                "expires_in": expires_in,
                "scope": scopes.join(" "),
                "token_type": "Bearer",
            });
            if let Some(r) = new_refresh {
                b["refresh_token"] = json!(r);
            }
            b
        }
        Platform::Trovo => json!({
            "access_token": access,
            "token_type": "OAuth",
            "expires_in": expires_in,
            "refresh_token": new_refresh,
            "refresh_expire_at": 1_900_000_000_i64,
        }),
    };
    json_answer(StatusCode::OK, body)
}

async fn revoke(
    State(st): State<Shared>,
    Path(platform): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(p) = platform_of(&platform) else {
        return not_found();
    };
    let (client_id, token) = match p {
        Platform::Twitch => {
            let ps = pairs(&body);
            (
                param(&ps, "client_id").map(str::to_owned),
                param(&ps, "token").map(str::to_owned),
            )
        }
        Platform::Youtube => (None, param(&pairs(&body), "token").map(str::to_owned)),
        Platform::Kick => (
            None,
            param(&pairs(q.unwrap_or_default().as_bytes()), "token").map(str::to_owned),
        ),
        Platform::Trovo => (
            header_str(&headers, "client-id").map(str::to_owned),
            serde_json::from_slice::<Value>(&body)
                .ok()
                .and_then(|v| v.get("access_token")?.as_str().map(str::to_owned)),
        ),
    };
    let mut g = st.lock().unwrap();
    let s = g.plat(p);
    let needs_client = matches!(p, Platform::Twitch | Platform::Trovo);
    if needs_client && !client_id.is_some_and(|c| s.apps.contains_key(&c)) {
        return match p {
            Platform::Trovo => json_answer(
                StatusCode::UNAUTHORIZED,
                json!({"status": 10708, "error": "Invalid client", "message": "Invalid client_id."}),
            ),
            _ => json_answer(
                StatusCode::BAD_REQUEST,
                json!({"status": 400, "message": "invalid client"}),
            ),
        };
    }
    let live = token
        .as_deref()
        .filter(|t| s.access.contains_key(*t) || s.refresh.contains_key(*t));
    let Some(t) = live else {
        return match p {
            Platform::Twitch => json_answer(
                StatusCode::BAD_REQUEST,
                json!({"status": 400, "message": "Invalid token"}),
            ),
            Platform::Youtube => json_answer(
                StatusCode::BAD_REQUEST,
                json!({"error": "invalid_token", "error_description": "Token expired or revoked"}),
            ),
            // RFC 7009: an unknown token is not an error.
            Platform::Kick => StatusCode::OK.into_response(),
            Platform::Trovo => json_answer(
                StatusCode::BAD_REQUEST,
                json!({"status": 11714, "error": "Invalid token", "message": "The access token is invalid."}),
            ),
        };
    };
    let t = t.to_owned();
    s.access.remove(&t);
    if let Some(r) = s.refresh.remove(&t) {
        // Revoking a refresh token ends the whole authorization.
        s.access.retain(|_, a| a.grant != r.grant);
    }
    s.revoked.push(t);
    match p {
        Platform::Trovo => json_answer(StatusCode::OK, json!({})),
        _ => StatusCode::OK.into_response(),
    }
}

async fn validate(
    State(st): State<Shared>,
    Path(platform): Path<String>,
    headers: HeaderMap,
) -> Response {
    if platform != "twitch" {
        return not_found();
    }
    let mut g = st.lock().unwrap();
    let s = g.plat(Platform::Twitch);
    let token = header_str(&headers, "authorization").and_then(|a| a.strip_prefix("OAuth "));
    match token.and_then(|t| s.access.get(t)) {
        Some(t) => json_answer(
            StatusCode::OK,
            json!({
                "client_id": t.client_id,
                "login": s.identity.1.to_lowercase(),
                "scopes": t.scopes,
                "user_id": s.identity.0,
                "expires_in": s.expires_in,
            }),
        ),
        None => json_answer(
            StatusCode::UNAUTHORIZED,
            json!({"status": 401, "message": "invalid access token"}),
        ),
    }
}

async fn api(
    State(st): State<Shared>,
    Path((platform, rest)): Path<(String, String)>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    let Some(p) = platform_of(&platform) else {
        return not_found();
    };
    let mut g = st.lock().unwrap();
    let s = g.plat(p);
    let auth = header_str(&headers, "authorization").unwrap_or("");
    let scheme = if p == Platform::Trovo {
        "OAuth "
    } else {
        "Bearer "
    };
    let tok = auth
        .strip_prefix(scheme)
        .and_then(|t| s.access.get(t))
        .cloned();
    // Twitch and Trovo also want the app named, and it must be the token's app.
    let client_header = match p {
        Platform::Twitch | Platform::Trovo => header_str(&headers, "client-id"),
        Platform::Youtube | Platform::Kick => None,
    };
    let authorized = tok.as_ref().is_some_and(|t| match p {
        Platform::Twitch | Platform::Trovo => client_header == Some(t.client_id.as_str()),
        Platform::Youtube | Platform::Kick => true,
    });
    let (id, name) = s.identity.clone();
    match (p, rest.as_str()) {
        (Platform::Twitch, "users") => {
            if !authorized {
                return json_answer(
                    StatusCode::UNAUTHORIZED,
                    json!({"error": "Unauthorized", "status": 401, "message": "Invalid OAuth token"}),
                );
            }
            json_answer(
                StatusCode::OK,
                json!({"data": [{
                    "id": id,
                    "login": name.to_lowercase(),
                    "display_name": name,
                    "type": "",
                    "broadcaster_type": "affiliate",
                    "description": "",
                    "created_at": "2020-01-01T00:00:00Z",
                }]}),
            )
        }
        (Platform::Youtube, "channels") => {
            let ps = pairs(q.unwrap_or_default().as_bytes());
            if param(&ps, "part") != Some("snippet") || param(&ps, "mine") != Some("true") {
                return json_answer(
                    StatusCode::BAD_REQUEST,
                    json!({"error": {"code": 400, "message": "No filter selected.", "status": "INVALID_ARGUMENT"}}),
                );
            }
            if !authorized {
                return json_answer(
                    StatusCode::UNAUTHORIZED,
                    json!({"error": {"code": 401, "message": "Request had invalid authentication credentials.", "status": "UNAUTHENTICATED"}}),
                );
            }
            let items = if id.is_empty() {
                json!([])
            } else {
                json!([{"kind": "youtube#channel", "id": id, "snippet": {"title": name, "description": ""}}])
            };
            json_answer(
                StatusCode::OK,
                json!({"kind": "youtube#channelListResponse", "pageInfo": {"totalResults": 1, "resultsPerPage": 5}, "items": items}),
            )
        }
        (Platform::Kick, "channels") => {
            if !authorized {
                return json_answer(StatusCode::UNAUTHORIZED, json!({"message": "Unauthorized"}));
            }
            let user_id = id.parse::<i64>().map_or_else(|_| json!(id), |n| json!(n));
            json_answer(
                StatusCode::OK,
                json!({"data": [{
                    "broadcaster_user_id": user_id,
                    "slug": name,
                    "channel_description": "",
                    "stream_title": "",
                }], "message": "OK"}),
            )
        }
        (Platform::Trovo, "getuserinfo") => {
            if !authorized {
                return json_answer(
                    StatusCode::UNAUTHORIZED,
                    json!({"status": 11714, "error": "Invalid access token", "message": "The access token is invalid."}),
                );
            }
            json_answer(
                StatusCode::OK,
                json!({
                    "userId": id,
                    "userName": name.to_lowercase(),
                    "nickName": name,
                    "email": "streamer@example.com",
                    "profilePic": "",
                    "info": "",
                    "channelId": id,
                }),
            )
        }
        _ => not_found(),
    }
}
