//! Guards every request meets before any handler: the organization named in the path is a
//! valid slug (or the answer is `404`), and every response carries the security headers that
//! no handler may forget: `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY`,
//! `Referrer-Policy: no-referrer`, a Content-Security-Policy that loads nothing unless the
//! page set its own, and `Cache-Control: no-store` unless the handler chose a cache policy.
//! Pages set only what is theirs: their Content-Security-Policy.
//!
//! One place, so that a new route cannot miss them, and one middleware ([`Edge`]) for these
//! guards, the JSON body of the framework's own errors and the request metrics, written as a
//! tower service: a `from_fn` layer costs each request a boxed future and a clone of the
//! inner service, and this is the path of every token. This module reads only the request's
//! method and path and the response's status and headers; it knows nothing of the services.

use std::borrow::Cow;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use http::{header, HeaderValue, StatusCode};
use tessera_domain::OrgSlug;

use crate::error::ApiError;
use crate::metrics::Metrics;

/// The organization segment of a path, percent-decoded, if the path names one:
/// `/orgs/{org}/…`, `/t/{org}/…` and `/.well-known/oauth-authorization-server/orgs/{org}`.
/// Borrowed from the path unless it has something encoded.
pub fn org_segment(path: &str) -> Option<Cow<'_, str>> {
    let rest = path
        .strip_prefix("/orgs/")
        .or_else(|| path.strip_prefix("/t/"))
        .or_else(|| path.strip_prefix("/.well-known/oauth-authorization-server/orgs/"))?;
    let raw = rest.split('/').next().unwrap_or_default();
    if !raw.contains('%') {
        return Some(Cow::Borrowed(raw));
    }
    Some(Cow::Owned(
        percent_decode(raw).unwrap_or_else(|| "\u{fffd}".to_owned()),
    ))
}

/// `%XX` decoding of one path segment; `None` when the result is not UTF-8 or a `%` is not
/// followed by two hex digits.
fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// A path whose organization segment is not a valid slug answers `404` before any handler,
/// page, cookie or log line can use it (a slug such as `x; Domain=evil.example` must never
/// reach a `Set-Cookie`).
fn slug_refusal(req: &Request) -> Option<Response> {
    // Inside a nested router the URI has lost its prefix; the original keeps it.
    let path = req
        .extensions()
        .get::<axum::extract::OriginalUri>()
        .map_or(req.uri().path(), |u| u.0.path());
    let seg = org_segment(path)?;
    (!OrgSlug::is_valid(&seg)).then(|| ApiError::not_found("no such organization").into_response())
}

/// The layer of [`Edge`], with the metrics it counts responses in.
#[derive(Clone)]
pub struct EdgeLayer(pub Arc<Metrics>);

impl<S> tower::Layer<S> for EdgeLayer {
    type Service = Edge<S>;

    fn layer(&self, inner: S) -> Edge<S> {
        Edge {
            inner,
            metrics: Arc::clone(&self.0),
        }
    }
}

/// Middleware, once per request: the organization slug guard, then the route; on the way
/// out the JSON error body for the framework's own errors
/// ([`crate::error::with_json_error`]), the request counted and timed, and the security
/// headers. A tower service of its own rather than `from_fn`: no boxed future and no clone
/// of the inner service per request.
#[derive(Clone)]
pub struct Edge<S> {
    inner: S,
    metrics: Arc<Metrics>,
}

impl<S, B> tower::Service<Request> for Edge<S>
where
    S: tower::Service<Request, Response = http::Response<B>, Error = Infallible>,
    B: axum::body::HttpBody<Data = axum::body::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = EdgeFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let start = Instant::now();
        let method = req.method().clone();
        // Kept only for the description of an error without a body (a cheap clone of shared
        // bytes).
        let uri = req.uri().clone();
        let (refused, inner) = match slug_refusal(&req) {
            Some(refused) => (Some(refused), None),
            None => (None, Some(self.inner.call(req))),
        };
        EdgeFuture {
            inner,
            refused,
            done: Some(Done {
                start,
                method,
                uri,
                metrics: Arc::clone(&self.metrics),
            }),
        }
    }
}

/// What [`Edge`] needs once the response is there.
struct Done {
    start: Instant,
    method: http::Method,
    uri: http::Uri,
    metrics: Arc<Metrics>,
}

