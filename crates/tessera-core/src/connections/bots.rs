//! Custom chat bots: per platform, the organization's own bot account or the global one.
//! Connecting and disconnecting a bot go through the connect flow with `ConnectionKind::Bot`.
//! Discord's bot is configured by system administrators for every organization (sealed like
//! the other secrets) and cannot be customised per organization.

use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use tessera_domain::clock::rfc3339_millis;
use tessera_domain::error::Collector;
use tessera_domain::{AuditAction, ConnectionKind, FieldError, Permission, Platform, Timestamp};
use tessera_store::{SealedColumn, SystemBot};

use super::views::Picture;
use super::ConnectionView;
use crate::audit::AuditEntry;
use crate::{Context, CoreError, CoreResult, Services};

/// The platform name of the administrators' Discord bot.
pub const DISCORD: &str = "discord";
/// The organization its sealed token is bound to: none (the nil UUID).
const SYSTEM_ORG: &str = "00000000-0000-0000-0000-000000000000";

/// A custom bot, or the global one, per platform.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BotConnectionView {
    /// `twitch`, `youtube`, `kick`, `trovo`, or `discord` (configured by administrators).
    pub platform: &'static str,
    pub name: &'static str,
    /// `global` (the hosted bot, no setup), `custom`, or `managed` (Discord: configured by
    /// administrators, not per organization).
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
        let discord = {
            let mut tx = self.store.read().await?;
            tx.find_system_bot(DISCORD).await?
        };
        let mut out: Vec<BotConnectionView> = Platform::ALL
            .iter()
            .map(|&p| {
                let bot = conns
                    .iter()
                    .find(|c| c.platform == p && c.kind == ConnectionKind::Bot);
                BotConnectionView {
                    platform: p.as_str(),
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
            .collect();
        out.push(BotConnectionView {
            platform: DISCORD,
            name: "Discord",
            mode: "managed",
            enabled: discord.is_some(),
            credentials_configured: discord.is_some(),
            bot_name: discord
                .as_ref()
                .map(|d| d.bot_name.clone())
                .unwrap_or_default(),
            bot_id: discord.map(|d| d.application_id),
            connection: None,
        });
        Ok(out)
    }

    /// `GET /api/v1/system/discord-bot` (system administrators): never the token.
    pub async fn discord_bot(&self, ctx: &Context) -> CoreResult<DiscordBotView> {
        if !ctx.principal.is_system_admin {
            return Err(CoreError::SystemAdminOnly("configure the Discord bot"));
        }
        let mut tx = self.store.read().await?;
        Ok(DiscordBotView::of(tx.find_system_bot(DISCORD).await?))
    }

    /// `PUT /api/v1/system/discord-bot`: the bot every organization's Discord features use;
    /// the token sealed by the vault. Audited as `discord_bot.configured` (never the token).
    pub async fn set_discord_bot(
        &self,
        ctx: &Context,
        input: DiscordBotInput,
    ) -> CoreResult<DiscordBotView> {
        if !ctx.principal.is_system_admin {
            return Err(CoreError::SystemAdminOnly("configure the Discord bot"));
        }
        let mut c = Collector::new();
        let id = input.application_id.trim();
        if !(17..=20).contains(&id.len()) || !id.bytes().all(|b| b.is_ascii_digit()) {
            c.push(FieldError::new(
                "applicationId",
                "must be the application's id from the Discord developer portal (17 to 20 digits)",
            ));
        }
        let name = input.bot_name.trim();
        if name.is_empty() || name.chars().count() > 80 || name.chars().any(char::is_control) {
            c.push(FieldError::new(
                "botName",
                "must be 1 to 80 characters, without control characters",
            ));
        }
        let token = input.bot_token.expose_secret().trim();
        if !(50..=100).contains(&token.len())
            || !token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
        {
            c.push(FieldError::new(
                "botToken",
                "must be the bot's token from the Discord developer portal (50 to 100 letters, digits, '.', '_' or '-')",
            ));
        }
        c.finish()?;
        let sealed = self
            .vault
            .seal(
                crate::connections::cell(SYSTEM_ORG, SealedColumn::SystemBotToken, DISCORD),
                token.as_bytes(),
                self.rng.as_ref(),
            )
            .map_err(CoreError::internal)?;
        let bot = SystemBot {
            platform: DISCORD.into(),
            application_id: id.to_owned(),
            bot_name: name.to_owned(),
            token_sealed: sealed,
            token_hint: token[token.len() - 4..].to_owned(),
            updated_at: self.now(),
        };
        let mut tx = self.store.begin().await?;
        let before = tx.find_system_bot(DISCORD).await?;
        tx.put_system_bot(&bot).await?;
        let view = DiscordBotView::of(Some(bot));
        self.audit(
            tx.as_mut(),
            ctx,
            AuditEntry::new(AuditAction::DiscordBotConfigured, "discord_bot")
                .target(DISCORD)
                .before(crate::snapshot(&DiscordBotView::of(before)))
                .after(crate::snapshot(&view)),
        )
        .await?;
        tx.commit().await?;
        Ok(view)
    }

    /// `DELETE /api/v1/system/discord-bot`: no Discord bot any more; `404` when there was none.
    pub async fn remove_discord_bot(&self, ctx: &Context) -> CoreResult<()> {
        if !ctx.principal.is_system_admin {
            return Err(CoreError::SystemAdminOnly("configure the Discord bot"));
        }
        let mut tx = self.store.begin().await?;
        if !tx.delete_system_bot(DISCORD).await? {
            return Err(CoreError::not_found("discord bot", DISCORD));
        }
        self.audit(
            tx.as_mut(),
            ctx,
            AuditEntry::new(AuditAction::DiscordBotRemoved, "discord_bot").target(DISCORD),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// The administrators' Discord bot as the system API shows it (the token never).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DiscordBotView {
    pub configured: bool,
    pub application_id: Option<String>,
    pub bot_name: Option<String>,
    /// The token's last four characters.
    pub token_hint: Option<String>,
    #[serde(with = "rfc3339_millis::option")]
    pub updated_at: Option<Timestamp>,
}

impl DiscordBotView {
    fn of(b: Option<SystemBot>) -> Self {
        match b {
            Some(b) => Self {
                configured: true,
                application_id: Some(b.application_id),
                bot_name: Some(b.bot_name),
                token_hint: Some(format!("…{}", b.token_hint)),
                updated_at: Some(b.updated_at),
            },
            None => Self {
                configured: false,
                application_id: None,
                bot_name: None,
                token_hint: None,
                updated_at: None,
            },
        }
    }
}

/// `PUT /api/v1/system/discord-bot`'s body.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DiscordBotInput {
    pub application_id: String,
    pub bot_name: String,
    pub bot_token: secrecy::SecretString,
}
