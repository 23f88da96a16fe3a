//! Keeping platform tokens fresh: the refresh worker (inside `serve`, or alone as
//! `tessera worker`) and the on-the-spot refresh behind the fresh-token API.
//!
//! Work is claimed with a lease in the database (`UPDATE … RETURNING`, `SKIP LOCKED` on
//! PostgreSQL), so any number of nodes refresh each token exactly once; the result is written
//! only by the lease holder, the new access token and a rotated refresh token in one
//! statement. A refused refresh token marks the connection failed (the card's red date) and is
//! audited; a platform that is down or rate-limiting is retried with exponential back-off and
//! jitter. Twitch access tokens are validated hourly, as Twitch requires of apps.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use secrecy::ExposeSecret;
use tessera_connect::oauth::{PlatformError, Validation};
use tessera_domain::{AuditAction, Platform, Timestamp};
use tessera_store::{ConnectionRecord, SealedColumn, WorkResult};

use crate::audit::AuditEntry;
use crate::{CoreError, CoreResult, Services};

/// How long a claim holds: longer than the two platform calls a refresh can make.
pub const LEASE: time::Duration = time::Duration::seconds(60);
/// Twitch: "apps must validate OAuth tokens … on an hourly basis".
pub const VALIDATE_EVERY: time::Duration = time::Duration::hours(1);
/// A consumer is never handed a token with less life than this.
pub const MIN_TOKEN_LIFE: time::Duration = time::Duration::seconds(60);
/// How many due connections one tick claims.
const CLAIM_BATCH: u32 = 32;

/// When a token expires and when to refresh and validate it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    pub expires_at: Option<Timestamp>,
    pub next_refresh_at: Option<Timestamp>,
    pub next_validate_at: Option<Timestamp>,
}

/// Refresh ahead of expiry by a tenth of the token's life, at least a minute and at most ten,
/// but never more than half its life.
pub fn refresh_lead(lifetime: time::Duration) -> time::Duration {
    let tenth: time::Duration = lifetime / 10;
    let lead = tenth.clamp(time::Duration::minutes(1), time::Duration::minutes(10));
    lead.min(lifetime / 2)
}

/// The back-off after `attempts` transient failures in a row: 15 s doubling to 10 min, then
/// scaled by `jitter` in [0.5, 1] so that nodes and connections do not retry in step.
pub fn backoff(attempts: i32, jitter: f64) -> time::Duration {
    let exp = attempts.clamp(1, 16) - 1;
    let base = (15_f64 * 2_f64.powi(exp)).min(600.0);
    time::Duration::milliseconds((base * jitter.clamp(0.5, 1.0) * 1000.0) as i64)
}

