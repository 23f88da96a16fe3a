//! The registration policy and initial access tokens of dynamic client registration
//! (RFC 7591). The client object's schemas are derived from the domain types themselves
//! (`tessera_domain::client::{ClientObject, ClientInput, ClientPatch}`).

use serde::Serialize;
use utoipa::ToSchema;

/// Who may register clients (RFC 7591) and what a registered client may have.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = RegistrationPolicy)]
pub struct RegistrationPolicySchema {
    /// `closed` (default: the admin API only), `open` (anyone) or `token` (holders of an
    /// initial access token).
    pub mode: String,
    /// Default `["authorization_code", "refresh_token"]`; never `client_credentials`,
    /// `password` or the token exchange grant.
    pub allowed_grant_types: Vec<String>,
    /// Default `["openid", "profile", "email", "address", "phone", "offline_access"]`; a
    /// client that asks for no scope gets these.
    pub allowed_scopes: Vec<String>,
    /// When not empty, every redirect URI must start with one of these absolute URIs.
    pub redirect_uri_prefixes: Vec<String>,
    /// Whether a registered confidential client must use PKCE (default `true`; public clients
    /// always must).
    pub require_pkce: bool,
    /// Whether a `client_id` that is an `https` URL is accepted as a Client ID Metadata
    /// Document: fetched, checked, and treated as a public client (default `false`).
    pub client_id_metadata_documents: bool,
    /// Seconds (3600 to 31536000) after which a registered client that got no token since
    /// its registration or its last token is deleted; null (the default): never.
    pub unused_client_lifetime: Option<i64>,
    /// `mcp`: on top of the rest, public clients only and redirect URIs on a loopback address
    /// or a private-use scheme only (MCP clients and other agents on the user's machine);
    /// null (the default): none.
    pub preset: Option<String>,
    /// The organization's default for all its clients: authorization requests only through
    /// the PAR endpoint (RFC 9126; default `false`).
    pub require_pushed_authorization_requests: bool,
}

/// An initial access token's metadata; `token` only in the response that made it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = RegistrationToken)]
pub struct RegistrationTokenSchema {
    pub id: String,
    /// The last characters, to tell tokens apart.
    pub hint: String,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
    /// `iat_` + 43 base64url characters. Shown only once.
    pub token: Option<String>,
}

/// A member's two-step verification.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = SecondFactor)]
pub struct SecondFactorSchema {
    /// Whether sign-in asks for a code after the password.
    pub enabled: bool,
    /// Recovery codes not used yet (0 when not enabled).
    pub recovery_codes_left: u32,
}

/// An organization's sign-in rules.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = SecurityPolicy)]
pub struct SecurityPolicySchema {
    /// Members with `admin:access` must have two-step verification to sign in to the console
    /// (default `false`).
    pub require_second_factor_for_admins: bool,
}
