//! Caches of the token path — organizations by slug, clients with their secret hashes, signing
//! keys, and revocations — and the change feed that keeps them true across processes.
//!
//! The service layer drops an entry right after the transaction that changed it commits, so
//! this process never serves a stale client or key. Other processes (more nodes, the CLI) write
//! a row to the `changes` table in the same transaction. On PostgreSQL a trigger announces
//! each row as it commits (`NOTIFY tessera_changes`) and every node drops what changed within
//! milliseconds; every process also reads the table a few times a second
//! ([`Services::spawn_change_poller`]), the fallback for SQLite and for announcements lost with
//! a connection, so a change made anywhere takes effect everywhere within a second at worst.
//! A TTL of ten minutes on every entry is the last line of defence.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use moka::sync::Cache;
use tessera_crypto::StoredHash;
use tessera_domain::api_resource::ApiResource;
use tessera_domain::client::OAuthClient;
use tessera_domain::Timestamp;
use tessera_domain::{OrgId, Organization};
use tessera_store::{Change, ChangePush, ClientSecretRecord};

use crate::keys::OrgKeys;
use crate::Services;

/// A client and what authenticating it needs (its secrets' hashes: never printed). The
/// client's own `secrets` (their metadata, for the admin faces) is left empty here.
pub struct CachedClient {
    pub client: OAuthClient,
    pub(crate) secrets: Vec<CachedSecret>,
    /// When its use was last queued for writing (a registered client's `last_used_at`).
    pub(crate) noted: crate::uses::LastNoted,
}

/// A stored secret as the token path checks it: parsed once, when the client is loaded.
pub(crate) struct CachedSecret {
    pub id: String,
    pub expires_at: Option<Timestamp>,
    /// `None` for a stored value no verifier knows (it never matches).
    pub hash: Option<StoredHash>,
    /// When its `lastUsedAt` was last queued for writing.
    pub noted: crate::uses::LastNoted,
    /// The secret sealed by the vault (`client_secret_jwt` clients only).
    pub sealed: Option<String>,
}

impl CachedClient {
    pub(crate) fn new(mut client: OAuthClient, secrets: Vec<ClientSecretRecord>) -> Self {
        client.secrets = Vec::new();
        let secrets = secrets
            .into_iter()
            .map(|s| CachedSecret {
                hash: StoredHash::parse(&s.secret_hash).ok(),
                sealed: s.sealed,
                id: s.info.id,
                expires_at: s.info.expires_at,
                noted: crate::uses::LastNoted::default(),
            })
            .collect();
        Self {
            client,
            secrets,
            noted: crate::uses::LastNoted::default(),
        }
    }
}

impl std::fmt::Debug for CachedClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "CachedClient {{ client_id: {:?}, .. }}",
            self.client.id.as_str()
        )
    }
}

/// Change kinds written to the feed.
pub(crate) const CHANGE_CLIENT: &str = "oauth_client";
pub(crate) const CHANGE_KEYS: &str = "signing_keys";
pub(crate) const CHANGE_REVOKED: &str = "revoked_token";
pub(crate) const CHANGE_API_RESOURCE: &str = "api_resource";
/// The registration policy changed: client metadata documents accepted or refused under the
/// previous one are fetched and judged again (`cimd.rs`).
pub(crate) const CHANGE_REGISTRATION_POLICY: &str = "registration_policy";

pub(crate) struct Caches {
    // The three caches with a per-thread front are private: read them with `org`, `client`
    // and `keys`, fill them with `remember_*`, drop from them with `forget_*`, so that no
    // drop can miss the front.
    orgs: Cache<String, Arc<Organization>>,
    /// `None` remembers that a client does not exist.
    clients: Cache<(OrgId, String), Option<Arc<CachedClient>>>,
    keys: Cache<OrgId, Arc<OrgKeys>>,
    /// Each organization's revoked tokens that have not expired: a token is checked
    /// without a read of the database, however many tokens are introspected.
    pub revoked: Cache<OrgId, Arc<RevokedSet>>,
    /// Moved on every revocation, before its entry is dropped, so that a set read while a
    /// revocation committed is not cached (it may lack that revocation).
    pub revoked_generation: AtomicU64,
    /// The CORS origins the organization's clients allow.
    pub cors: Cache<OrgId, Arc<Vec<String>>>,
    /// Access tokens whose signature verified, by organization and SHA-256 of the token: an
    /// introspected token is verified once. Only what the signature proves is kept; expiry,
    /// the key still being the organization's, the client and revocation are checked on
    /// every use.
    pub verified: Cache<(OrgId, [u8; 32]), Arc<VerifiedToken>>,
    /// Each organization's API resources, all of them (at most
    /// [`crate::api_resources::MAX_RESOURCES_PER_ORG`]).
    pub resources: Cache<OrgId, Arc<Vec<Arc<ApiResource>>>>,
    /// Lookups each cache could not answer (a read of the database followed).
    pub loads: CacheLoads,
    /// The per-thread front of the organization, client and key lookups ([`Front`]).
    front: Front,
}