impl Done {
    fn finish(self, res: Response) -> Response {
        let mut res = crate::error::with_json_error(&self.method, self.uri.path(), res);
        self.metrics
            .observe(&self.method, res.status(), self.start.elapsed());
        security_headers(res.headers_mut());
        res
    }
}

pin_project_lite::pin_project! {
    /// The future of [`Edge`]: the route's, or the refusal of a bad slug.
    pub struct EdgeFuture<F> {
        #[pin]
        inner: Option<F>,
        refused: Option<Response>,
        done: Option<Done>,
    }
}

impl<F, B> Future for EdgeFuture<F>
where
    F: Future<Output = Result<http::Response<B>, Infallible>>,
    B: axum::body::HttpBody<Data = axum::body::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let res = match (this.refused.take(), this.inner.as_mut().as_pin_mut()) {
            (Some(refused), _) => refused,
            (None, Some(inner)) => match inner.poll(cx) {
                // The body as axum's own (what `from_fn` made of it too); the route's future
                // is done with, so it is never polled again.
                Poll::Ready(Ok(res)) => {
                    this.inner.set(None);
                    res.map(axum::body::Body::new)
                }
                Poll::Pending => return Poll::Pending,
            },
            // Polled again after it answered: a caller's bug, answered as a server error.
            (None, None) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        };
        let res = match this.done.take() {
            Some(done) => done.finish(res),
            None => res,
        };
        Poll::Ready(Ok(res))
    }
}

/// The policy of a response that sets none: load nothing, be framed by nobody.
pub const DEFAULT_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

/// The security headers of every response. `nosniff`; no framing anywhere (the
/// login, consent and console pages are what clickjacking would target, and nothing of
/// Tessera is meant to be embedded); no `Referer` from our pages or redirects, whose
/// addresses carry codes, states and organization names; a Content-Security-Policy that loads
/// nothing for a response without its own. And `no-store` (with `Pragma: no-cache` for
/// HTTP/1.0 caches) on every response whose handler set no `Cache-Control`, since tokens,
/// secrets and keys travel in many of them (RFC 6749 §5.1) and a cacheable default would leak
/// the next one a handler adds. Discovery, JWKS and static assets set their own public policy.
pub fn security_headers(h: &mut http::HeaderMap) {
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(DEFAULT_CSP),
        );
    }
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    }
}

