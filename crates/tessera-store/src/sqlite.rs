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
//! each), pooled connections are not pinged before use nor on their return (they are kept
//! between uses by the store, see [`crate::kept`], not in sqlx's pool), and reads run without
//! a transaction.
//!
//! The four statements of every authorization-code flow (reading the session with its consent,
//! storing the code, reading it, redeeming it) skip those trips: they run on the calling
//! thread, on a connection of their own ([`lane`]).
//!
//! Checkpoints (copying the WAL back into the database file, with its two `fsync`s) run on a
//! connection of their own in the background, not in the commit that crossed SQLite's
//! automatic threshold while it held the gate ([`checkpointer`]).

use std::str::FromStr;

use sqlx::pool::PoolConnection;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::Sqlite;
use tokio::sync::OwnedMutexGuard;

use async_trait::async_trait;

use crate::kept::{self, Home, Idle};
use crate::{AuthCode, Backend, Redemption, Result, Store, StoreError, StoreOptions};

mod lane;

crate::sql::impl_tx!(SqliteTx, sqlx::sqlite::SqliteRow, Held, "", sqlite);

/// A pooled connection, inside a transaction when it writes (and then with the write gate).
pub(crate) struct Held {
    conn: Option<PoolConnection<Sqlite>>,
    /// Where the connection goes back to, and the place in the pool it holds until then.
    home: Option<Home<Sqlite>>,
    /// Held by writing transactions: one writer at a time per process.
    gate: Option<OwnedMutexGuard<()>>,
    /// Held by writing transactions from before they take a connection (see `begin`).
    _writer: Option<tokio::sync::OwnedSemaphorePermit>,
    /// `BEGIN` ran and neither `COMMIT` nor `ROLLBACK` has yet; false for reads and single writes.
    open: bool,
}

impl Held {
    fn new(conn: Taken) -> Self {
        let Taken { conn, home } = conn;
        Self {
            conn: Some(conn),
            home: Some(home),
            gate: None,
            _writer: None,
            open: false,
        }
    }

    async fn begin(conn: Taken, statement: &'static str) -> Result<Self> {
        let mut held = Self::new(conn);
        // Open from before `BEGIN` is sent: given up while it is on its way (the request
        // went away), it still runs on the connection's thread, and the connection must be
        // rolled back before its next use. (A `BEGIN` that failed or never ran makes that
        // `ROLLBACK` fail, and the connection is closed instead: rare, and safe.)
        held.open = true;
        sqlx::query(statement).execute(&mut *held).await?;
        Ok(held)
    }

    /// Before statements that open a savepoint of their own in one trip: dropped before they
    /// are back (a cancelled request; sqlx's worker then stops between statements), the
    /// connection is rolled back like an unfinished transaction. Whether one was open before.
    pub(crate) fn in_flight(&mut self) -> bool {
        std::mem::replace(&mut self.open, true)
    }

    /// The statements of [`Held::in_flight`] are back and their savepoint closed.
    pub(crate) fn landed(&mut self, was_open: bool) {
        self.open = was_open;
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
        let Some(conn) = self.conn.take() else {
            return;
        };
        let keep = (self.gate.take(), self._writer.take());
        kept::give_back(conn, self.home.take(), self.open, keep, rollback);
    }
}

/// `ROLLBACK` on a SQLite connection (see [`kept::give_back`]).
fn rollback(conn: &mut SqliteConnection) -> kept::Rollback<'_> {
    Box::pin(async move { sqlx::query("ROLLBACK").execute(conn).await.is_ok() })
}

/// A connection taken for a [`Held`], with its place in the pool.
struct Taken {
    conn: PoolConnection<Sqlite>,
    home: Home<Sqlite>,
}

/// A SQLite database file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// The connections kept between uses (see [`kept`]).
    idle: Idle<Sqlite>,
    /// One per connection the pool may have; held by each connection in use.
    places: std::sync::Arc<tokio::sync::Semaphore>,
    acquire_timeout: std::time::Duration,
    write_gate: std::sync::Arc<tokio::sync::Mutex<()>>,
    writers: std::sync::Arc<tokio::sync::Semaphore>,
    /// `None` for an in-memory database (no WAL).
    checkpoints: Option<std::sync::Arc<Checkpoints>>,
    /// The flow's statements on the calling thread; `None` for an in-memory database (a
    /// connection of its own would see another database).
    lane: Option<std::sync::Arc<lane::Lane>>,
}

impl SqliteStore {
    pub async fn connect(url: &str, opts: &StoreOptions) -> Result<Self, StoreError> {
        Self::open(url, opts, Checkpointing::DEFAULT).await
    }

