//! Connections: an organization's links to the platforms it streams on (app credentials,
//! connect / reconnect through the platform's OAuth, disconnect), its custom chat bots, the
//! tools on its machines (OBS, Streamer.bot) and its StreamElements tokens.
//!
//! Every secret (client ids and secrets, access and refresh tokens, PKCE verifiers, passwords,
//! JWTs) is sealed by the vault with the row's identity as associated data before it reaches
//! the store, and opened only where it is used. The platform calls themselves are in
//! `tessera-connect`; this module decides when to make them and records what happened.
//! Keeping tokens fresh is [`crate::connection_worker`]'s job.

use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use tessera_connect::oauth::{AppCredentials, Identity, PlatformClient, PlatformError, TokenSet};
use tessera_connect::{Pkce, ProviderConfig};
use tessera_crypto::RowId;
use tessera_domain::connection::{
    hint, parse_label, parse_pasted, IntegrationInput, IntegrationSettings, MAX_CREDENTIAL_LEN,
    MAX_TOKEN_LEN,
};
use tessera_domain::{
    AuditAction, CardState, ConnectionKind, OrgId, Organization, Permission, Platform, Timestamp,
};
use tessera_store::{
    ConnectionRecord, ConnectionState, CredentialRecord, IntegrationRecord, SealedColumn,
    StreamElementsTokenRecord,
};

use crate::{snapshot, Context, CoreError, CoreResult, Services};

/// How long a connect flow may take, from the Connect click to the callback.
pub const STATE_TTL: time::Duration = time::Duration::minutes(10);

type Ts = Timestamp;

/// One platform's card on the Connections page.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionCard {
    pub platform: Platform,
    pub name: &'static str,
    pub state: CardState,
    /// The card's sentence ("Set up app credentials to connect this platform.", …).
    pub message: &'static str,
    /// False when switched off system-wide (the card is Unavailable).
    pub enabled: bool,
    pub credentials_configured: bool,
    /// The scopes a Connect asks for now.
    pub default_scopes: Vec<String>,
    #[serde(flatten)]
    pub connection: Option<ConnectionView>,
}

/// A live connection as the console shows it: never a token.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionView {
    pub channel_name: String,
    pub channel_id: String,
    pub scopes: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub connected_at: Ts,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: Ts,
    #[serde(with = "time::serde::rfc3339::option")]
    pub token_expires_at: Option<Ts>,
    /// True when the platform refused the refresh: the expiry shows in red; Reconnect fixes it.
    pub refresh_failed: bool,
    pub refresh: RefreshHealth,
}

/// How the refresh worker is doing with a connection.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RefreshHealth {
    /// `ok`, `retrying` (transient failures, backing off) or `failed` (reconnect needed);
    /// `none` when the platform gave no refresh token.
    pub status: &'static str,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_refreshed_at: Option<Ts>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_refresh_at: Option<Ts>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub failed_at: Option<Ts>,
    pub error: Option<String>,
    pub attempts: i32,
}

fn connection_view(c: &ConnectionRecord) -> ConnectionView {
    let status = if c.refresh_failed_at.is_some() {
        "failed"
    } else if c.refresh_token.is_none() {
        "none"
    } else if c.refresh_attempts > 0 {
        "retrying"
    } else {
        "ok"
    };
    ConnectionView {
        channel_name: c.channel_name.clone(),
        channel_id: c.channel_id.clone(),
        scopes: c.scopes.clone(),
        connected_at: c.connected_at,
        updated_at: c.updated_at,
        token_expires_at: c.token_expires_at,
        refresh_failed: c.refresh_failed_at.is_some(),
        refresh: RefreshHealth {
            status,
            last_refreshed_at: c.last_refreshed_at,
            next_refresh_at: c.next_refresh_at,
            failed_at: c.refresh_failed_at,
            error: c.refresh_error.clone(),
            attempts: c.refresh_attempts,
        },
    }
}

/// App credentials as listed: a hint of the client id, never the secret.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CredentialView {
    pub platform: Platform,
    pub name: &'static str,
    pub configured: bool,
    /// The client id's last 4 characters.
    pub client_id_hint: Option<String>,
    /// What to register as the redirect URI in the platform's developer console.
    pub redirect_uri: String,
    #[serde(with = "time::serde::rfc3339::option")]
    pub created_at: Option<Ts>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub updated_at: Option<Ts>,
}

/// A platform token for a consumer.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FreshToken {
    pub platform: Platform,
    pub kind: ConnectionKind,
    pub access_token: String,
    pub token_type: &'static str,
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<Ts>,
    pub scopes: Vec<String>,
    pub channel_id: String,
    pub channel_name: String,
    /// The app's client id, which some platform APIs want beside the token (Twitch's
    /// `Client-Id`).
    pub client_id: String,
}
opaque_debug!(FreshToken);

/// A custom bot, or the global one, per platform.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BotConnectionView {
    pub platform: Platform,
    pub name: &'static str,
    /// `global` (the hosted bot, no setup) or `custom`.
    pub mode: &'static str,
    pub enabled: bool,
    pub credentials_configured: bool,
    /// Who posts: the global bot's name or the custom bot's account.
    pub bot_name: String,
    pub bot_id: Option<String>,
    #[serde(flatten)]
    pub connection: Option<ConnectionView>,
}

/// An integration as listed: never the password.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IntegrationView {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: tessera_domain::IntegrationKind,
    pub label: String,
    pub host: String,
    pub port: u16,
    pub endpoint: String,
    pub remote_access: bool,
    pub enabled: bool,
    pub has_password: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: Ts,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: Ts,
}

fn integration_view(i: &IntegrationRecord) -> IntegrationView {
    let s = &i.settings;
    IntegrationView {
        id: i.id.clone(),
        kind: s.kind,
        label: s.label.clone(),
        host: s.host.clone(),
        port: s.port,
        endpoint: s.endpoint.clone(),
        remote_access: s.remote_access,
        enabled: s.enabled,
        has_password: i.password.is_some(),
        created_at: i.created_at,
        updated_at: i.updated_at,
    }
}

/// A change to an integration: absent fields stay; `password: Some(None)` removes it.
#[derive(Default)]
pub struct IntegrationPatch {
    pub label: Option<String>,
    pub host: Option<String>,
    pub port: Option<i64>,
    pub endpoint: Option<String>,
    pub remote_access: Option<bool>,
    pub enabled: Option<bool>,
    pub password: Option<Option<SecretString>>,
}
opaque_debug!(IntegrationPatch);

