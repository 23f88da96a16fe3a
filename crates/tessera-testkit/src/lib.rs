//! Test support: a real Tessera HTTP server on 127.0.0.1:0 with a fresh database, and fresh
//! databases for the store conformance suite.
//!
//! Migrations run once per test process, into a template (a SQLite file, a PostgreSQL template
//! database); each test then gets its own copy, so a test pays for a file copy or a
//! `CREATE DATABASE … TEMPLATE`, not for every migration. [`fresh_db`] still gives an empty
//! database for the tests of migrating itself.
//!
//! The backend comes from `TESSERA_TEST_BACKEND` (`sqlite`, the default, or `postgres`).
//! PostgreSQL needs `TESSERA_TEST_PG_URL`, an administrative URL of a throw-away server (the
//! test command starts one). When `TESSERA_TEST_REQUIRE_PG=1` (set by the test command) a
//! missing PostgreSQL is a failure, never a silent skip.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use sqlx::Connection;
use tessera_core::{CoreConfig, Services};
use tessera_crypto::{Argon2Params, MasterKey, SystemRng};
use tessera_domain::SystemClock;
use tessera_store::{Store, StoreOptions};

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The backend chosen for this test run.
pub fn backend() -> Backend {
    match std::env::var("TESSERA_TEST_BACKEND").as_deref() {
        Ok("postgres") => Backend::Postgres,
        _ => Backend::Sqlite,
    }
}

/// The administrative URL of the test PostgreSQL server, if there is one. Panics when the
/// test command requires PostgreSQL and it is missing.
pub fn pg_admin_url() -> Option<String> {
    match std::env::var("TESSERA_TEST_PG_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            if std::env::var("TESSERA_TEST_REQUIRE_PG").as_deref() == Ok("1") {
                panic!("TESSERA_TEST_REQUIRE_PG=1 but TESSERA_TEST_PG_URL is not set: PostgreSQL tests cannot be skipped");
            }
            None
        }
    }
}

/// A Chromium (or Chrome) binary for the tests that open pages in a real browser:
/// `TESSERA_TEST_CHROMIUM`, else the first found on the usual paths. When there is none, the
/// browser tests skip with a note, unless the test command requires them
/// (`TESSERA_TEST_REQUIRE_BROWSER=1`): then it panics.
pub fn chromium() -> Option<std::path::PathBuf> {
    let candidates = std::env::var("TESSERA_TEST_CHROMIUM")
        .ok()
        .into_iter()
        .chain(
            [
                "/usr/bin/chromium",
                "/usr/bin/chromium-browser",
                "/usr/bin/google-chrome",
            ]
            .map(str::to_owned),
        );
    for c in candidates {
        let p = std::path::PathBuf::from(c);
        if p.is_file() {
            return Some(p);
        }
    }
    if std::env::var("TESSERA_TEST_REQUIRE_BROWSER").as_deref() == Ok("1") {
        panic!("TESSERA_TEST_REQUIRE_BROWSER=1 but no Chromium was found: install Debian's chromium or set TESSERA_TEST_CHROMIUM");
    }
    eprintln!(
        "note: no Chromium found; the real-browser test is skipped (the test command installs one)"
    );
    None
}

/// A fresh, empty database and what keeps it alive.
pub struct FreshDb {
    pub url: String,
    /// The data dir (also holds the SQLite file).
    pub dir: tempfile::TempDir,
}

/// A new empty SQLite database in a temporary directory.
pub fn fresh_sqlite() -> FreshDb {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("tessera.db").display());
    FreshDb { url, dir }
}

/// A new empty PostgreSQL database on the test server.
pub async fn fresh_postgres(admin_url: &str) -> FreshDb {
    create_postgres(admin_url, None).await
}

