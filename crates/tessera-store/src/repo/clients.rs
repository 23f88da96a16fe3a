//! OAuth clients and their secrets. Secrets are stored separately; reads fill `secrets`
//! with their metadata.

use async_trait::async_trait;
use tessera_domain::client::{ClientId, OAuthClient, SecretInfo};
use tessera_domain::{OrgId, Timestamp};

use crate::Result;

/// A client secret as stored: its public metadata and its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientSecretRecord {
    pub org_id: OrgId,
    pub client_id: ClientId,
    pub info: SecretInfo,
    /// A stored hash naming its algorithm (`hmac-sha256$…` or `$argon2id$…`).
    pub secret_hash: String,
    /// The secret itself sealed by the vault, for a `client_secret_jwt` client, which signs
    /// its assertions with it; `None` for the others.
    pub sealed: Option<String>,
}

/// Which clients to list: `q` matches the id or the name, case-insensitively.
#[derive(Debug, Clone, Default)]
pub struct ClientQuery {
    pub q: Option<String>,
    pub limit: u32,
    pub offset: u32,
    /// The order and filters (default: newest first, every client).
    pub options: tessera_domain::client::ClientListOptions,
}

/// OAuth clients and their secrets. Secrets are stored separately; reads fill `secrets`
/// with their metadata.
#[async_trait]
pub trait ClientRepo: Send {
    async fn insert_client(&mut self, client: &OAuthClient) -> Result<()>;
    /// Replaces the settings of an existing client; false when there is none.
    async fn update_client(&mut self, client: &OAuthClient) -> Result<bool>;
    async fn find_client(&mut self, org: OrgId, id: &ClientId) -> Result<Option<OAuthClient>>;
    /// The client with every stored secret and its hash (expired ones included), for
    /// authenticating it; `secrets` of the client itself is left empty.
    async fn find_client_with_secrets(
        &mut self,
        org: OrgId,
        id: &ClientId,
    ) -> Result<Option<(OAuthClient, Vec<ClientSecretRecord>)>>;
    /// One page of clients, newest first, and the total number matching.
    async fn list_clients(
        &mut self,
        org: OrgId,
        q: &ClientQuery,
    ) -> Result<(Vec<OAuthClient>, i64)>;
    /// Every CORS origin any client of the organization allows.
    async fn cors_origins(&mut self, org: OrgId) -> Result<Vec<String>>;
    /// Deletes the client and its secrets; false when there was none.
    async fn delete_client(&mut self, org: OrgId, id: &ClientId) -> Result<bool>;
    /// Revokes every token of a client at `at` (the client stays): notes the time (access
    /// tokens issued until then are inactive), revokes its refresh tokens and spends its
    /// unredeemed codes. How many refresh tokens it revoked; `None` when there is no client.
    async fn revoke_client_tokens(
        &mut self,
        org: OrgId,
        id: &ClientId,
        at: Timestamp,
    ) -> Result<Option<u64>>;
    async fn insert_client_secret(&mut self, secret: &ClientSecretRecord) -> Result<()>;
    /// Every stored secret of a client, oldest first, expired ones included.
    async fn client_secrets(
        &mut self,
        org: OrgId,
        id: &ClientId,
    ) -> Result<Vec<ClientSecretRecord>>;
    async fn delete_client_secret(&mut self, org: OrgId, secret_id: &str) -> Result<bool>;
    async fn set_client_secret_expiry(
        &mut self,
        org: OrgId,
        secret_id: &str,
        expires_at: Option<Timestamp>,
    ) -> Result<()>;
    async fn touch_client_secret(
        &mut self,
        org: OrgId,
        secret_id: &str,
        at: Timestamp,
    ) -> Result<()>;
}
