//! The portable SQL of [`crate::CodeRepo`]; [`impl_codes_repo!`] stamps it out for one backend's
//! transaction type.

pub(crate) const DEVICE_COLS: &str = "device_code_hash, user_code_hash, org_id, client_id, \
     scope, status, user_id, auth_time, interval_secs, last_polled_at, created_at, expires_at, \
     resources";

/// Stores an authorization code: its nineteen values are `sql::code_values`.
macro_rules! code_insert {
    () => {
        "INSERT INTO auth_codes (code_hash, org_id, client_id, user_id, redirect_uri, scope, \
         nonce, code_challenge, auth_time, created_at, expires_at, redeemed_at, access_jti, \
         access_expires, claims, resources, dpop_jkt, sid, amr) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)"
    };
}
pub(crate) use code_insert;

/// A code by its organization (`$1`) and hash (`$2`), the columns [`code_from`] reads.
macro_rules! code_select {
    () => {
        "SELECT code_hash, org_id, client_id, user_id, redirect_uri, scope, nonce, \
         code_challenge, auth_time, created_at, expires_at, redeemed_at, access_jti, \
         access_expires, claims, resources, dpop_jkt, sid, amr FROM auth_codes \
         WHERE org_id = $1 AND code_hash = $2"
    };
}
pub(crate) use code_select;

/// A row of `code_select!`.
pub(crate) fn code_from(r: &impl super::Cols) -> crate::Result<crate::AuthCode> {
    use super::{claims_from, resources_from, uuid};
    use tessera_domain::clock::from_millis;
    let t = "auth_codes";
    Ok(crate::AuthCode {
        code_hash: r.text("code_hash")?,
        org_id: tessera_domain::OrgId(uuid(t, &r.text("org_id")?)?),
        client_id: r.text("client_id")?,
        user_id: tessera_domain::UserId(uuid(t, &r.text("user_id")?)?),
        redirect_uri: r.text("redirect_uri")?,
        scope: r.text("scope")?,
        nonce: r.text_opt("nonce")?,
        code_challenge: r.text_opt("code_challenge")?,
        auth_time: from_millis(r.int("auth_time")?),
        created_at: from_millis(r.int("created_at")?),
        expires_at: from_millis(r.int("expires_at")?),
        redeemed_at: r.int_opt("redeemed_at")?.map(from_millis),
        access_jti: r.text_opt("access_jti")?,
        access_expires: r.int_opt("access_expires")?.map(from_millis),
        claims: claims_from(t, r.text_opt("claims")?)?,
        resources: resources_from(t, r.text_opt("resources")?)?,
        dpop_jkt: r.text_opt("dpop_jkt")?,
        sid: r.text_opt("sid")?,
        amr: r.text("amr")?,
    })
}

/// Marks a code redeemed, once: `$1` the organization, `$2` the code's hash, `$3` when, `$4`
/// and `$5` the access token issued for it (its jti and expiry).
macro_rules! redeem_update {
    () => {
        "UPDATE auth_codes SET redeemed_at = $3, access_jti = $4, access_expires = $5 \
         WHERE org_id = $1 AND code_hash = $2 AND redeemed_at IS NULL"
    };
}
pub(crate) use redeem_update;

/// The redemption and the refresh token issued with it (bound after the redemption's five
/// values) in one trip, both or neither; one row back when both were written. SQLite has no
/// writing `WITH`: its statements run in a savepoint (a transaction of their own in autocommit
/// mode, nested inside one) and the insert happens only after an update that changed a row
/// (`changes()`). PostgreSQL: one statement.
macro_rules! redeem_with_refresh {
    (sqlite) => {
        concat!(
            "SAVEPOINT redeem_code; ",
            $crate::sql::codes::redeem_update!(),
            "; ",
            $crate::sql::tokens::refresh_insert!(),
            " SELECT $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21 \
             WHERE changes() = 1 RETURNING 1; RELEASE redeem_code"
        )
    };
    (postgres) => {
        concat!(
            "WITH redeemed AS (",
            $crate::sql::codes::redeem_update!(),
            " RETURNING 1) ",
            $crate::sql::tokens::refresh_insert!(),
            " SELECT $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21 \
             FROM redeemed RETURNING 1"
        )
    };
}
pub(crate) use redeem_with_refresh;

