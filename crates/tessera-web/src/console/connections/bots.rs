//! The Bot Connections page: per platform, the global bot or the organization's custom bot.

use axum::extract::{Path, State};
use http::StatusCode;
use tessera_domain::{ConnectionKind, Permission};

use super::views::{linked, BotRow, BotsPage};
use super::{layout, start, PageQuery};
use crate::console::{redirect, render, Console, PageResult, Query};
use crate::AppState;

/// `GET /dashboard/connections/bot`.
pub async fn bots(
    State(state): State<AppState>,
    Console(c): Console,
    Query(q): Query<PageQuery>,
) -> PageResult {
    let bots = state
        .services
        .bot_connections(&c.ctx, c.org.slug.as_str())
        .await?;
    let page = BotsPage {
        l: layout(&c, "Bot Connections", &q),
        rows: bots
            .iter()
            .map(|b| BotRow {
                platform: b.platform,
                name: b.name,
                custom: b.mode == "custom",
                managed: b.mode == "managed",
                enabled: b.enabled,
                credentials_configured: b.credentials_configured,
                bot_name: b.bot_name.clone(),
                linked: b.connection.as_ref().map(linked),
            })
            .collect(),
        can_connect: c.can(Permission::BotConnectionsCreate),
        can_disconnect: c.can(Permission::BotConnectionsDelete),
    };
    Ok(render(StatusCode::OK, &page))
}

/// `POST /dashboard/connections/bot/{platform}/connect`: OAuth under the bot's identity.
pub async fn connect_bot(
    State(state): State<AppState>,
    Console(c): Console,
    Path(platform): Path<String>,
) -> PageResult {
    start(&state, &c, &platform, ConnectionKind::Bot).await
}

/// `POST /dashboard/connections/bot/{platform}/disconnect`: back to the global bot.
pub async fn disconnect_bot(
    State(state): State<AppState>,
    Console(c): Console,
    Path(platform): Path<String>,
) -> PageResult {
    state
        .services
        .disconnect(&c.ctx, c.org.slug.as_str(), &platform, ConnectionKind::Bot)
        .await?;
    Ok(redirect("/dashboard/connections/bot?done=bot-disconnected"))
}
