//! The PostgreSQL backend, for clusters: any number of stateless nodes share one database.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnection, PgPool, PgPoolOptions};
use sqlx::Postgres;

use async_trait::async_trait;

use crate::kept::{self, Home, Idle};
use crate::{Backend, Change, ChangePush, Result, Store, StoreError, StoreOptions};

crate::sql::impl_tx!(
    PgTx,
    sqlx::postgres::PgRow,
    PgHeld,
    "FOR UPDATE SKIP LOCKED",
    postgres
);

/// A pooled connection, inside a transaction when it writes more than one statement
/// (reads and single writes run in autocommit mode: no `BEGIN` to wait for and no
/// `ROLLBACK` to send after).
pub(crate) struct PgHeld {
    conn: Option<PoolConnection<Postgres>>,
    /// Where the connection goes back to, and the place in the pool it holds until then.
    home: Option<Home<Postgres>>,
    /// `BEGIN` ran and neither `COMMIT` nor `ROLLBACK` has yet.
    open: bool,
    /// [`crate::CONNECTION_FAULTS`] when the connection was taken.
    faults: u64,
}

impl PgHeld {
    fn new((conn, home): Taken) -> Self {
        Self {
            conn: Some(conn),
            home: Some(home),
            open: false,
            faults: crate::CONNECTION_FAULTS.load(Ordering::Relaxed),
        }
    }

    /// Nothing to do here: PostgreSQL's writes of one trip are one statement (see
    /// `sqlite::Held::in_flight`).
    pub(crate) fn in_flight(&mut self) -> bool {
        false
    }

    pub(crate) fn landed(&mut self, _was_open: bool) {}

    pub(crate) async fn commit(mut self) -> Result<()> {
        if self.open {
            sqlx::query("COMMIT").execute(&mut *self).await?;
            self.open = false;
        }
        Ok(())
    }
}

impl std::ops::Deref for PgHeld {
    type Target = PgConnection;
    fn deref(&self) -> &PgConnection {
        // Present until `drop`.
        self.conn.as_deref().unwrap_or_else(|| unreachable!())
    }
}

impl std::ops::DerefMut for PgHeld {
    fn deref_mut(&mut self) -> &mut PgConnection {
        self.conn.as_deref_mut().unwrap_or_else(|| unreachable!())
    }
}

impl Drop for PgHeld {
    /// A transaction dropped unfinished (an error, a cancelled request) is rolled back before
    /// its connection is used again. A statement cut off midway needs nothing here: sqlx
    /// reads what is left of its answer before the connection's next statement.
    fn drop(&mut self) {
        let Some(mut conn) = self.conn.take() else {
            return;
        };
        if crate::CONNECTION_FAULTS.load(Ordering::Relaxed) != self.faults {
            // A connection may have broken meanwhile, maybe this one: it goes back through
            // sqlx's pool, which pings it and closes it if it does not answer; one with a
            // transaction open is closed (the pool would not roll back what it did not open).
            if self.open {
                conn.close_on_drop();
            }
            drop(conn);
            return;
        }
        kept::give_back(conn, self.home.take(), self.open, (), rollback);
    }
}

/// `ROLLBACK` on a PostgreSQL connection (see [`kept::give_back`]).
fn rollback(conn: &mut PgConnection) -> kept::Rollback<'_> {
    Box::pin(async move { sqlx::query("ROLLBACK").execute(conn).await.is_ok() })
}

/// A connection taken for a [`PgHeld`], with its place in the pool.
type Taken = (PoolConnection<Postgres>, Home<Postgres>);

/// A PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    health: Arc<Health>,
    /// The connections kept between uses (see [`kept`]).
    idle: Idle<Postgres>,
    /// One per connection of the pool the store uses (see [`kept`]); held by each in use.
    places: Arc<tokio::sync::Semaphore>,
    acquire_timeout: std::time::Duration,
}

