//! A client's editable settings: as received ([`ClientInput`], with its defaults) and as
//! validated ([`ClientSettings`]), with the bounds and the token exchange policy they use.

use serde::{Deserialize, Serialize};

use super::{
    ClientAlg, ClientJwks, ClientSecurity, CorsOrigin, GrantType, IdTokenAlg, RedirectUri, Scope,
    SigningAlg, TokenAuthMethod,
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// PAR, DPoP, signed request objects, back-channel logout and the security profile.
    pub security: ClientSecurity,
}

/// A client's settings as a create or replace request sends them, before validation. Absent
/// fields, and `null` ones, take the documented defaults; unknown fields are refused; the
/// read-only fields of the client object (`secrets`, `createdAt`, `updatedAt`) are accepted
/// and ignored, so that a GET answer can be sent back.
//
// The one input type of a client: REST and GraphQL parse it, and the console, the CLI,
// dynamic registration and the default clients build it; `ClientSettings::validate` turns it
// into settings.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = OauthClientInput))]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct ClientInput {
    /// Only on create: the id to register instead of a generated UUID. On a replace, the
    /// client's own id or nothing: the client id never changes.
    pub client_id: Option<String>,
    /// The client's own id as a GET answer shows it, so that the answer can be sent back on a
    /// replace. Refused on create (use `clientId` to choose one).
    pub id: Option<String>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub name: String,
    pub description: Option<String>,
    /// Absent: as `clientType` or `tokenEndpointAuthMethod` imply it, or else `true`.
    pub is_confidential: Option<bool>,
    /// Matched exactly: `/callback` and `/callback/` are different registrations.
    pub redirect_uris: Vec<String>,
    #[serde(deserialize_with = "null_is_default::post_logout_redirect_uris")]
    pub post_logout_redirect_uris: Vec<String>,
    /// `scheme://host[:port]`, no path, no trailing slash.
    #[serde(deserialize_with = "null_is_default::allowed_cors_origins")]
    pub allowed_cors_origins: Vec<String>,
    /// Absent: `openid profile` for a client that acts for people, nothing for a machine
    /// client. `[]` is a client with no scope.
    pub allowed_scopes: Option<Vec<String>>,
    /// Default `authorization_code` + `refresh_token`.
    #[serde(deserialize_with = "null_is_default::grant_types")]
    pub grant_types: Vec<String>,
    #[serde(deserialize_with = "null_is_default::is_active")]
    pub is_active: bool,
    #[serde(deserialize_with = "null_is_default::require_pkce")]
    pub require_pkce: bool,
    #[serde(deserialize_with = "null_is_default::require_consent")]
    pub require_consent: bool,
    pub client_uri: Option<String>,
    pub logo_uri: Option<String>,
    /// Seconds (default 3600).
    #[serde(deserialize_with = "null_is_default::access_token_lifetime")]
    pub access_token_lifetime: i64,
    /// Seconds (default 2592000).
    #[serde(deserialize_with = "null_is_default::refresh_token_lifetime")]
    pub refresh_token_lifetime: i64,
    /// `RS256` (default), `ES256`, `PS256` or `EdDSA`.
    #[serde(deserialize_with = "null_is_default::id_token_signed_response_alg")]
    pub id_token_signed_response_alg: String,
    /// How access tokens are signed: `ES256` (default), `RS256` or `EdDSA`.
    #[serde(deserialize_with = "null_is_default::access_token_signed_response_alg")]
    pub access_token_signed_response_alg: String,
    /// Userinfo answers with a JWT signed so (`RS256`, `ES256`, `PS256` or `EdDSA`); absent or null:
    /// plain JSON.
    pub userinfo_signed_response_alg: Option<String>,
    /// The one algorithm request objects must be signed with (`RS256`, `RS384`, `RS512`,
    /// `PS256`, `PS384`, `PS512`, `ES256`, `ES384` or `EdDSA`); absent or null: any the keys
    /// allow.
    pub request_object_signing_alg: Option<String>,
    /// `client_secret_basic` (a confidential client's default), `client_secret_post`, or
    /// `none` (a public client's; alone, it makes the client public), or `private_key_jwt`
    /// (a confidential client that signs assertions with a key of `jwks`; no secret).
    /// Absent: the default for the client's type.
    pub token_endpoint_auth_method: Option<String>,
    /// The client's public keys, a JWK Set (RFC 7517 §5); `private_key_jwt` needs them.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub jwks: Option<serde_json::Value>,
    /// Where the client publishes its public keys (`https`), instead of `jwks`.
    pub jwks_uri: Option<String>,
    /// Which access tokens this client may exchange (RFC 8693); nothing by default.
    #[serde(deserialize_with = "null_is_default::token_exchange")]
    pub token_exchange: TokenExchangePolicy,
    /// Authorization requests only through the PAR endpoint (RFC 9126); default false.
    #[serde(deserialize_with = "null_is_default::require_pushed_authorization_requests")]
    pub require_pushed_authorization_requests: bool,
    /// Every access token DPoP-bound (RFC 9449): token requests must carry a proof; default
    /// false (a proof sent is honoured either way).
    #[serde(deserialize_with = "null_is_default::dpop_bound_access_tokens")]
    pub dpop_bound_access_tokens: bool,
    /// Authorization requests only as signed request objects (RFC 9101); default false.
    #[serde(deserialize_with = "null_is_default::require_signed_request_object")]
    pub require_signed_request_object: bool,
    /// Where logout tokens are posted (OpenID Connect Back-Channel Logout 1.0): `https`
    /// (`http` only on loopback), no fragment.
    pub backchannel_logout_uri: Option<String>,
    /// Whether logout tokens must carry `sid`; default false (they always do).
    #[serde(deserialize_with = "null_is_default::backchannel_logout_session_required")]
    pub backchannel_logout_session_required: bool,
    /// `fapi2`: the FAPI 2.0 Security Profile, enforced on every request (PAR, PKCE S256,
    /// DPoP, `private_key_jwt`, ES256, PS256 or EdDSA); absent or null: none.
    pub security_profile: Option<String>,
    /// `public` or `confidential`; derived from `isConfidential` and, when sent, must agree
    /// with it (alone, it sets it).
    pub client_type: Option<String>,
    /// Only on create, for a client with a secret: the operator's own secret instead of a
    /// generated one (16 to 512 characters, no white space; 43 or more for
    /// `client_secret_jwt`), stored with argon2id and not returned.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub secret: Option<ChosenSecret>,
    #[cfg_attr(feature = "openapi", schema(ignore))]
    pub secrets: Echoed,
    #[cfg_attr(feature = "openapi", schema(ignore))]
    pub created_at: Echoed,
    #[cfg_attr(feature = "openapi", schema(ignore))]
    pub updated_at: Echoed,
}

