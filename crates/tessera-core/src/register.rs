//! Dynamic client registration (RFC 7591) and its management protocol (RFC 7592), under the
//! organization's [`RegistrationPolicy`]. A registered client is an ordinary client: the same
//! rules, the same admin API; the registration endpoint only translates RFC 7591 metadata to
//! the client's settings and back, and calls the same service functions the admin API does,
//! as a [`Principal::registration`] holding just the permission of the operation.
//!
//! Initial access tokens (`iat_…`) and registration access tokens (`rat_…`) are 256-bit
//! random values shown once and kept only as keyed hashes.

use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Map, Value};
use tessera_crypto::random::{generate_secret, secret_hint};
use tessera_domain::client::{ClientInput, GrantType, OAuthClient};
use tessera_domain::clock::to_millis;
use tessera_domain::registration::{RegistrationMode, RegistrationPolicy};
use tessera_domain::{AuditAction, OrgId, Organization, Permission, Principal};
use tessera_store::InitialAccessToken;
use uuid::Uuid;

use crate::audit::AuditEntry;
use crate::clients::{ClientPatch, ClientWithSecret};
use crate::{snapshot, Context, CoreError, CoreResult, ErrorKind, Services};

const INITIAL_TOKEN_PREFIX: &str = "iat_";
const REGISTRATION_TOKEN_PREFIX: &str = "rat_";

/// An RFC 7591 §3.2.2 / RFC 7592 §3 error: status, code and description.
#[derive(Debug)]
pub struct RegistrationError {
    pub status: u16,
    pub error: &'static str,
    pub description: String,
}

impl RegistrationError {
    fn new(status: u16, error: &'static str, description: impl Into<String>) -> Self {
        Self {
            status,
            error,
            description: description.into(),
        }
    }

    fn metadata(description: impl Into<String>) -> Self {
        Self::new(400, "invalid_client_metadata", description)
    }

    fn token() -> Self {
        Self::new(
            401,
            "invalid_token",
            "a valid registration access token is required",
        )
    }
}

impl From<CoreError> for RegistrationError {
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::Validation(v) => {
                // The first problem, in RFC 7591's terms and field names.
                let first = v.errors.first();
                let field = first.map_or("", |f| f.field.as_str());
                let message = first.map_or("", |f| f.message.as_str());
                let name = rfc_field(field);
                if field.starts_with("redirectUris") || field.starts_with("postLogoutRedirectUris")
                {
                    Self::new(400, "invalid_redirect_uri", format!("{name}: {message}"))
                } else {
                    Self::metadata(format!("{name}: {message}"))
                }
            }
            other => match other.kind() {
                ErrorKind::Unavailable => {
                    Self::new(503, "temporarily_unavailable", other.public_message())
                }
                ErrorKind::NotFound => Self::token(),
                _ => {
                    tracing::error!(error = %other, "client registration failed");
                    Self::new(500, "server_error", crate::error::INTERNAL_ERROR)
                }
            },
        }
    }
}

pub type RegistrationResult<T> = Result<T, RegistrationError>;

/// The admin API's field names in RFC 7591's words.
fn rfc_field(field: &str) -> String {
    let (head, rest) = field.split_at(field.find('[').unwrap_or(field.len()));
    let name = match head {
        "name" => "client_name",
        "redirectUris" => "redirect_uris",
        "postLogoutRedirectUris" => "post_logout_redirect_uris",
        "grantTypes" => "grant_types",
        "allowedScopes" => "scope",
        "clientUri" => "client_uri",
        "logoUri" => "logo_uri",
        "isConfidential" => "token_endpoint_auth_method",
        "idTokenSignedResponseAlg" => "id_token_signed_response_alg",
        "userinfoSignedResponseAlg" => "userinfo_signed_response_alg",
        "requestObjectSigningAlg" => "request_object_signing_alg",
        "tokenEndpointAuthMethod" => "token_endpoint_auth_method",
        "jwks" => "jwks",
        "jwksUri" => "jwks_uri",
        "backchannelLogoutUri" => "backchannel_logout_uri",
        "requirePushedAuthorizationRequests" => "require_pushed_authorization_requests",
        "dpopBoundAccessTokens" => "dpop_bound_access_tokens",
        "requireSignedRequestObject" => "require_signed_request_object",
        other => other,
    };
    format!("{name}{rest}")
}

