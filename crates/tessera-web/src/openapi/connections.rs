//! The Connections API's objects: platforms, cards and their refresh health, app
//! credentials, fresh tokens, bot connections, and the system-wide provider switches.

use serde::Serialize;
use utoipa::ToSchema;

/// A streaming platform, as paths and bodies name it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = Platform)]
pub enum PlatformSchema {
    Twitch,
    Youtube,
    Kick,
    Trovo,
}

/// Whose identity a connection speaks for: the organization's channel or its custom bot.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = ConnectionKind)]
pub enum ConnectionKindSchema {
    Channel,
    Bot,
}

/// The state of a platform's card; `unavailable` wins over the others.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = CardState)]
pub enum CardStateSchema {
    /// Switched off system-wide.
    Unavailable,
    /// No app credentials yet.
    NotConfigured,
    /// Credentials saved, no channel connected.
    CredentialsConfigured,
    Connected,
}

/// `ok`; `retrying` (transient failures, backing off); `failed` (the platform refused:
/// reconnect); `none` (the platform gave no refresh token).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RefreshStatus {
    Ok,
    Retrying,
    Failed,
    None,
}

/// How the refresh worker is doing with a connection.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = RefreshHealth)]
pub struct RefreshHealthSchema {
    pub status: RefreshStatus,
    /// Null until the first refresh after a Connect or Reconnect.
    #[schema(required = true)]
    pub last_refreshed_at: Option<String>,
    /// Null when no refresh is scheduled.
    #[schema(required = true)]
    pub next_refresh_at: Option<String>,
    /// When the platform refused the refresh.
    #[schema(required = true)]
    pub failed_at: Option<String>,
    /// The last failure, transient or not.
    #[schema(required = true)]
    pub error: Option<String>,
    /// Transient failures in a row.
    pub attempts: i32,
}

/// One platform's card on the Connections page. The fields from `channelName` on are present
/// only when a channel is connected (also on an `unavailable` card that keeps one).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ConnectionCard)]
pub struct ConnectionCardSchema {
    pub platform: PlatformSchema,
    /// The display name, e.g. `YouTube`.
    pub name: String,
    pub state: CardStateSchema,
    /// The card's sentence, e.g. `Set up app credentials to connect this platform.`
    pub message: String,
    /// False when the platform is switched off system-wide.
    pub enabled: bool,
    pub credentials_configured: bool,
    /// The scopes a Connect asks for now.
    pub default_scopes: Vec<String>,
    /// The channel the tokens speak for, as the platform names it.
    #[schema(required = false)]
    pub channel_name: String,
    #[schema(required = false)]
    pub channel_id: String,
    /// The scopes granted (or asked for, when the platform did not say).
    #[schema(required = false)]
    pub scopes: Vec<String>,
    /// When first connected; a Reconnect keeps it.
    #[schema(required = false)]
    pub connected_at: String,
    /// The last Reconnect or refresh.
    #[schema(required = false)]
    pub updated_at: String,
    /// When the access token expires; null when the platform gave no expiry.
    pub token_expires_at: Option<String>,
    /// True when the platform refused the refresh: reconnect.
    #[schema(required = false)]
    pub refresh_failed: bool,
    /// The platform's configured scopes this connection lacks: a Reconnect asks for them.
    #[schema(required = false)]
    pub missing_scopes: Vec<String>,
    #[schema(required = false)]
    pub refresh: RefreshHealthSchema,
}

/// A platform's app credentials as listed: a hint of the client id, never the secret.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AppCredentials)]
pub struct AppCredentialsSchema {
    pub platform: PlatformSchema,
    pub name: String,
    pub configured: bool,
    /// The client id's last 4 characters; null when none are saved.
    #[schema(required = true)]
    pub client_id_hint: Option<String>,
    /// What to register as the redirect URI at the platform:
    /// `<public URL>/orgs/{org}/api/v1/connections/{platform}/callback`.
    pub redirect_uri: String,
    #[schema(required = true)]
    pub created_at: Option<String>,
    #[schema(required = true)]
    pub updated_at: Option<String>,
}

/// Where to send the browser to Connect.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AuthorizationUrl)]
pub struct AuthorizationUrlSchema {
    /// The platform's authorization URL with a single-use `state`.
    pub authorization_url: String,
}

/// A live platform access token for a consumer.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = FreshToken)]
pub struct FreshTokenSchema {
    pub platform: PlatformSchema,
    pub kind: ConnectionKindSchema,
    /// The platform's access token, with at least a minute to live.
    pub access_token: String,
    /// Always `bearer`.
    pub token_type: String,
    /// Null when the platform gave no expiry.
    #[schema(required = true)]
    pub expires_at: Option<String>,
    pub scopes: Vec<String>,
    pub channel_id: String,
    pub channel_name: String,
    /// The app's client id, which some platform APIs want beside the token (Twitch's
    /// `Client-Id`).
    pub client_id: String,
}

/// `global` (the deployment's hosted bot, no setup) or `custom`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum BotMode {
    Global,
    Custom,
    /// Discord: configured by system administrators, not per organization.
    Managed,
}

/// A platform's chat bot: the global one, or the organization's custom bot; for `discord`, the
/// bot system administrators configured (`managed`). The fields from `channelName` on are
/// present only for a custom bot.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = BotConnection)]
pub struct BotConnectionSchema {
    /// `twitch`, `youtube`, `kick`, `trovo`, or `discord`.
    pub platform: String,
    pub name: String,
    pub mode: BotMode,
    /// False when the platform is switched off system-wide.
    pub enabled: bool,
    pub credentials_configured: bool,
    /// Who posts: the global bot's name or the custom bot's account.
    pub bot_name: String,
    /// The custom bot's account id; null for the global bot.
    #[schema(required = true)]
    pub bot_id: Option<String>,
    #[schema(required = false)]
    pub channel_name: String,
    #[schema(required = false)]
    pub channel_id: String,
    #[schema(required = false)]
    pub scopes: Vec<String>,
    #[schema(required = false)]
    pub connected_at: String,
    #[schema(required = false)]
    pub updated_at: String,
    /// Null when the platform gave no expiry.
    pub token_expires_at: Option<String>,
    #[schema(required = false)]
    pub refresh_failed: bool,
    /// The configured scopes the bot's connection lacks: a Reconnect asks for them.
    #[schema(required = false)]
    pub missing_scopes: Vec<String>,
    #[schema(required = false)]
    pub refresh: RefreshHealthSchema,
}

/// Whether a platform takes PKCE.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PkceSupport {
    None,
    Supported,
    Required,
}

/// A platform's system-wide switch and effective endpoints.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Provider)]
pub struct ProviderSchema {
    pub platform: PlatformSchema,
    pub name: String,
    /// False: switched off for every organization.
    pub enabled: bool,
    pub authorize_url: String,
    pub token_url: String,
    #[schema(required = true)]
    pub revoke_url: Option<String>,
    pub api_url: String,
    #[schema(required = true)]
    pub validate_url: Option<String>,
    /// The scopes a Connect asks for.
    pub scopes: Vec<String>,
    pub pkce: PkceSupport,
}

/// The Discord bot system administrators configure for every organization.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = DiscordBot)]
pub struct DiscordBotSchema {
    pub configured: bool,
    #[schema(required = true)]
    pub application_id: Option<String>,
    #[schema(required = true)]
    pub bot_name: Option<String>,
    /// `…` and the token's last four characters.
    #[schema(required = true)]
    pub token_hint: Option<String>,
    #[schema(required = true)]
    pub updated_at: Option<String>,
}
