//! The Connections page (`/dashboard/connections`) and its App Credentials and Bot
//! Connections sub-pages: the platform cards, integrations (Streamer.bot, OBS) and
//! StreamElements tokens, over the same services as the Connections API.
//!
//! Connect and Reconnect are forms that `POST` here; the answer is a `303` to the platform's
//! authorization page, and the platform's callback (`crate::connections`) sends the browser
//! back here with `?connected=` or `?error=`. The banner text is fixed per code: nothing from
//! the address bar is shown as it came.

use super::Query;
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use http::StatusCode;
use secrecy::SecretString;
use serde::Deserialize;
use tessera_core::connections::{ConnectionView, IntegrationPatch};
use tessera_core::console::ConsoleCaller;
use tessera_core::CoreError;
use tessera_domain::connection::IntegrationInput;
use tessera_domain::{ConnectionKind, Permission, Platform};

use super::forms::{FieldErrors, Form};
use super::views::{when, when_opt, Layout};
use super::{error_page, redirect, render, Console};
use crate::AppState;

/// The routes of the three pages and their forms.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/dashboard/connections", get(page))
        .route("/dashboard/connections/{platform}/connect", post(connect))
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
}

fn linked(c: &ConnectionView) -> Linked {
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

/// `GET /dashboard/connections`.
pub async fn page(
    State(state): State<AppState>,
    Console(c): Console,
    Query(q): Query<PageQuery>,
) -> Response {
    connections_page(
        &state,
        &c,
        &q,
        ConnectionsForms::default(),
        None,
        StatusCode::OK,
    )
    .await
}

async fn connections_page(
    state: &AppState,
    c: &ConsoleCaller,
    q: &PageQuery,
    forms: ConnectionsForms,
    tested: Option<(String, bool, String)>,
    status: StatusCode,
) -> Response {
    let org = c.org.slug.as_str();
    let loaded = async {
        Ok::<_, CoreError>((
            state.services.connection_cards(&c.ctx, org).await?,
            state.services.list_integrations(&c.ctx, org).await?,
            state.services.list_se_tokens(&c.ctx, org).await?,
        ))
    }
    .await;
    let (cards, integrations, tokens) = match loaded {
        Ok(x) => x,
        Err(e) => return error_page(&e),
    };
    let page = ConnectionsPage {
        l: layout(c, "Connections", q),
        cards: cards
            .iter()
            .map(|card| Card {
                platform: card.platform.as_str(),
                name: card.name,
                state: card.state.as_str(),
                message: card.message,
                linked: card.connection.as_ref().map(linked),
            })
            .collect(),
        integrations: integrations
            .iter()
            .map(|i| IntegrationRow {
                id: i.id.clone(),
                kind: match i.kind {
                    tessera_domain::IntegrationKind::StreamerBot => "Streamer.bot",
                    tessera_domain::IntegrationKind::Obs => "OBS Studio",
                },
                label: i.label.clone(),
                address: format!("{}:{}{}", i.host, i.port, i.endpoint),
                enabled: i.enabled,
                has_password: i.has_password,
                tested: tested
                    .as_ref()
                    .filter(|(id, _, _)| *id == i.id)
                    .map(|(_, ok, m)| (*ok, m.clone())),
            })
            .collect(),
        tokens: tokens
            .iter()
            .map(|t| SeRow {
                id: t.id.clone(),
                platform: t.platform.display_name(),
                label: t.label.clone().unwrap_or_default(),
                hint: t.hint.clone(),
                created: when(&t.created_at),
            })
            .collect(),
        platforms: Platform::ALL
            .iter()
            .map(|p| (p.as_str(), p.display_name()))
            .collect(),
        can_edit: c.can(Permission::ConnectionsEdit),
        can_create: c.can(Permission::ConnectionsCreate),
        can_delete: c.can(Permission::ConnectionsDelete),
        can_bots: c.can(Permission::BotConnectionsRead),
        forms,
    };
    render(status, &page)
}

/// Connect or Reconnect: off to the platform.
async fn start(
    state: &AppState,
    c: &ConsoleCaller,
    platform: &str,
    kind: ConnectionKind,
) -> Response {
    match state
        .services
        .start_connect(&c.ctx, c.org.slug.as_str(), platform, kind)
        .await
    {
        Ok(url) => redirect(&url),
        Err(e @ (CoreError::Validation(_) | CoreError::Conflict(_))) => {
            super::views::message_page(StatusCode::BAD_REQUEST, "Cannot connect", &e.to_string())
        }
        Err(e) => error_page(&e),
    }
}

/// `POST /dashboard/connections/{platform}/connect`.
pub async fn connect(
    State(state): State<AppState>,
    Console(c): Console,
    Path(platform): Path<String>,
) -> Response {
    start(&state, &c, &platform, ConnectionKind::Channel).await
}

/// `POST /dashboard/connections/{platform}/disconnect`.
pub async fn disconnect(
    State(state): State<AppState>,
    Console(c): Console,
    Path(platform): Path<String>,
) -> Response {
    match state
        .services
        .disconnect(
            &c.ctx,
            c.org.slug.as_str(),
            &platform,
            ConnectionKind::Channel,
        )
        .await
    {
        Ok(_) => redirect("/dashboard/connections?done=disconnected"),
        Err(e) => error_page(&e),
    }
}

/// `GET /dashboard/connections/credentials`.
pub async fn credentials(
    State(state): State<AppState>,
    Console(c): Console,
    Query(q): Query<PageQuery>,
) -> Response {
    credentials_page(&state, &c, &q, None, StatusCode::OK).await
}

async fn credentials_page(
    state: &AppState,
    c: &ConsoleCaller,
    q: &PageQuery,
    failed: Option<(&str, String, FieldErrors)>,
    status: StatusCode,
) -> Response {
    let creds = match state
        .services
        .list_credentials(&c.ctx, c.org.slug.as_str())
        .await
    {
        Ok(x) => x,
        Err(e) => return error_page(&e),
    };
    let page = CredentialsPage {
        l: layout(c, "App Credentials", q),
        rows: creds
            .iter()
            .map(|cr| CredentialRow {
                platform: cr.platform.as_str(),
                name: cr.name,
                configured: cr.configured,
                hint: cr
                    .client_id_hint
                    .as_ref()
                    .map(|h| format!("…{h}"))
                    .unwrap_or_default(),
                redirect_uri: cr.redirect_uri.clone(),
                updated: when_opt(cr.updated_at.as_ref()),
                client_id: failed
                    .as_ref()
                    .filter(|(p, _, _)| *p == cr.platform.as_str())
                    .map(|(_, id, _)| id.clone())
                    .unwrap_or_default(),
                errors: failed
                    .as_ref()
                    .filter(|(p, _, _)| *p == cr.platform.as_str())
                    .map(|(_, _, e)| e.clone())
                    .unwrap_or_default(),
            })
            .collect(),
    };
    render(status, &page)
}

/// `POST /dashboard/connections/credentials/{platform}`: Client ID and Client Secret.
pub async fn save_credentials(
    State(state): State<AppState>,
    Console(c): Console,
    Path(platform): Path<String>,
    body: Bytes,
) -> Response {
    let f = Form::parse(&body);
    let secret = SecretString::from(f.get("clientSecret").unwrap_or("").to_owned());
    match state
        .services
        .put_credentials(
            &c.ctx,
            c.org.slug.as_str(),
            &platform,
            &f.text("clientId"),
            &secret,
        )
        .await
    {
        Ok(_) => redirect("/dashboard/connections/credentials?done=saved"),
        Err(e @ CoreError::Validation(_)) => {
            let errors = FieldErrors::from_error(&e, &["clientId", "clientSecret"]);
            credentials_page(
                &state,
                &c,
                &PageQuery::default(),
                Some((platform.as_str(), f.text("clientId"), errors)),
                StatusCode::BAD_REQUEST,
            )
            .await
        }
        Err(e) => error_page(&e),
    }
}

/// `POST /dashboard/connections/credentials/{platform}/delete`.
pub async fn delete_credentials(
    State(state): State<AppState>,
    Console(c): Console,
    Path(platform): Path<String>,
) -> Response {
    match state
        .services
        .delete_credentials(&c.ctx, c.org.slug.as_str(), &platform)
        .await
    {
        Ok(()) => redirect("/dashboard/connections/credentials?done=deleted"),
        Err(e) => error_page(&e),
    }
}

/// `GET /dashboard/connections/bot`.
pub async fn bots(
    State(state): State<AppState>,
    Console(c): Console,
    Query(q): Query<PageQuery>,
) -> Response {
    let bots = match state
        .services
        .bot_connections(&c.ctx, c.org.slug.as_str())
        .await
    {
        Ok(b) => b,
        Err(e) => return error_page(&e),
    };
    let page = BotsPage {
        l: layout(&c, "Bot Connections", &q),
        rows: bots
            .iter()
            .map(|b| BotRow {
                platform: b.platform.as_str(),
                name: b.name,
                custom: b.mode == "custom",
                enabled: b.enabled,
                credentials_configured: b.credentials_configured,
                bot_name: b.bot_name.clone(),
                linked: b.connection.as_ref().map(linked),
            })
            .collect(),
        can_connect: c.can(Permission::BotConnectionsCreate),
        can_disconnect: c.can(Permission::BotConnectionsDelete),
    };
    render(StatusCode::OK, &page)
}

/// `POST /dashboard/connections/bot/{platform}/connect`: OAuth under the bot's identity.
pub async fn connect_bot(
    State(state): State<AppState>,
    Console(c): Console,
    Path(platform): Path<String>,
) -> Response {
    start(&state, &c, &platform, ConnectionKind::Bot).await
}

/// `POST /dashboard/connections/bot/{platform}/disconnect`: back to the global bot.
pub async fn disconnect_bot(
    State(state): State<AppState>,
    Console(c): Console,
    Path(platform): Path<String>,
) -> Response {
    match state
        .services
        .disconnect(&c.ctx, c.org.slug.as_str(), &platform, ConnectionKind::Bot)
        .await
    {
        Ok(_) => redirect("/dashboard/connections/bot?done=bot-disconnected"),
        Err(e) => error_page(&e),
    }
}

/// `POST /dashboard/connections/integrations`: the Add Integration dialog.
pub async fn add_integration(
    State(state): State<AppState>,
    Console(c): Console,
    body: Bytes,
) -> Response {
    let f = Form::parse(&body);
    let password = f
        .get("password")
        .filter(|p| !p.is_empty())
        .map(|p| SecretString::from(p.to_owned()));
    // The form's text becomes the number the service checks; text that is no number at all
    // is the same kind of field error.
    let result = match f.optional("port").map(|p| p.parse::<i64>().map_err(|_| p)) {
        Some(Err(raw)) => Err(CoreError::Validation(
            tessera_domain::error::ValidationError::single(
                "port",
                format!("'{raw}' is not a port: use a whole number from 1 to 65535"),
            ),
        )),
        port => {
            let input = IntegrationInput {
                kind: f.text("type"),
                label: f.optional("label"),
                host: f.optional("host"),
                port: port.and_then(Result::ok),
                endpoint: f.optional("endpoint"),
                remote_access: Some(f.checked("remoteAccess")),
                enabled: Some(true),
            };
            state
                .services
                .create_integration(&c.ctx, c.org.slug.as_str(), input, password)
                .await
                .map(|_| ())
        }
    };
    match result {
        Ok(()) => redirect("/dashboard/connections?done=integration-added"),
        Err(e @ CoreError::Validation(_)) => {
            let errors = FieldErrors::from_error(
                &e,
                &[
                    "type",
                    "label",
                    "host",
                    "port",
                    "endpoint",
                    "password",
                    "remoteAccess",
                ],
            );
            let forms = ConnectionsForms {
                integration_open: true,
                integration_errors: errors,
                kind: f.text("type"),
                label: f.text("label"),
                host: f.text("host"),
                port: f.text("port"),
                endpoint: f.text("endpoint"),
                remote_access: f.checked("remoteAccess"),
                ..ConnectionsForms::default()
            };
            connections_page(
                &state,
                &c,
                &PageQuery::default(),
                forms,
                None,
                StatusCode::BAD_REQUEST,
            )
            .await
        }
        Err(e) => error_page(&e),
    }
}

/// `POST /dashboard/connections/integrations/{id}` with `op=enable|disable|remove|test`.
pub async fn change_integration(
    State(state): State<AppState>,
    Console(c): Console,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let f = Form::parse(&body);
    let org = c.org.slug.as_str();
    let s = &state.services;
    let result = match f.get("op") {
        Some("test") => {
            return match s.test_integration(&c.ctx, org, &id).await {
                Ok(outcome) => {
                    let tested = Some((
                        id.clone(),
                        outcome.is_success(),
                        outcome.message().to_owned(),
                    ));
                    connections_page(
                        &state,
                        &c,
                        &PageQuery::default(),
                        ConnectionsForms::default(),
                        tested,
                        StatusCode::OK,
                    )
                    .await
                }
                Err(e) => error_page(&e),
            };
        }
        Some("remove") => s
            .delete_integration(&c.ctx, org, &id)
            .await
            .map(|()| "integration-removed"),
        Some(op @ ("enable" | "disable")) => s
            .update_integration(
                &c.ctx,
                org,
                &id,
                IntegrationPatch {
                    enabled: Some(op == "enable"),
                    ..IntegrationPatch::default()
                },
            )
            .await
            .map(|_| "integration-updated"),
        other => Err(CoreError::invalid(
            "op",
            format!(
                "unknown change '{}': use enable, disable, remove or test",
                other.unwrap_or("")
            ),
        )),
    };
    match result {
        Ok(done) => redirect(&format!("/dashboard/connections?done={done}")),
        Err(e) => error_page(&e),
    }
}

/// `POST /dashboard/connections/streamelements`: the Add StreamElements Token dialog.
pub async fn add_se_token(
    State(state): State<AppState>,
    Console(c): Console,
    body: Bytes,
) -> Response {
    let f = Form::parse(&body);
    let token = SecretString::from(f.text("token"));
    let label = f.optional("label");
    match state
        .services
        .add_se_token(
            &c.ctx,
            c.org.slug.as_str(),
            &f.text("platform"),
            &token,
            label.as_deref(),
        )
        .await
    {
        Ok(_) => redirect("/dashboard/connections?done=token-added"),
        Err(e @ CoreError::Validation(_)) => {
            let forms = ConnectionsForms {
                se_open: true,
                se_errors: FieldErrors::from_error(&e, &["platform", "token", "label"]),
                se_platform: f.text("platform"),
                se_label: f.text("label"),
                ..ConnectionsForms::default()
            };
            connections_page(
                &state,
                &c,
                &PageQuery::default(),
                forms,
                None,
                StatusCode::BAD_REQUEST,
            )
            .await
        }
        Err(e) => error_page(&e),
    }
}

/// `POST /dashboard/connections/streamelements/{id}/delete`.
pub async fn delete_se_token(
    State(state): State<AppState>,
    Console(c): Console,
    Path(id): Path<String>,
) -> Response {
    match state
        .services
        .delete_se_token(&c.ctx, c.org.slug.as_str(), &id)
        .await
    {
        Ok(()) => redirect("/dashboard/connections?done=token-removed"),
        Err(e) => error_page(&e),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::views::tests::{check, layout, EVIL};
    use super::*;

    fn sample_linked(failed: bool) -> Linked {
        Linked {
            channel_name: EVIL.into(),
            channel_id: "123".into(),
            first_scopes: vec!["a".into(), "b".into(), "c".into()],
            more: 2,
            all_scopes: vec!["a".into(), "b".into(), "c".into(), "d".into(), "e".into()],
            connected: "c".into(),
            updated: "u".into(),
            expiry: Some("Token expires 2026-01-01 00:00 UTC (auto-refresh)".into()),
            refresh_failed: failed,
        }
    }

    #[test]
    fn the_connections_pages_render_with_sample_data() {
        let html = ConnectionsPage {
            l: layout(),
            cards: vec![
                Card {
                    platform: "twitch",
                    name: "Twitch",
                    state: "connected",
                    message: "Connected",
                    linked: Some(sample_linked(true)),
                },
                Card {
                    platform: "kick",
                    name: "Kick",
                    state: "not_configured",
                    message: "Set up app credentials to connect this platform.",
                    linked: None,
                },
            ],
            integrations: vec![IntegrationRow {
                id: "i-1".into(),
                kind: "OBS Studio",
                label: EVIL.into(),
                address: "127.0.0.1:4455/".into(),
                enabled: true,
                has_password: true,
                tested: Some((false, "Authentication failed".into())),
            }],
            tokens: vec![SeRow {
                id: "t-1".into(),
                platform: "Twitch",
                label: EVIL.into(),
                hint: "…wxyz".into(),
                created: "c".into(),
            }],
            platforms: vec![("twitch", "Twitch")],
            can_edit: true,
            can_create: true,
            can_delete: true,
            can_bots: true,
            forms: ConnectionsForms {
                integration_open: true,
                se_open: true,
                ..ConnectionsForms::default()
            },
        }
        .render()
        .unwrap();
        check(
            &html,
            &[
                "Connect your streaming platforms to Tessera.",
                "App Credentials",
                "Bot Connections",
                "+2",
                "Token expires 2026-01-01 00:00 UTC (auto-refresh)",
                "expiry failed",
                "Are you sure you want to disconnect Twitch? This will revoke the connection but keep your app credentials.",
                "Set up app credentials to connect this platform.",
                "Set Up",
                "Token: …wxyz",
                "Authentication failed",
                "Add Integration",
                "Add StreamElements Token",
            ],
        );
        let html = CredentialsPage {
            l: layout(),
            rows: vec![CredentialRow {
                platform: "twitch",
                name: "Twitch",
                configured: true,
                hint: "…abcd".into(),
                redirect_uri: "http://x/orgs/acme/api/v1/connections/twitch/callback".into(),
                updated: "u".into(),
                client_id: EVIL.into(),
                errors: FieldErrors::default(),
            }],
        }
        .render()
        .unwrap();
        check(
            &html,
            &["…abcd", "/connections/twitch/callback", "Client Secret"],
        );
        let html = BotsPage {
            l: layout(),
            rows: vec![BotRow {
                platform: "twitch",
                name: "Twitch",
                custom: false,
                enabled: true,
                credentials_configured: true,
                bot_name: EVIL.into(),
                linked: None,
            }],
            can_connect: true,
            can_disconnect: true,
        }
        .render()
        .unwrap();
        check(&html, &["Global Bot", "Connect Bot"]);
    }

    #[test]
    fn banners_say_fixed_sentences_only() {
        let q = PageQuery {
            connected: Some("twitch".into()),
            ..PageQuery::default()
        };
        assert_eq!(banner(&q).0.unwrap(), "Successfully connected to Twitch!");
        let q = PageQuery {
            connected: Some("<b>evil</b>".into()),
            ..PageQuery::default()
        };
        assert_eq!(banner(&q), (None, None));
        let q = PageQuery {
            error: Some("made up <b>".into()),
            platform: Some("kick".into()),
            ..PageQuery::default()
        };
        assert_eq!(
            banner(&q).1.unwrap(),
            "The connection to Kick failed. Try again."
        );
    }
}
