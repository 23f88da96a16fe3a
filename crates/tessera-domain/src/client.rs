//! OAuth clients: the applications registered with an organization, and the rules that make a
//! registration valid. Every rule here yields a [`FieldError`] that names the field as the
//! API spells it (`redirectUris[1]`), so REST, GraphQL, console and CLI report the same thing.

use serde::{Deserialize, Serialize};
pub use tessera_crypto::jwk::ClientAlg;
use url::Url;

use crate::clock::Timestamp;
use crate::error::{Collector, FieldError, ValidationError};
use crate::org::OrgId;

/// A client identifier: a generated UUID, or an id chosen at creation (1 to 128 of
/// `A-Z a-z 0-9 . _ ~ -`, the RFC 3986 unreserved set, so it never needs escaping in a URL or
/// in HTTP Basic authentication).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ClientId(String);

impl ClientId {
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        let ok = !s.is_empty()
            && s.len() <= 128
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'~' | b'-'));
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(FieldError::new(
                "clientId",
                "must be 1 to 128 characters of letters, digits, '.', '_', '~' or '-'",
            ))
        }
    }

    /// A new random id (UUID v4).
    pub fn generate() -> Self {
        Self(uuid::Uuid::new_v4().to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ClientId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The grant types Tessera knows (RFC 6749 §4, RFC 8628, RFC 8693).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GrantType {
    AuthorizationCode,
    ClientCredentials,
    RefreshToken,
    Password,
    DeviceCode,
    TokenExchange,
}

impl GrantType {
    pub const ALL: &'static [GrantType] = &[
        GrantType::AuthorizationCode,
        GrantType::ClientCredentials,
        GrantType::RefreshToken,
        GrantType::Password,
        GrantType::DeviceCode,
        GrantType::TokenExchange,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            GrantType::AuthorizationCode => "authorization_code",
            GrantType::ClientCredentials => "client_credentials",
            GrantType::RefreshToken => "refresh_token",
            GrantType::Password => "password",
            GrantType::DeviceCode => "urn:ietf:params:oauth:grant-type:device_code",
            GrantType::TokenExchange => "urn:ietf:params:oauth:grant-type:token-exchange",
        }
    }

    pub fn parse(s: &str) -> Result<Self, FieldError> {
        Self::ALL
            .iter()
            .copied()
            .find(|g| g.as_str() == s)
            .ok_or_else(|| {
                FieldError::new(
                    "grantTypes",
                    format!(
                        "unknown grant type '{s}': use one of {}",
                        Self::ALL
                            .iter()
                            .map(|g| g.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            })
    }

    /// Grants a client without a secret must never have: they would let anyone who knows the
    /// client id act as the client (RFC 9700 §2.4, §4.14).
    pub fn needs_confidential_client(self) -> bool {
        matches!(
            self,
            GrantType::ClientCredentials | GrantType::Password | GrantType::TokenExchange
        )
    }
}

impl Serialize for GrantType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for GrantType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        GrantType::parse(&s).map_err(|e| serde::de::Error::custom(e.message))
    }
}

/// How a client's tokens are signed: its id_tokens (OIDC Registration
/// `id_token_signed_response_alg`, RS256 by default as OIDC Core §3.1.3.7 expects) and its
/// access tokens (`accessTokenSignedResponseAlg`, ES256 by default; RFC 9068 §2.1 requires
/// that RS256 be possible). Every organization has an active key of each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SigningAlg {
    RS256,
    ES256,
    EdDSA,
}

/// The algorithm of a client's id_tokens.
pub type IdTokenAlg = SigningAlg;

impl SigningAlg {
    pub const ALL: &'static [SigningAlg] =
        &[SigningAlg::RS256, SigningAlg::ES256, SigningAlg::EdDSA];
    /// The default of id_tokens (OIDC Core §3.1.3.7).
    pub const ID_TOKEN_DEFAULT: SigningAlg = SigningAlg::RS256;
    /// The default of access tokens: the fastest to sign and verify of the three.
    pub const ACCESS_TOKEN_DEFAULT: SigningAlg = SigningAlg::ES256;

    pub fn as_str(self) -> &'static str {
        match self {
            SigningAlg::RS256 => "RS256",
            SigningAlg::ES256 => "ES256",
            SigningAlg::EdDSA => "EdDSA",
        }
    }

    /// Parses an algorithm name; an unknown one is an error on `field`.
    pub fn parse_for(s: &str, field: &str) -> Result<Self, FieldError> {
        Self::ALL
            .iter()
            .copied()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| {
                FieldError::new(
                    field,
                    format!("unknown algorithm '{s}': use RS256, ES256 or EdDSA"),
                )
            })
    }

    /// An id_token algorithm (errors name `idTokenSignedResponseAlg`).
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        Self::parse_for(s, "idTokenSignedResponseAlg")
    }
}

