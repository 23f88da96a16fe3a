//! Tessera's use cases: the one service layer that the HTTP API, GraphQL, the console and the
//! CLI all call, so that they can never disagree.
//!
//! Every public method takes a [`Context`] (who is asking, from where), checks the permission
//! it needs, does its work in one store transaction, and writes the audit event of a change in
//! that same transaction. Faces parse input into domain types and render results; they hold no
//! business rules. Time and randomness come from the injected [`Clock`] and [`SecretRng`].

/// `Debug` that names the type and shows nothing else, for values that carry secrets (so that
/// no `{:?}` in a log line can print one).
macro_rules! opaque_debug {
    ($t:ty) => {
        impl std::fmt::Debug for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!(stringify!($t), " { .. }"))
            }
        }
    };
}

pub mod account;
pub mod api_keys;
pub mod api_resources;
pub mod apply;
pub mod assertion;
pub mod audit;
pub mod authorize;
pub mod backchannel;
pub mod bootstrap;
pub mod cache;
mod cimd;
pub mod clients;
pub mod connection_worker;
pub mod connections;
pub mod console;
pub mod device;
pub mod dpop;
pub mod error;
mod hashing;
pub mod keys;
pub mod limits;
pub mod logout;
pub mod mfa;
pub mod oauth;
pub mod orgs;
pub mod params;
pub mod register;
pub mod request_object;
pub mod roles;
pub mod tokens;
pub mod user_access;
pub mod users;
mod uses;
pub mod vault;
pub mod webhooks;

use std::sync::Arc;

use tessera_crypto::{Argon2Params, HashKey, MasterKey, PasswordHasher, SecretRng, Vault};
use tessera_domain::{Clock, Organization, Permission, Principal, Timestamp};
use tessera_store::{Store, Tx};

use crate::audit::AuditEntry;

pub use error::{CoreError, CoreResult, ErrorKind};
/// Trace context across process boundaries (installed by the binary when traces are exported).
pub use tessera_connect::trace;
// What the faces pass through to the services, so that they need nothing from the store.
pub use tessera_store::{AuditQuery, InitialAccessToken};

/// Who is calling, and from where: carried into every audit event.
#[derive(Debug, Clone)]
pub struct Context {
    pub principal: Principal,
    pub ip: Option<String>,
    pub request_id: Option<String>,
}

impl Context {
    pub fn new(principal: Principal) -> Self {
        Self {
            principal,
            ip: None,
            request_id: None,
        }
    }

    /// The command line: a system administrator by virtue of holding the data dir.
    pub fn cli() -> Self {
        Self::new(Principal::cli())
    }

    pub fn system() -> Self {
        Self::new(Principal::system())
    }
}

/// Settings of the service layer.
#[derive(Debug, Clone)]
pub struct CoreConfig {
    /// The externally visible base URL; every issuer is `{public_url}/orgs/{slug}`.
    pub public_url: String,
    pub argon2: Argon2Params,
    /// Seconds during which a just-spent refresh token may be presented again (concurrent
    /// refreshes) without revoking its family. 0: any reuse revokes.
    pub refresh_grace_seconds: i64,
    /// Sign-in attempts allowed per user per minute, in each process.
    pub login_attempts_per_user_per_minute: u32,
    /// Sign-in attempts allowed per client address per minute, in each process.
    pub login_attempts_per_address_per_minute: u32,
    /// Minimum time between two writes of an API key's `lastUsedAt`.
    pub last_used_interval: time::Duration,
    /// Every platform's endpoints and scopes.
    pub providers: tessera_connect::Providers,
    /// How long a call to a platform may take.
    pub platform_timeout: std::time::Duration,
    /// How long an OBS or Streamer.bot connection test may take.
    pub integration_test_timeout: std::time::Duration,
    /// Vault keys, the current one first (`TESSERA_VAULT_KEYS`); empty: the master key's own.
    pub vault_keys: Vec<Arc<MasterKey>>,
    /// Fetch clients' `jwks_uri` from loopback and private addresses too (`[security]
    /// allow_internal_jwks_uri`; off: only public addresses, against request forgery).
    pub allow_internal_jwks_uri: bool,
    /// The shortest time between two fetches of one `jwks_uri` when an assertion names a key
    /// the last copy lacks (a client that rotated its keys).
    pub jwks_refetch_interval: std::time::Duration,
    /// DPoP proofs at the token and PAR endpoints must carry the server's nonce (RFC 9449
    /// §8; `[security] dpop_require_nonce`). A proof that carries one must carry a current one
    /// either way.
    pub dpop_require_nonce: bool,
    /// Webhook deliveries (`[webhooks]`).
    pub webhooks: webhooks::WebhookConfig,
}

