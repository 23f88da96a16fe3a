//! Layered configuration: built-in defaults < TOML file (`--config` / `TESSERA_CONFIG`) <
//! environment (`TESSERA_*`) < command-line flags. Flags and environment arrive together
//! through clap (a flag wins over its variable); the file fills what both left open.
//! Unknown keys in the file are errors, so a typo cannot silently do nothing.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use secrecy::SecretString;
use serde::Deserialize;

/// The file's shape. Every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    #[serde(default)]
    pub server: FileServer,
    #[serde(default)]
    pub log: FileLog,
    #[serde(default)]
    pub security: FileSecurity,
    #[serde(default)]
    pub connections: FileConnections,
    #[serde(default)]
    pub webhooks: FileWebhooks,
    #[serde(default)]
    pub telemetry: FileTelemetry,
    /// `[providers.twitch]`, `[providers.youtube]`, …: endpoint and scope overrides.
    #[serde(default)]
    pub providers: std::collections::BTreeMap<String, tessera_connect::ProviderOverrides>,
}

/// `[telemetry]`: OpenTelemetry traces over OTLP (off unless an endpoint is given).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileTelemetry {
    /// The collector's OTLP/HTTP base URL, e.g. `http://otel-collector:4318` (spans go to
    /// `/v1/traces`). `OTEL_EXPORTER_OTLP_ENDPOINT` sets it too.
    pub otlp_endpoint: Option<String>,
    /// `service.name` of the spans (default `tessera`).
    pub service_name: Option<String>,
    /// Milliseconds between two exports of finished spans (default 5000).
    pub export_interval_ms: Option<u64>,
}

/// Where and how traces are exported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Telemetry {
    pub otlp_endpoint: String,
    pub service_name: String,
    pub export_interval: std::time::Duration,
}

