//! The token endpoint's machine half: client authentication (RFC 6749 §2.3), the
//! `client_credentials` grant (§4.4), JWT access tokens (RFC 9068), introspection (RFC 7662)
//! and revocation (RFC 7009).
//!
//! The hot path touches no database in the steady state: the organization, the client with its
//! secret hashes, the signing key and revocations come from caches that the change feed keeps
//! true. A generated secret costs one HMAC, a token one ES256 signature. Nothing is written per
//! token; `lastUsedAt` of a secret is written at most once a minute, after the response.

use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Value};
use tessera_crypto::jws::Alg;
use tessera_crypto::StoredHash;
use tessera_domain::client::{ClientId, GrantType};
use tessera_domain::{AuditAction, OrgId, OrgSlug, Organization, Principal};

use crate::audit::AuditEntry;
use crate::cache::{CachedClient, CHANGE_REVOKED};
use crate::clients::CLIENT_SECRET_PREFIX;
use crate::{Context, CoreError, CoreResult, ErrorKind, Services};

/// RFC 6749 §5.2 errors (and RFC 7009 / 7662 uses of them).
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    #[error("{0}")]
    InvalidRequest(String),
    /// 401; `basic` says whether the client tried HTTP Basic (then `WWW-Authenticate: Basic`).
    #[error("{message}")]
    InvalidClient { message: String, basic: bool },
    #[error("{0}")]
    InvalidGrant(String),
    #[error("{0}")]
    UnauthorizedClient(String),
    #[error("{0}")]
    UnsupportedGrantType(String),
    #[error("{0}")]
    InvalidScope(String),
    #[error("{0}")]
    NotFound(String),
    /// RFC 6750 §3.1: a bearer token that is not active (401).
    #[error("{0}")]
    InvalidToken(String),
    /// RFC 6750 §3.1: the token lacks a needed scope (403).
    #[error("{0}")]
    InsufficientScope(String),
    #[error("{0}")]
    ServerError(String),
    /// RFC 6749 §4.1.2.1: a transient condition (the database is busy); retry.
    #[error("{0}")]
    TemporarilyUnavailable(String),
    /// Too many password attempts for a user or client (429, retry after a minute).
    #[error("{0}")]
    TooManyAttempts(String),
    /// RFC 8628 §3.5: the user has not yet approved the device.
    #[error("the user has not yet approved or denied the request")]
    AuthorizationPending,
    /// RFC 8628 §3.5: polling faster than `interval`; the interval grows by 5 seconds.
    #[error("polling too fast; wait {0} seconds between requests")]
    SlowDown(i64),
    /// RFC 8628 §3.5: the user denied the request.
    #[error("{0}")]
    AccessDenied(String),
    /// RFC 8628 §3.5: the device code has expired.
    #[error("{0}")]
    ExpiredToken(String),
    /// RFC 8693 §2.2.2: the audience or resource is unacceptable.
    #[error("{0}")]
    InvalidTarget(String),
    /// RFC 6749 §4.1.2.1, at the PAR endpoint (RFC 9126 §2.3).
    #[error("{0}")]
    UnsupportedResponseType(String),
    /// OIDC Core §6, RFC 9101: the request object is invalid.
    #[error("{0}")]
    InvalidRequestObject(String),
    /// RFC 9449 §5.2, §7.1: the DPoP proof is missing, malformed or wrong.
    #[error("{0}")]
    InvalidDpopProof(String),
    /// RFC 9449 §8: the proof must carry the server's current nonce (in `DPoP-Nonce`).
    #[error("{0}")]
    UseDpopNonce(String),
}

impl OAuthError {
    /// The RFC's `error` code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidRequest(_) => "invalid_request",
            Self::InvalidClient { .. } => "invalid_client",
            Self::InvalidGrant(_) => "invalid_grant",
            Self::UnauthorizedClient(_) => "unauthorized_client",
            Self::UnsupportedGrantType(_) => "unsupported_grant_type",
            Self::InvalidScope(_) => "invalid_scope",
            Self::NotFound(_) => "not_found",
            Self::InvalidToken(_) => "invalid_token",
            Self::InsufficientScope(_) => "insufficient_scope",
            Self::ServerError(_) => "server_error",
            Self::TemporarilyUnavailable(_) | Self::TooManyAttempts(_) => "temporarily_unavailable",
            Self::AuthorizationPending => "authorization_pending",
            Self::SlowDown(_) => "slow_down",
            Self::AccessDenied(_) => "access_denied",
            Self::ExpiredToken(_) => "expired_token",
            Self::InvalidTarget(_) => "invalid_target",
            Self::InvalidDpopProof(_) => "invalid_dpop_proof",
            Self::UnsupportedResponseType(_) => "unsupported_response_type",
            Self::InvalidRequestObject(_) => "invalid_request_object",
            Self::UseDpopNonce(_) => "use_dpop_nonce",
        }
    }
}

