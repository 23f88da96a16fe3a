//! Storage behind traits. Business code sees [`Store`] and [`Tx`], never a pool or a dialect.
//!
//! Two implementations: SQLite (the embedded default: WAL, `busy_timeout`, foreign keys) and
//! PostgreSQL, selected by the URL given to [`connect`]. Each has its own migrations, embedded
//! in the binary. Both run the same portable SQL (numbered `$N` parameters, `RETURNING`,
//! millisecond integers for time, JSON arrays as text), stamped out for each driver by one
//! macro in [`sql`], so the two cannot drift; [`conformance`] is the one suite both must pass.
//!
//! Every service call is one transaction: [`Store::begin`] for changes (on SQLite a
//! `BEGIN IMMEDIATE`, so concurrent writers queue on the busy timeout instead of failing on
//! lock upgrade), [`Store::read`] for reads.

use std::sync::Arc;

use async_trait::async_trait;
use tessera_domain::client::{ClientId, OAuthClient, SecretInfo};
use tessera_domain::{
    ApiKey, ApiKeyId, AuditEvent, NewAuditEvent, OrgId, OrgSlug, Organization, PermissionSet,
    RoleName, Timestamp, User, UserId, Username,
};

#[cfg(feature = "conformance")]
pub mod conformance;
pub mod connections;
mod migrations;
pub mod postgres;
mod sql;
mod sql_connections;
pub mod sqlite;

pub use connections::{
    ConnectionRecord, ConnectionState, ConnectionStats, ConnectionTx, CredentialRecord,
    IntegrationRecord, SealedCell, SealedColumn, StreamElementsTokenRecord, WorkResult,
};

/// Storage failures. Database text is kept for the log, never shown to callers.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint refused the write (duplicate slug, username, id…).
    #[error("conflict on {constraint}")]
    Conflict { constraint: String },
    /// A value in the database could not be read back into a domain type.
    #[error("corrupt row in {table}: {reason}")]
    Corrupt { table: &'static str, reason: String },
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Database(String),
    #[error("migration failed: {0}")]
    Migration(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict {
                constraint: db
                    .constraint()
                    .map(str::to_owned)
                    .unwrap_or_else(|| db.message().to_owned()),
            },
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                StoreError::Unavailable(e.to_string())
            }
            // SQLITE_BUSY and its extended codes (the primary code is the low byte): another
            // process holds the write lock past the busy timeout, or committed under a
            // transaction that had already read. Transient: the caller may retry.
            sqlx::Error::Database(db)
                if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some()
                    && db
                        .code()
                        .and_then(|c| c.parse::<i32>().ok())
                        .is_some_and(|c| c & 0xff == 5) =>
            {
                StoreError::Unavailable(e.to_string())
            }
            _ => StoreError::Database(e.to_string()),
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A user as stored, with the password hash that the domain type deliberately lacks.
#[derive(Debug, Clone)]
pub struct UserRecord {
    pub user: User,
    pub password_hash: Option<String>,
}

/// A custom role of an organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomRole {
    pub org_id: OrgId,
    pub name: RoleName,
    pub permissions: PermissionSet,
    pub created_at: Timestamp,
}

/// An API key with the hash it is looked up by.
#[derive(Debug, Clone)]
pub struct ApiKeyRecord {
    pub key: ApiKey,
    pub key_hash: String,
}

/// Which audit events to list, newest first.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub limit: u32,
    /// Only events with an id below this one (the previous page's last id).
    pub before: Option<i64>,
    pub action: Option<String>,
    /// Matches the actor's name.
    pub actor: Option<String>,
}

/// One entry of the change feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub seq: i64,
    pub org_id: Option<OrgId>,
    pub kind: String,
    pub key: String,
}

/// A client secret as stored: its public metadata and its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientSecretRecord {
    pub org_id: OrgId,
    pub client_id: ClientId,
    pub info: SecretInfo,
    /// A stored hash naming its algorithm (`hmac-sha256$…` or `$argon2id$…`).
    pub secret_hash: String,
}