/// `null` for a field with a default means the default, as absence does (GraphQL sends
/// `null` for every optional field it was not given).
macro_rules! null_is_default {
    ($($field:ident: $t:ty),* $(,)?) => {
        mod null_is_default {
            use serde::{Deserialize, Deserializer};
            $(
                pub(super) fn $field<'de, D: Deserializer<'de>>(d: D) -> Result<$t, D::Error> {
                    Ok(Option::<$t>::deserialize(d)?
                        .unwrap_or_else(|| super::ClientInput::default().$field))
                }
            )*
        }
    };
}

null_is_default!(
    post_logout_redirect_uris: Vec<String>,
    allowed_cors_origins: Vec<String>,
    grant_types: Vec<String>,
    is_active: bool,
    require_pkce: bool,
    require_consent: bool,
    access_token_lifetime: i64,
    refresh_token_lifetime: i64,
    id_token_signed_response_alg: String,
    access_token_signed_response_alg: String,
    token_exchange: super::TokenExchangePolicy,
    require_pushed_authorization_requests: bool,
    dpop_bound_access_tokens: bool,
    require_signed_request_object: bool,
    backchannel_logout_session_required: bool,
);

/// A secret an operator chose for a new client (`secret` on create): never printed, never
/// part of the settings; the services check and hash it.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct ChosenSecret(String);

impl ChosenSecret {
    pub fn new(s: String) -> Self {
        Self(s)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// Written as `…` (the OpenAPI schema serializes defaults): a chosen secret never leaves.
impl Serialize for ChosenSecret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("…")
    }
}

impl std::fmt::Debug for ChosenSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChosenSecret(…)")
    }
}

/// A read-only field of the client object sent back in a request body: accepted whatever it
/// holds, and ignored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Echoed;

impl<'de> Deserialize<'de> for Echoed {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(d).map(|_| Echoed)
    }
}

impl ClientInput {
    /// Whether the client is confidential: `isConfidential` as sent, or as `clientType` or
    /// `tokenEndpointAuthMethod` imply it, or else the default, confidential.
    pub fn confidential(&self) -> bool {
        Self::confidential_from(
            self.is_confidential,
            self.client_type.as_deref(),
            self.token_endpoint_auth_method.as_deref(),
        )
        .unwrap_or(true)
    }

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
                Some(
                    "client_secret_basic"
                    | "client_secret_post"
                    | "client_secret_jwt"
                    | "private_key_jwt",
                ) => Some(true),
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
            client_id: None,
            id: None,
            name: String::new(),
            description: None,
            is_confidential: None,
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
            require_pushed_authorization_requests: false,
            dpop_bound_access_tokens: false,
            require_signed_request_object: false,
            backchannel_logout_uri: None,
            backchannel_logout_session_required: false,
            security_profile: None,
            client_type: None,
            secret: None,
            secrets: Echoed,
            created_at: Echoed,
            updated_at: Echoed,
        }
    }
}
