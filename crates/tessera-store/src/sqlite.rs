//! The SQLite backend: the embedded default. WAL so readers never wait for the writer, a busy
//! timeout so the CLI and a running server can write to one file, foreign keys on, and
//! `BEGIN IMMEDIATE` for writing transactions so that two writers queue instead of deadlocking
//! on a lock upgrade.
//!
//! Writers of this process also queue on an async mutex before they ask SQLite for the write
//! lock: SQLite's own busy handler waits in sleeps of up to 100 ms, which under load turns a
//! queue of a few microseconds into tail latencies of hundreds of milliseconds. The busy
//! timeout still arbitrates between processes (the CLI next to a running server).

use std::str::FromStr;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::{Backend, Store, StoreError, StoreOptions};

crate::sql::impl_tx!(SqliteTx, sqlx::Sqlite, sqlx::sqlite::SqliteRow);

/// A SQLite database file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    write_gate: std::sync::Arc<tokio::sync::Mutex<()>>,
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
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(opts.max_connections.max(1))
            .acquire_timeout(opts.busy_timeout + std::time::Duration::from_secs(5))
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Unavailable(format!("cannot open {url}: {e}")))?;
        Ok(Self {
            pool,
            write_gate: std::sync::Arc::new(tokio::sync::Mutex::new(())),
        })
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

    async fn begin(&self) -> Result<Box<dyn crate::Tx>> {
        let gate = std::sync::Arc::clone(&self.write_gate).lock_owned().await;
        Ok(Box::new(SqliteTx {
            tx: self.pool.begin_with("BEGIN IMMEDIATE").await?,
            _gate: Some(gate),
        }))
    }

    async fn read(&self) -> Result<Box<dyn crate::Tx>> {
        Ok(Box::new(SqliteTx {
            tx: self.pool.begin().await?,
            _gate: None,
        }))
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}