/// Whether the database answers, as a watcher with a connection of its own finds every
/// [`HEALTH_INTERVAL`]. While it does not, every transaction fails at once with
/// [`StoreError::Unavailable`] (a 503 at the HTTP edge) instead of waiting out the pool's
/// acquire timeout, and those already waiting give up as soon as the outage is seen.
#[derive(Debug)]
struct Health {
    down: AtomicBool,
    changed: tokio::sync::Notify,
    /// When the database was last found answering again after an outage, in milliseconds
    /// since `epoch` (0: never).
    back_at: AtomicU64,
    epoch: std::time::Instant,
}

/// How often the watcher asks the database whether it is there.
const HEALTH_INTERVAL: std::time::Duration = std::time::Duration::from_millis(250);

/// A pooled connection idle this long is pinged before use (a server or a proxy may have
/// closed it meanwhile); under load connections are reused within milliseconds.
const IDLE_PING_AFTER: std::time::Duration = std::time::Duration::from_secs(5);

impl Health {
    fn new() -> Self {
        Self {
            down: AtomicBool::new(false),
            changed: tokio::sync::Notify::new(),
            back_at: AtomicU64::new(0),
            epoch: std::time::Instant::now(),
        }
    }

    fn is_down(&self) -> bool {
        self.down.load(Ordering::Acquire)
    }

    fn set(&self, down: bool) {
        if self.down.swap(down, Ordering::AcqRel) != down {
            if down {
                tracing::warn!("the database does not answer: failing fast until it does");
            } else {
                let now = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
                self.back_at.store(now.max(1), Ordering::Release);
                tracing::info!("the database answers again");
            }
            self.changed.notify_waiters();
        }
    }

    /// Whether a pooled connection idle for `idle_for` may be dead: it went back to the pool
    /// before the database's last outage ended, or it has been idle long. (One that failed
    /// since is the next request's failure, as it would be between two pings.)
    fn may_be_stale(&self, idle_for: std::time::Duration) -> bool {
        if idle_for >= IDLE_PING_AFTER {
            return true;
        }
        let back = self.back_at.load(Ordering::Acquire);
        let returned = self.epoch.elapsed().saturating_sub(idle_for);
        back != 0 && u64::try_from(returned.as_millis()).unwrap_or(u64::MAX) <= back
    }

    /// Resolves when the database is found down.
    async fn went_down(&self) {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if self.is_down() {
                return;
            }
            changed.await;
        }
    }
}

fn unreachable() -> StoreError {
    StoreError::Unavailable("the database is unreachable".into())
}

/// Pings the database every [`HEALTH_INTERVAL`] on a connection of its own (reconnecting
/// when it breaks), until the pool closes.
async fn watch_health(pool: PgPool, health: Arc<Health>) {
    let mut conn: Option<sqlx::postgres::PgConnection> = None;
    while !pool.is_closed() {
        let ok = async {
            if conn.is_none() {
                let opts = pool.connect_options();
                conn = Some(sqlx::Connection::connect_with(&*opts).await?);
            }
            match conn.as_mut() {
                Some(c) => sqlx::Connection::ping(c).await,
                None => Ok(()),
            }
        };
        let up = matches!(
            tokio::time::timeout(HEALTH_INTERVAL * 4, ok).await,
            Ok(Ok(()))
        );
        if !up {
            conn = None;
        }
        health.set(!up);
        tokio::time::sleep(HEALTH_INTERVAL).await;
    }
}

impl PgStore {
    pub async fn connect(url: &str, opts: &StoreOptions) -> Result<Self, StoreError> {
        let health = Arc::new(Health::new());
        let check = Arc::clone(&health);
        let places = opts.max_connections.max(1);
        let pool = PgPoolOptions::new()
            // One more than the store uses: the change listener's.
            .max_connections(places + 1)
            .acquire_timeout(opts.busy_timeout)
            // sqlx pings every idle connection before handing it out, a round trip per use
            // beside the one it makes when the connection comes back to the pool; only a
            // connection that may have outlived the server (see `Health::may_be_stale`) is
            // pinged here. A failed ping discards it and the pool takes another.
            .test_before_acquire(false)
            .before_acquire(move |conn, meta| {
                let stale = check.may_be_stale(meta.idle_for);
                Box::pin(async move {
                    if stale {
                        sqlx::Connection::ping(conn).await?;
                    }
                    Ok(true)
                })
            })
            .connect(url)
            .await
            .map_err(|e| {
                StoreError::Unavailable(format!(
                    "cannot connect to {}: {e}",
                    crate::redact_url(url)
                ))
            })?;
        tokio::spawn(watch_health(pool.clone(), Arc::clone(&health)));
        Ok(Self {
            pool,
            health,
            idle: Idle::default(),
            places: Arc::new(tokio::sync::Semaphore::new(places as usize)),
            acquire_timeout: opts.busy_timeout,
        })
    }