/// A request object algorithm (errors name `requestObjectSigningAlg`): one a client's keys
/// can sign with; never `none`, since unsigned request objects are refused.
pub fn parse_request_object_alg(s: &str) -> Result<ClientAlg, FieldError> {
    ClientAlg::parse(s).ok_or_else(|| {
        let all: Vec<&str> = ClientAlg::ALL.iter().map(|a| a.as_str()).collect();
        FieldError::new(
            "requestObjectSigningAlg",
            if s.eq_ignore_ascii_case("none") {
                format!(
                    "unsigned request objects are not accepted: use one of {}",
                    all.join(", ")
                )
            } else {
                format!("unknown algorithm '{s}': use one of {}", all.join(", "))
            },
        )
    })
}

impl Serialize for SigningAlg {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// How a client authenticates at the token endpoint (RFC 7591 §2 `token_endpoint_auth_method`):
/// a confidential client with its secret, in the Basic header or the form body, or with a JWT
/// signed by one of its keys (`private_key_jwt`, RFC 7523 §2.2, OIDC Core §9); a public client
/// with nothing. What the client declared, which registration echoes (RFC 7591 §3.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenAuthMethod {
    ClientSecretBasic,
    ClientSecretPost,
    PrivateKeyJwt,
    None,
}

impl TokenAuthMethod {
    pub const ALL: &'static [TokenAuthMethod] = &[
        TokenAuthMethod::ClientSecretBasic,
        TokenAuthMethod::ClientSecretPost,
        TokenAuthMethod::PrivateKeyJwt,
        TokenAuthMethod::None,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TokenAuthMethod::ClientSecretBasic => "client_secret_basic",
            TokenAuthMethod::ClientSecretPost => "client_secret_post",
            TokenAuthMethod::PrivateKeyJwt => "private_key_jwt",
            TokenAuthMethod::None => "none",
        }
    }

    /// Whether a client with this method is confidential (it can prove who it is).
    pub fn is_confidential(self) -> bool {
        self != TokenAuthMethod::None
    }

    /// The method of a client that declares none: `client_secret_basic` for a confidential
    /// client (RFC 7591 §2's default), `none` for a public one.
    pub fn default_for(is_confidential: bool) -> Self {
        if is_confidential {
            TokenAuthMethod::ClientSecretBasic
        } else {
            TokenAuthMethod::None
        }
    }

    /// Whether the method authenticates with a shared secret (and the client has one).
    pub fn uses_secret(self) -> bool {
        matches!(
            self,
            TokenAuthMethod::ClientSecretBasic | TokenAuthMethod::ClientSecretPost
        )
    }

    pub fn parse(s: &str) -> Result<Self, FieldError> {
        Self::ALL
            .iter()
            .copied()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| {
                FieldError::new(
                    "tokenEndpointAuthMethod",
                    format!(
                        "unknown method '{s}': use client_secret_basic, client_secret_post, private_key_jwt or none"
                    ),
                )
            })
    }
}

impl Serialize for TokenAuthMethod {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The largest JWK Set a client may register, serialized.
pub const MAX_JWKS_BYTES: usize = 16 * 1024;

/// A client's public keys (RFC 7591 §2 `jwks`): a JWK Set whose every key can verify the
/// client's assertions (see [`tessera_crypto::jwk`]), kept as given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientJwks {
    json: serde_json::Value,
    keys: Vec<tessera_crypto::jwk::PublicJwk>,
}

impl ClientJwks {
    pub fn parse(v: &serde_json::Value) -> Result<Self, FieldError> {
        if v.to_string().len() > MAX_JWKS_BYTES {
            return Err(FieldError::new(
                "jwks",
                format!("must be at most {MAX_JWKS_BYTES} bytes"),
            ));
        }
        let keys = tessera_crypto::jwk::parse_jwks(v).map_err(|e| FieldError::new("jwks", e))?;
        Ok(Self {
            json: v.clone(),
            keys,
        })
    }

    pub fn keys(&self) -> &[tessera_crypto::jwk::PublicJwk] {
        &self.keys
    }

    pub fn as_json(&self) -> &serde_json::Value {
        &self.json
    }
}

impl Serialize for ClientJwks {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.json.serialize(s)
    }
}

/// A scope token (RFC 6749 §3.3): one or more of `%x21 / %x23-5B / %x5D-7E` — printable
/// ASCII without space, `"` and `\`. Otherwise free: `openid`, `admin.read`,
/// `octo_api.read_only` are all scopes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Scope(String);

