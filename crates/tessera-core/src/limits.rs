//! Brute-force brakes (RFC 9700 §4.16, quality.md), in this process.
//!
//! Only failures count, so people and programs that know their secret are never slowed down;
//! once a key has used up its failures for the minute, every attempt under it is refused
//! before anything slow runs (the argon2id of a password, the hash of a secret), for a
//! minute after its last excess. Every key names the organization, so that failures at one
//! organization never lock out users or clients of another:
//!
//! | what | key | failures per minute |
//! |---|---|---|
//! | passwords (login page, device page, password grant) | organization + user | 5 (configurable) |
//! | passwords | organization + address | 30 (configurable) |
//! | the password grant | organization + client | 30 (the address quota) |
//! | client authentication (token, introspection, revocation, device authorization) | organization + client + address | 20 |
//! | anything above | address alone, the last line | 600 |
//!
//! Client registrations and device user-code lookups count every attempt per organization
//! and address (the address quota).

use std::num::NonZeroU32;

use tessera_domain::OrgId;

/// Default failed sign-ins per user per minute.
pub const LOGIN_ATTEMPTS_PER_USER_PER_MINUTE: u32 = 5;
/// Default failed sign-ins per organization and address per minute.
pub const LOGIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE: u32 = 30;
/// Failed client authentications per organization, client and address per minute.
pub const CLIENT_AUTH_FAILURES_PER_MINUTE: u32 = 20;
/// Failures of any kind per address per minute, over every organization: the last line, far
/// above what any one organization's quota lets through.
pub const ADDRESS_FAILURES_PER_MINUTE: u32 = 600;

type Keyed = governor::DefaultKeyedRateLimiter<String>;

pub(crate) struct Limits {
    per_user: Keyed,
    per_address: Keyed,
    per_client: Keyed,
    ceiling: Keyed,
    /// Keys that failed too often, until a minute after their last excess.
    blocked: moka::sync::Cache<String, ()>,
}

impl std::fmt::Debug for Limits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Limits")
    }
}

fn quota(n: u32) -> governor::Quota {
    governor::Quota::per_minute(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN))
}

impl Limits {
    pub(crate) fn new(per_user: u32, per_address: u32) -> Self {
        Self {
            per_user: governor::RateLimiter::keyed(quota(per_user)),
            per_address: governor::RateLimiter::keyed(quota(per_address)),
            per_client: governor::RateLimiter::keyed(quota(CLIENT_AUTH_FAILURES_PER_MINUTE)),
            ceiling: governor::RateLimiter::keyed(quota(ADDRESS_FAILURES_PER_MINUTE)),
            blocked: moka::sync::Cache::builder()
                .max_capacity(1_000_000)
                .time_to_live(std::time::Duration::from_secs(60))
                .build(),
        }
    }

    fn user_key(org: OrgId, username: &str) -> String {
        format!("user {org}:{}", username.trim().to_ascii_lowercase())
    }

    fn address_key(org: OrgId, address: &str) -> String {
        format!("address {org}:{address}")
    }

    fn ceiling_key(address: &str) -> String {
        format!("ceiling {address}")
    }

    fn client_key(org: OrgId, client_id: &str, address: Option<&str>) -> String {
        format!("client {org}:{client_id}:{}", address.unwrap_or("-"))
    }

    fn is_blocked(&self, key: &str) -> bool {
        self.blocked.contains_key(key)
    }

    /// Counts one failure under `key` in `limiter`; past the quota the key is refused for a
    /// minute.
    fn count(&self, limiter: &Keyed, key: String) {
        if limiter.check_key(&key).is_err() {
            self.blocked.insert(key, ());
        }
    }

    fn count_ceiling(&self, address: Option<&str>) {
        if let Some(a) = address {
            self.count(&self.ceiling, Self::ceiling_key(a));
        }
    }

    fn ceiling_allows(&self, address: Option<&str>) -> bool {
        address.is_none_or(|a| !self.is_blocked(&Self::ceiling_key(a)))
    }

    /// Whether this user may try a password now, from this address.
    pub(crate) fn allow_login(&self, org: OrgId, username: &str, address: Option<&str>) -> bool {
        !self.is_blocked(&Self::user_key(org, username))
            && address.is_none_or(|a| !self.is_blocked(&Self::address_key(org, a)))
            && self.ceiling_allows(address)
    }

