//! The userinfo endpoint (OIDC Core §5.3), as JSON or as a signed JWT.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use http::{header, HeaderMap, HeaderValue};
use tessera_core::authorize::UserInfo;
use tessera_core::tokens::OAuthError;

use super::form::Form;
use super::{invalid_request, ProtocolError, ProtocolResult};
use crate::auth::bearer;
use crate::AppState;

async fn userinfo_with(
    state: &AppState,
    org: &str,
    token: Option<String>,
) -> ProtocolResult<Response> {
    let token = token.ok_or_else(|| {
        ProtocolError(OAuthError::InvalidToken(
            "send the access token as a Bearer token".into(),
        ))
    })?;
    match state.services.userinfo(org, &token).await? {
        UserInfo::Json(v) => Ok(Json(v).into_response()),
        // OIDC Core §5.3.2: a signed response is `application/jwt`.
        UserInfo::Jwt(jwt) => Ok((
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/jwt"),
            )],
            jwt,
        )
            .into_response()),
    }
}

/// `GET …/oauth/userinfo` with `Authorization: Bearer` (OIDC Core §5.3.1).
pub(super) async fn userinfo_get(
    State(state): State<AppState>,
    Path(org): Path<String>,
    headers: HeaderMap,
) -> ProtocolResult<Response> {
    userinfo_with(&state, &org, bearer(&headers)).await
}

/// `POST …/oauth/userinfo`: the header, or `access_token` in a form body (RFC 6750 §2.2).
pub(super) async fn userinfo_post(
    State(state): State<AppState>,
    Path(org): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ProtocolResult<Response> {
    let from_body = if body.is_empty() {
        None
    } else {
        Form::parse(&headers, &body)?
            .get("access_token")
            .map(str::to_owned)
    };
    let token = match (bearer(&headers), from_body) {
        (Some(_), Some(_)) => return Err(invalid_request("send the access token one way only")),
        (a, b) => a.or(b),
    };
    userinfo_with(&state, &org, token).await
}
