//! The portable SQL of [`crate::WebhookRepo`] and of the outbox written beside each audit
//! event ([`fan_out`]); [`impl_webhooks_repo!`] stamps it out for one backend's transaction
//! type, `$claim_lock` being the row lock of the claim (`FOR UPDATE SKIP LOCKED` on
//! PostgreSQL, nothing on SQLite, whose writers are serialised anyway).

pub(crate) const WEBHOOK_COLS: &str =
    "org_id, id, url, events, secret_sealed, is_active, failing_since, created_at, updated_at";
pub(crate) const DELIVERY_COLS: &str = "d.id, d.org_id, d.webhook_id, d.event_id, e.event_type, \
     d.status, d.attempts, d.next_attempt_at, d.last_attempt_at, d.response_status, \
     d.duration_ms, d.error, d.created_at";

macro_rules! impl_webhooks_repo {
    ($tx:ident, $row:ty, $claim_lock:expr) => {
        mod webhooks_repo {
            use super::$tx;
            use $crate::sql::prelude::*;
            use $crate::sql::webhooks::*;
            use $crate::{AttemptOutcome, DueDelivery, WebhookRecord};
            use tessera_domain::webhook::{Delivery, DeliveryStatus, Webhook, WebhookId, WebhookUrl};
            use tessera_domain::AuditAction;

            fn webhook_row(r: &$row) -> Result<WebhookRecord> {
                let t = "webhooks";
                let org: String = r.try_get("org_id")?;
                let id: String = r.try_get("id")?;
                let events: String = r.try_get("events")?;
                Ok(WebhookRecord {
                    webhook: Webhook {
                        org_id: OrgId(uuid(t, &org)?),
                        id: WebhookId(uuid(t, &id)?),
                        url: WebhookUrl::from_stored(r.try_get("url")?),
                        events: strings_from_json(t, &events, |s| {
                            AuditAction::parse(s).ok_or_else(|| format!("unknown event type {s}"))
                        })?,
                        is_active: r.try_get("is_active")?,
                        failing_since: r.try_get::<Option<i64>, _>("failing_since")?.map(from_millis),
                        created_at: from_millis(r.try_get("created_at")?),
                        updated_at: from_millis(r.try_get("updated_at")?),
                    },
                    secret_sealed: r.try_get("secret_sealed")?,
                })
            }

            fn delivery_row(r: &$row) -> Result<Delivery> {
                let t = "webhook_deliveries";
                let id: String = r.try_get("id")?;
                let org: String = r.try_get("org_id")?;
                let hook: String = r.try_get("webhook_id")?;
                let status: String = r.try_get("status")?;
                Ok(Delivery {
                    id: uuid(t, &id)?,
                    org_id: OrgId(uuid(t, &org)?),
                    webhook_id: WebhookId(uuid(t, &hook)?),
                    event_id: r.try_get("event_id")?,
                    event_type: r.try_get("event_type")?,
                    status: DeliveryStatus::parse(&status)
                        .ok_or_else(|| corrupt(t, format!("unknown status {status}")))?,
                    attempts: r.try_get("attempts")?,
                    next_attempt_at: r.try_get::<Option<i64>, _>("next_attempt_at")?.map(from_millis),
                    last_attempt_at: r.try_get::<Option<i64>, _>("last_attempt_at")?.map(from_millis),
                    response_status: r.try_get("response_status")?,
                    duration_ms: r.try_get("duration_ms")?,
                    error: r.try_get("error")?,
                    created_at: from_millis(r.try_get("created_at")?),
                })
            }

            fn events_json(w: &Webhook) -> String {
                strings_to_json(&w.events, |a| a.as_str())
            }

            impl $tx {
                /// The outbox: one event and one delivery per subscription of `e`'s
                /// organization that wants it, in the audit event's own transaction.
                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                pub(crate) async fn fan_out(&mut self, e: &NewAuditEvent) -> Result<()> {
                    let Some(org) = e.org_id else { return Ok(()) };
                    let hooks = $crate::WebhookRepo::list_webhooks(self, org).await?;
                    let wanted: Vec<&Webhook> = hooks
                        .iter()
                        .map(|h| &h.webhook)
                        .filter(|w| w.wants(e.action))
                        .collect();
                    if wanted.is_empty() {
                        return Ok(());
                    }
                    let event_id = format!("msg_{}", uuid::Uuid::new_v4().simple());
                    sqlx::query(
                        "INSERT INTO webhook_events (id, org_id, event_type, payload, created_at) \
                         VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(&event_id)
                    .bind(org.0.to_string())
                    .bind(e.action.as_str())
                    .bind(e.webhook_payload(&event_id))
                    .bind(to_millis(e.created_at))
                    .execute(&mut *self.tx)
                    .await?;
                    for w in wanted {
                        sqlx::query(
                            "INSERT INTO webhook_deliveries (id, org_id, webhook_id, event_id, status, \
                             attempts, next_attempt_at, created_at) \
                             VALUES ($1, $2, $3, $4, 'pending', 0, $5, $5)",
                        )
                        .bind(uuid::Uuid::new_v4().to_string())
                        .bind(org.0.to_string())
                        .bind(w.id.to_string())
                        .bind(&event_id)
                        .bind(to_millis(e.created_at))
                        .execute(&mut *self.tx)
                        .await?;
                    }
                    Ok(())
                }
            }

            #[async_trait]
            impl $crate::WebhookRepo for $tx {
                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn insert_webhook(&mut self, w: &Webhook, secret_sealed: &str) -> Result<()> {
                    sqlx::query(&format!(
                        "INSERT INTO webhooks ({WEBHOOK_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
                    ))
                    .bind(w.org_id.0.to_string())
                    .bind(w.id.to_string())
                    .bind(w.url.as_str())
                    .bind(events_json(w))
                    .bind(secret_sealed)
                    .bind(w.is_active)
                    .bind(w.failing_since.map(to_millis))
                    .bind(to_millis(w.created_at))
                    .bind(to_millis(w.updated_at))
                    .execute(&mut *self.tx)
                    .await?;
                    Ok(())
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn update_webhook(&mut self, w: &Webhook) -> Result<bool> {
                    let n = sqlx::query(
                        "UPDATE webhooks SET url = $3, events = $4, is_active = $5, \
                         failing_since = $6, updated_at = $7 WHERE org_id = $1 AND id = $2",
                    )
                    .bind(w.org_id.0.to_string())
                    .bind(w.id.to_string())
                    .bind(w.url.as_str())
                    .bind(events_json(w))
                    .bind(w.is_active)
                    .bind(w.failing_since.map(to_millis))
                    .bind(to_millis(w.updated_at))
                    .execute(&mut *self.tx)
                    .await?
                    .rows_affected();
                    Ok(n > 0)
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn delete_webhook(&mut self, org: OrgId, id: WebhookId) -> Result<bool> {
                    let n = sqlx::query("DELETE FROM webhooks WHERE org_id = $1 AND id = $2")
                        .bind(org.0.to_string())
                        .bind(id.to_string())
                        .execute(&mut *self.tx)
                        .await?
                        .rows_affected();
                    Ok(n > 0)
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn find_webhook(
                    &mut self,
                    org: OrgId,
                    id: WebhookId,
                ) -> Result<Option<WebhookRecord>> {
                    sqlx::query(&format!(
                        "SELECT {WEBHOOK_COLS} FROM webhooks WHERE org_id = $1 AND id = $2"
                    ))
                    .bind(org.0.to_string())
                    .bind(id.to_string())
                    .fetch_optional(&mut *self.tx)
                    .await?
                    .as_ref()
                    .map(webhook_row)
                    .transpose()
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn list_webhooks(&mut self, org: OrgId) -> Result<Vec<WebhookRecord>> {
                    sqlx::query(&format!(
                        "SELECT {WEBHOOK_COLS} FROM webhooks WHERE org_id = $1 ORDER BY created_at, id"
                    ))
                    .bind(org.0.to_string())
                    .fetch_all(&mut *self.tx)
                    .await?
                    .iter()
                    .map(webhook_row)
                    .collect()
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn list_deliveries(
                    &mut self,
                    org: OrgId,
                    webhook: WebhookId,
                    limit: u32,
                    offset: u32,
                ) -> Result<Vec<Delivery>> {
                    sqlx::query(&format!(
                        "SELECT {DELIVERY_COLS} FROM webhook_deliveries d \
                         JOIN webhook_events e ON e.id = d.event_id \
                         WHERE d.org_id = $1 AND d.webhook_id = $2 \
                         ORDER BY d.created_at DESC, d.id DESC LIMIT $3 OFFSET $4"
                    ))
                    .bind(org.0.to_string())
                    .bind(webhook.to_string())
                    .bind(i64::from(limit))
                    .bind(i64::from(offset))
                    .fetch_all(&mut *self.tx)
                    .await?
                    .iter()
                    .map(delivery_row)
                    .collect()
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn find_delivery(
                    &mut self,
                    org: OrgId,
                    webhook: WebhookId,
                    id: uuid::Uuid,
                ) -> Result<Option<Delivery>> {
                    sqlx::query(&format!(
                        "SELECT {DELIVERY_COLS} FROM webhook_deliveries d \
                         JOIN webhook_events e ON e.id = d.event_id \
                         WHERE d.org_id = $1 AND d.webhook_id = $2 AND d.id = $3"
                    ))
                    .bind(org.0.to_string())
                    .bind(webhook.to_string())
                    .bind(id.to_string())
                    .fetch_optional(&mut *self.tx)
                    .await?
                    .as_ref()
                    .map(delivery_row)
                    .transpose()
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn requeue_delivery(
                    &mut self,
                    org: OrgId,
                    webhook: WebhookId,
                    id: uuid::Uuid,
                    now: Timestamp,
                ) -> Result<bool> {
                    let n = sqlx::query(
                        "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = $4, \
                         lease_owner = NULL, lease_until = NULL \
                         WHERE org_id = $1 AND webhook_id = $2 AND id = $3",
                    )
                    .bind(org.0.to_string())
                    .bind(webhook.to_string())
                    .bind(id.to_string())
                    .bind(to_millis(now))
                    .execute(&mut *self.tx)
                    .await?
                    .rows_affected();
                    Ok(n > 0)
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn claim_due_deliveries(
                    &mut self,
                    owner: &str,
                    now: Timestamp,
                    lease_until: Timestamp,
                    limit: u32,
                ) -> Result<Vec<DueDelivery>> {
                    // The outer condition repeats the lease test: on PostgreSQL a row locked
                    // by the inner SELECT is re-checked after any concurrent update.
                    let claimed = sqlx::query(&format!(
                        "UPDATE webhook_deliveries SET lease_owner = $1, lease_until = $2 \
                         WHERE id IN (SELECT id FROM webhook_deliveries \
                           WHERE status = 'pending' AND next_attempt_at <= $3 \
                           AND (lease_until IS NULL OR lease_until < $3) \
                           AND webhook_id IN (SELECT id FROM webhooks WHERE is_active) \
                           ORDER BY next_attempt_at LIMIT $4 {}) \
                         AND (lease_until IS NULL OR lease_until < $3) RETURNING id",
                        $claim_lock
                    ))
                    .bind(owner)
                    .bind(to_millis(lease_until))
                    .bind(to_millis(now))
                    .bind(i64::from(limit))
                    .fetch_all(&mut *self.tx)
                    .await?;
                    if claimed.is_empty() {
                        return Ok(Vec::new());
                    }
                    let rows = sqlx::query(&format!(
                        "SELECT {DELIVERY_COLS}, w.url, w.secret_sealed, e.payload, \
                         e.created_at AS event_at FROM webhook_deliveries d \
                         JOIN webhook_events e ON e.id = d.event_id \
                         JOIN webhooks w ON w.id = d.webhook_id \
                         WHERE d.lease_owner = $1 AND d.lease_until = $2 AND d.status = 'pending'"
                    ))
                    .bind(owner)
                    .bind(to_millis(lease_until))
                    .fetch_all(&mut *self.tx)
                    .await?;
                    rows.iter()
                        .map(|r| {
                            Ok(DueDelivery {
                                delivery: delivery_row(r)?,
                                url: r.try_get("url")?,
                                secret_sealed: r.try_get("secret_sealed")?,
                                payload: r.try_get("payload")?,
                                event_at: from_millis(r.try_get("event_at")?),
                            })
                        })
                        .collect()
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn finish_delivery(
                    &mut self,
                    id: uuid::Uuid,
                    owner: &str,
                    o: &AttemptOutcome,
                ) -> Result<bool> {
                    let status = match (&o.error, o.next_attempt_at) {
                        (None, _) => DeliveryStatus::Succeeded,
                        (Some(_), Some(_)) => DeliveryStatus::Pending,
                        (Some(_), None) => DeliveryStatus::Failed,
                    };
                    let n = sqlx::query(
                        "UPDATE webhook_deliveries SET status = $3, attempts = attempts + 1, \
                         next_attempt_at = $4, last_attempt_at = $5, response_status = $6, \
                         duration_ms = $7, error = $8, lease_owner = NULL, lease_until = NULL \
                         WHERE id = $1 AND lease_owner = $2",
                    )
                    .bind(id.to_string())
                    .bind(owner)
                    .bind(status.as_str())
                    .bind(o.next_attempt_at.map(to_millis))
                    .bind(to_millis(o.at))
                    .bind(o.response_status)
                    .bind(o.duration_ms)
                    .bind(o.error.as_deref())
                    .execute(&mut *self.tx)
                    .await?
                    .rows_affected();
                    Ok(n > 0)
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn prune_webhook_history(&mut self, before: Timestamp) -> Result<u64> {
                    let n = sqlx::query(
                        "DELETE FROM webhook_deliveries WHERE status <> 'pending' AND created_at < $1",
                    )
                    .bind(to_millis(before))
                    .execute(&mut *self.tx)
                    .await?
                    .rows_affected();
                    sqlx::query(
                        "DELETE FROM webhook_events WHERE created_at < $1 AND NOT EXISTS \
                         (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = webhook_events.id)",
                    )
                    .bind(to_millis(before))
                    .execute(&mut *self.tx)
                    .await?;
                    Ok(n)
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn note_webhook_health(
                    &mut self,
                    id: WebhookId,
                    ok: bool,
                    at: Timestamp,
                ) -> Result<Option<Timestamp>> {
                    let sql = if ok {
                        "UPDATE webhooks SET failing_since = NULL WHERE id = $1 RETURNING failing_since"
                    } else {
                        "UPDATE webhooks SET failing_since = COALESCE(failing_since, $2) \
                         WHERE id = $1 RETURNING failing_since"
                    };
                    let row = sqlx::query(sql)
                        .bind(id.to_string())
                        .bind(to_millis(at))
                        .fetch_optional(&mut *self.tx)
                        .await?;
                    Ok(match row {
                        Some(r) => r.try_get::<Option<i64>, _>("failing_since")?.map(from_millis),
                        None => None,
                    })
                }
            }
        }
    };
}

pub(crate) use impl_webhooks_repo;
