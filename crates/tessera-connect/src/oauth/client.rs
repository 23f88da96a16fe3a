//! [`PlatformClient`]: one method per call (authorize URL, code exchange, refresh, revocation,
//! channel lookup, validation), each building the request in the platform's own shape.

use std::time::Duration;

use reqwest::StatusCode;
use secrecy::ExposeSecret as _;
use serde_json::json;
use tessera_domain::Platform;

use super::answers::{already_invalid, as_i64, classify, read_identity, token_answer, Op};
use super::transport::{send, trovo_post, with_query};
use super::{AppCredentials, Identity, PlatformError, TokenSet, Validation};
use crate::platform::{Pkce, ProviderConfig};

/// The client for all four platforms; cheap to clone (one connection pool).
#[derive(Clone)]
pub struct PlatformClient {
    /// `None` only if no HTTP client could be built at all; every call then fails as
    /// unavailable instead of the process panicking.
    http: Option<reqwest::Client>,
}

impl std::fmt::Debug for PlatformClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlatformClient").finish_non_exhaustive()
    }
}

/// Installs aws-lc-rs as the process's TLS crypto provider. reqwest's rustls backend is built
/// without a provider and panics ("No provider set") when a client is built before one is
/// installed; a second install is harmless.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

impl PlatformClient {
    /// A client whose every call gives up after `timeout`.
    pub fn new(timeout: Duration) -> Self {
        install_crypto_provider();
        let full = reqwest::Client::builder()
            .user_agent(concat!("tessera/", env!("CARGO_PKG_VERSION")))
            // A platform's redirect is an answer to report, not a place to send tokens to.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(timeout)
            .build();
        let http = match full {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::error!(error = %e, "could not build the platform HTTP client; retrying with plain settings");
                reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .timeout(timeout)
                    .build()
                    .map_err(|e| {
                        tracing::error!(error = %e, "could not build any platform HTTP client; platform calls will fail");
                    })
                    .ok()
            }
        };
        Self { http }
    }

    /// Where to send the user to authorize the app. `code_challenge` is used only where the
    /// platform takes PKCE (`cfg.pkce` is not `No`).
    pub fn authorize_url(
        cfg: &ProviderConfig,
        client_id: &str,
        redirect_uri: &str,
        state: &str,
        code_challenge: Option<&str>,
    ) -> String {
        let scope = cfg.scopes.join(" ");
        let mut params: Vec<(&str, &str)> = vec![
            ("client_id", client_id),
            ("redirect_uri", redirect_uri),
            ("response_type", "code"),
            ("scope", &scope),
            ("state", state),
        ];
        if let Some(c) = code_challenge.filter(|_| cfg.pkce != Pkce::No) {
            params.push(("code_challenge", c));
            params.push(("code_challenge_method", "S256"));
        }
        if cfg.platform == Platform::Youtube {
            // Without offline access and a forced consent Google issues no refresh token (or
            // only on the very first consent).
            params.push(("access_type", "offline"));
            params.push(("prompt", "consent"));
            params.push(("include_granted_scopes", "true"));
        }
        match url::Url::parse(&cfg.authorize_url) {
            Ok(mut u) => {
                u.query_pairs_mut().extend_pairs(params);
                u.into()
            }
            // The URLs are checked at start-up; should one still not parse, append the query
            // as text so the caller gets the configured address back rather than nothing.
            Err(_) => {
                let q = url::form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(params)
                    .finish();
                let sep = if cfg.authorize_url.contains('?') {
                    '&'
                } else {
                    '?'
                };
                format!("{}{sep}{q}", cfg.authorize_url)
            }
        }
    }

    /// Exchanges an authorization code for tokens.
    pub async fn exchange_code(
        &self,
        cfg: &ProviderConfig,
        creds: &AppCredentials,
        code: &str,
        redirect_uri: &str,
        code_verifier: Option<&str>,
    ) -> Result<TokenSet, PlatformError> {
        let http = self.http(cfg.platform)?;
        let req = match cfg.platform {
            Platform::Trovo => trovo_post(http, &cfg.token_url, creds).json(&json!({
                "client_secret": creds.client_secret.expose_secret(),
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
            })),
            Platform::Twitch | Platform::Youtube | Platform::Kick => {
                let mut form = vec![
                    ("client_id", creds.client_id.as_str()),
                    ("client_secret", creds.client_secret.expose_secret()),
                    ("code", code),
                    ("grant_type", "authorization_code"),
                    ("redirect_uri", redirect_uri),
                ];
                if let Some(v) = code_verifier.filter(|_| cfg.pkce != Pkce::No) {
                    form.push(("code_verifier", v));
                }
                http.post(&cfg.token_url)
                    .header(reqwest::header::ACCEPT, "application/json")
                    .form(&form)
            }
        };
        let a = send(cfg.platform, req).await?;
        token_answer(cfg.platform, Op::Code, &a)
    }

    /// Exchanges a refresh token for a new access token (and, where the platform rotates
    /// them, a new refresh token: the old one then stops working).
    pub async fn refresh(
        &self,
        cfg: &ProviderConfig,
        creds: &AppCredentials,
        refresh_token: &str,
    ) -> Result<TokenSet, PlatformError> {
        let http = self.http(cfg.platform)?;
        let req = match cfg.platform {
            Platform::Trovo => trovo_post(http, &cfg.refresh_url, creds).json(&json!({
                "client_secret": creds.client_secret.expose_secret(),
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
            })),
            Platform::Twitch | Platform::Youtube | Platform::Kick => http
                .post(&cfg.refresh_url)
                .header(reqwest::header::ACCEPT, "application/json")
                .form(&[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", refresh_token),
                    ("client_id", creds.client_id.as_str()),
                    ("client_secret", creds.client_secret.expose_secret()),
                ]),
        };
        let a = send(cfg.platform, req).await?;
        token_answer(cfg.platform, Op::Refresh, &a)
    }

    /// Revokes a token. Without a revocation endpoint there is nothing to call. A token the
    /// platform says is already invalid counts as revoked: it can no longer be used either way.
    pub async fn revoke(
        &self,
        cfg: &ProviderConfig,
        creds: &AppCredentials,
        token: &str,
    ) -> Result<(), PlatformError> {
        let Some(revoke_url) = &cfg.revoke_url else {
            return Ok(());
        };
        let http = self.http(cfg.platform)?;
        let req = match cfg.platform {
            Platform::Twitch => http
                .post(revoke_url)
                .form(&[("client_id", creds.client_id.as_str()), ("token", token)]),
            Platform::Youtube => http.post(revoke_url).form(&[("token", token)]),
            Platform::Kick => {
                // Kick takes the token in the query string of a POST.
                let url = with_query(
                    revoke_url,
                    &[("token", token), ("token_hint_type", "access_token")],
                );
                http.post(url)
                    .header(
                        reqwest::header::CONTENT_TYPE,
                        "application/x-www-form-urlencoded",
                    )
                    .body("")
            }
            Platform::Trovo => {
                trovo_post(http, revoke_url, creds).json(&json!({ "access_token": token }))
            }
        };
        let a = send(cfg.platform, req).await?;
        if a.status.is_success() || already_invalid(&a) {
            return Ok(());
        }
        Err(classify(cfg.platform, Op::Revoke, &a))
    }

    /// The channel an access token speaks for.
    pub async fn identity(
        &self,
        cfg: &ProviderConfig,
        creds: &AppCredentials,
        access_token: &str,
    ) -> Result<Identity, PlatformError> {
        let http = self.http(cfg.platform)?;
        let api = cfg.api_url.trim_end_matches('/');
        let req = match cfg.platform {
            Platform::Twitch => http
                .get(format!("{api}/users"))
                .bearer_auth(access_token)
                .header("Client-Id", &creds.client_id),
            Platform::Youtube => http
                .get(format!("{api}/channels"))
                .query(&[("part", "snippet"), ("mine", "true")])
                .bearer_auth(access_token),
            Platform::Kick => http
                .get(format!("{api}/channels"))
                .bearer_auth(access_token),
            Platform::Trovo => http
                .get(format!("{api}/getuserinfo"))
                .header(reqwest::header::ACCEPT, "application/json")
                .header("Client-ID", &creds.client_id)
                .header(
                    reqwest::header::AUTHORIZATION,
                    format!("OAuth {access_token}"),
                ),
        };
        let a = send(cfg.platform, req).await?;
        if !a.status.is_success() {
            return Err(classify(cfg.platform, Op::Identity, &a));
        }
        read_identity(cfg.platform, &a.body)
    }

    /// Checks an access token (Twitch requires apps to do so hourly). Without a validation
    /// endpoint the token is taken as valid.
    pub async fn validate(
        &self,
        cfg: &ProviderConfig,
        access_token: &str,
    ) -> Result<Validation, PlatformError> {
        let Some(validate_url) = &cfg.validate_url else {
            return Ok(Validation::Valid { expires_in: None });
        };
        let http = self.http(cfg.platform)?;
        let req = http.get(validate_url).header(
            reqwest::header::AUTHORIZATION,
            format!("OAuth {access_token}"),
        );
        let a = send(cfg.platform, req).await?;
        if a.status.is_success() {
            return Ok(Validation::Valid {
                expires_in: a.body.get("expires_in").and_then(as_i64),
            });
        }
        if a.status == StatusCode::UNAUTHORIZED {
            return Ok(Validation::Invalid);
        }
        Err(classify(cfg.platform, Op::Validate, &a))
    }

    fn http(&self, p: Platform) -> Result<&reqwest::Client, PlatformError> {
        self.http.as_ref().ok_or_else(|| {
            PlatformError::Unavailable(format!(
                "Tessera could not set up its HTTP client to call {}; see the server log",
                p.display_name()
            ))
        })
    }
}
