//! A client's editable settings: as received ([`ClientInput`], with its defaults) and as
//! validated ([`ClientSettings`]), with the bounds and the token exchange policy they use.

use serde::{Deserialize, Serialize};

use super::{
    ClientAlg, ClientJwks, CorsOrigin, GrantType, IdTokenAlg, RedirectUri, Scope, SigningAlg,
    TokenAuthMethod,
};

/// Bounds of token lifetimes, in seconds.
pub const ACCESS_TOKEN_LIFETIME: std::ops::RangeInclusive<i64> = 60..=86_400;
pub const REFRESH_TOKEN_LIFETIME: std::ops::RangeInclusive<i64> = 60..=31_536_000;
pub const DEFAULT_ACCESS_TOKEN_LIFETIME: i64 = 3_600;
pub const DEFAULT_REFRESH_TOKEN_LIFETIME: i64 = 2_592_000;
pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_DESCRIPTION_CHARS: usize = 1_000;

/// Which access tokens a client may exchange (RFC 8693), kept with the client. Nothing by
/// default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TokenExchangePolicy {
    /// Client ids whose access tokens this client may exchange; `*` for every client of the
    /// organization.
    #[serde(default)]
    pub subject_clients: Vec<String>,
    /// Whether it may exchange without an `actor_token` (impersonation: the new token acts as
    /// the subject with no trace of the client). With an `actor_token` (delegation) the new
    /// token names the actor in its `act` claim, and this is not needed.
    #[serde(default)]
    pub allow_impersonation: bool,
}

impl TokenExchangePolicy {
    /// Whether tokens issued to `client_id` may be exchanged.
    pub fn allows_subject(&self, client_id: &str) -> bool {
        self.subject_clients
            .iter()
            .any(|c| c == "*" || c == client_id)
    }
}

/// The editable settings of a client, valid by construction (see [`ClientSettings::validate`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientSettings {
    pub name: String,
    pub description: Option<String>,
    pub is_confidential: bool,
    pub redirect_uris: Vec<RedirectUri>,
    pub post_logout_redirect_uris: Vec<RedirectUri>,
    pub allowed_cors_origins: Vec<CorsOrigin>,
    pub allowed_scopes: Vec<Scope>,
    pub grant_types: Vec<GrantType>,
    pub is_active: bool,
    pub require_pkce: bool,
    pub require_consent: bool,
    pub client_uri: Option<String>,
    pub logo_uri: Option<String>,
    pub access_token_lifetime: i64,
    pub refresh_token_lifetime: i64,
    pub id_token_signed_response_alg: IdTokenAlg,
    pub access_token_signed_response_alg: SigningAlg,
    /// Userinfo answers this client with a JWT signed so (OIDC Core §5.3.2), or with plain
    /// JSON when `None`.
    pub userinfo_signed_response_alg: Option<SigningAlg>,
    /// The one algorithm this client's request objects must be signed with (OIDC
    /// Registration §2 `request_object_signing_alg`); `None`: any the keys allow.
    pub request_object_signing_alg: Option<ClientAlg>,
    /// Agrees with `is_confidential`: `none` exactly for a public client.
    pub token_endpoint_auth_method: TokenAuthMethod,
    /// The client's public keys; a `private_key_jwt` client has them here or at `jwks_uri`,
    /// never both (RFC 7591 §2).
    pub jwks: Option<ClientJwks>,
    /// Where the client publishes its public keys (an `https` URL, `http` only on loopback).
    pub jwks_uri: Option<String>,
    pub token_exchange: TokenExchangePolicy,
}