/// A token whose signature verified: the key that signed it and its claims.
pub(crate) struct VerifiedToken {
    pub kid: String,
    pub claims: crate::oauth::access_token::AccessTokenClaims,
}

/// An organization's live revocations as the cache holds them.
pub(crate) enum RevokedSet {
    Jtis(std::collections::HashSet<Box<str>>),
    /// More than [`REVOKED_PER_ORG`]: each token is looked up in the database.
    TooMany,
}

/// The most live revocations of one organization held in memory.
pub(crate) const REVOKED_PER_ORG: u32 = 20_000;

/// Misses per cache, for `/metrics`.
#[derive(Default)]
pub(crate) struct CacheLoads {
    pub orgs: AtomicU64,
    pub clients: AtomicU64,
    pub keys: AtomicU64,
    pub revoked: AtomicU64,
    pub cors: AtomicU64,
    pub resources: AtomicU64,
    pub verified: AtomicU64,
}

pub(crate) fn count_load(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

impl Services {
    /// Entries, weight and misses of each cache of the token path.
    pub fn cache_figures(&self) -> [CacheFigures; 7] {
        self.caches.figures()
    }
}

/// One cache as `/metrics` shows it.
#[derive(Debug, Clone, Copy)]
pub struct CacheFigures {
    pub name: &'static str,
    pub entries: u64,
    /// The approximate bytes the entries take (what the byte budget counts).
    pub bytes: u64,
    pub budget: u64,
    pub loads: u64,
}

impl std::fmt::Debug for Caches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Caches")
    }
}

/// What each cache may hold, in approximate bytes: with a million clients and ten thousand
/// organizations in the database, the caches of one process stay within about 150 MiB however
/// many of them are in use, the least used entries making room (the database has the rest).
/// The client budget holds about 48,000 typical clients (1.7 KB each as counted): at 64 MiB the
/// 40,000 clients of the scale benchmark did not all fit, and the misses (a read of the
/// database each, and an eviction) cost the random-client figure several percent.
pub const CLIENT_CACHE_BYTES: u64 = 80 << 20;
pub const KEY_CACHE_BYTES: u64 = 32 << 20;
pub const REVOKED_CACHE_BYTES: u64 = 16 << 20;
pub const ORG_CACHE_BYTES: u64 = 8 << 20;
pub const CORS_CACHE_BYTES: u64 = 8 << 20;
pub const RESOURCE_CACHE_BYTES: u64 = 8 << 20;
/// About 16,000 verified tokens of typical size.
pub const VERIFIED_CACHE_BYTES: u64 = 16 << 20;

/// What the cache itself takes for each entry (its key's and value's nodes, the hash table,
/// the order queues): measured at about 400 bytes with moka 0.12.
const ENTRY_OVERHEAD: usize = 400;

/// The memory an entry takes, roughly: its text twice over (strings, vectors and maps carry
/// about as much again in headers and spare capacity), a fixed part for the rest, and the
/// cache's own overhead.
fn weight(fixed: usize, text: usize) -> u32 {
    u32::try_from(ENTRY_OVERHEAD + fixed + 2 * text).unwrap_or(u32::MAX)
}

