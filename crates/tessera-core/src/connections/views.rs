//! The views shared across the Connections pages: a live connection as shown (never a token)
//! with its refresh health, and the organization's switches, credentials and connections read
//! in one go for the Connections page and its Bot sub-page.

use serde::Serialize;
use tessera_domain::{Permission, Platform};
use tessera_store::{ConnectionRecord, CredentialRecord};

use super::Ts;
use crate::{Context, CoreResult, Services};

/// A live connection as the console shows it: never a token.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionView {
    pub channel_name: String,
    pub channel_id: String,
    pub scopes: Vec<String>,
    /// The platform's configured scopes this connection was not granted (the operator added
    /// scopes since, or the user declined some): a Reconnect asks for them.
    pub missing_scopes: Vec<String>,
    #[serde(with = "tessera_domain::clock::rfc3339_millis")]
    pub connected_at: Ts,
    #[serde(with = "tessera_domain::clock::rfc3339_millis")]
    pub updated_at: Ts,
    #[serde(with = "tessera_domain::clock::rfc3339_millis::option")]
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
    #[serde(with = "tessera_domain::clock::rfc3339_millis::option")]
    pub last_refreshed_at: Option<Ts>,
    #[serde(with = "tessera_domain::clock::rfc3339_millis::option")]
    pub next_refresh_at: Option<Ts>,
    #[serde(with = "tessera_domain::clock::rfc3339_millis::option")]
    pub failed_at: Option<Ts>,
    pub error: Option<String>,
    pub attempts: i32,
}

pub(super) fn connection_view(c: &ConnectionRecord) -> ConnectionView {
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
        missing_scopes: Vec::new(),
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

/// The switches, credentials and connections of one organization.
pub(super) struct Picture {
    pub(super) disabled: Vec<Platform>,
    pub(super) creds: Vec<CredentialRecord>,
    pub(super) conns: Vec<ConnectionRecord>,
}

impl Services {
    /// A connection as its card shows it: with the configured scopes it lacks.
    pub(super) fn shown_connection(&self, c: &ConnectionRecord) -> ConnectionView {
        let mut v = connection_view(c);
        v.missing_scopes = self
            .provider(c.platform)
            .scopes
            .iter()
            .filter(|s| !c.scopes.contains(s))
            .cloned()
            .collect();
        v
    }

    /// What the Connections page and its Bot sub-page are drawn from, read in one go.
    pub(super) async fn connections_picture(
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
}
