//! The statements of every authorization-code flow, on the calling thread: storing a code,
//! reading it and redeeming it, and reading the session with its consent
//! ([`crate::Store::write_code`], [`crate::Store::read_code`], [`crate::Store::redeem_code`],
//! [`crate::Store::read_session_with_consent`]).
//!
//! Through sqlx every statement is a trip to its connection's own thread and back: two thread
//! wake-ups, and under load 150–170 µs a write with the write gate held, of which SQLite's
//! own work is 25–34 µs. And every commit empties the page cache of every other connection,
//! so each read through the pool read its pages again. Here the statements run on the
//! request's thread, on one connection of their own (SQLite's work for a flow is about 60 µs,
//! a mutex keeps it to one thread at a time), whose cache stays warm because almost every
//! write is its own.
//!
//! Writes take the write gate first, waiting for it when a transaction has it; reads do not
//! (WAL). The connection has no busy timeout: another process holding SQLite's write lock
//! (the CLI) answers `SQLITE_BUSY` at once, nothing is written, and the statement goes the
//! usual way ([`crate::single`], a pooled connection), where the busy timeout waits on sqlx's
//! thread rather than on a thread of the runtime. What runs here is short and bounded: point
//! reads and writes by primary key.

use std::sync::{Mutex, PoisonError};

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{CachedStatement, Connection, OpenFlags, ToSql, TransactionBehavior};

use crate::sql::{code_values, redeem_values, refresh_values, Value};
use crate::{AuthCode, Redemption, Result, StoreError};

/// The names of the statements' parameters: `$N` is bound by name, since SQLite numbers
/// named parameters in the order they first appear (`redeem_update!` starts with `$3`).
const PARAMS: [&str; 19] = [
    "$1", "$2", "$3", "$4", "$5", "$6", "$7", "$8", "$9", "$10", "$11", "$12", "$13", "$14", "$15",
    "$16", "$17", "$18", "$19",
];

/// A connection for writes on the calling thread; closed by [`Lane::close`].
pub(super) struct Lane {
    conn: Mutex<Option<Connection>>,
}

impl std::fmt::Debug for Lane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lane").finish_non_exhaustive()
    }
}

impl Lane {
    /// A connection to the database file at `path`, which the pool has opened in WAL mode.
    pub(super) fn open(path: &std::path::Path) -> Result<Self> {
        let fail = |e: rusqlite::Error| {
            StoreError::Unavailable(format!("cannot open {}: {e}", path.display()))
        };
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(fail)?;
        // As the pool's connections (see `SqliteStore::open`), without a busy timeout (above).
        conn.execute_batch(
            "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
             PRAGMA wal_autocheckpoint = 0; PRAGMA cache_size = -1024; PRAGMA busy_timeout = 0;",
        )
        .map_err(fail)?;
        Ok(Self {
            conn: Mutex::new(Some(conn)),
        })
    }

    /// Runs `write` on the lane's connection with the write gate held (waiting for it when a
    /// transaction has it), unless another process holds SQLite's write lock: `None` then,
    /// with nothing written (and after [`Lane::close`]).
    pub(super) async fn write<T>(
        &self,
        gate: &tokio::sync::Mutex<()>,
        write: impl FnOnce(&mut Connection) -> rusqlite::Result<T>,
    ) -> Option<Result<T>> {
        let _gate = match gate.try_lock() {
            Ok(g) => g,
            Err(_) => gate.lock().await,
        };
        self.read(write)
    }

    /// Runs `read` on the lane's connection: `None` when SQLite answers busy (or after
    /// [`Lane::close`]).
    pub(super) fn read<T>(
        &self,
        read: impl FnOnce(&mut Connection) -> rusqlite::Result<T>,
    ) -> Option<Result<T>> {
        // Held for SQLite's work only; a second caller on the other thread waits here for
        // those microseconds rather than go the long way.
        let mut conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        let conn = conn.as_mut()?;
        match read(conn) {
            Ok(v) => Some(Ok(v)),
            Err(e) if busy(&e) => None,
            Err(e) => Some(Err(store_error(e))),
        }
    }

    /// Closes the connection; later writes go the usual way.
    pub(super) fn close(&self) {
        drop(
            self.conn
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take(),
        );
    }
}

