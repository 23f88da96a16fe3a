//! The interactive flow: the authorization endpoint (RFC 6749 §4.1, PKCE RFC 7636, OIDC Core
//! §3.1.2), login and consent, authorization codes and their redemption at the token
//! endpoint, id_tokens (OIDC Core §2, §3.1.3.7) and userinfo (§5.3).
//!
//! Rules kept here (RFC 9700): an unknown client or unregistered redirect URI gets an error
//! page, never a redirect; redirect URIs match exactly; PKCE is S256 only and required for
//! public clients and clients that ask for it; codes are single-use, live 60 seconds, are bound
//! to client, redirect URI and verifier, and a second redemption revokes what the first
//! issued; every authorization response carries `iss` (RFC 9207).
//!
//! This file holds the request and its answers; [`interaction`] the pages between (login,
//! consent, the pending request and its code); [`claims`] the id_token and userinfo.

use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tessera_crypto::random::random_bytes;
use tessera_domain::{OrgId, Organization, UserId};
use tessera_store::LoginSession;

use crate::tokens::{OAuthError, OAuthResult};
use crate::Services;

pub mod claims;
pub mod interaction;
pub mod par;
mod request;

use request::AuthorizationRequest;

pub use claims::UserInfo;

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
    /// The identifiers of the API resources asked for (RFC 8707), checked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
    /// The DPoP key the code is bound to (RFC 9449 §10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpop_jkt: Option<String>,
    /// The hash of the pushed request's handle (RFC 9126), spent with the code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pushed: Option<String>,
    /// Set when the password was right and the second factor is asked for: whose, and until
    /// when (Unix milliseconds) the code may come.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_ok: Option<PasswordOk>,
}

/// A user id as its text in the saved request.
mod user_id_text {
    use serde::{Deserialize, Deserializer, Serializer};
    use tessera_domain::UserId;

    pub fn serialize<S: Serializer>(u: &UserId, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&u.0.to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<UserId, D::Error> {
        let s = String::deserialize(d)?;
        uuid::Uuid::parse_str(&s)
            .map(UserId)
            .map_err(serde::de::Error::custom)
    }
}

/// A password checked while the second factor is still to come.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PasswordOk {
    #[serde(with = "user_id_text")]
    pub user: UserId,
    pub until: i64,
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
        /// The organization signed in to (the page names it).
        org_name: String,
        error: Option<String>,
        username: Option<String>,
    },
    /// The password was right; the code of the second factor (or a recovery code) is next.
    SecondFactor {
        request_id: String,
        csrf: String,
        client_name: String,
        org_name: String,
        error: Option<String>,
    },
    Consent {
        request_id: String,
        csrf: String,
        client_name: String,
        /// The scopes asked for that no API resource of the request defines.
        scopes: Vec<String>,
        /// The API resources asked for (RFC 8707), each with its scopes asked for.
        resources: Vec<ConsentResource>,
    },
}

/// An API resource as the consent page names it: its name and identifier, and the scopes of
/// it asked for, each with its description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentResource {
    pub name: String,
    pub identifier: String,
    pub scopes: Vec<(String, Option<String>)>,
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

