//! The SQLite backend: the embedded default. WAL so readers never wait for the writer, a busy
//! timeout so the CLI and a running server can write to one file, foreign keys on.
//!
//! Writers of this process queue on an async mutex (the gate) before their first statement:
//! SQLite's own busy handler waits in sleeps of up to 100 ms, which under load turns a queue of
//! a few microseconds into tail latencies of hundreds of milliseconds. The busy timeout still
//! arbitrates between processes (the CLI next to a running server).
//!
//! Every statement is a trip to the connection's worker thread, and the trips made while the
//! gate is held are what bounds the write rate. So `BEGIN` is sent before the gate is taken,
//! transactions are opened and closed with plain statements ([`Held`]; sqlx's own
//! transactions wait for an acknowledgement on `BEGIN` and `COMMIT`, a third thread wake-up
//! each), pooled connections are not pinged before use, and reads run without a transaction.

use std::str::FromStr;

use sqlx::pool::PoolConnection;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::Sqlite;
use tokio::sync::OwnedMutexGuard;

use async_trait::async_trait;

use crate::{Backend, Result, Store, StoreError, StoreOptions};

crate::sql::impl_tx!(SqliteTx, sqlx::sqlite::SqliteRow, Held, "");

/// A pooled connection, inside a transaction when it writes (and then with the write gate).
pub(crate) struct Held {
    conn: Option<PoolConnection<Sqlite>>,
    /// Held by writing transactions: one writer at a time per process.
    gate: Option<OwnedMutexGuard<()>>,
    /// Held by writing transactions from before they take a connection (see `begin`).
    _writer: Option<tokio::sync::OwnedSemaphorePermit>,
    /// `BEGIN` ran and neither `COMMIT` nor `ROLLBACK` has yet; false for reads.
    open: bool,
}

impl Held {
    async fn begin(mut conn: PoolConnection<Sqlite>, statement: &'static str) -> Result<Self> {
        sqlx::query(statement).execute(&mut *conn).await?;
        Ok(Self {
            conn: Some(conn),
            gate: None,
            _writer: None,
            open: true,
        })
    }

    pub(crate) async fn commit(mut self) -> Result<()> {
        if self.open {
            sqlx::query("COMMIT").execute(&mut *self).await?;
            self.open = false;
        }
        Ok(())
    }
}

impl std::ops::Deref for Held {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        // Present until `drop`.
        self.conn.as_deref().unwrap_or_else(|| unreachable!())
    }
}

impl std::ops::DerefMut for Held {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        self.conn.as_deref_mut().unwrap_or_else(|| unreachable!())
    }
}

impl Drop for Held {
    /// A transaction dropped unfinished (an error, a cancelled request) is rolled back before
    /// its connection goes back to the pool and before the gate lets the next writer in.
    fn drop(&mut self) {
        let (Some(mut conn), true) = (self.conn.take(), self.open) else {
            return;
        };
        let gate = self.gate.take();
        let writer = self._writer.take();
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn(async move {
                    if sqlx::query("ROLLBACK").execute(&mut *conn).await.is_err() {
                        // Never hand out a connection in an unknown transaction state.
                        conn.close_on_drop();
                    }
                    drop(conn);
                    drop(gate);
                    drop(writer);
                });
            }
            Err(_) => conn.close_on_drop(),
        }
    }
}

/// A SQLite database file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    write_gate: std::sync::Arc<tokio::sync::Mutex<()>>,
    writers: std::sync::Arc<tokio::sync::Semaphore>,
}

impl SqliteStore {
    pub async fn connect(url: &str, opts: &StoreOptions) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Unavailable(format!("bad SQLite URL '{url}': {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // NORMAL is durable across process crashes in WAL mode; only a power loss can
            // lose the last transactions.
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(opts.busy_timeout)
            // 1 MiB of page cache per connection instead of SQLite's 2 MB: sixteen
            // connections reading random clients of a big database otherwise hold 32 MB of
            // pages the operating system's file cache holds anyway.
            .pragma("cache_size", "-1024")
            .foreign_keys(true);
        keep_private(options.get_filename());
        let pool = SqlitePoolOptions::new()
            .max_connections(opts.max_connections.max(1))
            // A connection to a local file does not go stale, and the ping would cost every
            // transaction one more trip to the connection's worker thread.
            .test_before_acquire(false)
            .acquire_timeout(opts.busy_timeout + std::time::Duration::from_secs(5))
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Unavailable(format!("cannot open {url}: {e}")))?;
        Ok(Self {
            pool,
            write_gate: std::sync::Arc::new(tokio::sync::Mutex::new(())),
            writers: std::sync::Arc::new(tokio::sync::Semaphore::new(
                (opts.max_connections.max(2) / 2) as usize,
            )),
        })
    }
}

