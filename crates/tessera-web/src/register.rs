//! The client registration endpoint (RFC 7591) and client configuration endpoint (RFC 7592).
//! JSON in and out; errors in RFC 7591 §3.2.2's form (`error`, `error_description`), never
//! cached. The rules live in the service ([`tessera_core::register`]).

use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use http::{header, HeaderMap, HeaderValue, StatusCode};
use serde_json::{json, Value};
use tessera_core::register::RegistrationError;

use crate::auth::bearer;
use crate::AppState;

fn error(e: RegistrationError) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut res = (
        status,
        axum::Json(json!({"error": e.error, "error_description": e.description})),
    )
        .into_response();
    if status == StatusCode::TOO_MANY_REQUESTS {
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
    }
    if status == StatusCode::UNAUTHORIZED {
        let v = format!("Bearer realm=\"tessera\", error=\"{}\"", e.error);
        if let Ok(v) = HeaderValue::from_str(&v) {
            res.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
    }
    res
}

/// The metadata document of a request: a JSON object.
fn metadata(headers: &HeaderMap, body: &[u8]) -> Result<Value, RegistrationError> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if ct.split(';').next().map(str::trim) != Some("application/json") {
        return Err(RegistrationError {
            status: 400,
            error: "invalid_client_metadata",
            description: "the body must be application/json".into(),
        });
    }
    serde_json::from_slice(body).map_err(|e| RegistrationError {
        status: 400,
        error: "invalid_client_metadata",
        description: format!("the body is not valid JSON: {e}"),
    })
}

/// The request's parts and its metadata document.
async fn read_metadata(req: Request) -> Result<(http::request::Parts, Value), RegistrationError> {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, 64 * 1024)
        .await
        .map_err(|_| RegistrationError {
            status: 413,
            error: "invalid_client_metadata",
            description: "the body is too large".into(),
        })?;
    let meta = metadata(&parts.headers, &bytes)?;
    Ok((parts, meta))
}

/// `POST /orgs/{org}/api/v1/connect/register`: 201 with the client's id, its secret (once),
/// and its registration access token (once).
pub async fn register(
    State(state): State<AppState>,
    Path(org): Path<String>,
    req: Request,
) -> Response {
    let (parts, meta) = match read_metadata(req).await {
        Ok(x) => x,
        Err(e) => return error(e),
    };
    let (ip, request_id) = crate::auth::request_origin(&parts);
    match state
        .services
        .register_client(
            &org,
            bearer(&parts.headers).as_deref(),
            &meta,
            ip,
            request_id,
        )
        .await
    {
        Ok(v) => (StatusCode::CREATED, axum::Json(v)).into_response(),
        Err(e) => error(e),
    }
}

/// `GET /orgs/{org}/api/v1/connect/register/{client_id}` with the registration access token.
pub async fn read(
    State(state): State<AppState>,
    Path((org, client_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    match state
        .services
        .read_registration(&org, &client_id, bearer(&headers).as_deref())
        .await
    {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => error(e),
    }
}

/// `PUT /orgs/{org}/api/v1/connect/register/{client_id}`: replaces the metadata.
pub async fn update(
    State(state): State<AppState>,
    Path((org, client_id)): Path<(String, String)>,
    req: Request,
) -> Response {
    let (parts, meta) = match read_metadata(req).await {
        Ok(x) => x,
        Err(e) => return error(e),
    };
    let (ip, request_id) = crate::auth::request_origin(&parts);
    match state
        .services
        .update_registration(
            &org,
            &client_id,
            bearer(&parts.headers).as_deref(),
            &meta,
            ip,
            request_id,
        )
        .await
    {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => error(e),
    }
}

/// `DELETE /orgs/{org}/api/v1/connect/register/{client_id}`: 204; the client and its tokens
/// stop working at once.
pub async fn remove(
    State(state): State<AppState>,
    Path((org, client_id)): Path<(String, String)>,
    req: Request,
) -> Response {
    let (parts, _) = req.into_parts();
    let (ip, request_id) = crate::auth::request_origin(&parts);
    match state
        .services
        .delete_registration(
            &org,
            &client_id,
            bearer(&parts.headers).as_deref(),
            ip,
            request_id,
        )
        .await
    {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => error(e),
    }
}