/// Which clients to list: `q` matches the id or the name, case-insensitively.
#[derive(Debug, Clone, Default)]
pub struct ClientQuery {
    pub q: Option<String>,
    pub limit: u32,
    pub offset: u32,
}

/// A signing key as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKeyRecord {
    /// The `kid`.
    pub id: String,
    pub org_id: OrgId,
    /// `ES256`, `RS256` or `EdDSA`.
    pub alg: String,
    /// Sealed by the vault.
    pub private_key: String,
    /// The public JWK, as JSON text.
    pub public_jwk: String,
    pub created_at: Timestamp,
    pub retired_at: Option<Timestamp>,
    pub publish_until: Option<Timestamp>,
}

/// A login session (the cookie's hash is the key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginSession {
    pub id_hash: String,
    pub org_id: OrgId,
    pub user_id: UserId,
    pub auth_time: Timestamp,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub ended_at: Option<Timestamp>,
}

/// A console browser session. The cookie is stored only as its keyed hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleSession {
    pub id_hash: String,
    /// The organization the console shows; `None` until chosen (or after it was deleted).
    pub current_org: Option<OrgId>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub ended_at: Option<Timestamp>,
}

/// One sign-in of a console session in one organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleLogin {
    pub session_hash: String,
    pub org_id: OrgId,
    pub user_id: UserId,
    pub auth_time: Timestamp,
    pub created_at: Timestamp,
}

/// An authorization request waiting for login or consent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingRequest {
    pub id: String,
    pub org_id: OrgId,
    /// The validated request, as JSON.
    pub params: String,
    pub csrf: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// An authorization code (the code's hash is the key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthCode {
    pub code_hash: String,
    pub org_id: OrgId,
    pub client_id: String,
    pub user_id: UserId,
    pub redirect_uri: String,
    pub scope: String,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub auth_time: Timestamp,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub redeemed_at: Option<Timestamp>,
    /// The access token issued for it, to revoke on a second redemption.
    pub access_jti: Option<String>,
    pub access_expires: Option<Timestamp>,
    /// The authorization's claims request (OIDC Core §5.5), if it had one.
    pub claims: Option<tessera_domain::claims::ClaimsRequest>,
}

/// An initial access token for client registration (its hash is what is kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitialAccessToken {
    pub id: String,
    pub org_id: OrgId,
    pub token_hash: String,
    /// The last characters, to tell tokens apart in a list.
    pub hint: String,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

/// Where a device authorization stands (RFC 8628).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceStatus {
    /// Waiting for the user.
    Pending,
    Approved,
    Denied,
    /// Approved and exchanged for tokens: spent.
    Redeemed,
}

impl DeviceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Denied => "denied",
            Self::Redeemed => "redeemed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Pending, Self::Approved, Self::Denied, Self::Redeemed]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// A device authorization (RFC 8628 §3.2); both codes kept only as hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceCode {
    pub device_code_hash: String,
    pub user_code_hash: String,
    pub org_id: OrgId,
    pub client_id: String,
    pub scope: String,
    pub status: DeviceStatus,
    /// Who approved or denied it, and when they signed in.
    pub user_id: Option<UserId>,
    pub auth_time: Option<Timestamp>,
    /// The polling interval now in force (RFC 8628 §3.5: `slow_down` adds 5 seconds).
    pub interval_secs: i64,
    pub last_polled_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// A refresh token (its hash is the key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshToken {
    pub token_hash: String,
    pub org_id: OrgId,
    pub family_id: String,
    pub client_id: String,
    pub user_id: UserId,
    pub scope: String,
    pub auth_time: Timestamp,
    pub created_at: Timestamp,
    /// The family's absolute end: refreshing never extends it.
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
    /// The claims request of the authorization the family started from.
    pub claims: Option<tessera_domain::claims::ClaimsRequest>,
}

