//! OAuth clients: the applications registered with an organization, and the rules that make a
//! registration valid. Every rule here yields a [`FieldError`] that names the field as the
//! API spells it (`redirectUris[1]`), so REST, GraphQL, console and CLI report the same thing.
//!
//! [`FieldError`]: crate::error::FieldError

use serde::Serialize;
pub use tessera_crypto::jwk::ClientAlg;

use crate::clock::Timestamp;
use crate::org::OrgId;

mod algs;
mod auth;
mod grants;
mod id;
mod listing;
mod patch;
mod security;
mod settings;
mod uris;
mod validate;

pub use algs::{parse_request_object_alg, IdTokenAlg, SigningAlg};
pub use auth::{ClientJwks, TokenAuthMethod, MAX_JWKS_BYTES};
pub use grants::{GrantType, Scope};
pub use id::ClientId;
pub use listing::{ClientListOptions, ClientSort, ClientSortKey};
pub use patch::{nullable, ClientPatch};
pub use security::{ClientSecurity, SecurityProfile};
pub use settings::{
    ChosenSecret, ClientInput, ClientSettings, Echoed, TokenExchangePolicy, ACCESS_TOKEN_LIFETIME,
    DEFAULT_ACCESS_TOKEN_LIFETIME, DEFAULT_REFRESH_TOKEN_LIFETIME, MAX_DESCRIPTION_CHARS,
    MAX_NAME_CHARS, REFRESH_TOKEN_LIFETIME,
};
pub use uris::{is_native_redirect, parse_web_url, CorsOrigin, RedirectUri};

/// Metadata of one live client secret; never its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = ClientSecret))]
#[serde(rename_all = "camelCase")]
pub struct SecretInfo {
    pub id: String,
    /// The last four characters, e.g. `…x9Qa`.
    pub hint: String,
    #[serde(with = "crate::clock::rfc3339_millis")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
    /// Set while a replaced secret lives on for its grace period.
    #[serde(with = "crate::clock::rfc3339_millis::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub expires_at: Option<Timestamp>,
    #[serde(with = "crate::clock::rfc3339_millis::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub last_used_at: Option<Timestamp>,
}

/// A registered client, as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthClient {
    pub org_id: OrgId,
    pub id: ClientId,
    pub settings: ClientSettings,
    pub secrets: Vec<SecretInfo>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// When all of the client's tokens were last revoked (the client stays): access tokens
    /// issued until then are inactive.
    pub tokens_revoked_at: Option<Timestamp>,
}

