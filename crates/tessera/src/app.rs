//! Wiring: the master key, the store (migrated), the services, the first-start bootstrap, and
//! the HTTP server with graceful shutdown on SIGTERM or Ctrl-C.

use std::sync::Arc;

use anyhow::Context as _;
use secrecy::ExposeSecret;
use tessera_core::{CoreConfig, Services};
use tessera_crypto::{MasterKey, SystemRng};
use tessera_domain::SystemClock;
use tessera_store::{Store, StoreOptions};

use crate::config::Config;

/// An opened database with its services.
pub struct App {
    pub store: Arc<dyn Store>,
    pub services: Arc<Services>,
}

/// The data dir, created `0700` (owner only) when it does not exist: it holds the master key
/// and the SQLite database.
fn create_data_dir(config: &Config) -> anyhow::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(&config.data_dir)
        .with_context(|| format!("cannot create data directory {}", config.data_dir.display()))
}

/// The master key: `TESSERA_MASTER_KEY`, or the 0600 key file in the data dir.
pub fn master_key(config: &Config) -> anyhow::Result<MasterKey> {
    match &config.master_key {
        Some(k) => Ok(MasterKey::from_encoded(k.expose_secret())?),
        None => {
            create_data_dir(config)?;
            Ok(MasterKey::load_or_create(
                &config.data_dir.join("master.key"),
                &SystemRng::new(),
            )?)
        }
    }
}

/// Opens and migrates the database, and bootstraps it on first use (printing the
/// administrator's credentials once, on stderr).
pub async fn open(config: &Config) -> anyhow::Result<App> {
    let master = master_key(config)?;
    if config.database_url.starts_with("sqlite:") {
        create_data_dir(config)?;
    }
    let vault_keys = config
        .vault_keys
        .iter()
        .map(|k| MasterKey::from_encoded(k.expose_secret()).map(Arc::new))
        .collect::<Result<Vec<_>, _>>()?;
    let store = tessera_store::connect(&config.database_url, &StoreOptions::default()).await?;
    store.migrate().await?;
    let services = Arc::new(Services::new(
        Arc::clone(&store),
        Arc::new(SystemClock),
        Arc::new(SystemRng::new()),
        &master,
        CoreConfig {
            public_url: config.public_url.clone(),
            argon2: config.argon2,
            refresh_grace_seconds: config.refresh_grace_seconds,
            login_attempts_per_user_per_minute: config.login_attempts_per_user_per_minute,
            login_attempts_per_address_per_minute: config.login_attempts_per_address_per_minute,
            providers: config.providers.clone(),
            platform_timeout: config.platform_timeout,
            integration_test_timeout: config.integration_test_timeout,
            vault_keys,
            allow_internal_jwks_uri: config.allow_internal_jwks_uri,
            dpop_require_nonce: config.dpop_require_nonce,
            last_used_interval: config.last_used_interval,
            webhooks: config.webhooks.clone(),
            ..CoreConfig::default()
        },
    )?);
    if let Some(b) = services.bootstrap().await? {
        use std::io::Write;
        let mut err = std::io::stderr().lock();
        let _ = writeln!(
            err,
            "\nTessera is set up. The system administrator (this password is shown only once):\n  console:  {url}/login\n  org:      {org}\n  username: {}\n  password: {}\nNext, a key for the admin API (REST and GraphQL), then its explorer:\n  tessera api-key create --system --name ops\n  {url}/orgs/{org}/api/v1/admin/graphql\n",
            b.username,
            b.password.expose_secret(),
            url = config.public_url,
            org = b.org,
        );
    }
    Ok(App { store, services })
}

/// Runs the server until SIGTERM or Ctrl-C, then drains in-flight requests and closes the
/// database.
pub async fn serve(config: &Config) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener.local_addr()?;
    // Port 0 picks a free port: a public URL derived from the listen address must name the
    // port actually bound, or every issuer and every link would point nowhere.
    let mut config = config.clone();
    if config.listen.port() == 0 && config.public_url == format!("http://{}", config.listen) {
        config.public_url = format!("http://{addr}");
    }
    let config = &config;
    let app = open(config).await?;
    let state = tessera_web::AppState::new(
        Arc::clone(&app.services),
        tessera_web::WebConfig {
            public_url: config.public_url.clone(),
            request_timeout: config.request_timeout,
            body_limit: config.body_limit,
        },
    );
    // Caches of this process follow changes made by other processes within a second.
    app.services
        .spawn_change_poller(std::time::Duration::from_millis(250));
    // Platform tokens stay fresh; with several nodes the leases split the work.
    let worker = config
        .run_worker
        .then(|| app.services.spawn_refresh_worker(config.refresh_interval));
    // Logout tokens reach the clients of ended sessions (leases split the work too).
    let backchannel = config.run_worker.then(|| {
        app.services
            .spawn_backchannel_worker(config.refresh_interval)
    });
    // Webhook deliveries leave (leases split them too).
    let webhooks = config
        .run_worker
        .then(|| app.services.spawn_webhook_worker());
    tracing::info!(%addr, public_url = %config.public_url, "listening");
    eprintln!(
        "Tessera listening on http://{addr} (public URL {})",
        config.public_url
    );
    // On SIGTERM, first tell the load balancer (`/readyz` 503) while still serving; then
    // close the listener and let the requests in flight finish.
    let draining = std::sync::Arc::clone(&state.draining);
    let drain = config.drain;
    let shutdown = async move {
        let signal = shutdown_signal().await;
        if signal == Signal::Terminate && !drain.is_zero() {
            draining.store(true, std::sync::atomic::Ordering::Relaxed);
            tracing::info!(seconds = drain.as_secs(), "draining: /readyz answers 503");
            tokio::time::sleep(drain).await;
        }
    };
    tessera_web::serve(
        listener,
        tessera_web::router(state),
        config.server_limits.clone(),
        shutdown,
    )
    .await?;
    tracing::info!("shutting down");
    if let Some(w) = worker {
        w.stop().await;
    }
    if let Some(w) = backchannel {
        w.stop().await;
    }
    if let Some(w) = webhooks {
        w.stop().await;
    }
    app.store.close().await;
    Ok(())
}

/// `tessera worker`: only the token refresh worker, for deployments that run it apart from
/// the HTTP nodes. Stops on SIGTERM or Ctrl-C.
pub async fn worker(config: &Config) -> anyhow::Result<()> {
    let app = open(config).await?;
    let w = app.services.spawn_refresh_worker(config.refresh_interval);
    let b = app
        .services
        .spawn_backchannel_worker(config.refresh_interval);
    let h = app.services.spawn_webhook_worker();
    eprintln!(
        "Tessera refresh worker running (every {} s)",
        config.refresh_interval.as_secs()
    );
    let _ = shutdown_signal().await;
    w.stop().await;
    b.stop().await;
    h.stop().await;
    app.store.close().await;
    Ok(())
}

/// Which signal asked the process to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signal {
    /// Ctrl-C at a terminal: stop at once.
    Interrupt,
    /// SIGTERM, as service managers and orchestrators send it: drain first.
    Terminate,
}

async fn shutdown_signal() -> Signal {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => Signal::Interrupt,
        () = term => Signal::Terminate,
    }
}
