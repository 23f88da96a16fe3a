//! Who is calling the admin API: a bearer API key (`Authorization: Bearer sk_live_…`) or a
//! console session cookie, turned into a service-layer [`Context`] with the caller's address and the request id. Permission
//! checks happen in the service layer, not here.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use http::header::AUTHORIZATION;
use http::request::Parts;
use tessera_core::Context;

use crate::error::ApiError;
use crate::{AppState, REQUEST_ID};

/// An authenticated caller of the admin API.
pub struct Caller(pub Context);

/// The token of an `Authorization: Bearer …` header (RFC 6750 §2.1; the scheme is
/// case-insensitive).
pub fn bearer_token(parts: &Parts) -> Result<&str, ApiError> {
    let value = parts
        .headers
        .get(AUTHORIZATION)
        .ok_or_else(|| {
            ApiError::unauthorized(
                "missing Authorization header: send 'Authorization: Bearer sk_live_…'",
            )
        })?
        .to_str()
        .map_err(|_| ApiError::unauthorized("malformed Authorization header"))?;
    let (scheme, token) = value.split_once(' ').ok_or_else(|| {
        ApiError::unauthorized("malformed Authorization header: expected 'Bearer TOKEN'")
    })?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(ApiError::unauthorized(
            "unsupported authorization scheme: use 'Bearer'",
        ));
    }
    Ok(token.trim())
}

/// The token of an `Authorization: Bearer …` header, if there is a well-formed one (the
/// protocol endpoints, which answer a missing token in their own error format).
pub fn bearer(headers: &http::HeaderMap) -> Option<String> {
    let v = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

/// The organization the path names (`/orgs/{org}/…`, `/t/{org}/…`). Under `nest` the
/// request's URI lost its prefix; the original keeps it.
fn path_org(parts: &Parts) -> Option<&str> {
    let path = parts
        .extensions
        .get::<axum::extract::OriginalUri>()
        .map_or(parts.uri.path(), |u| u.0.path());
    let mut segments = path.split('/').filter(|s| !s.is_empty());
    match (segments.next(), segments.next()) {
        (Some("orgs" | "t"), Some(slug)) => Some(slug),
        _ => None,
    }
}

/// Where the request came from, and its id, for the audit log.
pub fn request_origin(parts: &Parts) -> (Option<String>, Option<String>) {
    let ip = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string());
    let request_id = parts
        .headers
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (ip, request_id)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        authenticate(parts, state).await.map(Caller)
    }
}

/// The caller named by the request's API key, or else by its console session cookie, with
/// where the request came from. A request that rides on the cookie and changes something
/// must carry the session's CSRF token in `X-CSRF-Token`, so that no other site can make a
/// signed-in browser call the API.
pub async fn authenticate(parts: &Parts, state: &AppState) -> Result<Context, ApiError> {
    if !parts.headers.contains_key(AUTHORIZATION) {
        if let Some(cookie) =
            crate::cookies::cookie(state, &parts.headers, crate::console::SESSION_COOKIE)
        {
            let (ip, request_id) = request_origin(parts);
            let org = path_org(parts);
            let caller = state
                .services
                .console_caller_in(&cookie, org, ip, request_id)
                .await?;
            if !matches!(parts.method, http::Method::GET | http::Method::HEAD) {
                use subtle::ConstantTimeEq;
                let presented = parts
                    .headers
                    .get("x-csrf-token")
                    .map(|v| v.as_bytes())
                    .unwrap_or_default();
                if !bool::from(presented.ct_eq(caller.csrf.as_bytes())) {
                    return Err(ApiError::new(
                        http::StatusCode::FORBIDDEN,
                        "forbidden",
                        "a request authenticated by the console session must carry its CSRF token in the X-CSRF-Token header",
                    ));
                }
            }
            return Ok(caller.ctx);
        }
    }
    let token = bearer_token(parts)?;
    // An access token of the organization's REST explorer (a JWT: API keys have no dots)
    // acts as the member who signed in there.
    let principal = match path_org(parts) {
        Some(org) if token.split('.').count() == 3 => {
            state
                .services
                .authenticate_explorer_token(org, token)
                .await?
        }
        _ => state.services.authenticate_api_key(token).await?,
    };
    let (ip, request_id) = request_origin(parts);
    Ok(Context {
        principal,
        ip,
        request_id,
    })
}
