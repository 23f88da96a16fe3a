//! The organizations' signing keys.

use async_trait::async_trait;
use tessera_domain::{OrgId, Timestamp};

use crate::Result;

/// A signing key as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKeyRecord {
    /// The `kid`.
    pub id: String,
    pub org_id: OrgId,
    /// `ES256`, `RS256` or `EdDSA`.
    pub alg: String,
    /// Sealed by the vault.
    pub private_key: String,
    /// The public JWK, as JSON text.
    pub public_jwk: String,
    pub created_at: Timestamp,
    pub retired_at: Option<Timestamp>,
    pub publish_until: Option<Timestamp>,
}

/// The organizations' signing keys.
#[async_trait]
pub trait SigningKeyRepo: Send {
    /// Holds the organization's keys for this transaction: another transaction that asks
    /// waits until this one ends, so that two processes never make or rotate the same keys
    /// at once (the organization's row is the lock).
    async fn lock_signing_keys(&mut self, org: OrgId) -> Result<()>;
    async fn insert_signing_key(&mut self, key: &SigningKeyRecord) -> Result<()>;
    /// The organization's keys that are active or still published at `now`, oldest first.
    async fn published_signing_keys(
        &mut self,
        org: OrgId,
        now: Timestamp,
    ) -> Result<Vec<SigningKeyRecord>>;
    /// Retires every active key of `alg`, publishing it until `publish_until`.
    async fn retire_signing_keys(
        &mut self,
        org: OrgId,
        alg: &str,
        at: Timestamp,
        publish_until: Timestamp,
    ) -> Result<u64>;
}