impl CachedClient {
    /// Its approximate size in memory, for the cache's byte budget: the structs, and the
    /// text they point to with a header for each piece (a client's JSON key set is rare and
    /// counted by its text).
    fn weight(&self) -> u32 {
        let s = &self.client.settings;
        let mut pieces = 0;
        let mut text = 0;
        let mut add = |t: &str| {
            pieces += 1;
            text += t.len();
        };
        add(self.client.id.as_str());
        add(&s.name);
        s.description.as_deref().map(&mut add);
        s.client_uri.as_deref().map(&mut add);
        s.logo_uri.as_deref().map(&mut add);
        s.jwks_uri.as_deref().map(&mut add);
        s.redirect_uris.iter().for_each(|u| add(u.as_str()));
        s.post_logout_redirect_uris
            .iter()
            .for_each(|u| add(u.as_str()));
        s.allowed_cors_origins.iter().for_each(|u| add(u.as_str()));
        s.allowed_scopes.iter().for_each(|u| add(u.as_str()));
        s.token_exchange.subject_clients.iter().for_each(|u| add(u));
        if let Some(jwks) = &s.jwks {
            add(&serde_json::to_string(jwks).unwrap_or_default());
        }
        for secret in &self.secrets {
            add(&secret.id);
            add(secret.hash.as_ref().map_or("", StoredHash::as_str));
        }
        let fixed = std::mem::size_of::<Self>()
            + self.secrets.len() * std::mem::size_of::<CachedSecret>()
            + s.grant_types.len() * std::mem::size_of::<tessera_domain::client::GrantType>();
        // 16 bytes of allocator header per piece, the Arc, and the cache's entry.
        u32::try_from(fixed + 16 * pieces + 16 + ENTRY_OVERHEAD + text).unwrap_or(u32::MAX)
    }
}

impl Caches {
    pub fn new() -> Self {
        // The TTL only backs up the change feed; entries are dropped on change. Ten minutes:
        // with a one-minute TTL, 40,000 clients in use meant 670 reloads a second for
        // nothing, and the random-client figure fell to 40% of the one-client figure once
        // the entries of the first minute expired (bench/RESULTS.md).
        let ttl = Duration::from_secs(600);
        Self {
            orgs: Cache::builder()
                .max_capacity(ORG_CACHE_BYTES)
                .weigher(|k: &String, o: &Arc<Organization>| {
                    weight(192, k.len() + o.slug.as_str().len() + o.name.len())
                })
                .time_to_live(ttl)
                .build(),
            clients: Cache::builder()
                .max_capacity(CLIENT_CACHE_BYTES)
                .weigher(|k: &(OrgId, String), c: &Option<Arc<CachedClient>>| {
                    weight(64, k.1.len()).saturating_add(c.as_ref().map_or(0, |c| c.weight()))
                })
                .time_to_live(ttl)
                .build(),
            keys: Cache::builder()
                .max_capacity(KEY_CACHE_BYTES)
                // The parsed keys (an RSA private key among them) and the JWKS document.
                .weigher(|_: &OrgId, k: &Arc<OrgKeys>| {
                    weight(8192 * k.verifying.len().max(1), k.jwks.to_string().len())
                })
                .time_to_live(ttl)
                .build(),
            revoked: Cache::builder()
                .max_capacity(REVOKED_CACHE_BYTES)
                .weigher(|_: &OrgId, s: &Arc<RevokedSet>| match &**s {
                    RevokedSet::Jtis(j) => {
                        weight(96 + 32 * j.len(), j.iter().map(|t| t.len()).sum())
                    }
                    RevokedSet::TooMany => weight(96, 0),
                })
                .time_to_live(ttl)
                .build(),
            revoked_generation: AtomicU64::new(0),
            resources: Cache::builder()
                .max_capacity(RESOURCE_CACHE_BYTES)
                .weigher(|_: &OrgId, v: &Arc<Vec<Arc<ApiResource>>>| {
                    let text: usize = v
                        .iter()
                        .map(|r| {
                            let s = &r.settings;
                            s.identifier.as_str().len()
                                + s.name.len()
                                + s.description.as_deref().map_or(0, str::len)
                                + s.scopes
                                    .iter()
                                    .map(|sc| {
                                        sc.name.as_str().len()
                                            + sc.description.as_deref().map_or(0, str::len)
                                    })
                                    .sum::<usize>()
                        })
                        .sum();
                    weight(64 + 256 * v.len(), text)
                })
                .time_to_live(ttl)
                .build(),
            cors: Cache::builder()
                .max_capacity(CORS_CACHE_BYTES)
                .weigher(|_: &OrgId, v: &Arc<Vec<String>>| {
                    weight(64 + 24 * v.len(), v.iter().map(String::len).sum())
                })
                .time_to_live(ttl)
                .build(),
            verified: Cache::builder()
                .max_capacity(VERIFIED_CACHE_BYTES)
                .weigher(|_: &(OrgId, [u8; 32]), v: &Arc<VerifiedToken>| {
                    let c = &v.claims;
                    weight(
                        256,
                        v.kid.len()
                            + c.iss.len()
                            + c.sub.len()
                            + c.client_id.len()
                            + c.jti.len()
                            + c.scope.as_deref().map_or(0, str::len)
                            + 64,
                    )
                })
                .time_to_live(ttl)
                .build(),
            loads: CacheLoads::default(),
            front: Front::new(),
        }
    }