    /// What `work` gives, unless the database is known to be down or is found down while
    /// `work` waits (then at once `Unavailable`, not after the pool's timeout).
    async fn unless_down<T, E>(
        &self,
        work: impl std::future::Future<Output = Result<T, E>>,
    ) -> Result<T>
    where
        StoreError: From<E>,
    {
        if self.health.is_down() {
            return Err(unreachable());
        }
        tokio::select! {
            r = work => Ok(r?),
            () = self.health.went_down() => Err(unreachable()),
        }
    }

    /// A connection: an idle one of ours (pinged first if it may have outlived the server,
    /// and given up if the ping fails), or else one from sqlx's pool (see [`kept`]).
    async fn take(&self) -> Result<Taken> {
        let place = kept::place(&self.places, self.acquire_timeout).await?;
        while let Some((mut conn, since)) = self.idle.take() {
            if !self.health.may_be_stale(since.elapsed())
                || sqlx::Connection::ping(&mut *conn).await.is_ok()
            {
                return Ok((conn, (self.idle.clone(), place)));
            }
            conn.close_on_drop();
        }
        let conn = self.pool.acquire().await?;
        Ok((conn, (self.idle.clone(), place)))
    }

    /// A transaction.
    async fn transaction(&self) -> Result<PgTx> {
        let mut held = PgHeld::new(self.unless_down(self.take()).await?);
        // Open from before `BEGIN` is sent: given up midway (an outage seen, a request gone)
        // it may still have run, and the connection is rolled back before its next use
        // (`ROLLBACK` outside a transaction only warns).
        held.open = true;
        self.unless_down(sqlx::query("BEGIN").execute(&mut *held))
            .await?;
        Ok(PgTx { tx: held })
    }

    /// A connection in autocommit mode.
    async fn plain(&self) -> Result<PgTx> {
        Ok(PgTx {
            tx: PgHeld::new(self.unless_down(self.take()).await?),
        })
    }
}

#[async_trait]
impl Store for PgStore {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    async fn migrate(&self) -> Result<()> {
        let migrator = crate::migrations::migrator(crate::migrations::POSTGRES).await?;
        // sqlx's pool may have no connection left to give (see [`kept`]): one taken here
        // goes back to it for the migrator, its place held meanwhile.
        let (conn, home) = self.unless_down(self.take()).await?;
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
        Ok(Box::new(self.transaction().await?))
    }

    #[tracing::instrument(
        level = "debug",
        target = "tessera_store",
        name = "store.read",
        skip_all
    )]
    async fn read(&self) -> Result<Box<dyn crate::Tx>> {
        Ok(Box::new(self.plain().await?))
    }

    #[tracing::instrument(
        level = "debug",
        target = "tessera_store",
        name = "store.single_write",
        skip_all
    )]
    async fn single_write(&self) -> Result<Box<dyn crate::Tx>> {
        Ok(Box::new(self.plain().await?))
    }

    async fn ping(&self) -> Result<()> {
        let mut held = PgHeld::new(self.unless_down(self.take()).await?);
        self.unless_down(sqlx::query("SELECT 1").execute(&mut *held))
            .await
            .map(|_| ())
    }

    async fn close(&self) {
        // Wait for the connections in use (each holds a place), close them all, then sqlx's
        // pool (which waits for the change listener's).
        let all = self.pool.options().get_max_connections().saturating_sub(1);
        let places = self.places.acquire_many(all).await;
        self.places.close();
        self.idle.close_all().await;
        drop(places);
        self.pool.close().await;
    }

    fn push_changes(&self, to: tokio::sync::mpsc::UnboundedSender<ChangePush>) -> bool {
        tokio::spawn(listen_changes(self.pool.clone(), to));
        true
    }
}