    async fn open(url: &str, opts: &StoreOptions, ckpt: Checkpointing) -> Result<Self, StoreError> {
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
        let in_file = !is_memory(options.get_filename());
        // The pool's connections never checkpoint: the checkpointer does (see `checkpointer`).
        let pooled = if in_file {
            options.clone().pragma("wal_autocheckpoint", "0")
        } else {
            options.clone()
        };
        let acquire_timeout = opts.busy_timeout + std::time::Duration::from_secs(5);
        let pool = SqlitePoolOptions::new()
            .max_connections(opts.max_connections.max(1))
            // A connection to a local file does not go stale, and the ping would cost every
            // transaction one more trip to the connection's worker thread.
            .test_before_acquire(false)
            .acquire_timeout(acquire_timeout)
            .connect_with(pooled)
            .await
            .map_err(|e| StoreError::Unavailable(format!("cannot open {url}: {e}")))?;
        let write_gate = std::sync::Arc::new(tokio::sync::Mutex::new(()));
        let checkpoints = if in_file {
            let conn = sqlx::ConnectOptions::connect(&options)
                .await
                .map_err(|e| StoreError::Unavailable(format!("cannot open {url}: {e}")))?;
            Some(Checkpoints::start(
                conn,
                std::sync::Arc::clone(&write_gate),
                ckpt,
            ))
        } else {
            None
        };
        let lane = if in_file {
            Some(std::sync::Arc::new(lane::Lane::open(
                options.get_filename(),
            )?))
        } else {
            None
        };
        Ok(Self {
            pool,
            idle: Idle::default(),
            places: std::sync::Arc::new(tokio::sync::Semaphore::new(
                opts.max_connections.max(1) as usize
            )),
            acquire_timeout,
            write_gate,
            writers: std::sync::Arc::new(tokio::sync::Semaphore::new(
                (opts.max_connections.max(2) / 2) as usize,
            )),
            checkpoints: checkpoints.map(std::sync::Arc::new),
            lane,
        })
    }
}

impl SqliteStore {
    /// A connection: an idle one of ours (a local file's connection does not go stale), or
    /// else one from sqlx's pool (see [`kept`]).
    async fn take(&self) -> Result<Taken> {
        let place = kept::place(&self.places, self.acquire_timeout).await?;
        let conn = match self.idle.take() {
            Some((conn, _)) => conn,
            None => self.pool.acquire().await?,
        };
        Ok(Taken {
            conn,
            home: (self.idle.clone(), place),
        })
    }

    /// `write` on the calling thread (see [`lane`]), if it can run there now.
    async fn on_lane<T>(
        &self,
        write: impl FnOnce(&mut rusqlite::Connection) -> rusqlite::Result<T>,
    ) -> Option<Result<T>> {
        self.lane.as_ref()?.write(&self.write_gate, write).await
    }

    /// A writer's place: at most half the pool waits for the gate (see `begin`).
    async fn writer(&self) -> Result<tokio::sync::OwnedSemaphorePermit> {
        std::sync::Arc::clone(&self.writers)
            .acquire_owned()
            .await
            .map_err(|_| StoreError::Unavailable("the store is closing".into()))
    }
}

fn is_memory(path: &std::path::Path) -> bool {
    path.as_os_str().is_empty() || path == std::path::Path::new(":memory:")
}

/// When the checkpointer works.
#[derive(Debug, Clone, Copy)]
struct Checkpointing {
    /// How often it copies what the WAL holds into the database file.
    every: std::time::Duration,
    /// WAL length in frames past which it finishes a checkpoint with the write gate held,
    /// so the next writer starts the WAL over from its beginning.
    restart_frames: i64,
}

impl Checkpointing {
    /// Ten passes a second; the WAL starts over past 4,096 frames (16 MiB of 4 KiB pages).
    const DEFAULT: Self = Self {
        every: std::time::Duration::from_millis(100),
        restart_frames: 4096,
    };
}

