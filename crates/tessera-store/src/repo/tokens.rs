//! Tokens after issue: refresh token families, revoked access tokens, and the `jti`s of
//! accepted client assertions.

use async_trait::async_trait;
use tessera_domain::{OrgId, Timestamp, UserId};

use crate::Result;

/// A refresh token (its hash is the key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshToken {
    pub token_hash: String,
    pub org_id: OrgId,
    pub family_id: String,
    pub client_id: String,
    pub user_id: UserId,
    pub scope: String,
    pub auth_time: Timestamp,
    pub created_at: Timestamp,
    /// The family's absolute end: refreshing never extends it.
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
    /// The claims request of the authorization the family started from.
    pub claims: Option<tessera_domain::claims::ClaimsRequest>,
    /// The identifiers of the API resources the authorization was for (RFC 8707).
    pub resources: Vec<String>,
    /// The DPoP key a public client's refresh token is bound to (RFC 9449 §5).
    pub dpop_jkt: Option<String>,
    /// The login session the authorization came from (`sid`).
    pub sid: Option<String>,
    /// How the user authenticated (RFC 8176, space-separated), for refreshed id_tokens.
    pub amr: String,
}

/// Tokens after issue: refresh token families, revoked access tokens, and the `jti`s of
/// accepted client assertions.
#[async_trait]
pub trait TokenRepo: Send {
    /// Records a revocation; true when it is new.
    async fn revoke_token(
        &mut self,
        org: OrgId,
        jti: &str,
        expires_at: Timestamp,
        at: Timestamp,
    ) -> Result<bool>;
    async fn is_token_revoked(&mut self, org: OrgId, jti: &str) -> Result<bool>;
    /// The `jti`s of the organization's revoked tokens that have not expired by `now`, at
    /// most `limit` of them (in no particular order).
    async fn live_revoked_tokens(
        &mut self,
        org: OrgId,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<String>>;
    /// Forgets revocations of tokens that have expired anyway.
    async fn prune_revoked_tokens(&mut self, now: Timestamp) -> Result<u64>;
    /// Records the `jti` of an accepted client assertion until it expires; false when the
    /// client used it before (a replay).
    async fn use_client_assertion(
        &mut self,
        org: OrgId,
        client_id: &str,
        jti: &str,
        expires_at: Timestamp,
    ) -> Result<bool>;
    async fn insert_refresh(&mut self, t: &RefreshToken) -> Result<()>;
    async fn find_refresh(&mut self, org: OrgId, token_hash: &str) -> Result<Option<RefreshToken>>;
    /// Spends a token; true only for the one caller that spends it first.
    async fn use_refresh(&mut self, org: OrgId, token_hash: &str, at: Timestamp) -> Result<bool>;
    /// Revokes every token of a family; how many were still unrevoked.
    async fn revoke_refresh_family(
        &mut self,
        org: OrgId,
        family_id: &str,
        at: Timestamp,
    ) -> Result<u64>;
}