/// A database: hands out transactions.
#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    fn backend(&self) -> Backend;
    /// Applies the embedded migrations of this backend.
    async fn migrate(&self) -> Result<()>;
    /// A transaction that will write.
    async fn begin(&self) -> Result<Box<dyn Tx>>;
    /// A transaction that only reads. On SQLite each statement sees the latest commit (no
    /// snapshot spans two statements); on PostgreSQL it is a read-committed transaction,
    /// which is the same promise.
    async fn read(&self) -> Result<Box<dyn Tx>>;
    /// Whether the database answers (readiness).
    async fn ping(&self) -> Result<()>;
    async fn close(&self);
}

/// One transaction and every repository in it. Dropped without [`Tx::commit`], it rolls back.
/// Every lookup of an organization's object takes the organization id: there is no way to
/// ask for another organization's object by accident.
#[async_trait]
pub trait Tx: ConnectionTx + Send {
    async fn commit(self: Box<Self>) -> Result<()>;

    // Organizations.
    async fn insert_org(&mut self, org: &Organization) -> Result<()>;
    async fn find_org(&mut self, id: OrgId) -> Result<Option<Organization>>;
    async fn find_org_by_slug(&mut self, slug: &OrgSlug) -> Result<Option<Organization>>;
    async fn list_orgs(&mut self) -> Result<Vec<Organization>>;
    async fn count_orgs(&mut self) -> Result<i64>;

    // Users.
    async fn insert_user(&mut self, user: &User, password_hash: Option<&str>) -> Result<()>;
    async fn find_user(&mut self, org: OrgId, id: UserId) -> Result<Option<UserRecord>>;
    async fn find_user_by_username(
        &mut self,
        org: OrgId,
        username: &Username,
    ) -> Result<Option<UserRecord>>;
    async fn list_users(&mut self, org: OrgId) -> Result<Vec<User>>;
    /// Writes a user's editable fields (email, name, roles, is_active, updated_at) by org and id;
    /// false when there is no such user in that organization. The password hash is untouched.
    async fn update_user(&mut self, user: &User) -> Result<bool>;

    // Custom roles.
    async fn insert_role(&mut self, role: &CustomRole) -> Result<()>;
    async fn find_role(&mut self, org: OrgId, name: &RoleName) -> Result<Option<CustomRole>>;
    async fn list_roles(&mut self, org: OrgId) -> Result<Vec<CustomRole>>;

    // API keys. `org` is `None` for system-wide keys.
    async fn insert_api_key(&mut self, key: &ApiKey, key_hash: &str) -> Result<()>;
    /// The key with this hash, of any organization: authentication does not know the
    /// organization before it knows the key.
    async fn find_api_key_by_hash(&mut self, key_hash: &str) -> Result<Option<ApiKeyRecord>>;
    async fn find_api_key(&mut self, org: Option<OrgId>, id: ApiKeyId) -> Result<Option<ApiKey>>;
    async fn list_api_keys(&mut self, org: Option<OrgId>) -> Result<Vec<ApiKey>>;
    /// Marks the key revoked; false when there was no such unrevoked key.
    async fn revoke_api_key(
        &mut self,
        org: Option<OrgId>,
        id: ApiKeyId,
        at: Timestamp,
    ) -> Result<bool>;
    async fn touch_api_key(&mut self, id: ApiKeyId, at: Timestamp) -> Result<()>;

