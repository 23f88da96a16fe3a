//! Integrations with the tools on an organization's machines (OBS, Streamer.bot): listing,
//! creating, editing and deleting them (the password sealed), and testing the connection.

use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use tessera_domain::connection::{IntegrationInput, IntegrationSettings, MAX_CREDENTIAL_LEN};
use tessera_domain::{AuditAction, Permission};
use tessera_store::{IntegrationRecord, SealedColumn};

use super::Ts;
use crate::audit::AuditEntry;
use crate::{snapshot, Context, CoreError, CoreResult, Services};

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
    #[serde(with = "tessera_domain::clock::rfc3339_millis")]
    pub created_at: Ts,
    #[serde(with = "tessera_domain::clock::rfc3339_millis")]
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

impl Services {
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
            AuditEntry::new(AuditAction::IntegrationCreated, "integration")
                .org(org.id)
                .target(rec.id.clone())
                .after(snapshot(&view)),
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
            AuditEntry::new(AuditAction::IntegrationUpdated, "integration")
                .org(org.id)
                .target(id)
                .before(snapshot(&integration_view(&old)))
                .after(snapshot(&view)),
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
            AuditEntry::new(AuditAction::IntegrationDeleted, "integration")
                .org(org.id)
                .target(id)
                .before(snapshot(&integration_view(&old))),
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
