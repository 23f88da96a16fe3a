//! The interactive flow: the authorization endpoint (RFC 6749 §4.1, PKCE RFC 7636, OIDC Core
//! §3.1.2), login and consent, authorization codes and their redemption at the token
//! endpoint, id_tokens (OIDC Core §2, §3.1.3.7) and userinfo (§5.3).
//!
//! Rules kept here (RFC 9700): an unknown client or unregistered redirect URI gets an error
//! page, never a redirect; redirect URIs match exactly; PKCE is S256 only and required for
//! public clients and clients that ask for it; codes are single-use, live 60 seconds, are bound
//! to client, redirect URI and verifier, and a second redemption revokes what the first
//! issued; every authorization response carries `iss` (RFC 9207).

use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use subtle::ConstantTimeEq;
use tessera_crypto::jws::Alg;
use tessera_crypto::random::random_bytes;
use tessera_domain::client::{GrantType, OAuthClient};
use tessera_domain::clock::to_millis;
use tessera_domain::{AuditAction, OrgId, Organization, Principal, Timestamp, UserId, Username};
use tessera_store::{AuthCode, LoginSession, PendingRequest};

use crate::cache::CHANGE_REVOKED;
use crate::tokens::{ClientAuth, OAuthError, OAuthResult, TokenResponse};
use crate::{Context, CoreResult, Services};

/// The authentication context class of a sign-in with a password (OIDC Core §2 `acr`): the
/// one level Tessera offers, listed in discovery's `acr_values_supported`.
pub const ACR_PASSWORD: &str = "1";

/// How long an authorization code lives (RFC 9700 §4.1.2 asks for short).
pub const CODE_LIFETIME_SECONDS: i64 = 60;
/// How long a login session lasts.
pub const SESSION_LIFETIME_SECONDS: i64 = 12 * 3600;
/// How long a pending authorization request waits for login or consent.
const PENDING_LIFETIME_SECONDS: i64 = 15 * 60;

opaque_debug!(NewSession);

/// A failure of the server's own (the database, mostly): the user sees `message`, the log
/// gets the cause.
pub(crate) fn server_page(e: impl std::fmt::Display, message: &str) -> AuthorizeError {
    tracing::error!(error = %e, "{message}");
    AuthorizeError::Page(message.to_owned())
}

/// A validated authorization request, kept while the user logs in or decides.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuthRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub prompt: Vec<String>,
    pub max_age: Option<i64>,
    pub login_hint: Option<String>,
    /// Set when the sign-in is for the device page (RFC 8628): the user code to go back to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_user_code: Option<String>,
    /// The `claims` parameter (OIDC Core §5.5), when the request had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims: Option<tessera_domain::claims::ClaimsRequest>,
    /// How the response goes back (`query` unless the request said `form_post`).
    #[serde(default)]
    pub response_mode: ResponseMode,
}

/// How the authorization response travels to the client (OAuth 2.0 Multiple Response Type
/// Encoding Practices §2.1; OAuth 2.0 Form Post Response Mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseMode {
    /// In the redirect URI's query (the default of `response_type=code`).
    #[default]
    Query,
    /// As a form the browser posts to the redirect URI.
    FormPost,
}

impl ResponseMode {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "query" => Some(Self::Query),
            "form_post" => Some(Self::FormPost),
            _ => None,
        }
    }
}

/// An authorization response (a code, or an error) for the client at its redirect URI.
#[derive(Debug, Clone)]
pub struct ClientResponse {
    pub redirect_uri: String,
    pub params: Vec<(String, String)>,
    pub mode: ResponseMode,
}

impl ClientResponse {
    /// The redirect URI with the parameters added to its query (the `query` mode).
    pub fn location(&self) -> String {
        let p: Vec<(&str, &str)> = self
            .params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        add_params(&self.redirect_uri, &p)
    }
}

/// Why an authorization request cannot go on.
#[derive(Debug)]
pub enum AuthorizeError {
    /// Shown to the user as an error page: the client or its redirect URI cannot be trusted,
    /// so nothing is sent anywhere.
    Page(String),
    /// Sent back to the client's redirect URI (RFC 6749 §4.1.2.1).
    Respond(ClientResponse),
    /// A form that this browser was not given (another browser's token, a cross-site post,
    /// or no browser cookie): refused, with a link that starts the same request again in
    /// this browser.
    Restart { message: String, url: String },
}

/// What the user sees next.
#[derive(Debug)]
pub enum Next {
    /// Back to the client with a code or an error.
    Respond(ClientResponse),
    /// Go to this page of Tessera's (the device page after signing in).
    Redirect(String),
    Login {
        request_id: String,
        csrf: String,
        client_name: String,
        error: Option<String>,
        username: Option<String>,
    },
    Consent {
        request_id: String,
        csrf: String,
        client_name: String,
        scopes: Vec<String>,
    },
}

/// A posted form of the sign-in pages: its CSRF token, and the browser binding it came with
/// (`None` for a post from another site, or from a browser that has none).
#[derive(Debug, Clone, Copy)]
pub struct PostedForm<'a> {
    pub csrf: &'a str,
    pub browser: Option<&'a str>,
}

/// A session cookie to set: its value is the only copy of the session handle.
pub struct NewSession {
    pub value: String,
    pub max_age: i64,
}

fn add_params(uri: &str, params: &[(&str, &str)]) -> String {
    let mut out = uri.to_owned();
    let mut sep = if uri.contains('?') { '&' } else { '?' };
    for (k, v) in params {
        out.push(sep);
        sep = '&';
        out.push_str(k);
        out.push('=');
        out.extend(url::form_urlencoded::byte_serialize(v.as_bytes()));
    }
    out
}