    // OAuth clients. Secrets are stored separately; reads fill `secrets` with their metadata.
    async fn insert_client(&mut self, client: &OAuthClient) -> Result<()>;
    /// Replaces the settings of an existing client; false when there is none.
    async fn update_client(&mut self, client: &OAuthClient) -> Result<bool>;
    async fn find_client(&mut self, org: OrgId, id: &ClientId) -> Result<Option<OAuthClient>>;
    /// One page of clients, newest first, and the total number matching.
    async fn list_clients(
        &mut self,
        org: OrgId,
        q: &ClientQuery,
    ) -> Result<(Vec<OAuthClient>, i64)>;
    /// Every CORS origin any client of the organization allows.
    async fn cors_origins(&mut self, org: OrgId) -> Result<Vec<String>>;
    /// Deletes the client and its secrets; false when there was none.
    async fn delete_client(&mut self, org: OrgId, id: &ClientId) -> Result<bool>;
    async fn insert_client_secret(&mut self, secret: &ClientSecretRecord) -> Result<()>;
    /// Every stored secret of a client, oldest first, expired ones included.
    async fn client_secrets(
        &mut self,
        org: OrgId,
        id: &ClientId,
    ) -> Result<Vec<ClientSecretRecord>>;
    async fn delete_client_secret(&mut self, org: OrgId, secret_id: &str) -> Result<bool>;
    async fn set_client_secret_expiry(
        &mut self,
        org: OrgId,
        secret_id: &str,
        expires_at: Option<Timestamp>,
    ) -> Result<()>;
    async fn touch_client_secret(
        &mut self,
        org: OrgId,
        secret_id: &str,
        at: Timestamp,
    ) -> Result<()>;

    // Signing keys.
    async fn insert_signing_key(&mut self, key: &SigningKeyRecord) -> Result<()>;
    /// The organization's keys that are active or still published at `now`, oldest first.
    async fn published_signing_keys(
        &mut self,
        org: OrgId,
        now: Timestamp,
    ) -> Result<Vec<SigningKeyRecord>>;
    /// Retires every active key of `alg`, publishing it until `publish_until`.
    async fn retire_signing_keys(
        &mut self,
        org: OrgId,
        alg: &str,
        at: Timestamp,
        publish_until: Timestamp,
    ) -> Result<u64>;

    // Revoked access tokens.
    /// Records a revocation; true when it is new.
    async fn revoke_token(
        &mut self,
        org: OrgId,
        jti: &str,
        expires_at: Timestamp,
        at: Timestamp,
    ) -> Result<bool>;
    async fn is_token_revoked(&mut self, org: OrgId, jti: &str) -> Result<bool>;
    /// Forgets revocations of tokens that have expired anyway.
    async fn prune_revoked_tokens(&mut self, now: Timestamp) -> Result<u64>;
    /// Records the `jti` of an accepted client assertion until it expires; false when the
    /// client used it before (a replay).
    async fn use_client_assertion(
        &mut self,
        org: OrgId,
        client_id: &str,
        jti: &str,
        expires_at: Timestamp,
    ) -> Result<bool>;
    /// Deletes device codes, authorization codes, pending requests, login sessions and the
    /// `jti`s of client assertions that expired before `before`; how many rows went.
    async fn prune_expired_flows(&mut self, before: Timestamp) -> Result<u64>;

    // Interactive flows.
    async fn insert_session(&mut self, s: &LoginSession) -> Result<()>;
    async fn find_session(&mut self, org: OrgId, id_hash: &str) -> Result<Option<LoginSession>>;
    async fn end_session(&mut self, org: OrgId, id_hash: &str, at: Timestamp) -> Result<bool>;
    /// Ends every live login session of a user (deactivation); how many.
    async fn end_user_sessions(&mut self, org: OrgId, user: UserId, at: Timestamp) -> Result<u64>;
    async fn insert_pending(&mut self, p: &PendingRequest) -> Result<()>;
    async fn find_pending(&mut self, org: OrgId, id: &str) -> Result<Option<PendingRequest>>;
    async fn delete_pending(&mut self, org: OrgId, id: &str) -> Result<bool>;
    async fn insert_code(&mut self, c: &AuthCode) -> Result<()>;
    async fn find_code(&mut self, org: OrgId, code_hash: &str) -> Result<Option<AuthCode>>;
    /// Marks a code redeemed; true only for the one caller that redeems it first.
    async fn redeem_code(&mut self, org: OrgId, code_hash: &str, at: Timestamp) -> Result<bool>;
    /// Redeems a code and records the access token issued for it, in one statement; the code
    /// as it now is, or `None` when it was not there or already redeemed.
    async fn redeem_code_for(
        &mut self,
        org: OrgId,
        code_hash: &str,
        at: Timestamp,
        jti: &str,
        access_expires: Timestamp,
    ) -> Result<Option<AuthCode>>;
    async fn set_code_token(
        &mut self,
        org: OrgId,
        code_hash: &str,
        jti: &str,
        expires: Timestamp,
    ) -> Result<()>;

