//! Interactive sign-in: login sessions, authorization requests waiting for login or consent,
//! and the consents users gave.

use async_trait::async_trait;
use tessera_domain::{OrgId, Timestamp, UserId};

use crate::Result;

/// A login session (the cookie's hash is the key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginSession {
    pub id_hash: String,
    pub org_id: OrgId,
    pub user_id: UserId,
    pub auth_time: Timestamp,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub ended_at: Option<Timestamp>,
}

/// An authorization request waiting for login or consent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingRequest {
    pub id: String,
    pub org_id: OrgId,
    /// The validated request, as JSON.
    pub params: String,
    pub csrf: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// Interactive sign-in: login sessions, authorization requests waiting for login or consent,
/// and the consents users gave.
#[async_trait]
pub trait SessionRepo: Send {
    async fn insert_session(&mut self, s: &LoginSession) -> Result<()>;
    async fn find_session(&mut self, org: OrgId, id_hash: &str) -> Result<Option<LoginSession>>;
    async fn end_session(&mut self, org: OrgId, id_hash: &str, at: Timestamp) -> Result<bool>;
    /// Ends every live login session of a user (deactivation); how many.
    async fn end_user_sessions(&mut self, org: OrgId, user: UserId, at: Timestamp) -> Result<u64>;
    async fn insert_pending(&mut self, p: &PendingRequest) -> Result<()>;
    async fn find_pending(&mut self, org: OrgId, id: &str) -> Result<Option<PendingRequest>>;
    async fn delete_pending(&mut self, org: OrgId, id: &str) -> Result<bool>;
    async fn find_consent(
        &mut self,
        org: OrgId,
        user: UserId,
        client_id: &str,
    ) -> Result<Option<Vec<String>>>;
    async fn upsert_consent(
        &mut self,
        org: OrgId,
        user: UserId,
        client_id: &str,
        scopes: &[String],
        at: Timestamp,
    ) -> Result<()>;
    /// Deletes device codes, authorization codes, pending requests, login sessions and the
    /// `jti`s of client assertions that expired before `before`; how many rows went.
    async fn prune_expired_flows(&mut self, before: Timestamp) -> Result<u64>;
}