/// A StreamElements token as listed.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SeTokenView {
    pub id: String,
    pub platform: Platform,
    pub label: Option<String>,
    /// `…` and the token's last 4 characters.
    pub hint: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: Ts,
}

fn se_view(t: &StreamElementsTokenRecord) -> SeTokenView {
    SeTokenView {
        id: t.id.clone(),
        platform: t.platform,
        label: t.label.clone(),
        hint: format!("…{}", t.hint),
        created_at: t.created_at,
    }
}

/// A platform's system-wide settings.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderView {
    pub platform: Platform,
    pub name: &'static str,
    pub enabled: bool,
    pub authorize_url: String,
    pub token_url: String,
    pub revoke_url: Option<String>,
    pub api_url: String,
    pub validate_url: Option<String>,
    pub scopes: Vec<String>,
    pub pkce: &'static str,
}

/// The switches, credentials and connections of one organization.
struct Picture {
    disabled: Vec<Platform>,
    creds: Vec<CredentialRecord>,
    conns: Vec<ConnectionRecord>,
}

/// Where a finished callback sends the browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackOutcome {
    pub platform: Platform,
    pub kind: ConnectionKind,
}

/// A callback that could not complete: the browser goes back to the page with this error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackError {
    pub platform: Option<Platform>,
    pub kind: ConnectionKind,
    /// A stable code: `invalid_state`, `access_denied`, `platform_error`,
    /// `token_exchange_failed`, `channel_lookup_failed`, `channel_mismatch`, `unavailable`
    /// (switched off system-wide), `not_configured` or `server_error`.
    pub code: &'static str,
    pub message: String,
}

impl CallbackError {
    fn new(
        platform: Option<Platform>,
        kind: ConnectionKind,
        code: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Self {
            platform,
            kind,
            code,
            message: message.into(),
        }
    }
}

/// The vault identity of one sealed cell.
pub(crate) fn cell<'a>(org: &'a str, col: SealedColumn, id: &'a str) -> RowId<'a> {
    let (table, column, _) = col.names();
    RowId {
        org,
        table,
        row: id,
        column,
    }
}

fn internal(e: impl std::fmt::Display) -> CoreError {
    CoreError::Internal(e.to_string())
}

/// What a card is, from the switch, the credentials and the connection.
fn card_state(enabled: bool, creds: bool, connected: bool) -> CardState {
    match (enabled, creds, connected) {
        (false, _, _) => CardState::Unavailable,
        (true, _, true) => CardState::Connected,
        (true, true, false) => CardState::CredentialsConfigured,
        (true, false, false) => CardState::NotConfigured,
    }
}

pub(crate) fn platform_arg(s: &str) -> CoreResult<Platform> {
    Platform::parse(s).map_err(|_| CoreError::not_found("platform", s))
}

impl Services {
    pub(crate) fn provider(&self, p: Platform) -> &ProviderConfig {
        self.config.providers.get(p)
    }

    /// The redirect URI registered with the platform: one per organization and platform,
    /// for the channel and the bot alike (the `state` says which).
    pub fn connection_redirect_uri(&self, org: &str, p: Platform) -> String {
        format!(
            "{}/orgs/{org}/api/v1/connections/{}/callback",
            self.config.public_url,
            p.as_str()
        )
    }

    /// Seals `v` for one cell; the cell's identity (organization, table, row, column, named
    /// once in [`SealedColumn`] so that re-encryption walks the same names) is bound in.
    pub(crate) fn seal(
        &self,
        org: OrgId,
        col: SealedColumn,
        id: &str,
        v: &str,
    ) -> CoreResult<String> {
        let o = org.to_string();
        self.vault
            .seal(cell(&o, col, id), v.as_bytes(), self.rng.as_ref())
            .map_err(internal)
    }

    pub(crate) fn open(
        &self,
        org: OrgId,
        col: SealedColumn,
        id: &str,
        v: &str,
    ) -> CoreResult<SecretString> {
        let o = org.to_string();
        let (table, column, _) = col.names();
        let bytes = self
            .vault
            .open(cell(&o, col, id), v)
            .map_err(|_| internal(format!("{table}.{column} of row {id} cannot be decrypted")))?;
        String::from_utf8(bytes)
            .map(SecretString::from)
            .map_err(|_| internal(format!("{table}.{column} of row {id} is not text")))
    }

    pub(crate) fn open_credentials(&self, c: &CredentialRecord) -> CoreResult<AppCredentials> {
        Ok(AppCredentials {
            client_id: self
                .open(
                    c.org_id,
                    SealedColumn::CredentialClientId,
                    &c.id,
                    &c.client_id,
                )?
                .expose_secret()
                .to_owned(),
            client_secret: self.open(
                c.org_id,
                SealedColumn::CredentialClientSecret,
                &c.id,
                &c.client_secret,
            )?,
        })
    }

    /// What the Connections page and its Bot sub-page are drawn from, read in one go.
    async fn connections_picture(
        &self,
        ctx: &Context,
        org: &str,
        perm: Permission,
    ) -> CoreResult<Picture> {
        let mut tx = self.store.read().await?;
        let org = self.org_for(tx.as_mut(), ctx, org, Some(perm)).await?;
        Ok(Picture {
            disabled: tx.disabled_providers().await?,
            creds: tx.list_credentials(org.id).await?,
            conns: tx.list_connections(org.id).await?,
        })
    }

    /// `GET /connections`: one card per platform.
    pub async fn connection_cards(
        &self,
        ctx: &Context,
        org: &str,
    ) -> CoreResult<Vec<ConnectionCard>> {
        let Picture {
            disabled,
            creds,
            conns,
        } = self
            .connections_picture(ctx, org, Permission::ConnectionsRead)
            .await?;
        Ok(Platform::ALL
            .iter()
            .map(|&p| {
                let enabled = !disabled.contains(&p);
                let has_creds = creds.iter().any(|c| c.platform == p);
                let conn = conns
                    .iter()
                    .find(|c| c.platform == p && c.kind == ConnectionKind::Channel);
                let state = card_state(enabled, has_creds, conn.is_some());
                ConnectionCard {
                    platform: p,
                    name: p.display_name(),
                    state,
                    message: state.message(),
                    enabled,
                    credentials_configured: has_creds,
                    default_scopes: self.provider(p).scopes.clone(),
                    connection: conn.map(connection_view),
                }
            })
            .collect())
    }