/// The database holds hashes, sealed keys and the audit log: owner only. The file is created
/// `0600` before SQLite opens it, because SQLite gives the WAL and shared-memory files it
/// creates the database file's own permissions; files of an older install are tightened.
/// Best effort: a file system without Unix permissions only gets a warning.
fn keep_private(path: &std::path::Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        if path.as_os_str().is_empty() || path == std::path::Path::new(":memory:") {
            return;
        }
        let created = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path);
        if let Err(e) = created {
            if e.kind() != std::io::ErrorKind::AlreadyExists {
                tracing::warn!(path = %path.display(), error = %e, "cannot create the database file");
                return;
            }
        }
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut name = path.as_os_str().to_owned();
            name.push(suffix);
            let file = std::path::Path::new(&name);
            let Ok(meta) = std::fs::metadata(file) else {
                continue;
            };
            if meta.permissions().mode() & 0o077 != 0 {
                if let Err(e) =
                    std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600))
                {
                    tracing::warn!(path = %file.display(), error = %e, "cannot make the database file private");
                }
            }
        }
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    async fn migrate(&self) -> Result<()> {
        crate::migrations::migrator(crate::migrations::SQLITE)
            .await?
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::Migration(e.to_string()))
    }

    #[tracing::instrument(
        level = "debug",
        target = "tessera_store",
        name = "store.begin",
        skip_all
    )]
    async fn begin(&self) -> Result<Box<dyn crate::Tx>> {
        // Connection and `BEGIN` first, then the gate: the gate is held only for the
        // transaction's own statements, which is what bounds the write rate. A deferred
        // `BEGIN` touches no page, so in this process the first statement (after the gate)
        // sees every earlier write and takes the write lock uncontested. Another process
        // (the CLI) committing between a read and the first write of this transaction ends
        // it with SQLITE_BUSY, which callers see as `Unavailable`: retry.
        //
        // Writers waiting for the gate hold connections, so at most half the pool may wait
        // that way: readers (and a read made while a write is open) always find one.
        let writer = std::sync::Arc::clone(&self.writers)
            .acquire_owned()
            .await
            .map_err(|_| StoreError::Unavailable("the store is closing".into()))?;
        let conn = self.pool.acquire().await?;
        let mut held = Held::begin(conn, "BEGIN DEFERRED").await?;
        held._writer = Some(writer);
        held.gate = Some(std::sync::Arc::clone(&self.write_gate).lock_owned().await);
        Ok(Box::new(SqliteTx { tx: held }))
    }

    #[tracing::instrument(
        level = "debug",
        target = "tessera_store",
        name = "store.read",
        skip_all
    )]
    async fn read(&self) -> Result<Box<dyn crate::Tx>> {
        // No transaction: each statement reads the latest commit, one trip each. Reads of
        // several statements are not one snapshot (see [`Store::read`]).
        Ok(Box::new(SqliteTx {
            tx: Held {
                conn: Some(self.pool.acquire().await?),
                gate: None,
                _writer: None,
                open: false,
            },
        }))
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn close(&self) {
        self.pool.close().await;
    }

    async fn backup(&self, to: &std::path::Path) -> Result<()> {
        if to.exists() {
            return Err(StoreError::Unavailable(format!(
                "{} exists: give a new file name (a backup never overwrites)",
                to.display()
            )));
        }
        let path = to.to_str().ok_or_else(|| {
            StoreError::Unavailable(format!("{} is not a UTF-8 path", to.display()))
        })?;
        // `VACUUM INTO` reads one snapshot of the database (WAL included) while writers go
        // on, and writes it compacted to a new file: an online, consistent copy.
        sqlx::query("VACUUM INTO $1")
            .bind(path)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
