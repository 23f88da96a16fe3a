//! The revocation endpoint, in each platform's shape: revoking a refresh token ends its whole
//! authorization.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use tessera_domain::Platform;

use super::state::Shared;
use super::wire::{header_str, json_answer, not_found, pairs, param, platform_of};

pub(super) async fn revoke(
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