impl Default for CoreConfig {
    fn default() -> Self {
        Self {
            public_url: "http://127.0.0.1:8700".into(),
            argon2: Argon2Params::default(),
            refresh_grace_seconds: 0,
            login_attempts_per_user_per_minute: limits::LOGIN_ATTEMPTS_PER_USER_PER_MINUTE,
            login_attempts_per_address_per_minute: limits::LOGIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE,
            last_used_interval: time::Duration::minutes(1),
            providers: tessera_connect::Providers::default(),
            platform_timeout: std::time::Duration::from_secs(10),
            integration_test_timeout: std::time::Duration::from_secs(5),
            vault_keys: Vec::new(),
            allow_internal_jwks_uri: false,
            jwks_refetch_interval: std::time::Duration::from_secs(10),
            dpop_require_nonce: false,
            webhooks: webhooks::WebhookConfig::default(),
        }
    }
}

/// The services, with everything they depend on. Cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct Services {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) rng: Arc<dyn SecretRng>,
    pub(crate) key_hash: HashKey,
    /// Keys the hashes of generated client secrets; separate from the API key hash key so one
    /// kind of secret can never be replayed as the other.
    pub(crate) client_hash: HashKey,
    /// Keys the hashes of login sessions and authorization codes.
    pub(crate) handle_hash: HashKey,
    /// An argon2id hash of nothing anyone knows, checked when a login names an unknown user,
    /// so that the answer takes as long as for a real one.
    /// Made on first need (on the hashing threads), not at start: argon2id takes tens of
    /// milliseconds and its memory, which start-up and idle memory should not pay.
    pub(crate) dummy_hash: tokio::sync::OnceCell<String>,
    pub(crate) passwords: PasswordHasher,
    /// Seals private keys and other secrets at rest.
    pub(crate) vault: Vault,
    pub(crate) caches: cache::Caches,
    /// Brute-force brakes on passwords and client authentication.
    pub(crate) limits: limits::Limits,
    /// Where argon2id runs: one thread per core.
    pub(crate) hash_pool: hashing::HashPool,
    pub(crate) config: CoreConfig,
    /// `lastUsedAt` of API keys and client secrets, batched off the request path.
    pub(crate) uses: uses::UseNotes,
    /// Calls to the streaming platforms.
    pub(crate) platforms: tessera_connect::oauth::PlatformClient,
    pub(crate) conn_metrics: connection_worker::ConnectionMetrics,
    /// One on-the-spot refresh per connection at a time in this process.
    pub(crate) refresh_flights: moka::sync::Cache<String, Arc<tokio::sync::Mutex<()>>>,
    /// This process, in the leases it takes.
    pub(crate) node_id: String,
    /// Fetches clients' keys from their `jwks_uri`.
    pub(crate) key_fetcher: tessera_connect::client_keys::KeyFetcher,
    /// Client ID Metadata Documents fetched (`cimd.rs`).
    pub(crate) metadata_documents: cimd::DocumentCache,
    /// Registration policies by organization (`register.rs`), and the count of changes to
    /// them, so that a read racing a change does not cache what it read.
    pub(crate) policies: moka::sync::Cache<
        tessera_domain::OrgId,
        Arc<tessera_domain::registration::RegistrationPolicy>,
    >,
    pub(crate) policy_epoch: std::sync::atomic::AtomicU64,
    /// The keys fetched, by URL, for five minutes.
    pub(crate) fetched_keys: moka::sync::Cache<String, Arc<assertion::FetchedKeys>>,
    /// Wakes this node's back-channel logout worker when a session ends here.
    pub(crate) backchannel_wake: tokio::sync::Notify,
    /// Sends webhook deliveries, under the same address guard as the key fetcher.
    pub(crate) webhook_sender: tessera_connect::client_keys::KeyFetcher,
    pub(crate) webhook_metrics: webhooks::WebhookMetrics,
}

