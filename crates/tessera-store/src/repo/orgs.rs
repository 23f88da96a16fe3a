//! Organizations: the tenants every other object belongs to.

use async_trait::async_trait;
use tessera_domain::{OrgId, OrgSlug, Organization};

use crate::Result;

/// Organizations: the tenants every other object belongs to.
#[async_trait]
pub trait OrgRepo: Send {
    async fn insert_org(&mut self, org: &Organization) -> Result<()>;
    async fn find_org(&mut self, id: OrgId) -> Result<Option<Organization>>;
    async fn find_org_by_slug(&mut self, slug: &OrgSlug) -> Result<Option<Organization>>;
    async fn list_orgs(&mut self) -> Result<Vec<Organization>>;
    async fn count_orgs(&mut self) -> Result<i64>;
}
