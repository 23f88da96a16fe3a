//! OpenID Connect Back-Channel Logout 1.0: when a login session ends (the user logs out, an
//! administrator deactivates the user, or the session expires), every client with a
//! `backchannelLogoutUri` that the session signed the user in to gets a logout token, posted
//! by the background worker.
//!
//! The clients of each session are noted when their codes are issued (`session_clients`). A
//! pass of the worker takes the clients of sessions that ended (each row goes to one node
//! only), signs their logout tokens into the outbox (`logout_deliveries`), and posts what is
//! due under a lease, so that no token is posted by two nodes at once; a failed post is
//! retried with growing delays, [`MAX_ATTEMPTS`] times in all.

use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::json;
use tessera_domain::clock::to_millis;
use tessera_store::{LogoutDelivery, SessionClient};

use crate::tokens::{OAuthError, OAuthResult};
use crate::Services;

/// The `events` member of a logout token (§2.4).
pub const LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
/// Posts of one logout token before it is given up.
pub const MAX_ATTEMPTS: i64 = 8;
/// How long a logout token is accepted by its client (its `exp`), in seconds.
const LOGOUT_TOKEN_LIFETIME: i64 = 120;
/// How long a node holds the deliveries it is posting: longer than a batch of posts that all
/// time out takes, so that no other node posts one of them meanwhile.
const LEASE_SECONDS: i64 = 300;
/// How many session clients or deliveries one pass handles (at 5 seconds a post at worst,
/// well within the lease).
const BATCH: i64 = 20;

/// The delay before attempt `n + 1` after `n` failed ones: 10 s, 30 s, 90 s, … up to an
/// hour.
fn backoff(attempts: i64) -> time::Duration {
    let secs = 3_i64
        .saturating_pow(u32::try_from(attempts.max(1) - 1).unwrap_or(0))
        .saturating_mul(10);
    time::Duration::seconds(secs.min(3600))
}

impl Services {
    /// One pass: queues the logout tokens of sessions that ended, then posts what is due. How
    /// many were posted successfully.
    pub async fn backchannel_pass(&self) -> OAuthResult<usize> {
        self.queue_logout_tokens().await?;
        self.post_due_logout_tokens().await
    }