/// The `sid` of a login session (Back-Channel Logout 1.0 §2.1): derived from the stored hash
/// of its cookie, so that it names the session in id_tokens and logout tokens without being a
/// credential or the database key.
pub(crate) fn session_sid(session_hash: &str) -> String {
    let d = aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        format!("sid|{session_hash}").as_bytes(),
    );
    URL_SAFE_NO_PAD.encode(&d.as_ref()[..18])
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
        Ok(s.filter(|s| self.alive(s)))
    }

    /// Not ended and not expired.
    fn alive(&self, s: &LoginSession) -> bool {
        s.ended_at.is_none() && s.expires_at > self.now()
    }

    /// [`Self::live_session`] and, read with it in one statement, its user's stored consent to
    /// `client_id`.
    async fn live_session_with_consent(
        &self,
        org: OrgId,
        cookie: Option<&str>,
        client_id: &str,
    ) -> OAuthResult<Option<(LoginSession, Option<Vec<String>>)>> {
        let Some(c) = cookie else { return Ok(None) };
        let hash = self.handle_hash.hash(c);
        let found = self
            .store
            .read_session_with_consent(org, &hash, client_id)
            .await?;
        Ok(found.filter(|(s, _)| self.alive(s)))
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
        let (org, cached) = self.authorization_client(org_slug, params).await?;
        let client = &cached.client;
        // RFC 9126 §4: a pushed request is the request; the front channel's parameters but
        // client_id and request_uri are not read.
        let pushed = self.pushed_request(&org, client, params).await?;
        let (params, pushed_hash) = match &pushed {
            Some((p, hash)) => (p.as_slice(), Some(hash.clone())),
            None => (params, None),
        };
        // OIDC Core §6, RFC 9101: a request object's parameters supersede the query's. When it
        // is refused, the error goes where the query alone says, if that can be trusted.
        let (merged, object_error) = match self.resolve_request_object(&org, client, params).await {
            Ok(Some(m)) => (Some(m), None),
            Ok(None) => (None, None),
            Err(e) => (None, Some(e)),
        };
        let r = AuthorizationRequest::from_params(merged.as_deref().unwrap_or(params));
        let object_page = |m: &str| match &object_error {
            Some(e) => page(&format!(
                "The request object was refused: {}. {m}",
                e.description
            )),
            None => page(m),
        };
        // Exact matching; the port of a loopback redirect may vary (RFC 8252 §7.3).
        let redirect_uri = match r.redirect_uri {
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
        let state = r.state.map(str::to_owned);
        // The response mode first, so that every later error travels as asked; an unknown
        // one is refused (in the query), never ignored. A refused request object's own mode
        // is still followed when the query names none (the conformance suite's form_post plan
        // puts `response_mode` only inside): only the mode is read from it, unverified, and
        // the address is the registered one checked above either way.
        let object_mode = object_error
            .as_ref()
            .and(r.request)
            .and_then(request_object_mode);
        let response_mode = match r.response_mode.or(object_mode.as_deref()) {
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
        let security = &client.settings.security;
        let org_requires_par = || async {
            self.policy_of(org.id)
                .await
                .map(|p| p.require_pushed_authorization_requests)
                .map_err(|e| redirect_err("server_error", &e.to_string()))
        };
        if pushed_hash.is_none() && (security.requires_par() || org_requires_par().await?) {
            return Err(redirect_err(
                "invalid_request",
                "this client must push its authorization requests to the PAR endpoint \
                 (RFC 9126) and send the request_uri it gets",
            ));
        }
        if pushed_hash.is_none() && merged.is_none() && security.require_signed_request_object {
            return Err(redirect_err(
                "invalid_request",
                "this client must send its authorization request as a signed request object",
            ));
        }
        // RFC 8707 §2: each `resource` an API resource this client may ask for, or
        // `invalid_target` to the client.
        let asked = crate::params::get_all(merged.as_deref().unwrap_or(params), "resource");
        let targets = self
            .targets(org.id, client, &asked)
            .await
            .map_err(|e| match e {
                crate::tokens::OAuthError::InvalidTarget(m) => redirect_err("invalid_target", &m),
                other => redirect_err("server_error", &other.to_string()),
            })?;
        let mut req = r
            .check(client, &targets, redirect_uri.clone(), state.clone(), mode)
            .map_err(|e| redirect_err(e.error, &e.description))?;
        req.pushed = pushed_hash;
        self.signed_in_or_login(&org, client, req, cookie, browser)
            .await
            .map_err(|e| match e {
                LoginNeeded::Refused => redirect_err("login_required", "the user is not logged in"),
                LoginNeeded::Failed(e) => e,
            })
    }

    /// The organization and the client an authorization request names, or the error page
    /// that says what is wrong (RFC 6749 §4.1.2.1: nothing is sent to a redirect URI before
    /// the client is known). Every parameter appears at most once (§3.1).
    async fn authorization_client(
        &self,
        org_slug: &str,
        params: &[(String, String)],
    ) -> Result<(Organization, Arc<crate::cache::CachedClient>), AuthorizeError> {
        let page = |m: &str| AuthorizeError::Page(m.to_owned());
        let org = self
            .protocol_org(org_slug)
            .await
            .map_err(|_| page("This organization does not exist."))?;
        match crate::params::check_unique(params) {
            Ok(()) => {}
            Err(crate::params::ParamError::Repeated(k)) => {
                return Err(page(&format!("The parameter '{k}' is repeated.")))
            }
            Err(crate::params::ParamError::TooMany) => {
                return Err(page("The request has too many parameters."))
            }
        }
        let client_id = AuthorizationRequest::from_params(params)
            .client_id
            .ok_or_else(|| page("The request has no client_id."))?;
        let cached = self
            .cached_client(org.id, client_id)
            .await
            .map_err(|e| server_page(e, "The server could not look up the client."))?
            .ok_or_else(|| page("The client is not known."))?;
        if !cached.client.settings.is_active {
            return Err(page("The client is disabled."));
        }
        Ok((Arc::unwrap_or_clone(org), cached))
    }

    /// A checked request goes on with the browser's session when it has one that suits
    /// (`max_age`, no `prompt=login`), or else to the login page; with `prompt=none` and no
    /// such session it is refused (OIDC Core §3.1.2.6 `login_required`).
    async fn signed_in_or_login(
        self: &Arc<Self>,
        org: &Organization,
        client: &tessera_domain::client::OAuthClient,
        req: AuthRequest,
        cookie: Option<&str>,
        browser: &str,
    ) -> Result<Next, LoginNeeded> {
        // The session and the user's consent to this client, in one read.
        let session = self
            .live_session_with_consent(org.id, cookie, client.id.as_str())
            .await
            .map_err(|e| server_page(e, "The server could not read the session."))?;
        let now = self.now();
        let fresh_enough = |s: &LoginSession| match req.max_age {
            Some(m) => (now - s.auth_time).whole_seconds() <= m,
            None => true,
        };
        let wants_login = req.prompt.iter().any(|p| p == "login");
        match session {
            Some((s, consent)) if fresh_enough(&s) && !wants_login => Ok(self
                .after_login(
                    org,
                    client,
                    req,
                    interaction::SignedIn {
                        user: s.user_id,
                        auth_time: s.auth_time,
                        session_hash: s.id_hash.clone(),
                        amr: s.amr.clone(),
                    },
                    browser,
                    None,
                    Some(consent),
                )
                .await?),
            _ => {
                if req.prompt.iter().any(|p| p == "none") {
                    return Err(LoginNeeded::Refused);
                }
                let (request_id, csrf) = self
                    .save_pending(org, &req, browser, None)
                    .await
                    .map_err(|e| server_page(e, "The server could not save the request."))?;
                Ok(Next::Login {
                    request_id,
                    csrf,
                    client_name: client.settings.name.clone(),
                    org_name: org.name.clone(),
                    error: None,
                    username: req.login_hint.clone(),
                })
            }
        }
    }
}

/// Why a request cannot go on to a signed-in user.
enum LoginNeeded {
    /// `prompt=none` without a session that suits.
    Refused,
    Failed(AuthorizeError),
}

impl From<AuthorizeError> for LoginNeeded {
    fn from(e: AuthorizeError) -> Self {
        Self::Failed(e)
    }
}

/// The `response_mode` inside a request object (RFC 9101), read without verifying it.
fn request_object_mode(jwt: &str) -> Option<String> {
    let payload = jwt.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let v: Value = serde_json::from_slice(&bytes).ok()?;
    v.get("response_mode")?.as_str().map(str::to_owned)
}