    /// Counts a failed sign-in.
    pub(crate) fn login_failed(&self, org: OrgId, username: &str, address: Option<&str>) {
        self.count(&self.per_user, Self::user_key(org, username));
        if let Some(a) = address {
            self.count(&self.per_address, Self::address_key(org, a));
        }
        self.count_ceiling(address);
    }

    /// The password grant: per user (shared with the login form) and per client, which gets
    /// the address quota.
    pub(crate) fn allow_password_grant(&self, org: OrgId, username: &str, client_id: &str) -> bool {
        !self.is_blocked(&Self::user_key(org, username))
            && !self.is_blocked(&format!("grant {org}:{client_id}"))
    }

    pub(crate) fn password_grant_failed(&self, org: OrgId, username: &str, client_id: &str) {
        self.count(&self.per_user, Self::user_key(org, username));
        self.count(&self.per_address, format!("grant {org}:{client_id}"));
    }

    /// Whether this client may try to authenticate from this address now.
    pub(crate) fn allow_client_auth(
        &self,
        org: OrgId,
        client_id: &str,
        address: Option<&str>,
    ) -> bool {
        !self.is_blocked(&Self::client_key(org, client_id, address)) && self.ceiling_allows(address)
    }

    /// Counts a failed client authentication.
    pub(crate) fn client_auth_failed(&self, org: OrgId, client_id: &str, address: Option<&str>) {
        self.count(&self.per_client, Self::client_key(org, client_id, address));
        self.count_ceiling(address);
    }

    /// Client registrations, per organization and address (with the address quota): an open
    /// registration endpoint must not become a way to fill the database.
    pub(crate) fn allow_registration(&self, org: OrgId, address: Option<&str>) -> bool {
        address.is_none_or(|a| {
            self.per_address
                .check_key(&format!("register {org}:{a}"))
                .is_ok()
        })
    }

    /// Guesses of device user codes, per organization and address (the address quota).
    pub(crate) fn allow_device_lookup(&self, org: OrgId, address: Option<&str>) -> bool {
        address.is_none_or(|a| {
            self.per_address
                .check_key(&format!("device {org}:{a}"))
                .is_ok()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org() -> OrgId {
        OrgId(uuid::Uuid::new_v4())
    }

    #[test]
    fn failures_at_one_organization_never_lock_out_another() {
        let l = Limits::new(5, 30);
        let (a, b) = (org(), org());
        for _ in 0..=CLIENT_AUTH_FAILURES_PER_MINUTE {
            l.client_auth_failed(b, "app", Some("10.0.0.1"));
        }
        assert!(!l.allow_client_auth(b, "app", Some("10.0.0.1")));
        assert!(l.allow_client_auth(a, "app", Some("10.0.0.1")));
        assert!(l.allow_client_auth(b, "other", Some("10.0.0.1")));
        assert!(l.allow_client_auth(b, "app", Some("10.0.0.2")));
        for _ in 0..=30 {
            l.login_failed(b, "someone", Some("10.0.0.1"));
        }
        assert!(!l.allow_login(b, "alice", Some("10.0.0.1")));
        assert!(l.allow_login(a, "alice", Some("10.0.0.1")));
    }

    #[test]
    fn the_address_ceiling_is_the_last_line() {
        let l = Limits::new(5, 30);
        for i in 0..=ADDRESS_FAILURES_PER_MINUTE {
            l.client_auth_failed(org(), &format!("c{i}"), Some("10.0.0.9"));
        }
        assert!(!l.allow_client_auth(org(), "fresh", Some("10.0.0.9")));
        assert!(!l.allow_login(org(), "fresh", Some("10.0.0.9")));
        assert!(l.allow_login(org(), "fresh", Some("10.0.0.8")));
    }

    #[test]
    fn a_user_is_braked_in_every_way_in() {
        let l = Limits::new(5, 30);
        let o = org();
        for _ in 0..=5 {
            l.login_failed(o, "Alice", Some("10.0.0.1"));
        }
        assert!(!l.allow_login(o, "alice", Some("10.0.0.2")));
        assert!(!l.allow_password_grant(o, "alice", "cli"));
    }
}
