//! The portable SQL of [`crate::SessionRepo`]; [`impl_sessions_repo!`] stamps it out for one backend's
//! transaction type.

/// A session by its organization (`$1`) and hash (`$2`), with its user's consent to the
/// client `$3` (`scopes`, NULL when there is none).
macro_rules! session_with_consent_select {
    () => {
        "SELECT s.id_hash, s.org_id, s.user_id, s.auth_time, s.created_at, s.expires_at, \
         s.ended_at, s.amr, c.scopes FROM login_sessions s LEFT JOIN consents c \
         ON c.org_id = s.org_id AND c.user_id = s.user_id AND c.client_id = $3 \
         WHERE s.org_id = $1 AND s.id_hash = $2"
    };
}
pub(crate) use session_with_consent_select;

/// A login session's row.
pub(crate) fn session_from(r: &impl super::Cols) -> crate::Result<crate::LoginSession> {
    use super::uuid;
    use tessera_domain::clock::from_millis;
    let t = "login_sessions";
    Ok(crate::LoginSession {
        id_hash: r.text("id_hash")?,
        org_id: tessera_domain::OrgId(uuid(t, &r.text("org_id")?)?),
        user_id: tessera_domain::UserId(uuid(t, &r.text("user_id")?)?),
        auth_time: from_millis(r.int("auth_time")?),
        created_at: from_millis(r.int("created_at")?),
        expires_at: from_millis(r.int("expires_at")?),
        ended_at: r.int_opt("ended_at")?.map(from_millis),
        amr: r.text("amr")?,
    })
}

/// A row of `session_with_consent_select!`: the session, and the scopes its user consented
/// to for the client.
pub(crate) fn session_with_consent_from(
    r: &impl super::Cols,
) -> crate::Result<crate::SessionWithConsent> {
    let consent = r
        .text_opt("scopes")?
        .map(|s| serde_json::from_str(&s).map_err(|e| super::corrupt("consents", e)))
        .transpose()?;
    Ok((session_from(r)?, consent))
}

