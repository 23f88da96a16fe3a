//! The token endpoint (RFC 6749 §3.2), pushed authorization requests (RFC 9126),
//! introspection (RFC 7662) and revocation (RFC 7009).

use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use http::StatusCode;
use tessera_core::oauth::TokenRequest;
use tessera_core::tokens::OAuthError;

use super::form::{client_auth, form_body, Form};
use super::{ProtocolError, ProtocolResult};
use crate::AppState;

/// `POST …/oauth/token`.
pub(super) async fn token(
    State(state): State<AppState>,
    Path(org): Path<String>,
    req: Request,
) -> ProtocolResult<Response> {
    let (parts, body) = form_body(req).await?;
    let dpop = dpop_header(&parts.headers)?;
    let sent = dpop.is_some();
    let result = async {
        let form = Form::parse(&parts.headers, &body)?;
        let grant_type = form.require("grant_type")?;
        let mut auth = client_auth(&parts, &form)?;
        auth.dpop = dpop;
        let req = TokenRequest::parse(grant_type, |k| form.get(k), form.get_all("resource"))?;
        let out = state.services.token(&org, &auth, req).await?;
        Ok((
            [(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("application/json"),
            )],
            out.to_json(),
        )
            .into_response())
    }
    .await;
    Ok(with_dpop_nonce(&state, &org, sent, result))
}

/// `POST …/oauth/par` (RFC 9126 §2): `201 Created` with the `request_uri`.
pub(super) async fn par(
    State(state): State<AppState>,
    Path(org): Path<String>,
    req: Request,
) -> ProtocolResult<Response> {
    let (parts, body) = form_body(req).await?;
    let dpop = dpop_header(&parts.headers)?;
    let sent = dpop.is_some();
    let result = async {
        let form = Form::parse(&parts.headers, &body)?;
        let mut auth = client_auth(&parts, &form)?;
        auth.dpop = dpop;
        let out = state
            .services
            .push_authorization_request(&org, &auth, form.pairs())
            .await?;
        Ok((StatusCode::CREATED, Json(out)).into_response())
    }
    .await;
    Ok(with_dpop_nonce(&state, &org, sent, result))
}

/// The `DPoP` header of a request (RFC 9449 §4.1): at most one.
pub(super) fn dpop_header(
    headers: &http::HeaderMap,
) -> ProtocolResult<Option<tessera_core::dpop::DpopProof>> {
    let mut all = headers.get_all("dpop").iter();
    let (Some(first), None) = (all.next(), all.next()) else {
        return if headers.contains_key("dpop") {
            Err(ProtocolError(OAuthError::InvalidDpopProof(
                "send one DPoP header".into(),
            )))
        } else {
            Ok(None)
        };
    };
    let v = first.to_str().map_err(|_| {
        ProtocolError(OAuthError::InvalidDpopProof(
            "the DPoP header is not a JWT".into(),
        ))
    })?;
    Ok(Some(tessera_core::dpop::DpopProof(v.trim().to_owned())))
}

/// The response, with the server's current nonce in `DPoP-Nonce` when the request carried a
/// proof or must retry with a nonce (RFC 9449 §8).
pub(super) fn with_dpop_nonce(
    state: &AppState,
    org: &str,
    sent: bool,
    result: ProtocolResult<Response>,
) -> Response {
    let needs = matches!(&result, Err(ProtocolError(OAuthError::UseDpopNonce(_))));
    let mut res = match result {
        Ok(r) => r,
        Err(e) => e.into_response(),
    };
    if sent || needs {
        if let Ok(v) = http::HeaderValue::from_str(&state.services.dpop_nonce(org)) {
            res.headers_mut().insert("dpop-nonce", v);
        }
    }
    res
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