/// OIDC Core §3.1.3.6: `at_hash` (and `c_hash`) is the base64url left half of the hash that
/// the id_token's algorithm uses: SHA-256 for RS256 and ES256, and for EdDSA with Ed25519 the
/// left half of SHA-512 (the OpenID Connect working group's resolution for Ed25519, which
/// Authlib, oauth4webapi, openidconnect-rs and zitadel/oidc follow).
pub(crate) fn half_hash(alg: Alg, value: &str) -> String {
    let d = match alg {
        Alg::EdDSA => aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA512, value.as_bytes()),
        Alg::RS256 | Alg::ES256 => {
            aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, value.as_bytes())
        }
    };
    let bytes = d.as_ref();
    URL_SAFE_NO_PAD.encode(&bytes[..bytes.len() / 2])
}

/// `BASE64URL(SHA-256(verifier))` (RFC 7636 §4.2, S256).
fn s256(verifier: &str) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
    URL_SAFE_NO_PAD.encode(d.as_ref())
}

fn valid_verifier(v: &str) -> bool {
    (43..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

impl Services {
    pub(crate) fn random_jti(&self) -> Result<String, OAuthError> {
        let b: [u8; 16] =
            random_bytes(self.rng.as_ref()).map_err(|e| OAuthError::ServerError(e.to_string()))?;
        Ok(URL_SAFE_NO_PAD.encode(b))
    }

    pub(crate) fn random_handle(&self) -> Result<String, OAuthError> {
        let b: [u8; 32] =
            random_bytes(self.rng.as_ref()).map_err(|e| OAuthError::ServerError(e.to_string()))?;
        Ok(URL_SAFE_NO_PAD.encode(b))
    }

    fn error_response(
        &self,
        org: &Organization,
        req_uri: &str,
        state: Option<&str>,
        mode: ResponseMode,
        error: &str,
        description: &str,
    ) -> ClientResponse {
        let iss = self.issuer(&org.slug);
        // RFC 6749 §4.1.2.1: error_description is %x20-21 / %x23-5B / %x5D-7E.
        let description: String = description
            .chars()
            .map(|c| match c {
                '"' => '\'',
                '\\' => '/',
                c if (' '..='~').contains(&c) => c,
                _ => '?',
            })
            .collect();
        let mut params = vec![
            ("error".to_owned(), error.to_owned()),
            ("error_description".to_owned(), description),
        ];
        if let Some(s) = state {
            params.push(("state".to_owned(), s.to_owned()));
        }
        params.push(("iss".to_owned(), iss));
        ClientResponse {
            redirect_uri: req_uri.to_owned(),
            params,
            mode,
        }
    }

    /// An error for the client of `req`, sent as `req` asked.
    fn error_for(
        &self,
        org: &Organization,
        req: &AuthRequest,
        error: &str,
        description: &str,
    ) -> AuthorizeError {
        AuthorizeError::Respond(self.error_response(
            org,
            &req.redirect_uri,
            req.state.as_deref(),
            req.response_mode,
            error,
            description,
        ))
    }

    /// Where a refused form starts its request again in this browser: the authorization
    /// endpoint with the request's own parameters (or the device page with its code).
    fn restart_url(&self, org: &Organization, req: &AuthRequest) -> String {
        if let Some(code) = &req.device_user_code {
            return self.device_page(&org.slug, Some(code));
        }
        let scope = req.scopes.join(" ");
        let prompt = req.prompt.join(" ");
        let max_age = req.max_age.map(|m| m.to_string());
        let claims = req.claims.as_ref().map(|c| {
            let target = |names: &[String]| -> Value {
                Value::Object(names.iter().map(|n| (n.clone(), Value::Null)).collect())
            };
            json!({"userinfo": target(&c.userinfo), "id_token": target(&c.id_token)}).to_string()
        });
        let mut p: Vec<(&str, &str)> = vec![
            ("response_type", "code"),
            ("client_id", &req.client_id),
            ("redirect_uri", &req.redirect_uri),
        ];
        let optional = [
            ("scope", Some(scope.as_str()).filter(|s| !s.is_empty())),
            ("state", req.state.as_deref()),
            ("nonce", req.nonce.as_deref()),
            ("code_challenge", req.code_challenge.as_deref()),
            (
                "code_challenge_method",
                req.code_challenge.as_ref().map(|_| "S256"),
            ),
            ("prompt", Some(prompt.as_str()).filter(|s| !s.is_empty())),
            ("max_age", max_age.as_deref()),
            ("login_hint", req.login_hint.as_deref()),
            ("claims", claims.as_deref()),
            (
                "response_mode",
                (req.response_mode == ResponseMode::FormPost).then_some("form_post"),
            ),
        ];
        for (k, v) in optional {
            if let Some(v) = v {
                p.push((k, v));
            }
        }
        add_params(
            &format!("{}/api/v1/oauth/authorize", self.issuer(&org.slug)),
            &p,
        )
    }

    /// The current login session of the cookie, if it is alive.
    pub(crate) async fn live_session(
        &self,
        org: OrgId,
        cookie: Option<&str>,
    ) -> OAuthResult<Option<LoginSession>> {
        let Some(c) = cookie else { return Ok(None) };
        let hash = self.handle_hash.hash(c);
        let s = {
            let mut tx = self.store.read().await?;
            tx.find_session(org, &hash).await?
        };
        let now = self.now();
        Ok(s.filter(|s| s.ended_at.is_none() && s.expires_at > now))
    }

    /// `GET/POST …/oauth/authorize`.
    ///
    /// `browser` is this browser's binding cookie: the CSRF token of any form shown is bound
    /// to it, so that the form can be posted only from the browser it was shown in.
    pub async fn authorize(
        self: &Arc<Self>,
        org_slug: &str,
        params: &[(String, String)],
        cookie: Option<&str>,
        browser: &str,
    ) -> Result<Next, AuthorizeError> {
        let page = |m: &str| AuthorizeError::Page(m.to_owned());
        let org = self
            .protocol_org(org_slug)
            .await
            .map_err(|_| page("This organization does not exist."))?;
        let get = |k: &str| {
            params
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.as_str())
                .filter(|v| !v.is_empty())
        };
        match crate::params::check_unique(params) {
            Ok(()) => {}
            Err(crate::params::ParamError::Repeated(k)) => {
                return Err(page(&format!("The parameter '{k}' is repeated.")))
            }
            Err(crate::params::ParamError::TooMany) => {
                return Err(page("The request has too many parameters."))
            }
        }
        let client_id = get("client_id").ok_or_else(|| page("The request has no client_id."))?;
        let cached = self
            .cached_client(org.id, client_id)
            .await
            .map_err(|e| server_page(e, "The server could not look up the client."))?
            .ok_or_else(|| page("The client is not known."))?;
        let client = &cached.client;
        if !client.settings.is_active {
            return Err(page("The client is disabled."));
        }
        // OIDC Core §6, RFC 9101: a request object's parameters supersede the query's. When it
        // is refused, the error goes where the query alone says, if that can be trusted.
        let (merged, object_error) = match self.resolve_request_object(&org, client, params).await {
            Ok(Some(m)) => (Some(m), None),
            Ok(None) => (None, None),
            Err(e) => (None, Some(e)),
        };
        let params: &[(String, String)] = merged.as_deref().unwrap_or(params);
        let get = |k: &str| {
            params
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.as_str())
                .filter(|v| !v.is_empty())
        };
        let object_page = |m: &str| match &object_error {
            Some(e) => page(&format!(
                "The request object was refused: {}. {m}",
                e.description
            )),
            None => page(m),
        };
        // Exact matching; the port of a loopback redirect may vary (RFC 8252 §7.3).
        let redirect_uri = match get("redirect_uri") {
            Some(r) => {
                if !client.settings.redirect_uris.iter().any(|u| u.matches(r)) {
                    return Err(object_page(
                        "The redirect_uri is not registered for this client.",
                    ));
                }
                r.to_owned()
            }
            None if client.settings.redirect_uris.len() == 1 => {
                client.settings.redirect_uris[0].as_str().to_owned()
            }
            None => return Err(object_page("The request needs a redirect_uri.")),
        };
        let state = get("state").map(str::to_owned);
        // The response mode first, so that every later error travels as asked; an unknown
        // one is refused (in the query), never ignored. A refused request object's own mode
        // is still followed when the query names none (the conformance suite's form_post plan
        // puts `response_mode` only inside): only the mode is read from it, unverified, and
        // the address is the registered one checked above either way.
        let object_mode = object_error
            .as_ref()
            .and_then(|_| get("request"))
            .and_then(request_object_mode);
        let response_mode = match get("response_mode").or(object_mode.as_deref()) {
            None => Ok(ResponseMode::Query),
            Some(m) => ResponseMode::parse(m).ok_or(m.to_owned()),
        };
        let mode = response_mode.clone().unwrap_or_default();
        let redirect_err = |error: &str, description: &str| {
            AuthorizeError::Respond(self.error_response(
                &org,
                &redirect_uri,
                state.as_deref(),
                mode,
                error,
                description,
            ))
        };
        if let Err(m) = response_mode {
            return Err(redirect_err(
                "invalid_request",
                &format!("unsupported response_mode '{m}': use query or form_post"),
            ));
        }
        if let Some(e) = &object_error {
            return Err(redirect_err(e.error, &e.description));
        }
        match get("response_type") {
            Some("code") => {}
            Some(_) => {
                return Err(redirect_err(
                    "unsupported_response_type",
                    "only response_type=code is supported",
                ))
            }
            None => return Err(redirect_err("invalid_request", "response_type is required")),
        }
        if !client
            .settings
            .grant_types
            .contains(&GrantType::AuthorizationCode)
        {
            return Err(redirect_err(
                "unauthorized_client",
                "the client may not use the authorization code grant",
            ));
        }
        let code_challenge = match (get("code_challenge"), get("code_challenge_method")) {
            (Some(c), Some("S256")) => {
                if c.len() != 43 || URL_SAFE_NO_PAD.decode(c).is_err() {
                    return Err(redirect_err(
                        "invalid_request",
                        "code_challenge must be a base64url SHA-256 (43 characters)",
                    ));
                }
                Some(c.to_owned())
            }
            (Some(_), _) => {
                return Err(redirect_err(
                    "invalid_request",
                    "code_challenge_method must be S256",
                ))
            }
            (None, Some(_)) => {
                return Err(redirect_err(
                    "invalid_request",
                    "code_challenge is required with code_challenge_method",
                ))
            }
            (None, None) => None,
        };
        if code_challenge.is_none()
            && (client.settings.require_pkce || !client.settings.is_confidential)
        {
            return Err(redirect_err(
                "invalid_request",
                "PKCE is required: send code_challenge with code_challenge_method=S256",
            ));
        }
        let allowed: Vec<&str> = client
            .settings
            .allowed_scopes
            .iter()
            .map(|s| s.as_str())
            .collect();
        let mut scopes: Vec<String> = vec![];
        for s in get("scope")
            .unwrap_or("")
            .split(' ')
            .filter(|s| !s.is_empty())
        {
            if !allowed.contains(&s) {
                return Err(redirect_err(
                    "invalid_scope",
                    &format!("scope '{s}' is not allowed for this client"),
                ));
            }
            if !scopes.iter().any(|x| x == s) {
                scopes.push(s.to_owned());
            }
        }
        let prompt: Vec<String> = get("prompt")
            .unwrap_or("")
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        if prompt.iter().any(|p| p == "none") && prompt.len() > 1 {
            return Err(redirect_err(
                "invalid_request",
                "prompt=none cannot be combined with other values",
            ));
        }
        let max_age = match get("max_age") {
            Some(m) => Some(m.parse::<i64>().ok().filter(|m| *m >= 0).ok_or_else(|| {
                redirect_err("invalid_request", "max_age must be a non-negative integer")
            })?),
            None => None,
        };
        let claims = match get("claims") {
            Some(raw) => match tessera_domain::claims::ClaimsRequest::parse(raw) {
                Ok(c) => (!c.is_empty()).then_some(c),
                Err(e) => {
                    return Err(redirect_err(
                        "invalid_request",
                        &format!("{} {}", e.field, e.message),
                    ))
                }
            },
            None => None,
        };
        let req = AuthRequest {
            client_id: client.id.to_string(),
            redirect_uri: redirect_uri.clone(),
            scopes,
            state: state.clone(),
            nonce: get("nonce").map(str::to_owned),
            code_challenge,
            prompt,
            max_age,
            login_hint: get("login_hint").map(str::to_owned),
            device_user_code: None,
            claims,
            response_mode: mode,
        };
        let session = self
            .live_session(org.id, cookie)
            .await
            .map_err(|e| server_page(e, "The server could not read the session."))?;
        let now = self.now();
        let fresh_enough = |s: &LoginSession| match req.max_age {
            Some(m) => (now - s.auth_time).whole_seconds() <= m,
            None => true,
        };
        let wants_login = req.prompt.iter().any(|p| p == "login");
        match session {
            Some(s) if fresh_enough(&s) && !wants_login => {
                self.after_login(&org, client, req, s.user_id, s.auth_time, browser, None)
                    .await
            }
            _ => {
                if req.prompt.iter().any(|p| p == "none") {
                    return Err(redirect_err("login_required", "the user is not logged in"));
                }
                let (request_id, csrf) = self
                    .save_pending(&org, &req, browser, None)
                    .await
                    .map_err(|e| server_page(e, "The server could not save the request."))?;
                Ok(Next::Login {
                    request_id,
                    csrf,
                    client_name: client.settings.name.clone(),
                    error: None,
                    username: req.login_hint.clone(),
                })
            }
        }
    }

    /// Saves a request that waits for the user; its id, and the CSRF token of its forms in
    /// this browser. `id` is an already saved request (id and token) to go on with.
    pub(crate) async fn save_pending(
        &self,
        org: &Organization,
        req: &AuthRequest,
        browser: &str,
        id: Option<(String, String)>,
    ) -> OAuthResult<(String, String)> {
        if let Some(existing) = id {
            return Ok(existing);
        }
        let id = self.random_handle()?;
        let csrf = self.random_handle()?;
        let now = self.now();
        let mut tx = self.store.begin().await?;
        tx.insert_pending(&PendingRequest {
            id: id.clone(),
            org_id: org.id,
            params: serde_json::to_string(req)
                .map_err(|e| OAuthError::ServerError(e.to_string()))?,
            csrf: csrf.clone(),
            created_at: now,
            expires_at: now + time::Duration::seconds(PENDING_LIFETIME_SECONDS),
        })
        .await?;
        tx.commit().await?;
        let token = self.form_token(browser, &csrf);
        Ok((id, token))
    }

    /// The CSRF token of a form in one browser: a keyed hash of the browser's binding cookie
    /// and the form's own secret, so a token copied from another browser (or made up on
    /// another site) never verifies, and nothing more is stored per browser.
    pub(crate) fn form_token(&self, browser: &str, secret: &str) -> String {
        self.handle_hash.hash(&format!("form:{browser}:{secret}"))
    }

    /// Whether `presented` is the token of the form `secret` in `browser`.
    pub(crate) fn form_token_ok(
        &self,
        browser: Option<&str>,
        secret: &str,
        presented: &str,
    ) -> bool {
        match browser.filter(|b| !b.is_empty()) {
            Some(b) => bool::from(
                self.form_token(b, secret)
                    .as_bytes()
                    .ct_eq(presented.as_bytes()),
            ),
            None => false,
        }
    }

    /// A new browser binding value (256 random bits), for a browser that has none yet.
    pub fn new_browser_binding(&self) -> Result<String, OAuthError> {
        self.random_handle()
    }

    /// Consent, then the code; `pending` is the saved request when there is one.
    #[allow(clippy::too_many_arguments)]
    async fn after_login(
        &self,
        org: &Organization,
        client: &OAuthClient,
        req: AuthRequest,
        user: UserId,
        auth_time: Timestamp,
        browser: &str,
        pending: Option<(String, String)>,
    ) -> Result<Next, AuthorizeError> {
        let needs_consent = if client.settings.require_consent {
            let stored = {
                let mut tx = self
                    .store
                    .read()
                    .await
                    .map_err(|e| server_page(e, "The server could not read consent."))?;
                tx.find_consent(org.id, user, client.id.as_str())
                    .await
                    .map_err(|e| server_page(e, "The server could not read consent."))?
            };
            let covered = stored.is_some_and(|s| req.scopes.iter().all(|x| s.contains(x)));
            !covered || req.prompt.iter().any(|p| p == "consent")
        } else {
            false
        };
        if needs_consent {
            if req.prompt.iter().any(|p| p == "none") {
                return Err(self.error_for(
                    org,
                    &req,
                    "consent_required",
                    "the user has not consented",
                ));
            }
            let (request_id, csrf) = self
                .save_pending(org, &req, browser, pending)
                .await
                .map_err(|e| server_page(e, "The server could not save the request."))?;
            return Ok(Next::Consent {
                request_id,
                csrf,
                client_name: client.settings.name.clone(),
                scopes: req.scopes.clone(),
            });
        }
        let response = self
            .issue_code(org, &req, user, auth_time, pending.map(|p| p.0))
            .await
            .map_err(|e| server_page(e, "The server could not issue a code."))?;
        Ok(Next::Respond(response))
    }

    async fn issue_code(
        &self,
        org: &Organization,
        req: &AuthRequest,
        user: UserId,
        auth_time: Timestamp,
        pending: Option<String>,
    ) -> OAuthResult<ClientResponse> {
        let code = self.random_handle()?;
        let now = self.now();
        let mut tx = self.store.begin().await?;
        tx.insert_code(&AuthCode {
            code_hash: self.handle_hash.hash(&code),
            org_id: org.id,
            client_id: req.client_id.clone(),
            user_id: user,
            redirect_uri: req.redirect_uri.clone(),
            scope: req.scopes.join(" "),
            nonce: req.nonce.clone(),
            code_challenge: req.code_challenge.clone(),
            auth_time,
            created_at: now,
            expires_at: now + time::Duration::seconds(CODE_LIFETIME_SECONDS),
            redeemed_at: None,
            access_jti: None,
            access_expires: None,
            claims: req.claims.clone(),
        })
        .await?;
        if let Some(p) = pending {
            tx.delete_pending(org.id, &p).await?;
        }
        tx.commit().await?;
        // RFC 9207: `iss` in every authorization response.
        let mut params = vec![("code".to_owned(), code)];
        if let Some(s) = &req.state {
            params.push(("state".to_owned(), s.clone()));
        }
        params.push(("iss".to_owned(), self.issuer(&org.slug)));
        Ok(ClientResponse {
            redirect_uri: req.redirect_uri.clone(),
            params,
            mode: req.response_mode,
        })
    }

    /// The saved request of a posted form, if the form's token belongs to this browser.
    async fn load_pending(
        &self,
        org: &Organization,
        request_id: &str,
        csrf: &str,
        browser: Option<&str>,
    ) -> Result<(AuthRequest, Arc<crate::cache::CachedClient>), AuthorizeError> {
        let page = |m: &str| AuthorizeError::Page(m.to_owned());
        let p = {
            let mut tx = self
                .store
                .read()
                .await
                .map_err(|e| server_page(e, "The server could not read the request."))?;
            tx.find_pending(org.id, request_id)
                .await
                .map_err(|e| server_page(e, "The server could not read the request."))?
        }
        .filter(|p| p.expires_at > self.now())
        .ok_or_else(|| {
            page("This sign-in request has expired. Start again from the application.")
        })?;
        let req: AuthRequest =
            serde_json::from_str(&p.params).map_err(|_| page("The request is corrupt."))?;
        if !self.form_token_ok(browser, &p.csrf, csrf) {
            return Err(AuthorizeError::Restart {
                message: "This form was not opened in this browser, or was sent from another \
                          site, so it was refused. Start the sign-in again here."
                    .into(),
                url: self.restart_url(org, &req),
            });
        }
        let client = self
            .cached_client(org.id, &req.client_id)
            .await
            .map_err(|e| server_page(e, "The server could not look up the client."))?
            .filter(|c| c.client.settings.is_active)
            .ok_or_else(|| page("The client is no longer available."))?;
        Ok((req, client))
    }

    /// Who a sign-in is audited as: the user, from their address.
    pub(crate) fn signing_in(
        org: &Organization,
        user: &tessera_store::UserRecord,
        address: Option<&str>,
    ) -> Context {
        Context {
            principal: Principal::end_user(org.id, user.user.id, user.user.username.as_str()),
            ip: address.map(str::to_owned),
            request_id: None,
        }
    }

    /// The active user whose password this is, or `None`. The same slow hash runs whether or
    /// not the user exists, so timing tells nothing. A failure against an existing user is
    /// audited (`method`: how they tried); a name that matches nobody is not recorded, as it
    /// may be a password typed into the wrong field.
    pub(crate) async fn check_password(
        &self,
        org: &Organization,
        client: &OAuthClient,
        username: &str,
        password: &str,
        address: Option<&str>,
        method: &str,
    ) -> CoreResult<Option<tessera_store::UserRecord>> {
        let user = match Username::parse(username) {
            Ok(u) => {
                let mut tx = self.store.read().await?;
                tx.find_user_by_username(org.id, &u).await?
            }
            Err(_) => None,
        };
        let phc = match user.as_ref().and_then(|u| u.password_hash.clone()) {
            Some(h) => h,
            None => self.dummy_hash().await?,
        };
        let ok = self.verify_password(password, &phc).await;
        match user {
            Some(u) if ok && u.user.is_active && u.password_hash.is_some() => Ok(Some(u)),
            Some(u) => {
                let reason = if u.user.is_active {
                    "wrong password"
                } else {
                    "user disabled"
                };
                let mut tx = self.store.begin().await?;
                self.login_event(
                    tx.as_mut(),
                    &Self::signing_in(org, &u, address),
                    org.id,
                    &u,
                    AuditAction::UserLoginFailed,
                    client,
                    method,
                    Some(reason),
                )
                .await?;
                tx.commit().await?;
                Ok(None)
            }
            None => Ok(None),
        }
    }

    /// Audits a sign-in (or a failed one) to `client` by `user`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn login_event(
        &self,
        tx: &mut dyn tessera_store::Tx,
        ctx: &Context,
        org: OrgId,
        user: &tessera_store::UserRecord,
        action: AuditAction,
        client: &OAuthClient,
        method: &str,
        reason: Option<&str>,
    ) -> CoreResult<()> {
        let mut after = json!({"clientId": client.id.as_str(), "method": method});
        if let Some(r) = reason {
            after["reason"] = json!(r);
        }
        self.audit(
            tx,
            ctx,
            Some(org),
            action,
            "user",
            Some(user.user.id.to_string()),
            None,
            Some(after),
        )
        .await
    }

    /// `POST /orgs/{org}/login`: checks the password, starts a session, goes on with the flow.
    pub async fn login(
        self: &Arc<Self>,
        org_slug: &str,
        request_id: &str,
        form: PostedForm<'_>,
        username: &str,
        password: &str,
        address: Option<&str>,
    ) -> Result<(Next, Option<NewSession>), AuthorizeError> {
        let PostedForm { csrf, browser } = form;
        let page = |m: &str| AuthorizeError::Page(m.to_owned());
        let org = self
            .protocol_org(org_slug)
            .await
            .map_err(|_| page("This organization does not exist."))?;
        let (req, client) = self.load_pending(&org, request_id, csrf, browser).await?;
        let browser = browser.unwrap_or_default();
        let retry = |error: &str| Next::Login {
            request_id: request_id.to_owned(),
            csrf: csrf.to_owned(),
            client_name: client.client.settings.name.clone(),
            error: Some(error.to_owned()),
            username: Some(username.to_owned()),
        };
        if !self.limits.allow_login(org.id, username, address) {
            return Ok((
                retry("Too many sign-in attempts. Wait a minute and try again."),
                None,
            ));
        }
        let user = match self
            .check_password(
                &org,
                &client.client,
                username,
                password,
                address,
                "password",
            )
            .await
        {
            Ok(Some(u)) => u,
            Ok(None) => {
                self.limits.login_failed(org.id, username, address);
                return Ok((retry("Invalid username or password."), None));
            }
            Err(_) => return Err(page("The server could not check the password.")),
        };
        let audit_ctx = Self::signing_in(&org, &user, address);
        let value = self
            .random_handle()
            .map_err(|e| server_page(e, "The server could not start a session."))?;
        let now = self.now();
        let session = LoginSession {
            id_hash: self.handle_hash.hash(&value),
            org_id: org.id,
            user_id: user.user.id,
            auth_time: now,
            created_at: now,
            expires_at: now + time::Duration::seconds(SESSION_LIFETIME_SECONDS),
            ended_at: None,
        };
        {
            let mut tx = self
                .store
                .begin()
                .await
                .map_err(|e| server_page(e, "The server could not start a session."))?;
            tx.insert_session(&session)
                .await
                .map_err(|e| server_page(e, "The server could not start a session."))?;
            self.login_event(
                tx.as_mut(),
                &audit_ctx,
                org.id,
                &user,
                AuditAction::UserLoggedIn,
                &client.client,
                "password",
                None,
            )
            .await
            .map_err(|e| server_page(e, "The server could not start a session."))?;
            tx.commit()
                .await
                .map_err(|e| server_page(e, "The server could not start a session."))?;
        }
        let next = match &req.device_user_code {
            // Signed in for the device page: back to it, to confirm the code.
            Some(code) => {
                let mut tx = self
                    .store
                    .begin()
                    .await
                    .map_err(|e| server_page(e, "The server failed."))?;
                tx.delete_pending(org.id, request_id)
                    .await
                    .map_err(|e| server_page(e, "The server failed."))?;
                tx.commit()
                    .await
                    .map_err(|e| server_page(e, "The server failed."))?;
                Next::Redirect(self.device_page(&org.slug, Some(code)))
            }
            None => {
                self.after_login(
                    &org,
                    &client.client,
                    req,
                    user.user.id,
                    now,
                    browser,
                    Some((request_id.to_owned(), csrf.to_owned())),
                )
                .await?
            }
        };
        Ok((
            next,
            Some(NewSession {
                value,
                max_age: SESSION_LIFETIME_SECONDS,
            }),
        ))
    }

    /// `POST /orgs/{org}/consent`: `allow` remembers the consent and issues the code; `deny`
    /// sends `access_denied` back.
    pub async fn consent(
        self: &Arc<Self>,
        org_slug: &str,
        request_id: &str,
        form: PostedForm<'_>,
        allow: bool,
        cookie: Option<&str>,
    ) -> Result<Next, AuthorizeError> {
        let PostedForm { csrf, browser } = form;
        let page = |m: &str| AuthorizeError::Page(m.to_owned());
        let org = self
            .protocol_org(org_slug)
            .await
            .map_err(|_| page("This organization does not exist."))?;
        let (req, _client) = self.load_pending(&org, request_id, csrf, browser).await?;
        let session = self
            .live_session(org.id, cookie)
            .await
            .map_err(|e| server_page(e, "The server could not read the session."))?
            .ok_or_else(|| page("You are not signed in. Start again from the application."))?;
        if !allow {
            let mut tx = self
                .store
                .begin()
                .await
                .map_err(|e| server_page(e, "The server failed."))?;
            tx.delete_pending(org.id, request_id)
                .await
                .map_err(|e| server_page(e, "The server failed."))?;
            tx.commit()
                .await
                .map_err(|e| server_page(e, "The server failed."))?;
            return Err(self.error_for(&org, &req, "access_denied", "the user denied the request"));
        }
        {
            let mut tx = self
                .store
                .begin()
                .await
                .map_err(|e| server_page(e, "The server failed."))?;
            tx.upsert_consent(
                org.id,
                session.user_id,
                &req.client_id,
                &req.scopes,
                self.now(),
            )
            .await
            .map_err(|e| server_page(e, "The server failed."))?;
            tx.commit()
                .await
                .map_err(|e| server_page(e, "The server failed."))?;
        }
        let response = self
            .issue_code(
                &org,
                &req,
                session.user_id,
                session.auth_time,
                Some(request_id.to_owned()),
            )
            .await
            .map_err(|e| server_page(e, "The server could not issue a code."))?;
        Ok(Next::Respond(response))
    }

    /// `grant_type=authorization_code` (RFC 6749 §4.1.3, RFC 7636 §4.5).
    pub async fn authorization_code(
        self: &Arc<Self>,
        org_slug: &str,
        auth: &ClientAuth,
        code: &str,
        redirect_uri: Option<&str>,
        verifier: Option<&str>,
    ) -> OAuthResult<TokenResponse> {
        let org = self.protocol_org(org_slug).await?;
        let cached = self
            .grant_client(&org, auth, GrantType::AuthorizationCode)
            .await?;
        let client = &cached.client;
        let bad = |m: &str| OAuthError::InvalidGrant(m.to_owned());
        let hash = self.handle_hash.hash(code);
        let now = self.now();
        let jti = self.random_jti()?;
        let lifetime = client.settings.access_token_lifetime;
        let access_expires = now + time::Duration::seconds(lifetime);
        let mut tx = self.store.begin().await?;
        // One statement redeems the code and records the token about to be issued, so a
        // replay can revoke it (RFC 6749 §4.1.2).
        let found = match tx
            .redeem_code_for(org.id, &hash, now, &jti, access_expires)
            .await?
        {
            Some(code) => code,
            None => {
                let earlier = tx
                    .find_code(org.id, &hash)
                    .await?
                    .ok_or_else(|| bad("the code is not valid"))?;
                if earlier.client_id != client.id.as_str() {
                    return Err(bad("the code was issued to another client"));
                }
                if let (Some(j), Some(exp)) = (&earlier.access_jti, earlier.access_expires) {
                    if tx.revoke_token(org.id, j, exp, now).await? {
                        tx.record_change(Some(org.id), CHANGE_REVOKED, j, now)
                            .await?;
                    }
                    // And the refresh tokens that redemption started (their family is named
                    // after the access token's jti).
                    tx.revoke_refresh_family(org.id, j, now).await?;
                    tx.commit().await?;
                    self.caches.revoked.insert((org.id, j.clone()), true);
                }
                return Err(bad("the code has already been used"));
            }
        };
        // A failed check below rolls the redemption back with the transaction.
        if found.client_id != client.id.as_str() {
            return Err(bad("the code was issued to another client"));
        }
        if found.expires_at <= now {
            return Err(bad("the code has expired"));
        }
        if redirect_uri != Some(found.redirect_uri.as_str()) {
            return Err(bad("redirect_uri does not match the authorization request"));
        }
        match (&found.code_challenge, verifier) {
            (Some(challenge), Some(v)) => {
                if !valid_verifier(v) || !bool::from(s256(v).as_bytes().ct_eq(challenge.as_bytes()))
                {
                    return Err(bad("the code_verifier does not match the code_challenge"));
                }
            }
            (Some(_), None) => return Err(bad("code_verifier is required")),
            (None, Some(_)) => return Err(bad("the authorization request had no code_challenge")),
            (None, None) => {}
        }
        // A refresh token when the client may use the refresh_token grant, in the same write.
        let refresh_token = if client
            .settings
            .grant_types
            .contains(&GrantType::RefreshToken)
        {
            let (value, mut row) = self.refresh_record(org.id, client, granted(&found), None)?;
            // The family is named after the code's access token, so a replay of the code can
            // end it (RFC 6749 §4.1.2: revoke what the first redemption issued).
            row.family_id = jti.clone();
            tx.insert_refresh(&row).await?;
            Some(value)
        } else {
            None
        };
        tx.commit().await?;

        self.token_response(&org, client, granted(&found), refresh_token, &jti)
            .await
    }

    /// An id_token (OIDC Core §2), RS256 by default, with `at_hash` (§3.1.3.6), and the
    /// claims the authorization's claims request asked for in it (§5.5).
    pub(crate) async fn sign_id_token(
        &self,
        org: &Organization,
        issuer: &str,
        client: &OAuthClient,
        grant: crate::refresh::Grant<'_>,
        access_token: &str,
        lifetime: i64,
    ) -> OAuthResult<String> {
        let sub = grant.user.to_string();
        let (auth_time, nonce) = (grant.auth_time, grant.nonce);
        let alg = crate::tokens::signing_alg(client.settings.id_token_signed_response_alg);
        let at_hash = half_hash(alg, access_token);
        let now = to_millis(self.now()) / 1000;
        let mut claims = json!({
            "iss": issuer,
            "sub": sub,
            "aud": client.id.as_str(),
            "azp": client.id.as_str(),
            "iat": now,
            "exp": now + lifetime,
            "auth_time": to_millis(auth_time) / 1000,
            "at_hash": at_hash,
            // Every sign-in is with a password (RFC 8176 `pwd`), which is ACR "1".
            "acr": ACR_PASSWORD,
            "amr": ["pwd"],
        });
        if let Some(n) = nonce {
            claims["nonce"] = json!(n);
        }
        let asked: Vec<&String> = grant
            .claims
            .map(|c| {
                c.id_token
                    .iter()
                    .filter(|n| claims.get(n.as_str()).is_none())
                    .collect()
            })
            .unwrap_or_default();
        if !asked.is_empty() {
            let user = {
                let mut tx = self.store.read().await?;
                tx.find_user(org.id, grant.user).await?
            };
            if let Some(u) = user {
                for name in asked {
                    if let Some(v) = user_claim(&u.user, name) {
                        claims[name.as_str()] = v;
                    }
                }
            }
        }
        self.sign_with(org, alg, "JWT", claims).await
    }

    /// `GET/POST …/oauth/userinfo` (OIDC Core §5.3): claims by scope, as JSON or, for a
    /// client with `userinfoSignedResponseAlg`, as a JWT signed so with `iss` and `aud`
    /// (§5.3.2).
    pub async fn userinfo(&self, org_slug: &str, access_token: &str) -> OAuthResult<UserInfo> {
        let org = self.protocol_org(org_slug).await?;
        let (claims, client_id) = self.userinfo_claims(&org, access_token).await?;
        let alg = match self.cached_client(org.id, &client_id).await? {
            Some(c) => c.client.settings.userinfo_signed_response_alg,
            None => None,
        };
        let Some(alg) = alg else {
            return Ok(UserInfo::Json(claims));
        };
        let mut signed = claims;
        signed["iss"] = json!(self.issuer(&org.slug));
        signed["aud"] = json!(client_id);
        signed["iat"] = json!(to_millis(self.now()) / 1000);
        let jwt = self
            .sign_with(&org, crate::tokens::signing_alg(alg), "JWT", signed)
            .await?;
        Ok(UserInfo::Jwt(jwt))
    }

    /// The claims userinfo releases for an access token, and the token's client.
    async fn userinfo_claims(
        &self,
        org: &Organization,
        access_token: &str,
    ) -> OAuthResult<(Value, String)> {
        let claims = self
            .active_claims(org, access_token)
            .await?
            .ok_or_else(|| OAuthError::InvalidToken("the access token is not active".into()))?;
        let scopes: Vec<&str> = claims["scope"].as_str().unwrap_or("").split(' ').collect();
        if !scopes.contains(&"openid") {
            return Err(OAuthError::InsufficientScope(
                "the token lacks the openid scope".into(),
            ));
        }
        let sub = claims["sub"].as_str().unwrap_or_default();
        let client_id = claims["client_id"].as_str().unwrap_or_default().to_owned();
        let user_id = uuid::Uuid::parse_str(sub).ok().map(UserId);
        let user = match user_id {
            Some(id) => {
                let mut tx = self.store.read().await?;
                tx.find_user(org.id, id).await?
            }
            None => None,
        };
        let Some(user) = user else {
            // The seed's userinfo describes "the authenticated user or agent": a machine's
            // token (client_credentials, or an exchange of one) names its client in `sub`,
            // and gets the client's own identity. A client id never equals a user id
            // (RFC 9068 §5), so the two cannot be confused.
            if let Some(c) = self.cached_client(org.id, sub).await? {
                return Ok((
                    json!({"sub": sub, "name": c.client.settings.name}),
                    client_id,
                ));
            }
            return Err(OAuthError::InvalidToken("the user no longer exists".into()));
        };
        if !user.user.is_active {
            return Err(OAuthError::InvalidToken("the user no longer exists".into()));
        }
        let user = user.user;
        let mut out = serde_json::Map::new();
        out.insert("sub".into(), json!(sub));
        // The claims of the scopes (OIDC Core §5.4), and those the claims request asked for
        // at userinfo (§5.5), which the access token lists.
        let requested = claims[crate::tokens::USERINFO_CLAIMS]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect::<Vec<_>>())
            .unwrap_or_default();
        let by_scope = scopes
            .iter()
            .flat_map(|s| tessera_domain::profile::scope_claims(s).iter().copied());
        for claim in by_scope.chain(requested) {
            if let Some(v) = user_claim(&user, claim) {
                out.insert(claim.to_owned(), v);
            }
        }
        Ok((Value::Object(out), client_id))
    }
}

