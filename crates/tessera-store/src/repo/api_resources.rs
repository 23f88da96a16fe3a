//! API resources of an organization (RFC 8707 resource indicators).

use async_trait::async_trait;
use tessera_domain::api_resource::{ApiResource, ApiResourceId};
use tessera_domain::OrgId;

use crate::Result;

/// Which resources to list: `q` matches the identifier or the name, case-insensitively.
#[derive(Debug, Clone, Default)]
pub struct ApiResourceQuery {
    pub q: Option<String>,
    pub limit: u32,
    pub offset: u32,
}

#[async_trait]
pub trait ApiResourceRepo: Send {
    /// A second resource with the same identifier in the organization is a
    /// [`crate::StoreError::Conflict`].
    async fn insert_api_resource(&mut self, r: &ApiResource) -> Result<()>;
    /// Replaces the stored settings; false when there is no such resource.
    async fn update_api_resource(&mut self, r: &ApiResource) -> Result<bool>;
    async fn delete_api_resource(&mut self, org: OrgId, id: ApiResourceId) -> Result<bool>;
    async fn find_api_resource(
        &mut self,
        org: OrgId,
        id: ApiResourceId,
    ) -> Result<Option<ApiResource>>;
    async fn find_api_resource_by_identifier(
        &mut self,
        org: OrgId,
        identifier: &str,
    ) -> Result<Option<ApiResource>>;
    /// One page, newest first, and how many match in all.
    async fn list_api_resources(
        &mut self,
        org: OrgId,
        query: &ApiResourceQuery,
    ) -> Result<(Vec<ApiResource>, i64)>;
}