    /// Drops the organization's revocations after a revocation committed (see
    /// `revoked_generation`).
    pub fn forget_revocations(&self, org: OrgId) {
        self.revoked_generation.fetch_add(1, Ordering::AcqRel);
        self.revoked.invalidate(&org);
    }

    /// Entries, weight and misses of each cache.
    pub fn figures(&self) -> [CacheFigures; 7] {
        fn f<K, V>(
            name: &'static str,
            c: &Cache<K, V>,
            budget: u64,
            loads: &AtomicU64,
        ) -> CacheFigures
        where
            K: std::hash::Hash + Eq + Send + Sync + 'static,
            V: Clone + Send + Sync + 'static,
        {
            CacheFigures {
                name,
                entries: c.entry_count(),
                bytes: c.weighted_size(),
                budget,
                loads: loads.load(Ordering::Relaxed),
            }
        }
        let l = &self.loads;
        [
            f("organizations", &self.orgs, ORG_CACHE_BYTES, &l.orgs),
            f("clients", &self.clients, CLIENT_CACHE_BYTES, &l.clients),
            f("signing_keys", &self.keys, KEY_CACHE_BYTES, &l.keys),
            f(
                "revocations",
                &self.revoked,
                REVOKED_CACHE_BYTES,
                &l.revoked,
            ),
            f("cors_origins", &self.cors, CORS_CACHE_BYTES, &l.cors),
            f(
                "api_resources",
                &self.resources,
                RESOURCE_CACHE_BYTES,
                &l.resources,
            ),
            f(
                "verified_tokens",
                &self.verified,
                VERIFIED_CACHE_BYTES,
                &l.verified,
            ),
        ]
    }

    pub fn apply(&self, c: &Change) {
        let Some(org) = c.org_id else { return };
        match c.kind.as_str() {
            CHANGE_CLIENT => {
                self.forget_client(org, &c.key);
                self.cors.invalidate(&org);
            }
            CHANGE_KEYS => self.forget_keys(org),
            CHANGE_REVOKED => self.forget_revocations(org),
            CHANGE_API_RESOURCE => self.resources.invalidate(&org),
            _ => {}
        }
    }
}

/// A per-thread copy of the last organization, client and signing keys each runtime thread
/// looked up, in front of the shared caches: a token request makes these three lookups, and
/// each one in the shared cache costs a hash of its key, a probe of a concurrent table, a
/// clock read and an entry in the cache's read log (about 0.2 µs together). Here it is a
/// comparison of the key and an `Arc` count.
///
/// Never staler than the shared cache: every entry carries the generation of the shared
/// caches it was read under, and every drop of a client or of keys moves the generation
/// after the shared entry is gone, so a thread's copy read before is not used again. The
/// change poller moves it at each of its reads too, so that no copy outlives the shared
/// entry's TTL by more than a poll. Organizations are never changed or deleted (a slug names
/// one organization for good), so their copies need nothing more.
struct Front {
    /// Which [`Caches`] a thread's copies came from (tests run many on one thread).
    instance: u64,
    generation: AtomicU64,
}

