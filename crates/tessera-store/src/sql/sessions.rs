//! The portable SQL of [`crate::SessionRepo`]; [`impl_sessions_repo!`] stamps it out for one backend's
//! transaction type.

macro_rules! impl_sessions_repo {
    ($tx:ident, $row:ty) => {
        mod sessions_repo {
            use super::$tx;
            use $crate::sql::prelude::*;

            fn session_row(r: &$row) -> Result<$crate::LoginSession> {
                let t = "login_sessions";
                Ok($crate::LoginSession {
                    id_hash: r.try_get("id_hash")?,
                    org_id: OrgId(uuid(t, &r.try_get::<String, _>("org_id")?)?),
                    user_id: UserId(uuid(t, &r.try_get::<String, _>("user_id")?)?),
                    auth_time: from_millis(r.try_get("auth_time")?),
                    created_at: from_millis(r.try_get("created_at")?),
                    expires_at: from_millis(r.try_get("expires_at")?),
                    ended_at: r.try_get::<Option<i64>, _>("ended_at")?.map(from_millis),
                })
            }

            #[async_trait]
            impl $crate::SessionRepo for $tx {
                async fn insert_session(&mut self, x: &$crate::LoginSession) -> Result<()> {
                    sqlx::query(
                        "INSERT INTO login_sessions (id_hash, org_id, user_id, auth_time, created_at, \
                         expires_at, ended_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    )
                    .bind(&x.id_hash)
                    .bind(x.org_id.0.to_string())
                    .bind(x.user_id.0.to_string())
                    .bind(to_millis(x.auth_time))
                    .bind(to_millis(x.created_at))
                    .bind(to_millis(x.expires_at))
                    .bind(x.ended_at.map(to_millis))
                    .execute(&mut *self.tx)
                    .await?;
                    Ok(())
                }

                async fn find_session(&mut self, org: OrgId, id_hash: &str) -> Result<Option<$crate::LoginSession>> {
                    sqlx::query(
                        "SELECT id_hash, org_id, user_id, auth_time, created_at, expires_at, ended_at \
                         FROM login_sessions WHERE org_id = $1 AND id_hash = $2",
                    )
                    .bind(org.0.to_string())
                    .bind(id_hash)
                    .fetch_optional(&mut *self.tx)
                    .await?
                    .map(|r| session_row(&r))
                    .transpose()
                }

                async fn end_session(&mut self, org: OrgId, id_hash: &str, at: Timestamp) -> Result<bool> {
                    Ok(sqlx::query(
                        "UPDATE login_sessions SET ended_at = $3 WHERE org_id = $1 AND id_hash = $2 \
                         AND ended_at IS NULL",
                    )
                    .bind(org.0.to_string())
                    .bind(id_hash)
                    .bind(to_millis(at))
                    .execute(&mut *self.tx)
                    .await?
                    .rows_affected()
                        == 1)
                }

                async fn end_user_sessions(
                    &mut self,
                    org: OrgId,
                    user: UserId,
                    at: Timestamp,
                ) -> Result<u64> {
                    Ok(sqlx::query(
                        "UPDATE login_sessions SET ended_at = $3 WHERE org_id = $1 AND user_id = $2 \
                         AND ended_at IS NULL",
                    )
                    .bind(org.0.to_string())
                    .bind(user.0.to_string())
                    .bind(to_millis(at))
                    .execute(&mut *self.tx)
                    .await?
                    .rows_affected())
                }

                async fn insert_pending(&mut self, p: &$crate::PendingRequest) -> Result<()> {
                    sqlx::query(
                        "INSERT INTO auth_requests (id, org_id, params, csrf, created_at, expires_at) \
                         VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(&p.id)
                    .bind(p.org_id.0.to_string())
                    .bind(&p.params)
                    .bind(&p.csrf)
                    .bind(to_millis(p.created_at))
                    .bind(to_millis(p.expires_at))
                    .execute(&mut *self.tx)
                    .await?;
                    Ok(())
                }

                async fn find_pending(&mut self, org: OrgId, id: &str) -> Result<Option<$crate::PendingRequest>> {
                    let row = sqlx::query(
                        "SELECT id, org_id, params, csrf, created_at, expires_at FROM auth_requests \
                         WHERE org_id = $1 AND id = $2",
                    )
                    .bind(org.0.to_string())
                    .bind(id)
                    .fetch_optional(&mut *self.tx)
                    .await?;
                    row.map(|r| {
                        let t = "auth_requests";
                        Ok($crate::PendingRequest {
                            id: r.try_get("id")?,
                            org_id: OrgId(uuid(t, &r.try_get::<String, _>("org_id")?)?),
                            params: r.try_get("params")?,
                            csrf: r.try_get("csrf")?,
                            created_at: from_millis(r.try_get("created_at")?),
                            expires_at: from_millis(r.try_get("expires_at")?),
                        })
                    })
                    .transpose()
                }

                async fn delete_pending(&mut self, org: OrgId, id: &str) -> Result<bool> {
                    Ok(sqlx::query("DELETE FROM auth_requests WHERE org_id = $1 AND id = $2")
                        .bind(org.0.to_string())
                        .bind(id)
                        .execute(&mut *self.tx)
                        .await?
                        .rows_affected()
                        == 1)
                }

                async fn find_consent(
                    &mut self,
                    org: OrgId,
                    user: UserId,
                    client_id: &str,
                ) -> Result<Option<Vec<String>>> {
                    let row = sqlx::query(
                        "SELECT scopes FROM consents WHERE org_id = $1 AND user_id = $2 AND client_id = $3",
                    )
                    .bind(org.0.to_string())
                    .bind(user.0.to_string())
                    .bind(client_id)
                    .fetch_optional(&mut *self.tx)
                    .await?;
                    row.map(|r| {
                        let s: String = r.try_get("scopes")?;
                        serde_json::from_str(&s).map_err(|e| corrupt("consents", e))
                    })
                    .transpose()
                }

                async fn upsert_consent(
                    &mut self,
                    org: OrgId,
                    user: UserId,
                    client_id: &str,
                    scopes: &[String],
                    at: Timestamp,
                ) -> Result<()> {
                    sqlx::query(
                        "INSERT INTO consents (org_id, user_id, client_id, scopes, created_at) \
                         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (org_id, user_id, client_id) \
                         DO UPDATE SET scopes = excluded.scopes, created_at = excluded.created_at",
                    )
                    .bind(org.0.to_string())
                    .bind(user.0.to_string())
                    .bind(client_id)
                    .bind(serde_json::to_string(scopes).unwrap_or_else(|_| "[]".into()))
                    .bind(to_millis(at))
                    .execute(&mut *self.tx)
                    .await?;
                    Ok(())
                }

                async fn prune_expired_flows(&mut self, before: Timestamp) -> Result<u64> {
                    let mut n = 0;
                    for table in [
                        "device_codes",
                        "auth_codes",
                        "auth_requests",
                        "login_sessions",
                        "connection_states",
                        "client_assertions",
                    ] {
                        n += sqlx::query(&format!("DELETE FROM {table} WHERE expires_at < $1"))
                            .bind(to_millis(before))
                            .execute(&mut *self.tx)
                            .await?
                            .rows_affected();
                    }
                    Ok(n)
                }
            }
        }
    };
}

pub(crate) use impl_sessions_repo;
