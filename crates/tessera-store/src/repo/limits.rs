//! Counters that every process on the database shares: the brute-force brakes and rate limits
//! of core's `limits` module count here, so that three nodes give an attacker no more tries
//! than one.

use async_trait::async_trait;
use tessera_domain::Timestamp;

use crate::Result;

/// Shared event counters, one per key, in fixed windows.
#[async_trait]
pub trait LimitRepo: Send {
    /// Counts one event under `key` and returns how many the key's window now holds. A window
    /// starts at the first event after the previous one ended and lasts `window_seconds`;
    /// the first event of a new window counts 1. Atomic: concurrent counts on any number of
    /// processes each see a different number.
    async fn count_event(&mut self, key: &str, now: Timestamp, window_seconds: i64) -> Result<i64>;
    /// Forgets the counters whose window started before `before`.
    async fn prune_limit_counters(&mut self, before: Timestamp) -> Result<u64>;
}
