//! `lastUsedAt` of API keys and client secrets, written off the request path.
//!
//! A use is written at most once per id per `last_used_interval`, and the writes are batched:
//! the first use noted while nothing is pending starts one flusher task, which writes whatever
//! has gathered in one transaction and repeats until nothing is left. Under load that is one
//! commit for many uses (a million clients each used once would otherwise be a million
//! commits), and idle it is one write a moment after the use. When a client secret was last
//! noted is kept in the cached client itself (no second entry per client: with a hundred
//! thousand clients in use that second entry took more memory than the clients); for API
//! keys, in a small bounded cache. An entry that falls out of either is merely written again.
//!
//! A remembered consent's `lastUsedAt` (the account page's "last used") is written in the
//! transaction that issues the code, but at most once per `last_used_interval` per consent
//! (noted here): every authorization with a session would otherwise hold the single SQLite
//! writer for one more statement.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use tessera_domain::{ApiKeyId, OrgId, Timestamp, UserId};

use crate::Services;

/// What was used.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Use {
    ApiKey(ApiKeyId),
    /// A client secret, by the secret's id.
    ClientSecret(OrgId, String),
    /// A client that got a token (written for registered clients only).
    Client(OrgId, String),
}

/// The uses to write, and which API keys were written lately.
pub(crate) struct UseNotes {
    recent_keys: moka::sync::Cache<ApiKeyId, Timestamp>,
    /// When each consent's `lastUsedAt` was last written by this process.
    recent_consents: moka::sync::Cache<(OrgId, UserId, String), Timestamp>,
    pending: Mutex<Pending>,
}

impl std::fmt::Debug for UseNotes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UseNotes")
    }
}

#[derive(Default)]
struct Pending {
    uses: Vec<(Use, Timestamp)>,
    /// A flusher task is running and will take what is pushed.
    flushing: bool,
}

/// How many API keys the "written lately" memory holds.
const RECENT_KEYS: u64 = 10_000;
/// How many consents it holds.
const RECENT_CONSENTS: u64 = 100_000;

impl UseNotes {
    pub fn new() -> Self {
        Self {
            recent_keys: moka::sync::Cache::builder()
                .max_capacity(RECENT_KEYS)
                .build(),
            recent_consents: moka::sync::Cache::builder()
                .max_capacity(RECENT_CONSENTS)
                .build(),
            pending: Mutex::new(Pending::default()),
        }
    }

    /// Queues `what`; true when a flusher must be started.
    fn push(&self, what: Use, now: Timestamp) -> bool {
        let Ok(mut p) = self.pending.lock() else {
            return false;
        };
        p.uses.push((what, now));
        !std::mem::replace(&mut p.flushing, true)
    }

    /// Everything pending, or `None` (and the flusher ends) when nothing is.
    fn take(&self) -> Option<Vec<(Use, Timestamp)>> {
        let mut p = self.pending.lock().ok()?;
        if p.uses.is_empty() {
            p.flushing = false;
            return None;
        }
        Some(std::mem::take(&mut p.uses))
    }
}

/// When a cached client secret was last queued for writing (Unix seconds; 0: never).
#[derive(Debug, Default)]
pub(crate) struct LastNoted(AtomicI64);

impl LastNoted {
    /// True, and now remembered, when the last note is `interval` old or older; of two
    /// requests that find it due at once, one wins.
    fn due(&self, now: Timestamp, interval: time::Duration) -> bool {
        let last = self.0.load(Ordering::Relaxed);
        let now_s = now.unix_timestamp();
        now_s - last >= interval.whole_seconds()
            && self
                .0
                .compare_exchange(last, now_s, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }
}

impl Services {
    /// Records a use of an API key (see the module header).
    pub(crate) fn note_key_use(self: &Arc<Self>, id: ApiKeyId) {
        let now = self.now();
        let interval = self.config.last_used_interval;
        if self
            .uses
            .recent_keys
            .get(&id)
            .is_some_and(|last| now - last < interval)
        {
            return;
        }
        self.uses.recent_keys.insert(id, now);
        if self.uses.push(Use::ApiKey(id), now) {
            self.flush_uses();
        }
    }

    /// Records a use of a client secret, whose cached entry keeps the last note in `noted`
    /// (see the module header). Should the write fail, the next load of the client (after a
    /// change, or the cache's TTL) starts afresh and writes again.
    pub(crate) fn note_secret_use(
        self: &Arc<Self>,
        org: OrgId,
        id: &str,
        noted: &LastNoted,
        now: Timestamp,
    ) {
        if noted.due(now, self.config.last_used_interval)
            && self.uses.push(Use::ClientSecret(org, id.to_owned()), now)
        {
            self.flush_uses();
        }
    }

    /// Records that a client got a token, once per `last_used_interval` per cached client.
    pub(crate) fn note_client_use(
        self: &Arc<Self>,
        org: OrgId,
        client: &crate::cache::CachedClient,
    ) {
        let now = self.now();
        if client.noted.due(now, self.config.last_used_interval)
            && self
                .uses
                .push(Use::Client(org, client.client.id.as_str().to_owned()), now)
        {
            self.flush_uses();
        }
    }

    /// Whether a consent's `lastUsedAt` should be written now (see the module header).
    pub(crate) fn consent_touch_due(&self, org: OrgId, user: UserId, client: &str) -> bool {
        let now = self.now();
        self.uses
            .recent_consents
            .get(&(org, user, client.to_owned()))
            .is_none_or(|last| now - last >= self.config.last_used_interval)
    }

    /// A consent's `lastUsedAt` was written at `at` (after its transaction committed).
    pub(crate) fn consent_touched(&self, org: OrgId, user: UserId, client: &str, at: Timestamp) {
        self.uses
            .recent_consents
            .insert((org, user, client.to_owned()), at);
    }

    pub(crate) fn forget_consent_touch(&self, org: OrgId, user: UserId, client: &str) {
        self.uses
            .recent_consents
            .invalidate(&(org, user, client.to_owned()));
    }

    /// The flusher: writes batches until nothing is pending.
    fn flush_uses(self: &Arc<Self>) {
        let this = Arc::clone(self);
        tokio::spawn(async move {
            while let Some(batch) = this.uses.take() {
                let written = async {
                    let mut tx = this.store.begin().await?;
                    for (what, at) in &batch {
                        match what {
                            Use::ApiKey(id) => tx.touch_api_key(*id, *at).await?,
                            Use::ClientSecret(org, id) => {
                                tx.touch_client_secret(*org, id, *at).await?;
                            }
                            Use::Client(org, id) => {
                                tx.touch_registered_client(*org, id, *at).await?;
                            }
                        }
                    }
                    tx.commit().await
                }
                .await;
                if let Err(e) = written {
                    // Forget the keys, so that their next use tries again.
                    for (what, _) in &batch {
                        if let Use::ApiKey(id) = what {
                            this.uses.recent_keys.invalidate(id);
                        }
                    }
                    tracing::warn!(error = %e, uses = batch.len(), "could not record key and secret uses");
                }
            }
        });
    }
}