    // Console sessions. A session belongs to no one organization (it holds sign-ins in
    // several), so these take none; its sign-ins name theirs.
    /// Stores a new session; a hash already stored is a conflict.
    async fn insert_console_session(&mut self, s: &ConsoleSession) -> Result<()>;
    /// The session, whatever its state (the caller checks expiry and end).
    async fn find_console_session(&mut self, id_hash: &str) -> Result<Option<ConsoleSession>>;
    /// Sets the organization shown; false when there is no such live (not ended) session.
    async fn set_console_org(&mut self, id_hash: &str, org: OrgId) -> Result<bool>;
    /// Ends a session; false when it was not there or already ended.
    async fn end_console_session(&mut self, id_hash: &str, at: Timestamp) -> Result<bool>;
    /// Records a sign-in, replacing an earlier one of the same session in the same organization.
    async fn upsert_console_login(&mut self, l: &ConsoleLogin) -> Result<()>;
    /// The session's sign-ins, oldest first.
    async fn list_console_logins(&mut self, session_hash: &str) -> Result<Vec<ConsoleLogin>>;
    /// Deletes sessions that expired or ended before `before`, and their sign-ins with them;
    /// how many sessions went.
    async fn purge_console_sessions(&mut self, before: Timestamp) -> Result<u64>;

    // Dynamic client registration.
    /// The organization's registration policy as stored JSON, if one was set.
    async fn registration_policy(&mut self, org: OrgId) -> Result<Option<String>>;
    async fn put_registration_policy(
        &mut self,
        org: OrgId,
        policy: &str,
        at: Timestamp,
    ) -> Result<()>;
    async fn insert_initial_access_token(&mut self, t: &InitialAccessToken) -> Result<()>;
    async fn find_initial_access_token(
        &mut self,
        org: OrgId,
        token_hash: &str,
    ) -> Result<Option<InitialAccessToken>>;
    async fn list_initial_access_tokens(&mut self, org: OrgId) -> Result<Vec<InitialAccessToken>>;
    /// Revokes one; false if there is no such live token.
    async fn revoke_initial_access_token(
        &mut self,
        org: OrgId,
        id: &str,
        at: Timestamp,
    ) -> Result<bool>;
    /// Sets (or replaces) a registered client's registration access token hash.
    async fn set_registration_token(
        &mut self,
        org: OrgId,
        client_id: &str,
        token_hash: &str,
        at: Timestamp,
    ) -> Result<()>;
    async fn registration_token(&mut self, org: OrgId, client_id: &str) -> Result<Option<String>>;

    // Device authorization grant.
    async fn insert_device_code(&mut self, d: &DeviceCode) -> Result<()>;
    async fn find_device_code(
        &mut self,
        org: OrgId,
        device_code_hash: &str,
    ) -> Result<Option<DeviceCode>>;
    async fn find_device_by_user_code(
        &mut self,
        org: OrgId,
        user_code_hash: &str,
    ) -> Result<Option<DeviceCode>>;
    /// Approves or denies a pending, unexpired authorization; true if this call decided it.
    async fn decide_device_code(
        &mut self,
        org: OrgId,
        user_code_hash: &str,
        approve: bool,
        user: UserId,
        auth_time: Timestamp,
        now: Timestamp,
    ) -> Result<bool>;
    /// Records a poll and the interval in force from now on.
    async fn poll_device_code(
        &mut self,
        org: OrgId,
        device_code_hash: &str,
        at: Timestamp,
        interval_secs: i64,
    ) -> Result<()>;
    /// Approved → redeemed; true only for the one caller that redeems it.
    async fn redeem_device_code(&mut self, org: OrgId, device_code_hash: &str) -> Result<bool>;
    async fn find_consent(
        &mut self,
        org: OrgId,
        user: UserId,
        client_id: &str,
    ) -> Result<Option<Vec<String>>>;
    async fn upsert_consent(
        &mut self,
        org: OrgId,
        user: UserId,
        client_id: &str,
        scopes: &[String],
        at: Timestamp,
    ) -> Result<()>;

