//! The Connections page: one card per platform, its state drawn from the system-wide switch,
//! the organization's app credentials and its channel connection.

use serde::Serialize;
use tessera_domain::{CardState, ConnectionKind, Permission, Platform};

use super::views::Picture;
use super::ConnectionView;
use crate::{Context, CoreResult, Services};

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

/// What a card is, from the switch, the credentials and the connection.
fn card_state(enabled: bool, creds: bool, connected: bool) -> CardState {
    match (enabled, creds, connected) {
        (false, _, _) => CardState::Unavailable,
        (true, _, true) => CardState::Connected,
        (true, true, false) => CardState::CredentialsConfigured,
        (true, false, false) => CardState::NotConfigured,
    }
}

impl Services {
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
                    connection: conn.map(|c| self.shown_connection(c)),
                }
            })
            .collect())
    }
}