impl From<CoreError> for OAuthError {
    fn from(e: CoreError) -> Self {
        match e.kind() {
            ErrorKind::NotFound => Self::NotFound(e.to_string()),
            ErrorKind::Unavailable => Self::TemporarilyUnavailable(e.public_message()),
            // Bad input is the caller's, named: never a 500.
            ErrorKind::Invalid => Self::InvalidRequest(e.public_message()),
            // Nothing else reaches a protocol endpoint from the services but a fault.
            _ => {
                tracing::error!(error = %e, "token endpoint failure");
                Self::ServerError(crate::error::INTERNAL_ERROR.into())
            }
        }
    }
}

impl From<tessera_store::StoreError> for OAuthError {
    fn from(e: tessera_store::StoreError) -> Self {
        CoreError::from(e).into()
    }
}

pub type OAuthResult<T> = Result<T, OAuthError>;

/// What the client presented (RFC 6749 §2.3). Its `Debug` shows the client id only.
#[derive(Clone)]
pub enum ClientCredentials {
    /// `Authorization: Basic` with the form-urlencoded id and secret (§2.3.1).
    Basic { client_id: String, secret: String },
    /// `client_id` and `client_secret` in the body.
    Post { client_id: String, secret: String },
    /// A public client: `client_id` only.
    None { client_id: String },
    /// `client_assertion` of type [`crate::assertion::JWT_BEARER`] (`private_key_jwt`),
    /// for the client its `sub` names.
    Assertion {
        client_id: String,
        assertion: String,
    },
}

/// A client's attempt to authenticate: what it presented, and the address it came from (the
/// brakes and the audit of a failure are keyed by it).
#[derive(Clone, Debug)]
pub struct ClientAuth {
    pub credentials: ClientCredentials,
    /// The caller's address, for the brakes and the audit log.
    pub address: Option<String>,
    /// The HTTP request's id, for the audit log.
    pub request_id: Option<String>,
    /// The `DPoP` header the request carried (RFC 9449 §4.1), not yet checked.
    pub dpop: Option<crate::dpop::DpopProof>,
    /// The key that proof proved, once checked (only the services can fill it in).
    pub proven: Option<crate::dpop::ProvenKey>,
}

impl ClientAuth {
    /// A public client by id, from nowhere in particular (an in-process caller).
    pub fn public(client_id: &str) -> Self {
        Self {
            credentials: ClientCredentials::None {
                client_id: client_id.to_owned(),
            },
            address: None,
            request_id: None,
            dpop: None,
            proven: None,
        }
    }

    fn client_id(&self) -> &str {
        match &self.credentials {
            ClientCredentials::Basic { client_id, .. }
            | ClientCredentials::Post { client_id, .. }
            | ClientCredentials::Assertion { client_id, .. }
            | ClientCredentials::None { client_id } => client_id,
        }
    }

    fn is_basic(&self) -> bool {
        matches!(self.credentials, ClientCredentials::Basic { .. })
    }
}

/// Decodes an HTTP Basic credential: base64 of `id:secret`, each form-urlencoded first
/// (RFC 6749 §2.3.1), so `:` and non-ASCII survive in ids and secrets.
pub fn parse_basic(header_value: &str) -> OAuthResult<(String, String)> {
    let bad = |m: &str| OAuthError::InvalidClient {
        message: format!("malformed Basic credentials: {m}"),
        basic: true,
    };
    let (scheme, b64) = header_value
        .split_once(' ')
        .ok_or_else(|| bad("no scheme"))?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(bad("expected the Basic scheme"));
    }
    let raw = STANDARD.decode(b64.trim()).map_err(|_| bad("not base64"))?;
    let mut id = String::from_utf8(raw).map_err(|_| bad("not UTF-8"))?;
    let colon = id.find(':').ok_or_else(|| bad("no ':'"))?;
    // The decoded text becomes the id, its tail after the ':' the secret: one copy, not two.
    let secret = id.split_off(colon + 1);
    id.truncate(colon);
    let decode = |s: String| -> OAuthResult<String> {
        // Most ids and secrets have nothing encoded: taken as they are.
        if !s.contains(['%', '+']) {
            return Ok(s);
        }
        // One component, never split: a raw `&` (which a client should have encoded) stays
        // part of the value, as it does on the path above.
        url::form_urlencoded::parse(format!("x={}", s.replace('&', "%26")).as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .ok_or_else(|| bad("bad encoding"))
    };
    Ok((decode(id)?, decode(secret)?))
}