/// A userinfo response (OIDC Core §5.3.2).
#[derive(Debug)]
pub enum UserInfo {
    /// `application/json`.
    Json(Value),
    /// `application/jwt`: the claims signed as the client asked.
    Jwt(String),
}

/// The `response_mode` inside a request object (RFC 9101), read without verifying it.
fn request_object_mode(jwt: &str) -> Option<String> {
    let payload = jwt.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let v: Value = serde_json::from_slice(&bytes).ok()?;
    v.get("response_mode")?.as_str().map(str::to_owned)
}

/// What a redeemed code granted.
fn granted(code: &AuthCode) -> crate::refresh::Grant<'_> {
    crate::refresh::Grant {
        user: code.user_id,
        scope: &code.scope,
        auth_time: code.auth_time,
        nonce: code.nonce.as_deref(),
        claims: code.claims.as_ref(),
    }
}

/// One standard claim of a user (OIDC Core §5.1), if the user has a value for it.
pub(crate) fn user_claim(user: &tessera_domain::User, claim: &str) -> Option<Value> {
    match claim {
        "name" => user.name.as_ref().map(|n| json!(n)),
        "preferred_username" => Some(json!(user.username.as_str())),
        "email" => user.email.as_ref().map(|e| json!(e.as_str())),
        // Said only of an address there is.
        "email_verified" => user
            .email
            .as_ref()
            .map(|_| json!(user.profile.email_verified)),
        "updated_at" => Some(json!(to_millis(user.updated_at) / 1000)),
        other => user.profile.claim(other),
    }
}

