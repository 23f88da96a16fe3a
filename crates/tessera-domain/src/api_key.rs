//! API keys: bearer credentials for scripts and the admin API. The key itself
//! (`sk_live_` + 256 random bits) is shown once; only its keyed hash is stored.

use crate::clock::Timestamp;
use crate::error::FieldError;
use crate::org::OrgId;
use crate::permission::{PermissionSet, RoleName};
use serde::Serialize;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct ApiKeyId(pub Uuid);

impl std::fmt::Display for ApiKeyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// The prefix every API key carries, so that leaked keys are easy to scan for.
pub const API_KEY_PREFIX: &str = "sk_live_";

/// A key's human label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct ApiKeyName(String);

impl ApiKeyName {
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        crate::org::parse_display_name(s, "name").map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What is known about an API key; never the key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiKey {
    pub id: ApiKeyId,
    /// `None` for a system-wide key, which acts as a system administrator.
    pub org_id: Option<OrgId>,
    pub name: ApiKeyName,
    /// The last four characters, e.g. `…x9Qa`, to tell keys apart.
    pub hint: String,
    pub roles: Vec<RoleName>,
    /// Permissions granted directly, on top of those of the roles.
    pub permissions: PermissionSet,
    #[serde(with = "crate::clock::rfc3339_millis")]
    pub created_at: Timestamp,
    #[serde(with = "crate::clock::rfc3339_millis::option")]
    pub last_used_at: Option<Timestamp>,
    #[serde(with = "crate::clock::rfc3339_millis::option")]
    pub revoked_at: Option<Timestamp>,
}

impl ApiKey {
    pub fn is_system(&self) -> bool {
        self.org_id.is_none()
    }
}
