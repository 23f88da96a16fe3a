//! The portable SQL of [`crate::ConsoleRepo`]; [`impl_console_repo!`] stamps it out for one backend's
//! transaction type.

macro_rules! impl_console_repo {
    ($tx:ident, $row:ty) => {
        mod console_repo {
            use super::$tx;
            use $crate::sql::prelude::*;

            fn console_session_row(r: &$row) -> Result<$crate::ConsoleSession> {
                let t = "console_sessions";
                Ok($crate::ConsoleSession {
                    id_hash: r.try_get("id_hash")?,
                    current_org: r
                        .try_get::<Option<String>, _>("current_org_id")?
                        .map(|o| uuid(t, &o).map(OrgId))
                        .transpose()?,
                    created_at: from_millis(r.try_get("created_at")?),
                    expires_at: from_millis(r.try_get("expires_at")?),
                    ended_at: r.try_get::<Option<i64>, _>("ended_at")?.map(from_millis),
                })
            }

            fn console_login_row(r: &$row) -> Result<$crate::ConsoleLogin> {
                let t = "console_logins";
                Ok($crate::ConsoleLogin {
                    session_hash: r.try_get("session_hash")?,
                    org_id: OrgId(uuid(t, &r.try_get::<String, _>("org_id")?)?),
                    user_id: UserId(uuid(t, &r.try_get::<String, _>("user_id")?)?),
                    auth_time: from_millis(r.try_get("auth_time")?),
                    created_at: from_millis(r.try_get("created_at")?),
                })
            }

            #[async_trait]
            impl $crate::ConsoleRepo for $tx {
                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn insert_console_session(&mut self, x: &$crate::ConsoleSession) -> Result<()> {
                    sqlx::query(
                        "INSERT INTO console_sessions (id_hash, current_org_id, created_at, expires_at, \
                         ended_at) VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(&x.id_hash)
                    .bind(org_param(x.current_org))
                    .bind(to_millis(x.created_at))
                    .bind(to_millis(x.expires_at))
                    .bind(x.ended_at.map(to_millis))
                    .execute(&mut *self.tx)
                    .await?;
                    Ok(())
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn find_console_session(&mut self, id_hash: &str) -> Result<Option<$crate::ConsoleSession>> {
                    sqlx::query(
                        "SELECT id_hash, current_org_id, created_at, expires_at, ended_at \
                         FROM console_sessions WHERE id_hash = $1",
                    )
                    .bind(id_hash)
                    .fetch_optional(&mut *self.tx)
                    .await?
                    .map(|r| console_session_row(&r))
                    .transpose()
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn set_console_org(&mut self, id_hash: &str, org: OrgId) -> Result<bool> {
                    Ok(sqlx::query(
                        "UPDATE console_sessions SET current_org_id = $2 WHERE id_hash = $1 \
                         AND ended_at IS NULL",
                    )
                    .bind(id_hash)
                    .bind(org.0.to_string())
                    .execute(&mut *self.tx)
                    .await?
                    .rows_affected()
                        == 1)
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn end_console_session(&mut self, id_hash: &str, at: Timestamp) -> Result<bool> {
                    Ok(sqlx::query(
                        "UPDATE console_sessions SET ended_at = $2 WHERE id_hash = $1 \
                         AND ended_at IS NULL",
                    )
                    .bind(id_hash)
                    .bind(to_millis(at))
                    .execute(&mut *self.tx)
                    .await?
                    .rows_affected()
                        == 1)
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn upsert_console_login(&mut self, x: &$crate::ConsoleLogin) -> Result<()> {
                    sqlx::query(
                        "INSERT INTO console_logins (session_hash, org_id, user_id, auth_time, created_at) \
                         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (session_hash, org_id) \
                         DO UPDATE SET user_id = excluded.user_id, auth_time = excluded.auth_time, \
                         created_at = excluded.created_at",
                    )
                    .bind(&x.session_hash)
                    .bind(x.org_id.0.to_string())
                    .bind(x.user_id.0.to_string())
                    .bind(to_millis(x.auth_time))
                    .bind(to_millis(x.created_at))
                    .execute(&mut *self.tx)
                    .await?;
                    Ok(())
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn list_console_logins(&mut self, session_hash: &str) -> Result<Vec<$crate::ConsoleLogin>> {
                    // The organization id breaks ties, so the order is the same on every read.
                    sqlx::query(
                        "SELECT session_hash, org_id, user_id, auth_time, created_at \
                         FROM console_logins WHERE session_hash = $1 ORDER BY created_at, org_id",
                    )
                    .bind(session_hash)
                    .fetch_all(&mut *self.tx)
                    .await?
                    .iter()
                    .map(console_login_row)
                    .collect()
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn purge_console_sessions(&mut self, before: Timestamp) -> Result<u64> {
                    // The sign-ins go with their session (ON DELETE CASCADE).
                    Ok(sqlx::query(
                        "DELETE FROM console_sessions WHERE expires_at < $1 OR ended_at < $1",
                    )
                    .bind(to_millis(before))
                    .execute(&mut *self.tx)
                    .await?
                    .rows_affected())
                }
            }
        }
    };
}

pub(crate) use impl_console_repo;
