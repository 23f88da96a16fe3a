//! The connections repository: platform switches, app credentials, live connections (with the
//! refresh worker's leases), connect-flow states, integrations, StreamElements tokens, and the
//! walk over every sealed column that re-encryption under a new vault key needs.
//!
//! Secret fields hold vault seals; this crate never sees a plaintext.

use async_trait::async_trait;
use tessera_domain::connection::IntegrationSettings;
use tessera_domain::{Actor, ConnectionKind, OrgId, Platform, Timestamp};

use crate::Result;

/// An organization's OAuth application at a platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialRecord {
    /// The row's identity, bound into its seals.
    pub id: String,
    pub org_id: OrgId,
    pub platform: Platform,
    /// Sealed.
    pub client_id: String,
    /// Sealed.
    pub client_secret: String,
    pub client_id_hint: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A connection of an organization's channel or custom bot to a platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionRecord {
    pub id: String,
    pub org_id: OrgId,
    pub platform: Platform,
    pub kind: ConnectionKind,
    pub channel_id: String,
    pub channel_name: String,
    pub scopes: Vec<String>,
    /// Sealed.
    pub access_token: String,
    /// Sealed.
    pub refresh_token: Option<String>,
    pub token_expires_at: Option<Timestamp>,
    pub connected_at: Timestamp,
    pub updated_at: Timestamp,
    pub last_refreshed_at: Option<Timestamp>,
    /// When the worker should refresh it (ahead of expiry, or after a back-off).
    pub next_refresh_at: Option<Timestamp>,
    /// Twitch: when the access token is next validated.
    pub next_validate_at: Option<Timestamp>,
    /// Transient failures in a row.
    pub refresh_attempts: i32,
    /// Set when the platform refused the refresh token: the card's red date.
    pub refresh_failed_at: Option<Timestamp>,
    pub refresh_error: Option<String>,
    pub lease_owner: Option<String>,
    pub lease_until: Option<Timestamp>,
}

/// A connect flow in progress, found by its `state`'s keyed hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionState {
    pub state_hash: String,
    pub org_id: OrgId,
    pub platform: Platform,
    pub kind: ConnectionKind,
    /// Who started it.
    pub actor: Actor,
    /// The PKCE verifier, sealed (row identity: the state hash).
    pub code_verifier: Option<String>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
}

/// An OBS or Streamer.bot instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntegrationRecord {
    pub id: String,
    pub org_id: OrgId,
    pub settings: IntegrationSettings,
    /// Sealed.
    pub password: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A StreamElements JWT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamElementsTokenRecord {
    pub id: String,
    pub org_id: OrgId,
    pub platform: Platform,
    pub label: Option<String>,
    /// Sealed.
    pub token: String,
    pub hint: String,
    pub created_at: Timestamp,
}

/// How a lease holder's work on a connection ended; each releases the lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkResult {
    /// New tokens (sealed). `refresh_token: None` keeps the stored one (platforms that do not
    /// rotate); the new one replaces it in the same statement as the access token otherwise.
    Refreshed {
        access_token: String,
        refresh_token: Option<String>,
        token_expires_at: Option<Timestamp>,
        next_refresh_at: Option<Timestamp>,
        next_validate_at: Option<Timestamp>,
        at: Timestamp,
    },
    /// The platform refused the refresh token: the connection turns red until reconnected.
    Failed { error: String, at: Timestamp },
    /// A transient failure: try again at `next_refresh_at`.
    Retry {
        error: String,
        attempts: i32,
        next_refresh_at: Timestamp,
    },
    /// The access token was validated; next validation then.
    Validated { next_validate_at: Timestamp },
}

/// Figures for the metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConnectionStats {
    pub connections: i64,
    pub failed: i64,
    /// When the oldest access token still in use was issued (healthy connections only).
    pub oldest_token_at: Option<Timestamp>,
}

/// Every column that holds a vault seal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealedColumn {
    SigningKey,
    CredentialClientId,
    CredentialClientSecret,
    AccessToken,
    RefreshToken,
    CodeVerifier,
    IntegrationPassword,
    StreamElementsToken,
    ClientSecret,
    /// A user's TOTP shared secret (the account page's second factor).
    TotpSecret,
    /// The token of a bot configured by system administrators (Discord).
    SystemBotToken,
    /// A webhook subscription's signing secret.
    WebhookSecret,
}

impl SealedColumn {
    pub const ALL: [SealedColumn; 12] = [
        SealedColumn::SigningKey,
        SealedColumn::CredentialClientId,
        SealedColumn::CredentialClientSecret,
        SealedColumn::AccessToken,
        SealedColumn::RefreshToken,
        SealedColumn::CodeVerifier,
        SealedColumn::IntegrationPassword,
        SealedColumn::StreamElementsToken,
        SealedColumn::ClientSecret,
        SealedColumn::TotpSecret,
        SealedColumn::SystemBotToken,
        SealedColumn::WebhookSecret,
    ];

    /// (table, column, the row id column): also the names bound into each seal.
    pub fn names(self) -> (&'static str, &'static str, &'static str) {
        match self {
            SealedColumn::SigningKey => ("signing_keys", "private_key", "id"),
            SealedColumn::CredentialClientId => ("platform_credentials", "client_id", "id"),
            SealedColumn::CredentialClientSecret => ("platform_credentials", "client_secret", "id"),
            SealedColumn::AccessToken => ("connections", "access_token", "id"),
            SealedColumn::RefreshToken => ("connections", "refresh_token", "id"),
            SealedColumn::CodeVerifier => ("connection_states", "code_verifier", "state_hash"),
            SealedColumn::IntegrationPassword => ("integrations", "password", "id"),
            SealedColumn::StreamElementsToken => ("streamelements_tokens", "token", "id"),
            SealedColumn::ClientSecret => ("oauth_client_secrets", "sealed", "id"),
            SealedColumn::TotpSecret => ("user_totp", "secret_sealed", "user_id"),
            SealedColumn::SystemBotToken => ("system_bots", "token_sealed", "platform"),
            SealedColumn::WebhookSecret => ("webhooks", "secret_sealed", "id"),
        }
    }
}

