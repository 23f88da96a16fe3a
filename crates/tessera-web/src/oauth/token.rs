//! The token endpoint (RFC 6749 §3.2), introspection (RFC 7662) and revocation (RFC 7009).

use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use http::StatusCode;
use tessera_core::oauth::TokenRequest;

use super::form::{client_auth, form_body, Form};
use super::ProtocolResult;
use crate::AppState;

/// `POST …/oauth/token`.
pub(super) async fn token(
    State(state): State<AppState>,
    Path(org): Path<String>,
    req: Request,
) -> ProtocolResult<Response> {
    let (parts, body) = form_body(req).await?;
    let form = Form::parse(&parts.headers, &body)?;
    let grant_type = form.require("grant_type")?;
    let auth = client_auth(&parts, &form)?;
    let req = TokenRequest::parse(grant_type, |k| form.get(k), form.get_all("resource"))?;
    let out = state.services.token(&org, &auth, req).await?;
    Ok(Json(out).into_response())
}

/// `POST …/oauth/introspect` (RFC 7662).
pub(super) async fn introspect(
    State(state): State<AppState>,
    Path(org): Path<String>,
    req: Request,
) -> ProtocolResult<Response> {
    let (parts, body) = form_body(req).await?;
    let form = Form::parse(&parts.headers, &body)?;
    let auth = client_auth(&parts, &form)?;
    let token = form.require("token")?;
    let resource = match form.get_all("resource").as_slice() {
        [] => None,
        [one] => Some(*one),
        _ => {
            return Err(super::invalid_request(
                "introspection takes one resource: the resource server's own",
            ))
        }
    };
    let v = state
        .services
        .introspect(&org, &auth, token, resource)
        .await?;
    Ok(Json(v).into_response())
}

/// `POST …/oauth/revoke` (RFC 7009): 200 with an empty body, also for unknown tokens.
pub(super) async fn revoke(
    State(state): State<AppState>,
    Path(org): Path<String>,
    req: Request,
) -> ProtocolResult<Response> {
    let (parts, body) = form_body(req).await?;
    let form = Form::parse(&parts.headers, &body)?;
    let auth = client_auth(&parts, &form)?;
    let token = form.require("token")?;
    let (ip, request_id) = crate::auth::request_origin(&parts);
    state
        .services
        .revoke(&org, &auth, token, ip, request_id)
        .await?;
    Ok(StatusCode::OK.into_response())
}