    /// Signs a logout token for each client of an ended session, into the outbox.
    async fn queue_logout_tokens(&self) -> OAuthResult<()> {
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let ended = tx.take_ended_session_clients(now, BATCH).await?;
        for c in ended {
            if let Some(d) = self.logout_delivery(&c).await? {
                tx.insert_logout_delivery(&d).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// The delivery of a logout token to `c`'s client, or `None` when the client (or its
    /// organization) is gone or no longer has a `backchannelLogoutUri`.
    async fn logout_delivery(&self, c: &SessionClient) -> OAuthResult<Option<LogoutDelivery>> {
        let Some(org) = ({
            let mut tx = self.store.read().await?;
            tx.find_org(c.org_id).await?
        }) else {
            return Ok(None);
        };
        let Some(client) = self.cached_client(org.id, &c.client_id).await? else {
            return Ok(None);
        };
        let settings = &client.client.settings;
        let Some(uri) = settings.security.backchannel_logout_uri.clone() else {
            return Ok(None);
        };
        let now = to_millis(self.now()) / 1000;
        // §2.4: iss, aud, iat, exp, jti, events, and sub and sid; never a nonce.
        let claims = json!({
            "iss": self.issuer(&org.slug),
            "aud": c.client_id,
            "iat": now,
            "exp": now + LOGOUT_TOKEN_LIFETIME,
            "jti": self.random_jti()?,
            "sub": c.user_id.to_string(),
            "sid": c.sid,
            "events": {LOGOUT_EVENT: {}},
        });
        let alg = crate::tokens::signing_alg(settings.id_token_signed_response_alg);
        let token = self.sign_with(&org, alg, "logout+jwt", &claims).await?;
        let at = self.now();
        Ok(Some(LogoutDelivery {
            id: uuid::Uuid::new_v4().to_string(),
            org_id: org.id,
            client_id: c.client_id.clone(),
            uri,
            logout_token: token,
            attempts: 0,
            next_attempt_at: at,
            delivered_at: None,
            last_error: None,
            created_at: at,
        }))
    }

    /// Posts the logout tokens that are due (§2.5: `logout_token` in a form body), each under
    /// a lease; the outcome of each is written back.
    async fn post_due_logout_tokens(&self) -> OAuthResult<usize> {
        let now = self.now();
        let lease = now + time::Duration::seconds(LEASE_SECONDS);
        let leased = {
            let mut tx = self.store.begin().await?;
            let l = tx.lease_logout_deliveries(now, lease, BATCH).await?;
            tx.commit().await?;
            l
        };
        let mut delivered = 0;
        for d in leased {
            // Signed again for each attempt, so that a retry minutes later is not expired.
            let at = self.now();
            let (done, retry, error) = match self.resigned_logout_token(&d).await {
                // The client or its organization is gone: nobody to tell any more.
                Err(e) => (None, None, Some(e.to_string())),
                Ok(token) => match self
                    .key_fetcher
                    .post_form(&d.uri, &[("logout_token", token.as_str())])
                    .await
                {
                    // §2.8: 200 OK (any 2xx taken as success).
                    Ok(status) if (200..300).contains(&status) => (Some(at), None, None),
                    Ok(status) => (None, Some(()), Some(format!("HTTP {status}"))),
                    Err(e) => (None, Some(()), Some(e.to_string())),
                },
            };
            let retry_at = retry
                .filter(|_| d.attempts < MAX_ATTEMPTS)
                .map(|_| at + backoff(d.attempts));
            if let Some(e) = &error {
                tracing::warn!(client_id = %d.client_id, attempts = d.attempts, error = %e,
                    given_up = retry_at.is_none(), "a back-channel logout failed");
            } else {
                delivered += 1;
            }
            let mut tx = self.store.begin().await?;
            tx.finish_logout_delivery(&d.id, lease, done, retry_at, error.as_deref())
                .await?;
            tx.commit().await?;
        }
        Ok(delivered)
    }

    /// The delivery's logout token with a new `iat`, `exp` and `jti`, signed now.
    async fn resigned_logout_token(&self, d: &LogoutDelivery) -> OAuthResult<String> {
        let mut claims: serde_json::Value = d
            .logout_token
            .split('.')
            .nth(1)
            .and_then(|p| URL_SAFE_NO_PAD.decode(p).ok())
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(|| OAuthError::ServerError("a queued logout token is corrupt".into()))?;
        let org = {
            let mut tx = self.store.read().await?;
            tx.find_org(d.org_id).await?
        }
        .ok_or_else(|| OAuthError::ServerError("the organization is gone".into()))?;
        let alg = match self.cached_client(org.id, &d.client_id).await? {
            Some(c) => c.client.settings.id_token_signed_response_alg,
            None => return Err(OAuthError::ServerError("the client is gone".into())),
        };
        let now = to_millis(self.now()) / 1000;
        claims["iat"] = json!(now);
        claims["exp"] = json!(now + LOGOUT_TOKEN_LIFETIME);
        claims["jti"] = json!(self.random_jti()?);
        self.sign_with(&org, crate::tokens::signing_alg(alg), "logout+jwt", &claims)
            .await
    }

    /// Asks this node's back-channel worker for a pass now (a session just ended here).
    pub(crate) fn wake_backchannel(&self) {
        self.backchannel_wake.notify_one();
    }

    /// Runs [`Services::backchannel_pass`] every `every`, and at once when a session ends on
    /// this node, until the handle is stopped.
    pub fn spawn_backchannel_worker(
        self: &Arc<Self>,
        every: Duration,
    ) -> crate::connection_worker::WorkerHandle {
        let this = Arc::clone(self);
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = this.backchannel_wake.notified() => {}
                    _ = stopped.changed() => break,
                }
                if let Err(e) = this.backchannel_pass().await {
                    tracing::warn!(error = %e, "back-channel logout pass failed");
                }
            }
        });
        crate::connection_worker::WorkerHandle::new(stop, task)
    }

    /// The logout tokens queued for a client (delivered or not), newest first.
    pub async fn logout_deliveries(
        &self,
        org_slug: &str,
        client_id: &str,
    ) -> OAuthResult<Vec<LogoutDelivery>> {
        let org = self.protocol_org(org_slug).await?;
        let mut tx = self.store.read().await?;
        tx.logout_deliveries(org.id, client_id)
            .await
            .map_err(OAuthError::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_wait_longer_each_time_up_to_an_hour() {
        assert_eq!(backoff(1), time::Duration::seconds(10));
        assert_eq!(backoff(2), time::Duration::seconds(30));
        assert_eq!(backoff(3), time::Duration::seconds(90));
        assert_eq!(backoff(7), time::Duration::seconds(3600));
        assert_eq!(backoff(40), time::Duration::seconds(3600));
    }
}