#[cfg(test)]
mod pkce_tests {
    use super::*;

    /// The half-hashes of the specifications' own example and of SHA-512 for Ed25519.
    #[test]
    fn half_hashes_follow_the_signing_algorithm() {
        // OIDC Core, Appendix A.3: at_hash of "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y".
        let token = "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y";
        assert_eq!(half_hash(Alg::RS256, token), "77QmUPtjPfzWtF2AnpK9RQ");
        assert_eq!(half_hash(Alg::ES256, token), "77QmUPtjPfzWtF2AnpK9RQ");
        let sha512 = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA512, token.as_bytes());
        let eddsa = half_hash(Alg::EdDSA, token);
        assert_eq!(eddsa, URL_SAFE_NO_PAD.encode(&sha512.as_ref()[..32]));
        assert_eq!(eddsa.len(), 43);
    }

    proptest::proptest! {
        /// RFC 7636 §4.1: an accepted verifier is 43 to 128 unreserved characters; its S256
        /// challenge is 43 base64url characters.
        #[test]
        fn accepted_verifiers_are_unreserved_and_bounded(v in "[ -~]{0,140}") {
            if valid_verifier(&v) {
                proptest::prop_assert!((43..=128).contains(&v.len()));
                proptest::prop_assert!(v.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b)));
                proptest::prop_assert_eq!(s256(&v).len(), 43);
            }
        }

        #[test]
        fn unreserved_verifiers_of_the_right_length_are_accepted(v in "[A-Za-z0-9._~-]{43,128}") {
            proptest::prop_assert!(valid_verifier(&v));
        }
    }
}
