//! The protocol endpoints of an organization (OAuth 2.0 / OpenID Connect): discovery (OIDC
//! Discovery 1.0 and RFC 8414, both paths), JWKS, token (RFC 6749 §3.2), introspection
//! (RFC 7662) and revocation (RFC 7009). Errors here use the RFC 6749 §5.2 format, not the
//! admin API's, and every token response is `Cache-Control: no-store` (§5.1).

use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use http::{header, HeaderMap, HeaderValue, StatusCode};
use serde_json::{json, Value};
use tessera_core::tokens::{parse_basic, ClientAuth, OAuthError};

use crate::{paths, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(paths::OIDC_DISCOVERY, get(openid_configuration))
        .route(paths::AS_METADATA, get(as_metadata))
        .route(paths::AS_METADATA_WELL_KNOWN_FIRST, get(as_metadata))
        .route(paths::JWKS, get(jwks))
        .route(paths::TOKEN, post(token))
        .route(paths::INTROSPECT, post(introspect))
        .route(paths::REVOKE, post(revoke))
}

/// An RFC 6749 §5.2 error response.
pub struct ProtocolError(pub OAuthError);

impl From<OAuthError> for ProtocolError {
    fn from(e: OAuthError) -> Self {
        Self(e)
    }
}

impl IntoResponse for ProtocolError {
    fn into_response(self) -> Response {
        let e = self.0;
        let status = match &e {
            OAuthError::InvalidClient { .. } => StatusCode::UNAUTHORIZED,
            OAuthError::NotFound(_) => StatusCode::NOT_FOUND,
            OAuthError::ServerError(_) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        };
        let description = match &e {
            OAuthError::ServerError(_) => "internal error".to_owned(),
            other => other.to_string(),
        };
        let mut res = (
            status,
            Json(json!({"error": e.code(), "error_description": description})),
        )
            .into_response();
        let h = res.headers_mut();
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        if let OAuthError::InvalidClient { .. } = e {
            // RFC 6749 §5.2: a 401 names the authentication scheme.
            h.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"tessera\""),
            );
        }
        res
    }
}

type ProtocolResult<T> = Result<T, ProtocolError>;

fn invalid_request(m: impl Into<String>) -> ProtocolError {
    ProtocolError(OAuthError::InvalidRequest(m.into()))
}

/// The parameters of a form body; a repeated parameter is an error (RFC 6749 §3.2).
struct Form(Vec<(String, String)>);