/// A successful token response (RFC 6749 §5.1).
#[derive(serde::Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    /// RFC 8693 §2.2.1: in token exchange responses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issued_token_type: Option<&'static str>,
}

impl TokenResponse {
    /// The response's JSON: the bytes serde_json writes for it (property test below), without
    /// its byte-by-byte escaping scan of the tokens, which took about 1% of a
    /// client_credentials request. Tokens are base64url and dots; each string is checked in one
    /// pass the compiler vectorises, and one with anything to escape goes through serde_json.
    pub fn to_json(&self) -> Vec<u8> {
        let tokens = self.access_token.len()
            + self.refresh_token.as_ref().map_or(0, String::len)
            + self.id_token.as_ref().map_or(0, String::len);
        let mut out = Vec::with_capacity(160 + tokens);
        out.extend_from_slice(b"{\"access_token\":");
        json_str(&mut out, &self.access_token);
        out.extend_from_slice(b",\"token_type\":");
        json_str(&mut out, self.token_type);
        out.extend_from_slice(b",\"expires_in\":");
        // Written in place (`itoa`-style through `Write`), not through a String.
        let _ = std::io::Write::write_fmt(&mut out, format_args!("{}", self.expires_in));
        for (name, value) in [
            ("scope", self.scope.as_deref()),
            ("refresh_token", self.refresh_token.as_deref()),
            ("id_token", self.id_token.as_deref()),
            ("issued_token_type", self.issued_token_type),
        ] {
            if let Some(value) = value {
                out.push(b',');
                json_str(&mut out, name);
                out.push(b':');
                json_str(&mut out, value);
            }
        }
        out.push(b'}');
        out
    }
}

/// `s` as a JSON string, as serde_json writes it: it escapes `"`, `\\` and the control
/// characters below U+0020, and nothing else.
fn json_str(out: &mut Vec<u8>, s: &str) {
    let plain = s
        .bytes()
        .fold(true, |ok, b| ok & (b >= 0x20) & (b != b'"') & (b != b'\\'));
    if plain {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        // Writing a string into a Vec cannot fail.
        serde_json::to_writer(&mut *out, s).unwrap_or_default();
    }
}

/// RFC 6749 §3.3: the requested scopes, each one the client may have, without repeats;
/// absent means everything it may have.
pub(crate) fn allowed_scopes(
    client: &tessera_domain::client::OAuthClient,
    requested: Option<&str>,
) -> OAuthResult<String> {
    let allowed: Vec<&str> = client
        .settings
        .allowed_scopes
        .iter()
        .map(|s| s.as_str())
        .collect();
    narrow_scopes(&allowed, requested, "is not allowed for this client")
}

/// `requested` ⊆ `within` (absent: all of `within`), or `invalid_scope` naming the first scope
/// outside it.
pub(crate) fn narrow_scopes(
    within: &[&str],
    requested: Option<&str>,
    outside: &str,
) -> OAuthResult<String> {
    let Some(requested) = requested.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(within.join(" "));
    };
    let mut out: Vec<&str> = vec![];
    for s in requested.split(' ').filter(|s| !s.is_empty()) {
        if !within.contains(&s) {
            return Err(OAuthError::InvalidScope(format!("scope '{s}' {outside}")));
        }
        if !out.contains(&s) {
            out.push(s);
        }
    }
    Ok(out.join(" "))
}

opaque_debug!(TokenResponse);

impl std::fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (kind, id) = match self {
            Self::Basic { client_id, .. } => ("Basic", client_id),
            Self::Post { client_id, .. } => ("Post", client_id),
            Self::None { client_id } => ("None", client_id),
            Self::Assertion { client_id, .. } => ("Assertion", client_id),
        };
        write!(f, "ClientCredentials::{kind} {{ client_id: {id:?}, .. }}")
    }
}

