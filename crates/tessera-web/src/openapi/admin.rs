//! API keys, the audit log's events and organizations.

use serde::Serialize;
use utoipa::ToSchema;

/// An API key's metadata.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ApiKey)]
pub struct ApiKeySchema {
    pub id: String,
    /// Null for a system-wide key.
    pub org_id: Option<String>,
    pub name: String,
    pub hint: String,
    pub roles: Vec<String>,
    pub permissions: Vec<String>,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

/// A new API key: its metadata and, this once, the key.
#[derive(Serialize, ToSchema)]
#[schema(as = ApiKeyWithKey)]
pub struct ApiKeyWithKeySchema {
    #[serde(flatten)]
    pub api_key: ApiKeySchema,
    /// `sk_live_…`. Shown only once.
    pub key: String,
}

#[derive(Serialize, ToSchema)]
#[schema(as = Actor)]
pub struct ActorSchema {
    /// `api_key`, `user`, `cli` or `system`.
    #[serde(rename = "type")]
    pub kind: String,
    pub id: Option<String>,
    pub name: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AuditEvent)]
pub struct AuditEventSchema {
    /// Increases with every event; pass the last one as `before` for the next page.
    pub id: i64,
    pub org_id: Option<String>,
    pub actor: ActorSchema,
    /// e.g. `oauth_client.created`.
    pub action: String,
    pub target_type: String,
    pub target_id: Option<String>,
    pub ip: Option<String>,
    pub request_id: Option<String>,
    /// The object before the change, without secrets.
    pub before: Option<serde_json::Value>,
    /// The object after the change, without secrets.
    pub after: Option<serde_json::Value>,
    pub created_at: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Organization)]
pub struct OrganizationSchema {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub created_at: String,
    pub updated_at: String,
}
