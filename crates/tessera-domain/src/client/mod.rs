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
mod settings;
mod uris;
mod validate;

pub use algs::{parse_request_object_alg, IdTokenAlg, SigningAlg};
pub use auth::{ClientJwks, TokenAuthMethod, MAX_JWKS_BYTES};
pub use grants::{GrantType, Scope};
pub use id::ClientId;
pub use settings::{
    ClientInput, ClientSettings, TokenExchangePolicy, ACCESS_TOKEN_LIFETIME,
    DEFAULT_ACCESS_TOKEN_LIFETIME, DEFAULT_REFRESH_TOKEN_LIFETIME, MAX_DESCRIPTION_CHARS,
    MAX_NAME_CHARS, REFRESH_TOKEN_LIFETIME,
};
pub use uris::{parse_web_url, CorsOrigin, RedirectUri};

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
mod tests;
