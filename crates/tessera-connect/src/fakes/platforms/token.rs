//! The token endpoints (code exchange and refresh; Trovo's separate refresh endpoint): tokens
//! issued and rotated, and every refusal in the platform's own shape.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::{json, Value};
use tessera_domain::Platform;

use super::state::{Shared, Tok};
use super::wire::{header_str, json_answer, not_found, pairs, param, platform_of};
use super::FailMode;

fn challenge_of(verifier: &str) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(d.as_ref())
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

pub(super) async fn token(
    State(st): State<Shared>,
    Path(platform): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    token_endpoint(st, &platform, Endpoint::Token, &headers, &body).await
}

pub(super) async fn trovo_refresh(
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
            s.refused_refreshes += 1;
            return invalid_grant(p, &grant_type);
        };
        let t = t.clone();
        *s.refreshes.entry(client_id.clone()).or_insert(0) += 1;
        (t.grant, t.scopes, Some(rt.to_owned()))
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