/// The signing algorithm of the crypto crate for a client's choice.
pub(crate) fn signing_alg(a: tessera_domain::client::SigningAlg) -> Alg {
    use tessera_domain::client::SigningAlg;
    match a {
        SigningAlg::RS256 => Alg::RS256,
        SigningAlg::ES256 => Alg::ES256,
        SigningAlg::PS256 => Alg::PS256,
        SigningAlg::EdDSA => Alg::EdDSA,
    }
}

/// Access tokens are JWTs (three dot-separated parts); refresh tokens are one base64url run.
fn looks_like_jwt(token: &str) -> bool {
    token.contains('.')
}

fn invalid_client(auth: &ClientAuth, m: &str) -> OAuthError {
    OAuthError::InvalidClient {
        message: m.into(),
        basic: auth.is_basic(),
    }
}

impl Services {
    /// The issuer of an organization: `{public_url}/orgs/{slug}`.
    pub fn issuer(&self, slug: &OrgSlug) -> String {
        // Built by hand rather than with `format!`: every token names its issuer.
        let (base, slug) = (self.config.public_url.as_str(), slug.as_str());
        let mut s = String::with_capacity(base.len() + "/orgs/".len() + slug.len());
        s.push_str(base);
        s.push_str("/orgs/");
        s.push_str(slug);
        s
    }

    /// An organization by slug for the protocol endpoints (no caller to check; cached, and
    /// shared rather than copied: every protocol request starts here).
    pub async fn protocol_org(&self, slug: &str) -> OAuthResult<Arc<Organization>> {
        if let Some(o) = self.caches.org(slug) {
            return Ok(o);
        }
        crate::cache::count_load(&self.caches.loads.orgs);
        let nf = || OAuthError::NotFound(format!("organization '{slug}' not found"));
        let parsed = OrgSlug::parse(slug).map_err(|_| nf())?;
        let org = {
            let mut tx = self.store.read().await?;
            tx.find_org_by_slug(&parsed).await?
        }
        .ok_or_else(nf)?;
        let org = Arc::new(org);
        self.caches.remember_org(slug, Arc::clone(&org));
        Ok(org)
    }

    /// The client with its secrets, cached; `None` when it does not exist.
    pub(crate) async fn cached_client(
        &self,
        org: OrgId,
        client_id: &str,
    ) -> OAuthResult<Option<Arc<CachedClient>>> {
        if let Some(c) = self.caches.client(org, client_id) {
            return Ok(c);
        }
        let Ok(id) = ClientId::parse(client_id) else {
            // Not a registered client's id: perhaps a Client ID Metadata Document's URL.
            if client_id.contains("://") {
                return Box::pin(self.metadata_document_client(org, client_id)).await;
            }
            return Ok(None);
        };
        crate::cache::count_load(&self.caches.loads.clients);
        let loaded = {
            let mut tx = self.store.read().await?;
            tx.find_client_with_secrets(org, &id)
                .await?
                .map(|(client, secrets)| Arc::new(CachedClient::new(client, secrets)))
        };
        self.caches.remember_client(org, client_id, loaded.clone());
        Ok(loaded)
    }

