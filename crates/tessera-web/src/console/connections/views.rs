//! What the three pages show: the cards, rows and forms, and the askama templates.

use askama::Template;
use tessera_core::connections::ConnectionView;

use crate::console::forms::FieldErrors;
use crate::console::views::{when, Layout};

/// A connected account, as a card shows it.
#[derive(Debug, Clone)]
pub struct Linked {
    pub channel_name: String,
    pub channel_id: String,
    /// The first three scopes; the rest behind `+N`.
    pub first_scopes: Vec<String>,
    pub more: usize,
    pub all_scopes: Vec<String>,
    pub connected: String,
    pub updated: String,
    /// "Token expires {date} (auto-refresh)", when the token expires.
    pub expiry: Option<String>,
    pub refresh_failed: bool,
    /// The configured scopes the connection lacks (a Reconnect asks for them).
    pub missing_scopes: Vec<String>,
}

pub(super) fn linked(c: &ConnectionView) -> Linked {
    Linked {
        channel_name: c.channel_name.clone(),
        channel_id: c.channel_id.clone(),
        first_scopes: c.scopes.iter().take(3).cloned().collect(),
        more: c.scopes.len().saturating_sub(3),
        all_scopes: c.scopes.clone(),
        connected: when(&c.connected_at),
        updated: when(&c.updated_at),
        expiry: c
            .token_expires_at
            .as_ref()
            .map(|t| format!("Token expires {} (auto-refresh)", when(t))),
        refresh_failed: c.refresh_failed,
        missing_scopes: c.missing_scopes.clone(),
    }
}

/// A platform card.
#[derive(Debug, Clone)]
pub struct Card {
    pub platform: &'static str,
    pub name: &'static str,
    /// `unavailable`, `not_configured`, `credentials_configured`, `connected`.
    pub state: &'static str,
    pub message: &'static str,
    pub linked: Option<Linked>,
}

/// An integration row.
#[derive(Debug, Clone)]
pub struct IntegrationRow {
    pub id: String,
    pub kind: &'static str,
    pub label: String,
    pub address: String,
    pub enabled: bool,
    pub has_password: bool,
    /// The outcome of a Test just run: (success, sentence).
    pub tested: Option<(bool, String)>,
}

/// A StreamElements token row.
#[derive(Debug, Clone)]
pub struct SeRow {
    pub id: String,
    pub platform: &'static str,
    pub label: String,
    pub hint: String,
    pub created: String,
}

/// The forms of the page that can come back with errors.
#[derive(Debug, Clone, Default)]
pub struct ConnectionsForms {
    pub integration_open: bool,
    pub integration_errors: FieldErrors,
    pub kind: String,
    pub label: String,
    pub host: String,
    pub port: String,
    pub endpoint: String,
    pub remote_access: bool,
    pub se_open: bool,
    pub se_errors: FieldErrors,
    pub se_platform: String,
    pub se_label: String,
}

/// `/dashboard/connections`.
#[derive(Template)]
#[template(path = "console/connections.html")]
pub struct ConnectionsPage {
    pub l: Layout,
    pub cards: Vec<Card>,
    pub integrations: Vec<IntegrationRow>,
    pub tokens: Vec<SeRow>,
    pub platforms: Vec<(&'static str, &'static str)>,
    pub can_edit: bool,
    pub can_create: bool,
    pub can_delete: bool,
    pub can_bots: bool,
    /// A system administrator also switches platforms on and off for everyone.
    pub system_admin: bool,
    pub forms: ConnectionsForms,
}

/// A platform on the App Credentials page.
#[derive(Debug, Clone)]
pub struct CredentialRow {
    pub platform: &'static str,
    pub name: &'static str,
    pub configured: bool,
    pub hint: String,
    pub redirect_uri: String,
    pub updated: String,
    /// The Client ID typed, when the form comes back with an error (never the secret).
    pub client_id: String,
    pub errors: FieldErrors,
}

/// `/dashboard/connections/credentials`.
#[derive(Template)]
#[template(path = "console/credentials.html")]
pub struct CredentialsPage {
    pub l: Layout,
    pub rows: Vec<CredentialRow>,
}

/// A platform on the Bot Connections page.
#[derive(Debug, Clone)]
pub struct BotRow {
    pub platform: &'static str,
    pub name: &'static str,
    pub custom: bool,
    /// Discord: configured by administrators, not per organization.
    pub managed: bool,
    pub enabled: bool,
    pub credentials_configured: bool,
    pub bot_name: String,
    pub linked: Option<Linked>,
}

/// `/dashboard/connections/bot`.
#[derive(Template)]
#[template(path = "console/bots.html")]
pub struct BotsPage {
    pub l: Layout,
    pub rows: Vec<BotRow>,
    pub can_connect: bool,
    pub can_disconnect: bool,
}
