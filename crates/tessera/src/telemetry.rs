//! Structured logs on stderr (stdout is kept for machine-readable command output), as text or
//! JSON; and, when `[telemetry] otlp_endpoint` is set, OpenTelemetry traces over OTLP/HTTP.
//! Secrets never reach a log or a span: request headers that carry them are marked sensitive
//! by the HTTP layer, spans carry the path without its query, and the service layer logs no
//! secret values.
//!
//! Traces: a span per request (`http.request`: method, path, route, organization, client,
//! request id), children for each store call (`tessera_store`, at debug level so that they
//! cost nothing unless traces are exported) and each call to a platform or a receiver. The W3C
//! `traceparent` of an inbound request becomes the request span's parent, and outbound calls
//! carry their own.

use std::sync::OnceLock;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer as _};

use crate::config::{LogFormat, Telemetry};

/// The exporting provider, flushed by [`shutdown`].
static PROVIDER: OnceLock<SdkTracerProvider> = OnceLock::new();

/// Installs the global subscriber. `default_level` applies when neither `TESSERA_LOG` nor the
/// configuration names one.
pub fn init(
    format: LogFormat,
    level: Option<&str>,
    default_level: &str,
    traces: Option<&Telemetry>,
) -> anyhow::Result<()> {
    let filter = std::env::var("TESSERA_LOG")
        .ok()
        .or_else(|| level.map(str::to_owned))
        .unwrap_or_else(|| default_level.to_owned());
    let filter = EnvFilter::try_new(&filter).unwrap_or_else(|_| EnvFilter::new(default_level));
    let logs = match format {
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .json()
            .flatten_event(true)
            .with_filter(filter)
            .boxed(),
        LogFormat::Text => tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_filter(filter)
            .boxed(),
    };
    let otel = match traces {
        None => None,
        Some(t) => Some(otel_layer(t)?),
    };
    let _ = tracing_subscriber::registry()
        .with(logs)
        .with(otel)
        .try_init();
    Ok(())
}

fn otel_layer<S>(
    t: &Telemetry,
) -> anyhow::Result<Box<dyn tracing_subscriber::Layer<S> + Send + Sync>>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a> + Send + Sync,
{
    // The exporter's blocking HTTP client must not be made on an async runtime's thread, and
    // its TLS needs the process's crypto provider.
    tessera_connect::oauth::install_crypto_provider();
    let endpoint = format!("{}/v1/traces", t.otlp_endpoint);
    let exporter = std::thread::spawn(move || {
        opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(opentelemetry_otlp::Protocol::HttpJson)
            .with_endpoint(endpoint)
            .build()
    })
    .join()
    .map_err(|_| anyhow::anyhow!("the OTLP exporter could not be made"))?
    .map_err(|e| anyhow::anyhow!("[telemetry] otlp_endpoint: {e}"))?;
    let processor = opentelemetry_sdk::trace::BatchSpanProcessor::builder(exporter)
        .with_batch_config(
            opentelemetry_sdk::trace::BatchConfigBuilder::default()
                .with_scheduled_delay(t.export_interval)
                .build(),
        )
        .build();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(processor)
        .with_resource(
            opentelemetry_sdk::Resource::builder()
                .with_service_name(t.service_name.clone())
                .build(),
        )
        .build();
    let tracer = provider.tracer("tessera");
    let _ = PROVIDER.set(provider);
    opentelemetry::global::set_text_map_propagator(
        opentelemetry_sdk::propagation::TraceContextPropagator::new(),
    );
    tessera_core::trace::install(tessera_core::trace::Propagation { inject, extract });
    Ok(tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_filter(EnvFilter::new("info,tessera_store=debug"))
        .boxed())
}

/// The current span's `traceparent` (and `tracestate`) for an outbound request.
fn inject() -> Vec<(String, String)> {
    let cx = tracing::Span::current().context();
    let mut out = std::collections::HashMap::new();
    opentelemetry::global::get_text_map_propagator(|p| p.inject_context(&cx, &mut out));
    out.into_iter().collect()
}

struct Headers<'a>(&'a reqwest::header::HeaderMap);

impl opentelemetry::propagation::Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

/// Makes an inbound request's `traceparent` the parent of its span.
fn extract(span: &tracing::Span, headers: &reqwest::header::HeaderMap) {
    let cx = opentelemetry::global::get_text_map_propagator(|p| p.extract(&Headers(headers)));
    let _ = span.set_parent(cx);
}

/// Exports what is left (at the end of `serve` and `worker`).
pub fn shutdown() {
    if let Some(p) = PROVIDER.get() {
        let p = p.clone();
        let _ = std::thread::spawn(move || p.shutdown()).join();
    }
}
