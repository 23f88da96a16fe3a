//! Reading requests (form and query pairs, headers, the platform in the path) and writing
//! answers, shared by the endpoints.

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;
use tessera_domain::Platform;

pub(super) fn pairs(s: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(s).into_owned().collect()
}

pub(super) fn param<'a>(ps: &'a [(String, String)], k: &str) -> Option<&'a str> {
    ps.iter()
        .find(|(n, _)| n == k)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

pub(super) fn header_str<'a>(h: &'a HeaderMap, k: &str) -> Option<&'a str> {
    h.get(k).and_then(|v| v.to_str().ok())
}

pub(super) fn platform_of(s: &str) -> Option<Platform> {
    Platform::parse(s).ok()
}

pub(super) fn json_answer(status: StatusCode, v: Value) -> Response {
    (status, Json(v)).into_response()
}

pub(super) fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "not found").into_response()
}
