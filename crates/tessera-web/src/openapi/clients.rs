//! The OAuth client object, its secrets and token exchange policy, and the registration
//! policy and initial access tokens of dynamic client registration (RFC 7591).

use serde::Serialize;
use utoipa::ToSchema;

/// Metadata of one live secret; never its value.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ClientSecret)]
pub struct SecretSchema {
    pub id: String,
    /// The last four characters, e.g. `…x9Qa`.
    pub hint: String,
    pub created_at: String,
    /// Set while a replaced secret lives on for its grace period.
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ClientType {
    Public,
    Confidential,
}

/// The OAuth client object.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = OauthClient)]
pub struct ClientSchema {
    /// The client_id: a UUID, or the id chosen at creation. Never changes.
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    /// Derived from `isConfidential`.
    pub client_type: ClientType,
    pub is_confidential: bool,
    /// Matched exactly: `/callback` and `/callback/` are different registrations.
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    /// `scheme://host[:port]`, no path, no trailing slash.
    pub allowed_cors_origins: Vec<String>,
    pub allowed_scopes: Vec<String>,
    pub grant_types: Vec<String>,
    pub is_active: bool,
    pub require_pkce: bool,
    pub require_consent: bool,
    pub client_uri: Option<String>,
    pub logo_uri: Option<String>,
    /// Seconds.
    pub access_token_lifetime: i64,
    /// Seconds.
    pub refresh_token_lifetime: i64,
    /// How id_tokens are signed: `RS256` (default), `ES256` or `EdDSA`.
    pub id_token_signed_response_alg: String,
    /// How access tokens are signed: `ES256` (default), `RS256` or `EdDSA`.
    pub access_token_signed_response_alg: String,
    /// Userinfo answers with a JWT (`application/jwt`) signed with `RS256`, `ES256` or
    /// `EdDSA`; null: plain JSON.
    pub userinfo_signed_response_alg: Option<String>,
    /// The one algorithm request objects must be signed with (`RS256`, `RS384`, `RS512`,
    /// `PS256`, `PS384`, `PS512`, `ES256`, `ES384` or `EdDSA`); null: any the keys allow.
    pub request_object_signing_alg: Option<String>,
    /// `client_secret_basic` (a confidential client's default), `client_secret_post`, or
    /// `none` (exactly the public clients).
    pub token_endpoint_auth_method: String,
    /// The client's public keys, a JWK Set (RFC 7517 §5), or null; `private_key_jwt` needs
    /// them.
    #[schema(value_type = Option<Object>)]
    pub jwks: Option<serde_json::Value>,
    /// Where the client publishes its public keys (`https`), or null; never together with
    /// `jwks`.
    pub jwks_uri: Option<String>,
    pub token_exchange: TokenExchangeSchema,
    pub secrets: Vec<SecretSchema>,
    pub created_at: String,
    pub updated_at: String,
}

/// Which access tokens a client may exchange (RFC 8693). Needs the
/// `urn:ietf:params:oauth:grant-type:token-exchange` grant type.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = TokenExchangePolicy)]
pub struct TokenExchangeSchema {
    /// Client ids whose access tokens this client may exchange; `*` for every client of the
    /// organization. Empty by default.
    pub subject_clients: Vec<String>,
    /// May exchange without an `actor_token` (impersonation). Default `false`; with an
    /// `actor_token` (delegation) the new token carries an `act` claim.
    pub allow_impersonation: bool,
}

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

/// The client object plus, in the response of the call that made it, its secret.
#[derive(Serialize, ToSchema)]
#[schema(as = OauthClientWithSecret)]
pub struct ClientWithSecretSchema {
    #[serde(flatten)]
    pub client: ClientSchema,
    /// `cs_live_` + 43 base64url characters. Shown only once.
    pub secret: Option<String>,
}