fn strings(meta: &Map<String, Value>, key: &str) -> RegistrationResult<Option<Vec<String>>> {
    match meta.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str().map(str::to_owned).ok_or_else(|| {
                    RegistrationError::metadata(format!("{key} must be an array of strings"))
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(RegistrationError::metadata(format!(
            "{key} must be an array of strings"
        ))),
    }
}

fn string(meta: &Map<String, Value>, key: &str) -> RegistrationResult<Option<String>> {
    match meta.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(RegistrationError::metadata(format!(
            "{key} must be a string"
        ))),
    }
}

fn boolean(meta: &Map<String, Value>, key: &str) -> RegistrationResult<bool> {
    match meta.get(key) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(RegistrationError::metadata(format!(
            "{key} must be true or false"
        ))),
    }
}

/// A Client ID Metadata Document's metadata as client settings input, within the policy
/// (the rules of dynamic registration; see `cimd.rs`).
pub(crate) fn document_client(
    policy: &RegistrationPolicy,
    doc: &Value,
) -> Result<ClientInput, String> {
    to_input(policy, doc).map_err(|e| e.description)
}

/// RFC 7591 §2 metadata → client settings, checked against the policy. Metadata Tessera does
/// not know is ignored (§2).
fn to_input(policy: &RegistrationPolicy, meta: &Value) -> RegistrationResult<ClientInput> {
    let Some(meta) = meta.as_object() else {
        return Err(RegistrationError::metadata(
            "the body must be a JSON object of client metadata",
        ));
    };
    let auth_method =
        string(meta, "token_endpoint_auth_method")?.unwrap_or_else(|| "client_secret_basic".into());
    // The MCP preset: agents on the user's machine are public clients (RFC 8252 §8.4).
    if policy.preset == Some(tessera_domain::registration::RegistrationPreset::Mcp)
        && auth_method != "none"
    {
        return Err(RegistrationError::metadata(format!(
            "token_endpoint_auth_method '{auth_method}': this organization registers public clients only (none)"
        )));
    }
    let is_confidential = match auth_method.as_str() {
        "client_secret_basic" | "client_secret_post" | "private_key_jwt" => true,
        "none" => false,
        other => {
            return Err(RegistrationError::metadata(format!(
                "token_endpoint_auth_method '{other}' is not supported; use client_secret_basic, client_secret_post, private_key_jwt or none"
            )))
        }
    };
    // §2: the keys by value (jwks) or by reference (jwks_uri), not both (the client rules
    // say so on jwksUri).
    let jwks = match meta.get("jwks") {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.clone()),
    };
    let grant_types = strings(meta, "grant_types")?
        .unwrap_or_else(|| vec![GrantType::AuthorizationCode.as_str().into()]);
    for g in &grant_types {
        if !policy.allowed_grant_types.contains(g) {
            return Err(RegistrationError::metadata(format!(
                "grant_types: '{g}' is not allowed by this organization's registration policy"
            )));
        }
    }
    // §2.1: response type `code` goes with the authorization_code grant, and is the only one.
    let response_types = strings(meta, "response_types")?.unwrap_or_else(|| {
        if grant_types.iter().any(|g| g == "authorization_code") {
            vec!["code".into()]
        } else {
            vec![]
        }
    });
    for r in &response_types {
        if r != "code" {
            return Err(RegistrationError::metadata(format!(
                "response_types: '{r}' is not supported; only code"
            )));
        }
    }
    let has_code_grant = grant_types.iter().any(|g| g == "authorization_code");
    if response_types.is_empty() == has_code_grant {
        return Err(RegistrationError::metadata(
            "response_types and grant_types disagree: code goes with authorization_code",
        ));
    }
    let scopes: Vec<String> = match string(meta, "scope")? {
        Some(s) => s
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        None => policy.allowed_scopes.clone(),
    };
    for s in &scopes {
        if !policy.allowed_scopes.contains(s) {
            return Err(RegistrationError::metadata(format!(
                "scope: '{s}' is not allowed by this organization's registration policy"
            )));
        }
    }
    let redirect_uris = strings(meta, "redirect_uris")?.unwrap_or_default();
    let post_logout = strings(meta, "post_logout_redirect_uris")?.unwrap_or_default();
    for (field, list) in [
        ("redirect_uris", &redirect_uris),
        ("post_logout_redirect_uris", &post_logout),
    ] {
        for (i, u) in list.iter().enumerate() {
            if field == "redirect_uris"
                && policy.preset == Some(tessera_domain::registration::RegistrationPreset::Mcp)
                && !tessera_domain::client::is_native_redirect(u)
            {
                return Err(RegistrationError::new(
                    400,
                    "invalid_redirect_uri",
                    format!("{field}[{i}]: this organization registers loopback (http://127.0.0.1:…) and private-use scheme redirect URIs only"),
                ));
            }
            if !policy.allows_redirect(u) {
                return Err(RegistrationError::new(
                    400,
                    "invalid_redirect_uri",
                    format!("{field}[{i}]: not under an address this organization allows"),
                ));
            }
        }
    }
    // OIDC Registration §2 `request_uris`: checked, not kept, since any request_uri is
    // fetched when it arrives (discovery: require_request_uri_registration false).
    strings(meta, "request_uris")?;
    let defaults = ClientInput::default();
    Ok(ClientInput {
        name: string(meta, "client_name")?.unwrap_or_else(|| "Unnamed client".into()),
        description: None,
        is_confidential: Some(is_confidential),
        redirect_uris,
        post_logout_redirect_uris: strings(meta, "post_logout_redirect_uris")?.unwrap_or_default(),
        allowed_cors_origins: vec![],
        allowed_scopes: Some(scopes),
        grant_types,
        is_active: true,
        // The policy decides for confidential clients; a public one always needs PKCE (the
        // client rules add it).
        require_pkce: policy.require_pkce,
        // A self-registered client is a third party: the user always sees what it asks for.
        require_consent: true,
        client_uri: string(meta, "client_uri")?,
        logo_uri: string(meta, "logo_uri")?,
        id_token_signed_response_alg: string(meta, "id_token_signed_response_alg")?
            .unwrap_or(defaults.id_token_signed_response_alg.clone()),
        // OIDC Registration §2: absent, userinfo answers with plain JSON.
        userinfo_signed_response_alg: string(meta, "userinfo_signed_response_alg")?,
        request_object_signing_alg: string(meta, "request_object_signing_alg")?,
        token_endpoint_auth_method: Some(auth_method),
        jwks,
        jwks_uri: string(meta, "jwks_uri")?,
        // RFC 9126 §6, RFC 9449 §5.2, RFC 9101 §10.5, Back-Channel Logout §2.2.
        require_pushed_authorization_requests: boolean(
            meta,
            "require_pushed_authorization_requests",
        )?,
        dpop_bound_access_tokens: boolean(meta, "dpop_bound_access_tokens")?,
        require_signed_request_object: boolean(meta, "require_signed_request_object")?,
        backchannel_logout_uri: string(meta, "backchannel_logout_uri")?,
        backchannel_logout_session_required: boolean(meta, "backchannel_logout_session_required")?,
        ..defaults
    })
}

