//! Webhooks: subscriptions managed by REST, GraphQL, the console and the CLI through these
//! services, and the delivery worker.
//!
//! Every audited change of an organization is also an event: the store writes it, with one
//! delivery per subscription that wants it, in the change's own transaction (the outbox).
//! The worker (inside `serve`, or `tessera worker`) leases due deliveries in the database, so
//! any number of nodes send each at least once and a node that dies mid-delivery leaves it to
//! the next when the lease ends. Deliveries follow Standard Webhooks: `webhook-id` (the same on
//! every attempt), `webhook-timestamp` and `webhook-signature` = `v1,` + base64 of
//! HMAC-SHA256 over `{id}.{timestamp}.{body}` under the decoded `whsec_` secret. A receiver
//! that does not answer 2xx is retried with exponential back-off and jitter for a day; a
//! subscription whose deliveries have all failed for a day is disabled (audited, and an event
//! for the organization's other subscriptions).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use secrecy::SecretString;
use tessera_crypto::vault::RowId;
use tessera_domain::webhook::{Delivery, Webhook, WebhookId, WebhookInput, WebhookSettings};
use tessera_domain::{AuditAction, OrgId, Permission};
use tessera_store::{AttemptOutcome, DueDelivery, SealedColumn};
use tracing::Instrument as _;
use uuid::Uuid;

use crate::audit::AuditEntry;
use crate::{snapshot, Context, CoreError, CoreResult, Services};

/// The most subscriptions one organization has.
pub const MAX_WEBHOOKS_PER_ORG: usize = 25;
/// Largest page of the delivery log.
pub const MAX_DELIVERY_PAGE: u32 = 200;
/// How many due deliveries one pass claims.
const CLAIM_BATCH: u32 = 32;

/// How deliveries are made and retried (`[webhooks]` in the configuration).
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// Accept `http://` loopback URLs and deliver to internal addresses (development, tests,
    /// or receivers on the deployment's own network).
    pub allow_internal: bool,
    /// The first retry's delay; each further one doubles it (at most [`MAX_RETRY_DELAY`]).
    pub retry_base: time::Duration,
    /// How long an event is retried before its delivery is marked failed.
    pub give_up_after: time::Duration,
    /// A subscription whose deliveries have all failed for this long is disabled.
    pub disable_after: time::Duration,
    /// How long a receiver may take to answer.
    pub timeout: Duration,
    /// How often the worker looks for due deliveries.
    pub poll_interval: Duration,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            allow_internal: false,
            retry_base: time::Duration::seconds(5),
            give_up_after: time::Duration::hours(24),
            disable_after: time::Duration::hours(24),
            timeout: Duration::from_secs(10),
            poll_interval: Duration::from_secs(1),
        }
    }
}

/// How long the delivery log keeps finished deliveries.
pub const HISTORY: time::Duration = time::Duration::days(30);

/// The longest wait between two attempts.
pub const MAX_RETRY_DELAY: time::Duration = time::Duration::hours(2);

/// The wait after the `attempts`-th failed attempt: `base`·2^(attempts−1), at most
/// [`MAX_RETRY_DELAY`], scaled by `jitter` in [0.75, 1.25] so receivers coming back are not
/// hit by every retry at once.
pub fn retry_delay(base: time::Duration, attempts: i32, jitter: f64) -> time::Duration {
    let exp = attempts.clamp(1, 30) - 1;
    let ms = (base.whole_milliseconds() as f64 * 2_f64.powi(exp))
        .min(MAX_RETRY_DELAY.whole_milliseconds() as f64);
    time::Duration::milliseconds((ms * jitter.clamp(0.75, 1.25)) as i64)
}

/// `v1,` + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")), the key being the base64
/// after `whsec_` (Standard Webhooks, "Signature scheme").
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &str) -> CoreResult<String> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let key = b64
        .decode(secret.strip_prefix("whsec_").unwrap_or(secret))
        .map_err(|_| CoreError::internal("a webhook secret is not base64"))?;
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &key);
    let tag = aws_lc_rs::hmac::sign(&key, format!("{id}.{timestamp}.{body}").as_bytes());
    Ok(format!("v1,{}", b64.encode(tag.as_ref())))
}