    // Refresh tokens.
    async fn insert_refresh(&mut self, t: &RefreshToken) -> Result<()>;
    async fn find_refresh(&mut self, org: OrgId, token_hash: &str) -> Result<Option<RefreshToken>>;
    /// Spends a token; true only for the one caller that spends it first.
    async fn use_refresh(&mut self, org: OrgId, token_hash: &str, at: Timestamp) -> Result<bool>;
    /// Revokes every token of a family; how many were still unrevoked.
    async fn revoke_refresh_family(
        &mut self,
        org: OrgId,
        family_id: &str,
        at: Timestamp,
    ) -> Result<u64>;

    // Audit log.
    async fn insert_audit(&mut self, event: &NewAuditEvent) -> Result<i64>;
    async fn list_audit(&mut self, org: OrgId, q: &AuditQuery) -> Result<Vec<AuditEvent>>;
    /// System-wide events (no organization), for system administrators.
    async fn list_system_audit(&mut self, q: &AuditQuery) -> Result<Vec<AuditEvent>>;

    // Change feed.
    async fn record_change(
        &mut self,
        org: Option<OrgId>,
        kind: &str,
        key: &str,
        at: Timestamp,
    ) -> Result<()>;
    async fn changes_since(&mut self, seq: i64, limit: u32) -> Result<Vec<Change>>;
    /// Changes numbered at most `upto` and recorded since `since`, newest first: on PostgreSQL
    /// a transaction can commit after one that took a later number, so a reader that has seen
    /// up to `upto` looks back a few seconds for what committed late.
    async fn recent_changes(
        &mut self,
        upto: i64,
        since: Timestamp,
        limit: u32,
    ) -> Result<Vec<Change>>;
    async fn last_change_seq(&mut self) -> Result<i64>;
    async fn prune_changes(&mut self, older_than: Timestamp) -> Result<u64>;
}

/// Pool and timeout settings.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    pub max_connections: u32,
    /// How long a writer waits for another writer's lock (SQLite) or for a pooled connection.
    pub busy_timeout: std::time::Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            max_connections: 16,
            busy_timeout: std::time::Duration::from_secs(5),
        }
    }
}

/// Opens the database named by `url`: `sqlite://…` or `postgres://…` (`postgresql://…`).
/// Does not migrate.
pub async fn connect(url: &str, opts: &StoreOptions) -> Result<Arc<dyn Store>> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(postgres::PgStore::connect(url, opts).await?))
    } else if url.starts_with("sqlite:") {
        Ok(Arc::new(sqlite::SqliteStore::connect(url, opts).await?))
    } else {
        Err(StoreError::Unavailable(format!(
            "unsupported database URL '{}': use sqlite://PATH or postgres://…",
            redact_url(url)
        )))
    }
}

/// The URL with any password replaced by `***`, for messages and logs.
pub fn redact_url(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        if let Some((userinfo, host)) = rest.split_once('@') {
            if let Some((user, _)) = userinfo.split_once(':') {
                return format!("{scheme}://{user}:***@{host}");
            }
        }
    }
    url.to_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_passwords() {
        assert_eq!(
            super::redact_url("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(super::redact_url("sqlite://x.db"), "sqlite://x.db");
    }
}