impl Services {
    fn registration_uri(&self, org: &tessera_domain::OrgSlug, client_id: &str) -> String {
        format!("{}/api/v1/connect/register/{client_id}", self.issuer(org))
    }

    /// The client as RFC 7591 §3.2.1 shows it.
    fn registration_response(
        &self,
        org: &Organization,
        c: &OAuthClient,
        secret: Option<&SecretString>,
        registration_token: Option<&SecretString>,
    ) -> Value {
        let s = &c.settings;
        let mut v = json!({
            "client_id": c.id.as_str(),
            "client_id_issued_at": to_millis(c.created_at) / 1000,
            "client_name": s.name,
            "redirect_uris": s.redirect_uris.iter().map(|u| u.as_str()).collect::<Vec<_>>(),
            "post_logout_redirect_uris": s.post_logout_redirect_uris.iter().map(|u| u.as_str()).collect::<Vec<_>>(),
            "grant_types": s.grant_types.iter().map(|g| g.as_str()).collect::<Vec<_>>(),
            "response_types": if s.grant_types.contains(&GrantType::AuthorizationCode) { vec!["code"] } else { vec![] },
            "token_endpoint_auth_method": s.token_endpoint_auth_method.as_str(),
            "scope": s.allowed_scopes.iter().map(|x| x.as_str()).collect::<Vec<_>>().join(" "),
            "id_token_signed_response_alg": s.id_token_signed_response_alg.as_str(),
            "registration_client_uri": self.registration_uri(&org.slug, c.id.as_str()),
        });
        for (k, val) in [("client_uri", &s.client_uri), ("logo_uri", &s.logo_uri)] {
            if let Some(x) = val {
                v[k] = json!(x);
            }
        }
        if let Some(a) = s.userinfo_signed_response_alg {
            v["userinfo_signed_response_alg"] = json!(a.as_str());
        }
        if let Some(a) = s.request_object_signing_alg {
            v["request_object_signing_alg"] = json!(a.as_str());
        }
        if let Some(j) = &s.jwks {
            v["jwks"] = j.as_json().clone();
        }
        if let Some(u) = &s.jwks_uri {
            v["jwks_uri"] = json!(u);
        }
        let security = &s.security;
        for (k, on) in [
            (
                "require_pushed_authorization_requests",
                security.require_pushed_authorization_requests,
            ),
            (
                "dpop_bound_access_tokens",
                security.dpop_bound_access_tokens,
            ),
            (
                "require_signed_request_object",
                security.require_signed_request_object,
            ),
        ] {
            if on {
                v[k] = json!(true);
            }
        }
        if let Some(u) = &security.backchannel_logout_uri {
            v["backchannel_logout_uri"] = json!(u);
            v["backchannel_logout_session_required"] =
                json!(security.backchannel_logout_session_required);
        }
        if let Some(secret) = secret {
            v["client_secret"] = json!(secret.expose_secret());
            // §3.2.1: 0 means the secret does not expire.
            v["client_secret_expires_at"] = json!(0);
        }
        if let Some(t) = registration_token {
            v["registration_access_token"] = json!(t.expose_secret());
        }
        v
    }

