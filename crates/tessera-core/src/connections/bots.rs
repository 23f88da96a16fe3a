//! Custom chat bots: per platform, the organization's own bot account or the global one.
//! Connecting and disconnecting a bot go through the connect flow with `ConnectionKind::Bot`.

use serde::Serialize;
use tessera_domain::{ConnectionKind, Permission, Platform};

use super::views::Picture;
use super::ConnectionView;
use crate::{Context, CoreResult, Services};

/// A custom bot, or the global one, per platform.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BotConnectionView {
    pub platform: Platform,
    pub name: &'static str,
    /// `global` (the hosted bot, no setup) or `custom`.
    pub mode: &'static str,
    pub enabled: bool,
    pub credentials_configured: bool,
    /// Who posts: the global bot's name or the custom bot's account.
    pub bot_name: String,
    pub bot_id: Option<String>,
    #[serde(flatten)]
    pub connection: Option<ConnectionView>,
}

impl Services {
    /// `GET /bot-connections`: per platform, the custom bot or the global one.
    pub async fn bot_connections(
        &self,
        ctx: &Context,
        org: &str,
    ) -> CoreResult<Vec<BotConnectionView>> {
        let Picture {
            disabled,
            creds,
            conns,
        } = self
            .connections_picture(ctx, org, Permission::BotConnectionsRead)
            .await?;
        Ok(Platform::ALL
            .iter()
            .map(|&p| {
                let bot = conns
                    .iter()
                    .find(|c| c.platform == p && c.kind == ConnectionKind::Bot);
                BotConnectionView {
                    platform: p,
                    name: p.display_name(),
                    mode: if bot.is_some() { "custom" } else { "global" },
                    enabled: !disabled.contains(&p),
                    credentials_configured: creds.iter().any(|c| c.platform == p),
                    bot_name: bot.map_or_else(
                        || self.config.providers.global_bot_name(p).to_owned(),
                        |b| b.channel_name.clone(),
                    ),
                    bot_id: bot.map(|b| b.channel_id.clone()),
                    connection: bot.map(|b| self.shown_connection(b)),
                }
            })
            .collect())
    }
}