/// Client settings as received, before validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientInput {
    pub name: String,
    pub description: Option<String>,
    pub is_confidential: bool,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub allowed_cors_origins: Vec<String>,
    /// `None`: the creator named none, and the client gets the default for its grant types
    /// ([`ClientInput::default_scopes_for`]), applied here in the domain for every face.
    /// `Some(vec![])` is a client with no scope.
    pub allowed_scopes: Option<Vec<String>>,
    pub grant_types: Vec<String>,
    pub is_active: bool,
    pub require_pkce: bool,
    pub require_consent: bool,
    pub client_uri: Option<String>,
    pub logo_uri: Option<String>,
    pub access_token_lifetime: i64,
    pub refresh_token_lifetime: i64,
    pub id_token_signed_response_alg: String,
    pub access_token_signed_response_alg: String,
    /// `None` (or empty): plain JSON at userinfo.
    pub userinfo_signed_response_alg: Option<String>,
    /// `None` (or empty): request objects may be signed with any algorithm of the keys.
    pub request_object_signing_alg: Option<String>,
    /// `None`: the default for the client's type ([`TokenAuthMethod::default_for`]).
    pub token_endpoint_auth_method: Option<String>,
    /// A JWK Set, or `None`.
    pub jwks: Option<serde_json::Value>,
    /// `None` (or empty): no URL.
    pub jwks_uri: Option<String>,
    pub token_exchange: TokenExchangePolicy,
    /// `clientType` as sent, if it was: it must agree with `is_confidential`.
    pub client_type: Option<String>,
}

impl ClientInput {
    /// `isConfidential` as sent, or else as `clientType` implies it, or else as
    /// `tokenEndpointAuthMethod` does (`none` is a public client's).
    pub fn confidential_from(
        is_confidential: Option<bool>,
        client_type: Option<&str>,
        auth_method: Option<&str>,
    ) -> Option<bool> {
        is_confidential
            .or(match client_type {
                Some("public") => Some(false),
                Some("confidential") => Some(true),
                _ => None,
            })
            .or(match auth_method {
                Some("none") => Some(false),
                Some("client_secret_basic" | "client_secret_post" | "private_key_jwt") => {
                    Some(true)
                }
                _ => None,
            })
    }

    /// The scopes a client gets when its creator names none: `openid profile` for a client
    /// that acts for people (so that an OpenID Connect sign-in works out of the box, as in
    /// interfaces.md's example object), nothing for a machine client.
    pub(crate) fn default_scopes_for(grant_types: &[String]) -> Vec<String> {
        let for_people = [
            GrantType::AuthorizationCode,
            GrantType::DeviceCode,
            GrantType::Password,
        ];
        if grant_types
            .iter()
            .any(|g| for_people.iter().any(|p| p.as_str() == g))
        {
            vec!["openid".into(), "profile".into()]
        } else {
            vec![]
        }
    }
}

impl Default for ClientInput {
    /// The documented defaults: confidential, `authorization_code` + `refresh_token`,
    /// PKCE and consent required, one hour / thirty days.
    fn default() -> Self {
        Self {
            name: String::new(),
            description: None,
            is_confidential: true,
            redirect_uris: vec![],
            post_logout_redirect_uris: vec![],
            allowed_cors_origins: vec![],
            allowed_scopes: None,
            grant_types: vec![
                GrantType::AuthorizationCode.as_str().into(),
                GrantType::RefreshToken.as_str().into(),
            ],
            is_active: true,
            require_pkce: true,
            require_consent: true,
            client_uri: None,
            logo_uri: None,
            access_token_lifetime: DEFAULT_ACCESS_TOKEN_LIFETIME,
            refresh_token_lifetime: DEFAULT_REFRESH_TOKEN_LIFETIME,
            id_token_signed_response_alg: SigningAlg::ID_TOKEN_DEFAULT.as_str().to_owned(),
            access_token_signed_response_alg: SigningAlg::ACCESS_TOKEN_DEFAULT.as_str().to_owned(),
            userinfo_signed_response_alg: None,
            request_object_signing_alg: None,
            token_endpoint_auth_method: None,
            jwks: None,
            jwks_uri: None,
            token_exchange: TokenExchangePolicy::default(),
            client_type: None,
        }
    }
}
