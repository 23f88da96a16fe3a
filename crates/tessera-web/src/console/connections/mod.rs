//! The Connections page (`/dashboard/connections`) and its App Credentials and Bot
//! Connections sub-pages: the platform cards, integrations (Streamer.bot, OBS) and
//! StreamElements tokens, over the same services as the Connections API.
//!
//! Connect and Reconnect are forms that `POST` here; the answer is a `303` to the platform's
//! authorization page, and the platform's callback (`crate::connections`) sends the browser
//! back here with `?connected=` or `?error=`. The banner text is fixed per code: nothing from
//! the address bar is shown as it came.

mod bots;
mod credentials;
mod integrations;
mod page;
mod streamelements;
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
mod views;

use axum::routing::{get, post};
use axum::Router;
use http::StatusCode;
use serde::Deserialize;
use tessera_core::console::ConsoleCaller;
use tessera_core::CoreError;
use tessera_domain::{ConnectionKind, Platform};

use super::views::Layout;
use super::{redirect, PageResult};
use crate::AppState;

pub use bots::{bots, connect_bot, disconnect_bot};
pub use credentials::{credentials, delete_credentials, save_credentials};
pub use integrations::{add_integration, change_integration};
pub use page::{connect, disconnect, page, switch_provider};
pub use streamelements::{add_se_token, delete_se_token};
pub use views::{
    BotRow, BotsPage, Card, ConnectionsForms, ConnectionsPage, CredentialRow, CredentialsPage,
    IntegrationRow, Linked, SeRow,
};

/// The routes of the three pages and their forms.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/dashboard/connections", get(page))
        .route("/dashboard/connections/{platform}/connect", post(connect))
        .route(
            "/dashboard/connections/providers/{platform}",
            post(switch_provider),
        )
        .route(
            "/dashboard/connections/{platform}/disconnect",
            post(disconnect),
        )
        .route("/dashboard/connections/credentials", get(credentials))
        .route(
            "/dashboard/connections/credentials/{platform}",
            post(save_credentials),
        )
        .route(
            "/dashboard/connections/credentials/{platform}/delete",
            post(delete_credentials),
        )
        .route("/dashboard/connections/bot", get(bots))
        .route(
            "/dashboard/connections/bot/{platform}/connect",
            post(connect_bot),
        )
        .route(
            "/dashboard/connections/bot/{platform}/disconnect",
            post(disconnect_bot),
        )
        .route("/dashboard/connections/integrations", post(add_integration))
        .route(
            "/dashboard/connections/integrations/{id}",
            post(change_integration),
        )
        .route("/dashboard/connections/streamelements", post(add_se_token))
        .route(
            "/dashboard/connections/streamelements/{id}/delete",
            post(delete_se_token),
        )
}

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    connected: Option<String>,
    error: Option<String>,
    platform: Option<String>,
    done: Option<String>,
}

/// The banner of a page, from fixed sentences only.
fn banner(q: &PageQuery) -> (Option<String>, Option<String>) {
    let platform = |p: Option<&str>| {
        p.and_then(|p| Platform::parse(p).ok())
            .map(Platform::display_name)
    };
    if let Some(name) = platform(q.connected.as_deref()) {
        return (Some(format!("Successfully connected to {name}!")), None);
    }
    if let Some(code) = q.error.as_deref() {
        let on = platform(q.platform.as_deref()).unwrap_or("the platform");
        let message = match code {
            "access_denied" => format!("The connection to {on} was cancelled on {on}."),
            "invalid_state" => {
                "The connection took too long or was started elsewhere. Click Connect again."
                    .to_owned()
            }
            "channel_mismatch" => format!(
                "Reconnect must sign in to the same {on} account; disconnect first to link another."
            ),
            "unavailable" => format!("{on} is switched off by the administrators."),
            "not_configured" => format!("Set up the app credentials of {on} first."),
            "token_exchange_failed" | "channel_lookup_failed" | "platform_error" => format!(
                "{on} did not complete the connection. Check the app credentials and try again."
            ),
            _ => format!("The connection to {on} failed. Try again."),
        };
        return (None, Some(message));
    }
    let done = match q.done.as_deref() {
        Some("disconnected") => "Disconnected. The app credentials are kept.",
        Some("saved") => "The credentials are saved.",
        Some("deleted") => "The credentials are deleted.",
        Some("integration-added") => "The integration is added.",
        Some("integration-updated") => "The integration is updated.",
        Some("integration-removed") => "The integration is removed.",
        Some("token-added") => "The token is added.",
        Some("token-removed") => "The token is removed: tips from it stop now.",
        Some("bot-disconnected") => "The custom bot is disconnected: the global bot posts again.",
        Some("provider-on") => "The platform is switched on for every organization.",
        Some("provider-off") => "The platform is switched off for every organization.",
        _ => return (None, None),
    };
    (Some(done.to_owned()), None)
}

fn layout(c: &ConsoleCaller, title: &str, q: &PageQuery) -> Layout {
    let (notice, error) = banner(q);
    let mut l = Layout::new(c, title, "/dashboard/connections").with_notice(notice);
    l.error = error;
    l
}

/// Connect or Reconnect: off to the platform.
async fn start(
    state: &AppState,
    c: &ConsoleCaller,
    platform: &str,
    kind: ConnectionKind,
) -> PageResult {
    match state
        .services
        .start_connect(&c.ctx, c.org.slug.as_str(), platform, kind)
        .await
    {
        Ok(url) => Ok(redirect(&url)),
        Err(e @ (CoreError::Validation(_) | CoreError::Conflict(_))) => Ok(
            super::views::message_page(StatusCode::BAD_REQUEST, "Cannot connect", &e.to_string()),
        ),
        Err(e) => Err(e.into()),
    }
}