    /// Authenticates the client of a token, introspection or revocation request.
    ///
    /// Every failure answers the same `invalid_client` ("client authentication failed"), so
    /// that nobody can tell an unknown client from a wrong secret or a public client (no
    /// enumeration of client ids); why it failed goes to the audit log
    /// (`oauth_client.authentication_failed`). A client that failed too often from one address
    /// is braked before its secret is even checked ([`crate::limits`]).
    pub async fn authenticate_client(
        self: &Arc<Self>,
        org: &Organization,
        auth: &ClientAuth,
    ) -> OAuthResult<Arc<CachedClient>> {
        let id = auth.client_id();
        // The request's span names the client (a field it declares; nothing elsewhere).
        tracing::Span::current().record("client_id", id);
        let address = auth.address.as_deref();
        if !self.limits.allow_client_auth(org.id, id, address) {
            return Err(OAuthError::TooManyAttempts(
                "too many failed client authentications; try again in a minute".into(),
            ));
        }
        let mut client = self.cached_client(org.id, id).await?;
        // Whether the secret sent verifies, for a client that authenticates with one. A secret
        // this process does not know may be one just set on another node, whose change has
        // not reached this cache yet: the client is read again once, so that a new secret
        // works on every node at once (a failure costs an audit write anyway).
        let mut secret_ok = false;
        if let ClientCredentials::Basic { secret, .. } | ClientCredentials::Post { secret, .. } =
            &auth.credentials
        {
            let uses_secret = |c: &CachedClient| {
                c.client.settings.is_confidential
                    && c.client.settings.token_endpoint_auth_method.sends_secret()
            };
            if let Some(c) = client.as_ref().filter(|c| uses_secret(c)) {
                secret_ok = self.check_secret(org.id, c, secret).await?;
                if !secret_ok {
                    self.caches.forget_client(org.id, id);
                    client = self.cached_client(org.id, id).await?;
                    if let Some(c) = client.as_ref().filter(|c| uses_secret(c)) {
                        secret_ok = self.check_secret(org.id, c, secret).await?;
                    }
                }
            }
        }
        let outcome = match (&client, &auth.credentials) {
            (None, _) => Err("unknown client"),
            (Some(c), ClientCredentials::None { .. }) => {
                if c.client.settings.is_confidential {
                    Err("no secret sent for a confidential client")
                } else {
                    Ok(())
                }
            }
            (Some(c), ClientCredentials::Basic { .. } | ClientCredentials::Post { .. }) => {
                if !c.client.settings.is_confidential {
                    Err("a secret sent for a public client")
                } else if !c.client.settings.token_endpoint_auth_method.sends_secret() {
                    Err("a secret sent for a client that authenticates with a JWT (private_key_jwt or client_secret_jwt)")
                } else if secret_ok {
                    Ok(())
                } else {
                    Err("wrong or expired secret")
                }
            }
            (Some(c), ClientCredentials::Assertion { assertion, .. }) => {
                if !c
                    .client
                    .settings
                    .token_endpoint_auth_method
                    .uses_assertion()
                {
                    Err("an assertion sent for a client that uses neither private_key_jwt nor client_secret_jwt")
                } else {
                    match Box::pin(self.check_assertion(org, c, assertion)).await? {
                        // A secret set on another node moments ago: read the client once more
                        // (a failed signature spends no jti).
                        Err(crate::assertion::NO_SECRET) => {
                            self.caches.forget_client(org.id, id);
                            match self.cached_client(org.id, id).await? {
                                Some(fresh) => {
                                    Box::pin(self.check_assertion(org, &fresh, assertion)).await?
                                }
                                None => Err("unknown client"),
                            }
                        }
                        other => other,
                    }
                }
            }
        };
        match (outcome, client) {
            (Ok(()), Some(c)) => Ok(c),
            (outcome, _) => {
                let reason = outcome.err().unwrap_or("unknown client");
                Box::pin(self.count_failures(&self.limits.client_auth_failed(org.id, id, address)))
                    .await;
                Box::pin(self.audit_client_auth_failure(org, auth, reason)).await;
                Err(invalid_client(auth, "client authentication failed"))
            }
        }
    }

    /// Records why a client authentication failed. Best effort: a failure to write it must
    /// not turn the client's `401` into a `500`.
    async fn audit_client_auth_failure(&self, org: &Organization, auth: &ClientAuth, reason: &str) {
        // The presented id is the caller's text: bounded before it is stored.
        let id: String = auth.client_id().chars().take(200).collect();
        let actor = Context {
            principal: Principal::oauth_client(org.id, &id),
            ip: auth.address.clone(),
            request_id: None,
        };
        let written = async {
            let mut tx = self.store.begin().await?;
            self.audit(
                tx.as_mut(),
                &actor,
                AuditEntry::new(AuditAction::OauthClientAuthenticationFailed, "oauth_client")
                    .org(org.id)
                    .target(id.clone())
                    .after(Some(json!({"reason": reason}))),
            )
            .await?;
            tx.commit().await?;
            Ok::<(), CoreError>(())
        }
        .await;
        if let Err(e) = written {
            tracing::warn!(error = %e, "could not record a failed client authentication");
        }
    }

    /// Checks a presented secret against the client's live secrets (as the token endpoint
    /// does); false for an unknown client.
    pub async fn verify_client_secret(
        self: &Arc<Self>,
        org: OrgId,
        client_id: &ClientId,
        presented: &str,
    ) -> CoreResult<bool> {
        let client = self
            .cached_client(org, client_id.as_str())
            .await
            .map_err(CoreError::internal)?;
        match client {
            Some(c) => self
                .check_secret(org, &c, presented)
                .await
                .map_err(CoreError::internal),
            None => Ok(false),
        }
    }