/// The background checkpointer of one store; stops when the store is closed or dropped.
#[derive(Debug)]
struct Checkpoints {
    stop: std::sync::Arc<tokio::sync::Notify>,
    task: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Checkpoints {
    fn start(
        conn: SqliteConnection,
        gate: std::sync::Arc<tokio::sync::Mutex<()>>,
        when: Checkpointing,
    ) -> Self {
        let stop = std::sync::Arc::new(tokio::sync::Notify::new());
        let task = tokio::spawn(checkpointer(conn, gate, when, std::sync::Arc::clone(&stop)));
        Self {
            stop,
            task: std::sync::Mutex::new(Some(task)),
        }
    }

    async fn stop(&self) {
        self.stop.notify_one();
        let task = self.task.lock().ok().and_then(|mut t| t.take());
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}

impl Drop for Checkpoints {
    fn drop(&mut self) {
        self.stop.notify_one();
    }
}

/// `PRAGMA wal_checkpoint(PASSIVE)`: copies the frames no reader still needs, waiting for no
/// one. Answers the WAL's length and how much of it the database file now holds, in frames.
async fn checkpoint_passive(conn: &mut SqliteConnection) -> Result<(i64, i64)> {
    use sqlx::Row;
    let row = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
        .fetch_one(conn)
        .await?;
    Ok((row.try_get(1)?, row.try_get(2)?))
}

/// SQLite checkpoints in the commit that takes the WAL past 1,000 frames (`wal_autocheckpoint`),
/// and in this process that commit holds the write gate: every writer waited for the copy and
/// its two `fsync`s (up to 25 ms here, more than half of all commit time under load).
///
/// Here the copy runs beside the writers instead (a passive checkpoint takes no lock writers
/// wait for). A WAL that is never wholly copied is never started over, though, and under a
/// steady write load the writers always add frames while the copy runs; so once the WAL is
/// past [`Checkpointing::restart_frames`] the last frames are copied with the gate held, which takes only
/// what was written since the previous pass. The next writer then starts the WAL over
/// (<https://www.sqlite.org/wal.html#avoiding_excessively_large_wal_files>). The busy timeout
/// still applies: a checkpoint of another process (the CLI) makes this one wait, not fail.
async fn checkpointer(
    mut conn: SqliteConnection,
    gate: std::sync::Arc<tokio::sync::Mutex<()>>,
    when: Checkpointing,
    stop: std::sync::Arc<tokio::sync::Notify>,
) {
    let mut tick = tokio::time::interval(when.every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = stop.notified() => break,
        }
        let pass = match checkpoint_passive(&mut conn).await {
            Ok((log, _)) if log >= when.restart_frames => {
                let _held = gate.lock().await;
                checkpoint_passive(&mut conn).await
            }
            other => other,
        };
        if let Err(e) = pass {
            tracing::warn!(target: "tessera_store", error = %e, "WAL checkpoint failed; retrying");
        }
    }
    let _ = sqlx::Connection::close(conn).await;
}

/// The database holds hashes, sealed keys and the audit log: owner only. The file is created
/// `0600` before SQLite opens it, because SQLite gives the WAL and shared-memory files it
/// creates the database file's own permissions; files of an older install are tightened.
/// Best effort: a file system without Unix permissions only gets a warning.
fn keep_private(path: &std::path::Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        if is_memory(path) {
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
        let migrator = crate::migrations::migrator(crate::migrations::SQLITE).await?;
        // sqlx's pool may have no connection left to give (see [`kept`]): one taken here
        // goes back to it for the migrator, its place held meanwhile.
        let Taken { conn, home } = self.take().await?;
        drop(conn);
        let ran = migrator
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::Migration(e.to_string()));
        drop(home);
        ran
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
        let writer = self.writer().await?;
        let conn = self.take().await?;
        let mut held = Held::begin(conn, "BEGIN DEFERRED").await?;
        held._writer = Some(writer);
        held.gate = Some(std::sync::Arc::clone(&self.write_gate).lock_owned().await);
        Ok(Box::new(SqliteTx { tx: held }))
    }

