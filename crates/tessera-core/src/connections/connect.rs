//! The connect flow: `start_connect` issues a single-use `state` and the platform's
//! authorization URL; `finish_connect` checks that state on the callback, exchanges the code,
//! reads the channel and stores the tokens sealed, or says why it could not.

use secrecy::ExposeSecret;
use tessera_connect::oauth::{Identity, PlatformClient, PlatformError, TokenSet};
use tessera_connect::Pkce;
use tessera_domain::{AuditAction, ConnectionKind, Organization, Permission, Platform};
use tessera_store::{ConnectionRecord, ConnectionState, SealedColumn};

use super::platform_arg;
use super::views::connection_view;
use crate::audit::AuditEntry;
use crate::{snapshot, Context, CoreError, CoreResult, Services};

/// How long a connect flow may take, from the Connect click to the callback.
pub const STATE_TTL: time::Duration = time::Duration::minutes(10);

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

/// The query of a connect callback as the platform sent it back: `state` and `code` when the
/// user agreed, `error` (and maybe `error_description`) when the platform refused.
#[derive(Clone, Copy, Default)]
pub struct ConnectCallback<'a> {
    pub state: Option<&'a str>,
    pub code: Option<&'a str>,
    pub error: Option<&'a str>,
    pub error_description: Option<&'a str>,
}
opaque_debug!(ConnectCallback<'_>);

impl Services {
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
        let state = tessera_crypto::random::generate_secret(self.rng.as_ref(), "")
            .map_err(CoreError::internal)?;
        let state_hash = self.handle_hash.hash(state.expose_secret());
        let (verifier, challenge) = if cfg.pkce == Pkce::No {
            (None, None)
        } else {
            let v = tessera_crypto::random::generate_secret(self.rng.as_ref(), "")
                .map_err(CoreError::internal)?;
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
    pub async fn finish_connect(
        &self,
        caller: Option<&Context>,
        org_slug: &str,
        platform: &str,
        query: ConnectCallback<'_>,
    ) -> Result<CallbackOutcome, CallbackError> {
        let ConnectCallback {
            state,
            code,
            error,
            error_description,
        } = query;
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
            let entry = AuditEntry::new(AuditAction::ConnectionFailed, "connection")
                .org(org.id)
                .target(st.platform.as_str())
                .after(Some(
                    serde_json::json!({"kind": st.kind, "error": code, "message": msg}),
                ));
            tx.insert_audit(&entry.event(st.actor.clone(), ctx.ip.clone(), None, self.now()))
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
        let action = match st.kind {
            ConnectionKind::Channel => AuditAction::ConnectionConnected,
            ConnectionKind::Bot => AuditAction::BotConnectionConnected,
        };
        let entry = AuditEntry::new(action, "connection")
            .org(org.id)
            .target(p.as_str())
            .before(
                existing
                    .as_ref()
                    .map(connection_view)
                    .and_then(|v| snapshot(&v)),
            )
            .after(snapshot(&connection_view(&rec)));
        tx.insert_audit(&entry.event(st.actor.clone(), ctx.ip, None, now))
            .await?;
        tx.commit().await.map_err(Into::into)
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
