//! Prometheus metrics: request counts and latencies by method and status class, rendered in
//! the OpenMetrics text format at `/metrics`.

use std::sync::OnceLock;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    method: String,
    status: String,
}

fn latency_histogram() -> Histogram {
    // 0.25 ms to ~8 s.
    Histogram::new(exponential_buckets(0.000_25, 2.0, 16))
}

/// The process's metrics.
pub struct Metrics {
    registry: Registry,
    requests: Family<HttpLabels, Counter>,
    latency: Family<HttpLabels, Histogram, fn() -> Histogram>,
    /// The series of each method (`METHODS`, then `other`) and status class, made on first
    /// use; they share their values with the families'.
    ready: [OnceLock<(Counter, Histogram)>; (METHODS.len() + 1) * CLASSES],
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("tessera");
        let requests = Family::<HttpLabels, Counter>::default();
        let latency: Family<HttpLabels, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(latency_histogram);
        registry.register(
            "http_requests",
            "HTTP requests answered, by method and status class",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer HTTP requests",
            latency.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            ready: std::array::from_fn(|_| OnceLock::new()),
        }
    }

    /// The exposition with the connection refresh figures of the service layer appended.
    pub fn render_with(
        &self,
        c: &tessera_core::connection_worker::ConnectionMetrics,
        caches: &[tessera_core::cache::CacheFigures],
    ) -> String {
        use std::fmt::Write as _;
        use std::sync::atomic::Ordering::Relaxed;
        let mut out = self.render();
        let tail = out.rfind("# EOF").unwrap_or(out.len());
        out.truncate(tail);
        let counters = [
            (
                "tessera_connection_refreshes",
                "Platform tokens refreshed",
                c.refreshed.load(Relaxed),
            ),
            (
                "tessera_connection_refresh_failures",
                "Refreshes the platform refused (the connection needs a reconnect)",
                c.refresh_failed.load(Relaxed),
            ),
            (
                "tessera_connection_refresh_retries",
                "Refreshes that failed transiently and were scheduled again",
                c.refresh_retried.load(Relaxed),
            ),
            (
                "tessera_connection_validations",
                "Access tokens validated (Twitch, hourly)",
                c.validated.load(Relaxed),
            ),
        ];
        for (name, help, v) in counters {
            let _ = write!(
                out,
                "# HELP {name} {help}.\n# TYPE {name} counter\n{name}_total {v}\n"
            );
        }
        let gauges = [
            (
                "tessera_connections",
                "Platform connections",
                c.connections.load(Relaxed),
            ),
            (
                "tessera_connections_refresh_failed",
                "Connections whose refresh failed",
                c.failed_connections.load(Relaxed),
            ),
            (
                "tessera_connection_oldest_token_age_seconds",
                "Age of the oldest access token in use",
                c.oldest_token_age_seconds.load(Relaxed),
            ),
        ];
        for (name, help, v) in gauges {
            let _ = write!(
                out,
                "# HELP {name} {help}.\n# TYPE {name} gauge\n{name} {v}\n"
            );
        }
        type Figure = fn(&tessera_core::cache::CacheFigures) -> u64;
        let per_cache: [(&str, &str, &str, Figure); 4] = [
            (
                "tessera_cache_entries",
                "gauge",
                "Entries in each cache of the token path",
                |f| f.entries,
            ),
            (
                "tessera_cache_bytes",
                "gauge",
                "Approximate bytes the entries of each cache take",
                |f| f.bytes,
            ),
            (
                "tessera_cache_budget_bytes",
                "gauge",
                "The bytes each cache may take before the least used entries make room",
                |f| f.budget,
            ),
            (
                "tessera_cache_loads",
                "counter",
                "Lookups a cache could not answer, each followed by a database read",
                |f| f.loads,
            ),
        ];
        for (name, kind, help, value) in per_cache {
            let _ = writeln!(out, "# HELP {name} {help}.\n# TYPE {name} {kind}");
            let suffix = if kind == "counter" { "_total" } else { "" };
            for f in caches {
                let _ = writeln!(out, "{name}{suffix}{{cache=\"{}\"}} {}", f.name, value(f));
            }
        }
        out.push_str("# EOF\n");
        out
    }

    /// The OpenMetrics text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

/// The methods counted under their own name; any other is counted as `other`, so that a
/// client inventing methods (`FOO1`, `FOO2`, …) cannot add series to the exposition without
/// end.
const METHODS: [http::Method; 7] = [
    http::Method::GET,
    http::Method::POST,
    http::Method::PUT,
    http::Method::PATCH,
    http::Method::DELETE,
    http::Method::HEAD,
    http::Method::OPTIONS,
];

/// Status classes 0xx…5xx (anything above 599 counts as 5xx).
const CLASSES: usize = 6;

impl Metrics {
    /// Counts and times one answered request ([`crate::edge::Edge`]). The series of each
    /// method and status class are looked up once and kept: no label string is built or
    /// hashed per request. A series appears in the exposition at its first request.
    pub(crate) fn observe(&self, method: &http::Method, status: http::StatusCode, took: Duration) {
        let class = usize::from(status.as_u16() / 100).min(CLASSES - 1);
        let m = METHODS
            .iter()
            .position(|m| m == method)
            .unwrap_or(METHODS.len());
        let series = self.ready[m * CLASSES + class].get_or_init(|| {
            let labels = HttpLabels {
                method: METHODS
                    .get(m)
                    .map_or("other", http::Method::as_str)
                    .to_owned(),
                status: format!("{class}xx"),
            };
            (
                self.requests.get_or_create(&labels).clone(),
                self.latency.get_or_create(&labels).clone(),
            )
        });
        series.0.inc();
        series.1.observe(took.as_secs_f64());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_method_and_class_counts_and_invented_methods_are_other() {
        let m = Metrics::new();
        let ms = Duration::from_millis(1);
        m.observe(&http::Method::GET, http::StatusCode::OK, ms);
        m.observe(&http::Method::GET, http::StatusCode::NO_CONTENT, ms);
        m.observe(&http::Method::POST, http::StatusCode::UNAUTHORIZED, ms);
        for invented in [&b"FOO1"[..], b"FOO2", b"PURGE"] {
            let method = http::Method::from_bytes(invented).unwrap_or_else(|_| unreachable!());
            m.observe(&method, http::StatusCode::NOT_FOUND, ms);
        }
        let out = m.render();
        for line in [
            r#"tessera_http_requests_total{method="GET",status="2xx"} 2"#,
            r#"tessera_http_requests_total{method="POST",status="4xx"} 1"#,
            r#"tessera_http_requests_total{method="other",status="4xx"} 3"#,
            r#"tessera_http_request_duration_seconds_count{method="GET",status="2xx"} 2"#,
        ] {
            assert!(out.contains(line), "{line} missing from:\n{out}");
        }
        // No series for what was never answered, nor one per invented method.
        assert!(!out.contains(r#"method="DELETE""#), "{out}");
        assert!(!out.contains("FOO") && !out.contains("PURGE"), "{out}");
    }
}