    async fn check_secret(
        self: &Arc<Self>,
        org: OrgId,
        client: &CachedClient,
        presented: &str,
    ) -> OAuthResult<bool> {
        let now = self.now();
        let generated = presented.starts_with(CLIENT_SECRET_PREFIX);
        for s in &client.secrets {
            if s.expires_at.is_some_and(|e| e <= now) {
                continue;
            }
            let Some(stored) = &s.hash else {
                continue;
            };
            let ok = match stored {
                StoredHash::HmacSha256(_) => stored
                    .verify(presented, &self.client_hash, &self.passwords)
                    .unwrap_or(false),
                // Only a chosen secret pays for argon2id, and off the executor.
                StoredHash::Argon2(phc) if !generated => {
                    Box::pin(self.verify_password(presented, phc)).await
                }
                StoredHash::Argon2(_) => false,
            };
            if ok {
                self.note_secret_use(org, &s.id, &s.noted, now);
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The client of a grant request: authenticated, enabled, and allowed to use `grant`.
    pub(crate) async fn grant_client(
        self: &Arc<Self>,
        org: &Organization,
        auth: &ClientAuth,
        grant: GrantType,
    ) -> OAuthResult<Arc<CachedClient>> {
        let cached = self.authenticate_client(org, auth).await?;
        if !cached.client.settings.is_active {
            return Err(OAuthError::UnauthorizedClient(
                "the client is disabled".into(),
            ));
        }
        if !cached.client.settings.grant_types.contains(&grant) {
            return Err(OAuthError::UnauthorizedClient(format!(
                "the client may not use the {} grant",
                grant.as_str()
            )));
        }
        // For the cleanup of registered clients never used (`unusedClientLifetime`).
        self.note_client_use(org.id, &cached);
        Ok(cached)
    }

    /// Signs `claims` with the organization's active key of `alg`. RSA signing takes about a
    /// millisecond, so it runs off the async executor; ES256 and EdDSA take microseconds.
    pub(crate) async fn sign_with(
        &self,
        org: &Organization,
        alg: Alg,
        typ: &'static str,
        claims: &(impl serde::Serialize + ?Sized),
    ) -> OAuthResult<String> {
        // Serialized once, straight to the bytes that are signed.
        let claims =
            serde_json::to_vec(claims).map_err(|e| OAuthError::ServerError(e.to_string()))?;
        let keys = self.org_keys(org.id).await?;
        let key = Arc::clone(
            keys.signing_key(alg, self.now())
                .ok_or_else(|| OAuthError::ServerError("no active signing key".into()))?,
        );
        // RSA signatures take a while: not on the async executor.
        if matches!(alg, Alg::RS256 | Alg::PS256) {
            tokio::task::spawn_blocking(move || key.sign_jwt_json(typ, &claims))
                .await
                .map_err(|e| OAuthError::ServerError(e.to_string()))?
                .map_err(|e| OAuthError::ServerError(e.to_string()))
        } else {
            key.sign_jwt_json(typ, &claims)
                .map_err(|e| OAuthError::ServerError(e.to_string()))
        }
    }

    /// RFC 7662 introspection. The caller must be a confidential client of the organization.
    /// Anything not active is `{"active": false}` and nothing else.
    ///
    /// With `resource` (a resource server asking about a token presented to it), a token
    /// whose audience does not name that resource is not active for it: a token for resource
    /// A is refused by the resource server of B (RFC 8707 §1, RFC 9068 §4). A refresh token is
    /// never meant for a resource server.
    pub async fn introspect(
        self: &Arc<Self>,
        org_slug: &str,
        auth: &ClientAuth,
        token: &str,
        resource: Option<&str>,
    ) -> OAuthResult<Value> {
        let org = self.protocol_org(org_slug).await?;
        let caller = self.authenticate_client(&org, auth).await?;
        if !caller.client.settings.is_confidential {
            // The same answer as any failed authentication: a public client's id is no
            // credential (the reason is in the audit log).
            self.audit_client_auth_failure(&org, auth, "introspection by a public client")
                .await;
            return Err(invalid_client(auth, "client authentication failed"));
        }
        if !caller.client.settings.is_active {
            return Err(OAuthError::UnauthorizedClient(
                "the client is disabled".into(),
            ));
        }
        let Some(c) = self.active_claims(&org, token).await? else {
            // A JWT (it has dots) that is not active is not a refresh token either: answer
            // without hashing it and reading the database.
            if looks_like_jwt(token) || resource.is_some() {
                return Ok(json!({"active": false}));
            }
            return Ok(self
                .refresh_claims(&org, token)
                .await?
                .unwrap_or_else(|| json!({"active": false})));
        };
        if resource.is_some_and(|r| !c.aud.contains(r)) {
            return Ok(json!({"active": false}));
        }
        // The token's own claims (`scope`, and `act` of an exchanged token, RFC 8693 §4.1,
        // when present), not the userinfo claims it carries for userinfo alone.
        let mut out = json!({
            "active": true,
            "token_type": if c.cnf.is_some() { "DPoP" } else { "Bearer" },
            "client_id": c.client_id,
            "sub": c.sub,
            "aud": c.aud,
            "iss": c.iss,
            "exp": c.exp,
            "iat": c.iat,
            "jti": c.jti,
        });
        if let Some(scope) = c.scope {
            out["scope"] = json!(scope);
        }
        if let Some(act) = c.act {
            out["act"] = act;
        }
        if let Some(roles) = c.roles {
            out["roles"] = json!(roles);
        }
        // RFC 9449 §6.2: the key a DPoP-bound token is bound to.
        if let Some(cnf) = c.cnf {
            out["cnf"] = json!(cnf);
        }
        Ok(out)
    }

    /// RFC 7009 revocation. Revoking an unknown, expired or already revoked token succeeds
    /// (§2.2); a token issued to another client is refused.
    pub async fn revoke(
        self: &Arc<Self>,
        org_slug: &str,
        auth: &ClientAuth,
        token: &str,
        ip: Option<String>,
        request_id: Option<String>,
    ) -> OAuthResult<()> {
        let org = self.protocol_org(org_slug).await?;
        let caller = self.authenticate_client(&org, auth).await?;
        let Some(c) = self.active_claims(&org, token).await? else {
            // Not an access token: perhaps a refresh token (RFC 7009 §2.1).
            if !looks_like_jwt(token) {
                self.revoke_refresh(&org, caller.client.id.as_str(), token)
                    .await?;
            }
            return Ok(());
        };
        if c.client_id != caller.client.id.as_str() {
            return Err(OAuthError::UnauthorizedClient(
                "the token was not issued to this client".into(),
            ));
        }
        let jti = c.jti;
        let exp = tessera_domain::clock::from_millis(c.exp * 1000);
        let now = self.now();
        let mut tx = self.store.begin().await?;
        if tx.revoke_token(org.id, &jti, exp, now).await? {
            tx.record_change(Some(org.id), CHANGE_REVOKED, &jti, now)
                .await?;
            let actor = Context {
                principal: Principal::oauth_client(org.id, caller.client.id.as_str()),
                ip,
                request_id,
            };
            self.audit(
                tx.as_mut(),
                &actor,
                AuditEntry::new(AuditAction::TokenRevoked, "access_token")
                    .org(org.id)
                    .target(jti.clone()),
            )
            .await
            .map_err(OAuthError::from)?;
        }
        tx.commit().await?;
        self.caches.forget_revocations(org.id);
        Ok(())
    }
}

#[cfg(test)]
mod basic_tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    proptest::proptest! {
        /// Any Authorization header value parses or is refused; never a panic.
        #[test]
        fn any_header_value_is_handled(h in "\\PC{0,80}") {
            let _ = parse_basic(&h);
        }

        /// A raw `&` or `=` is part of the value whether or not anything else in it is
        /// encoded (a form decoder would cut the value at the `&`).
        #[test]
        fn a_raw_ampersand_stays_in_the_value(plain in "[a-z&=]{1,12}", encoded in "[a-z&=]{0,12}") {
            let header = format!("Basic {}", STANDARD.encode(format!("{plain}:{encoded}%20{encoded}+x")));
            let (i, s) = parse_basic(&header).unwrap();
            proptest::prop_assert_eq!(i, plain);
            proptest::prop_assert_eq!(s, format!("{encoded} {encoded} x"));
        }

        /// RFC 6749 §2.3.1: id and secret, form-urlencoded then base64, come back exactly,
        /// whatever they contain (`:`, `%`, `+`, spaces, any Unicode).
        #[test]
        fn form_urlencoded_credentials_round_trip(id in "\\PC{1,30}", secret in "\\PC{0,60}") {
            let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
            let header = format!("Basic {}", STANDARD.encode(format!("{}:{}", enc(&id), enc(&secret))));
            let (i, s) = parse_basic(&header).unwrap();
            proptest::prop_assert_eq!(i, id);
            proptest::prop_assert_eq!(s, secret);
        }
    }
}

#[cfg(test)]
mod response_tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    proptest::proptest! {
        /// The token response's JSON is serde_json's, byte for byte, whatever its strings hold
        /// (quotes, backslashes, control characters, any Unicode) and whichever are absent.
        #[test]
        fn the_token_response_is_serde_jsons(
            access in "\\PC{0,40}|[A-Za-z0-9._-]{0,600}|[\\x00-\\x7f]{0,20}",
            expires_in in proptest::prelude::any::<i64>(),
            scope in proptest::option::of("\\PC{0,30}"),
            refresh in proptest::option::of("[\\x00-\\x7f]{0,40}"),
            id_token in proptest::option::of("[A-Za-z0-9._-]{0,80}"),
            bearer in proptest::prelude::any::<bool>(),
            exchanged in proptest::prelude::any::<bool>(),
        ) {
            let r = TokenResponse {
                access_token: access,
                token_type: if bearer { "Bearer" } else { "DPoP" },
                expires_in,
                scope,
                refresh_token: refresh,
                id_token,
                issued_token_type: exchanged
                    .then_some("urn:ietf:params:oauth:token-type:access_token"),
            };
            let ours = String::from_utf8(r.to_json()).unwrap();
            proptest::prop_assert_eq!(ours, serde_json::to_string(&r).unwrap());
        }
    }
}

#[cfg(test)]
mod scope_tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn scopes_narrow_to_what_is_allowed_without_repeats() {
        let within = ["openid", "profile", "api.read"];
        // RFC 6749 §3.3: absent (or blank) means everything allowed.
        assert_eq!(
            narrow_scopes(&within, None, "x").unwrap(),
            "openid profile api.read"
        );
        assert_eq!(
            narrow_scopes(&within, Some("  "), "x").unwrap(),
            "openid profile api.read"
        );
        assert_eq!(
            narrow_scopes(&within, Some("api.read  openid api.read"), "x").unwrap(),
            "api.read openid"
        );
        let e = narrow_scopes(
            &within,
            Some("openid admin"),
            "is not allowed for this client",
        )
        .unwrap_err();
        assert_eq!(e.code(), "invalid_scope");
        assert!(
            e.to_string()
                .contains("scope 'admin' is not allowed for this client"),
            "{e}"
        );
    }