    /// The organization's policy (the default, closed, until one is set). Discovery and
    /// every authorization request read it, so it is cached; a change drops every entry, here
    /// and (through the change feed) on every node.
    pub(crate) async fn policy_of(&self, org: OrgId) -> CoreResult<Arc<RegistrationPolicy>> {
        if let Some(p) = self.policies.get(&org) {
            return Ok(p);
        }
        // A change committed while this read runs must not be overwritten by what it read.
        let epoch = self.policy_epoch.load(std::sync::atomic::Ordering::Acquire);
        let stored = {
            let mut tx = self.store.read().await?;
            tx.registration_policy(org).await?
        };
        let policy = Arc::new(match stored {
            None => RegistrationPolicy::default(),
            Some(json) => serde_json::from_str(&json)
                .map_err(|e| CoreError::internal(format!("stored registration policy: {e}")))?,
        });
        if self.policy_epoch.load(std::sync::atomic::Ordering::Acquire) == epoch {
            self.policies.insert(org, Arc::clone(&policy));
        }
        Ok(policy)
    }

    /// `GET …/admin/registration-policy`.
    pub async fn get_registration_policy(
        &self,
        ctx: &Context,
        org: &str,
    ) -> CoreResult<RegistrationPolicy> {
        let org = self
            .get_org(ctx, org, Some(Permission::OauthClientsRead))
            .await?;
        self.policy_of(org.id).await.map(|p| (*p).clone())
    }

    /// `PUT …/admin/registration-policy`.
    pub async fn put_registration_policy(
        &self,
        ctx: &Context,
        org: &str,
        policy: RegistrationPolicy,
    ) -> CoreResult<RegistrationPolicy> {
        let mut tx = self.store.begin().await?;
        let org = self
            .org_for(tx.as_mut(), ctx, org, Some(Permission::OauthClientsEdit))
            .await?;
        policy.validate()?;
        let before = tx.registration_policy(org.id).await?;
        let json = serde_json::to_string(&policy).map_err(CoreError::internal)?;
        tx.put_registration_policy(org.id, &json, self.now())
            .await?;
        self.audit(
            tx.as_mut(),
            ctx,
            AuditEntry::new(AuditAction::RegistrationPolicyUpdated, "organization")
                .org(org.id)
                .target(org.slug.to_string())
                .before(before.and_then(|b| serde_json::from_str(&b).ok()))
                .after(snapshot(&policy)),
        )
        .await?;
        tx.record_change(
            Some(org.id),
            crate::cache::CHANGE_REGISTRATION_POLICY,
            org.slug.as_str(),
            self.now(),
        )
        .await?;
        tx.commit().await?;
        // The cached policy, and the documents accepted or refused under it (every node: the
        // change above).
        self.registration_policy_changed();
        Ok(policy)
    }

