//! The token endpoint (RFC 6749 §3.2): a request is parsed once, at the edge, into a
//! [`TokenRequest`] (one variant per grant, its parameters typed), and [`Services::token`]
//! hands it to the grant's own file:
//!
//! | grant | file |
//! |---|---|
//! | `authorization_code` | [`authorization_code`] |
//! | `refresh_token` | [`refresh`] |
//! | `client_credentials` | [`client_credentials`] |
//! | `password` | [`password`] |
//! | `urn:ietf:params:oauth:grant-type:device_code` | [`device_code`] |
//! | `urn:ietf:params:oauth:grant-type:token-exchange` | [`token_exchange`] |
//!
//! Discovery's `grant_types_supported` is [`TokenRequest::GRANT_TYPES`], so the list cannot
//! drift from what the endpoint accepts.

use std::sync::Arc;

use tessera_domain::{Timestamp, UserId};

use crate::tokens::{ClientAuth, OAuthError, OAuthResult, TokenResponse};
use crate::Services;

pub mod access_token;
pub mod authorization_code;
pub mod client_credentials;
pub mod device_code;
pub mod id_token;
pub mod password;
pub mod refresh;
pub mod resources;
pub mod token_exchange;

pub use access_token::{AccessTokenClaims, Audience};
pub use id_token::IdTokenClaims;
pub use token_exchange::ExchangeRequest;

/// What a user granted a client and how they signed in: what every token of one
/// authorization (its code, its refresh tokens, a device code, a password grant) carries.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Grant<'a> {
    pub user: UserId,
    pub scope: &'a str,
    pub auth_time: Timestamp,
    /// Only the code's first id_token echoes it (OIDC Core §12.2).
    pub nonce: Option<&'a str>,
    /// The claims request of the authorization (OIDC Core §5.5).
    pub claims: Option<&'a tessera_domain::claims::ClaimsRequest>,
    /// The API resources the authorization was for (RFC 8707), by identifier.
    pub resources: &'a [String],
    /// The login session the authorization came from (`sid` of id_tokens and logout tokens).
    pub sid: Option<&'a str>,
    /// The DPoP key a public client's refresh tokens are bound to (RFC 9449 §5).
    pub dpop_jkt: Option<&'a str>,
    /// How the user authenticated (RFC 8176 values, space-separated), for id_tokens.
    pub amr: &'a str,
}

/// Whether `scope` (space-separated) grants the user's roles: `roles`, or the seed's `role`.
pub(crate) fn grants_roles(scope: &str) -> bool {
    scope.split(' ').any(|s| s == "roles" || s == "role")
}

/// What a grant hands out beside its [`Grant`]: the refresh token already stored (if any),
/// the access token's `jti` when the grant recorded it (a code's, for revocation on reuse;
/// else a new one), and the key the tokens are bound to (DPoP).
pub(crate) struct Issue<'a> {
    pub refresh_token: Option<String>,
    pub jti: Option<&'a str>,
    pub key: Option<&'a crate::dpop::ProvenKey>,
}

/// The key a public client's refresh tokens are bound to: the one its request proved. A
/// confidential client's are bound to its credentials instead (RFC 9449 §5).
pub(crate) fn refresh_binding<'k>(
    client: &tessera_domain::client::OAuthClient,
    key: Option<&'k crate::dpop::ProvenKey>,
) -> Option<&'k str> {
    key.filter(|_| !client.settings.is_confidential)
        .map(|k| k.jkt())
}