/// `[webhooks]`: how deliveries are made and retried (docs/automation.md).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileWebhooks {
    /// Accept `http://` loopback receivers and deliver to loopback and private addresses
    /// (default false; a Tessera on a loopback `http://` URL, a development one, allows
    /// loopback receivers anyway).
    pub allow_internal_urls: Option<bool>,
    /// Milliseconds before the first retry; each further one doubles (default 5000).
    pub retry_base_ms: Option<u64>,
    /// Seconds an event is retried before its delivery fails (default 86400).
    pub give_up_after_secs: Option<u64>,
    /// Seconds of nothing but failures after which a subscription is disabled (default 86400).
    pub disable_after_secs: Option<u64>,
    /// Seconds a receiver may take to answer (default 10).
    pub timeout_secs: Option<u64>,
    /// Milliseconds between two looks for due deliveries (default 1000).
    pub poll_interval_ms: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConnections {
    /// Run the token refresh worker inside `serve` (default true; false when it runs
    /// separately as `tessera worker`).
    pub worker: Option<bool>,
    /// Seconds between two passes of the refresh worker (default 5).
    pub refresh_interval_secs: Option<u64>,
    /// Seconds a call to a platform may take (default 10).
    pub platform_timeout_secs: Option<u64>,
    /// Seconds an OBS or Streamer.bot connection test may take (default 5).
    pub integration_test_timeout_secs: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileServer {
    pub listen: Option<String>,
    pub public_url: Option<String>,
    pub request_timeout_secs: Option<u64>,
    pub body_limit_bytes: Option<usize>,
    /// Connections open at once (default 4096); more wait in the backlog.
    pub max_connections: Option<usize>,
    /// Seconds a client has to send a request's head, and that a keep-alive connection may
    /// sit idle (default 10).
    pub header_read_timeout_secs: Option<u64>,
    /// Seconds between SIGTERM and closing the listener, while `/readyz` answers 503 and
    /// requests are still served (default 0: close at once). Behind a load balancer, set it
    /// above the balancer's health-check interval.
    pub drain_seconds: Option<u64>,
    /// Addresses (`10.0.0.7`) and ranges (`10.0.0.0/8`) of the reverse proxies in front of
    /// Tessera, whose `X-Forwarded-For` gives the client's address (default none: the header
    /// is ignored).
    pub trusted_proxies: Option<Vec<String>>,
    /// Seconds between two writes of one API key's or client secret's `lastUsedAt` (default
    /// 60, at most a day): with tens of thousands of clients in use, each write is a row
    /// update, so large deployments write less often.
    pub last_used_interval_secs: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileLog {
    /// `text` or `json`.
    pub format: Option<String>,
    /// A tracing filter, e.g. `info` or `tessera=debug,info`.
    pub level: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSecurity {
    pub argon2_memory_kib: Option<u32>,
    pub argon2_iterations: Option<u32>,
    pub argon2_parallelism: Option<u32>,
    /// Seconds a just-used refresh token may be presented again without revoking its family.
    pub refresh_grace_seconds: Option<i64>,
    pub login_attempts_per_user_per_minute: Option<u32>,
    pub login_attempts_per_address_per_minute: Option<u32>,
    /// Fetch clients' `jwks_uri` from loopback and private addresses too (default false:
    /// public addresses only).
    pub allow_internal_jwks_uri: Option<bool>,
    /// DPoP proofs at the token and PAR endpoints must carry the server's nonce (RFC 9449 §8).
    pub dpop_require_nonce: Option<bool>,
}

/// Values from flags or the environment (clap merged those two).
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub config: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub listen: Option<String>,
    pub public_url: Option<String>,
    pub log_format: Option<String>,
    pub log_level: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// The effective configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub database_url: String,
    pub listen: SocketAddr,
    pub public_url: String,
    pub request_timeout: std::time::Duration,
    pub body_limit: usize,
    /// How often, at most, one key's or secret's `lastUsedAt` is written.
    pub last_used_interval: time::Duration,
    /// The HTTP server's connection cap and timeouts, and the trusted proxies.
    pub server_limits: tessera_web::ServerLimits,
    /// How long `/readyz` answers 503 after SIGTERM before the listener closes.
    pub drain: std::time::Duration,
    pub log_format: LogFormat,
    pub log_level: Option<String>,
    pub argon2: tessera_crypto::Argon2Params,
    pub refresh_grace_seconds: i64,
    pub login_attempts_per_user_per_minute: u32,
    pub login_attempts_per_address_per_minute: u32,
    pub allow_internal_jwks_uri: bool,
    pub dpop_require_nonce: bool,
    /// From `TESSERA_MASTER_KEY`; otherwise the key file in the data dir is used.
    pub master_key: Option<SecretString>,
    /// From `TESSERA_VAULT_KEYS`: the vault's keys, the current one first.
    pub vault_keys: Vec<SecretString>,
    pub providers: tessera_connect::Providers,
    pub run_worker: bool,
    pub refresh_interval: std::time::Duration,
    pub platform_timeout: std::time::Duration,
    pub integration_test_timeout: std::time::Duration,
    pub webhooks: tessera_core::webhooks::WebhookConfig,
    /// OTLP trace export; `None`: off.
    pub telemetry: Option<Telemetry>,
}

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8700";
pub const DEFAULT_DATA_DIR: &str = "./tessera-data";

/// Reads the file named by the overrides (if any) and merges the layers.
pub fn load(o: &Overrides) -> anyhow::Result<Config> {
    let file = match &o.config {
        Some(path) => read_file(path)?,
        None => FileConfig::default(),
    };
    let mut c = merge(o, file, std::env::var("TESSERA_MASTER_KEY").ok())?;
    c.vault_keys = parse_vault_keys(&std::env::var("TESSERA_VAULT_KEYS").unwrap_or_default())?;
    Ok(c)
}

fn positive_ms(v: Option<u64>, default: u64) -> anyhow::Result<u64> {
    match v.unwrap_or(default) {
        0 => anyhow::bail!("[telemetry] export_interval_ms must be greater than 0"),
        n => Ok(n),
    }
}

/// `TESSERA_VAULT_KEYS`: comma-separated 32-byte keys (base64url or hex), the current first.
pub fn parse_vault_keys(s: &str) -> anyhow::Result<Vec<SecretString>> {
    let mut out = Vec::new();
    for (i, k) in s
        .split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .enumerate()
    {
        if tessera_crypto::MasterKey::from_encoded(k).is_err() {
            bail!(
                "invalid TESSERA_VAULT_KEYS: key {} is not 32 bytes as base64url (43 characters) or hex (64 digits); make one with `tessera vault generate-key`",
                i + 1
            );
        }
        out.push(SecretString::from(k.to_owned()));
    }
    Ok(out)
}

fn read_file(path: &Path) -> anyhow::Result<FileConfig> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read config file {}", path.display()))?;
    toml::from_str(&text).map_err(|e| describe_toml_error(path, &text, &e))
}

/// The problem and its line, without the quoted source: the file may hold a database
/// password, which must not reach a terminal or a log.
fn describe_toml_error(path: &Path, text: &str, e: &toml::de::Error) -> anyhow::Error {
    let line = e
        .span()
        .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
    let message = e.message().replace('\n', " ");
    match line {
        Some(l) => anyhow::anyhow!(
            "invalid config file {} (line {l}): {}",
            path.display(),
            message.trim()
        ),
        None => anyhow::anyhow!("invalid config file {}: {}", path.display(), message.trim()),
    }
}

/// The layering itself, without touching the process environment (testable).
pub fn merge(o: &Overrides, f: FileConfig, master_key: Option<String>) -> anyhow::Result<Config> {
    let data_dir = o
        .data_dir
        .clone()
        .or(f.data_dir)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
    let database_url = o
        .database_url
        .clone()
        .or(f.database_url)
        .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("tessera.db").display()));
    let listen_s = o
        .listen
        .clone()
        .or(f.server.listen)
        .unwrap_or_else(|| DEFAULT_LISTEN.into());
    let listen: SocketAddr = listen_s.parse().with_context(|| {
        format!("invalid listen address '{listen_s}': expected HOST:PORT such as 127.0.0.1:8700")
    })?;
    let public_url = o
        .public_url
        .clone()
        .or(f.server.public_url)
        .unwrap_or_else(|| format!("http://{listen}"));
    if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
        bail!("invalid public URL '{public_url}': it must start with http:// or https://");
    }
    let public_url = public_url.trim_end_matches('/').to_owned();
    let log_format = match o
        .log_format
        .clone()
        .or(f.log.format)
        .as_deref()
        .unwrap_or("text")
    {
        "text" => LogFormat::Text,
        "json" => LogFormat::Json,
        other => bail!("invalid log format '{other}': use text or json"),
    };
    let defaults = tessera_crypto::Argon2Params::default();
    let argon2 = tessera_crypto::Argon2Params {
        memory_kib: f.security.argon2_memory_kib.unwrap_or(defaults.memory_kib),
        iterations: f.security.argon2_iterations.unwrap_or(defaults.iterations),
        parallelism: f
            .security
            .argon2_parallelism
            .unwrap_or(defaults.parallelism),
    };
    let last_used = f.server.last_used_interval_secs.unwrap_or(60);
    if !(60..=86_400).contains(&last_used) {
        bail!("invalid [server] last_used_interval_secs {last_used}: use 60 to 86400");
    }
    let refresh_grace_seconds = f.security.refresh_grace_seconds.unwrap_or(0);
    if !(0..=60).contains(&refresh_grace_seconds) {
        bail!("invalid [security] refresh_grace_seconds {refresh_grace_seconds}: use 0 to 60");
    }
    let per_user = f
        .security
        .login_attempts_per_user_per_minute
        .unwrap_or(tessera_core::limits::LOGIN_ATTEMPTS_PER_USER_PER_MINUTE);
    let per_address = f
        .security
        .login_attempts_per_address_per_minute
        .unwrap_or(tessera_core::limits::LOGIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE);
    if per_user == 0 || per_address == 0 {
        bail!("invalid [security] login attempt limits: they must be at least 1");
    }
    let defaults = tessera_web::ServerLimits::default();
    let server_limits = tessera_web::ServerLimits {
        max_connections: f.server.max_connections.unwrap_or(defaults.max_connections),
        header_read_timeout: f
            .server
            .header_read_timeout_secs
            .map_or(defaults.header_read_timeout, std::time::Duration::from_secs),
        drain_timeout: defaults.drain_timeout,
        trusted_proxies: f
            .server
            .trusted_proxies
            .iter()
            .flatten()
            .map(|p| {
                p.parse::<ipnet::IpNet>()
                    .or_else(|_| p.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| {
                        anyhow::anyhow!(
                            "invalid [server] trusted_proxies entry '{p}': give an address (10.0.0.7) or a range (10.0.0.0/8)"
                        )
                    })
            })
            .collect::<anyhow::Result<Vec<_>>>()?
            .into(),
    };
    if server_limits.max_connections == 0 || server_limits.header_read_timeout.is_zero() {
        bail!("invalid [server] limits: max_connections and header_read_timeout_secs must be at least 1");
    }
    for (name, p) in &f.providers {
        let platform = tessera_domain::Platform::parse(name)
            .map_err(|e| anyhow::anyhow!("invalid config [providers.{name}]: {}", e.message))?;
        let cfg = tessera_connect::ProviderConfig::with_overrides(platform, p);
        for (key, u) in cfg.urls() {
            if !(u.starts_with("https://") || u.starts_with("http://")) {
                bail!("invalid config [providers.{name}] {key} '{u}': it must be an http(s) URL");
            }
        }
    }
    let providers = tessera_connect::Providers::new(&f.providers);
    let secs = |v: Option<u64>, d: u64, key: &str| -> anyhow::Result<std::time::Duration> {
        match v.unwrap_or(d) {
            0 => bail!("invalid [connections] {key}: it must be at least 1"),
            n => Ok(std::time::Duration::from_secs(n)),
        }
    };
    let refresh_interval = secs(
        f.connections.refresh_interval_secs,
        5,
        "refresh_interval_secs",
    )?;
    let platform_timeout = secs(
        f.connections.platform_timeout_secs,
        10,
        "platform_timeout_secs",
    )?;
    let integration_test_timeout = secs(
        f.connections.integration_test_timeout_secs,
        5,
        "integration_test_timeout_secs",
    )?;
    let w = &f.webhooks;
    let positive = |v: Option<u64>, default: u64, name: &str| -> anyhow::Result<u64> {
        match v.unwrap_or(default) {
            0 => anyhow::bail!("[webhooks] {name} must be greater than 0"),
            n => Ok(n),
        }
    };
    let as_duration = |v: u64| time::Duration::seconds(i64::try_from(v).unwrap_or(i64::MAX / 1000));
    let webhooks = tessera_core::webhooks::WebhookConfig {
        allow_internal: w.allow_internal_urls.unwrap_or(false),
        retry_base: time::Duration::milliseconds(
            i64::try_from(positive(w.retry_base_ms, 5000, "retry_base_ms")?).unwrap_or(5000),
        ),
        give_up_after: as_duration(positive(
            w.give_up_after_secs,
            86_400,
            "give_up_after_secs",
        )?),
        disable_after: as_duration(positive(
            w.disable_after_secs,
            86_400,
            "disable_after_secs",
        )?),
        timeout: std::time::Duration::from_secs(positive(w.timeout_secs, 10, "timeout_secs")?),
        poll_interval: std::time::Duration::from_millis(positive(
            w.poll_interval_ms,
            1000,
            "poll_interval_ms",
        )?),
    };
    let t = &f.telemetry;
    let endpoint = t.otlp_endpoint.clone().or_else(|| {
        std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT")
            .ok()
            .filter(|e| !e.is_empty())
    });
    let telemetry = match endpoint {
        None => None,
        Some(e) => {
            let u = url::Url::parse(&e).map_err(|_| {
                anyhow::anyhow!("[telemetry] otlp_endpoint: '{e}' is not an http(s) URL")
            })?;
            if !matches!(u.scheme(), "http" | "https") {
                anyhow::bail!("[telemetry] otlp_endpoint: '{e}' is not an http(s) URL");
            }
            Some(Telemetry {
                otlp_endpoint: e.trim_end_matches('/').to_owned(),
                service_name: t.service_name.clone().unwrap_or_else(|| "tessera".into()),
                export_interval: std::time::Duration::from_millis(positive_ms(
                    t.export_interval_ms,
                    5000,
                )?),
            })
        }
    };
    Ok(Config {
        telemetry,
        webhooks,
        vault_keys: Vec::new(),
        providers,
        run_worker: f.connections.worker.unwrap_or(true),
        refresh_interval,
        platform_timeout,
        integration_test_timeout,
        data_dir,
        database_url,
        listen,
        public_url,
        request_timeout: std::time::Duration::from_secs(
            f.server.request_timeout_secs.unwrap_or(30),
        ),
        body_limit: f.server.body_limit_bytes.unwrap_or(1024 * 1024),
        last_used_interval: time::Duration::seconds(i64::try_from(last_used).unwrap_or(60)),
        server_limits,
        drain: std::time::Duration::from_secs(f.server.drain_seconds.unwrap_or(0)),
        log_format,
        log_level: o.log_level.clone().or(f.log.level),
        argon2,
        refresh_grace_seconds,
        login_attempts_per_user_per_minute: per_user,
        login_attempts_per_address_per_minute: per_address,
        allow_internal_jwks_uri: f.security.allow_internal_jwks_uri.unwrap_or(false),
        dpop_require_nonce: f.security.dpop_require_nonce.unwrap_or(false),
        master_key: master_key.filter(|k| !k.is_empty()).map(SecretString::from),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn file(s: &str) -> FileConfig {
        toml::from_str(s).unwrap()
    }

    #[test]
    fn defaults() {
        let c = merge(&Overrides::default(), FileConfig::default(), None).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8700");
        assert_eq!(c.public_url, "http://127.0.0.1:8700");
        assert_eq!(c.database_url, "sqlite://./tessera-data/tessera.db");
    }

    #[test]
    fn file_beats_defaults_and_overrides_beat_file() {
        let f = || {
            file("data_dir = \"/srv/t\"\n[server]\nlisten = \"0.0.0.0:9000\"\npublic_url = \"https://id.example.com/\"\n")
        };
        let c = merge(&Overrides::default(), f(), None).unwrap();
        assert_eq!(c.listen.to_string(), "0.0.0.0:9000");
        assert_eq!(c.public_url, "https://id.example.com");
        assert_eq!(c.database_url, "sqlite:///srv/t/tessera.db");
        let o = Overrides {
            listen: Some("127.0.0.1:1".into()),
            ..Default::default()
        };
        let c = merge(&o, f(), None).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:1");
        assert_eq!(c.public_url, "https://id.example.com");
    }

    #[test]
    fn drain_and_trusted_proxies() {
        let c = merge(&Overrides::default(), FileConfig::default(), None).unwrap();
        assert!(c.drain.is_zero() && c.server_limits.trusted_proxies.is_empty());
        let c = merge(
            &Overrides::default(),
            file("[server]\ndrain_seconds = 10\ntrusted_proxies = [\"10.0.0.0/8\", \"192.0.2.7\", \"::1\"]\n"),
            None,
        )
        .unwrap();
        assert_eq!(c.drain.as_secs(), 10);
        let nets: Vec<String> = c
            .server_limits
            .trusted_proxies
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(nets, ["10.0.0.0/8", "192.0.2.7/32", "::1/128"]);
        let e = merge(
            &Overrides::default(),
            file("[server]\ntrusted_proxies = [\"10.0.0.0/33\"]\n"),
            None,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("trusted_proxies entry '10.0.0.0/33'"), "{e}");
    }

    #[test]
    fn config_errors_name_the_line_but_never_quote_it() {
        let text = "database_url = \"postgres://u:hunter2@h/db\"\n[server]\nlisen = 1\n";
        let e = toml::from_str::<FileConfig>(text).unwrap_err();
        let msg = describe_toml_error(Path::new("t.toml"), text, &e).to_string();
        assert!(msg.contains("(line 3)") && msg.contains("lisen"), "{msg}");
        let broken = "database_url = \"postgres://u:hunter2@h/db\n";
        let e = toml::from_str::<FileConfig>(broken).unwrap_err();
        let msg = describe_toml_error(Path::new("t.toml"), broken, &e).to_string();
        assert!(!msg.contains("hunter2"), "{msg}");
    }

    #[test]
    fn providers_are_overridden_per_platform_and_checked() {
        let c = merge(
            &Overrides::default(),
            file("[providers.kick]\ntoken_url = \"http://127.0.0.1:9/t\"\n"),
            None,
        )
        .unwrap();
        let kick = c.providers.get(tessera_domain::Platform::Kick);
        assert_eq!(kick.token_url, "http://127.0.0.1:9/t");
        let e = merge(&Overrides::default(), file("[providers.discord]\n"), None).unwrap_err();
        assert!(e.to_string().contains("discord"), "{e}");
        let e = merge(
            &Overrides::default(),
            file("[providers.twitch]\napi_url = \"ftp://x\"\n"),
            None,
        )
        .unwrap_err();
        assert!(e.to_string().contains("api_url"), "{e}");
        assert!(parse_vault_keys("nope").is_err());
        assert_eq!(parse_vault_keys(&"ab".repeat(32)).unwrap().len(), 1);
    }

    #[test]
    fn bad_values_are_named() {
        let e = toml::from_str::<FileConfig>("[server]\nlisen = \"x\"").unwrap_err();
        assert!(e.to_string().contains("lisen"), "{e}");
        let o = Overrides {
            listen: Some("nowhere".into()),
            ..Default::default()
        };
        let e = merge(&o, FileConfig::default(), None).unwrap_err();
        assert!(
            e.to_string().contains("invalid listen address 'nowhere'"),
            "{e}"
        );
    }
}
