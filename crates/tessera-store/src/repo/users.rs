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

/// A user's TOTP second factor (RFC 6238).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserTotp {
    pub org_id: OrgId,
    pub user_id: UserId,
    /// The shared secret, sealed by the vault.
    pub secret_sealed: String,
    /// When the first code confirmed it; `None` while enrolment waits for that code (sign-in
    /// does not ask for it yet).
    pub confirmed_at: Option<Timestamp>,
    /// The last time step accepted: a code is never accepted twice.
    pub last_step: i64,
    /// Keyed hashes of the recovery codes not used yet.
    pub recovery_codes: Vec<String>,
    pub created_at: Timestamp,
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
    /// Sets a user's password hash (and `updated_at`); false when there is no such user.
    async fn set_password_hash(
        &mut self,
        org: OrgId,
        user: UserId,
        hash: &str,
        at: Timestamp,
    ) -> Result<bool>;
    async fn find_totp(&mut self, org: OrgId, user: UserId) -> Result<Option<UserTotp>>;
    /// Writes a user's second factor, replacing the one they had (a new enrolment).
    async fn put_totp(&mut self, t: &UserTotp) -> Result<()>;
    /// Removes a user's second factor; false when they had none.
    async fn delete_totp(&mut self, org: OrgId, user: UserId) -> Result<bool>;
    /// Moves the last accepted time step to `step` (confirming the factor at `at` if it was
    /// not yet), only if it is later than the one accepted before: false when a code of that
    /// step or a later one was accepted already (a replay, or a race lost).
    async fn accept_totp_step(
        &mut self,
        org: OrgId,
        user: UserId,
        step: i64,
        at: Timestamp,
    ) -> Result<bool>;
    /// Spends one recovery code (by its keyed hash); false when it is not among the unused
    /// ones (or another request spent it first).
    async fn spend_recovery_code(&mut self, org: OrgId, user: UserId, hash: &str) -> Result<bool>;
    /// The organization's security policy (JSON), if one was ever set.
    async fn find_security_policy(&mut self, org: OrgId) -> Result<Option<String>>;
    async fn put_security_policy(&mut self, org: OrgId, policy: &str, at: Timestamp) -> Result<()>;
    async fn insert_role(&mut self, role: &CustomRole) -> Result<()>;
    async fn find_role(&mut self, org: OrgId, name: &RoleName) -> Result<Option<CustomRole>>;
    async fn list_roles(&mut self, org: OrgId) -> Result<Vec<CustomRole>>;
}