macro_rules! impl_sessions_repo {
    ($tx:ident, $row:ty) => {
        mod sessions_repo {
            use super::$tx;
            use $crate::sql::prelude::*;
            use $crate::sql::sessions::*;

            fn delivery_row(r: &$row) -> Result<$crate::LogoutDelivery> {
                let t = "logout_deliveries";
                Ok($crate::LogoutDelivery {
                    id: r.try_get("id")?,
                    org_id: OrgId(uuid(t, &r.try_get::<String, _>("org_id")?)?),
                    client_id: r.try_get("client_id")?,
                    uri: r.try_get("uri")?,
                    logout_token: r.try_get("logout_token")?,
                    attempts: r.try_get("attempts")?,
                    next_attempt_at: from_millis(r.try_get("next_attempt_at")?),
                    delivered_at: r.try_get::<Option<i64>, _>("delivered_at")?.map(from_millis),
                    last_error: r.try_get("last_error")?,
                    created_at: from_millis(r.try_get("created_at")?),
                })
            }

            #[async_trait]
            impl $crate::SessionRepo for $tx {
                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn insert_session(&mut self, x: &$crate::LoginSession) -> Result<()> {
                    sqlx::query(
                        "INSERT INTO login_sessions (id_hash, org_id, user_id, auth_time, created_at, \
                         expires_at, ended_at, amr) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    )
                    .bind(&x.id_hash)
                    .bind(x.org_id.0.to_string())
                    .bind(x.user_id.0.to_string())
                    .bind(to_millis(x.auth_time))
                    .bind(to_millis(x.created_at))
                    .bind(to_millis(x.expires_at))
                    .bind(x.ended_at.map(to_millis))
                    .bind(&x.amr)
                    .execute(&mut *self.tx)
                    .await?;
                    Ok(())
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn find_session(&mut self, org: OrgId, id_hash: &str) -> Result<Option<$crate::LoginSession>> {
                    sqlx::query(
                        "SELECT id_hash, org_id, user_id, auth_time, created_at, expires_at, ended_at, amr \
                         FROM login_sessions WHERE org_id = $1 AND id_hash = $2",
                    )
                    .bind(org.0.to_string())
                    .bind(id_hash)
                    .fetch_optional(&mut *self.tx)
                    .await?
                    .map(|r| session_from(&r))
                    .transpose()
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn find_session_with_consent(
                    &mut self,
                    org: OrgId,
                    id_hash: &str,
                    client_id: &str,
                ) -> Result<Option<$crate::SessionWithConsent>> {
                    sqlx::query(session_with_consent_select!())
                        .bind(org.0.to_string())
                        .bind(id_hash)
                        .bind(client_id)
                        .fetch_optional(&mut *self.tx)
                        .await?
                        .map(|r| session_with_consent_from(&r))
                        .transpose()
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
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

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
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

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
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

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
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

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn delete_pending(&mut self, org: OrgId, id: &str) -> Result<bool> {
                    Ok(sqlx::query("DELETE FROM auth_requests WHERE org_id = $1 AND id = $2")
                        .bind(org.0.to_string())
                        .bind(id)
                        .execute(&mut *self.tx)
                        .await?
                        .rows_affected()
                        == 1)
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
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

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
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

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn prune_expired_flows(&mut self, before: Timestamp) -> Result<u64> {
                    let mut n = 0;
                    for table in [
                        "device_codes",
                        "auth_codes",
                        "auth_requests",
                        "login_sessions",
                        "connection_states",
                        "client_assertions",
                        "pushed_requests",
                    ] {
                        n += sqlx::query(&format!("DELETE FROM {table} WHERE expires_at < $1"))
                            .bind(to_millis(before))
                            .execute(&mut *self.tx)
                            .await?
                            .rows_affected();
                    }
                    Ok(n)
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn touch_consent(
                    &mut self,
                    org: OrgId,
                    user: UserId,
                    client_id: &str,
                    at: Timestamp,
                ) -> Result<()> {
                    sqlx::query(
                        "UPDATE consents SET last_used_at = $4 WHERE org_id = $1 AND user_id = $2 \
                         AND client_id = $3",
                    )
                    .bind(org.0.to_string())
                    .bind(user.0.to_string())
                    .bind(client_id)
                    .bind(to_millis(at))
                    .execute(&mut *self.tx)
                    .await?;
                    Ok(())
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn user_consents(&mut self, org: OrgId, user: UserId) -> Result<Vec<$crate::Consent>> {
                    let t = "consents";
                    let rows = sqlx::query(
                        "SELECT client_id, scopes, created_at, last_used_at FROM consents \
                         WHERE org_id = $1 AND user_id = $2 ORDER BY client_id",
                    )
                    .bind(org.0.to_string())
                    .bind(user.0.to_string())
                    .fetch_all(&mut *self.tx)
                    .await?;
                    rows.iter()
                        .map(|r| {
                            Ok($crate::Consent {
                                client_id: r.try_get("client_id")?,
                                scopes: serde_json::from_str(&r.try_get::<String, _>("scopes")?)
                                    .map_err(|e| corrupt(t, e))?,
                                granted_at: from_millis(r.try_get("created_at")?),
                                last_used_at: r
                                    .try_get::<Option<i64>, _>("last_used_at")?
                                    .map(from_millis),
                            })
                        })
                        .collect()
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn withdraw_consent(
                    &mut self,
                    org: OrgId,
                    user: UserId,
                    client_id: &str,
                    at: Timestamp,
                ) -> Result<bool> {
                    let gone = sqlx::query(
                        "DELETE FROM consents WHERE org_id = $1 AND user_id = $2 AND client_id = $3",
                    )
                    .bind(org.0.to_string())
                    .bind(user.0.to_string())
                    .bind(client_id)
                    .execute(&mut *self.tx)
                    .await?
                    .rows_affected();
                    sqlx::query(
                        "UPDATE refresh_tokens SET revoked_at = $4 WHERE org_id = $1 AND user_id = $2 \
                         AND client_id = $3 AND revoked_at IS NULL",
                    )
                    .bind(org.0.to_string())
                    .bind(user.0.to_string())
                    .bind(client_id)
                    .bind(to_millis(at))
                    .execute(&mut *self.tx)
                    .await?;
                    Ok(gone == 1)
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn user_sessions(
                    &mut self,
                    org: OrgId,
                    user: UserId,
                    now: Timestamp,
                ) -> Result<Vec<$crate::LoginSession>> {
                    sqlx::query(
                        "SELECT id_hash, org_id, user_id, auth_time, created_at, expires_at, ended_at, amr \
                         FROM login_sessions WHERE org_id = $1 AND user_id = $2 AND ended_at IS NULL \
                         AND expires_at > $3 ORDER BY created_at DESC, id_hash",
                    )
                    .bind(org.0.to_string())
                    .bind(user.0.to_string())
                    .bind(to_millis(now))
                    .fetch_all(&mut *self.tx)
                    .await?
                    .iter()
                    .map(session_from)
                    .collect()
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn add_session_client(&mut self, c: &$crate::SessionClient, at: Timestamp) -> Result<()> {
                    sqlx::query(
                        "INSERT INTO session_clients (org_id, session_hash, sid, client_id, user_id, \
                         created_at) VALUES ($1, $2, $3, $4, $5, $6) \
                         ON CONFLICT (org_id, session_hash, client_id) DO NOTHING",
                    )
                    .bind(c.org_id.0.to_string())
                    .bind(&c.session_hash)
                    .bind(&c.sid)
                    .bind(&c.client_id)
                    .bind(c.user_id.0.to_string())
                    .bind(to_millis(at))
                    .execute(&mut *self.tx)
                    .await?;
                    Ok(())
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn take_ended_session_clients(
                    &mut self,
                    now: Timestamp,
                    limit: i64,
                ) -> Result<Vec<$crate::SessionClient>> {
                    let t = "session_clients";
                    let rows = sqlx::query(
                        "SELECT c.org_id, c.session_hash, c.sid, c.client_id, c.user_id \
                         FROM session_clients c LEFT JOIN login_sessions s \
                         ON s.org_id = c.org_id AND s.id_hash = c.session_hash \
                         WHERE s.id_hash IS NULL OR s.ended_at IS NOT NULL OR s.expires_at <= $1 \
                         LIMIT $2",
                    )
                    .bind(to_millis(now))
                    .bind(limit)
                    .fetch_all(&mut *self.tx)
                    .await?;
                    let mut out = Vec::with_capacity(rows.len());
                    for r in rows {
                        let c = $crate::SessionClient {
                            org_id: OrgId(uuid(t, &r.try_get::<String, _>("org_id")?)?),
                            session_hash: r.try_get("session_hash")?,
                            sid: r.try_get("sid")?,
                            client_id: r.try_get("client_id")?,
                            user_id: UserId(uuid(t, &r.try_get::<String, _>("user_id")?)?),
                        };
                        // Another node may have taken it since the read: only the one whose
                        // delete removed the row has it.
                        let gone = sqlx::query(
                            "DELETE FROM session_clients WHERE org_id = $1 AND session_hash = $2 \
                             AND client_id = $3",
                        )
                        .bind(c.org_id.0.to_string())
                        .bind(&c.session_hash)
                        .bind(&c.client_id)
                        .execute(&mut *self.tx)
                        .await?
                        .rows_affected();
                        if gone == 1 {
                            out.push(c);
                        }
                    }
                    Ok(out)
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn insert_logout_delivery(&mut self, d: &$crate::LogoutDelivery) -> Result<()> {
                    sqlx::query(
                        "INSERT INTO logout_deliveries (id, org_id, client_id, uri, logout_token, \
                         attempts, next_attempt_at, lease_until, delivered_at, last_error, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, $8, $9, $10)",
                    )
                    .bind(&d.id)
                    .bind(d.org_id.0.to_string())
                    .bind(&d.client_id)
                    .bind(&d.uri)
                    .bind(&d.logout_token)
                    .bind(d.attempts)
                    .bind(to_millis(d.next_attempt_at))
                    .bind(d.delivered_at.map(to_millis))
                    .bind(d.last_error.as_deref())
                    .bind(to_millis(d.created_at))
                    .execute(&mut *self.tx)
                    .await?;
                    Ok(())
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn lease_logout_deliveries(
                    &mut self,
                    now: Timestamp,
                    lease_until: Timestamp,
                    limit: i64,
                ) -> Result<Vec<$crate::LogoutDelivery>> {
                    // The outer conditions repeat the inner ones: PostgreSQL re-checks them on
                    // a row another transaction leased meanwhile, and skips it.
                    let rows = sqlx::query(
                        "UPDATE logout_deliveries SET lease_until = $2, attempts = attempts + 1 \
                         WHERE id IN (SELECT id FROM logout_deliveries WHERE delivered_at IS NULL \
                         AND next_attempt_at <= $1 AND (lease_until IS NULL OR lease_until <= $1) \
                         ORDER BY next_attempt_at LIMIT $3) \
                         AND delivered_at IS NULL AND (lease_until IS NULL OR lease_until <= $1) \
                         RETURNING id, org_id, client_id, uri, logout_token, attempts, \
                         next_attempt_at, delivered_at, last_error, created_at",
                    )
                    .bind(to_millis(now))
                    .bind(to_millis(lease_until))
                    .bind(limit)
                    .fetch_all(&mut *self.tx)
                    .await?;
                    rows.iter().map(delivery_row).collect()
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn finish_logout_delivery(
                    &mut self,
                    id: &str,
                    lease_until: Timestamp,
                    delivered: Option<Timestamp>,
                    retry_at: Option<Timestamp>,
                    error: Option<&str>,
                ) -> Result<bool> {
                    // Given up: never due again (delivered_at stays NULL, next attempt never).
                    let next = retry_at.map(to_millis).unwrap_or(i64::MAX);
                    let done = sqlx::query(
                        "UPDATE logout_deliveries SET lease_until = NULL, delivered_at = $2, \
                         next_attempt_at = $3, last_error = $4 \
                         WHERE id = $1 AND lease_until = $5 AND delivered_at IS NULL",
                    )
                    .bind(id)
                    .bind(delivered.map(to_millis))
                    .bind(next)
                    .bind(error)
                    .bind(to_millis(lease_until))
                    .execute(&mut *self.tx)
                    .await?;
                    Ok(done.rows_affected() == 1)
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn logout_deliveries(
                    &mut self,
                    org: OrgId,
                    client_id: &str,
                ) -> Result<Vec<$crate::LogoutDelivery>> {
                    let rows = sqlx::query(
                        "SELECT id, org_id, client_id, uri, logout_token, attempts, next_attempt_at, \
                         delivered_at, last_error, created_at FROM logout_deliveries \
                         WHERE org_id = $1 AND client_id = $2 ORDER BY created_at DESC, id",
                    )
                    .bind(org.0.to_string())
                    .bind(client_id)
                    .fetch_all(&mut *self.tx)
                    .await?;
                    rows.iter().map(delivery_row).collect()
                }
            }
        }
    };
}

pub(crate) use impl_sessions_repo;
