//! The connections a store keeps between uses, the same on both backends. sqlx's pool pings
//! every connection that comes back to it (sqlx-core 0.8.6 `return_to_pool`, not
//! configurable): a trip to SQLite's connection thread, a round trip to PostgreSQL, on every
//! use. A store takes connections from sqlx's pool once and keeps them here between uses
//! instead, the most recently used first. A permit of the store's `places`, as many as it
//! may use connections, is held by every connection in use, so when none is idle here sqlx's
//! pool has one to give.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::Database;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::{Result, StoreError};

/// The idle connections, each with when it came back.
pub(crate) struct Idle<DB: Database>(Arc<Mutex<Vec<Resting<DB>>>>);

/// An idle connection and when it came back.
pub(crate) type Resting<DB> = (PoolConnection<DB>, Instant);

impl<DB: Database> Clone for Idle<DB> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<DB: Database> Default for Idle<DB> {
    fn default() -> Self {
        Self(Arc::default())
    }
}

impl<DB: Database> std::fmt::Debug for Idle<DB> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.0.lock().map_or(0, |v| v.len());
        write!(f, "Idle({n})")
    }
}

impl<DB: Database> Idle<DB> {
    pub(crate) fn put(&self, conn: PoolConnection<DB>) {
        if let Ok(mut idle) = self.0.lock() {
            idle.push((conn, Instant::now()));
        }
    }

    /// The most recently used idle connection, and when it came back.
    pub(crate) fn take(&self) -> Option<Resting<DB>> {
        self.0.lock().ok()?.pop()
    }

    /// Closes every idle connection (the store is closing), each closed when this returns.
    pub(crate) async fn close_all(&self) {
        let all = self
            .0
            .lock()
            .map(|mut v| std::mem::take(&mut *v))
            .unwrap_or_default();
        for (conn, _) in all {
            let _ = conn.close().await;
        }
    }
}

/// Where a connection in use goes back to, and the place it holds until then.
pub(crate) type Home<DB> = (Idle<DB>, OwnedSemaphorePermit);

/// A place for one more connection in use, waiting at most `timeout` for one.
pub(crate) async fn place(
    places: &Arc<Semaphore>,
    timeout: Duration,
) -> Result<OwnedSemaphorePermit> {
    tokio::time::timeout(timeout, Arc::clone(places).acquire_owned())
        .await
        .map_err(|_| StoreError::Unavailable("no database connection became free in time".into()))?
        .map_err(|_| StoreError::Unavailable("the store is closing".into()))
}

/// A `ROLLBACK` on its way: whether it succeeded.
pub(crate) type Rollback<'c> = Pin<Box<dyn Future<Output = bool> + Send + 'c>>;

/// Gives a connection back to where it came from when its user is done with it. One left in
/// an open transaction (an error, a cancelled request) is rolled back first, and `keep` (what
/// must stay held until then: SQLite's write gate) is let go after; a connection whose
/// rollback fails is closed, never handed out in an unknown state.
pub(crate) fn give_back<DB: Database, K: Send + 'static>(
    mut conn: PoolConnection<DB>,
    home: Option<Home<DB>>,
    open: bool,
    keep: K,
    rollback: for<'c> fn(&'c mut DB::Connection) -> Rollback<'c>,
) {
    if !open {
        if let Some((idle, _place)) = home {
            idle.put(conn);
        }
        return;
    }
    match tokio::runtime::Handle::try_current() {
        Ok(rt) => {
            rt.spawn(async move {
                if rollback(&mut conn).await {
                    if let Some((idle, _place)) = home {
                        idle.put(conn);
                    }
                } else {
                    conn.close_on_drop();
                    drop(conn);
                }
                drop(keep);
            });
        }
        Err(_) => conn.close_on_drop(),
    }
}
