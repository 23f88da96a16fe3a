//! The Connections page itself, and Connect and Disconnect of the organization's channels.

use axum::extract::{Path, State};
use http::StatusCode;
use tessera_core::console::ConsoleCaller;
use tessera_domain::{ConnectionKind, Permission, Platform};

use super::views::{linked, Card, ConnectionsForms, ConnectionsPage, IntegrationRow, SeRow};
use super::{layout, start, PageQuery};
use crate::console::views::when;
use crate::console::{redirect, render, Console, PageResult, Query};
use crate::AppState;

/// `GET /dashboard/connections`.
pub async fn page(
    State(state): State<AppState>,
    Console(c): Console,
    Query(q): Query<PageQuery>,
) -> PageResult {
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

pub(super) async fn connections_page(
    state: &AppState,
    c: &ConsoleCaller,
    q: &PageQuery,
    forms: ConnectionsForms,
    tested: Option<(String, bool, String)>,
    status: StatusCode,
) -> PageResult {
    let org = c.org.slug.as_str();
    let cards = state.services.connection_cards(&c.ctx, org).await?;
    let integrations = state.services.list_integrations(&c.ctx, org).await?;
    let tokens = state.services.list_se_tokens(&c.ctx, org).await?;
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
        system_admin: c.user.is_system_admin,
        forms,
    };
    Ok(render(status, &page))
}

/// `POST /dashboard/connections/{platform}/connect`.
pub async fn connect(
    State(state): State<AppState>,
    Console(c): Console,
    Path(platform): Path<String>,
) -> PageResult {
    start(&state, &c, &platform, ConnectionKind::Channel).await
}

/// `POST /dashboard/connections/{platform}/disconnect`.
/// `POST /dashboard/connections/providers/{platform}` (system administrators): the
/// system-wide switch of a platform, `enabled=true|false`.
pub async fn switch_provider(
    State(state): State<AppState>,
    Console(c): Console,
    Path(platform): Path<String>,
    body: axum::body::Bytes,
) -> PageResult {
    let f = crate::console::forms::Form::parse(&body);
    let enabled = f.get("enabled") == Some("true");
    state
        .services
        .set_provider_enabled(&c.ctx, &platform, enabled)
        .await?;
    let done = if enabled {
        "provider-on"
    } else {
        "provider-off"
    };
    Ok(redirect(&format!("/dashboard/connections?done={done}")))
}

pub async fn disconnect(
    State(state): State<AppState>,
    Console(c): Console,
    Path(platform): Path<String>,
) -> PageResult {
    state
        .services
        .disconnect(
            &c.ctx,
            c.org.slug.as_str(),
            &platform,
            ConnectionKind::Channel,
        )
        .await?;
    Ok(redirect("/dashboard/connections?done=disconnected"))
}