/// Whether a form was posted from another site (a login, consent, device or logout form
/// must come from Tessera's own page). `Sec-Fetch-Site`, where the browser sends it, says so
/// outright: anything but `same-origin` (or `none`, a request the user made) is refused. An
/// `Origin` that is neither the public URL's origin nor this host is refused too. `Origin:
/// null` proves nothing either way (browsers send it for forms of pages with
/// `Referrer-Policy: no-referrer`, as ours are), so the form's browser-bound CSRF token
/// remains the wall that always stands.
pub fn cross_site(headers: &http::HeaderMap, public_url: &str) -> bool {
    let fetch_site = headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .map(str::to_ascii_lowercase);
    if let Some(site) = fetch_site {
        if site != "same-origin" && site != "none" {
            return true;
        }
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return false;
    };
    let Ok(origin) = origin.to_str() else {
        return true;
    };
    let origin = origin.trim().to_ascii_lowercase();
    if origin == "null" {
        return false;
    }
    let public = url::Url::parse(public_url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default();
    if origin == public {
        return false;
    }
    // The same host under another name than the public URL's (`localhost` for
    // `127.0.0.1`): a page of another site cannot make the browser send this host.
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_ascii_lowercase);
    let same_host = host.is_some_and(|h| {
        origin
            .split_once("://")
            .is_some_and(|(_, authority)| authority == h)
    });
    !same_host
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// What a handler returns, through the middleware.
    async fn through_edge(res: Response) -> Response {
        use tower::ServiceExt;
        let res = std::sync::Mutex::new(Some(res));
        let res = std::sync::Arc::new(res);
        let app = axum::Router::new()
            .route(
                "/",
                axum::routing::get(move || {
                    let res = std::sync::Arc::clone(&res);
                    async move { res.lock().unwrap().take().unwrap() }
                }),
            )
            .layer(EdgeLayer(Arc::new(Metrics::new())));
        app.oneshot(Request::new(axum::body::Body::empty()))
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn every_response_gets_the_security_headers_and_keeps_its_own_policy() {
        let page = crate::pages::error("x");
        let own_csp = page.headers()[header::CONTENT_SECURITY_POLICY].clone();
        let h = through_edge(page).await.headers().clone();
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["x-frame-options"], "DENY");
        assert_eq!(h["referrer-policy"], "no-referrer");
        assert_eq!(h["cache-control"], "no-store");
        assert_eq!(h[header::CONTENT_SECURITY_POLICY], own_csp);

        let json = axum::Json(serde_json::json!({"a": 1})).into_response();
        let h = through_edge(json).await.headers().clone();
        assert_eq!(h["content-security-policy"], DEFAULT_CSP);
        assert_eq!(h["x-frame-options"], "DENY");

        let mut public = "{}".into_response();
        public.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=60"),
        );
        let h = through_edge(public).await.headers().clone();
        assert_eq!(h["cache-control"], "public, max-age=60");
        assert!(h.get("pragma").is_none());
    }

    #[tokio::test]
    async fn the_future_answers_once_and_a_slug_refusal_skips_the_route() {
        use tower::{Layer as _, Service as _};
        let route =
            tower::service_fn(|_: Request| async { Ok::<_, Infallible>("route".into_response()) });
        let mut svc = EdgeLayer(Arc::new(Metrics::new())).layer(route);
        let mut fut = Box::pin(svc.call(Request::new(axum::body::Body::empty())));
        let mut cx = Context::from_waker(std::task::Waker::noop());
        let Poll::Ready(Ok(first)) = fut.as_mut().poll(&mut cx) else {
            panic!("the route answers at once")
        };
        assert_eq!(first.status(), StatusCode::OK);
        assert_eq!(first.headers()["x-frame-options"], "DENY");
        let Poll::Ready(Ok(again)) = fut.as_mut().poll(&mut cx) else {
            panic!("a second poll answers too")
        };
        assert_eq!(again.status(), StatusCode::INTERNAL_SERVER_ERROR);

        let bad = Request::get("/orgs/Bad_Slug/api/v1/oauth/token")
            .body(axum::body::Body::empty())
            .unwrap();
        let res = svc.call(bad).await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        assert_eq!(res.headers()["content-type"], "application/json");
    }

    #[test]
    fn the_org_segment_is_found_and_decoded() {
        assert_eq!(org_segment("/orgs/acme/api/v1").as_deref(), Some("acme"));
        assert_eq!(org_segment("/t/acme").as_deref(), Some("acme"));
        assert_eq!(
            org_segment("/.well-known/oauth-authorization-server/orgs/acme").as_deref(),
            Some("acme")
        );
        assert_eq!(
            org_segment("/orgs/x%3B%20Domain%3Devil.example/api").as_deref(),
            Some("x; Domain=evil.example")
        );
        assert_eq!(org_segment("/orgs/%ZZ/x").as_deref(), Some("\u{fffd}"));
        assert_eq!(org_segment("/orgs/%ff/x").as_deref(), Some("\u{fffd}"));
        assert_eq!(org_segment("/healthz"), None);
        assert_eq!(org_segment("/login"), None);
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> http::HeaderMap {
        let mut h = http::HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn cross_site_posts_are_recognised() {
        let public = "https://id.example.com";
        let same = [
            headers(&[]),
            headers(&[("origin", "https://id.example.com")]),
            headers(&[("origin", "null"), ("sec-fetch-site", "same-origin")]),
            headers(&[
                ("origin", "http://localhost:8700"),
                ("host", "localhost:8700"),
            ]),
            headers(&[("sec-fetch-site", "none")]),
        ];
        for h in same {
            assert!(!cross_site(&h, public), "{h:?}");
        }
        let cross = [
            headers(&[("origin", "https://evil.example")]),
            headers(&[("origin", "https://id.example.com.evil.example")]),
            headers(&[("sec-fetch-site", "cross-site")]),
            headers(&[("sec-fetch-site", "same-site")]),
            headers(&[("origin", "null"), ("sec-fetch-site", "cross-site")]),
            headers(&[
                ("origin", "http://evil.example"),
                ("host", "id.example.com"),
            ]),
        ];
        for h in cross {
            assert!(cross_site(&h, public), "{h:?}");
        }
    }

    proptest::proptest! {
        /// Whatever the path, a segment that passes the slug rule is made only of slug
        /// characters: nothing that could end a cookie attribute or a header.
        #[test]
        fn a_segment_that_parses_is_inert(path in "/orgs/[ -~]{0,40}") {
            if let Some(seg) = org_segment(&path) {
                if OrgSlug::parse(&seg).is_ok() {
                    proptest::prop_assert!(seg.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
                }
            }
        }
    }
}
