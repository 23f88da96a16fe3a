//! OBS Studio and Streamer.bot integrations, their connection tests, and StreamElements
//! tokens.

use serde::Serialize;
use utoipa::ToSchema;

use super::PlatformSchema;

#[derive(Serialize, ToSchema)]
#[schema(as = IntegrationType)]
pub enum IntegrationTypeSchema {
    #[serde(rename = "streamerbot")]
    StreamerBot,
    #[serde(rename = "obs")]
    Obs,
}

/// An OBS Studio or Streamer.bot integration as listed: never the password.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Integration)]
pub struct IntegrationSchema {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: IntegrationTypeSchema,
    pub label: String,
    pub host: String,
    pub port: u16,
    /// Streamer.bot's WebSocket path; `/` for OBS.
    pub endpoint: String,
    /// OBS only: the instance is on another machine, reached at `host`.
    pub remote_access: bool,
    pub enabled: bool,
    /// Whether a password is saved.
    pub has_password: bool,
    pub created_at: String,
    pub updated_at: String,
}

/// What a connection test found, by `result`.
#[derive(Serialize, ToSchema)]
#[serde(tag = "result", rename_all = "snake_case")]
#[schema(as = IntegrationTestOutcome)]
pub enum TestOutcomeSchema {
    /// Handshake, authentication and version request succeeded.
    Connected { version: String, message: String },
    /// The tool wants a password and the saved one is wrong, or none is saved.
    AuthFailed { message: String },
    /// The test did not finish in time (typically a firewall dropping packets).
    TimedOut { message: String },
    /// Refused, unreachable, or the host name did not resolve.
    Unreachable { message: String },
    /// Something answered, but not as obs-websocket 5 or Streamer.bot does.
    ProtocolError { message: String },
}

/// The result of testing an integration.
#[derive(Serialize, ToSchema)]
#[schema(as = IntegrationTestResult)]
pub struct IntegrationTestSchema {
    /// True for `connected` only.
    pub success: bool,
    /// The sentence to show next to the integration.
    pub message: String,
    pub outcome: TestOutcomeSchema,
}

/// A StreamElements token as listed: never the token.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = StreamElementsToken)]
pub struct StreamElementsTokenSchema {
    pub id: String,
    pub platform: PlatformSchema,
    #[schema(required = true)]
    pub label: Option<String>,
    /// `…` and the token's last 4 characters.
    pub hint: String,
    pub created_at: String,
}
