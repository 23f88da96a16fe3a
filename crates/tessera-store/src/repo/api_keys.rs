//! API keys. `org` is `None` for system-wide keys.

use async_trait::async_trait;
use tessera_domain::{ApiKey, ApiKeyId, OrgId, Timestamp};

use crate::Result;

/// An API key with the hash it is looked up by.
#[derive(Debug, Clone)]
pub struct ApiKeyRecord {
    pub key: ApiKey,
    pub key_hash: String,
}

/// API keys. `org` is `None` for system-wide keys.
#[async_trait]
pub trait ApiKeyRepo: Send {
    async fn insert_api_key(&mut self, key: &ApiKey, key_hash: &str) -> Result<()>;
    /// The key with this hash, of any organization: authentication does not know the
    /// organization before it knows the key.
    async fn find_api_key_by_hash(&mut self, key_hash: &str) -> Result<Option<ApiKeyRecord>>;
    async fn find_api_key(&mut self, org: Option<OrgId>, id: ApiKeyId) -> Result<Option<ApiKey>>;
    async fn list_api_keys(&mut self, org: Option<OrgId>) -> Result<Vec<ApiKey>>;
    /// Marks the key revoked; false when there was no such unrevoked key.
    async fn revoke_api_key(
        &mut self,
        org: Option<OrgId>,
        id: ApiKeyId,
        at: Timestamp,
    ) -> Result<bool>;
    async fn touch_api_key(&mut self, id: ApiKeyId, at: Timestamp) -> Result<()>;
}