/// Stores a code (`code_insert!`).
pub(super) fn insert_code(conn: &mut Connection, c: &AuthCode) -> rusqlite::Result<()> {
    let mut insert = conn.prepare_cached(crate::sql::codes::code_insert!())?;
    bind(&mut insert, &code_values(c))?;
    insert.raw_execute()?;
    Ok(())
}

/// Redeems a code once, with the refresh token issued with it: both or neither, in one
/// transaction (what `redeem_with_refresh!` does in one trip through sqlx).
pub(super) fn redeem_code(conn: &mut Connection, r: &Redemption<'_>) -> rusqlite::Result<bool> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let redeemed = {
        let mut update = tx.prepare_cached(crate::sql::codes::redeem_update!())?;
        bind(&mut update, &redeem_values(r))?;
        update.raw_execute()? == 1
    };
    if !redeemed {
        // Not there, or redeemed before: nothing written (the transaction ends on drop).
        return Ok(false);
    }
    if let Some(refresh) = r.refresh {
        let mut insert = tx.prepare_cached(concat!(
            crate::sql::tokens::refresh_insert!(),
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
        ))?;
        bind(&mut insert, &refresh_values(refresh))?;
        insert.raw_execute()?;
    }
    tx.commit()?;
    Ok(true)
}

/// A code by its hash (`find_code`).
pub(super) fn find_code(
    conn: &mut Connection,
    org: &str,
    code_hash: &str,
) -> rusqlite::Result<Option<Result<AuthCode>>> {
    let mut q = conn.prepare_cached(crate::sql::codes::code_select!())?;
    bind(&mut q, &[Value::text(org), Value::text(code_hash)])?;
    let mut rows = q.raw_query();
    Ok(rows.next()?.map(crate::sql::codes::code_from))
}

/// A session and its user's consent to a client (`find_session_with_consent`).
pub(super) fn find_session_with_consent(
    conn: &mut Connection,
    org: &str,
    id_hash: &str,
    client_id: &str,
) -> rusqlite::Result<Option<Result<crate::SessionWithConsent>>> {
    let mut q = conn.prepare_cached(crate::sql::sessions::session_with_consent_select!())?;
    bind(
        &mut q,
        &[
            Value::text(org),
            Value::text(id_hash),
            Value::text(client_id),
        ],
    )?;
    let mut rows = q.raw_query();
    Ok(rows
        .next()?
        .map(crate::sql::sessions::session_with_consent_from))
}

/// Binds `values` to the statement's `$1`, `$2`, …
fn bind(stmt: &mut CachedStatement<'_>, values: &[Value<'_>]) -> rusqlite::Result<()> {
    for (name, value) in PARAMS.iter().zip(values) {
        let at = stmt
            .parameter_index(name)?
            .ok_or_else(|| rusqlite::Error::InvalidParameterName((*name).to_owned()))?;
        stmt.raw_bind_parameter(at, value)?;
    }
    Ok(())
}

impl crate::sql::Cols for rusqlite::Row<'_> {
    fn text(&self, col: &str) -> Result<String> {
        self.get(col).map_err(store_error)
    }
    fn text_opt(&self, col: &str) -> Result<Option<String>> {
        self.get(col).map_err(store_error)
    }
    fn int(&self, col: &str) -> Result<i64> {
        self.get(col).map_err(store_error)
    }
    fn int_opt(&self, col: &str) -> Result<Option<i64>> {
        self.get(col).map_err(store_error)
    }
}

impl ToSql for Value<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Value::Text(Some(t)) => ToSqlOutput::Borrowed(ValueRef::Text(t.as_bytes())),
            Value::Int(Some(i)) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
            Value::Text(None) | Value::Int(None) => ToSqlOutput::Borrowed(ValueRef::Null),
        })
    }
}

/// `SQLITE_BUSY` or `SQLITE_LOCKED`: another connection holds the lock; nothing was written.
fn busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// As sqlx's errors are mapped (see `From<sqlx::Error> for StoreError`).
fn store_error(e: rusqlite::Error) -> StoreError {
    if let rusqlite::Error::SqliteFailure(f, message) = &e {
        if matches!(
            f.extended_code,
            rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
        ) {
            return StoreError::Conflict {
                constraint: message.clone().unwrap_or_else(|| e.to_string()),
            };
        }
    }
    StoreError::Database(e.to_string())
}
