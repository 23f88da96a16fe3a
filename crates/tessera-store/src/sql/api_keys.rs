//! The portable SQL of [`crate::ApiKeyRepo`]; [`impl_api_keys_repo!`] stamps it out for one backend's
//! transaction type.

pub(crate) const KEY_COLS: &str = "id, org_id, name, key_hash, hint, roles, permissions, \
     created_at, last_used_at, revoked_at";

macro_rules! impl_api_keys_repo {
    ($tx:ident, $row:ty) => {
        mod api_keys_repo {
            use super::$tx;
            use $crate::sql::prelude::*;
            use $crate::sql::api_keys::*;

            fn key_row(r: &$row) -> Result<ApiKeyRecord> {
                let t = "api_keys";
                let org: Option<String> = r.try_get("org_id")?;
                Ok(ApiKeyRecord {
                    key: ApiKey {
                        id: ApiKeyId(uuid(t, &r.try_get::<String, _>("id")?)?),
                        org_id: org.map(|o| uuid(t, &o).map(OrgId)).transpose()?,
                        name: ApiKeyName::parse(&r.try_get::<String, _>("name")?)
                            .map_err(|e| corrupt(t, e))?,
                        hint: r.try_get("hint")?,
                        roles: roles_from_json(t, &r.try_get::<String, _>("roles")?)?,
                        permissions: perms_from_json(t, &r.try_get::<String, _>("permissions")?)?,
                        created_at: from_millis(r.try_get("created_at")?),
                        last_used_at: r.try_get::<Option<i64>, _>("last_used_at")?.map(from_millis),
                        revoked_at: r.try_get::<Option<i64>, _>("revoked_at")?.map(from_millis),
                    },
                    key_hash: r.try_get("key_hash")?,
                })
            }

            #[async_trait]
            impl $crate::ApiKeyRepo for $tx {
                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn insert_api_key(&mut self, k: &ApiKey, key_hash: &str) -> Result<()> {
                    let q = format!(
                        "INSERT INTO api_keys ({KEY_COLS}) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
                    );
                    sqlx::query(&q)
                        .bind(k.id.0.to_string())
                        .bind(org_param(k.org_id))
                        .bind(k.name.as_str())
                        .bind(key_hash)
                        .bind(&k.hint)
                        .bind(roles_to_json(&k.roles))
                        .bind(perms_to_json(k.permissions))
                        .bind(to_millis(k.created_at))
                        .bind(k.last_used_at.map(to_millis))
                        .bind(k.revoked_at.map(to_millis))
                        .execute(&mut *self.tx)
                        .await?;
                    Ok(())
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn find_api_key_by_hash(&mut self, key_hash: &str) -> Result<Option<ApiKeyRecord>> {
                    let q = format!("SELECT {KEY_COLS} FROM api_keys WHERE key_hash = $1");
                    sqlx::query(&q)
                        .bind(key_hash)
                        .fetch_optional(&mut *self.tx)
                        .await?
                        .map(|r| key_row(&r))
                        .transpose()
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn find_api_key(&mut self, org: Option<OrgId>, id: ApiKeyId) -> Result<Option<ApiKey>> {
                    let q = format!(
                        "SELECT {KEY_COLS} FROM api_keys WHERE id = $1 AND org_id IS NOT DISTINCT FROM $2"
                    );
                    sqlx::query(&q)
                        .bind(id.0.to_string())
                        .bind(org_param(org))
                        .fetch_optional(&mut *self.tx)
                        .await?
                        .map(|r| key_row(&r).map(|k| k.key))
                        .transpose()
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn list_api_keys(&mut self, org: Option<OrgId>) -> Result<Vec<ApiKey>> {
                    let q = format!(
                        "SELECT {KEY_COLS} FROM api_keys WHERE org_id IS NOT DISTINCT FROM $1 \
                         ORDER BY created_at DESC, id"
                    );
                    sqlx::query(&q)
                        .bind(org_param(org))
                        .fetch_all(&mut *self.tx)
                        .await?
                        .iter()
                        .map(|r| key_row(r).map(|k| k.key))
                        .collect()
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn revoke_api_key(
                    &mut self,
                    org: Option<OrgId>,
                    id: ApiKeyId,
                    at: Timestamp,
                ) -> Result<bool> {
                    let done = sqlx::query(
                        "UPDATE api_keys SET revoked_at = $1 \
                         WHERE id = $2 AND org_id IS NOT DISTINCT FROM $3 AND revoked_at IS NULL",
                    )
                    .bind(to_millis(at))
                    .bind(id.0.to_string())
                    .bind(org_param(org))
                    .execute(&mut *self.tx)
                    .await?;
                    Ok(done.rows_affected() == 1)
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn touch_api_key(&mut self, id: ApiKeyId, at: Timestamp) -> Result<()> {
                    sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
                        .bind(to_millis(at))
                        .bind(id.0.to_string())
                        .execute(&mut *self.tx)
                        .await?;
                    Ok(())
                }
            }
        }
    };
}

pub(crate) use impl_api_keys_repo;