/// One thread's copies (see [`Front`]).
struct FrontEntries {
    instance: u64,
    generation: u64,
    org: Option<(Box<str>, Arc<Organization>)>,
    client: Option<(OrgId, Box<str>, Option<Arc<CachedClient>>)>,
    keys: Option<(OrgId, Arc<OrgKeys>)>,
}

thread_local! {
    static FRONT: std::cell::RefCell<FrontEntries> = const {
        std::cell::RefCell::new(FrontEntries {
            instance: 0,
            generation: 0,
            org: None,
            client: None,
            keys: None,
        })
    };
}

impl Front {
    fn new() -> Self {
        static INSTANCES: AtomicU64 = AtomicU64::new(1);
        Self {
            instance: INSTANCES.fetch_add(1, Ordering::Relaxed),
            generation: AtomicU64::new(0),
        }
    }

    /// The generation now: read before the shared cache is, so that a drop in between makes
    /// the copy taken from it stale.
    fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Moved after an entry of the shared cache was dropped (or at a poll).
    fn advance(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// What this thread holds of the current generation, if anything.
    fn read<T>(&self, generation: u64, f: impl FnOnce(&FrontEntries) -> Option<T>) -> Option<T> {
        FRONT.with(|e| {
            let e = e.borrow();
            (e.instance == self.instance && e.generation == generation)
                .then(|| f(&e))
                .flatten()
        })
    }

    /// Keeps a copy read under `generation`; copies of an older generation are dropped.
    fn write(&self, generation: u64, f: impl FnOnce(&mut FrontEntries)) {
        FRONT.with(|e| {
            let mut e = e.borrow_mut();
            if e.instance != self.instance || e.generation != generation {
                *e = FrontEntries {
                    instance: self.instance,
                    generation,
                    org: None,
                    client: None,
                    keys: None,
                };
            }
            f(&mut e);
        });
    }
}

impl Front {
    /// A lookup through the front: this thread's copy if `copy` finds one of the current
    /// generation, else `shared`'s answer, kept here with `keep`. The generation is read
    /// before the shared cache is (see [`Front::generation`]).
    fn through<T: Clone>(
        &self,
        copy: impl FnOnce(&FrontEntries) -> Option<T>,
        shared: impl FnOnce() -> Option<T>,
        keep: impl FnOnce(&mut FrontEntries, T),
    ) -> Option<T> {
        let g = self.generation();
        if let Some(v) = self.read(g, copy) {
            return Some(v);
        }
        let v = shared()?;
        self.write(g, |e| keep(e, v.clone()));
        Some(v)
    }
}

impl Caches {
    /// The organization of `slug`, if cached.
    pub fn org(&self, slug: &str) -> Option<Arc<Organization>> {
        self.front.through(
            |e| {
                e.org
                    .as_ref()
                    .filter(|(s, _)| &**s == slug)
                    .map(|(_, o)| Arc::clone(o))
            },
            || self.orgs.get(slug),
            |e, o| e.org = Some((slug.into(), o)),
        )
    }

    /// The client `id` of `org` (`Some(None)`: known not to exist), if cached.
    pub fn client(&self, org: OrgId, id: &str) -> Option<Option<Arc<CachedClient>>> {
        self.front.through(
            |e| {
                e.client
                    .as_ref()
                    .filter(|(o, i, _)| *o == org && &**i == id)
                    .map(|(_, _, c)| c.clone())
            },
            || self.clients.get(&(org, id.to_owned())),
            |e, c| e.client = Some((org, id.into(), c)),
        )
    }

    /// The organization's signing keys, if cached.
    pub fn keys(&self, org: OrgId) -> Option<Arc<OrgKeys>> {
        self.front.through(
            |e| {
                e.keys
                    .as_ref()
                    .filter(|(o, _)| *o == org)
                    .map(|(_, k)| Arc::clone(k))
            },
            || self.keys.get(&org),
            |e, k| e.keys = Some((org, k)),
        )
    }

    /// Keeps an organization read from the database.
    pub fn remember_org(&self, slug: &str, org: Arc<Organization>) {
        self.orgs.insert(slug.to_owned(), org);
    }

    /// Keeps a client read from the database (`None`: it does not exist).
    pub fn remember_client(&self, org: OrgId, id: &str, client: Option<Arc<CachedClient>>) {
        self.clients.insert((org, id.to_owned()), client);
    }