impl OAuthClient {
    /// `public` or `confidential`, derived from `isConfidential`.
    pub fn client_type(&self) -> &'static str {
        if self.settings.is_confidential {
            "confidential"
        } else {
            "public"
        }
    }

    /// The same client without secret metadata: the picture the audit log keeps.
    pub fn without_secrets(&self) -> Self {
        Self {
            secrets: vec![],
            ..self.clone()
        }
    }

    /// The settings as input again (for partial updates and round trips).
    pub fn to_input(&self) -> ClientInput {
        let s = &self.settings;
        let strings = |v: &[RedirectUri]| v.iter().map(|u| u.as_str().to_owned()).collect();
        ClientInput {
            name: s.name.clone(),
            description: s.description.clone(),
            is_confidential: Some(s.is_confidential),
            redirect_uris: strings(&s.redirect_uris),
            post_logout_redirect_uris: strings(&s.post_logout_redirect_uris),
            allowed_cors_origins: s
                .allowed_cors_origins
                .iter()
                .map(|o| o.as_str().to_owned())
                .collect(),
            allowed_scopes: Some(
                s.allowed_scopes
                    .iter()
                    .map(|o| o.as_str().to_owned())
                    .collect(),
            ),
            grant_types: s
                .grant_types
                .iter()
                .map(|g| g.as_str().to_owned())
                .collect(),
            is_active: s.is_active,
            require_pkce: s.require_pkce,
            require_consent: s.require_consent,
            client_uri: s.client_uri.clone(),
            logo_uri: s.logo_uri.clone(),
            access_token_lifetime: s.access_token_lifetime,
            refresh_token_lifetime: s.refresh_token_lifetime,
            id_token_signed_response_alg: s.id_token_signed_response_alg.as_str().to_owned(),
            access_token_signed_response_alg: s
                .access_token_signed_response_alg
                .as_str()
                .to_owned(),
            userinfo_signed_response_alg: s
                .userinfo_signed_response_alg
                .map(|a| a.as_str().to_owned()),
            request_object_signing_alg: s.request_object_signing_alg.map(|a| a.as_str().to_owned()),
            // Only a method other than the type's default is carried, so that a change of
            // `isConfidential` alone brings the new type's default.
            token_endpoint_auth_method: (s.token_endpoint_auth_method
                != TokenAuthMethod::default_for(s.is_confidential))
            .then(|| s.token_endpoint_auth_method.as_str().to_owned()),
            jwks: s.jwks.as_ref().map(|j| j.as_json().clone()),
            jwks_uri: s.jwks_uri.clone(),
            token_exchange: s.token_exchange.clone(),
            require_pushed_authorization_requests: s.security.require_pushed_authorization_requests,
            dpop_bound_access_tokens: s.security.dpop_bound_access_tokens,
            require_signed_request_object: s.security.require_signed_request_object,
            backchannel_logout_uri: s.security.backchannel_logout_uri.clone(),
            backchannel_logout_session_required: s.security.backchannel_logout_session_required,
            security_profile: s.security.security_profile.map(|p| p.as_str().to_owned()),
            ..ClientInput::default()
        }
    }
}

/// `public` or `confidential`: derived from `isConfidential`, shown beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ClientType {
    Public,
    Confidential,
}

/// The OAuth client object: its settings, `clientType` derived from `isConfidential`, and
/// its live secrets as metadata only (never a secret's value).
//
// The wire form shared by REST, GraphQL, the CLI and the audit log (interfaces.md, "The
// OAuth client object"); the admin API's OpenAPI schema `OauthClient` is derived from it.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = OauthClient))]
#[serde(rename_all = "camelCase")]
pub struct ClientObject<'a> {
    /// The client_id: a UUID, or the id chosen at creation. Never changes.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub id: &'a ClientId,
    pub name: &'a str,
    pub description: Option<&'a str>,
    /// Derived from `isConfidential`.
    pub client_type: ClientType,
    pub is_confidential: bool,
    /// Matched exactly: `/callback` and `/callback/` are different registrations.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub redirect_uris: &'a [RedirectUri],
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub post_logout_redirect_uris: &'a [RedirectUri],
    /// `scheme://host[:port]`, no path, no trailing slash.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub allowed_cors_origins: &'a [CorsOrigin],
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub allowed_scopes: &'a [Scope],
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub grant_types: &'a [GrantType],
    pub is_active: bool,
    pub require_pkce: bool,
    pub require_consent: bool,
    pub client_uri: Option<&'a str>,
    pub logo_uri: Option<&'a str>,
    /// Seconds.
    pub access_token_lifetime: i64,
    /// Seconds.
    pub refresh_token_lifetime: i64,
    /// How id_tokens are signed: `RS256` (default), `ES256`, `PS256` or `EdDSA`.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub id_token_signed_response_alg: IdTokenAlg,
    /// How access tokens are signed: `ES256` (default), `RS256` or `EdDSA`.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub access_token_signed_response_alg: SigningAlg,
    /// Userinfo answers with a JWT (`application/jwt`) signed with `RS256`, `ES256` or
    /// `EdDSA`; null: plain JSON.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub userinfo_signed_response_alg: Option<SigningAlg>,
    /// The one algorithm request objects must be signed with (`RS256`, `RS384`, `RS512`,
    /// `PS256`, `PS384`, `PS512`, `ES256`, `ES384` or `EdDSA`); null: any the keys allow.
    pub request_object_signing_alg: Option<&'static str>,
    /// `client_secret_basic` (a confidential client's default), `client_secret_post`,
    /// `private_key_jwt`, or `none` (exactly the public clients).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub token_endpoint_auth_method: TokenAuthMethod,
    /// The client's public keys, a JWK Set (RFC 7517 §5), or null; `private_key_jwt` needs
    /// them.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub jwks: Option<&'a ClientJwks>,
    /// Where the client publishes its public keys (`https`), or null; never together with
    /// `jwks`.
    pub jwks_uri: Option<&'a str>,
    /// Which access tokens this client may exchange (RFC 8693). Needs the
    /// `urn:ietf:params:oauth:grant-type:token-exchange` grant type.
    pub token_exchange: &'a TokenExchangePolicy,
    /// Authorization requests only through the PAR endpoint (RFC 9126 §6).
    pub require_pushed_authorization_requests: bool,
    /// Every access token DPoP-bound: token requests must carry a proof (RFC 9449 §5.2).
    pub dpop_bound_access_tokens: bool,
    /// Authorization requests only as signed request objects (RFC 9101 §10.5).
    pub require_signed_request_object: bool,
    /// Where logout tokens are posted when a user's session ends (Back-Channel Logout §2.2).
    pub backchannel_logout_uri: Option<&'a str>,
    /// Logout tokens carry `sid` (Back-Channel Logout §2.2).
    pub backchannel_logout_session_required: bool,
    /// `fapi2` (the FAPI 2.0 Security Profile, enforced on every request) or null.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub security_profile: Option<&'static str>,
    pub secrets: &'a [SecretInfo],
    #[serde(with = "crate::clock::rfc3339_millis")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
    #[serde(with = "crate::clock::rfc3339_millis")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: Timestamp,
}