/// What undoes a `redeem_with_refresh!` that stopped at a failing statement: SQLite's
/// savepoint is still open then; PostgreSQL's one statement left nothing.
macro_rules! redeem_undo {
    (sqlite) => {
        Some("ROLLBACK TO redeem_code; RELEASE redeem_code")
    };
    (postgres) => {
        None::<&str>
    };
}
pub(crate) use redeem_undo;

macro_rules! impl_codes_repo {
    ($tx:ident, $row:ty, $dialect:ident) => {
        mod codes_repo {
            use super::$tx;
            use $crate::sql::prelude::*;
            use $crate::sql::codes::*;

            fn pushed_row(r: &$row) -> Result<$crate::PushedRequest> {
                let t = "pushed_requests";
                Ok($crate::PushedRequest {
                    org_id: OrgId(uuid(t, &r.try_get::<String, _>("org_id")?)?),
                    handle_hash: r.try_get("handle_hash")?,
                    client_id: r.try_get("client_id")?,
                    params: r.try_get("params")?,
                    created_at: from_millis(r.try_get("created_at")?),
                    expires_at: from_millis(r.try_get("expires_at")?),
                })
            }

            fn device_row(r: &$row) -> Result<$crate::DeviceCode> {
                let t = "device_codes";
                let status: String = r.try_get("status")?;
                Ok($crate::DeviceCode {
                    device_code_hash: r.try_get("device_code_hash")?,
                    user_code_hash: r.try_get("user_code_hash")?,
                    org_id: OrgId(uuid(t, &r.try_get::<String, _>("org_id")?)?),
                    client_id: r.try_get("client_id")?,
                    scope: r.try_get("scope")?,
                    status: $crate::DeviceStatus::parse(&status)
                        .ok_or_else(|| corrupt(t, format!("unknown status '{status}'")))?,
                    user_id: r
                        .try_get::<Option<String>, _>("user_id")?
                        .map(|u| uuid(t, &u).map(UserId))
                        .transpose()?,
                    auth_time: r.try_get::<Option<i64>, _>("auth_time")?.map(from_millis),
                    interval_secs: r.try_get("interval_secs")?,
                    last_polled_at: r.try_get::<Option<i64>, _>("last_polled_at")?.map(from_millis),
                    created_at: from_millis(r.try_get("created_at")?),
                    expires_at: from_millis(r.try_get("expires_at")?),
                    resources: resources_from(t, r.try_get("resources")?)?,
                })
            }

            #[async_trait]
            impl $crate::CodeRepo for $tx {
                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn insert_code(&mut self, c: &$crate::AuthCode) -> Result<()> {
                    bind_values(sqlx::query(code_insert!()), code_values(c))
                    .execute(&mut *self.tx)
                    .await?;
                    Ok(())
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn find_code(&mut self, org: OrgId, code_hash: &str) -> Result<Option<$crate::AuthCode>> {
                    sqlx::query(code_select!())
                    .bind(org.0.to_string())
                    .bind(code_hash)
                    .fetch_optional(&mut *self.tx)
                    .await?
                    .map(|r| code_from(&r))
                    .transpose()
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn redeem_code(&mut self, org: OrgId, code_hash: &str, at: Timestamp) -> Result<bool> {
                    Ok(sqlx::query(
                        "UPDATE auth_codes SET redeemed_at = $3 WHERE org_id = $1 AND code_hash = $2 \
                         AND redeemed_at IS NULL",
                    )
                    .bind(org.0.to_string())
                    .bind(code_hash)
                    .bind(to_millis(at))
                    .execute(&mut *self.tx)
                    .await?
                    .rows_affected()
                        == 1)
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn redeem_code_once(&mut self, r: &$crate::Redemption<'_>) -> Result<bool> {
                    let values = redeem_values(r);
                    let Some(refresh) = r.refresh else {
                        return Ok(bind_values(sqlx::query(redeem_update!()), values)
                            .execute(&mut *self.tx)
                            .await?
                            .rows_affected()
                            == 1);
                    };
                    let q = bind_values(sqlx::query(redeem_with_refresh!($dialect)), values);
                    // Dropped while the statements run (a cancelled request), the connection
                    // is rolled back before it is used again.
                    let was_open = self.tx.in_flight();
                    let done = super::tokens_repo::bind_refresh(q, refresh)
                        .fetch_all(&mut *self.tx)
                        .await;
                    match done {
                        Ok(rows) => {
                            self.tx.landed(was_open);
                            Ok(rows.len() == 1)
                        }
                        Err(e) => {
                            let undo = $crate::sql::codes::redeem_undo!($dialect);
                            let undone = match undo {
                                Some(undo) => sqlx::query(undo).execute(&mut *self.tx).await.is_ok(),
                                None => true,
                            };
                            // Not undone: left in flight, so the connection is rolled back
                            // (or closed) when this is dropped.
                            if undone {
                                self.tx.landed(was_open);
                            }
                            Err(e.into())
                        }
                    }
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn set_code_token(
                    &mut self,
                    org: OrgId,
                    code_hash: &str,
                    jti: &str,
                    expires: Timestamp,
                ) -> Result<()> {
                    sqlx::query(
                        "UPDATE auth_codes SET access_jti = $3, access_expires = $4 \
                         WHERE org_id = $1 AND code_hash = $2",
                    )
                    .bind(org.0.to_string())
                    .bind(code_hash)
                    .bind(jti)
                    .bind(to_millis(expires))
                    .execute(&mut *self.tx)
                    .await?;
                    Ok(())
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn insert_device_code(&mut self, d: &$crate::DeviceCode) -> Result<()> {
                    sqlx::query(
                        "INSERT INTO device_codes (device_code_hash, user_code_hash, org_id, client_id, \
                         scope, status, user_id, auth_time, interval_secs, last_polled_at, created_at, \
                         expires_at, resources) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                    )
                    .bind(&d.device_code_hash)
                    .bind(&d.user_code_hash)
                    .bind(d.org_id.0.to_string())
                    .bind(&d.client_id)
                    .bind(&d.scope)
                    .bind(d.status.as_str())
                    .bind(d.user_id.map(|u| u.0.to_string()))
                    .bind(d.auth_time.map(to_millis))
                    .bind(d.interval_secs)
                    .bind(d.last_polled_at.map(to_millis))
                    .bind(to_millis(d.created_at))
                    .bind(to_millis(d.expires_at))
                    .bind(resources_to(&d.resources))
                    .execute(&mut *self.tx)
                    .await?;
                    Ok(())
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn find_device_code(
                    &mut self,
                    org: OrgId,
                    device_code_hash: &str,
                ) -> Result<Option<$crate::DeviceCode>> {
                    sqlx::query(&format!(
                        "SELECT {DEVICE_COLS} FROM device_codes WHERE org_id = $1 AND device_code_hash = $2"
                    ))
                    .bind(org.0.to_string())
                    .bind(device_code_hash)
                    .fetch_optional(&mut *self.tx)
                    .await?
                    .map(|r| device_row(&r))
                    .transpose()
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn find_device_by_user_code(
                    &mut self,
                    org: OrgId,
                    user_code_hash: &str,
                ) -> Result<Option<$crate::DeviceCode>> {
                    sqlx::query(&format!(
                        "SELECT {DEVICE_COLS} FROM device_codes WHERE org_id = $1 AND user_code_hash = $2"
                    ))
                    .bind(org.0.to_string())
                    .bind(user_code_hash)
                    .fetch_optional(&mut *self.tx)
                    .await?
                    .map(|r| device_row(&r))
                    .transpose()
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn decide_device_code(
                    &mut self,
                    org: OrgId,
                    user_code_hash: &str,
                    approve: bool,
                    user: UserId,
                    auth_time: Timestamp,
                    now: Timestamp,
                ) -> Result<bool> {
                    let status = if approve {
                        $crate::DeviceStatus::Approved
                    } else {
                        $crate::DeviceStatus::Denied
                    };
                    let done = sqlx::query(
                        "UPDATE device_codes SET status = $1, user_id = $2, auth_time = $3 \
                         WHERE org_id = $4 AND user_code_hash = $5 AND status = 'pending' \
                         AND expires_at > $6",
                    )
                    .bind(status.as_str())
                    .bind(user.0.to_string())
                    .bind(to_millis(auth_time))
                    .bind(org.0.to_string())
                    .bind(user_code_hash)
                    .bind(to_millis(now))
                    .execute(&mut *self.tx)
                    .await?;
                    Ok(done.rows_affected() == 1)
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn poll_device_code(
                    &mut self,
                    org: OrgId,
                    device_code_hash: &str,
                    at: Timestamp,
                    interval_secs: i64,
                ) -> Result<()> {
                    sqlx::query(
                        "UPDATE device_codes SET last_polled_at = $1, interval_secs = $2 \
                         WHERE org_id = $3 AND device_code_hash = $4",
                    )
                    .bind(to_millis(at))
                    .bind(interval_secs)
                    .bind(org.0.to_string())
                    .bind(device_code_hash)
                    .execute(&mut *self.tx)
                    .await?;
                    Ok(())
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn redeem_device_code(&mut self, org: OrgId, device_code_hash: &str) -> Result<bool> {
                    let done = sqlx::query(
                        "UPDATE device_codes SET status = 'redeemed' \
                         WHERE org_id = $1 AND device_code_hash = $2 AND status = 'approved'",
                    )
                    .bind(org.0.to_string())
                    .bind(device_code_hash)
                    .execute(&mut *self.tx)
                    .await?;
                    Ok(done.rows_affected() == 1)
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn insert_pushed(&mut self, p: &$crate::PushedRequest) -> Result<()> {
                    sqlx::query(
                        "INSERT INTO pushed_requests (org_id, handle_hash, client_id, params, \
                         created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(p.org_id.0.to_string())
                    .bind(&p.handle_hash)
                    .bind(&p.client_id)
                    .bind(&p.params)
                    .bind(to_millis(p.created_at))
                    .bind(to_millis(p.expires_at))
                    .execute(&mut *self.tx)
                    .await?;
                    Ok(())
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn find_pushed(
                    &mut self,
                    org: OrgId,
                    handle_hash: &str,
                ) -> Result<Option<$crate::PushedRequest>> {
                    sqlx::query(
                        "SELECT org_id, handle_hash, client_id, params, created_at, expires_at \
                         FROM pushed_requests WHERE org_id = $1 AND handle_hash = $2",
                    )
                    .bind(org.0.to_string())
                    .bind(handle_hash)
                    .fetch_optional(&mut *self.tx)
                    .await?
                    .map(|r| pushed_row(&r))
                    .transpose()
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn take_pushed(
                    &mut self,
                    org: OrgId,
                    handle_hash: &str,
                ) -> Result<Option<$crate::PushedRequest>> {
                    sqlx::query(
                        "DELETE FROM pushed_requests WHERE org_id = $1 AND handle_hash = $2 \
                         RETURNING org_id, handle_hash, client_id, params, created_at, expires_at",
                    )
                    .bind(org.0.to_string())
                    .bind(handle_hash)
                    .fetch_optional(&mut *self.tx)
                    .await?
                    .map(|r| pushed_row(&r))
                    .transpose()
                }
            }
        }
    };
}

pub(crate) use impl_codes_repo;