/// Counters for `/metrics`.
#[derive(Debug, Default)]
pub struct WebhookMetrics {
    pub delivered: AtomicU64,
    pub failed_attempts: AtomicU64,
}

fn not_found(id: &str) -> CoreError {
    CoreError::not_found("webhook", id)
}

fn parse_id(id: &str) -> CoreResult<WebhookId> {
    WebhookId::parse(id).ok_or_else(|| not_found(id))
}

fn seal_cell<'a>(org: &'a str, id: &'a str) -> RowId<'a> {
    crate::connections::cell(org, SealedColumn::WebhookSecret, id)
}

/// A new subscription and its secret, shown once.
#[derive(Debug)]
pub struct CreatedWebhook {
    pub webhook: Webhook,
    pub secret: SecretString,
}

impl Services {
    /// Whether `http://` loopback receivers are accepted: in development (Tessera itself on a
    /// loopback `http://` URL) or when internal receivers are allowed.
    pub(crate) fn webhook_http_loopback(&self) -> bool {
        self.config.webhooks.allow_internal || crate::loopback_public_url(&self.config.public_url)
    }

    pub fn webhook_metrics(&self) -> &WebhookMetrics {
        &self.webhook_metrics
    }

    /// Subscribes a URL; the secret is in the answer only.
    pub async fn create_webhook(
        &self,
        ctx: &Context,
        org: &str,
        input: WebhookInput,
    ) -> CoreResult<CreatedWebhook> {
        let settings = WebhookSettings::validate(&input, None, self.webhook_http_loopback())?;
        let mut tx = self.store.begin().await?;
        let org = self
            .org_for(tx.as_mut(), ctx, org, Some(Permission::WebhooksEdit))
            .await?;
        if tx.list_webhooks(org.id).await?.len() >= MAX_WEBHOOKS_PER_ORG {
            return Err(CoreError::invalid(
                "url",
                format!("an organization has at most {MAX_WEBHOOKS_PER_ORG} webhooks"),
            ));
        }
        let now = self.now();
        let webhook = Webhook {
            org_id: org.id,
            id: WebhookId(Uuid::new_v4()),
            url: settings.url,
            events: settings.events,
            is_active: settings.is_active,
            failing_since: None,
            created_at: now,
            updated_at: now,
        };
        let key: [u8; 32] =
            tessera_crypto::random::random_bytes(self.rng.as_ref()).map_err(CoreError::internal)?;
        let secret = format!(
            "whsec_{}",
            base64::engine::general_purpose::STANDARD.encode(key)
        );
        let (org_s, id_s) = (org.id.to_string(), webhook.id.to_string());
        let sealed = self
            .vault
            .seal(
                seal_cell(&org_s, &id_s),
                secret.as_bytes(),
                self.rng.as_ref(),
            )
            .map_err(CoreError::internal)?;
        tx.insert_webhook(&webhook, &sealed).await?;
        self.audit(
            tx.as_mut(),
            ctx,
            AuditEntry::new(AuditAction::WebhookCreated, "webhook")
                .org(org.id)
                .target(id_s)
                .after(snapshot(&webhook.object())),
        )
        .await?;
        tx.commit().await?;
        Ok(CreatedWebhook {
            webhook,
            secret: SecretString::from(secret),
        })
    }

    pub async fn get_webhook(&self, ctx: &Context, org: &str, id: &str) -> CoreResult<Webhook> {
        let mut tx = self.store.read().await?;
        let org = self
            .org_for(tx.as_mut(), ctx, org, Some(Permission::WebhooksRead))
            .await?;
        Ok(tx
            .find_webhook(org.id, parse_id(id)?)
            .await?
            .ok_or_else(|| not_found(id))?
            .webhook)
    }

