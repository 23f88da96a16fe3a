//! Users and the custom roles of an organization.

use async_trait::async_trait;
use tessera_domain::{OrgId, PermissionSet, RoleName, Timestamp, User, UserId, Username};

use crate::Result;

/// A user as stored, with the password hash that the domain type deliberately lacks.
#[derive(Debug, Clone)]
pub struct UserRecord {
    pub user: User,
    pub password_hash: Option<String>,
}

/// A custom role of an organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomRole {
    pub org_id: OrgId,
    pub name: RoleName,
    pub permissions: PermissionSet,
    pub created_at: Timestamp,
}

/// Users and the custom roles of an organization.
#[async_trait]
pub trait UserRepo: Send {
    async fn insert_user(&mut self, user: &User, password_hash: Option<&str>) -> Result<()>;
    async fn find_user(&mut self, org: OrgId, id: UserId) -> Result<Option<UserRecord>>;
    async fn find_user_by_username(
        &mut self,
        org: OrgId,
        username: &Username,
    ) -> Result<Option<UserRecord>>;
    async fn list_users(&mut self, org: OrgId) -> Result<Vec<User>>;
    /// Writes a user's editable fields (email, name, roles, is_active, updated_at) by org and id;
    /// false when there is no such user in that organization. The password hash is untouched.
    async fn update_user(&mut self, user: &User) -> Result<bool>;
    async fn insert_role(&mut self, role: &CustomRole) -> Result<()>;
    async fn find_role(&mut self, org: OrgId, name: &RoleName) -> Result<Option<CustomRole>>;
    async fn list_roles(&mut self, org: OrgId) -> Result<Vec<CustomRole>>;
}