/// A running refresh worker.
#[derive(Debug)]
pub struct WorkerHandle {
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl WorkerHandle {
    pub(crate) fn new(
        stop: tokio::sync::watch::Sender<bool>,
        task: tokio::task::JoinHandle<()>,
    ) -> Self {
        Self { stop, task }
    }

    /// Stops after the pass in flight (if any) has written its results.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Counters for `/metrics`.
#[derive(Debug, Default)]
pub struct ConnectionMetrics {
    pub refreshed: AtomicU64,
    /// Refused by the platform: the connection needs a reconnect.
    pub refresh_failed: AtomicU64,
    /// Transient failures, retried later.
    pub refresh_retried: AtomicU64,
    pub validated: AtomicU64,
    pub connections: AtomicI64,
    pub failed_connections: AtomicI64,
    /// Age in seconds of the oldest access token still in use (healthy connections).
    pub oldest_token_age_seconds: AtomicI64,
}

impl Services {
    pub fn connection_metrics(&self) -> &ConnectionMetrics {
        &self.conn_metrics
    }

    pub(crate) fn schedule(
        &self,
        p: Platform,
        expires_in: Option<i64>,
        now: Timestamp,
    ) -> Schedule {
        let expires_at = expires_in
            .filter(|s| *s > 0)
            .map(|s| now + time::Duration::seconds(s));
        Schedule {
            expires_at,
            next_refresh_at: expires_at.map(|e| e - refresh_lead(e - now)),
            next_validate_at: self
                .provider(p)
                .validate_url
                .as_ref()
                .map(|_| now + VALIDATE_EVERY),
        }
    }

    fn lease_owner(&self) -> String {
        format!("{}/{}", self.node_id, uuid::Uuid::new_v4())
    }

    fn jitter(&self) -> f64 {
        let b: [u8; 4] = tessera_crypto::random::random_bytes(self.rng.as_ref()).unwrap_or([0; 4]);
        0.5 + f64::from(u32::from_le_bytes(b)) / f64::from(u32::MAX) / 2.0
    }

    /// One pass of the worker: claims what is due and works on it. How many connections it
    /// worked on.
    pub async fn refresh_due_connections(self: &Arc<Self>) -> CoreResult<usize> {
        let now = self.now();
        let owner = self.lease_owner();
        let claimed = {
            let mut tx = self.store.begin().await?;
            let c = tx
                .claim_due_connections(&owner, now, now + LEASE, CLAIM_BATCH)
                .await?;
            tx.commit().await?;
            c
        };
        let n = claimed.len();
        let mut set = tokio::task::JoinSet::new();
        for conn in claimed {
            let this = Arc::clone(self);
            let owner = owner.clone();
            set.spawn(async move {
                if let Err(e) = this.work_on(conn, &owner, false).await {
                    tracing::error!(error = %e, "connection refresh failed");
                }
            });
        }
        while set.join_next().await.is_some() {}
        self.update_connection_stats().await?;
        Ok(n)
    }

    async fn update_connection_stats(&self) -> CoreResult<()> {
        let stats = {
            let mut tx = self.store.read().await?;
            tx.connection_stats().await?
        };
        let m = &self.conn_metrics;
        m.connections.store(stats.connections, Ordering::Relaxed);
        m.failed_connections.store(stats.failed, Ordering::Relaxed);
        let age = stats
            .oldest_token_at
            .map_or(0, |t| (self.now() - t).whole_seconds().max(0));
        m.oldest_token_age_seconds.store(age, Ordering::Relaxed);
        Ok(())
    }

    /// Runs the worker every `every` until [`WorkerHandle::stop`]. A stop waits for the
    /// pass in flight: aborting between a platform's answer and the write would lose a rotated
    /// refresh token.
    pub fn spawn_refresh_worker(self: &Arc<Self>, every: Duration) -> WorkerHandle {
        let this = Arc::clone(self);
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stopped.changed() => break,
                }
                if let Err(e) = this.refresh_due_connections().await {
                    tracing::warn!(error = %e, "connection refresh pass failed");
                }
            }
        });
        WorkerHandle { stop, task }
    }

    /// Works on one leased connection: refreshes it when due (or `force`), otherwise
    /// validates it; writes the outcome and releases the lease.
    async fn work_on(&self, conn: ConnectionRecord, owner: &str, force: bool) -> CoreResult<()> {
        let now = self.now();
        let refresh_due = conn.refresh_token.is_some()
            && (force || conn.next_refresh_at.is_some_and(|t| t <= now));
        if !refresh_due {
            let access = self.open(
                conn.org_id,
                SealedColumn::AccessToken,
                &conn.id,
                &conn.access_token,
            )?;
            let cfg = self.provider(conn.platform);
            let result = match self.platforms.validate(cfg, access.expose_secret()).await {
                Ok(Validation::Valid { .. }) => WorkResult::Validated {
                    next_validate_at: now + VALIDATE_EVERY,
                },
                Ok(Validation::Invalid) if conn.refresh_token.is_some() => {
                    // Revoked or expired early: a refresh tells whether the grant lives.
                    return self.refresh_connection(conn, owner).await;
                }
                Ok(Validation::Invalid) => WorkResult::Failed {
                    error: format!(
                        "{} no longer accepts the access token",
                        conn.platform.display_name()
                    ),
                    at: now,
                },
                Err(e) => {
                    tracing::info!(platform = %conn.platform, error = %e, "token validation did not complete");
                    WorkResult::Validated {
                        next_validate_at: now + time::Duration::minutes(5),
                    }
                }
            };
            return self.finish_work(&conn, owner, result).await;
        }
        self.refresh_connection(conn, owner).await
    }

    async fn refresh_connection(&self, conn: ConnectionRecord, owner: &str) -> CoreResult<()> {
        let now = self.now();
        let creds = {
            let mut tx = self.store.read().await?;
            tx.find_credentials(conn.org_id, conn.platform).await?
        };
        let Some(creds) = creds else {
            let r = WorkResult::Failed {
                error: "the app credentials were removed".into(),
                at: now,
            };
            return self.finish_work(&conn, owner, r).await;
        };
        let app = self.open_credentials(&creds)?;
        let rt = match &conn.refresh_token {
            Some(rt) => self.open(conn.org_id, SealedColumn::RefreshToken, &conn.id, rt)?,
            None => return Ok(()),
        };
        let cfg = self.provider(conn.platform);
        let result = match self.platforms.refresh(cfg, &app, rt.expose_secret()).await {
            Ok(tokens) => {
                let s = self.schedule(conn.platform, tokens.expires_in, now);
                WorkResult::Refreshed {
                    access_token: self.seal(
                        conn.org_id,
                        SealedColumn::AccessToken,
                        &conn.id,
                        tokens.access_token.expose_secret(),
                    )?,
                    refresh_token: tokens
                        .refresh_token
                        .as_ref()
                        .map(|r| {
                            self.seal(
                                conn.org_id,
                                SealedColumn::RefreshToken,
                                &conn.id,
                                r.expose_secret(),
                            )
                        })
                        .transpose()?,
                    token_expires_at: s.expires_at,
                    next_refresh_at: s.next_refresh_at,
                    next_validate_at: s.next_validate_at,
                    at: now,
                }
            }
            Err(e) if e.is_transient() => {
                let attempts = conn.refresh_attempts.saturating_add(1);
                WorkResult::Retry {
                    error: e.to_string(),
                    attempts,
                    next_refresh_at: now + backoff(attempts, self.jitter()),
                }
            }
            Err(e) => WorkResult::Failed {
                error: describe_refusal(conn.platform, &e),
                at: now,
            },
        };
        self.finish_work(&conn, owner, result).await
    }

    async fn finish_work(
        &self,
        conn: &ConnectionRecord,
        owner: &str,
        result: WorkResult,
    ) -> CoreResult<()> {
        let mut tx = self.store.begin().await?;
        if !tx.finish_connection_work(&conn.id, owner, &result).await? {
            // The lease ran out and someone else took the connection: their write stands.
            tracing::warn!(platform = %conn.platform, "lease lost before the refresh was written");
            return Ok(());
        }
        let m = &self.conn_metrics;
        match &result {
            WorkResult::Refreshed { .. } => {
                m.refreshed.fetch_add(1, Ordering::Relaxed);
            }
            WorkResult::Retry {
                error, attempts, ..
            } => {
                m.refresh_retried.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(platform = %conn.platform, attempts, error = %error, "token refresh will be retried");
            }
            WorkResult::Validated { .. } => {
                m.validated.fetch_add(1, Ordering::Relaxed);
            }
            WorkResult::Failed { error, at } => {
                m.refresh_failed.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(platform = %conn.platform, error = %error, "token refresh refused; the connection needs a reconnect");
                let action = match conn.kind {
                    tessera_domain::ConnectionKind::Channel => AuditAction::ConnectionRefreshFailed,
                    tessera_domain::ConnectionKind::Bot => AuditAction::BotConnectionRefreshFailed,
                };
                let entry = AuditEntry::new(action, "connection")
                    .org(conn.org_id)
                    .target(conn.platform.as_str())
                    .after(Some(serde_json::json!({"kind": conn.kind, "channelName": conn.channel_name, "error": error})));
                tx.insert_audit(&entry.event(
                    tessera_domain::Principal::system().actor(),
                    None,
                    None,
                    *at,
                ))
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// The connection with a token that lives at least [`MIN_TOKEN_LIFE`] more, refreshing it
    /// now if need be: one refresh per connection at a time in this process (the others wait
    /// for it), and across nodes through the lease.
    pub(crate) async fn ensure_fresh(
        &self,
        conn: ConnectionRecord,
    ) -> CoreResult<ConnectionRecord> {
        let failed = |c: &ConnectionRecord| {
            CoreError::Conflict(format!(
                "the {} connection's token refresh failed ({}); reconnect {}",
                c.platform.display_name(),
                c.refresh_error
                    .as_deref()
                    .unwrap_or("refused by the platform"),
                c.platform.display_name()
            ))
        };
        let fresh = |c: &ConnectionRecord, now: Timestamp| {
            c.token_expires_at.is_none_or(|e| e > now + MIN_TOKEN_LIFE)
        };
        if conn.refresh_failed_at.is_some() {
            return Err(failed(&conn));
        }
        if fresh(&conn, self.now()) {
            return Ok(conn);
        }
        let flight = self
            .refresh_flights
            .get_with(conn.id.clone(), || Arc::new(tokio::sync::Mutex::new(())));
        let _turn = flight.lock().await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            let now = self.now();
            let current = {
                let mut tx = self.store.read().await?;
                tx.find_connection_by_id(&conn.id).await?
            }
            .ok_or_else(|| CoreError::not_found("connection", conn.platform.as_str()))?;
            if current.refresh_failed_at.is_some() {
                return Err(failed(&current));
            }
            if fresh(&current, now) {
                return Ok(current);
            }
            if current.refresh_token.is_none() {
                return Err(CoreError::Conflict(format!(
                    "the {} token expires and {} gave no refresh token; reconnect {}",
                    conn.platform.display_name(),
                    conn.platform.display_name(),
                    conn.platform.display_name()
                )));
            }
            let owner = self.lease_owner();
            let claimed = {
                let mut tx = self.store.begin().await?;
                let c = tx
                    .claim_connection(&conn.id, &owner, now, now + LEASE)
                    .await?;
                tx.commit().await?;
                c
            };
            match claimed {
                Some(c) => {
                    self.work_on(c, &owner, true).await?;
                    let after = {
                        let mut tx = self.store.read().await?;
                        tx.find_connection_by_id(&conn.id).await?
                    }
                    .ok_or_else(|| CoreError::not_found("connection", conn.platform.as_str()))?;
                    if after.refresh_failed_at.is_some() {
                        return Err(failed(&after));
                    }
                    if after.token_expires_at.is_none_or(|e| e > self.now()) {
                        return Ok(after);
                    }
                    return Err(CoreError::Unavailable(format!(
                        "{} did not refresh the token ({}); try again shortly",
                        conn.platform.display_name(),
                        after.refresh_error.as_deref().unwrap_or("no answer")
                    )));
                }
                // Another node is refreshing it: wait for its write.
                None if tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                None => break,
            }
        }
        Err(CoreError::Unavailable(format!(
            "the {} token is being refreshed elsewhere; try again shortly",
            conn.platform.display_name()
        )))
    }
}

fn describe_refusal(p: Platform, e: &PlatformError) -> String {
    match e {
        PlatformError::InvalidClient(m) => format!(
            "{} refused the app credentials ({m}); re-enter the Client Secret under App Credentials",
            p.display_name()
        ),
        e => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lead_is_a_tenth_bounded() {
        assert_eq!(
            refresh_lead(time::Duration::hours(4)),
            time::Duration::minutes(10)
        );
        assert_eq!(
            refresh_lead(time::Duration::hours(1)),
            time::Duration::minutes(6)
        );
        assert_eq!(
            refresh_lead(time::Duration::seconds(60)),
            time::Duration::seconds(30)
        );
    }

    #[test]
    fn backoff_doubles_with_jitter_and_caps() {
        assert_eq!(backoff(1, 1.0), time::Duration::seconds(15));
        assert_eq!(backoff(2, 1.0), time::Duration::seconds(30));
        assert_eq!(backoff(2, 0.5), time::Duration::seconds(15));
        assert_eq!(backoff(20, 1.0), time::Duration::minutes(10));
    }
}
