//! The portable SQL of [`crate::AuditRepo`]; [`impl_audit_repo!`] stamps it out for one backend's
//! transaction type.

pub(crate) const AUDIT_COLS: &str = "id, org_id, actor_type, actor_id, actor_name, action, \
     target_type, target_id, ip, request_id, before_state, after_state, created_at";

macro_rules! impl_audit_repo {
    ($tx:ident, $row:ty) => {
        mod audit_repo {
            use super::$tx;
            use $crate::sql::prelude::*;
            use $crate::sql::audit::*;

            fn audit_row(r: &$row) -> Result<AuditEvent> {
                let t = "audit_events";
                let org: Option<String> = r.try_get("org_id")?;
                Ok(AuditEvent {
                    id: r.try_get("id")?,
                    org_id: org.map(|o| uuid(t, &o).map(OrgId)).transpose()?,
                    actor: Actor {
                        kind: r.try_get("actor_type")?,
                        id: r.try_get("actor_id")?,
                        name: r.try_get("actor_name")?,
                    },
                    action: r.try_get("action")?,
                    target_type: r.try_get("target_type")?,
                    target_id: r.try_get("target_id")?,
                    ip: r.try_get("ip")?,
                    request_id: r.try_get("request_id")?,
                    before: json_opt(t, r.try_get("before_state")?)?,
                    after: json_opt(t, r.try_get("after_state")?)?,
                    created_at: from_millis(r.try_get("created_at")?),
                })
            }

            #[async_trait]
            impl $crate::AuditRepo for $tx {
                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn insert_audit(&mut self, e: &NewAuditEvent) -> Result<i64> {
                    let json = |v: &Option<serde_json::Value>| v.as_ref().map(ToString::to_string);
                    let row = sqlx::query(
                        "INSERT INTO audit_events (org_id, actor_type, actor_id, actor_name, action, \
                         target_type, target_id, ip, request_id, before_state, after_state, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
                    )
                    .bind(org_param(e.org_id))
                    .bind(&e.actor.kind)
                    .bind(e.actor.id.as_deref())
                    .bind(&e.actor.name)
                    .bind(e.action.as_str())
                    .bind(&e.target_type)
                    .bind(e.target_id.as_deref())
                    .bind(e.ip.as_deref())
                    .bind(e.request_id.as_deref())
                    .bind(json(&e.before))
                    .bind(json(&e.after))
                    .bind(to_millis(e.created_at))
                    .fetch_one(&mut *self.tx)
                    .await?;
                    self.fan_out(e).await?;
                    Ok(row.try_get("id")?)
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn list_audit(&mut self, org: OrgId, q: &AuditQuery) -> Result<Vec<AuditEvent>> {
                    let sql = format!(
                        "SELECT {AUDIT_COLS} FROM audit_events WHERE org_id = $1 \
                         AND ($2 IS NULL OR id < $2) AND ($3 IS NULL OR action = $3) \
                         AND ($4 IS NULL OR actor_name = $4) \
                         AND ($6 IS NULL OR created_at >= $6) AND ($7 IS NULL OR created_at <= $7) \
                         ORDER BY id DESC LIMIT $5"
                    );
                    sqlx::query(&sql)
                        .bind(org.0.to_string())
                        .bind(q.before)
                        .bind(q.action.as_deref())
                        .bind(q.actor.as_deref())
                        .bind(i64::from(q.limit))
                        .bind(q.from.map(to_millis))
                        .bind(q.to.map(to_millis))
                        .fetch_all(&mut *self.tx)
                        .await?
                        .iter()
                        .map(audit_row)
                        .collect()
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn list_system_audit(&mut self, q: &AuditQuery) -> Result<Vec<AuditEvent>> {
                    let sql = format!(
                        "SELECT {AUDIT_COLS} FROM audit_events WHERE org_id IS NULL \
                         AND ($1 IS NULL OR id < $1) AND ($2 IS NULL OR action = $2) \
                         AND ($3 IS NULL OR actor_name = $3) \
                         AND ($5 IS NULL OR created_at >= $5) AND ($6 IS NULL OR created_at <= $6) \
                         ORDER BY id DESC LIMIT $4"
                    );
                    sqlx::query(&sql)
                        .bind(q.before)
                        .bind(q.action.as_deref())
                        .bind(q.actor.as_deref())
                        .bind(i64::from(q.limit))
                        .bind(q.from.map(to_millis))
                        .bind(q.to.map(to_millis))
                        .fetch_all(&mut *self.tx)
                        .await?
                        .iter()
                        .map(audit_row)
                        .collect()
                }
            }
        }
    };
}

pub(crate) use impl_audit_repo;