    #[test]
    fn service_errors_reach_the_protocol_endpoints_by_kind() {
        let e = OAuthError::from(CoreError::invalid("scope", "is empty"));
        assert_eq!(e.code(), "invalid_request");
        assert!(e.to_string().contains("scope"), "{e}");
        let e = OAuthError::from(CoreError::Store(tessera_store::StoreError::Unavailable(
            "pool timed out".into(),
        )));
        assert_eq!(e.code(), "temporarily_unavailable");
        assert!(!e.to_string().contains("pool"), "{e}");
        let e = OAuthError::from(CoreError::internal("disk on fire"));
        assert_eq!(e.code(), "server_error");
        assert!(!e.to_string().contains("disk"), "{e}");
    }
}

#[cfg(test)]
mod debug_tests {
    use super::*;

    #[test]
    fn debug_never_prints_a_secret_or_a_token() {
        let auth = ClientAuth {
            credentials: ClientCredentials::Basic {
                client_id: "app".into(),
                secret: "cs_live_SECRET".into(),
            },
            address: None,
            request_id: None,
            dpop: None,
            proven: None,
        };
        let shown = format!("{auth:?}");
        assert!(
            shown.contains("app") && !shown.contains("SECRET"),
            "{shown}"
        );
        let r = TokenResponse {
            access_token: "eyJ.ACCESS".into(),
            token_type: "Bearer",
            expires_in: 1,
            scope: None,
            refresh_token: Some("REFRESH".into()),
            id_token: None,
            issued_token_type: None,
        };
        let shown = format!("{r:?}");
        assert!(
            !shown.contains("ACCESS") && !shown.contains("REFRESH"),
            "{shown}"
        );
    }
}
