//! The portable SQL of [`crate::TokenRepo`]; [`impl_tokens_repo!`] stamps it out for one backend's
//! transaction type.

/// `INSERT INTO refresh_tokens (...)`, its sixteen columns in the order of
/// `tokens_repo::bind_refresh` (also used by the redemption of a code, see `sql/codes.rs`).
macro_rules! refresh_insert {
    () => {
        "INSERT INTO refresh_tokens (token_hash, org_id, family_id, client_id, user_id, scope, \
         auth_time, created_at, expires_at, used_at, revoked_at, claims, resources, dpop_jkt, sid, \
         amr)"
    };
}
pub(crate) use refresh_insert;

macro_rules! impl_tokens_repo {
    ($tx:ident, $row:ty) => {
        mod tokens_repo {
            use super::$tx;
            use $crate::sql::prelude::*;

            fn refresh_row(r: &$row) -> Result<$crate::RefreshToken> {
                let t = "refresh_tokens";
                Ok($crate::RefreshToken {
                    token_hash: r.try_get("token_hash")?,
                    org_id: OrgId(uuid(t, &r.try_get::<String, _>("org_id")?)?),
                    family_id: r.try_get("family_id")?,
                    client_id: r.try_get("client_id")?,
                    user_id: UserId(uuid(t, &r.try_get::<String, _>("user_id")?)?),
                    scope: r.try_get("scope")?,
                    auth_time: from_millis(r.try_get("auth_time")?),
                    created_at: from_millis(r.try_get("created_at")?),
                    expires_at: from_millis(r.try_get("expires_at")?),
                    used_at: r.try_get::<Option<i64>, _>("used_at")?.map(from_millis),
                    revoked_at: r.try_get::<Option<i64>, _>("revoked_at")?.map(from_millis),
                    claims: claims_from(t, r.try_get("claims")?)?,
                    resources: resources_from(t, r.try_get("resources")?)?,
                    dpop_jkt: r.try_get("dpop_jkt")?,
                    sid: r.try_get("sid")?,
                    amr: r.try_get("amr")?,
                })
            }

            type Db = <$row as sqlx::Row>::Database;
            type Query<'q> = sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments<'q>>;

            /// Binds a refresh token's sixteen values in the order of `refresh_insert!`.
            pub(super) fn bind_refresh<'q>(q: Query<'q>, x: &'q $crate::RefreshToken) -> Query<'q> {
                bind_values(q, refresh_values(x))
            }

            #[async_trait]
            impl $crate::TokenRepo for $tx {
                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn revoke_token(
                    &mut self,
                    org: OrgId,
                    jti: &str,
                    expires_at: Timestamp,
                    at: Timestamp,
                ) -> Result<bool> {
                    let done = sqlx::query(
                        "INSERT INTO revoked_tokens (org_id, jti, expires_at, revoked_at) \
                         VALUES ($1, $2, $3, $4) ON CONFLICT (org_id, jti) DO NOTHING",
                    )
                    .bind(org.0.to_string())
                    .bind(jti)
                    .bind(to_millis(expires_at))
                    .bind(to_millis(at))
                    .execute(&mut *self.tx)
                    .await?;
                    Ok(done.rows_affected() == 1)
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn is_token_revoked(&mut self, org: OrgId, jti: &str) -> Result<bool> {
                    Ok(sqlx::query("SELECT 1 AS one FROM revoked_tokens WHERE org_id = $1 AND jti = $2")
                        .bind(org.0.to_string())
                        .bind(jti)
                        .fetch_optional(&mut *self.tx)
                        .await?
                        .is_some())
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn live_revoked_tokens(
                    &mut self,
                    org: OrgId,
                    now: Timestamp,
                    limit: u32,
                ) -> Result<Vec<String>> {
                    Ok(sqlx::query_scalar(
                        "SELECT jti FROM revoked_tokens WHERE org_id = $1 AND expires_at > $2 LIMIT $3",
                    )
                    .bind(org.0.to_string())
                    .bind(to_millis(now))
                    .bind(i64::from(limit))
                    .fetch_all(&mut *self.tx)
                    .await?)
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn prune_revoked_tokens(&mut self, now: Timestamp) -> Result<u64> {
                    Ok(sqlx::query("DELETE FROM revoked_tokens WHERE expires_at < $1")
                        .bind(to_millis(now))
                        .execute(&mut *self.tx)
                        .await?
                        .rows_affected())
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn use_client_assertion(
                    &mut self,
                    org: OrgId,
                    client_id: &str,
                    jti: &str,
                    expires_at: Timestamp,
                ) -> Result<bool> {
                    let done = sqlx::query(
                        "INSERT INTO client_assertions (org_id, client_id, jti, expires_at) \
                         VALUES ($1, $2, $3, $4) ON CONFLICT (org_id, client_id, jti) DO NOTHING",
                    )
                    .bind(org.0.to_string())
                    .bind(client_id)
                    .bind(jti)
                    .bind(to_millis(expires_at))
                    .execute(&mut *self.tx)
                    .await?;
                    Ok(done.rows_affected() == 1)
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn insert_refresh(&mut self, x: &$crate::RefreshToken) -> Result<()> {
                    let q = sqlx::query(concat!(
                        $crate::sql::tokens::refresh_insert!(),
                        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
                    ));
                    bind_refresh(q, x).execute(&mut *self.tx).await?;
                    Ok(())
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn find_refresh(&mut self, org: OrgId, token_hash: &str) -> Result<Option<$crate::RefreshToken>> {
                    sqlx::query(
                        "SELECT token_hash, org_id, family_id, client_id, user_id, scope, auth_time, \
                         created_at, expires_at, used_at, revoked_at, claims, resources, dpop_jkt, sid, amr FROM refresh_tokens \
                         WHERE org_id = $1 AND token_hash = $2",
                    )
                    .bind(org.0.to_string())
                    .bind(token_hash)
                    .fetch_optional(&mut *self.tx)
                    .await?
                    .map(|r| refresh_row(&r))
                    .transpose()
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn use_refresh(&mut self, org: OrgId, token_hash: &str, at: Timestamp) -> Result<bool> {
                    Ok(sqlx::query(
                        "UPDATE refresh_tokens SET used_at = $3 WHERE org_id = $1 AND token_hash = $2 \
                         AND used_at IS NULL AND revoked_at IS NULL",
                    )
                    .bind(org.0.to_string())
                    .bind(token_hash)
                    .bind(to_millis(at))
                    .execute(&mut *self.tx)
                    .await?
                    .rows_affected()
                        == 1)
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn revoke_refresh_family(&mut self, org: OrgId, family_id: &str, at: Timestamp) -> Result<u64> {
                    Ok(sqlx::query(
                        "UPDATE refresh_tokens SET revoked_at = $3 WHERE org_id = $1 AND family_id = $2 \
                         AND revoked_at IS NULL",
                    )
                    .bind(org.0.to_string())
                    .bind(family_id)
                    .bind(to_millis(at))
                    .execute(&mut *self.tx)
                    .await?
                    .rows_affected())
                }
            }
        }
    };
}

pub(crate) use impl_tokens_repo;