    /// `GET /connections/credentials`.
    pub async fn list_credentials(
        &self,
        ctx: &Context,
        org: &str,
    ) -> CoreResult<Vec<CredentialView>> {
        let mut tx = self.store.read().await?;
        let org = self
            .org_for(tx.as_mut(), ctx, org, Some(Permission::ConnectionsEdit))
            .await?;
        let creds = tx.list_credentials(org.id).await?;
        Ok(Platform::ALL
            .iter()
            .map(|&p| self.credential_view(&org, p, creds.iter().find(|c| c.platform == p)))
            .collect())
    }

    fn credential_view(
        &self,
        org: &Organization,
        p: Platform,
        c: Option<&CredentialRecord>,
    ) -> CredentialView {
        CredentialView {
            platform: p,
            name: p.display_name(),
            configured: c.is_some(),
            client_id_hint: c.map(|c| c.client_id_hint.clone()),
            redirect_uri: self.connection_redirect_uri(org.slug.as_str(), p),
            created_at: c.map(|c| c.created_at),
            updated_at: c.map(|c| c.updated_at),
        }
    }

    /// `PUT /connections/credentials/{platform}`: saves (or replaces) the app credentials.
    /// A new client id ends the platform's connections (their tokens belong to the old app);
    /// a new secret for the same app gives a connection whose refresh failed another try.
    pub async fn put_credentials(
        &self,
        ctx: &Context,
        org: &str,
        platform: &str,
        client_id: &str,
        client_secret: &SecretString,
    ) -> CoreResult<CredentialView> {
        let p = platform_arg(platform)?;
        let mut problems = tessera_domain::error::Collector::new();
        let id_v = problems.take(parse_pasted("clientId", client_id, MAX_CREDENTIAL_LEN));
        let secret_v = problems.take(parse_pasted(
            "clientSecret",
            client_secret.expose_secret(),
            MAX_CREDENTIAL_LEN,
        ));
        problems.finish()?;
        let (Some(id_v), Some(secret_v)) = (id_v, secret_v) else {
            return Err(CoreError::invalid("clientId", "is invalid"));
        };
        let mut tx = self.store.begin().await?;
        let org = self
            .org_for(tx.as_mut(), ctx, org, Some(Permission::ConnectionsEdit))
            .await?;
        let now = self.now();
        let existing = tx.find_credentials(org.id, p).await?;
        let mut ended = Vec::new();
        if let Some(old) = &existing {
            let old_id = self.open_credentials(old)?.client_id;
            for kind in [ConnectionKind::Channel, ConnectionKind::Bot] {
                let Some(mut conn) = tx.find_connection(org.id, p, kind).await? else {
                    continue;
                };
                if old_id != id_v {
                    tx.delete_connection(org.id, p, kind).await?;
                    ended.push(kind);
                } else if conn.refresh_failed_at.is_some() {
                    conn.refresh_failed_at = None;
                    conn.refresh_error = None;
                    conn.refresh_attempts = 0;
                    conn.next_refresh_at = Some(now);
                    tx.put_connection(&conn).await?;
                }
            }
        }
        let id = existing
            .as_ref()
            .map_or_else(|| uuid::Uuid::new_v4().to_string(), |c| c.id.clone());
        let rec = CredentialRecord {
            client_id: self.seal(org.id, SealedColumn::CredentialClientId, &id, &id_v)?,
            client_secret: self.seal(
                org.id,
                SealedColumn::CredentialClientSecret,
                &id,
                &secret_v,
            )?,
            client_id_hint: hint(&id_v),
            id,
            org_id: org.id,
            platform: p,
            created_at: existing.as_ref().map_or(now, |c| c.created_at),
            updated_at: now,
        };
        tx.put_credentials(&rec).await?;
        let view = self.credential_view(&org, p, Some(&rec));
        self.audit(
            tx.as_mut(),
            ctx,
            Some(org.id),
            AuditAction::ConnectionCredentialsSaved,
            "platform_credentials",
            Some(p.as_str().into()),
            existing
                .as_ref()
                .map(|c| serde_json::json!({"clientIdHint": c.client_id_hint})),
            Some(
                serde_json::json!({"clientIdHint": rec.client_id_hint, "endedConnections": ended}),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(view)
    }

    /// `DELETE /connections/credentials/{platform}`: the credentials go, and with them the
    /// platform's connections (revoked at the platform first, where it can).
    pub async fn delete_credentials(
        &self,
        ctx: &Context,
        org: &str,
        platform: &str,
    ) -> CoreResult<()> {
        let p = platform_arg(platform)?;
        let (org, creds, conns) = {
            let mut tx = self.store.read().await?;
            let org = self
                .org_for(tx.as_mut(), ctx, org, Some(Permission::ConnectionsEdit))
                .await?;
            let creds = tx
                .find_credentials(org.id, p)
                .await?
                .ok_or_else(|| CoreError::not_found("credentials", p.as_str()))?;
            let mut conns = Vec::new();
            for kind in [ConnectionKind::Channel, ConnectionKind::Bot] {
                conns.extend(tx.find_connection(org.id, p, kind).await?);
            }
            (org, creds, conns)
        };
        for c in &conns {
            self.revoke_at_platform(&creds, c).await;
        }
        let mut tx = self.store.begin().await?;
        for c in &conns {
            if tx.delete_connection(org.id, p, c.kind).await? {
                self.audit(
                    tx.as_mut(),
                    ctx,
                    Some(org.id),
                    disconnect_action(c.kind),
                    "connection",
                    Some(p.as_str().into()),
                    snapshot(&connection_view(c)),
                    Some(serde_json::json!({"reason": "credentials_deleted"})),
                )
                .await?;
            }
        }
        if !tx.delete_credentials(org.id, p).await? {
            return Err(CoreError::not_found("credentials", p.as_str()));
        }
        self.audit(
            tx.as_mut(),
            ctx,
            Some(org.id),
            AuditAction::ConnectionCredentialsDeleted,
            "platform_credentials",
            Some(p.as_str().into()),
            Some(serde_json::json!({"clientIdHint": creds.client_id_hint})),
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Revokes a connection's tokens at the platform, best effort: a platform that cannot be
    /// reached must not keep an organization from disconnecting. True when it answered.
    async fn revoke_at_platform(&self, creds: &CredentialRecord, c: &ConnectionRecord) -> bool {
        let cfg = self.provider(c.platform);
        if cfg.revoke_url.is_none() {
            return false;
        }
        let Ok(app) = self.open_credentials(creds) else {
            return false;
        };
        let mut ok = true;
        if let Ok(at) = self.open(c.org_id, SealedColumn::AccessToken, &c.id, &c.access_token) {
            if let Err(e) = self.platforms.revoke(cfg, &app, at.expose_secret()).await {
                tracing::warn!(platform = %c.platform, error = %e, "revoking the access token failed");
                ok = false;
            }
        }
        if let Some(rt) = &c.refresh_token {
            if let Ok(rt) = self.open(c.org_id, SealedColumn::RefreshToken, &c.id, rt) {
                if let Err(e) = self.platforms.revoke(cfg, &app, rt.expose_secret()).await {
                    tracing::debug!(platform = %c.platform, error = %e, "revoking the refresh token failed");
                }
            }
        }
        ok
    }

    /// `POST /connections/{platform}/authorize` (and the bot's): a single-use `state` bound
    /// to the organization, the platform, the kind of connection and the caller, and the
    /// platform's authorization URL carrying it (with PKCE where the platform takes it).
    pub async fn start_connect(
        &self,
        ctx: &Context,
        org: &str,
        platform: &str,
        kind: ConnectionKind,
    ) -> CoreResult<String> {
        let p = platform_arg(platform)?;
        let perm = match kind {
            ConnectionKind::Channel => Permission::ConnectionsEdit,
            ConnectionKind::Bot => Permission::BotConnectionsCreate,
        };
        let mut tx = self.store.begin().await?;
        let org = self.org_for(tx.as_mut(), ctx, org, Some(perm)).await?;
        if tx.disabled_providers().await?.contains(&p) {
            return Err(CoreError::Conflict(format!(
                "{} is disabled system-wide by the administrators",
                p.display_name()
            )));
        }
        let creds = tx.find_credentials(org.id, p).await?.ok_or_else(|| {
            CoreError::Conflict(format!(
                "set up app credentials for {} first (App Credentials)",
                p.display_name()
            ))
        })?;
        let app = self.open_credentials(&creds)?;
        let cfg = self.provider(p);
        let state =
            tessera_crypto::random::generate_secret(self.rng.as_ref(), "").map_err(internal)?;
        let state_hash = self.handle_hash.hash(state.expose_secret());
        let (verifier, challenge) = if cfg.pkce == Pkce::No {
            (None, None)
        } else {
            let v =
                tessera_crypto::random::generate_secret(self.rng.as_ref(), "").map_err(internal)?;
            let c = tessera_connect::oauth::pkce_challenge(v.expose_secret());
            (Some(v), Some(c))
        };
        let now = self.now();
        let sealed_verifier = verifier
            .as_ref()
            .map(|v| {
                self.seal(
                    org.id,
                    SealedColumn::CodeVerifier,
                    &state_hash,
                    v.expose_secret(),
                )
            })
            .transpose()?;
        tx.insert_connection_state(&ConnectionState {
            state_hash,
            org_id: org.id,
            platform: p,
            kind,
            actor: ctx.principal.actor(),
            code_verifier: sealed_verifier,
            created_at: now,
            expires_at: now + STATE_TTL,
            used_at: None,
        })
        .await?;
        tx.commit().await?;
        Ok(PlatformClient::authorize_url(
            cfg,
            &app.client_id,
            &self.connection_redirect_uri(org.slug.as_str(), p),
            state.expose_secret(),
            challenge.as_deref(),
        ))
    }

    /// `GET /connections/{platform}/callback`: checks the state (known, unused, unexpired,
    /// issued for this organization and platform, and — when the browser is signed in — to
    /// the same person), exchanges the code, reads the channel, and stores the tokens sealed.
    /// Every failure is a [`CallbackError`] for the page to show, never a server error.
    #[allow(clippy::too_many_arguments)]
    pub async fn finish_connect(
        &self,
        caller: Option<&Context>,
        org_slug: &str,
        platform: &str,
        state: Option<&str>,
        code: Option<&str>,
        error: Option<&str>,
        error_description: Option<&str>,
    ) -> Result<CallbackOutcome, CallbackError> {
        let p = Platform::parse(platform).ok();
        let bad_state = |kind| {
            CallbackError::new(
                p,
                kind,
                "invalid_state",
                "This sign-in link is invalid, expired or already used. Start again with Connect.",
            )
        };
        let server_in = |kind: ConnectionKind, e: CoreError| {
            tracing::error!(error = %e, "connection callback failed");
            CallbackError::new(
                p,
                kind,
                "server_error",
                "Something went wrong on our side; try Connect again.",
            )
        };
        let server = |e: CoreError| server_in(ConnectionKind::Channel, e);
        let (Some(p), Some(state)) = (p, state.filter(|s| !s.is_empty() && s.len() <= 512)) else {
            return Err(bad_state(ConnectionKind::Channel));
        };
        let now = self.now();
        let state_hash = self.handle_hash.hash(state);
        let (org, st) = {
            let mut tx = self.store.begin().await.map_err(|e| server(e.into()))?;
            let st = tx
                .take_connection_state(&state_hash, now)
                .await
                .map_err(|e| server(e.into()))?
                .ok_or_else(|| bad_state(ConnectionKind::Channel))?;
            // Committed at once: a state is spent by its first use, whatever follows.
            tx.commit().await.map_err(|e| server(e.into()))?;
            let mut tx = self.store.read().await.map_err(|e| server(e.into()))?;
            let org = tx
                .find_org(st.org_id)
                .await
                .map_err(|e| server(e.into()))?
                .ok_or_else(|| bad_state(st.kind))?;
            (org, st)
        };
        if org.slug.as_str() != org_slug || st.platform != p || st.expires_at <= now {
            return Err(bad_state(st.kind));
        }
        if let Some(c) = caller {
            if c.principal.actor() != st.actor {
                return Err(CallbackError::new(
                    Some(p),
                    st.kind,
                    "invalid_state",
                    "This sign-in was started by someone else. Start again with Connect.",
                ));
            }
        }
        let kind = st.kind;
        let server = |e: CoreError| server_in(kind, e);
        let name = p.display_name();
        if let Some(e) = error {
            let why =
                error_description.map_or_else(String::new, |d| format!(": {}", truncate(d, 200)));
            let code = if e == "access_denied" {
                "access_denied"
            } else {
                "platform_error"
            };
            let msg = if e == "access_denied" {
                format!("Authorization was denied at {name}{why}.")
            } else {
                format!("{name} answered with an error ({}){why}.", truncate(e, 60))
            };
            self.audit_connect_failed(&org, &st, code, &msg).await;
            return Err(CallbackError::new(Some(p), kind, code, msg));
        }
        let Some(code) = code.filter(|c| !c.is_empty()) else {
            return Err(CallbackError::new(
                Some(p),
                kind,
                "platform_error",
                format!("{name} sent no authorization code."),
            ));
        };
        let fail = |code: &'static str, msg: String| CallbackError::new(Some(p), kind, code, msg);
        let creds = {
            let mut tx = self.store.read().await.map_err(|e| server(e.into()))?;
            if tx
                .disabled_providers()
                .await
                .map_err(|e| server(e.into()))?
                .contains(&p)
            {
                return Err(fail(
                    "unavailable",
                    format!("{name} is disabled system-wide by the administrators."),
                ));
            }
            tx.find_credentials(org.id, p)
                .await
                .map_err(|e| server(e.into()))?
                .ok_or_else(|| {
                    fail(
                        "not_configured",
                        format!("The {name} app credentials were removed; set them up again."),
                    )
                })?
        };
        let app = self.open_credentials(&creds).map_err(server)?;
        let verifier = match &st.code_verifier {
            Some(v) => Some(
                self.open(org.id, SealedColumn::CodeVerifier, &st.state_hash, v)
                    .map_err(server)?,
            ),
            None => None,
        };
        let cfg = self.provider(p);
        let redirect_uri = self.connection_redirect_uri(org.slug.as_str(), p);
        let tokens = match self
            .platforms
            .exchange_code(
                cfg,
                &app,
                code,
                &redirect_uri,
                verifier.as_ref().map(|v| v.expose_secret()),
            )
            .await
        {
            Ok(t) => t,
            Err(e) => {
                let msg = exchange_failure(name, &e);
                self.audit_connect_failed(&org, &st, "token_exchange_failed", &msg)
                    .await;
                return Err(fail("token_exchange_failed", msg));
            }
        };
        let identity = match self
            .platforms
            .identity(cfg, &app, tokens.access_token.expose_secret())
            .await
        {
            Ok(i) => i,
            Err(e) => {
                let msg = format!("Connected to {name}, but reading the channel failed: {e}");
                self.audit_connect_failed(&org, &st, "channel_lookup_failed", &msg)
                    .await;
                return Err(fail("channel_lookup_failed", msg));
            }
        };
        match self.store_connection(&org, &st, p, tokens, identity).await {
            Ok(()) => {}
            Err(CoreError::Conflict(m)) => {
                self.audit_connect_failed(&org, &st, "channel_mismatch", &m)
                    .await;
                return Err(fail("channel_mismatch", m));
            }
            Err(e) => return Err(server(e)),
        }
        Ok(CallbackOutcome { platform: p, kind })
    }

    async fn audit_connect_failed(
        &self,
        org: &Organization,
        st: &ConnectionState,
        code: &str,
        msg: &str,
    ) {
        let ctx = Context::new(tessera_domain::Principal::system());
        let r = async {
            let mut tx = self.store.begin().await?;
            tx.insert_audit(&tessera_domain::NewAuditEvent {
                org_id: Some(org.id),
                actor: st.actor.clone(),
                action: AuditAction::ConnectionFailed,
                target_type: "connection".into(),
                target_id: Some(st.platform.as_str().into()),
                ip: ctx.ip.clone(),
                request_id: None,
                before: None,
                after: Some(serde_json::json!({"kind": st.kind, "error": code, "message": msg})),
                created_at: self.now(),
            })
            .await?;
            tx.commit().await?;
            Ok::<_, CoreError>(())
        };
        if let Err(e) = r.await {
            tracing::warn!(error = %e, "could not audit a failed connect");
        }
    }

    /// Stores a new or renewed connection. Reconnecting never changes which channel is linked:
    /// tokens for another account are refused.
    async fn store_connection(
        &self,
        org: &Organization,
        st: &ConnectionState,
        p: Platform,
        tokens: TokenSet,
        identity: Identity,
    ) -> CoreResult<()> {
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let existing = tx.find_connection(org.id, p, st.kind).await?;
        if let Some(e) = &existing {
            if e.channel_id != identity.channel_id {
                return Err(CoreError::Conflict(format!(
                    "You signed in to {} as {}, but this connection is for {}. Sign in as {} to reconnect, or disconnect first to link another account.",
                    p.display_name(),
                    identity.channel_name,
                    e.channel_name,
                    e.channel_name
                )));
            }
        }
        let id = existing
            .as_ref()
            .map_or_else(|| uuid::Uuid::new_v4().to_string(), |e| e.id.clone());
        let schedule = self.schedule(p, tokens.expires_in, now);
        let rec = ConnectionRecord {
            access_token: self.seal(
                org.id,
                SealedColumn::AccessToken,
                &id,
                tokens.access_token.expose_secret(),
            )?,
            refresh_token: tokens
                .refresh_token
                .as_ref()
                .map(|r| self.seal(org.id, SealedColumn::RefreshToken, &id, r.expose_secret()))
                .transpose()?,
            id,
            org_id: org.id,
            platform: p,
            kind: st.kind,
            channel_id: identity.channel_id,
            channel_name: identity.channel_name,
            scopes: tokens
                .scopes
                .clone()
                .unwrap_or_else(|| self.provider(p).scopes.clone()),
            token_expires_at: schedule.expires_at,
            connected_at: existing.as_ref().map_or(now, |e| e.connected_at),
            updated_at: now,
            // The token was issued now: the age the metrics report starts here.
            last_refreshed_at: Some(now),
            next_refresh_at: tokens.refresh_token.as_ref().and(schedule.next_refresh_at),
            next_validate_at: schedule.next_validate_at,
            refresh_attempts: 0,
            refresh_failed_at: None,
            refresh_error: None,
            lease_owner: None,
            lease_until: None,
        };
        tx.put_connection(&rec).await?;
        let ctx = Context::new(tessera_domain::Principal::system());
        tx.insert_audit(&tessera_domain::NewAuditEvent {
            org_id: Some(org.id),
            actor: st.actor.clone(),
            action: match st.kind {
                ConnectionKind::Channel => AuditAction::ConnectionConnected,
                ConnectionKind::Bot => AuditAction::BotConnectionConnected,
            },
            target_type: "connection".into(),
            target_id: Some(p.as_str().into()),
            ip: ctx.ip,
            request_id: None,
            before: existing
                .as_ref()
                .map(connection_view)
                .and_then(|v| snapshot(&v)),
            after: snapshot(&connection_view(&rec)),
            created_at: now,
        })
        .await?;
        tx.commit().await.map_err(Into::into)
    }

    /// `DELETE /connections/{platform}` (and the bot's): revokes at the platform where it
    /// can, then forgets the tokens; the credentials stay. Returns whether the platform
    /// confirmed the revocation.
    pub async fn disconnect(
        &self,
        ctx: &Context,
        org: &str,
        platform: &str,
        kind: ConnectionKind,
    ) -> CoreResult<bool> {
        let p = platform_arg(platform)?;
        let perm = match kind {
            ConnectionKind::Channel => Permission::ConnectionsEdit,
            ConnectionKind::Bot => Permission::BotConnectionsDelete,
        };
        let (org, conn, creds) = {
            let mut tx = self.store.read().await?;
            let org = self.org_for(tx.as_mut(), ctx, org, Some(perm)).await?;
            let conn = tx
                .find_connection(org.id, p, kind)
                .await?
                .ok_or_else(|| CoreError::not_found("connection", p.as_str()))?;
            let creds = tx.find_credentials(org.id, p).await?;
            (org, conn, creds)
        };
        let revoked = match &creds {
            Some(c) => self.revoke_at_platform(c, &conn).await,
            None => false,
        };
        let mut tx = self.store.begin().await?;
        if !tx.delete_connection(org.id, p, kind).await? {
            return Err(CoreError::not_found("connection", p.as_str()));
        }
        self.audit(
            tx.as_mut(),
            ctx,
            Some(org.id),
            disconnect_action(kind),
            "connection",
            Some(p.as_str().into()),
            snapshot(&connection_view(&conn)),
            Some(serde_json::json!({"revokedAtPlatform": revoked})),
        )
        .await?;
        tx.commit().await?;
        Ok(revoked)
    }

    /// `GET /bot-connections`: per platform, the custom bot or the global one.
    pub async fn bot_connections(
        &self,
        ctx: &Context,
        org: &str,
    ) -> CoreResult<Vec<BotConnectionView>> {
        let Picture {
            disabled,
            creds,
            conns,
        } = self
            .connections_picture(ctx, org, Permission::BotConnectionsRead)
            .await?;
        Ok(Platform::ALL
            .iter()
            .map(|&p| {
                let bot = conns
                    .iter()
                    .find(|c| c.platform == p && c.kind == ConnectionKind::Bot);
                BotConnectionView {
                    platform: p,
                    name: p.display_name(),
                    mode: if bot.is_some() { "custom" } else { "global" },
                    enabled: !disabled.contains(&p),
                    credentials_configured: creds.iter().any(|c| c.platform == p),
                    bot_name: bot.map_or_else(
                        || self.config.providers.global_bot_name(p).to_owned(),
                        |b| b.channel_name.clone(),
                    ),
                    bot_id: bot.map(|b| b.channel_id.clone()),
                    connection: bot.map(connection_view),
                }
            })
            .collect())
    }

    /// `GET /connections/{platform}/token`: a live access token, refreshed on the spot when
    /// it is about to expire (one refresh at a time per connection, across nodes too). Never
    /// an expired token: when no fresh one can be had, an error says why.
    pub async fn fresh_token(
        &self,
        ctx: &Context,
        org: &str,
        platform: &str,
        kind: ConnectionKind,
    ) -> CoreResult<FreshToken> {
        let p = platform_arg(platform)?;
        let (org, conn) = {
            let mut tx = self.store.read().await?;
            let org = self
                .org_for(tx.as_mut(), ctx, org, Some(Permission::ConnectionsToken))
                .await?;
            let conn = tx.find_connection(org.id, p, kind).await?.ok_or_else(|| {
                CoreError::not_found("connection", format!("{} {}", p.as_str(), kind.as_str()))
            })?;
            (org, conn)
        };
        let conn = self.ensure_fresh(conn).await?;
        let creds = {
            let mut tx = self.store.read().await?;
            tx.find_credentials(org.id, p)
                .await?
                .ok_or_else(|| CoreError::not_found("credentials", p.as_str()))?
        };
        let app = self.open_credentials(&creds)?;
        let access = self.open(
            org.id,
            SealedColumn::AccessToken,
            &conn.id,
            &conn.access_token,
        )?;
        Ok(FreshToken {
            platform: p,
            kind,
            access_token: access.expose_secret().to_owned(),
            token_type: "bearer",
            expires_at: conn.token_expires_at,
            scopes: conn.scopes.clone(),
            channel_id: conn.channel_id.clone(),
            channel_name: conn.channel_name.clone(),
            client_id: app.client_id,
        })
    }

    /// `GET /api/v1/system/providers`.
    pub async fn list_providers(&self, ctx: &Context) -> CoreResult<Vec<ProviderView>> {
        if !ctx.principal.is_system_admin {
            return Err(CoreError::SystemAdminOnly("see the platform providers"));
        }
        let mut tx = self.store.read().await?;
        let disabled = tx.disabled_providers().await?;
        Ok(Platform::ALL
            .iter()
            .map(|&p| self.provider_view(p, !disabled.contains(&p)))
            .collect())
    }

    fn provider_view(&self, p: Platform, enabled: bool) -> ProviderView {
        let c = self.provider(p);
        ProviderView {
            platform: p,
            name: p.display_name(),
            enabled,
            authorize_url: c.authorize_url.clone(),
            token_url: c.token_url.clone(),
            revoke_url: c.revoke_url.clone(),
            api_url: c.api_url.clone(),
            validate_url: c.validate_url.clone(),
            scopes: c.scopes.clone(),
            pkce: match c.pkce {
                Pkce::No => "none",
                Pkce::Supported => "supported",
                Pkce::Required => "required",
            },
        }
    }

    /// `PATCH /api/v1/system/providers/{platform}`: the system-wide switch.
    pub async fn set_provider_enabled(
        &self,
        ctx: &Context,
        platform: &str,
        enabled: bool,
    ) -> CoreResult<ProviderView> {
        if !ctx.principal.is_system_admin {
            return Err(CoreError::SystemAdminOnly("switch platform providers"));
        }
        let p = platform_arg(platform)?;
        let mut tx = self.store.begin().await?;
        let was = !tx.disabled_providers().await?.contains(&p);
        tx.set_provider_enabled(p, enabled, self.now()).await?;
        self.audit(
            tx.as_mut(),
            ctx,
            None,
            AuditAction::ProviderUpdated,
            "provider",
            Some(p.as_str().into()),
            Some(serde_json::json!({"enabled": was})),
            Some(serde_json::json!({"enabled": enabled})),
        )
        .await?;
        tx.commit().await?;
        Ok(self.provider_view(p, enabled))
    }

    // Integrations.

    /// `GET /integrations`.
    pub async fn list_integrations(
        &self,
        ctx: &Context,
        org: &str,
    ) -> CoreResult<Vec<IntegrationView>> {
        let mut tx = self.store.read().await?;
        let org = self
            .org_for(tx.as_mut(), ctx, org, Some(Permission::ConnectionsRead))
            .await?;
        Ok(tx
            .list_integrations(org.id)
            .await?
            .iter()
            .map(integration_view)
            .collect())
    }

    /// `POST /integrations`.
    pub async fn create_integration(
        &self,
        ctx: &Context,
        org: &str,
        input: IntegrationInput,
        password: Option<SecretString>,
    ) -> CoreResult<IntegrationView> {
        let settings = IntegrationSettings::parse(&input)?;
        let password = parse_password(password)?;
        let mut tx = self.store.begin().await?;
        let org = self
            .org_for(tx.as_mut(), ctx, org, Some(Permission::ConnectionsCreate))
            .await?;
        let id = uuid::Uuid::new_v4().to_string();
        let now = self.now();
        let rec = IntegrationRecord {
            password: password
                .map(|p| {
                    self.seal(
                        org.id,
                        SealedColumn::IntegrationPassword,
                        &id,
                        p.expose_secret(),
                    )
                })
                .transpose()?,
            id,
            org_id: org.id,
            settings,
            created_at: now,
            updated_at: now,
        };
        tx.insert_integration(&rec).await?;
        let view = integration_view(&rec);
        self.audit(
            tx.as_mut(),
            ctx,
            Some(org.id),
            AuditAction::IntegrationCreated,
            "integration",
            Some(rec.id.clone()),
            None,
            snapshot(&view),
        )
        .await?;
        tx.commit().await?;
        Ok(view)
    }

    /// `PATCH /integrations/{id}`: Enable / Disable, or edit fields.
    pub async fn update_integration(
        &self,
        ctx: &Context,
        org: &str,
        id: &str,
        patch: IntegrationPatch,
    ) -> CoreResult<IntegrationView> {
        let mut tx = self.store.begin().await?;
        let org = self
            .org_for(tx.as_mut(), ctx, org, Some(Permission::ConnectionsEdit))
            .await?;
        let old = tx
            .find_integration(org.id, id)
            .await?
            .ok_or_else(|| CoreError::not_found("integration", id))?;
        let s = &old.settings;
        let input = IntegrationInput {
            kind: s.kind.as_str().to_owned(),
            label: Some(patch.label.unwrap_or_else(|| s.label.clone())),
            host: Some(patch.host.unwrap_or_else(|| s.host.clone())),
            port: Some(patch.port.unwrap_or(i64::from(s.port))),
            endpoint: match s.kind {
                tessera_domain::IntegrationKind::StreamerBot => {
                    Some(patch.endpoint.unwrap_or_else(|| s.endpoint.clone()))
                }
                tessera_domain::IntegrationKind::Obs => patch.endpoint,
            },
            remote_access: Some(patch.remote_access.unwrap_or(s.remote_access)),
            enabled: Some(patch.enabled.unwrap_or(s.enabled)),
        };
        let settings = IntegrationSettings::parse(&input)?;
        let password = match patch.password {
            None => old.password.clone(),
            Some(p) => parse_password(p)?
                .map(|p| {
                    self.seal(
                        org.id,
                        SealedColumn::IntegrationPassword,
                        id,
                        p.expose_secret(),
                    )
                })
                .transpose()?,
        };
        let rec = IntegrationRecord {
            settings,
            password,
            updated_at: self.now(),
            ..old.clone()
        };
        tx.update_integration(&rec).await?;
        let view = integration_view(&rec);
        self.audit(
            tx.as_mut(),
            ctx,
            Some(org.id),
            AuditAction::IntegrationUpdated,
            "integration",
            Some(id.to_owned()),
            snapshot(&integration_view(&old)),
            snapshot(&view),
        )
        .await?;
        tx.commit().await?;
        Ok(view)
    }

    /// `DELETE /integrations/{id}`.
    pub async fn delete_integration(&self, ctx: &Context, org: &str, id: &str) -> CoreResult<()> {
        let mut tx = self.store.begin().await?;
        let org = self
            .org_for(tx.as_mut(), ctx, org, Some(Permission::ConnectionsDelete))
            .await?;
        let old = tx
            .find_integration(org.id, id)
            .await?
            .ok_or_else(|| CoreError::not_found("integration", id))?;
        tx.delete_integration(org.id, id).await?;
        self.audit(
            tx.as_mut(),
            ctx,
            Some(org.id),
            AuditAction::IntegrationDeleted,
            "integration",
            Some(id.to_owned()),
            snapshot(&integration_view(&old)),
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// `POST /integrations/{id}/test`: connects to the tool and reports what happened. A
    /// local OBS (remote access off) is on this machine's loopback. Editors only: a test makes
    /// the server open a connection to the configured host.
    pub async fn test_integration(
        &self,
        ctx: &Context,
        org: &str,
        id: &str,
    ) -> CoreResult<tessera_connect::integrations::TestOutcome> {
        let (org, rec) = {
            let mut tx = self.store.read().await?;
            let org = self
                .org_for(tx.as_mut(), ctx, org, Some(Permission::ConnectionsEdit))
                .await?;
            let rec = tx
                .find_integration(org.id, id)
                .await?
                .ok_or_else(|| CoreError::not_found("integration", id))?;
            (org, rec)
        };
        let password = rec
            .password
            .as_ref()
            .map(|p| self.open(org.id, SealedColumn::IntegrationPassword, id, p))
            .transpose()?;
        let pw = password.as_ref().map(|p| p.expose_secret());
        let s = &rec.settings;
        let timeout = self.config.integration_test_timeout;
        Ok(match s.kind {
            tessera_domain::IntegrationKind::Obs => {
                let host = if s.remote_access {
                    s.host.as_str()
                } else {
                    "127.0.0.1"
                };
                tessera_connect::integrations::test_obs(host, s.port, pw, timeout).await
            }
            tessera_domain::IntegrationKind::StreamerBot => {
                tessera_connect::integrations::test_streamerbot(
                    &s.host,
                    s.port,
                    &s.endpoint,
                    pw,
                    timeout,
                )
                .await
            }
        })
    }

    // StreamElements tokens.

    /// `GET /streamelements-tokens`.
    pub async fn list_se_tokens(&self, ctx: &Context, org: &str) -> CoreResult<Vec<SeTokenView>> {
        let mut tx = self.store.read().await?;
        let org = self
            .org_for(tx.as_mut(), ctx, org, Some(Permission::ConnectionsRead))
            .await?;
        Ok(tx
            .list_se_tokens(org.id)
            .await?
            .iter()
            .map(se_view)
            .collect())
    }

    /// `POST /streamelements-tokens`: platform, JWT, optional label.
    pub async fn add_se_token(
        &self,
        ctx: &Context,
        org: &str,
        platform: &str,
        token: &SecretString,
        label: Option<&str>,
    ) -> CoreResult<SeTokenView> {
        let mut problems = tessera_domain::error::Collector::new();
        let p = problems.take(Platform::parse(platform));
        let jwt = problems.take(parse_pasted("token", token.expose_secret(), MAX_TOKEN_LEN).and_then(|t| {
            let parts: Vec<&str> = t.split('.').collect();
            let b64 = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'=');
            if parts.len() == 3 && parts.iter().all(|x| b64(x)) {
                Ok(t)
            } else {
                Err(tessera_domain::FieldError::new("token", "must be the JWT from your StreamElements dashboard (three dot-separated parts)"))
            }
        }));
        let label = match label.map(str::trim).filter(|l| !l.is_empty()) {
            Some(l) => problems.take(parse_label("label", l)).map(Some),
            None => Some(None),
        };
        problems.finish()?;
        let (Some(p), Some(jwt), Some(label)) = (p, jwt, label) else {
            return Err(CoreError::invalid("token", "is invalid"));
        };
        let mut tx = self.store.begin().await?;
        let org = self
            .org_for(tx.as_mut(), ctx, org, Some(Permission::ConnectionsCreate))
            .await?;
        let id = uuid::Uuid::new_v4().to_string();
        let rec = StreamElementsTokenRecord {
            token: self.seal(org.id, SealedColumn::StreamElementsToken, &id, &jwt)?,
            hint: hint(&jwt),
            id,
            org_id: org.id,
            platform: p,
            label,
            created_at: self.now(),
        };
        tx.insert_se_token(&rec).await?;
        let view = se_view(&rec);
        self.audit(
            tx.as_mut(),
            ctx,
            Some(org.id),
            AuditAction::StreamElementsTokenCreated,
            "streamelements_token",
            Some(rec.id.clone()),
            None,
            snapshot(&view),
        )
        .await?;
        tx.commit().await?;
        Ok(view)
    }

    /// `DELETE /streamelements-tokens/{id}`: tip ingestion with it stops at once.
    pub async fn delete_se_token(&self, ctx: &Context, org: &str, id: &str) -> CoreResult<()> {
        let mut tx = self.store.begin().await?;
        let org = self
            .org_for(tx.as_mut(), ctx, org, Some(Permission::ConnectionsDelete))
            .await?;
        let old = tx
            .list_se_tokens(org.id)
            .await?
            .into_iter()
            .find(|t| t.id == id)
            .ok_or_else(|| CoreError::not_found("StreamElements token", id))?;
        tx.delete_se_token(org.id, id).await?;
        self.audit(
            tx.as_mut(),
            ctx,
            Some(org.id),
            AuditAction::StreamElementsTokenDeleted,
            "streamelements_token",
            Some(id.to_owned()),
            snapshot(&se_view(&old)),
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

fn disconnect_action(kind: ConnectionKind) -> AuditAction {
    match kind {
        ConnectionKind::Channel => AuditAction::ConnectionDisconnected,
        ConnectionKind::Bot => AuditAction::BotConnectionDisconnected,
    }
}

fn parse_password(p: Option<SecretString>) -> CoreResult<Option<SecretString>> {
    match p {
        None => Ok(None),
        Some(p) if p.expose_secret().is_empty() => Ok(None),
        Some(p) if p.expose_secret().len() > MAX_CREDENTIAL_LEN => Err(CoreError::invalid(
            "password",
            format!("must be at most {MAX_CREDENTIAL_LEN} characters"),
        )),
        Some(p) => Ok(Some(p)),
    }
}

fn truncate(s: &str, n: usize) -> String {
    let clean: String = s.chars().filter(|c| !c.is_control()).take(n).collect();
    clean
}

/// The callback page's sentence for a failed code exchange, with the seed's advice.
fn exchange_failure(name: &str, e: &PlatformError) -> String {
    match e {
        PlatformError::InvalidClient(_) => format!(
            "{name} refused the app credentials. Check the Client ID and Client Secret under App Credentials."
        ),
        PlatformError::RateLimited => format!(
            "{name} is rate-limiting sign-in attempts. Wait 60 seconds before retrying."
        ),
        PlatformError::InvalidGrant(m) => format!(
            "{name} refused the authorization code ({m}). Check that the redirect URI registered with your {name} app is exactly the one shown under App Credentials, then try again."
        ),
        e => format!("Signing in with {name} failed: {e}"),
    }
}
