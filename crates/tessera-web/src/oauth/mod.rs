//! The protocol endpoints of an organization (OAuth 2.0 / OpenID Connect): discovery (OIDC
//! Discovery 1.0 and RFC 8414, both paths), JWKS, token (RFC 6749 §3.2), introspection
//! (RFC 7662) and revocation (RFC 7009). Errors here use the RFC 6749 §5.2 format, not the
//! admin API's, and every token response is `Cache-Control: no-store` (§5.1).

mod authorize;
pub(crate) mod browser;
mod device;
mod discovery;
mod end_session;
mod form;
mod token;
mod userinfo;

use std::convert::Infallible;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use http::{header, HeaderValue, StatusCode};
use serde_json::json;
use tessera_core::tokens::OAuthError;

use crate::{paths, AppState};
use authorize::{authorize_get, authorize_post, consent, login, login_second_factor};
use device::{device_authorization, device_get, device_post};
use discovery::{as_metadata, jwks, openid_configuration};
use end_session::{end_session_get, end_session_post};
use token::{introspect, par, revoke, token};
use userinfo::{userinfo_get, userinfo_post};

pub fn router(state: &AppState) -> Router<AppState> {
    // Browsers may call these from an origin a client of the organization allows; never the
    // authorization endpoint or the pages.
    let cors = Router::new()
        .route(paths::OIDC_DISCOVERY, get(openid_configuration))
        .route(paths::AS_METADATA_WELL_KNOWN_FIRST, get(as_metadata))
        .route(paths::JWKS, get(jwks))
        .route(paths::USERINFO, get(userinfo_get).post(userinfo_post))
        .route(paths::TOKEN, post(token))
        .route(paths::REVOKE, post(revoke))
        .route(paths::PAR, post(par))
        .route(paths::DEVICE_AUTHORIZATION, post(device_authorization))
        .route_layer(CorsLayer(state.clone()));
    Router::new()
        .merge(cors)
        .route(paths::AS_METADATA, get(as_metadata))
        .route(paths::INTROSPECT, post(introspect))
        .route(paths::AUTHORIZE, get(authorize_get).post(authorize_post))
        .route(paths::LOGIN, post(login))
        .route(paths::LOGIN_SECOND_FACTOR, post(login_second_factor))
        .route(paths::CONSENT, post(consent))
        .route(paths::DEVICE, get(device_get).post(device_post))
        .route(paths::REGISTER, post(crate::register::register))
        .route(
            paths::REGISTERED_CLIENT,
            get(crate::register::read)
                .put(crate::register::update)
                .delete(crate::register::remove),
        )
        .route(
            paths::END_SESSION,
            get(end_session_get).post(end_session_post),
        )
}

/// CORS for the endpoints above (Fetch standard): the origin is echoed when a client of the
/// organization lists it in `allowedCorsOrigins`; a preflight is answered here.
#[derive(Clone)]
struct CorsLayer(AppState);

impl<S> tower::Layer<S> for CorsLayer {
    type Service = Cors<S>;

    fn layer(&self, inner: S) -> Cors<S> {
        Cors {
            inner,
            state: self.0.clone(),
        }
    }
}

/// The service of [`CorsLayer`]. A request without `Origin` (a server, not a browser) has
/// nothing to decide: it goes straight through and its response only says that it varies by
/// `Origin`, without a boxed future or a look at the organization's origins.
#[derive(Clone)]
struct Cors<S> {
    inner: S,
    state: AppState,
}

type CorsFuture<F> = futures_util::future::Either<
    futures_util::future::Map<F, fn(Result<Response, Infallible>) -> Result<Response, Infallible>>,
    futures_util::future::BoxFuture<'static, Result<Response, Infallible>>,
>;

impl<S> tower::Service<Request> for Cors<S>
where
    S: tower::Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = CorsFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        use futures_util::FutureExt as _;
        if !req.headers().contains_key(header::ORIGIN) && req.method() != http::Method::OPTIONS {
            let vary: fn(Result<Response, Infallible>) -> Result<Response, Infallible> = |res| {
                res.map(|mut r| {
                    r.headers_mut()
                        .append(header::VARY, HeaderValue::from_static("Origin"));
                    r
                })
            };
            return futures_util::future::Either::Left(self.inner.call(req).map(vary));
        }
        // The service that was made ready goes into the future; a clone stays (tower's rule).
        let clone = self.inner.clone();
        let ready = std::mem::replace(&mut self.inner, clone);
        futures_util::future::Either::Right(Box::pin(cors(self.state.clone(), req, ready)))
    }
}

async fn cors<S>(state: AppState, req: Request, mut inner: S) -> Result<Response, Infallible>
where
    S: tower::Service<Request, Response = Response, Error = Infallible>,
{
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let org = req
        .uri()
        .path()
        .strip_prefix("/orgs/")
        .and_then(|p| p.split('/').next())
        .unwrap_or("")
        .to_owned();
    let allowed = match &origin {
        Some(o) => state.services.cors_allowed(&org, o).await,
        None => false,
    };
    let preflight = req.method() == http::Method::OPTIONS;
    let mut res = if preflight {
        StatusCode::NO_CONTENT.into_response()
    } else {
        inner.call(req).await?
    };
    let h = res.headers_mut();
    h.append(header::VARY, HeaderValue::from_static("Origin"));
    if let (true, Some(o)) = (allowed, origin) {
        if let Ok(v) = HeaderValue::from_str(&o) {
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
        }
        // A browser client reads the server's DPoP nonce (RFC 9449 §8) and challenges.
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("DPoP-Nonce, WWW-Authenticate"),
        );
        if preflight {
            h.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("GET, POST"),
            );
            h.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static("Authorization, Content-Type, DPoP"),
            );
            h.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static("600"),
            );
        }
    }
    Ok(res)
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
            OAuthError::InvalidClient { .. } | OAuthError::InvalidToken(_) => {
                StatusCode::UNAUTHORIZED
            }
            OAuthError::InsufficientScope(_) => StatusCode::FORBIDDEN,
            OAuthError::NotFound(_) => StatusCode::NOT_FOUND,
            OAuthError::ServerError(_) => StatusCode::INTERNAL_SERVER_ERROR,
            OAuthError::TemporarilyUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            OAuthError::TooManyAttempts(_) => StatusCode::TOO_MANY_REQUESTS,
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
        match &e {
            // RFC 6749 §5.2: a 401 names the authentication scheme.
            OAuthError::InvalidClient { .. } => {
                h.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"tessera\""),
                );
            }
            // RFC 6750 §3.
            OAuthError::InvalidToken(_) | OAuthError::InsufficientScope(_) => {
                let v = format!("Bearer realm=\"tessera\", error=\"{}\"", e.code());
                if let Ok(v) = HeaderValue::from_str(&v) {
                    h.insert(header::WWW_AUTHENTICATE, v);
                }
            }
            OAuthError::TooManyAttempts(_) => {
                h.insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
            }
            _ => {}
        }
        res
    }
}

type ProtocolResult<T> = Result<T, ProtocolError>;

fn invalid_request(m: impl Into<String>) -> ProtocolError {
    ProtocolError(OAuthError::InvalidRequest(m.into()))
}
