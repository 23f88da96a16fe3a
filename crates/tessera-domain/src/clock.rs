//! Time as an injected dependency: production uses [`SystemClock`], tests use [`MockClock`]
//! and `advance()` it instead of sleeping.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use time::OffsetDateTime;

/// A point in time, UTC. Stored as milliseconds since the Unix epoch.
pub type Timestamp = OffsetDateTime;

/// The source of "now" for every rule that depends on time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> Timestamp;
}

/// The real wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        // The one place allowed to read the wall clock.
        OffsetDateTime::now_utc()
    }
}

/// A clock that only moves when told to; clones share the same time.
#[derive(Debug, Clone)]
pub struct MockClock {
    millis: Arc<AtomicI64>,
}

impl MockClock {
    pub fn new(start: Timestamp) -> Self {
        Self {
            millis: Arc::new(AtomicI64::new(to_millis(start))),
        }
    }

    pub fn advance(&self, by: time::Duration) {
        let ms = i64::try_from(by.whole_milliseconds()).unwrap_or(i64::MAX);
        self.millis.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for MockClock {
    fn now(&self) -> Timestamp {
        from_millis(self.millis.load(Ordering::SeqCst))
    }
}

/// Milliseconds since the epoch: the storage form of a [`Timestamp`].
pub fn to_millis(t: Timestamp) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// The inverse of [`to_millis`]; out-of-range values clamp to the epoch.
pub fn from_millis(ms: i64) -> Timestamp {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mock_clock_advances_and_clones_share_time() {
        let start = from_millis(1_700_000_000_000);
        let c = MockClock::new(start);
        let c2 = c.clone();
        c.advance(time::Duration::seconds(61));
        assert_eq!(to_millis(c2.now()), 1_700_000_061_000);
    }

    #[test]
    fn millis_round_trip() {
        let t = from_millis(1_234_567_890_123);
        assert_eq!(to_millis(t), 1_234_567_890_123);
    }
}
