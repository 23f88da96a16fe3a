//! The userinfo endpoint (OIDC Core §5.3), as JSON or as a signed JWT, for bearer and
//! DPoP-bound (RFC 9449 §7) access tokens.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use http::{header, HeaderMap, HeaderValue};
use tessera_core::authorize::UserInfo;
use tessera_core::tokens::OAuthError;

use tessera_core::dpop::Presented;

use super::form::Form;
use super::token::dpop_header;
use super::{invalid_request, ProtocolError, ProtocolResult};
use crate::auth::bearer;
use crate::AppState;

/// An access token as the request carried it: its value and whether the DPoP scheme
/// (RFC 9449 §7.1) brought it.
struct Carried {
    token: String,
    dpop_scheme: bool,
}

/// The token of `Authorization: Bearer` or `Authorization: DPoP` (schemes are
/// case-insensitive, RFC 9110 §11.1).
fn authorization(headers: &HeaderMap) -> Option<Carried> {
    if let Some(token) = bearer(headers) {
        return Some(Carried {
            token,
            dpop_scheme: false,
        });
    }
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("dpop").then(|| Carried {
        token: token.trim().to_owned(),
        dpop_scheme: true,
    })
}

async fn userinfo_with(
    state: &AppState,
    org: &str,
    headers: &HeaderMap,
    method: &str,
    carried: Option<Carried>,
) -> Response {
    let proof = match dpop_header(headers) {
        Ok(p) => p,
        Err(e) => return resource_error(state, org, e.0),
    };
    let Some(carried) = carried else {
        return resource_error(
            state,
            org,
            OAuthError::InvalidToken("send the access token as a Bearer or DPoP token".into()),
        );
    };
    let presented = Presented {
        token: &carried.token,
        dpop_scheme: carried.dpop_scheme,
        proof: proof.as_ref(),
        method,
    };
    match userinfo_answer(state, org, presented).await {
        Ok(r) => r,
        Err(e) => resource_error(state, org, e),
    }
}

/// An error of a resource endpoint: 401 with a challenge of both schemes for token and
/// proof errors (RFC 6750 §3, RFC 9449 §7.1), `DPoP-Nonce` with `use_dpop_nonce`.
fn resource_error(state: &AppState, org: &str, e: OAuthError) -> Response {
    let dpop = matches!(
        e,
        OAuthError::InvalidDpopProof(_) | OAuthError::UseDpopNonce(_)
    );
    let nonce = matches!(e, OAuthError::UseDpopNonce(_));
    if !dpop && !matches!(e, OAuthError::InvalidToken(_)) {
        return ProtocolError(e).into_response();
    }
    let code = e.code();
    let mut res = ProtocolError(e).into_response();
    *res.status_mut() = http::StatusCode::UNAUTHORIZED;
    let algs = tessera_core::dpop::signing_algs().join(" ");
    let challenge = if dpop {
        format!("DPoP error=\"{code}\", algs=\"{algs}\"")
    } else {
        format!("Bearer realm=\"tessera\", error=\"{code}\", DPoP algs=\"{algs}\"")
    };
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        h.insert(header::WWW_AUTHENTICATE, v);
    }
    if nonce {
        if let Ok(v) = HeaderValue::from_str(&state.services.dpop_nonce(org)) {
            h.insert("dpop-nonce", v);
        }
    }
    res
}

async fn userinfo_answer(
    state: &AppState,
    org: &str,
    presented: Presented<'_>,
) -> Result<Response, OAuthError> {
    match state.services.userinfo(org, presented).await? {
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
) -> Response {
    let carried = authorization(&headers);
    userinfo_with(&state, &org, &headers, "GET", carried).await
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
            .map(|token| Carried {
                token: token.to_owned(),
                dpop_scheme: false,
            })
    };
    let carried = match (authorization(&headers), from_body) {
        (Some(_), Some(_)) => return Err(invalid_request("send the access token one way only")),
        (a, b) => a.or(b),
    };
    Ok(userinfo_with(&state, &org, &headers, "POST", carried).await)
}