/// A bot that system administrators configure for every organization (Discord).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemBot {
    /// `discord`.
    pub platform: String,
    pub application_id: String,
    pub bot_name: String,
    /// The bot token, sealed by the vault (under the nil organization).
    pub token_sealed: String,
    /// The token's last four characters, to recognise it.
    pub token_hint: String,
    pub updated_at: Timestamp,
}

/// One sealed value and where it lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedCell {
    pub org_id: OrgId,
    pub row_id: String,
    pub value: String,
}

/// The connections repository, part of every [`crate::Tx`].
#[async_trait]
pub trait ConnectionTx: Send {
    // Bots configured by system administrators.
    async fn find_system_bot(&mut self, platform: &str) -> Result<Option<SystemBot>>;
    async fn put_system_bot(&mut self, b: &SystemBot) -> Result<()>;
    async fn delete_system_bot(&mut self, platform: &str) -> Result<bool>;

    // System-wide platform switches.
    /// Platforms switched off; every other one is on.
    async fn disabled_providers(&mut self) -> Result<Vec<Platform>>;
    async fn set_provider_enabled(
        &mut self,
        p: Platform,
        enabled: bool,
        at: Timestamp,
    ) -> Result<()>;

    // App credentials.
    async fn find_credentials(
        &mut self,
        org: OrgId,
        p: Platform,
    ) -> Result<Option<CredentialRecord>>;
    async fn list_credentials(&mut self, org: OrgId) -> Result<Vec<CredentialRecord>>;
    /// Inserts, or replaces the sealed values of the row with this id.
    async fn put_credentials(&mut self, c: &CredentialRecord) -> Result<()>;
    async fn delete_credentials(&mut self, org: OrgId, p: Platform) -> Result<bool>;

    // Connections.
    async fn find_connection(
        &mut self,
        org: OrgId,
        p: Platform,
        kind: ConnectionKind,
    ) -> Result<Option<ConnectionRecord>>;
    async fn find_connection_by_id(&mut self, id: &str) -> Result<Option<ConnectionRecord>>;
    async fn list_connections(&mut self, org: OrgId) -> Result<Vec<ConnectionRecord>>;
    /// Inserts, or (same id) replaces every field but `connected_at`; any lease is dropped.
    async fn put_connection(&mut self, c: &ConnectionRecord) -> Result<()>;
    async fn delete_connection(
        &mut self,
        org: OrgId,
        p: Platform,
        kind: ConnectionKind,
    ) -> Result<bool>;
    /// Leases up to `limit` connections that are due (refresh or validation) and not leased,
    /// to `owner` until `lease_until`. Two callers never get the same connection while a
    /// lease holds (PostgreSQL: `FOR UPDATE SKIP LOCKED`; SQLite: one writer at a time).
    async fn claim_due_connections(
        &mut self,
        owner: &str,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<ConnectionRecord>>;
    /// Leases one connection, due or not, if no live lease holds it.
    async fn claim_connection(
        &mut self,
        id: &str,
        owner: &str,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<Option<ConnectionRecord>>;
    /// Records the outcome of leased work and releases the lease; false when `owner` no
    /// longer holds it (the write is then not made).
    async fn finish_connection_work(
        &mut self,
        id: &str,
        owner: &str,
        result: &WorkResult,
    ) -> Result<bool>;
    async fn connection_stats(&mut self) -> Result<ConnectionStats>;

    // Connect-flow states.
    async fn insert_connection_state(&mut self, s: &ConnectionState) -> Result<()>;
    /// Marks the state used and returns it; `None` when unknown or already used.
    async fn take_connection_state(
        &mut self,
        state_hash: &str,
        at: Timestamp,
    ) -> Result<Option<ConnectionState>>;

    // Integrations.
    async fn insert_integration(&mut self, i: &IntegrationRecord) -> Result<()>;
    async fn update_integration(&mut self, i: &IntegrationRecord) -> Result<bool>;
    async fn find_integration(&mut self, org: OrgId, id: &str)
        -> Result<Option<IntegrationRecord>>;
    async fn list_integrations(&mut self, org: OrgId) -> Result<Vec<IntegrationRecord>>;
    async fn delete_integration(&mut self, org: OrgId, id: &str) -> Result<bool>;

    // StreamElements tokens.
    async fn insert_se_token(&mut self, t: &StreamElementsTokenRecord) -> Result<()>;
    async fn list_se_tokens(&mut self, org: OrgId) -> Result<Vec<StreamElementsTokenRecord>>;
    async fn delete_se_token(&mut self, org: OrgId, id: &str) -> Result<bool>;

    // Re-encryption.
    /// Up to `limit` sealed values of a column, by row id, after `after`.
    async fn sealed_cells(
        &mut self,
        col: SealedColumn,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<SealedCell>>;
    /// Replaces one sealed value if it is still `old` (a concurrent change wins).
    async fn reseal_cell(
        &mut self,
        col: SealedColumn,
        row_id: &str,
        old: &str,
        new: &str,
    ) -> Result<bool>;
}