impl OAuthClient {
    /// The client object as the API shows it.
    pub fn object(&self) -> ClientObject<'_> {
        let s = &self.settings;
        ClientObject {
            id: &self.id,
            name: &s.name,
            description: s.description.as_deref(),
            client_type: if s.is_confidential {
                ClientType::Confidential
            } else {
                ClientType::Public
            },
            is_confidential: s.is_confidential,
            redirect_uris: &s.redirect_uris,
            post_logout_redirect_uris: &s.post_logout_redirect_uris,
            allowed_cors_origins: &s.allowed_cors_origins,
            allowed_scopes: &s.allowed_scopes,
            grant_types: &s.grant_types,
            is_active: s.is_active,
            require_pkce: s.require_pkce,
            require_consent: s.require_consent,
            client_uri: s.client_uri.as_deref(),
            logo_uri: s.logo_uri.as_deref(),
            access_token_lifetime: s.access_token_lifetime,
            refresh_token_lifetime: s.refresh_token_lifetime,
            id_token_signed_response_alg: s.id_token_signed_response_alg,
            access_token_signed_response_alg: s.access_token_signed_response_alg,
            userinfo_signed_response_alg: s.userinfo_signed_response_alg,
            request_object_signing_alg: s.request_object_signing_alg.map(ClientAlg::as_str),
            token_endpoint_auth_method: s.token_endpoint_auth_method,
            jwks: s.jwks.as_ref(),
            jwks_uri: s.jwks_uri.as_deref(),
            token_exchange: &s.token_exchange,
            require_pushed_authorization_requests: s.security.require_pushed_authorization_requests,
            dpop_bound_access_tokens: s.security.dpop_bound_access_tokens,
            require_signed_request_object: s.security.require_signed_request_object,
            backchannel_logout_uri: s.security.backchannel_logout_uri.as_deref(),
            backchannel_logout_session_required: s.security.backchannel_logout_session_required,
            security_profile: s.security.security_profile.map(SecurityProfile::as_str),
            secrets: &self.secrets,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

impl Serialize for OAuthClient {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        self.object().serialize(ser)
    }
}

#[cfg(test)]
mod tests;