/// A token request, one variant per grant type, borrowing the form's values.
pub enum TokenRequest<'a> {
    /// RFC 6749 §4.1.3, RFC 7636 §4.5; `resource`s narrow the authorization's (RFC 8707 §2.2).
    AuthorizationCode {
        code: &'a str,
        redirect_uri: Option<&'a str>,
        code_verifier: Option<&'a str>,
        resources: Vec<&'a str>,
    },
    /// RFC 6749 §6; `resource`s narrow the authorization's (RFC 8707 §2.2).
    RefreshToken {
        refresh_token: &'a str,
        scope: Option<&'a str>,
        resources: Vec<&'a str>,
    },
    /// RFC 6749 §4.4, with RFC 8707's `resource`s.
    ClientCredentials {
        scope: Option<&'a str>,
        resources: Vec<&'a str>,
    },
    /// RFC 6749 §4.3, with RFC 8707's `resource`s.
    Password {
        username: &'a str,
        password: &'a str,
        scope: Option<&'a str>,
        resources: Vec<&'a str>,
    },
    /// RFC 8628 §3.4.
    /// RFC 8628 §3.4; `resource`s narrow the device authorization's (RFC 8707 §2.2).
    DeviceCode {
        device_code: &'a str,
        resources: Vec<&'a str>,
    },
    /// RFC 8693 §2.1.
    TokenExchange(ExchangeRequest<'a>),
}

/// Only the grant: the values are credentials (a code, a password, tokens).
impl std::fmt::Debug for TokenRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TokenRequest({})", self.grant_type())
    }
}

pub const AUTHORIZATION_CODE: &str = "authorization_code";
pub const REFRESH_TOKEN: &str = "refresh_token";
pub const CLIENT_CREDENTIALS: &str = "client_credentials";
pub const PASSWORD: &str = "password";
pub const DEVICE_CODE: &str = "urn:ietf:params:oauth:grant-type:device_code";
pub const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";

impl<'a> TokenRequest<'a> {
    /// Every `grant_type` the token endpoint accepts, in discovery's order.
    pub const GRANT_TYPES: [&'static str; 6] = [
        AUTHORIZATION_CODE,
        CLIENT_CREDENTIALS,
        REFRESH_TOKEN,
        PASSWORD,
        DEVICE_CODE,
        TOKEN_EXCHANGE,
    ];

    /// The request of `grant_type`, its parameters read with `get` (absent and empty are the
    /// same) and its `resource` values given apart (the one parameter that repeats); a
    /// required one missing is `invalid_request` naming it, an unknown grant type
    /// `unsupported_grant_type`.
    pub fn parse(
        grant_type: &str,
        get: impl Fn(&str) -> Option<&'a str>,
        resources: Vec<&'a str>,
    ) -> OAuthResult<Self> {
        let require = |name: &str| {
            get(name).ok_or_else(|| OAuthError::InvalidRequest(format!("{name} is required")))
        };
        Ok(match grant_type {
            CLIENT_CREDENTIALS => Self::ClientCredentials {
                scope: get("scope"),
                resources,
            },
            REFRESH_TOKEN => Self::RefreshToken {
                refresh_token: require("refresh_token")?,
                scope: get("scope"),
                resources,
            },
            AUTHORIZATION_CODE => Self::AuthorizationCode {
                code: require("code")?,
                redirect_uri: get("redirect_uri"),
                code_verifier: get("code_verifier"),
                resources,
            },
            DEVICE_CODE => Self::DeviceCode {
                device_code: require("device_code")?,
                resources,
            },
            TOKEN_EXCHANGE => Self::TokenExchange(ExchangeRequest {
                subject_token: require("subject_token")?,
                subject_token_type: require("subject_token_type")?,
                actor_token: get("actor_token"),
                actor_token_type: get("actor_token_type"),
                requested_token_type: get("requested_token_type"),
                audience: get("audience"),
                resources,
                scope: get("scope"),
            }),
            PASSWORD => Self::Password {
                username: require("username")?,
                password: require("password")?,
                scope: get("scope"),
                resources,
            },
            other => {
                return Err(OAuthError::UnsupportedGrantType(format!(
                    "unsupported grant type '{other}'"
                )))
            }
        })
    }

    /// The `grant_type` this request is of.
    pub fn grant_type(&self) -> &'static str {
        match self {
            Self::AuthorizationCode { .. } => AUTHORIZATION_CODE,
            Self::RefreshToken { .. } => REFRESH_TOKEN,
            Self::ClientCredentials { .. } => CLIENT_CREDENTIALS,
            Self::Password { .. } => PASSWORD,
            Self::DeviceCode { .. } => DEVICE_CODE,
            Self::TokenExchange(_) => TOKEN_EXCHANGE,
        }
    }
}