async fn create_postgres(admin_url: &str, template: Option<&str>) -> FreshDb {
    let name = format!("t_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(admin_url)
        .await
        .unwrap_or_else(|e| panic!("cannot reach the test PostgreSQL at {admin_url}: {e}"));
    let sql = match template {
        Some(t) => format!("CREATE DATABASE {name} TEMPLATE {t}"),
        None => format!("CREATE DATABASE {name}"),
    };
    sqlx::query(&sql)
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let _ = conn.close().await;
    let (base, _) = admin_url
        .rsplit_once('/')
        .expect("admin URL ends with a database name");
    FreshDb {
        url: format!("{base}/{name}"),
        dir: tempfile::tempdir().expect("temp dir"),
    }
}

/// A fresh, empty database on the backend of this test run. Every test starts here or at
/// [`migrated_db`], so this is also where the process gets its TLS crypto provider, before any
/// test builds an HTTP client.
pub async fn fresh_db() -> FreshDb {
    tessera_connect::oauth::install_crypto_provider();
    match backend() {
        Backend::Sqlite => fresh_sqlite(),
        Backend::Postgres => fresh_postgres(&required_pg_admin_url()).await,
    }
}

/// A fresh database with every migration applied, on the backend of this test run: a copy of
/// the process's template.
pub async fn migrated_db() -> FreshDb {
    tessera_connect::oauth::install_crypto_provider();
    match backend() {
        Backend::Sqlite => migrated_sqlite().await,
        Backend::Postgres => migrated_postgres(&required_pg_admin_url()).await,
    }
}

fn required_pg_admin_url() -> String {
    pg_admin_url()
        .expect("TESSERA_TEST_BACKEND=postgres needs TESSERA_TEST_PG_URL (run ./scripts/test)")
}

/// A new SQLite database with every migration applied, copied from this process's template.
pub async fn migrated_sqlite() -> FreshDb {
    // The template's bytes: a static is never dropped, so a file would outlive the run.
    static TEMPLATE: tokio::sync::OnceCell<Vec<u8>> = tokio::sync::OnceCell::const_new();
    let template = TEMPLATE
        .get_or_init(|| async {
            let work = fresh_sqlite();
            let store = tessera_store::connect(&work.url, &StoreOptions::default())
                .await
                .expect("connect to the template database");
            store
                .migrate()
                .await
                .expect("migrate the template database");
            // `VACUUM INTO` writes one self-contained file (no WAL beside it).
            let path = work.dir.path().join("template.db");
            let pool = sqlx::SqlitePool::connect(&work.url)
                .await
                .expect("open the template database");
            sqlx::query("VACUUM INTO ?1")
                .bind(path.display().to_string())
                .execute(&pool)
                .await
                .expect("write the template database");
            pool.close().await;
            store.close().await;
            std::fs::read(&path).expect("read the template database")
        })
        .await;
    let db = fresh_sqlite();
    std::fs::write(db.dir.path().join("tessera.db"), template).expect("copy the template database");
    db
}

/// A new PostgreSQL database with every migration applied, created from this process's
/// template database (`CREATE DATABASE … TEMPLATE`, a file-level copy).
pub async fn migrated_postgres(admin_url: &str) -> FreshDb {
    static TEMPLATE: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    let template = TEMPLATE
        .get_or_init(|| async {
            let work = fresh_postgres(admin_url).await;
            let store = tessera_store::connect(&work.url, &StoreOptions::default())
                .await
                .expect("connect to the template database");
            store
                .migrate()
                .await
                .expect("migrate the template database");
            // A template must have no sessions while it is copied.
            store.close().await;
            work.url
                .rsplit_once('/')
                .map(|(_, name)| name.to_owned())
                .expect("database name")
        })
        .await;
    create_postgres(admin_url, Some(template)).await
}

/// A running server.
pub struct TestServer {
    /// `http://127.0.0.1:PORT`
    pub base: String,
    pub services: Arc<Services>,
    pub store: Arc<dyn Store>,
    pub http: reqwest::Client,
    pub db: FreshDb,
    /// The platforms' endpoints this server uses.
    pub providers: tessera_connect::Providers,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl TestServer {
    /// Starts a server on a fresh database of this run's backend, bootstrapped as on a first
    /// start, with cheap argon2 parameters.
    pub async fn start() -> Self {
        Self::start_with_clock(Arc::new(SystemClock)).await
    }

    /// The same with a clock the test controls (a `MockClock` to move past expiries).
    pub async fn start_with_clock(clock: Arc<dyn tessera_domain::clock::Clock>) -> Self {
        Self::start_with(clock, tessera_connect::Providers::default()).await
    }

    /// The same with the platforms at other endpoints (the fake platforms).
    pub async fn start_with(
        clock: Arc<dyn tessera_domain::clock::Clock>,
        providers: tessera_connect::Providers,
    ) -> Self {
        Self::start_full(clock, providers, tessera_web::ServerLimits::default(), true).await
    }

    /// A server with these connection limits (short timeouts, a small cap).
    pub async fn start_with_limits(limits: tessera_web::ServerLimits) -> Self {
        Self::start_full(
            Arc::new(SystemClock),
            tessera_connect::Providers::default(),
            limits,
            true,
        )
        .await
    }

    /// A server that fetches what clients publish (key sets, request objects, client metadata
    /// documents) as production does: never from loopback, private or other internal
    /// addresses (the other servers allow them, since the tests publish on 127.0.0.1).
    pub async fn start_without_internal_fetches() -> Self {
        Self::start_full(
            Arc::new(SystemClock),
            tessera_connect::Providers::default(),
            tessera_web::ServerLimits::default(),
            false,
        )
        .await
    }

    /// A server whose DPoP proofs at the token and PAR endpoints must carry its nonce
    /// (`[security] dpop_require_nonce`).
    pub async fn start_with_dpop_nonces() -> Self {
        Self::start_configured(
            Arc::new(SystemClock),
            tessera_connect::Providers::default(),
            tessera_web::ServerLimits::default(),
            true,
            true,
        )
        .await
    }

    async fn start_full(
        clock: Arc<dyn tessera_domain::clock::Clock>,
        providers: tessera_connect::Providers,
        limits: tessera_web::ServerLimits,
        internal_fetches: bool,
    ) -> Self {
        Self::start_configured(clock, providers, limits, internal_fetches, false).await
    }

    /// A server whose webhooks are retried and disabled as `webhooks` says; its delivery
    /// worker runs only when `deliver` (else other processes deliver).
    pub async fn start_with_webhooks(
        webhooks: tessera_core::webhooks::WebhookConfig,
        deliver: bool,
    ) -> Self {
        Self::start_inner(
            Arc::new(SystemClock),
            tessera_connect::Providers::default(),
            tessera_web::ServerLimits::default(),
            (true, false),
            (webhooks, deliver),
        )
        .await
    }

    async fn start_configured(
        clock: Arc<dyn tessera_domain::clock::Clock>,
        providers: tessera_connect::Providers,
        limits: tessera_web::ServerLimits,
        internal_fetches: bool,
        dpop_require_nonce: bool,
    ) -> Self {
        Self::start_inner(
            clock,
            providers,
            limits,
            (internal_fetches, dpop_require_nonce),
            (test_webhooks(), true),
        )
        .await
    }

    async fn start_inner(
        clock: Arc<dyn tessera_domain::clock::Clock>,
        providers: tessera_connect::Providers,
        limits: tessera_web::ServerLimits,
        (internal_fetches, dpop_require_nonce): (bool, bool),
        (webhooks, deliver): (tessera_core::webhooks::WebhookConfig, bool),
    ) -> Self {
        let db = migrated_db().await;
        let store = tessera_store::connect(&db.url, &StoreOptions::default())
            .await
            .expect("connect");
        // Already migrated: this only checks that nothing is pending.
        store.migrate().await.expect("migrate");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let base = format!("http://{addr}");
        let services = node(
            &store,
            clock,
            &base,
            &providers,
            Vec::new(),
            (internal_fetches, dpop_require_nonce),
            webhooks,
        );
        services.bootstrap().await.expect("bootstrap");
        services.spawn_change_poller(std::time::Duration::from_millis(100));
        // Back-channel logouts go out at once (a session ended) or within a second.
        std::mem::forget(services.spawn_backchannel_worker(std::time::Duration::from_secs(1)));
        if deliver {
            std::mem::forget(services.spawn_webhook_worker());
        }
        let state = tessera_web::AppState::new(
            Arc::clone(&services),
            tessera_web::WebConfig {
                public_url: base.clone(),
                ..Default::default()
            },
        );
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let app = tessera_web::router(state);
        let task = tokio::spawn(async move {
            let _ = tessera_web::serve(listener, app, limits, async {
                let _ = rx.await;
            })
            .await;
        });
        Self {
            base,
            services,
            store,
            http: reqwest::Client::new(),
            db,
            providers,
            shutdown: Some(tx),
            task: Some(task),
        }
    }

    /// Another node on this server's database (same master key and platforms), without an
    /// HTTP listener: for tests of what several nodes do at once.
    pub async fn second_node(&self, clock: Arc<dyn tessera_domain::clock::Clock>) -> Arc<Services> {
        let store = tessera_store::connect(&self.db.url, &StoreOptions::default())
            .await
            .expect("connect");
        node(
            &store,
            clock,
            &self.base,
            &self.providers,
            Vec::new(),
            (true, false),
            test_webhooks(),
        )
    }

    /// Another node whose vault holds `keys` (the current one first) besides the master key's.
    pub async fn second_node_with_vault_keys(
        &self,
        clock: Arc<dyn tessera_domain::clock::Clock>,
        keys: Vec<Arc<MasterKey>>,
    ) -> Arc<Services> {
        let store = tessera_store::connect(&self.db.url, &StoreOptions::default())
            .await
            .expect("connect");
        node(
            &store,
            clock,
            &self.base,
            &self.providers,
            keys,
            (true, false),
            test_webhooks(),
        )
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A new system-wide API key, made through the service layer as the CLI would.
    pub async fn system_key(&self) -> String {
        self.key(tessera_core::api_keys::KeyScope::System, &[], &[])
            .await
    }

    /// A new key of an organization with the given roles and permissions.
    pub async fn org_key(&self, org: &str, roles: &[&str], permissions: &[&str]) -> String {
        self.key(
            tessera_core::api_keys::KeyScope::Org(org.into()),
            roles,
            permissions,
        )
        .await
    }

    async fn key(
        &self,
        scope: tessera_core::api_keys::KeyScope,
        roles: &[&str],
        permissions: &[&str],
    ) -> String {
        use secrecy::ExposeSecret;
        let created = self
            .services
            .create_api_key(
                &tessera_core::Context::cli(),
                tessera_core::api_keys::NewApiKey {
                    scope,
                    name: "test".into(),
                    roles: roles.iter().map(|s| s.to_string()).collect(),
                    permissions: permissions.iter().map(|s| s.to_string()).collect(),
                },
            )
            .await
            .expect("create key");
        created.secret.expose_secret().to_owned()
    }

    /// Creates an organization through the service layer.
    pub async fn org(&self, slug: &str) {
        self.services
            .create_org(&tessera_core::Context::cli(), slug, None)
            .await
            .expect("create org");
    }

    /// Stops the server and waits until it has drained.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
        self.store.close().await;
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Webhooks in the tests: retried after a fifth of a second, looked for ten times a second.
pub fn test_webhooks() -> tessera_core::webhooks::WebhookConfig {
    tessera_core::webhooks::WebhookConfig {
        allow_internal: true,
        retry_base: time::Duration::milliseconds(200),
        timeout: std::time::Duration::from_secs(5),
        poll_interval: std::time::Duration::from_millis(100),
        ..Default::default()
    }
}

/// The service layer of one node, with cheap argon2 parameters and the test master key.
fn node(
    store: &Arc<dyn Store>,
    clock: Arc<dyn tessera_domain::clock::Clock>,
    base: &str,
    providers: &tessera_connect::Providers,
    vault_keys: Vec<Arc<MasterKey>>,
    (internal_fetches, dpop_require_nonce): (bool, bool),
    webhooks: tessera_core::webhooks::WebhookConfig,
) -> Arc<Services> {
    let master = MasterKey::from_bytes([7; 32]);
    Arc::new(
        Services::new(
            Arc::clone(store),
            clock,
            Arc::new(SystemRng::new()),
            &master,
            CoreConfig {
                public_url: base.to_owned(),
                argon2: Argon2Params::testing(),
                providers: providers.clone(),
                platform_timeout: std::time::Duration::from_secs(5),
                integration_test_timeout: std::time::Duration::from_millis(500),
                vault_keys,
                // The tests' clients publish their keys on 127.0.0.1, and rotate them
                // without waiting ten seconds.
                allow_internal_jwks_uri: internal_fetches,
                jwks_refetch_interval: std::time::Duration::from_secs(1),
                dpop_require_nonce,
                webhooks,
                ..CoreConfig::default()
            },
        )
        .expect("services"),
    )
}

pub use tessera_connect::fakes;

/// Unused-import guard for crates the kit re-exports to tests.
pub use reqwest;
pub use serde_json;
