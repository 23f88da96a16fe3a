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

/// A time a caller gave as a parameter (`from=`, `to=`): RFC 3339; the error names `field`.
pub fn parse_param(s: &str, field: &str) -> Result<Timestamp, crate::error::FieldError> {
    OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc3339).map_err(|_| {
        crate::error::FieldError::new(
            field,
            format!("'{s}' is not an RFC 3339 time, such as 2026-12-06T12:00:00Z"),
        )
    })
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

/// The wire form of timestamps: RFC 3339 in UTC with exactly three fractional digits
/// (`2026-12-06T10:00:00.000Z`, interfaces.md), written by every face; any RFC 3339 time is read.
pub mod rfc3339_millis {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::format_description::well_known::Rfc3339;
    use time::macros::format_description;
    use time::{OffsetDateTime, UtcOffset};

    /// `t` in the wire form.
    pub fn format(t: OffsetDateTime) -> String {
        let f = format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        );
        t.to_offset(UtcOffset::UTC)
            .format(&f)
            .unwrap_or_else(|_| t.to_string())
    }

    pub fn serialize<S: Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(*t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<OffsetDateTime, D::Error> {
        let s = String::deserialize(d)?;
        OffsetDateTime::parse(&s, &Rfc3339).map_err(serde::de::Error::custom)
    }

    /// The same for an optional timestamp (`null` when absent).
    pub mod option {
        use serde::{Deserialize, Deserializer, Serializer};
        use time::OffsetDateTime;

        #[allow(clippy::ref_option)]
        pub fn serialize<S: Serializer>(
            t: &Option<OffsetDateTime>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match t {
                Some(t) => s.serialize_str(&super::format(*t)),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<OffsetDateTime>, D::Error> {
            Option::<String>::deserialize(d)?
                .map(|s| {
                    OffsetDateTime::parse(&s, &time::format_description::well_known::Rfc3339)
                        .map_err(serde::de::Error::custom)
                })
                .transpose()
        }
    }
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
    fn timestamps_have_exactly_three_fractional_digits() {
        assert_eq!(
            rfc3339_millis::format(from_millis(1_765_015_653_930)),
            "2025-12-06T10:07:33.930Z"
        );
        assert_eq!(
            rfc3339_millis::format(from_millis(1_765_015_653_000)),
            "2025-12-06T10:07:33.000Z"
        );
    }

    #[test]
    fn millis_round_trip() {
        let t = from_millis(1_234_567_890_123);
        assert_eq!(to_millis(t), 1_234_567_890_123);
    }
}
