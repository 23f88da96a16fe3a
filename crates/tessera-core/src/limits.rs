//! Brute-force brakes and rate limits (RFC 9700 §4.16, quality.md), shared by every process on
//! the database.
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
//!
//! **Across nodes.** Each failure is counted in the database (`limit_counters`, one atomic
//! upsert per key), in a window of 60 seconds that starts at the key's first failure, so
//! failures spread over any number of nodes add up exactly. The failure that goes past the
//! quota blocks the key on its node at once and announces the block on the change feed
//! (kind `limit_block`); the other nodes block it as soon as they read it (milliseconds on
//! PostgreSQL, which pushes changes; within the poll interval otherwise). Checking a key is
//! therefore a lookup in this process's memory: the token path pays nothing for the brakes
//! until someone fails.

use tessera_domain::OrgId;

use crate::Services;

/// Default failed sign-ins per user per minute.
pub const LOGIN_ATTEMPTS_PER_USER_PER_MINUTE: u32 = 5;
/// Default failed sign-ins per organization and address per minute.
pub const LOGIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE: u32 = 30;
/// Failed client authentications per organization, client and address per minute.
pub const CLIENT_AUTH_FAILURES_PER_MINUTE: u32 = 20;
/// Failures of any kind per address per minute, over every organization: the last line, far
/// above what any one organization's quota lets through.
pub const ADDRESS_FAILURES_PER_MINUTE: u32 = 600;
/// The window of every counter, and how long a key stays blocked after its last excess.
pub const WINDOW_SECONDS: i64 = 60;

/// The change-feed kind that announces a blocked key.
pub(crate) const CHANGE_LIMIT_BLOCK: &str = "limit_block";

/// One key to count, with its quota for the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Counted {
    key: String,
    quota: u32,
}

pub(crate) struct Limits {
    per_user: u32,
    per_address: u32,
    /// Keys that failed too often, here or on another node, until a minute after.
    blocked: moka::sync::Cache<String, ()>,
    /// When a key was last blocked (milliseconds since `started`; 0: never). A minute after
    /// it, every entry has expired and no key needs building or looking up: the common case,
    /// checked on every token request.
    last_block_ms: std::sync::atomic::AtomicU64,
    started: std::time::Instant,
}

impl std::fmt::Debug for Limits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Limits")
    }
}

impl Limits {
    pub(crate) fn new(per_user: u32, per_address: u32) -> Self {
        Self {
            per_user: per_user.max(1),
            per_address: per_address.max(1),
            // About 16 MiB of blocked keys at most, however many an attack makes.
            blocked: moka::sync::Cache::builder()
                .max_capacity(16 << 20)
                .weigher(|k: &String, _: &()| u32::try_from(64 + 2 * k.len()).unwrap_or(u32::MAX))
                .time_to_live(std::time::Duration::from_secs(WINDOW_SECONDS as u64))
                .build(),
            last_block_ms: std::sync::atomic::AtomicU64::new(0),
            started: std::time::Instant::now(),
        }
    }

    fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// True when no key can be blocked: none was in the last window (and a second more, so
    /// that an entry the cache has not yet expired is never missed).
    fn none_blocked(&self) -> bool {
        let last = self
            .last_block_ms
            .load(std::sync::atomic::Ordering::Acquire);
        last == 0 || self.elapsed_ms() > last + (WINDOW_SECONDS as u64 + 1) * 1000
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

    fn grant_key(org: OrgId, client_id: &str) -> String {
        format!("grant {org}:{client_id}")
    }

    /// The organization and user name of a user's sign-in key (`user {org}:{name}`).
    fn locked_user(key: &str) -> Option<(OrgId, &str)> {
        let (org, name) = key.strip_prefix("user ")?.split_once(':')?;
        Some((OrgId(uuid::Uuid::parse_str(org).ok()?), name))
    }

    fn is_blocked(&self, key: &str) -> bool {
        !self.none_blocked() && self.blocked.contains_key(key)
    }

    /// Blocks `key` in this process (for the window), as this node's count or another's
    /// announcement says.
    pub(crate) fn block(&self, key: String) {
        self.last_block_ms.store(
            self.elapsed_ms().max(1),
            std::sync::atomic::Ordering::Release,
        );
        self.blocked.insert(key, ());
    }

    fn ceiling(address: Option<&str>) -> Option<Counted> {
        address.map(|a| Counted {
            key: Self::ceiling_key(a),
            quota: ADDRESS_FAILURES_PER_MINUTE,
        })
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

    /// What a failed sign-in counts.
    pub(crate) fn login_failed(
        &self,
        org: OrgId,
        username: &str,
        address: Option<&str>,
    ) -> Vec<Counted> {
        let mut keys = vec![Counted {
            key: Self::user_key(org, username),
            quota: self.per_user,
        }];
        keys.extend(address.map(|a| Counted {
            key: Self::address_key(org, a),
            quota: self.per_address,
        }));
        keys.extend(Self::ceiling(address));
        keys
    }

    /// The password grant: per user (shared with the login form) and per client, which gets
    /// the address quota.
    pub(crate) fn allow_password_grant(&self, org: OrgId, username: &str, client_id: &str) -> bool {
        !self.is_blocked(&Self::user_key(org, username))
            && !self.is_blocked(&Self::grant_key(org, client_id))
    }

    pub(crate) fn password_grant_failed(
        &self,
        org: OrgId,
        username: &str,
        client_id: &str,
    ) -> Vec<Counted> {
        vec![
            Counted {
                key: Self::user_key(org, username),
                quota: self.per_user,
            },
            Counted {
                key: Self::grant_key(org, client_id),
                quota: self.per_address,
            },
        ]
    }

    /// Whether this client may try to authenticate from this address now.
    pub(crate) fn allow_client_auth(
        &self,
        org: OrgId,
        client_id: &str,
        address: Option<&str>,
    ) -> bool {
        self.none_blocked()
            || (!self.is_blocked(&Self::client_key(org, client_id, address))
                && self.ceiling_allows(address))
    }

    /// What a failed client authentication counts.
    pub(crate) fn client_auth_failed(
        &self,
        org: OrgId,
        client_id: &str,
        address: Option<&str>,
    ) -> Vec<Counted> {
        let mut keys = vec![Counted {
            key: Self::client_key(org, client_id, address),
            quota: CLIENT_AUTH_FAILURES_PER_MINUTE,
        }];
        keys.extend(Self::ceiling(address));
        keys
    }

    /// Client registrations, per organization and address (with the address quota): an open
    /// registration endpoint must not become a way to fill the database. Every attempt
    /// counts.
    pub(crate) fn registration(&self, org: OrgId, address: Option<&str>) -> Option<Counted> {
        address.map(|a| Counted {
            key: format!("register {org}:{a}"),
            quota: self.per_address,
        })
    }

    /// Guesses of device user codes, per organization and address (the address quota).
    pub(crate) fn device_lookup(&self, org: OrgId, address: Option<&str>) -> Option<Counted> {
        address.map(|a| Counted {
            key: format!("device {org}:{a}"),
            quota: self.per_address,
        })
    }
}

impl Services {
    /// Counts one failure (or attempt) under each key, on every node's shared counters, and
    /// blocks the keys that went past their quota: here at once, elsewhere through the change
    /// feed. Answers whether every key is still within its quota. When the database cannot
    /// count, the request goes on (it is failing anyway) and the brakes of this process stay
    /// as they were.
    pub(crate) async fn count_failures(&self, keys: &[Counted]) -> bool {
        let now = self.now();
        let counted = async {
            let mut tx = self.store.begin().await?;
            let mut over = Vec::new();
            for k in keys {
                let n = tx.count_event(&k.key, now, WINDOW_SECONDS).await?;
                if n > i64::from(k.quota) {
                    // The first excess tells the other nodes; later ones (from nodes that
                    // had not heard yet) need not.
                    if n == i64::from(k.quota) + 1 {
                        tx.record_change(None, CHANGE_LIMIT_BLOCK, &k.key, now)
                            .await?;
                        // A user locked out of signing in is audited (and so an event).
                        if let Some((org, username)) = Limits::locked_user(&k.key) {
                            let entry = crate::audit::AuditEntry::new(
                                tessera_domain::AuditAction::UserLockedOut,
                                "user",
                            )
                            .org(org)
                            .target(username)
                            .after(Some(serde_json::json!({
                                "username": username,
                                "failures": n,
                                "seconds": WINDOW_SECONDS,
                            })));
                            tx.insert_audit(&entry.event(
                                tessera_domain::Principal::system().actor(),
                                None,
                                None,
                                now,
                            ))
                            .await?;
                        }
                    }
                    over.push(k.key.clone());
                }
            }
            tx.commit().await?;
            Ok::<_, tessera_store::StoreError>(over)
        }
        .await;
        match counted {
            Ok(over) => {
                let within = over.is_empty();
                for key in over {
                    self.limits.block(key);
                }
                within
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not count a failure against the limits");
                true
            }
        }
    }

    /// Counts an attempt that is limited whether it succeeds or not (registrations, device
    /// user-code lookups): `false` once the key is past its quota.
    pub(crate) async fn allow_attempt(&self, counted: Option<Counted>) -> bool {
        let Some(c) = counted else { return true };
        if self.limits.is_blocked(&c.key) {
            return false;
        }
        self.count_failures(std::slice::from_ref(&c)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org() -> OrgId {
        OrgId(uuid::Uuid::new_v4())
    }

    fn keys(c: &[Counted]) -> Vec<&str> {
        c.iter().map(|c| c.key.as_str()).collect()
    }

    #[test]
    fn every_key_names_the_organization_but_the_ceiling() {
        let l = Limits::new(5, 30);
        let o = org();
        let counted = l.login_failed(o, " Alice ", Some("10.0.0.1"));
        assert_eq!(
            keys(&counted),
            [
                format!("user {o}:alice").as_str(),
                &format!("address {o}:10.0.0.1"),
                "ceiling 10.0.0.1"
            ]
        );
        assert_eq!(
            counted.iter().map(|c| c.quota).collect::<Vec<_>>(),
            [5, 30, ADDRESS_FAILURES_PER_MINUTE]
        );
        let counted = l.client_auth_failed(o, "app", None);
        assert_eq!(keys(&counted), [format!("client {o}:app:-").as_str()]);
        assert_eq!(counted[0].quota, CLIENT_AUTH_FAILURES_PER_MINUTE);
    }

    #[test]
    fn a_blocked_key_refuses_only_what_it_names() {
        let l = Limits::new(5, 30);
        let (a, b) = (org(), org());
        l.block(Limits::client_key(b, "app", Some("10.0.0.1")));
        assert!(!l.allow_client_auth(b, "app", Some("10.0.0.1")));
        assert!(l.allow_client_auth(a, "app", Some("10.0.0.1")));
        assert!(l.allow_client_auth(b, "other", Some("10.0.0.1")));
        assert!(l.allow_client_auth(b, "app", Some("10.0.0.2")));
        l.block(Limits::address_key(b, "10.0.0.1"));
        assert!(!l.allow_login(b, "alice", Some("10.0.0.1")));
        assert!(l.allow_login(a, "alice", Some("10.0.0.1")));
    }

    #[test]
    fn the_address_ceiling_is_the_last_line() {
        let l = Limits::new(5, 30);
        l.block(Limits::ceiling_key("10.0.0.9"));
        assert!(!l.allow_client_auth(org(), "fresh", Some("10.0.0.9")));
        assert!(!l.allow_login(org(), "fresh", Some("10.0.0.9")));
        assert!(l.allow_login(org(), "fresh", Some("10.0.0.8")));
    }

    #[test]
    fn a_user_is_braked_in_every_way_in() {
        let l = Limits::new(5, 30);
        let o = org();
        let user = &l.login_failed(o, "Alice", Some("10.0.0.1"))[0];
        l.block(user.key.clone());
        assert!(!l.allow_login(o, "alice", Some("10.0.0.2")));
        assert!(!l.allow_password_grant(o, "alice", "cli"));
        assert!(l.allow_password_grant(o, "bob", "cli"));
    }
}
