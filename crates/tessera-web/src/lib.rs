//! Tessera's HTTP faces on axum: operations endpoints (`/healthz`, `/readyz`, `/metrics`) and
//! the admin REST API, with the middleware stack and the one mapping of service errors to
//! HTTP responses ([`error`]).
//!
//! Handlers are thin: they parse the request into service input, call one
//! `tessera_core::Services` method and render its result. Business rules live in the service
//! layer, never here. Route paths are constants in [`paths`].

pub mod account;
pub mod admin;
pub mod auth;
pub mod connections;
pub mod console;
pub mod cookies;
pub mod edge;
pub mod error;
pub mod explorer;
pub mod graphiql;
pub mod graphql;
pub mod graphql_cost;
pub mod json;
pub mod metrics;
pub mod oauth;
pub mod openapi;
pub mod ops;
pub mod pages;
pub mod paths;
pub mod register;
pub mod server;
pub mod system;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use http::header::{AUTHORIZATION, COOKIE, SET_COOKIE};
use http::{HeaderName, StatusCode};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::sensitive_headers::{
    SetSensitiveRequestHeadersLayer, SetSensitiveResponseHeadersLayer,
};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use tessera_core::Services;

/// HTTP settings.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// The externally visible base URL; issuers derive from it.
    pub public_url: String,
    pub request_timeout: Duration,
    pub body_limit: usize,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            public_url: "http://127.0.0.1:8700".into(),
            request_timeout: Duration::from_secs(30),
            body_limit: 1024 * 1024,
        }
    }
}

/// What every handler can reach: one shared allocation, so that the state a layer or an
/// extractor clones for each request costs one reference count, not one per part.
#[derive(Clone)]
pub struct AppState(Arc<SharedState>);

impl std::ops::Deref for AppState {
    type Target = SharedState;

    fn deref(&self) -> &SharedState {
        &self.0
    }
}

/// The parts of [`AppState`].
pub struct SharedState {
    pub services: Arc<Services>,
    pub config: Arc<WebConfig>,
    pub metrics: Arc<metrics::Metrics>,
    /// The GraphQL admin schema, built once.
    pub graphql: Arc<graphql::AdminSchema>,
    /// Set when the process is shutting down: `/readyz` answers 503 so that load balancers
    /// stop sending requests, which are still served meanwhile.
    pub draining: Arc<std::sync::atomic::AtomicBool>,
}

impl AppState {
    pub fn new(services: Arc<Services>, config: WebConfig) -> Self {
        Self(Arc::new(SharedState {
            services,
            config: Arc::new(config),
            metrics: Arc::new(metrics::Metrics::new()),
            graphql: Arc::new(graphql::schema()),
            draining: Arc::default(),
        }))
    }
}

pub(crate) const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Request ids: random (version 4) UUIDs from a per-thread generator seeded once, rather than
/// one `getrandom` system call per request. An id names a request in the logs and traces; it
/// is no secret and guards nothing.
#[derive(Clone, Copy)]
struct RequestIds;

impl MakeRequestId for RequestIds {
    fn make_request_id<B>(&mut self, _: &http::Request<B>) -> Option<RequestId> {
        let id = uuid::Builder::from_random_bytes(fastrand::u128(..).to_le_bytes()).into_uuid();
        let mut buf = uuid::Uuid::encode_buffer();
        http::HeaderValue::from_str(id.hyphenated().encode_lower(&mut buf))
            .ok()
            .map(RequestId::new)
    }
}

/// The whole application with its middleware.
///
/// Layers wrap from the bottom up, so a request meets them in this order: request id is set
/// (or kept from the caller), secrets in headers are marked sensitive before anything can log
/// them, the trace span opens (with the request id), then [`edge::Edge`]: an invalid
/// organization slug in the path is a `404`; the body limit and the timeout apply, and the
/// route runs; on the way out the request id is copied to the response, and in
/// [`edge::Edge`] errors made by the layers below get the JSON error body, the request is
/// counted and timed, and every response gets `nosniff` (and `no-store` unless its handler
/// chose a cache policy).
pub fn router(state: AppState) -> Router {
    let admin = admin::router();
    Router::new()
        .merge(ops::router())
        .merge(graphiql::router())
        .merge(account::router())
        .merge(explorer::router())
        .merge(oauth::router(&state))
        .merge(console::router(&state))
        .nest(paths::ADMIN_BASE, admin.clone())
        .nest(paths::ADMIN_ALIAS_BASE, admin)
        .nest(paths::ORG_API_BASE, connections::router())
        .nest(paths::ORG_API_ALIAS_BASE, connections::router())
        .nest(
            paths::SYSTEM_BASE,
            system::router().merge(connections::system_router()),
        )
        .fallback(error::not_found_fallback)
        .layer(
            tower::ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID, RequestIds))
                .layer(SetSensitiveRequestHeadersLayer::new([
                    AUTHORIZATION,
                    COOKIE,
                ]))
                .layer(SetSensitiveResponseHeadersLayer::new([SET_COOKIE]))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(|req: &http::Request<_>| {
                            let id = req
                                .headers()
                                .get(REQUEST_ID)
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or("-");
                            let path = req.uri().path();
                            // The route as declared (`/orgs/{org}/…`), when one matched.
                            let route = req
                                .extensions()
                                .get::<axum::extract::MatchedPath>()
                                .map(axum::extract::MatchedPath::as_str);
                            let org = path
                                .strip_prefix("/orgs/")
                                .and_then(|rest| rest.split('/').next())
                                .unwrap_or("");
                            // The path only: query strings can carry codes and tokens.
                            let span = tracing::info_span!(
                                "http.request",
                                method = %req.method(),
                                path = %path,
                                route = route.unwrap_or(""),
                                org = org,
                                client_id = tracing::field::Empty,
                                request_id = %id,
                            );
                            // W3C `traceparent` from the caller, when traces are exported.
                            tessera_core::trace::set_parent(&span, req.headers());
                            span
                        })
                        .on_response(
                            tower_http::trace::DefaultOnResponse::new().level(tracing::Level::INFO),
                        ),
                )
                .layer(edge::EdgeLayer(Arc::clone(&state.metrics)))
                .layer(RequestBodyLimitLayer::new(state.config.body_limit))
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::REQUEST_TIMEOUT,
                    state.config.request_timeout,
                ))
                .layer(PropagateRequestIdLayer::new(REQUEST_ID)),
        )
        .with_state(state)
}

pub use server::{client_address, serve, ServerLimits};

#[cfg(test)]
mod tests {
    use tower_http::request_id::MakeRequestId;

    #[test]
    fn request_ids_are_distinct_version_4_uuids() {
        let req = http::Request::new(());
        let ids: std::collections::HashSet<String> = (0..1000)
            .map(|_| {
                let id = super::RequestIds
                    .make_request_id(&req)
                    .map(|r| r.header_value().to_str().unwrap_or_default().to_owned())
                    .unwrap_or_default();
                let uuid = uuid::Uuid::parse_str(&id).unwrap_or_default();
                assert_eq!(uuid.get_version_num(), 4, "{id}");
                id
            })
            .collect();
        assert_eq!(ids.len(), 1000);
    }
}