impl Services {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        rng: Arc<dyn SecretRng>,
        master: &MasterKey,
        config: CoreConfig,
    ) -> CoreResult<Self> {
        let ring: Vec<&MasterKey> = config.vault_keys.iter().map(|k| k.as_ref()).collect();
        let vault = Vault::with_keys(master, &ring).map_err(CoreError::internal)?;
        let passwords = PasswordHasher::new(config.argon2);
        Ok(Self {
            store,
            clock,
            rng,
            key_hash: HashKey::new(&master.derive("api-key-hash")),
            client_hash: HashKey::new(&master.derive("client-secret-hash")),
            handle_hash: HashKey::new(&master.derive("session-and-code-hash")),
            dummy_hash: tokio::sync::OnceCell::new(),
            passwords,
            vault,
            caches: cache::Caches::new(),
            hash_pool: hashing::HashPool::new(
                std::thread::available_parallelism().map_or(2, |n| n.get()),
            ),
            limits: limits::Limits::new(
                config.login_attempts_per_user_per_minute,
                config.login_attempts_per_address_per_minute,
            ),
            platforms: tessera_connect::oauth::PlatformClient::new(config.platform_timeout),
            conn_metrics: connection_worker::ConnectionMetrics::default(),
            refresh_flights: moka::sync::Cache::builder()
                .time_to_idle(std::time::Duration::from_secs(300))
                .build(),
            node_id: uuid::Uuid::new_v4().to_string(),
            key_fetcher: tessera_connect::client_keys::KeyFetcher::new(
                std::time::Duration::from_secs(5),
                config.allow_internal_jwks_uri,
            )
            .map_err(CoreError::internal)?,
            metadata_documents: cimd::new_cache(),
            policies: moka::sync::Cache::builder()
                .time_to_live(std::time::Duration::from_secs(600))
                .max_capacity(100_000)
                .build(),
            policy_epoch: std::sync::atomic::AtomicU64::new(0),
            fetched_keys: moka::sync::Cache::builder()
                .time_to_live(std::time::Duration::from_secs(300))
                .max_capacity(10_000)
                .build(),
            backchannel_wake: tokio::sync::Notify::new(),
            webhook_sender: tessera_connect::client_keys::KeyFetcher::new(
                config.webhooks.timeout,
                config.webhooks.allow_internal || loopback_public_url(&config.public_url),
            )
            .map_err(CoreError::internal)?,
            webhook_metrics: webhooks::WebhookMetrics::default(),
            config,
            uses: uses::UseNotes::new(),
        })
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Now, to the millisecond: the precision the store keeps, so that what a call returns
    /// equals what a later read returns.
    pub fn now(&self) -> Timestamp {
        let t = self.clock.now();
        t.replace_nanosecond(t.nanosecond() / 1_000_000 * 1_000_000)
            .unwrap_or(t)
    }

    /// Readiness: the database answers.
    pub async fn ready(&self) -> CoreResult<()> {
        Ok(self.store.ping().await?)
    }

    /// Resolves an organization by slug for a caller who must hold `perm` in it. An
    /// organization the caller cannot see does not exist for them (404, not 403).
    pub(crate) async fn org_for(
        &self,
        tx: &mut dyn Tx,
        ctx: &Context,
        slug: &str,
        perm: Option<Permission>,
    ) -> CoreResult<Organization> {
        let not_found = || CoreError::not_found("organization", slug);
        let slug = tessera_domain::OrgSlug::parse(slug).map_err(|_| not_found())?;
        let org = tx.find_org_by_slug(&slug).await?.ok_or_else(not_found)?;
        if !ctx.principal.can_see_org(org.id) {
            return Err(not_found());
        }
        if let Some(p) = perm {
            if !ctx.principal.has(org.id, p) {
                return Err(CoreError::Forbidden(p));
            }
        }
        Ok(org)
    }

    /// Records an audit event by the caller in the caller's transaction, so that the change
    /// and its record commit or roll back together.
    pub(crate) async fn audit(
        &self,
        tx: &mut dyn Tx,
        ctx: &Context,
        entry: AuditEntry,
    ) -> CoreResult<()> {
        let event = entry.event(
            ctx.principal.actor(),
            ctx.ip.clone(),
            ctx.request_id.clone(),
            self.now(),
        );
        tx.insert_audit(&event).await?;
        Ok(())
    }

    /// Hashes a chosen password on the hashing threads: argon2id takes tens of milliseconds.
    pub(crate) async fn hash_password(&self, password: String) -> CoreResult<String> {
        let hasher = self.passwords.clone();
        let rng = Arc::clone(&self.rng);
        self.hash_pool
            .run(move || hasher.hash(&password, rng.as_ref()))
            .await
            .ok_or_else(|| CoreError::internal("the hashing threads are gone"))?
            .map_err(CoreError::internal)
    }

    /// The stand-in hash checked when a login names an unknown user.
    pub(crate) async fn dummy_hash(&self) -> CoreResult<String> {
        self.dummy_hash
            .get_or_try_init(|| async {
                let nothing: [u8; 16] = tessera_crypto::random::random_bytes(self.rng.as_ref())
                    .map_err(CoreError::internal)?;
                self.hash_password(format!("{nothing:?}")).await
            })
            .await
            .cloned()
    }

    /// Checks a password against an argon2id PHC string on the hashing threads. A malformed
    /// hash is a mismatch.
    pub(crate) async fn verify_password(&self, password: &str, phc: &str) -> bool {
        let hasher = self.passwords.clone();
        let (p, phc) = (password.to_owned(), phc.to_owned());
        self.hash_pool
            .run(move || hasher.verify(&p, &phc).unwrap_or(false))
            .await
            .unwrap_or(false)
    }
}

/// The JSON picture of an object for the audit log's before/after. Only public views are
/// passed here, and those carry no secrets.
/// A list's `limit`: 1 to `max`, or a 400 naming it.
pub(crate) fn check_page_limit(limit: u32, max: u32) -> CoreResult<()> {
    if limit == 0 || limit > max {
        return Err(CoreError::invalid(
            "limit",
            format!("must be between 1 and {max}"),
        ));
    }
    Ok(())
}

/// Whether Tessera runs on a loopback `http://` URL: a development deployment, whose webhook
/// receivers may be on the same machine.
pub(crate) fn loopback_public_url(public_url: &str) -> bool {
    url::Url::parse(public_url).is_ok_and(|u| {
        u.scheme() == "http"
            && match u.host() {
                Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                Some(url::Host::Domain(d)) => d == "localhost",
                None => false,
            }
    })
}

pub(crate) fn snapshot<T: serde::Serialize>(v: &T) -> Option<serde_json::Value> {
    serde_json::to_value(v).ok()
}