    /// Every subscription of the organization, oldest first.
    pub async fn list_webhooks(&self, ctx: &Context, org: &str) -> CoreResult<Vec<Webhook>> {
        let mut tx = self.store.read().await?;
        let org = self
            .org_for(tx.as_mut(), ctx, org, Some(Permission::WebhooksRead))
            .await?;
        Ok(tx
            .list_webhooks(org.id)
            .await?
            .into_iter()
            .map(|r| r.webhook)
            .collect())
    }

    /// Changes the fields `input` sends. Turning a disabled subscription back on forgets its
    /// failures, and its pending deliveries resume.
    pub async fn update_webhook(
        &self,
        ctx: &Context,
        org: &str,
        id: &str,
        input: WebhookInput,
    ) -> CoreResult<Webhook> {
        let mut tx = self.store.begin().await?;
        let org = self
            .org_for(tx.as_mut(), ctx, org, Some(Permission::WebhooksEdit))
            .await?;
        let before = tx
            .find_webhook(org.id, parse_id(id)?)
            .await?
            .ok_or_else(|| not_found(id))?
            .webhook;
        let s = WebhookSettings::validate(&input, Some(&before), self.webhook_http_loopback())?;
        let mut after = before.clone();
        after.url = s.url;
        after.events = s.events;
        if s.is_active && !before.is_active {
            after.failing_since = None;
        }
        after.is_active = s.is_active;
        if after == before {
            return Ok(before);
        }
        after.updated_at = self.now();
        tx.update_webhook(&after).await?;
        self.audit(
            tx.as_mut(),
            ctx,
            AuditEntry::new(AuditAction::WebhookUpdated, "webhook")
                .org(org.id)
                .target(after.id.to_string())
                .before(snapshot(&before.object()))
                .after(snapshot(&after.object())),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Removes a subscription with its delivery log.
    pub async fn delete_webhook(&self, ctx: &Context, org: &str, id: &str) -> CoreResult<()> {
        let mut tx = self.store.begin().await?;
        let org = self
            .org_for(tx.as_mut(), ctx, org, Some(Permission::WebhooksEdit))
            .await?;
        let w = tx
            .find_webhook(org.id, parse_id(id)?)
            .await?
            .ok_or_else(|| not_found(id))?
            .webhook;
        tx.delete_webhook(org.id, w.id).await?;
        self.audit(
            tx.as_mut(),
            ctx,
            AuditEntry::new(AuditAction::WebhookDeleted, "webhook")
                .org(org.id)
                .target(w.id.to_string())
                .before(snapshot(&w.object())),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// One page of a subscription's delivery log, newest first.
    pub async fn list_webhook_deliveries(
        &self,
        ctx: &Context,
        org: &str,
        id: &str,
        limit: u32,
        offset: u32,
    ) -> CoreResult<Vec<Delivery>> {
        crate::check_page_limit(limit, MAX_DELIVERY_PAGE)?;
        let mut tx = self.store.read().await?;
        let org = self
            .org_for(tx.as_mut(), ctx, org, Some(Permission::WebhooksRead))
            .await?;
        let w = tx
            .find_webhook(org.id, parse_id(id)?)
            .await?
            .ok_or_else(|| not_found(id))?
            .webhook;
        Ok(tx.list_deliveries(org.id, w.id, limit, offset).await?)
    }

    /// Sends a delivery again now, with its message id (receivers de-duplicate by it).
    pub async fn redeliver_webhook_delivery(
        &self,
        ctx: &Context,
        org: &str,
        id: &str,
        delivery: &str,
    ) -> CoreResult<Delivery> {
        let mut tx = self.store.begin().await?;
        let org = self
            .org_for(tx.as_mut(), ctx, org, Some(Permission::WebhooksEdit))
            .await?;
        let w = parse_id(id)?;
        let d = Uuid::parse_str(delivery)
            .map_err(|_| CoreError::not_found("webhook delivery", delivery))?;
        if !tx.requeue_delivery(org.id, w, d, self.now()).await? {
            return Err(CoreError::not_found("webhook delivery", delivery));
        }
        let found = tx
            .find_delivery(org.id, w, d)
            .await?
            .ok_or_else(|| CoreError::not_found("webhook delivery", delivery))?;
        tx.commit().await?;
        Ok(found)
    }

    fn webhook_jitter(&self) -> f64 {
        let b: [u8; 4] = tessera_crypto::random::random_bytes(self.rng.as_ref()).unwrap_or([0; 4]);
        0.75 + f64::from(u32::from_le_bytes(b)) / f64::from(u32::MAX) / 2.0
    }

    /// One pass of the delivery worker: claims what is due and sends it. How many deliveries
    /// it attempted.
    pub async fn deliver_due_webhooks(self: &Arc<Self>) -> CoreResult<usize> {
        let now = self.now();
        let lease = time::Duration::try_from(self.config.webhooks.timeout)
            .unwrap_or(time::Duration::seconds(10))
            + time::Duration::seconds(5);
        let owner = format!("{}:webhooks", self.node_id);
        let claimed = {
            let mut tx = self.store.begin().await?;
            let c = tx
                .claim_due_deliveries(&owner, now, now + lease, CLAIM_BATCH)
                .await?;
            tx.commit().await?;
            c
        };
        let n = claimed.len();
        let mut set = tokio::task::JoinSet::new();
        for due in claimed {
            let this = Arc::clone(self);
            let owner = owner.clone();
            let span = tracing::info_span!(
                "webhook.deliver",
                webhook = %due.delivery.webhook_id,
                event_type = %due.delivery.event_type,
                event_id = %due.delivery.event_id,
            );
            set.spawn(
                async move {
                    if let Err(e) = this.attempt(due, &owner).await {
                        tracing::warn!(error = %e, "a webhook delivery could not be recorded");
                    }
                }
                .instrument(span),
            );
        }
        while set.join_next().await.is_some() {}
        Ok(n)
    }

    /// Forgets finished deliveries older than [`HISTORY`].
    pub async fn prune_webhook_history(&self) -> CoreResult<u64> {
        let mut tx = self.store.begin().await?;
        let n = tx.prune_webhook_history(self.now() - HISTORY).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Sends one delivery and records how it went.
    async fn attempt(&self, due: DueDelivery, owner: &str) -> CoreResult<()> {
        let d = &due.delivery;
        let (org_s, hook_s) = (d.org_id.to_string(), d.webhook_id.to_string());
        let secret = self
            .vault
            .open(seal_cell(&org_s, &hook_s), &due.secret_sealed)
            .map_err(|_| CoreError::internal("a webhook secret cannot be opened with the vault"))?;
        let secret = String::from_utf8(secret)
            .map_err(|_| CoreError::internal("a webhook secret is not text"))?;
        let started = std::time::Instant::now();
        let ts = self.clock.now().unix_timestamp();
        let signature = sign(&secret, &d.event_id, ts, &due.payload)?;
        let headers = [
            ("webhook-id", d.event_id.clone()),
            ("webhook-timestamp", ts.to_string()),
            ("webhook-signature", signature),
        ];
        let sent = self
            .webhook_sender
            .post_json(&due.url, &headers, due.payload.clone())
            .await;
        let duration_ms = started.elapsed().as_millis() as i64;
        let (status, error) = match sent {
            Ok(s) if (200..300).contains(&s) => (Some(i32::from(s)), None),
            Ok(s) => (
                Some(i32::from(s)),
                Some(format!("the receiver answered HTTP {s}")),
            ),
            Err(e) => (None, Some(e.to_string())),
        };
        let at = self.now();
        let ok = error.is_none();
        let next_attempt_at = (!ok)
            .then(|| {
                at + retry_delay(
                    self.config.webhooks.retry_base,
                    d.attempts + 1,
                    self.webhook_jitter(),
                )
            })
            .filter(|next| *next <= due.event_at + self.config.webhooks.give_up_after);
        if ok {
            self.webhook_metrics
                .delivered
                .fetch_add(1, Ordering::Relaxed);
        } else {
            self.webhook_metrics
                .failed_attempts
                .fetch_add(1, Ordering::Relaxed);
        }
        let mut tx = self.store.begin().await?;
        let outcome = AttemptOutcome {
            at,
            response_status: status,
            duration_ms,
            error,
            next_attempt_at,
        };
        if !tx.finish_delivery(d.id, owner, &outcome).await? {
            // The lease ran out and another node holds it now: its attempt counts.
            return Ok(());
        }
        let failing_since = tx.note_webhook_health(d.webhook_id, ok, at).await?;
        let disable =
            failing_since.is_some_and(|since| at - since >= self.config.webhooks.disable_after);
        if disable {
            self.disable_failing_webhook(tx.as_mut(), d.org_id, d.webhook_id)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Turns off a subscription that has failed for too long, with an audit entry (and so an
    /// event for the organization's other subscriptions).
    async fn disable_failing_webhook(
        &self,
        tx: &mut dyn tessera_store::Tx,
        org: OrgId,
        id: WebhookId,
    ) -> CoreResult<()> {
        let Some(rec) = tx.find_webhook(org, id).await? else {
            return Ok(());
        };
        let before = rec.webhook;
        if !before.is_active {
            return Ok(());
        }
        let mut after = before.clone();
        after.is_active = false;
        after.updated_at = self.now();
        tx.update_webhook(&after).await?;
        tracing::warn!(webhook = %id, url = %after.url.as_str(), "webhook disabled after a day of failed deliveries");
        self.audit(
            tx,
            &Context::system(),
            AuditEntry::new(AuditAction::WebhookDisabled, "webhook")
                .org(org)
                .target(id.to_string())
                .before(snapshot(&before.object()))
                .after(snapshot(&after.object())),
        )
        .await
    }

    /// Starts the delivery worker: a pass every `poll_interval` until stopped.
    pub fn spawn_webhook_worker(self: &Arc<Self>) -> crate::connection_worker::WorkerHandle {
        let this = Arc::clone(self);
        let every = self.config.webhooks.poll_interval;
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut pruned_at: Option<std::time::Instant> = None;
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stopped.changed() => break,
                }
                // The delivery log keeps thirty days; looked at once an hour.
                if pruned_at.is_none_or(|p| p.elapsed() > Duration::from_secs(3600)) {
                    pruned_at = Some(std::time::Instant::now());
                    if let Err(e) = this.prune_webhook_history().await {
                        tracing::warn!(error = %e, "pruning the webhook delivery log failed");
                    }
                }
                // A full batch means more may be due: go on at once.
                loop {
                    match this.deliver_due_webhooks().await {
                        Ok(n) if n as u32 == CLAIM_BATCH && !*stopped.borrow() => continue,
                        Ok(_) => break,
                        Err(e) => {
                            tracing::warn!(error = %e, "webhook delivery pass failed");
                            break;
                        }
                    }
                }
            }
        });
        crate::connection_worker::WorkerHandle::new(stop, task)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_match_the_standard_webhooks_example() {
        // The example of the Standard Webhooks specification ("Signature scheme").
        let sig = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            r#"{"test": 2432232314}"#,
        )
        .unwrap();
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn retries_double_with_jitter_and_cap() {
        let base = time::Duration::seconds(5);
        assert_eq!(retry_delay(base, 1, 1.0), time::Duration::seconds(5));
        assert_eq!(retry_delay(base, 3, 1.0), time::Duration::seconds(20));
        assert_eq!(retry_delay(base, 30, 1.0), MAX_RETRY_DELAY);
        assert_eq!(
            retry_delay(base, 1, 0.0),
            time::Duration::milliseconds(3_750)
        );
        assert_eq!(
            retry_delay(base, 1, 9.0),
            time::Duration::milliseconds(6_250)
        );
    }
}
