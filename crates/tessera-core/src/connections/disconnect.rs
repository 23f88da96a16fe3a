//! Ending a connection: `disconnect` (channel or bot), and the best-effort revocation at the
//! platform that it and the deletion of app credentials both do first.

use secrecy::ExposeSecret;
use tessera_domain::{AuditAction, ConnectionKind, Permission};
use tessera_store::{ConnectionRecord, CredentialRecord, SealedColumn};

use super::platform_arg;
use super::views::connection_view;
use crate::audit::AuditEntry;
use crate::{snapshot, Context, CoreError, CoreResult, Services};

impl Services {
    /// Revokes a connection's tokens at the platform, best effort: a platform that cannot be
    /// reached must not keep an organization from disconnecting. True when it answered.
    pub(super) async fn revoke_at_platform(
        &self,
        creds: &CredentialRecord,
        c: &ConnectionRecord,
    ) -> bool {
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
            AuditEntry::new(disconnect_action(kind), "connection")
                .org(org.id)
                .target(p.as_str())
                .before(snapshot(&connection_view(&conn)))
                .after(Some(serde_json::json!({"revokedAtPlatform": revoked}))),
        )
        .await?;
        tx.commit().await?;
        Ok(revoked)
    }
}

pub(super) fn disconnect_action(kind: ConnectionKind) -> AuditAction {
    match kind {
        ConnectionKind::Channel => AuditAction::ConnectionDisconnected,
        ConnectionKind::Bot => AuditAction::BotConnectionDisconnected,
    }
}
