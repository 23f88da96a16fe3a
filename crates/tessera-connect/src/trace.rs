//! W3C trace context (`traceparent`, `tracestate`) across process boundaries, without tying the
//! library crates to a tracing backend: the binary installs the two functions when it exports
//! traces over OTLP; otherwise both are no-ops.

use std::sync::OnceLock;

use reqwest::header::HeaderMap;
use reqwest::RequestBuilder;

/// How trace context crosses process boundaries.
#[derive(Debug, Clone, Copy)]
pub struct Propagation {
    /// The headers that carry the current span's context to an outbound request.
    pub inject: fn() -> Vec<(String, String)>,
    /// Makes the context an inbound request carries the parent of `span`.
    pub extract: fn(&tracing::Span, &HeaderMap),
}

static HOOK: OnceLock<Propagation> = OnceLock::new();

/// Installs the propagation (once per process; later calls are ignored).
pub fn install(p: Propagation) {
    let _ = HOOK.set(p);
}

/// `req` with the current span's context, when traces are exported.
pub fn outbound(mut req: RequestBuilder) -> RequestBuilder {
    if let Some(h) = HOOK.get() {
        for (name, value) in (h.inject)() {
            req = req.header(name, value);
        }
    }
    req
}

/// Makes the context in `headers` (an inbound request's) the parent of `span`.
pub fn set_parent(span: &tracing::Span, headers: &HeaderMap) {
    if let Some(h) = HOOK.get() {
        (h.extract)(span, headers);
    }
}
