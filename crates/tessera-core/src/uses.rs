//! `lastUsedAt` of API keys and client secrets, written off the request path.
//!
//! A use is written at most once per id per `last_used_interval`, and the writes are batched:
//! the first use noted while nothing is pending starts one flusher task, which writes whatever
//! has gathered in one transaction and repeats until nothing is left. Under load that is one
//! commit for many uses (a million clients each used once would otherwise be a million
//! commits), and idle it is one write a moment after the use. Which ids were written recently
//! is kept in a bounded cache: an id that falls out of it is merely written again.

use std::sync::{Arc, Mutex};

use tessera_domain::{ApiKeyId, OrgId, Timestamp};

use crate::Services;

/// What was used.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Use {
    ApiKey(ApiKeyId),
    /// A client secret, by the secret's id.
    ClientSecret(OrgId, String),
}

/// The uses to write and which were written lately.
pub(crate) struct UseNotes {
    recent: moka::sync::Cache<Use, Timestamp>,
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

/// How many ids the "written lately" memory holds (about 100 bytes each).
const RECENT_CAPACITY: u64 = 100_000;

impl UseNotes {
    pub fn new() -> Self {
        Self {
            recent: moka::sync::Cache::builder()
                .max_capacity(RECENT_CAPACITY)
                .build(),
            pending: Mutex::new(Pending::default()),
        }
    }

    /// Queues `what` unless it was written less than `interval` before `now`; true when a
    /// flusher must be started.
    fn push(&self, what: Use, now: Timestamp, interval: time::Duration) -> bool {
        if self
            .recent
            .get(&what)
            .is_some_and(|last| now - last < interval)
        {
            return false;
        }
        self.recent.insert(what.clone(), now);
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

impl Services {
    /// Records a use of an API key or client secret (see the module header).
    pub(crate) fn note_use(self: &Arc<Self>, what: Use) {
        let now = self.now();
        if !self.uses.push(what, now, self.config.last_used_interval) {
            return;
        }
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
                        }
                    }
                    tx.commit().await
                }
                .await;
                if let Err(e) = written {
                    // Forget them, so that the next use tries again.
                    for (what, _) in &batch {
                        this.uses.recent.invalidate(what);
                    }
                    tracing::warn!(error = %e, uses = batch.len(), "could not record key and secret uses");
                }
            }
        });
    }
}