impl Form {
    fn parse(headers: &HeaderMap, body: &[u8]) -> ProtocolResult<Self> {
        let ct = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if ct.split(';').next().map(str::trim) != Some("application/x-www-form-urlencoded") {
            return Err(invalid_request(
                "the body must be application/x-www-form-urlencoded",
            ));
        }
        let mut pairs: Vec<(String, String)> = vec![];
        for (k, v) in url::form_urlencoded::parse(body) {
            if pairs.iter().any(|(seen, _)| *seen == k) {
                return Err(invalid_request(format!("parameter '{k}' is repeated")));
            }
            pairs.push((k.into_owned(), v.into_owned()));
        }
        Ok(Self(pairs))
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    fn require(&self, name: &str) -> ProtocolResult<&str> {
        self.get(name)
            .ok_or_else(|| invalid_request(format!("{name} is required")))
    }
}

/// Client authentication from the Authorization header or the body (RFC 6749 §2.3): one
/// method only.
fn client_auth(headers: &HeaderMap, form: &Form) -> ProtocolResult<ClientAuth> {
    let body_id = form.get("client_id");
    let body_secret = form.get("client_secret");
    if let Some(h) = headers.get(header::AUTHORIZATION) {
        let h = h
            .to_str()
            .map_err(|_| invalid_request("malformed Authorization header"))?;
        let (client_id, secret) = parse_basic(h)?;
        if body_secret.is_some() {
            return Err(invalid_request(
                "use one client authentication method: Basic or client_secret, not both",
            ));
        }
        if body_id.is_some_and(|b| b != client_id) {
            return Err(invalid_request(
                "client_id differs from the Basic credentials",
            ));
        }
        return Ok(ClientAuth::Basic { client_id, secret });
    }
    match (body_id, body_secret) {
        (Some(id), Some(secret)) => Ok(ClientAuth::Post {
            client_id: id.to_owned(),
            secret: secret.to_owned(),
        }),
        (Some(id), None) => Ok(ClientAuth::None {
            client_id: id.to_owned(),
        }),
        (None, _) => Err(ProtocolError(OAuthError::InvalidClient {
            message: "client authentication required".into(),
            basic: false,
        })),
    }
}

fn no_store(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    res
}

/// `POST …/oauth/token`.
async fn token(
    State(state): State<AppState>,
    Path(org): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ProtocolResult<Response> {
    let form = Form::parse(&headers, &body)?;
    let grant_type = form.require("grant_type")?;
    let auth = client_auth(&headers, &form)?;
    let s = &state.services;
    let out = match grant_type {
        "client_credentials" => {
            s.client_credentials(&org, &auth, form.get("scope"), form.get("resource"))
                .await?
        }
        other => {
            return Err(ProtocolError(OAuthError::UnsupportedGrantType(format!(
                "unsupported grant type '{other}'"
            ))))
        }
    };
    Ok(no_store(Json(out).into_response()))
}

/// `POST …/oauth/introspect` (RFC 7662).
async fn introspect(
    State(state): State<AppState>,
    Path(org): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ProtocolResult<Response> {
    let form = Form::parse(&headers, &body)?;
    let auth = client_auth(&headers, &form)?;
    let token = form.require("token")?;
    let v = state.services.introspect(&org, &auth, token).await?;
    Ok(no_store(Json(v).into_response()))
}

/// `POST …/oauth/revoke` (RFC 7009): 200 with an empty body, also for unknown tokens.
async fn revoke(
    State(state): State<AppState>,
    Path(org): Path<String>,
    req: Request,
) -> ProtocolResult<Response> {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 64 * 1024)
        .await
        .map_err(|_| invalid_request("the body is too large"))?;
    let form = Form::parse(&parts.headers, &body)?;
    let auth = client_auth(&parts.headers, &form)?;
    let token = form.require("token")?;
    let (ip, request_id) = crate::auth::request_origin(&parts);
    state
        .services
        .revoke(&org, &auth, token, ip, request_id)
        .await?;
    Ok(no_store(StatusCode::OK.into_response()))
}

/// What the authorization server implements, for both discovery documents.
fn metadata(issuer: &str) -> Value {
    let auth_methods = json!(["client_secret_basic", "client_secret_post"]);
    json!({
        "issuer": issuer,
        "token_endpoint": format!("{issuer}/api/v1/oauth/token"),
        "jwks_uri": format!("{issuer}/api/v1/oauth/jwks"),
        "introspection_endpoint": format!("{issuer}/api/v1/oauth/introspect"),
        "revocation_endpoint": format!("{issuer}/api/v1/oauth/revoke"),
        "grant_types_supported": ["client_credentials"],
        "response_types_supported": [],
        "token_endpoint_auth_methods_supported": auth_methods,
        "introspection_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256", "ES256", "EdDSA"],
    })
}

async fn discovery(state: &AppState, org: &str) -> ProtocolResult<Response> {
    let org = state.services.protocol_org(org).await?;
    let issuer = state.services.issuer(&org.slug);
    let mut res = Json(metadata(&issuer)).into_response();
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    Ok(res)
}

/// `GET /orgs/{org}/.well-known/openid-configuration` (OIDC Discovery 1.0 §4).
async fn openid_configuration(
    State(state): State<AppState>,
    Path(org): Path<String>,
) -> ProtocolResult<Response> {
    discovery(&state, &org).await
}

/// `GET /.well-known/oauth-authorization-server/orgs/{org}` (RFC 8414 §3) and the same under
/// the organization's own path.
async fn as_metadata(
    State(state): State<AppState>,
    Path(org): Path<String>,
) -> ProtocolResult<Response> {
    discovery(&state, &org).await
}

/// `GET …/oauth/jwks`: the published keys (RFC 7517 §5).
async fn jwks(State(state): State<AppState>, Path(org): Path<String>) -> ProtocolResult<Response> {
    let org = state.services.protocol_org(&org).await?;
    let keys = state.services.jwks(&org).await.map_err(OAuthError::from)?;
    let mut res = Json(keys).into_response();
    // Short, so that a rotation reaches relying parties soon.
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=60"),
    );
    Ok(res)
}