impl Scope {
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        let ok = !s.is_empty()
            && s.len() <= 200
            && s.bytes()
                .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b));
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(FieldError::new(
                "allowedScopes",
                format!("'{s}' is not a scope token (RFC 6749 §3.3): printable ASCII without spaces, '\"' or '\\'"),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_loopback_host(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Schemes that must never be a redirect target: they run code or read files.
const FORBIDDEN_SCHEMES: &[&str] = &["javascript", "data", "file", "vbscript", "about", "blob"];

/// A registered redirect URI, kept exactly as registered: matching is by exact string
/// comparison (RFC 9700 §4.1.3), so `/callback` and `/callback/` are different registrations.
///
/// Rules: absolute, no fragment (RFC 6749 §3.1.2), `https`, or `http` only on a loopback host
/// (RFC 8252 §7.3), or a private-use scheme such as `myapp://callback` (RFC 8252 §7.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct RedirectUri(String);

impl RedirectUri {
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        let err = |m: &str| FieldError::new("redirectUris", format!("'{s}' {m}"));
        if s.len() > 2000 {
            return Err(err("is longer than 2000 characters"));
        }
        if s.trim() != s || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(err("contains white space"));
        }
        if s.contains('#') {
            return Err(err("must not contain a fragment ('#')"));
        }
        let url = Url::parse(s).map_err(|_| err("is not an absolute URI"))?;
        match url.scheme() {
            "https" if url.host().is_none() => return Err(err("has no host")),
            "http" if !is_loopback_host(&url) => return Err(err(
                "must use https (http is allowed only for loopback: 127.0.0.1, [::1], localhost)",
            )),
            scheme if FORBIDDEN_SCHEMES.contains(&scheme) => {
                return Err(err(&format!("uses the forbidden scheme '{scheme}:'")));
            }
            _ => {}
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `presented` is this registration. Exact, except that the port of a loopback
    /// `http` redirect may vary (RFC 8252 §7.3: native apps bind an ephemeral port).
    pub fn matches(&self, presented: &str) -> bool {
        if self.0 == presented {
            return true;
        }
        let (Ok(reg), Ok(got)) = (Url::parse(&self.0), Url::parse(presented)) else {
            return false;
        };
        reg.scheme() == "http"
            && got.scheme() == "http"
            && is_loopback_host(&reg)
            && reg.host() == got.host()
            && reg.path() == got.path()
            && reg.query() == got.query()
            && got.fragment().is_none()
            && reg.username() == got.username()
            && got.password().is_none()
            && !presented.contains('#')
            // The raw strings must agree apart from the port, so no normalisation sneaks in.
            && strip_port(&self.0) == strip_port(presented)
    }
}

fn strip_port(s: &str) -> String {
    // scheme://host:port/rest -> scheme://host/rest
    let Some((scheme, rest)) = s.split_once("://") else {
        return s.to_owned();
    };
    let (authority, path) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
    let host = match authority.rfind(':') {
        Some(i) if !authority[i..].contains(']') => &authority[..i],
        _ => authority,
    };
    format!("{scheme}://{host}{path}")
}

/// A CORS origin (RFC 6454): `scheme://host[:port]`, no path, no trailing slash.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct CorsOrigin(String);

impl CorsOrigin {
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        let err = |m: &str| FieldError::new("allowedCorsOrigins", format!("'{s}' {m}"));
        if s.ends_with('/') {
            return Err(err("must not end with a slash"));
        }
        let url = Url::parse(s).map_err(|_| err("is not an origin (scheme://host[:port])"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(err("must use http or https"));
        }
        if url.host().is_none() {
            return Err(err("has no host"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(err("must not contain user information"));
        }
        if url.query().is_some() || url.fragment().is_some() || s.contains('?') || s.contains('#') {
            return Err(err("must not contain a query or fragment"));
        }
        // `Url` adds "/" as the path of a bare origin; anything more is a path.
        if url.path() != "/" {
            return Err(err("must not contain a path"));
        }
        if url.origin().ascii_serialization() != s {
            return Err(err(
                "is not in origin form (lowercase scheme and host, no default port)",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An optional https (or loopback http) URL such as `clientUri` and `logoUri`.
pub fn parse_web_url(s: &str, field: &str) -> Result<String, FieldError> {
    let url = Url::parse(s)
        .map_err(|_| FieldError::new(field, format!("'{s}' is not an absolute URL")))?;
    match url.scheme() {
        "https" => Ok(s.to_owned()),
        "http" if is_loopback_host(&url) => Ok(s.to_owned()),
        _ => Err(FieldError::new(field, format!("'{s}' must use https"))),
    }
}

/// Bounds of token lifetimes, in seconds.
pub const ACCESS_TOKEN_LIFETIME: std::ops::RangeInclusive<i64> = 60..=86_400;
pub const REFRESH_TOKEN_LIFETIME: std::ops::RangeInclusive<i64> = 60..=31_536_000;
pub const DEFAULT_ACCESS_TOKEN_LIFETIME: i64 = 3_600;
pub const DEFAULT_REFRESH_TOKEN_LIFETIME: i64 = 2_592_000;
pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_DESCRIPTION_CHARS: usize = 1_000;

/// Metadata of one live client secret; never its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretInfo {
    pub id: String,
    /// The last four characters, e.g. `…x9Qa`.
    pub hint: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: Timestamp,
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<Timestamp>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<Timestamp>,
}

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
    pub allowed_scopes: Vec<String>,
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
    pub fn default_scopes_for(grant_types: &[String]) -> Vec<String> {
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
            allowed_scopes: vec![],
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

/// Parses a list, naming each bad element `field[i]` and each duplicate.
fn parse_list<T: PartialEq>(
    c: &mut Collector,
    field: &str,
    items: &[String],
    parse: impl Fn(&str) -> Result<T, FieldError>,
) -> Vec<T> {
    let mut out: Vec<T> = Vec::with_capacity(items.len());
    for (i, raw) in items.iter().enumerate() {
        let at = format!("{field}[{i}]");
        match parse(raw) {
            Ok(v) => {
                if let Some(j) = out.iter().position(|o| *o == v) {
                    c.push(FieldError::new(
                        at,
                        format!("'{raw}' is listed twice (also {field}[{j}])"),
                    ));
                } else {
                    out.push(v);
                }
            }
            Err(e) => c.push(e.at(at)),
        }
    }
    out
}

impl ClientSettings {
    /// Applies every rule at once, reporting every bad field.
    pub fn validate(input: &ClientInput) -> Result<Self, ValidationError> {
        let mut c = Collector::new();
        let name = input.name.trim();
        if name.is_empty() {
            c.push(FieldError::new("name", "is required"));
        } else if name.chars().count() > MAX_NAME_CHARS {
            c.push(FieldError::new(
                "name",
                format!("must be at most {MAX_NAME_CHARS} characters"),
            ));
        } else if let Err(e) = crate::text::check_display_text(name, "name") {
            // The name is shown on the login and consent pages: it must look like itself.
            c.push(e);
        }
        let description = input
            .description
            .as_deref()
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(str::to_owned);
        if description
            .as_ref()
            .is_some_and(|d| d.chars().count() > MAX_DESCRIPTION_CHARS)
        {
            c.push(FieldError::new(
                "description",
                format!("must be at most {MAX_DESCRIPTION_CHARS} characters"),
            ));
        } else if let Some(d) = &description {
            // Several lines are fine; the rest of the rule of shown names holds.
            let one_line: String = d.replace(['\n', '\r', '\t'], " ");
            if let Err(e) = crate::text::check_display_text(&one_line, "description") {
                c.push(e);
            }
        }
        let redirect_uris = parse_list(
            &mut c,
            "redirectUris",
            &input.redirect_uris,
            RedirectUri::parse,
        );
        let post_logout_redirect_uris = parse_list(
            &mut c,
            "postLogoutRedirectUris",
            &input.post_logout_redirect_uris,
            RedirectUri::parse,
        );
        let allowed_cors_origins = parse_list(
            &mut c,
            "allowedCorsOrigins",
            &input.allowed_cors_origins,
            CorsOrigin::parse,
        );
        let allowed_scopes =
            parse_list(&mut c, "allowedScopes", &input.allowed_scopes, Scope::parse);
        let grant_types = parse_list(&mut c, "grantTypes", &input.grant_types, GrantType::parse);
        if input.grant_types.is_empty() {
            c.push(FieldError::new(
                "grantTypes",
                "give at least one grant type",
            ));
        }
        if !input.is_confidential {
            for (i, g) in input.grant_types.iter().enumerate() {
                if let Ok(g) = GrantType::parse(g) {
                    if g.needs_confidential_client() {
                        c.push(FieldError::new(
                            format!("grantTypes[{i}]"),
                            format!("a public client cannot use {}: it has no secret to authenticate with", g.as_str()),
                        ));
                    }
                }
            }
        }
        let interactive = grant_types.contains(&GrantType::AuthorizationCode);
        if interactive && input.redirect_uris.is_empty() {
            c.push(FieldError::new(
                "redirectUris",
                "give at least one redirect URI for the authorization_code grant",
            ));
        }
        let client_uri = input
            .client_uri
            .as_deref()
            .filter(|u| !u.is_empty())
            .and_then(|u| c.take(parse_web_url(u, "clientUri")));
        let logo_uri = input
            .logo_uri
            .as_deref()
            .filter(|u| !u.is_empty())
            .and_then(|u| c.take(parse_web_url(u, "logoUri")));
        if !ACCESS_TOKEN_LIFETIME.contains(&input.access_token_lifetime) {
            c.push(FieldError::new(
                "accessTokenLifetime",
                format!(
                    "must be between {} and {} seconds",
                    ACCESS_TOKEN_LIFETIME.start(),
                    ACCESS_TOKEN_LIFETIME.end()
                ),
            ));
        }
        if !REFRESH_TOKEN_LIFETIME.contains(&input.refresh_token_lifetime) {
            c.push(FieldError::new(
                "refreshTokenLifetime",
                format!(
                    "must be between {} and {} seconds",
                    REFRESH_TOKEN_LIFETIME.start(),
                    REFRESH_TOKEN_LIFETIME.end()
                ),
            ));
        }
        let id_token_alg = c.take(SigningAlg::parse(&input.id_token_signed_response_alg));
        let access_token_alg = c.take(SigningAlg::parse_for(
            &input.access_token_signed_response_alg,
            "accessTokenSignedResponseAlg",
        ));
        let userinfo_alg = input
            .userinfo_signed_response_alg
            .as_deref()
            .filter(|a| !a.is_empty())
            .and_then(|a| c.take(SigningAlg::parse_for(a, "userinfoSignedResponseAlg")));
        let request_object_alg = input
            .request_object_signing_alg
            .as_deref()
            .filter(|a| !a.is_empty())
            .and_then(|a| c.take(parse_request_object_alg(a)));
        let auth_method = match input.token_endpoint_auth_method.as_deref() {
            None | Some("") => TokenAuthMethod::default_for(input.is_confidential),
            Some(m) => match c.take(TokenAuthMethod::parse(m)) {
                Some(m) if m.is_confidential() != input.is_confidential => {
                    c.push(FieldError::new(
                        "tokenEndpointAuthMethod",
                        if input.is_confidential {
                            "'none' is for public clients: a confidential client authenticates with its secret (client_secret_basic or client_secret_post) or its keys (private_key_jwt)".to_owned()
                        } else {
                            format!("'{}' needs a secret, which a public client does not have: use none", m.as_str())
                        },
                    ));
                    TokenAuthMethod::default_for(input.is_confidential)
                }
                Some(m) => m,
                None => TokenAuthMethod::default_for(input.is_confidential),
            },
        };
        let jwks = input
            .jwks
            .as_ref()
            .filter(|v| !v.is_null())
            .and_then(|v| c.take(ClientJwks::parse(v)));
        let jwks_given = input.jwks.as_ref().is_some_and(|v| !v.is_null());
        let jwks_uri = input
            .jwks_uri
            .as_deref()
            .filter(|u| !u.is_empty())
            .and_then(|u| c.take(parse_web_url(u, "jwksUri")));
        let jwks_uri_given = input.jwks_uri.as_deref().is_some_and(|u| !u.is_empty());
        if jwks_given && jwks_uri_given {
            c.push(FieldError::new(
                "jwksUri",
                "give the keys in jwks or at jwksUri, not both",
            ));
        }
        if auth_method == TokenAuthMethod::PrivateKeyJwt && !jwks_given && !jwks_uri_given {
            c.push(FieldError::new(
                "jwks",
                "private_key_jwt needs the client's public keys: give a JWK Set in jwks, or its URL in jwksUri",
            ));
        }
        // `clientType` is derived; sent, it must say the same as `isConfidential`.
        match (input.client_type.as_deref(), input.is_confidential) {
            (None, _) | (Some("public"), false) | (Some("confidential"), true) => {}
            (Some(t @ ("public" | "confidential")), conf) => c.push(FieldError::new(
                "clientType",
                format!("'{t}' contradicts isConfidential: {conf}"),
            )),
            (Some(t), _) => c.push(FieldError::new(
                "clientType",
                format!("unknown client type '{t}': use public or confidential"),
            )),
        }
        for (i, subject) in input.token_exchange.subject_clients.iter().enumerate() {
            if let Some(j) = input.token_exchange.subject_clients[..i]
                .iter()
                .position(|s| s == subject)
            {
                c.push(FieldError::new(
                    format!("tokenExchange.subjectClients[{i}]"),
                    format!("'{subject}' is listed twice (also tokenExchange.subjectClients[{j}])"),
                ));
            } else if subject != "*" {
                if let Err(e) = ClientId::parse(subject) {
                    c.push(FieldError::new(
                        format!("tokenExchange.subjectClients[{i}]"),
                        format!("must be '*' or a client id: {}", e.message),
                    ));
                }
            }
        }
        let exchanges = !input.token_exchange.subject_clients.is_empty()
            || input.token_exchange.allow_impersonation;
        if exchanges
            && !input
                .grant_types
                .iter()
                .any(|g| g == GrantType::TokenExchange.as_str())
        {
            c.push(FieldError::new(
                "tokenExchange",
                "needs the urn:ietf:params:oauth:grant-type:token-exchange grant type",
            ));
        }
        c.finish()?;
        Ok(Self {
            name: name.to_owned(),
            description,
            is_confidential: input.is_confidential,
            redirect_uris,
            post_logout_redirect_uris,
            allowed_cors_origins,
            allowed_scopes,
            grant_types,
            is_active: input.is_active,
            // PKCE is always required of public clients (RFC 9700 §2.1.1).
            require_pkce: input.require_pkce || !input.is_confidential,
            require_consent: input.require_consent,
            client_uri,
            logo_uri,
            access_token_lifetime: input.access_token_lifetime,
            refresh_token_lifetime: input.refresh_token_lifetime,
            id_token_signed_response_alg: id_token_alg.unwrap_or(SigningAlg::ID_TOKEN_DEFAULT),
            access_token_signed_response_alg: access_token_alg
                .unwrap_or(SigningAlg::ACCESS_TOKEN_DEFAULT),
            userinfo_signed_response_alg: userinfo_alg,
            request_object_signing_alg: request_object_alg,
            token_endpoint_auth_method: auth_method,
            jwks,
            jwks_uri,
            token_exchange: input.token_exchange.clone(),
        })
    }
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
            is_confidential: s.is_confidential,
            redirect_uris: strings(&s.redirect_uris),
            post_logout_redirect_uris: strings(&s.post_logout_redirect_uris),
            allowed_cors_origins: s
                .allowed_cors_origins
                .iter()
                .map(|o| o.as_str().to_owned())
                .collect(),
            allowed_scopes: s
                .allowed_scopes
                .iter()
                .map(|o| o.as_str().to_owned())
                .collect(),
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
            client_type: None,
        }
    }
}

/// The wire form shared by REST, the CLI and the audit log (interfaces.md, "The OAuth client
/// object"): camelCase, `clientType` derived, secrets as metadata only.
impl Serialize for OAuthClient {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Wire<'a> {
            id: &'a ClientId,
            name: &'a str,
            description: Option<&'a str>,
            client_type: &'static str,
            is_confidential: bool,
            redirect_uris: &'a [RedirectUri],
            post_logout_redirect_uris: &'a [RedirectUri],
            allowed_cors_origins: &'a [CorsOrigin],
            allowed_scopes: &'a [Scope],
            grant_types: &'a [GrantType],
            is_active: bool,
            require_pkce: bool,
            require_consent: bool,
            client_uri: Option<&'a str>,
            logo_uri: Option<&'a str>,
            access_token_lifetime: i64,
            refresh_token_lifetime: i64,
            id_token_signed_response_alg: IdTokenAlg,
            access_token_signed_response_alg: SigningAlg,
            userinfo_signed_response_alg: Option<SigningAlg>,
            request_object_signing_alg: Option<&'static str>,
            token_endpoint_auth_method: TokenAuthMethod,
            jwks: Option<&'a ClientJwks>,
            jwks_uri: Option<&'a str>,
            token_exchange: &'a TokenExchangePolicy,
            secrets: &'a [SecretInfo],
            #[serde(with = "time::serde::rfc3339")]
            created_at: Timestamp,
            #[serde(with = "time::serde::rfc3339")]
            updated_at: Timestamp,
        }
        let s = &self.settings;
        Wire {
            id: &self.id,
            name: &s.name,
            description: s.description.as_deref(),
            client_type: self.client_type(),
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
            secrets: &self.secrets,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
        .serialize(ser)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn input() -> ClientInput {
        ClientInput {
            name: "App".into(),
            redirect_uris: vec!["https://app.example.com/callback".into()],
            ..ClientInput::default()
        }
    }

    fn fields(e: ValidationError) -> Vec<String> {
        e.errors.into_iter().map(|e| e.field).collect()
    }

    /// `none` exactly for public clients; the default follows the type; only a method other
    /// than the default survives a round trip through `to_input`, so that changing the type
    /// alone brings the other default.
    #[test]
    fn token_endpoint_auth_method_agrees_with_the_client_type() {
        let ok = |conf: bool, m: Option<&str>| {
            ClientSettings::validate(&ClientInput {
                is_confidential: conf,
                token_endpoint_auth_method: m.map(str::to_owned),
                ..input()
            })
        };
        assert_eq!(
            ok(true, None).unwrap().token_endpoint_auth_method,
            TokenAuthMethod::ClientSecretBasic
        );
        assert_eq!(
            ok(false, None).unwrap().token_endpoint_auth_method,
            TokenAuthMethod::None
        );
        assert_eq!(
            ok(true, Some("client_secret_post"))
                .unwrap()
                .token_endpoint_auth_method,
            TokenAuthMethod::ClientSecretPost
        );
        for (conf, m) in [
            (true, "none"),
            (false, "client_secret_basic"),
            (false, "client_secret_post"),
            (true, "private_key_jwt!"),
        ] {
            let e = ok(conf, Some(m)).unwrap_err();
            assert_eq!(fields(e), vec!["tokenEndpointAuthMethod"], "{conf} {m}");
        }
        // private_key_jwt: confidential, with keys.
        let e = ok(true, Some("private_key_jwt")).unwrap_err();
        assert_eq!(fields(e), vec!["jwks"]);
        let jwk = serde_json::json!({"kty": "OKP", "crv": "Ed25519", "kid": "k1",
            "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"});
        let with_keys = ClientSettings::validate(&ClientInput {
            token_endpoint_auth_method: Some("private_key_jwt".into()),
            jwks: Some(serde_json::json!({"keys": [jwk]})),
            ..input()
        })
        .unwrap();
        assert_eq!(
            with_keys.token_endpoint_auth_method,
            TokenAuthMethod::PrivateKeyJwt
        );
        assert_eq!(with_keys.jwks.as_ref().unwrap().keys().len(), 1);
        let e = ClientSettings::validate(&ClientInput {
            token_endpoint_auth_method: Some("private_key_jwt".into()),
            jwks: Some(serde_json::json!({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]})),
            ..input()
        })
        .unwrap_err();
        assert_eq!(fields(e), vec!["jwks"], "one error, on the keys given");
        assert_eq!(
            fields(ok(false, Some("private_key_jwt")).unwrap_err()),
            vec!["tokenEndpointAuthMethod"]
        );
        let settings = ok(true, Some("client_secret_post")).unwrap();
        let client = OAuthClient {
            org_id: OrgId(uuid::Uuid::nil()),
            id: ClientId::parse("app").unwrap(),
            settings,
            secrets: vec![],
            created_at: Timestamp::UNIX_EPOCH,
            updated_at: Timestamp::UNIX_EPOCH,
        };
        let back = client.to_input();
        assert_eq!(
            back.token_endpoint_auth_method.as_deref(),
            Some("client_secret_post")
        );
        let basic = OAuthClient {
            settings: ok(true, None).unwrap(),
            ..client
        };
        assert_eq!(basic.to_input().token_endpoint_auth_method, None);
    }

    #[test]
    fn userinfo_alg_is_optional_and_named_in_errors() {
        let with = |a: Option<&str>| {
            ClientSettings::validate(&ClientInput {
                userinfo_signed_response_alg: a.map(str::to_owned),
                ..input()
            })
        };
        assert_eq!(with(None).unwrap().userinfo_signed_response_alg, None);
        assert_eq!(with(Some("")).unwrap().userinfo_signed_response_alg, None);
        assert_eq!(
            with(Some("RS256")).unwrap().userinfo_signed_response_alg,
            Some(SigningAlg::RS256)
        );
        assert_eq!(
            fields(with(Some("none")).unwrap_err()),
            vec!["userinfoSignedResponseAlg"]
        );
    }

    #[test]
    fn request_object_alg_is_optional_never_none_and_round_trips() {
        let with = |a: Option<&str>| {
            ClientSettings::validate(&ClientInput {
                request_object_signing_alg: a.map(str::to_owned),
                ..input()
            })
        };
        assert_eq!(with(None).unwrap().request_object_signing_alg, None);
        assert_eq!(with(Some("")).unwrap().request_object_signing_alg, None);
        let ps = with(Some("PS256")).unwrap();
        assert_eq!(ps.request_object_signing_alg, Some(ClientAlg::PS256));
        for bad in ["none", "HS256"] {
            let e = with(Some(bad)).unwrap_err();
            assert_eq!(e.errors[0].field, "requestObjectSigningAlg");
            assert!(
                e.errors[0].message.contains("ES384"),
                "{}",
                e.errors[0].message
            );
        }
        assert!(with(Some("none")).unwrap_err().errors[0]
            .message
            .contains("unsigned"));
        let client = OAuthClient {
            org_id: OrgId(uuid::Uuid::nil()),
            id: ClientId::parse("app").unwrap(),
            settings: ps,
            secrets: vec![],
            created_at: Timestamp::UNIX_EPOCH,
            updated_at: Timestamp::UNIX_EPOCH,
        };
        assert_eq!(
            client.to_input().request_object_signing_alg.as_deref(),
            Some("PS256")
        );
        assert_eq!(
            serde_json::to_value(&client).unwrap()["requestObjectSigningAlg"],
            "PS256"
        );
    }

    #[test]
    fn redirect_uri_rules() {
        for ok in [
            "https://example.com/callback",
            "https://example.com/callback/",
            "http://127.0.0.1:8080/cb",
            "http://localhost/cb",
            "http://[::1]:9/cb",
            "myapp://callback",
            "com.example.app:/oauth2redirect",
            "https://example.com/cb?x=1",
        ] {
            assert!(RedirectUri::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "/callback",
            "example.com/callback",
            "https://example.com/cb#frag",
            "https://example.com/cb#",
            "http://example.com/cb",
            "http://127.0.0.2.example.com/cb",
            "javascript:alert(1)",
            "data:text/html,x",
            "https://exa mple.com/",
            " https://example.com/cb",
        ] {
            assert!(RedirectUri::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn redirect_matching_is_exact_but_for_loopback_ports() {
        let r = RedirectUri::parse("https://example.com/callback").unwrap();
        assert!(r.matches("https://example.com/callback"));
        for no in [
            "https://example.com/callback/",
            "https://example.com/callbackx",
            "https://example.com/callback?x",
            "https://example.com/callback#x",
            "https://EXAMPLE.com/callback",
            "https://example.com:443/callback",
        ] {
            assert!(!r.matches(no), "{no}");
        }
        let l = RedirectUri::parse("http://127.0.0.1:8080/cb").unwrap();
        assert!(l.matches("http://127.0.0.1:51234/cb"));
        assert!(l.matches("http://127.0.0.1/cb"));
        assert!(!l.matches("http://127.0.0.1:51234/cb/"));
        assert!(!l.matches("http://localhost:8080/cb"));
        assert!(!l.matches("http://127.0.0.1:1/cb?x=1"));
    }

    #[test]
    fn cors_origins() {
        for ok in [
            "https://app.example.com",
            "http://localhost:3000",
            "https://a.b:8443",
        ] {
            assert!(CorsOrigin::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "https://app.example.com/",
            "https://app.example.com/path",
            "app.example.com",
            "ftp://x.y",
            "https://u:p@x.y",
            "https://x.y?q",
            "https://X.Y",
            "https://x.y:443",
        ] {
            assert!(CorsOrigin::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn scopes_and_grants() {
        for ok in [
            "openid",
            "profile",
            "admin.read",
            "octo_api.read_only",
            "https://api/x:read",
        ] {
            assert!(Scope::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a b", "quo\"te", "back\\slash", "tab\t", "é"] {
            assert!(Scope::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            GrantType::parse("urn:ietf:params:oauth:grant-type:device_code"),
            Ok(GrantType::DeviceCode)
        );
        assert!(GrantType::parse("implicit").is_err());
    }

    #[test]
    fn settings_report_every_bad_field() {
        let bad = ClientInput {
            name: " ".into(),
            is_confidential: false,
            redirect_uris: vec![
                "https://a.example/cb".into(),
                "https://a.example/cb#x".into(),
                "https://a.example/cb".into(),
            ],
            allowed_cors_origins: vec!["https://a.example/".into()],
            allowed_scopes: vec!["ok".into(), "not ok".into()],
            grant_types: vec![
                "authorization_code".into(),
                "client_credentials".into(),
                "magic".into(),
            ],
            access_token_lifetime: 0,
            refresh_token_lifetime: i64::MAX,
            ..ClientInput::default()
        };
        assert_eq!(
            fields(ClientSettings::validate(&bad).unwrap_err()),
            [
                "name",
                "redirectUris[1]",
                "redirectUris[2]",
                "allowedCorsOrigins[0]",
                "allowedScopes[1]",
                "grantTypes[2]",
                "grantTypes[1]",
                "accessTokenLifetime",
                "refreshTokenLifetime"
            ]
        );
    }

    #[test]
    fn public_clients_and_redirects() {
        let mut i = input();
        i.is_confidential = false;
        i.require_pkce = false;
        let s = ClientSettings::validate(&i).unwrap();
        assert!(s.require_pkce, "public clients always need PKCE");
        i.grant_types = vec!["password".into()];
        assert_eq!(
            fields(ClientSettings::validate(&i).unwrap_err()),
            ["grantTypes[0]"]
        );

        let m2m = ClientInput {
            name: "Backend".into(),
            grant_types: vec!["client_credentials".into()],
            ..ClientInput::default()
        };
        assert!(
            ClientSettings::validate(&m2m).is_ok(),
            "no redirect needed without authorization_code"
        );
        let mut web = m2m.clone();
        web.grant_types = vec!["authorization_code".into()];
        assert_eq!(
            fields(ClientSettings::validate(&web).unwrap_err()),
            ["redirectUris"]
        );
        let mut long = input();
        long.name = "x".repeat(201);
        assert_eq!(
            fields(ClientSettings::validate(&long).unwrap_err()),
            ["name"]
        );
    }

    #[test]
    fn wire_form_matches_the_interface() {
        let c = OAuthClient {
            org_id: OrgId(uuid::Uuid::nil()),
            id: ClientId::parse("mobile").unwrap(),
            settings: ClientSettings::validate(&ClientInput {
                name: "Mobile App".into(),
                is_confidential: false,
                redirect_uris: vec!["myapp://callback".into()],
                allowed_scopes: vec!["openid".into(), "profile".into()],
                ..ClientInput::default()
            })
            .unwrap(),
            secrets: vec![],
            created_at: crate::clock::from_millis(1_768_478_400_000),
            updated_at: crate::clock::from_millis(1_768_478_400_000),
        };
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "id": "mobile", "name": "Mobile App", "description": null,
                "clientType": "public", "isConfidential": false,
                "redirectUris": ["myapp://callback"], "postLogoutRedirectUris": [],
                "allowedCorsOrigins": [], "allowedScopes": ["openid", "profile"],
                "grantTypes": ["authorization_code", "refresh_token"], "isActive": true,
                "requirePkce": true, "requireConsent": true, "clientUri": null, "logoUri": null,
                "accessTokenLifetime": 3600, "refreshTokenLifetime": 2592000,
                "idTokenSignedResponseAlg": "RS256",
                "accessTokenSignedResponseAlg": "ES256",
                "userinfoSignedResponseAlg": null,
                "requestObjectSigningAlg": null,
                "tokenEndpointAuthMethod": "none",
                "jwks": null,
                "jwksUri": null,
                "tokenExchange": {"subjectClients": [], "allowImpersonation": false},
                "secrets": [],
                "createdAt": "2026-01-15T12:00:00Z", "updatedAt": "2026-01-15T12:00:00Z"
            })
        );
        assert_eq!(ClientSettings::validate(&c.to_input()).unwrap(), c.settings);
    }

    #[test]
    fn client_ids() {
        assert!(ClientId::parse("tessera-cli").is_ok());
        assert!(ClientId::parse("my.app_1~x").is_ok());
        for bad in ["", "a b", "a:b", "ä", &"x".repeat(129)] {
            assert!(ClientId::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(ClientId::generate().as_str().len(), 36);
    }

    proptest! {
        #[test]
        fn redirect_parse_never_panics_and_rejects_fragments(s in ".{0,80}") {
            let r = RedirectUri::parse(&s);
            if s.contains('#') { prop_assert!(r.is_err()); }
            if let Ok(r) = r { prop_assert!(r.matches(&s)); }
        }

        #[test]
        fn https_paths_round_trip(path in "[a-z0-9/._-]{0,40}") {
            let s = format!("https://example.com/{path}");
            let r = RedirectUri::parse(&s).unwrap();
            prop_assert_eq!(r.as_str(), s.as_str());
            let longer = format!("{}x", s);
            prop_assert!(!r.matches(&longer));
        }

        #[test]
        fn scope_tokens(s in "[!#-\\[\\]-~]{1,50}") {
            prop_assert!(Scope::parse(&s).is_ok());
        }
    }
}