    /// Keeps an organization's signing keys as loaded.
    pub fn remember_keys(&self, org: OrgId, keys: Arc<OrgKeys>) {
        self.keys.insert(org, keys);
    }

    /// Drops a client (after a change to it committed, here or elsewhere).
    pub fn forget_client(&self, org: OrgId, id: &str) {
        self.clients.invalidate(&(org, id.to_owned()));
        self.front.advance();
    }

    /// Drops an organization's signing keys (after they changed).
    pub fn forget_keys(&self, org: OrgId) {
        self.keys.invalidate(&org);
        self.front.advance();
    }

    /// At each read of the change feed: no thread's copy outlives a poll (see [`Front`]).
    pub fn refresh_front(&self) {
        self.front.advance();
    }
}

impl Services {
    /// Follows the change feed and drops what changed elsewhere: each change as it commits
    /// where the store announces them (PostgreSQL), and a read of the feed every `every`
    /// regardless, and at once whenever the announcements were interrupted. Runs until the
    /// process ends.
    pub fn spawn_change_poller(self: &Arc<Self>, every: Duration) -> tokio::task::JoinHandle<()> {
        let this = Arc::clone(self);
        tokio::spawn(async move {
            let mut last = loop {
                match async { this.store.read().await?.last_change_seq().await }.await {
                    Ok(seq) => break seq,
                    Err(e) => {
                        tracing::warn!(error = %e, "change feed unavailable; retrying");
                        tokio::time::sleep(every).await;
                    }
                }
            };
            let (to, mut pushed) = tokio::sync::mpsc::unbounded_channel();
            let mut listening = this.store.push_changes(to);
            let mut next_poll = tokio::time::Instant::now() + every;
            let mut ticks: u64 = 0;
            // The changes of the last read (its look-back window included): already applied,
            // so the next look-back skips them. Applying one again was harmless but not
            // free: every change emptied its cache entries at each poll for as long as it
            // stayed in the window (twenty times at four polls a second), and each time the
            // next requests read them from the database again (signing keys parsed anew).
            let mut applied: std::collections::HashSet<i64> = std::collections::HashSet::new();
            loop {
                let poll = tokio::select! {
                    () = tokio::time::sleep_until(next_poll) => true,
                    m = pushed.recv(), if listening => match m {
                        Some(ChangePush::Change(c)) => {
                            this.apply_change(&c);
                            false
                        }
                        Some(ChangePush::Lost) => true,
                        None => {
                            listening = false;
                            false
                        }
                    },
                };
                if !poll {
                    continue;
                }
                next_poll = tokio::time::Instant::now() + every;
                ticks += 1;
                // New changes first, in order; then a look back over the last few seconds
                // for anything that committed after a later-numbered change (PostgreSQL),
                // applied only if the last read did not have it.
                let since = this.now() - time::Duration::seconds(5);
                let batch = async {
                    let mut tx = this.store.read().await?;
                    let mut fresh = tx.changes_since(last, 1000).await?;
                    let upto = fresh.last().map_or(last, |c| c.seq);
                    fresh.extend(tx.recent_changes(upto, since, 1000).await?);
                    Ok::<_, tessera_store::StoreError>(fresh)
                }
                .await;
                match batch {
                    Ok(changes) => {
                        let mut now_applied =
                            std::collections::HashSet::with_capacity(changes.len());
                        for c in &changes {
                            if !applied.contains(&c.seq) {
                                this.apply_change(c);
                            }
                            now_applied.insert(c.seq);
                            last = last.max(c.seq);
                        }
                        applied = now_applied;
                    }
                    Err(e) => tracing::warn!(error = %e, "could not read the change feed"),
                }
                this.caches.refresh_front();
                // About every ten minutes: forget old changes, expired revocations, and the
                // codes, requests and sessions of flows that ended over a day ago (a code is
                // kept past the longest access token lifetime, so that a replay still
                // revokes what its first redemption issued).
                if ticks.is_multiple_of(2400) {
                    let now = this.now();
                    let r = async {
                        let mut tx = this.store.begin().await?;
                        tx.prune_changes(now - time::Duration::hours(1)).await?;
                        tx.prune_limit_counters(
                            now - time::Duration::seconds(2 * crate::limits::WINDOW_SECONDS),
                        )
                        .await?;
                        tx.prune_revoked_tokens(now).await?;
                        tx.prune_expired_flows(now - time::Duration::hours(25))
                            .await?;
                        tx.commit().await
                    }
                    .await;
                    if let Err(e) = r {
                        tracing::warn!(error = %e, "could not prune the change feed");
                    }
                    if let Err(e) = this.expire_unused_clients().await {
                        tracing::warn!(error = %e, "could not remove unused registered clients");
                    }
                }
            }
        })
    }
}

impl Services {
    /// Drops what a change makes stale, or blocks the key another node found past its quota.
    pub(crate) fn apply_change(&self, c: &Change) {
        if c.kind == crate::limits::CHANGE_LIMIT_BLOCK {
            self.limits.block(c.key.clone());
        } else if c.kind == CHANGE_REGISTRATION_POLICY {
            self.registration_policy_changed();
        } else {
            self.caches.apply(c);
        }
    }

