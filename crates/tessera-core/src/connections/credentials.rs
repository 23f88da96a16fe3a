//! An organization's app credentials per platform (client id and secret, sealed): listing,
//! saving and deleting them, with what a change does to the platform's connections.

use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use tessera_domain::connection::{hint, parse_pasted, MAX_CREDENTIAL_LEN};
use tessera_domain::{AuditAction, ConnectionKind, Organization, Permission, Platform};
use tessera_store::{CredentialRecord, SealedColumn};

use super::disconnect::disconnect_action;
use super::views::connection_view;
use super::{platform_arg, Ts};
use crate::audit::AuditEntry;
use crate::{snapshot, Context, CoreError, CoreResult, Services};

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
    #[serde(with = "tessera_domain::clock::rfc3339_millis::option")]
    pub created_at: Option<Ts>,
    #[serde(with = "tessera_domain::clock::rfc3339_millis::option")]
    pub updated_at: Option<Ts>,
}

impl Services {
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
            AuditEntry::new(
                AuditAction::ConnectionCredentialsSaved,
                "platform_credentials",
            )
            .org(org.id)
            .target(p.as_str())
            .before(
                existing
                    .as_ref()
                    .map(|c| serde_json::json!({"clientIdHint": c.client_id_hint})),
            )
            .after(Some(
                serde_json::json!({"clientIdHint": rec.client_id_hint, "endedConnections": ended}),
            )),
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
                    AuditEntry::new(disconnect_action(c.kind), "connection")
                        .org(org.id)
                        .target(p.as_str())
                        .before(snapshot(&connection_view(c)))
                        .after(Some(serde_json::json!({"reason": "credentials_deleted"}))),
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
            AuditEntry::new(
                AuditAction::ConnectionCredentialsDeleted,
                "platform_credentials",
            )
            .org(org.id)
            .target(p.as_str())
            .before(Some(
                serde_json::json!({"clientIdHint": creds.client_id_hint}),
            )),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