impl Services {
    /// `POST …/oauth/token`: the request of an authenticated (or identified public) client
    /// of the organization `org_slug`, answered by its grant.
    pub async fn token(
        self: &Arc<Self>,
        org_slug: &str,
        auth: &ClientAuth,
        req: TokenRequest<'_>,
    ) -> OAuthResult<TokenResponse> {
        // RFC 9449 §5: a DPoP proof is checked once, for every grant.
        let org = self.protocol_org(org_slug).await?;
        let proven = self.prove(&org, auth, "/api/v1/oauth/token").await?;
        let auth = &*proven;
        match req {
            TokenRequest::AuthorizationCode {
                code,
                redirect_uri,
                code_verifier,
                resources,
            } => {
                Box::pin(self.authorization_code(
                    &org,
                    auth,
                    code,
                    redirect_uri,
                    code_verifier,
                    &resources,
                ))
                .await
            }
            TokenRequest::RefreshToken {
                refresh_token,
                scope,
                resources,
            } => Box::pin(self.refresh(&org, auth, refresh_token, scope, &resources)).await,
            TokenRequest::ClientCredentials { scope, resources } => {
                self.client_credentials(&org, auth, scope, &resources).await
            }
            TokenRequest::Password {
                username,
                password,
                scope,
                resources,
            } => {
                Box::pin(self.password_grant(&org, auth, username, password, scope, &resources))
                    .await
            }
            TokenRequest::DeviceCode {
                device_code,
                resources,
            } => Box::pin(self.device_code_grant(&org, auth, device_code, &resources)).await,
            TokenRequest::TokenExchange(req) => {
                Box::pin(self.token_exchange(&org, auth, req)).await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<&'a str> {
        move |k: &str| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| *v)
                .filter(|v| !v.is_empty())
        }
    }

    #[test]
    fn every_grant_type_parses_to_its_own_variant() {
        let all = [
            ("code", "c"),
            ("refresh_token", "r"),
            ("device_code", "d"),
            ("subject_token", "s"),
            ("subject_token_type", "t"),
            ("username", "u"),
            ("password", "p"),
        ];
        for g in TokenRequest::GRANT_TYPES {
            let req = TokenRequest::parse(g, form(&all), vec![]).unwrap();
            assert_eq!(req.grant_type(), g);
            assert_eq!(format!("{req:?}"), format!("TokenRequest({g})"));
        }
    }

    #[test]
    fn missing_parameters_and_unknown_grants_are_named() {
        let err = |g: &str, pairs: &[(&str, &str)]| {
            TokenRequest::parse(g, form(pairs), vec![])
                .unwrap_err()
                .to_string()
        };
        assert_eq!(err(AUTHORIZATION_CODE, &[]), "code is required");
        assert_eq!(err(AUTHORIZATION_CODE, &[("code", "")]), "code is required");
        assert_eq!(err(REFRESH_TOKEN, &[]), "refresh_token is required");
        assert_eq!(err(DEVICE_CODE, &[]), "device_code is required");
        assert_eq!(
            err(TOKEN_EXCHANGE, &[("subject_token", "s")]),
            "subject_token_type is required"
        );
        assert_eq!(err(PASSWORD, &[("username", "u")]), "password is required");
        assert_eq!(err("implicit", &[]), "unsupported grant type 'implicit'");
        assert!(matches!(
            TokenRequest::parse("implicit", form(&[]), vec![]),
            Err(OAuthError::UnsupportedGrantType(_))
        ));
        let TokenRequest::ClientCredentials { scope, resources } = TokenRequest::parse(
            CLIENT_CREDENTIALS,
            form(&[("scope", "read")]),
            vec!["urn:a", "urn:b"],
        )
        .unwrap() else {
            panic!("client_credentials")
        };
        assert_eq!((scope, resources), (Some("read"), vec!["urn:a", "urn:b"]));
    }
}
