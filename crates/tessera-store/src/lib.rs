//! Storage behind traits. Business code sees [`Store`] and [`Tx`], never a pool or a dialect.
//!
//! Two implementations: SQLite (the embedded default: WAL, `busy_timeout`, foreign keys) and
//! PostgreSQL, selected by the URL given to [`connect`]. Each has its own migrations, embedded
//! in the binary. Both run the same portable SQL (numbered `$N` parameters, `RETURNING`,
//! millisecond integers for time, JSON arrays as text). [`repo`] declares one repository trait
//! per aggregate (organizations, users, clients, tokens, sessions, keys, connections, audit…);
//! `sql/<aggregate>.rs` holds each one's SQL once, stamped out for both drivers, so the two
//! cannot drift; [`conformance`] is the one suite both must pass, one check per repository.
//!
//! Every service call is one transaction: [`Store::begin`] for changes (on SQLite the
//! writers of a process queue on one lock, see [`sqlite`]), [`Store::single_write`] for a
//! change of one statement (no `BEGIN`/`COMMIT` around it), [`Store::read`] for reads.

use std::sync::Arc;

use async_trait::async_trait;

#[cfg(feature = "conformance")]
pub mod conformance;
mod kept;
mod migrations;
pub mod postgres;
pub mod repo;
mod sql;
pub mod sqlite;

pub use repo::*;

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

/// How many errors so far may have come from a broken connection (the connection failed, or
/// the server ended the session). A connection in use while this changed does not go back
/// to the store's own idle connections unchecked (see `postgres::PgHeld`).
pub(crate) static CONNECTION_FAULTS: std::sync::atomic::AtomicU64 =
    std::sync::atomic::AtomicU64::new(0);

/// Whether `e` may mean that its connection is broken.
fn connection_fault(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => true,
        // PostgreSQL's classes for a lost connection, an operator's intervention (the server
        // shutting down, the backend terminated), exhausted resources and internal errors.
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|c| ["08", "57", "53", "XX"].iter().any(|k| c.starts_with(k))),
        _ => false,
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if connection_fault(&e) {
            CONNECTION_FAULTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
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

/// A database: hands out transactions.
#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    fn backend(&self) -> Backend;
    /// Applies the embedded migrations of this backend.
    async fn migrate(&self) -> Result<()>;
    /// A transaction that will write.
    async fn begin(&self) -> Result<Box<dyn Tx>>;
    /// A write of exactly one statement, which is atomic on its own: it runs without
    /// `BEGIN` and `COMMIT` (two trips to the database fewer) and is durable when the
    /// statement returns; `commit` does nothing. Use [`Store::begin`] for anything more.
    async fn single_write(&self) -> Result<Box<dyn Tx>>;
    /// Stores an authorization code as a single write of its own (the usual authorization
    /// writes nothing else). SQLite runs it on the calling thread (see [`sqlite`]), as it
    /// does the other reads and writes of every authorization-code flow below.
    async fn write_code(&self, c: &AuthCode) -> Result<()> {
        single::write_code(self, c).await
    }
    /// [`CodeRepo::redeem_code_once`] as a single write of its own: true for the one caller
    /// that redeems the code, with its refresh token stored; false, with nothing written, for
    /// every other. SQLite runs it on the calling thread (see [`sqlite`]).
    async fn redeem_code(&self, r: &Redemption<'_>) -> Result<bool> {
        single::redeem_code(self, r).await
    }
    /// [`CodeRepo::find_code`] on its own. SQLite reads it on the calling thread.
    async fn read_code(
        &self,
        org: tessera_domain::OrgId,
        code_hash: &str,
    ) -> Result<Option<AuthCode>> {
        single::read_code(self, org, code_hash).await
    }
    /// [`SessionRepo::find_session_with_consent`] on its own. SQLite reads it on the calling
    /// thread.
    async fn read_session_with_consent(
        &self,
        org: tessera_domain::OrgId,
        id_hash: &str,
        client_id: &str,
    ) -> Result<Option<SessionWithConsent>> {
        single::read_session_with_consent(self, org, id_hash, client_id).await
    }
    /// A connection that only reads, without a transaction: each statement sees the latest
    /// commit (no snapshot spans two statements), on both backends.
    async fn read(&self) -> Result<Box<dyn Tx>>;
    /// Whether the database answers (readiness).
    async fn ping(&self) -> Result<()>;
    async fn close(&self);
    /// Sends every change any process records to `to` as it commits, where the backend can
    /// announce them (PostgreSQL: `LISTEN tessera_changes`), and says whether it will. Where it
    /// cannot (SQLite), or after a lost connection ([`ChangePush::Lost`]), followers poll.
    fn push_changes(&self, to: tokio::sync::mpsc::UnboundedSender<ChangePush>) -> bool {
        let _ = to;
        false
    }
    /// Writes a consistent copy of the whole database to the new file `to`, while the
    /// database is in use (SQLite). PostgreSQL has its own tools for that (`pg_dump`).
    async fn backup(&self, to: &std::path::Path) -> Result<()> {
        let _ = to;
        Err(StoreError::Unavailable(
            "tessera backup copies SQLite databases; back up PostgreSQL with pg_dump (docs/operations.md, Backups)".into(),
        ))
    }
}

/// The statements that [`Store`] offers on their own, through [`Store::single_write`] and
/// [`Store::read`]: every backend's way, and SQLite's when its own cannot take them.
mod single {
    use super::{AuthCode, Redemption, Result, SessionWithConsent, Store};

    pub(crate) async fn read_code<S: Store + ?Sized>(
        store: &S,
        org: tessera_domain::OrgId,
        code_hash: &str,
    ) -> Result<Option<AuthCode>> {
        store.read().await?.find_code(org, code_hash).await
    }

    pub(crate) async fn read_session_with_consent<S: Store + ?Sized>(
        store: &S,
        org: tessera_domain::OrgId,
        id_hash: &str,
        client_id: &str,
    ) -> Result<Option<SessionWithConsent>> {
        store
            .read()
            .await?
            .find_session_with_consent(org, id_hash, client_id)
            .await
    }

    pub(crate) async fn write_code<S: Store + ?Sized>(store: &S, c: &AuthCode) -> Result<()> {
        let mut w = store.single_write().await?;
        w.insert_code(c).await?;
        w.commit().await
    }

    pub(crate) async fn redeem_code<S: Store + ?Sized>(
        store: &S,
        r: &Redemption<'_>,
    ) -> Result<bool> {
        let mut w = store.single_write().await?;
        let done = w.redeem_code_once(r).await?;
        w.commit().await?;
        Ok(done)
    }
}

/// What [`Store::push_changes`] sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangePush {
    /// A change as it committed.
    Change(Change),
    /// The announcements were interrupted (and may resume): some may have been missed, so the
    /// follower reads the feed now.
    Lost,
}

/// One transaction and every repository in it. Dropped without [`Tx::commit`], it rolls back.
/// Every lookup of an organization's object takes the organization id: there is no way to
/// ask for another organization's object by accident.
#[async_trait]
pub trait Tx:
    OrgRepo
    + UserRepo
    + ApiKeyRepo
    + ClientRepo
    + ApiResourceRepo
    + SigningKeyRepo
    + TokenRepo
    + SessionRepo
    + CodeRepo
    + ConsoleRepo
    + RegistrationRepo
    + AuditRepo
    + ChangeFeed
    + LimitRepo
    + ConnectionTx
    + WebhookRepo
    + Send
{
    async fn commit(self: Box<Self>) -> Result<()>;
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
