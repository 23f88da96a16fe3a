//! Structured logs on stderr (stdout is kept for machine-readable command output), as text or
//! JSON. Secrets never reach a log: request headers that carry them are marked sensitive by
//! the HTTP layer, and the service layer logs no secret values.

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the global subscriber. `default_level` applies when neither `TESSERA_LOG` nor the
/// configuration names one.
pub fn init(format: LogFormat, level: Option<&str>, default_level: &str) {
    let filter = std::env::var("TESSERA_LOG")
        .ok()
        .or_else(|| level.map(str::to_owned))
        .unwrap_or_else(|| default_level.to_owned());
    let filter = EnvFilter::try_new(&filter).unwrap_or_else(|_| EnvFilter::new(default_level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}
