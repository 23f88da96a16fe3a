//! The endpoints that take an access token: Twitch's token validation and each platform's
//! channel lookup.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::json;
use tessera_domain::Platform;

use super::state::Shared;
use super::wire::{header_str, json_answer, not_found, pairs, param, platform_of};

pub(super) async fn validate(
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

pub(super) async fn api(
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
