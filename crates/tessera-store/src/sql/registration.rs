//! The portable SQL of [`crate::RegistrationRepo`]; [`impl_registration_repo!`] stamps it out for one backend's
//! transaction type.

macro_rules! impl_registration_repo {
    ($tx:ident, $row:ty) => {
        mod registration_repo {
            use super::$tx;
            use $crate::sql::prelude::*;

            fn initial_token_row(r: &$row) -> Result<$crate::InitialAccessToken> {
                let t = "initial_access_tokens";
                Ok($crate::InitialAccessToken {
                    id: r.try_get("id")?,
                    org_id: OrgId(uuid(t, &r.try_get::<String, _>("org_id")?)?),
                    token_hash: r.try_get("token_hash")?,
                    hint: r.try_get("hint")?,
                    created_at: from_millis(r.try_get("created_at")?),
                    expires_at: r.try_get::<Option<i64>, _>("expires_at")?.map(from_millis),
                    revoked_at: r.try_get::<Option<i64>, _>("revoked_at")?.map(from_millis),
                })
            }

            #[async_trait]
            impl $crate::RegistrationRepo for $tx {
                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn registration_policy(&mut self, org: OrgId) -> Result<Option<String>> {
                    Ok(sqlx::query("SELECT policy FROM registration_policies WHERE org_id = $1")
                        .bind(org.0.to_string())
                        .fetch_optional(&mut *self.tx)
                        .await?
                        .map(|r| r.try_get::<String, _>("policy"))
                        .transpose()?)
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn put_registration_policy(&mut self, org: OrgId, policy: &str, at: Timestamp) -> Result<()> {
                    sqlx::query(
                        "INSERT INTO registration_policies (org_id, policy, updated_at) VALUES ($1, $2, $3) \
                         ON CONFLICT (org_id) DO UPDATE SET policy = $2, updated_at = $3",
                    )
                    .bind(org.0.to_string())
                    .bind(policy)
                    .bind(to_millis(at))
                    .execute(&mut *self.tx)
                    .await?;
                    Ok(())
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn insert_initial_access_token(&mut self, x: &$crate::InitialAccessToken) -> Result<()> {
                    sqlx::query(
                        "INSERT INTO initial_access_tokens (id, org_id, token_hash, hint, created_at, \
                         expires_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    )
                    .bind(&x.id)
                    .bind(x.org_id.0.to_string())
                    .bind(&x.token_hash)
                    .bind(&x.hint)
                    .bind(to_millis(x.created_at))
                    .bind(x.expires_at.map(to_millis))
                    .bind(x.revoked_at.map(to_millis))
                    .execute(&mut *self.tx)
                    .await?;
                    Ok(())
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn find_initial_access_token(
                    &mut self,
                    org: OrgId,
                    token_hash: &str,
                ) -> Result<Option<$crate::InitialAccessToken>> {
                    sqlx::query(
                        "SELECT id, org_id, token_hash, hint, created_at, expires_at, revoked_at \
                         FROM initial_access_tokens WHERE org_id = $1 AND token_hash = $2",
                    )
                    .bind(org.0.to_string())
                    .bind(token_hash)
                    .fetch_optional(&mut *self.tx)
                    .await?
                    .map(|r| initial_token_row(&r))
                    .transpose()
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn list_initial_access_tokens(&mut self, org: OrgId) -> Result<Vec<$crate::InitialAccessToken>> {
                    sqlx::query(
                        "SELECT id, org_id, token_hash, hint, created_at, expires_at, revoked_at \
                         FROM initial_access_tokens WHERE org_id = $1 ORDER BY created_at DESC, id",
                    )
                    .bind(org.0.to_string())
                    .fetch_all(&mut *self.tx)
                    .await?
                    .iter()
                    .map(initial_token_row)
                    .collect()
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn revoke_initial_access_token(&mut self, org: OrgId, id: &str, at: Timestamp) -> Result<bool> {
                    let done = sqlx::query(
                        "UPDATE initial_access_tokens SET revoked_at = $1 \
                         WHERE org_id = $2 AND id = $3 AND revoked_at IS NULL",
                    )
                    .bind(to_millis(at))
                    .bind(org.0.to_string())
                    .bind(id)
                    .execute(&mut *self.tx)
                    .await?;
                    Ok(done.rows_affected() == 1)
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn set_registration_token(
                    &mut self,
                    org: OrgId,
                    client_id: &str,
                    token_hash: &str,
                    at: Timestamp,
                ) -> Result<()> {
                    sqlx::query(
                        "INSERT INTO client_registrations (org_id, client_id, token_hash, created_at) \
                         VALUES ($1, $2, $3, $4) \
                         ON CONFLICT (org_id, client_id) DO UPDATE SET token_hash = $3, created_at = $4",
                    )
                    .bind(org.0.to_string())
                    .bind(client_id)
                    .bind(token_hash)
                    .bind(to_millis(at))
                    .execute(&mut *self.tx)
                    .await?;
                    Ok(())
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn registration_token(&mut self, org: OrgId, client_id: &str) -> Result<Option<String>> {
                    Ok(sqlx::query(
                        "SELECT token_hash FROM client_registrations WHERE org_id = $1 AND client_id = $2",
                    )
                    .bind(org.0.to_string())
                    .bind(client_id)
                    .fetch_optional(&mut *self.tx)
                    .await?
                    .map(|r| r.try_get::<String, _>("token_hash"))
                    .transpose()?)
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn touch_registered_client(
                    &mut self,
                    org: OrgId,
                    client_id: &str,
                    at: Timestamp,
                ) -> Result<()> {
                    sqlx::query(
                        "UPDATE client_registrations SET last_used_at = $3 \
                         WHERE org_id = $1 AND client_id = $2",
                    )
                    .bind(org.0.to_string())
                    .bind(client_id)
                    .bind(to_millis(at))
                    .execute(&mut *self.tx)
                    .await?;
                    Ok(())
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn unused_registered_clients(
                    &mut self,
                    org: OrgId,
                    before: Timestamp,
                    limit: u32,
                ) -> Result<Vec<String>> {
                    Ok(sqlx::query_scalar(
                        "SELECT client_id FROM client_registrations WHERE org_id = $1 \
                         AND COALESCE(last_used_at, created_at) < $2 ORDER BY client_id LIMIT $3",
                    )
                    .bind(org.0.to_string())
                    .bind(to_millis(before))
                    .bind(i64::from(limit))
                    .fetch_all(&mut *self.tx)
                    .await?)
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn all_registration_policies(&mut self) -> Result<Vec<(OrgId, String)>> {
                    sqlx::query("SELECT org_id, policy FROM registration_policies ORDER BY org_id")
                        .fetch_all(&mut *self.tx)
                        .await?
                        .iter()
                        .map(|r| {
                            Ok((
                                OrgId(uuid("registration_policies", &r.try_get::<String, _>("org_id")?)?),
                                r.try_get::<String, _>("policy")?,
                            ))
                        })
                        .collect()
                }
            }
        }
    };
}

pub(crate) use impl_registration_repo;