    /// `POST …/admin/registration-tokens`: an initial access token, shown once.
    pub async fn create_initial_access_token(
        &self,
        ctx: &Context,
        org: &str,
        expires_in: Option<i64>,
    ) -> CoreResult<(SecretString, InitialAccessToken)> {
        if let Some(e) = expires_in {
            if !(60..=31_536_000).contains(&e) {
                return Err(tessera_domain::FieldError::new(
                    "expiresIn",
                    "must be between 60 and 31536000 seconds",
                )
                .into());
            }
        }
        let mut tx = self.store.begin().await?;
        let org = self
            .org_for(tx.as_mut(), ctx, org, Some(Permission::OauthClientsCreate))
            .await?;
        let token = generate_secret(self.rng.as_ref(), INITIAL_TOKEN_PREFIX)
            .map_err(CoreError::internal)?;
        let now = self.now();
        let record = InitialAccessToken {
            id: Uuid::new_v4().to_string(),
            org_id: org.id,
            token_hash: self.handle_hash.hash(token.expose_secret()),
            hint: secret_hint(token.expose_secret()),
            created_at: now,
            expires_at: expires_in.map(|e| now + time::Duration::seconds(e)),
            revoked_at: None,
        };
        tx.insert_initial_access_token(&record).await?;
        self.audit(
            tx.as_mut(),
            ctx,
            AuditEntry::new(AuditAction::RegistrationTokenCreated, "registration_token")
                .org(org.id)
                .target(record.id.clone())
                .after(Some(json!({"hint": record.hint, "expiresIn": expires_in}))),
        )
        .await?;
        tx.commit().await?;
        Ok((token, record))
    }

    /// `GET …/admin/registration-tokens`: metadata only.
    pub async fn list_initial_access_tokens(
        &self,
        ctx: &Context,
        org: &str,
    ) -> CoreResult<Vec<InitialAccessToken>> {
        let mut tx = self.store.read().await?;
        let org = self
            .org_for(tx.as_mut(), ctx, org, Some(Permission::OauthClientsRead))
            .await?;
        Ok(tx.list_initial_access_tokens(org.id).await?)
    }