    /// Whether a browser at `origin` may call the organization's token, userinfo, revocation,
    /// JWKS and discovery endpoints: when any of its clients lists the origin.
    pub async fn cors_allowed(&self, org_slug: &str, origin: &str) -> bool {
        let Ok(org) = self.protocol_org(org_slug).await else {
            return false;
        };
        let list = match self.caches.cors.get(&org.id) {
            Some(l) => l,
            None => {
                count_load(&self.caches.loads.cors);
                let loaded = async { self.store.read().await?.cors_origins(org.id).await }.await;
                match loaded {
                    Ok(l) => {
                        let l = Arc::new(l);
                        self.caches.cors.insert(org.id, Arc::clone(&l));
                        l
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "could not read CORS origins");
                        return false;
                    }
                }
            }
        };
        list.iter().any(|o| o == origin)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn org(slug: &str) -> Arc<Organization> {
        Arc::new(Organization {
            id: OrgId(uuid::Uuid::new_v4()),
            slug: tessera_domain::OrgSlug::parse(slug).unwrap(),
            name: slug.to_owned(),
            created_at: time::OffsetDateTime::UNIX_EPOCH,
            updated_at: time::OffsetDateTime::UNIX_EPOCH,
        })
    }

    #[test]
    fn a_threads_copy_serves_until_the_generation_moves() {
        let c = Caches::new();
        let acme = org("acme");
        c.orgs.insert("acme".into(), Arc::clone(&acme));
        assert_eq!(c.org("acme").unwrap().id, acme.id);
        // Gone from the shared cache behind the front's back: the copy still answers...
        c.orgs.invalidate("acme");
        assert_eq!(c.org("acme").unwrap().id, acme.id);
        // ...for another key it does not,
        assert!(c.org("other").is_none());
        // and once the generation moved (a poll), not at all.
        c.orgs.insert("acme".into(), Arc::clone(&acme));
        assert!(c.org("acme").is_some());
        c.orgs.invalidate("acme");
        c.refresh_front();
        assert!(c.org("acme").is_none());
    }

    #[test]
    fn a_dropped_client_or_key_set_is_never_served_from_a_copy() {
        let c = Caches::new();
        let id = OrgId(uuid::Uuid::new_v4());
        c.clients.insert((id, "app".into()), None);
        assert!(matches!(c.client(id, "app"), Some(None)));
        assert!(c.client(id, "other").is_none());
        assert!(c.client(OrgId(uuid::Uuid::new_v4()), "app").is_none());
        c.forget_client(id, "app");
        assert!(c.client(id, "app").is_none());

        // A copy read before a drop of keys is stale after it, whatever it held.
        c.clients.insert((id, "app".into()), None);
        assert!(c.client(id, "app").is_some());
        c.clients.invalidate(&(id, "app".to_owned()));
        c.forget_keys(id);
        assert!(c.client(id, "app").is_none());
    }

    #[test]
    fn copies_belong_to_their_own_caches() {
        let a = Caches::new();
        let b = Caches::new();
        let acme = org("acme");
        a.orgs.insert("acme".into(), acme);
        assert!(a.org("acme").is_some());
        assert!(b.org("acme").is_none());
        assert!(a.org("acme").is_some());
    }
}