    #[tracing::instrument(
        level = "debug",
        target = "tessera_store",
        name = "store.single_write",
        skip_all
    )]
    async fn single_write(&self) -> Result<Box<dyn crate::Tx>> {
        // In autocommit mode the statement is its own transaction; the gate is held for it
        // alone, one trip to the connection's thread instead of three (`BEGIN`, the
        // statement, `COMMIT`).
        let writer = self.writer().await?;
        let mut held = Held::new(self.take().await?);
        held._writer = Some(writer);
        held.gate = Some(std::sync::Arc::clone(&self.write_gate).lock_owned().await);
        Ok(Box::new(SqliteTx { tx: held }))
    }

    #[tracing::instrument(
        level = "debug",
        target = "tessera_store",
        name = "store.write_code",
        skip_all
    )]
    async fn write_code(&self, c: &AuthCode) -> Result<()> {
        if let Some(done) = self.on_lane(|conn| lane::insert_code(conn, c)).await {
            return done;
        }
        crate::single::write_code(self, c).await
    }

    #[tracing::instrument(
        level = "debug",
        target = "tessera_store",
        name = "store.redeem_code",
        skip_all
    )]
    async fn redeem_code(&self, r: &Redemption<'_>) -> Result<bool> {
        if let Some(done) = self.on_lane(|conn| lane::redeem_code(conn, r)).await {
            return done;
        }
        crate::single::redeem_code(self, r).await
    }

    #[tracing::instrument(
        level = "debug",
        target = "tessera_store",
        name = "store.read_code",
        skip_all
    )]
    async fn read_code(
        &self,
        org: tessera_domain::OrgId,
        code_hash: &str,
    ) -> Result<Option<AuthCode>> {
        let org_id = org.0.to_string();
        let read = |conn: &mut _| lane::find_code(conn, &org_id, code_hash);
        match self.lane.as_ref().and_then(|l| l.read(read)) {
            Some(found) => found?.transpose(),
            None => crate::single::read_code(self, org, code_hash).await,
        }
    }

    #[tracing::instrument(
        level = "debug",
        target = "tessera_store",
        name = "store.read_session_with_consent",
        skip_all
    )]
    async fn read_session_with_consent(
        &self,
        org: tessera_domain::OrgId,
        id_hash: &str,
        client_id: &str,
    ) -> Result<Option<crate::SessionWithConsent>> {
        let org_id = org.0.to_string();
        let read =
            |conn: &mut _| lane::find_session_with_consent(conn, &org_id, id_hash, client_id);
        match self.lane.as_ref().and_then(|l| l.read(read)) {
            Some(found) => found?.transpose(),
            None => crate::single::read_session_with_consent(self, org, id_hash, client_id).await,
        }
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
            tx: Held::new(self.take().await?),
        }))
    }

    async fn ping(&self) -> Result<()> {
        let mut held = Held::new(self.take().await?);
        sqlx::query("SELECT 1").execute(&mut *held).await?;
        Ok(())
    }

    async fn close(&self) {
        // Wait for the connections in use (each holds a place), close them all, then sqlx's
        // pool.
        let all = self.pool.options().get_max_connections();
        let places = self.places.acquire_many(all).await;
        self.places.close();
        self.idle.close_all().await;
        drop(places);
        self.pool.close().await;
        if let Some(lane) = &self.lane {
            lane.close();
        }
        // Last: the checkpointer's connection is then the database's last, and its closing
        // copies what is left of the WAL into the file.
        if let Some(c) = &self.checkpoints {
            c.stop().await;
        }
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
        let mut held = Held::new(self.take().await?);
        sqlx::query("VACUUM INTO $1")
            .bind(path)
            .execute(&mut *held)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::Store;

    /// The WAL's length and how much of it is copied, in frames, read from the wal-index
    /// (`-shm`) without checkpointing (<https://www.sqlite.org/walformat.html>: `mxFrame` at
    /// byte 16 of the header, `nBackfill` at byte 96; native byte order).
    fn wal_index(db: &std::path::Path) -> (u32, u32) {
        let mut name = db.as_os_str().to_owned();
        name.push("-shm");
        let shm = std::fs::read(&name).unwrap_or_default();
        let word = |at: usize| {
            shm.get(at..at + 4)
                .map_or(0, |b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
        };
        (word(16), word(96))
    }

    fn organization(i: usize) -> tessera_domain::Organization {
        tessera_domain::Organization {
            id: tessera_domain::OrgId(uuid::Uuid::new_v4()),
            slug: tessera_domain::OrgSlug::parse(&format!("ckpt-{i}")).unwrap(),
            name: format!("Org {i}"),
            created_at: tessera_domain::clock::from_millis(1_000),
            updated_at: tessera_domain::clock::from_millis(1_000),
        }
    }

    /// A write lock held by another process (here a connection outside the store) makes a
    /// code written on the calling thread wait its turn the usual way, with the busy
    /// timeout, instead of failing or blocking the runtime; it lands once the lock is free.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_write_lock_of_another_process_is_waited_for() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let url = format!("sqlite://{}", path.display());
        let store = SqliteStore::connect(&url, &StoreOptions::default())
            .await
            .unwrap();
        store.migrate().await.unwrap();
        let o = organization(1);
        let mut tx = store.begin().await.unwrap();
        tx.insert_org(&o).await.unwrap();
        tx.commit().await.unwrap();
        let code = crate::AuthCode {
            code_hash: "other-process".into(),
            org_id: o.id,
            client_id: "web".into(),
            user_id: tessera_domain::UserId(uuid::Uuid::new_v4()),
            redirect_uri: "https://a.example/cb".into(),
            scope: "openid".into(),
            nonce: None,
            code_challenge: None,
            auth_time: tessera_domain::clock::from_millis(1_000),
            created_at: tessera_domain::clock::from_millis(1_000),
            expires_at: tessera_domain::clock::from_millis(61_000),
            redeemed_at: None,
            access_jti: None,
            access_expires: None,
            claims: None,
            resources: vec![],
            dpop_jkt: None,
            sid: None,
            amr: "pwd".into(),
        };

        let other = rusqlite::Connection::open(&path).unwrap();
        other.execute_batch("BEGIN IMMEDIATE").unwrap();
        let write = tokio::spawn({
            let store = store.clone();
            let code = code.clone();
            async move { store.write_code(&code).await }
        });
        // The runtime goes on meanwhile, reads on the calling thread included: neither of its
        // two threads waits in SQLite's busy handler (which would hold the lane for the busy
        // timeout, 5 s, and the read's thread behind it).
        let started = std::time::Instant::now();
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let read = tokio::spawn({
            let store = store.clone();
            async move { store.read_code(o.id, "no-such-code").await }
        });
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        for _ in 0..2 {
            tokio::task::spawn(async {}).await.unwrap();
        }
        assert_eq!(read.await.unwrap().unwrap(), None);
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "the runtime stalled for {:?}",
            started.elapsed()
        );
        assert!(
            !write.is_finished(),
            "the write waits for the other process"
        );
        other.execute_batch("COMMIT").unwrap();
        write.await.unwrap().unwrap();
        let mut r = store.read().await.unwrap();
        assert_eq!(
            r.find_code(o.id, "other-process").await.unwrap(),
            Some(code)
        );
        drop(r);
        store.close().await;
    }

    /// The pool never checkpoints; the checkpointer copies the WAL into the file in the
    /// background, and under writes that never pause the WAL still starts over (it does
    /// not grow without end); closing leaves everything in the database file.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_checkpointer_copies_the_wal_and_starts_it_over() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let url = format!("sqlite://{}", path.display());
        let when = Checkpointing {
            every: std::time::Duration::from_millis(10),
            restart_frames: 64,
        };
        let store = SqliteStore::open(&url, &StoreOptions::default(), when)
            .await
            .unwrap();
        store.migrate().await.unwrap();
        let mut conn = store.pool.acquire().await.unwrap();
        let auto: i64 = sqlx::query_scalar("PRAGMA wal_autocheckpoint")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        assert_eq!(
            auto, 0,
            "pooled connections leave checkpoints to the checkpointer"
        );
        drop(conn);

        // Two writers that never pause, while the WAL is watched.
        let writers: Vec<_> = (0..2)
            .map(|w| {
                let store = store.clone();
                tokio::spawn(async move {
                    let mut ids = Vec::new();
                    for i in 0..600 {
                        let o = organization(w * 1_000 + i);
                        let mut tx = store.begin().await.unwrap();
                        tx.insert_org(&o).await.unwrap();
                        tx.commit().await.unwrap();
                        ids.push(o.id);
                    }
                    ids
                })
            })
            .collect();
        let (mut restarted, mut longest, mut last) = (false, 0, 0);
        while !writers.iter().all(|w| w.is_finished()) {
            let (log, _) = wal_index(&path);
            restarted |= log < last;
            last = log;
            longest = longest.max(log);
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
        let mut ids = Vec::new();
        for w in writers {
            ids.extend(w.await.unwrap());
        }
        assert!(restarted, "the WAL started over (longest {longest} frames)");
        assert!(longest < 3_000, "the WAL stayed bounded: {longest} frames");

        // Given time, everything is copied.
        let mut copied = false;
        for _ in 0..200 {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            let (log, done) = wal_index(&path);
            if log == done {
                copied = true;
                break;
            }
        }
        assert!(copied, "the checkpointer copied the whole WAL");

        store.close().await;
        let wal_file = dir.path().join("t.db-wal");
        assert!(
            std::fs::metadata(&wal_file).map(|m| m.len()).unwrap_or(0) == 0,
            "the last connection's close left no WAL behind"
        );
        let store = SqliteStore::connect(&url, &StoreOptions::default())
            .await
            .unwrap();
        let mut tx = store.read().await.unwrap();
        for id in ids {
            assert!(tx.find_org(id).await.unwrap().is_some());
        }
        drop(tx);
        store.close().await;
    }
}
