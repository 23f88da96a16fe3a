//! Dynamic client registration (RFC 7591/7592): the policy, initial access tokens and
//! registration access tokens.

use async_trait::async_trait;
use tessera_domain::{OrgId, Timestamp};

use crate::Result;

/// An initial access token for client registration (its hash is what is kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitialAccessToken {
    pub id: String,
    pub org_id: OrgId,
    pub token_hash: String,
    /// The last characters, to tell tokens apart in a list.
    pub hint: String,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

/// Dynamic client registration (RFC 7591/7592): the policy, initial access tokens and
/// registration access tokens.
#[async_trait]
pub trait RegistrationRepo: Send {
    /// The organization's registration policy as stored JSON, if one was set.
    async fn registration_policy(&mut self, org: OrgId) -> Result<Option<String>>;
    async fn put_registration_policy(
        &mut self,
        org: OrgId,
        policy: &str,
        at: Timestamp,
    ) -> Result<()>;
    async fn insert_initial_access_token(&mut self, t: &InitialAccessToken) -> Result<()>;
    async fn find_initial_access_token(
        &mut self,
        org: OrgId,
        token_hash: &str,
    ) -> Result<Option<InitialAccessToken>>;
    async fn list_initial_access_tokens(&mut self, org: OrgId) -> Result<Vec<InitialAccessToken>>;
    /// Revokes one; false if there is no such live token.
    async fn revoke_initial_access_token(
        &mut self,
        org: OrgId,
        id: &str,
        at: Timestamp,
    ) -> Result<bool>;
    /// Sets (or replaces) a registered client's registration access token hash.
    async fn set_registration_token(
        &mut self,
        org: OrgId,
        client_id: &str,
        token_hash: &str,
        at: Timestamp,
    ) -> Result<()>;
    async fn registration_token(&mut self, org: OrgId, client_id: &str) -> Result<Option<String>>;
    /// Records that a registered client got a token (nothing for other clients).
    async fn touch_registered_client(
        &mut self,
        org: OrgId,
        client_id: &str,
        at: Timestamp,
    ) -> Result<()>;
    /// Registered clients of the organization last used (or, never used, registered) before
    /// `before`, at most `limit`.
    async fn unused_registered_clients(
        &mut self,
        org: OrgId,
        before: Timestamp,
        limit: u32,
    ) -> Result<Vec<String>>;
    /// Every organization's stored policy.
    async fn all_registration_policies(&mut self) -> Result<Vec<(OrgId, String)>>;
}
