//! Webhook subscriptions, their events (the outbox, filled by [`crate::AuditRepo::insert_audit`]
//! in the change's own transaction) and deliveries, claimed by one node at a time.

use async_trait::async_trait;
use tessera_domain::webhook::{Delivery, Webhook, WebhookId};
use tessera_domain::{OrgId, Timestamp};
use uuid::Uuid;

use crate::Result;

/// A subscription with its sealed signing secret.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookRecord {
    pub webhook: Webhook,
    /// The `whsec_…` secret, sealed by the vault.
    pub secret_sealed: String,
}

/// A delivery claimed by a worker: what to send, where, and the key to sign it with.
#[derive(Debug, Clone, PartialEq)]
pub struct DueDelivery {
    pub delivery: Delivery,
    pub url: String,
    pub secret_sealed: String,
    /// The exact JSON body.
    pub payload: String,
    /// When the event happened (the first attempt of a day of retries).
    pub event_at: Timestamp,
}

/// How one attempt went.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptOutcome {
    pub at: Timestamp,
    pub response_status: Option<i32>,
    pub duration_ms: i64,
    /// `None`: delivered (2xx).
    pub error: Option<String>,
    /// When to try again; `None` after a success or when giving up.
    pub next_attempt_at: Option<Timestamp>,
}

#[async_trait]
pub trait WebhookRepo: Send {
    async fn insert_webhook(&mut self, w: &Webhook, secret_sealed: &str) -> Result<()>;
    /// Writes url, events, activity, `failing_since` and `updated_at`; false when there is no
    /// such subscription.
    async fn update_webhook(&mut self, w: &Webhook) -> Result<bool>;
    async fn delete_webhook(&mut self, org: OrgId, id: WebhookId) -> Result<bool>;
    async fn find_webhook(&mut self, org: OrgId, id: WebhookId) -> Result<Option<WebhookRecord>>;
    /// Oldest first.
    async fn list_webhooks(&mut self, org: OrgId) -> Result<Vec<WebhookRecord>>;
    /// One page of a subscription's deliveries, newest first.
    async fn list_deliveries(
        &mut self,
        org: OrgId,
        webhook: WebhookId,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<Delivery>>;
    async fn find_delivery(
        &mut self,
        org: OrgId,
        webhook: WebhookId,
        id: Uuid,
    ) -> Result<Option<Delivery>>;
    /// Puts a delivery back in the queue, due at `now` (a manual redelivery, which keeps its
    /// message id); false when there is no such delivery.
    async fn requeue_delivery(
        &mut self,
        org: OrgId,
        webhook: WebhookId,
        id: Uuid,
        now: Timestamp,
    ) -> Result<bool>;
    /// Leases up to `limit` due deliveries of active subscriptions to `owner` until
    /// `lease_until`; a delivery leased by a node that died is due again when its lease ends.
    async fn claim_due_deliveries(
        &mut self,
        owner: &str,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<DueDelivery>>;
    /// Writes an attempt's outcome if `owner` still holds the lease; false otherwise.
    async fn finish_delivery(
        &mut self,
        id: Uuid,
        owner: &str,
        outcome: &AttemptOutcome,
    ) -> Result<bool>;
    /// Deletes finished deliveries (succeeded or failed) made before `before`, and the events
    /// no delivery refers to any more; how many deliveries went.
    async fn prune_webhook_history(&mut self, before: Timestamp) -> Result<u64>;
    /// Notes a success (clears `failing_since`) or a failure (sets it if unset) of a
    /// subscription; answers `failing_since` after the note.
    async fn note_webhook_health(
        &mut self,
        id: WebhookId,
        ok: bool,
        at: Timestamp,
    ) -> Result<Option<Timestamp>>;
}