/// The channel migration 0018's trigger announces every change on.
const CHANGES_CHANNEL: &str = "tessera_changes";

/// Listens for announced changes until `to` is closed or the pool is, reconnecting (after a
/// pause that grows to five seconds) whenever the connection is lost, and saying so with
/// [`ChangePush::Lost`] so that the follower polls for what it missed meanwhile.
async fn listen_changes(pool: PgPool, to: tokio::sync::mpsc::UnboundedSender<ChangePush>) {
    let mut pause = std::time::Duration::from_millis(100);
    while !to.is_closed() && !pool.is_closed() {
        match sqlx::postgres::PgListener::connect_with(&pool).await {
            Ok(mut listener) => {
                if let Err(e) = listener.listen(CHANGES_CHANNEL).await {
                    tracing::warn!(error = %e, "cannot listen for changes");
                } else {
                    // Anything committed before the LISTEN took effect was not announced.
                    if to.send(ChangePush::Lost).is_err() {
                        return;
                    }
                    pause = std::time::Duration::from_millis(100);
                    // `try_recv` answers `None` (or an error) when the connection was lost.
                    while let Ok(Some(n)) = listener.try_recv().await {
                        if let Some(c) = parse_announcement(n.payload()) {
                            if to.send(ChangePush::Change(c)).is_err() {
                                return;
                            }
                        }
                    }
                    tracing::warn!("lost the change announcements; reconnecting");
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot listen for changes"),
        }
        if to.send(ChangePush::Lost).is_err() {
            return;
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(std::time::Duration::from_secs(5));
    }
}

/// `seq \t org \t kind \t key`, as the trigger writes it.
fn parse_announcement(payload: &str) -> Option<Change> {
    let mut parts = payload.splitn(4, '\t');
    let seq = parts.next()?.parse().ok()?;
    let org = parts.next()?;
    let kind = parts.next()?.to_owned();
    let key = parts.next()?.to_owned();
    let org_id = if org.is_empty() {
        None
    } else {
        Some(tessera_domain::OrgId(uuid::Uuid::parse_str(org).ok()?))
    };
    Some(Change {
        seq,
        org_id,
        kind,
        key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Only connections that went back to the pool before the database's last outage ended,
    /// or that have been idle long, are pinged before use.
    #[test]
    fn connections_are_pinged_only_when_they_may_have_outlived_the_server() {
        use std::time::Duration;
        let h = Health::new();
        assert!(!h.may_be_stale(Duration::ZERO), "never down, just used");
        assert!(!h.may_be_stale(Duration::from_millis(200)));
        assert!(h.may_be_stale(IDLE_PING_AFTER), "idle long");
        std::thread::sleep(Duration::from_millis(30));
        h.set(true);
        h.set(false);
        // Returned 20 ms ago: before the database came back a moment ago.
        assert!(h.may_be_stale(Duration::from_millis(20)));
        std::thread::sleep(Duration::from_millis(30));
        // Returned 5 ms ago: after it came back (and checked by the pool on its return).
        assert!(!h.may_be_stale(Duration::from_millis(5)));
        assert!(h.may_be_stale(Duration::from_millis(50)));
    }

    #[test]
    fn announcements_parse_as_the_trigger_writes_them() {
        let org = uuid::Uuid::new_v4();
        let c = parse_announcement(&format!("42\t{org}\toauth_client\tapp\twith a tab")).unwrap();
        assert_eq!(c.seq, 42);
        assert_eq!(c.org_id, Some(tessera_domain::OrgId(org)));
        assert_eq!(c.kind, "oauth_client");
        assert_eq!(c.key, "app\twith a tab");
        let c = parse_announcement("7\t\tlimit_block\tceiling 10.0.0.1").unwrap();
        assert_eq!(c.org_id, None);
        assert!(parse_announcement("x\t\tk\tv").is_none());
        assert!(parse_announcement("7\tnot-a-uuid\tk\tv").is_none());
    }
}