    /// `DELETE …/admin/registration-tokens/{id}`.
    pub async fn revoke_initial_access_token(
        &self,
        ctx: &Context,
        org: &str,
        id: &str,
    ) -> CoreResult<()> {
        let mut tx = self.store.begin().await?;
        let org = self
            .org_for(tx.as_mut(), ctx, org, Some(Permission::OauthClientsEdit))
            .await?;
        if !tx
            .revoke_initial_access_token(org.id, id, self.now())
            .await?
        {
            return Err(CoreError::NotFound {
                what: "registration token",
                id: id.to_owned(),
            });
        }
        self.audit(
            tx.as_mut(),
            ctx,
            AuditEntry::new(AuditAction::RegistrationTokenRevoked, "registration_token")
                .org(org.id)
                .target(id),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// `POST /orgs/{org}/api/v1/connect/register` (RFC 7591 §3).
    pub async fn register_client(
        &self,
        org_slug: &str,
        bearer: Option<&str>,
        meta: &Value,
        ip: Option<String>,
        request_id: Option<String>,
    ) -> RegistrationResult<Value> {
        let org = self.protocol_org(org_slug).await.map_err(|_| {
            RegistrationError::new(
                404,
                "not_found",
                format!("organization '{org_slug}' not found"),
            )
        })?;
        let policy = self.policy_of(org.id).await?;
        match policy.mode {
            RegistrationMode::Closed => {
                return Err(RegistrationError::new(
                    403,
                    "access_denied",
                    "client registration is closed in this organization",
                ))
            }
            RegistrationMode::Open => {}
            RegistrationMode::Token => {
                let ok = match bearer {
                    Some(t) => {
                        let found = {
                            let mut tx = self.store.read().await.map_err(CoreError::from)?;
                            tx.find_initial_access_token(org.id, &self.handle_hash.hash(t))
                                .await
                                .map_err(CoreError::from)?
                        };
                        let now = self.now();
                        found.is_some_and(|f| {
                            f.revoked_at.is_none() && f.expires_at.is_none_or(|e| e > now)
                        })
                    }
                    None => false,
                };
                if !ok {
                    return Err(RegistrationError::new(
                        401,
                        "invalid_token",
                        "this organization needs an initial access token to register a client",
                    ));
                }
            }
        }
        if !self
            .allow_attempt(self.limits.registration(org.id, ip.as_deref()))
            .await
        {
            return Err(RegistrationError::new(
                429,
                "temporarily_unavailable",
                "too many registrations from this address; wait a minute",
            ));
        }
        let input = to_input(&policy, meta)?;
        let ctx = Context {
            principal: Principal::registration(
                org.id,
                "client registration",
                &[Permission::OauthClientsCreate],
            ),
            ip,
            request_id,
        };
        let token = generate_secret(self.rng.as_ref(), REGISTRATION_TOKEN_PREFIX)
            .map_err(CoreError::internal)?;
        // The client and its registration token in one write: never one without the other.
        let mut tx = self.store.begin().await.map_err(CoreError::from)?;
        let ClientWithSecret { client, secret } = self
            .create_client_in(tx.as_mut(), &ctx, org_slug, input)
            .await?;
        tx.set_registration_token(
            org.id,
            client.id.as_str(),
            &self.handle_hash.hash(token.expose_secret()),
            self.now(),
        )
        .await
        .map_err(CoreError::from)?;
        tx.commit().await.map_err(CoreError::from)?;
        self.client_created(&client);
        Ok(self.registration_response(&org, &client, secret.as_ref(), Some(&token)))
    }

    /// The organization and a context for RFC 7592 calls on `client_id`, once its registration
    /// access token checks out. Any failure is the same 401, so nothing tells whether the
    /// client exists.
    async fn registered(
        &self,
        org_slug: &str,
        client_id: &str,
        bearer: Option<&str>,
        permission: Permission,
        ip: Option<String>,
        request_id: Option<String>,
    ) -> RegistrationResult<(Organization, Context)> {
        use subtle::ConstantTimeEq;
        let org = self
            .protocol_org(org_slug)
            .await
            .map_err(|_| RegistrationError::token())?;
        let Some(bearer) = bearer else {
            return Err(RegistrationError::token());
        };
        let stored = {
            let mut tx = self.store.read().await.map_err(CoreError::from)?;
            tx.registration_token(org.id, client_id)
                .await
                .map_err(CoreError::from)?
        };
        let given = self.handle_hash.hash(bearer);
        if !stored.is_some_and(|s| bool::from(s.as_bytes().ct_eq(given.as_bytes()))) {
            return Err(RegistrationError::token());
        }
        let ctx = Context {
            principal: Principal::registration(org.id, client_id, &[permission]),
            ip,
            request_id,
        };
        Ok((Arc::unwrap_or_clone(org), ctx))
    }

    /// `GET …/connect/register/{client_id}` (RFC 7592 §2.1).
    pub async fn read_registration(
        &self,
        org_slug: &str,
        client_id: &str,
        bearer: Option<&str>,
    ) -> RegistrationResult<Value> {
        let (org, ctx) = self
            .registered(
                org_slug,
                client_id,
                bearer,
                Permission::OauthClientsRead,
                None,
                None,
            )
            .await?;
        let client = self.get_client(&ctx, org_slug, client_id).await?;
        Ok(self.registration_response(&org, &client, None, None))
    }

    /// `PUT …/connect/register/{client_id}` (RFC 7592 §2.2): the metadata replaced.
    pub async fn update_registration(
        &self,
        org_slug: &str,
        client_id: &str,
        bearer: Option<&str>,
        meta: &Value,
        ip: Option<String>,
        request_id: Option<String>,
    ) -> RegistrationResult<Value> {
        let (org, ctx) = self
            .registered(
                org_slug,
                client_id,
                bearer,
                Permission::OauthClientsEdit,
                ip,
                request_id,
            )
            .await?;
        // §2.2: the body names the client it replaces.
        if meta.get("client_id").and_then(Value::as_str) != Some(client_id) {
            return Err(RegistrationError::new(
                400,
                "invalid_request",
                "client_id in the body must be the client's own",
            ));
        }
        let policy = self.policy_of(org.id).await?;
        let input = to_input(&policy, meta)?;
        // The registration metadata is replaced; what an operator set beyond it (enabled or
        // not, lifetimes, CORS origins, token exchange, description) stays.
        let patch = ClientPatch {
            name: Some(input.name),
            is_confidential: input.is_confidential,
            redirect_uris: Some(input.redirect_uris),
            post_logout_redirect_uris: Some(input.post_logout_redirect_uris),
            allowed_scopes: input.allowed_scopes,
            grant_types: Some(input.grant_types),
            client_uri: Some(input.client_uri),
            logo_uri: Some(input.logo_uri),
            id_token_signed_response_alg: Some(input.id_token_signed_response_alg),
            ..ClientPatch::default()
        };
        let ClientWithSecret { client, secret } =
            self.patch_client(&ctx, org_slug, client_id, patch).await?;
        Ok(self.registration_response(&org, &client, secret.as_ref(), None))
    }

    /// `DELETE …/connect/register/{client_id}` (RFC 7592 §2.3): the client and its tokens gone.
    pub async fn delete_registration(
        &self,
        org_slug: &str,
        client_id: &str,
        bearer: Option<&str>,
        ip: Option<String>,
        request_id: Option<String>,
    ) -> RegistrationResult<()> {
        let (_, ctx) = self
            .registered(
                org_slug,
                client_id,
                bearer,
                Permission::OauthClientsDelete,
                ip,
                request_id,
            )
            .await?;
        self.delete_client(&ctx, org_slug, client_id).await?;
        Ok(())
    }
}

impl Services {
    /// Deletes the registered clients that got no token within their organization's
    /// `unusedClientLifetime` (since registration, or since their last token), each with an
    /// `oauth_client.deleted` audit event by the system; returns how many. Run by every node
    /// about every ten minutes (deleting one twice finds nothing the second time).
    pub async fn expire_unused_clients(&self) -> CoreResult<usize> {
        let policies = {
            let mut tx = self.store.read().await?;
            tx.all_registration_policies().await?
        };
        let now = self.now();
        let mut removed = 0;
        for (org, json) in policies {
            let Some(lifetime) = serde_json::from_str::<RegistrationPolicy>(&json)
                .ok()
                .and_then(|p| p.unused_client_lifetime)
            else {
                continue;
            };
            let before = now - time::Duration::seconds(lifetime);
            let unused = {
                let mut tx = self.store.read().await?;
                tx.unused_registered_clients(org, before, 500).await?
            };
            for id in unused {
                let Ok(client_id) = tessera_domain::client::ClientId::parse(&id) else {
                    continue;
                };
                let mut tx = self.store.begin().await?;
                let Some(before_delete) = tx.find_client(org, &client_id).await? else {
                    continue;
                };
                tx.delete_client(org, &client_id).await?;
                self.audit(
                    tx.as_mut(),
                    &Context::system(),
                    AuditEntry::new(AuditAction::OauthClientDeleted, "oauth_client")
                        .org(org)
                        .target(id.clone())
                        .before(crate::snapshot(&before_delete.without_secrets())),
                )
                .await?;
                tx.record_change(Some(org), crate::cache::CHANGE_CLIENT, &id, now)
                    .await?;
                tx.commit().await?;
                self.caches.forget_client(org, &id);
                self.caches.cors.invalidate(&org);
                tracing::info!(client_id = %id, "unused registered client deleted");
                removed += 1;
            }
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_fields_in_rfc_words() {
        assert_eq!(rfc_field("redirectUris[1]"), "redirect_uris[1]");
        assert_eq!(rfc_field("name"), "client_name");
        assert_eq!(rfc_field("allowedScopes[0]"), "scope[0]");
    }

    #[test]
    fn metadata_maps_to_settings_within_the_policy() {
        let policy = RegistrationPolicy {
            mode: RegistrationMode::Open,
            ..RegistrationPolicy::default()
        };
        let input = to_input(
            &policy,
            &json!({"client_name": "App", "redirect_uris": ["https://app.example/cb"], "token_endpoint_auth_method": "none", "scope": "openid email", "software_id": "ignored"}),
        )
        .unwrap();
        assert_eq!(input.is_confidential, Some(false));
        assert_eq!(input.grant_types, ["authorization_code"]);
        assert_eq!(input.allowed_scopes.unwrap(), ["openid", "email"]);
        assert!(input.require_consent);
        let err = to_input(&policy, &json!({"grant_types": ["client_credentials"]})).unwrap_err();
        assert_eq!(err.error, "invalid_client_metadata");
        let err = to_input(&policy, &json!({"redirect_uris": "https://x"})).unwrap_err();
        assert_eq!(err.description, "redirect_uris must be an array of strings");
        let err = to_input(&policy, &json!({"response_types": ["token"]})).unwrap_err();
        assert!(err.description.contains("only code"));
    }
}
