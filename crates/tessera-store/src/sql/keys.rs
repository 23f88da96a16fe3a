//! The portable SQL of [`crate::SigningKeyRepo`]; [`impl_keys_repo!`] stamps it out for one backend's
//! transaction type.

macro_rules! impl_keys_repo {
    ($tx:ident, $row:ty) => {
        mod keys_repo {
            use super::$tx;
            use $crate::sql::prelude::*;

            fn signing_key_row(r: &$row) -> Result<$crate::SigningKeyRecord> {
                let t = "signing_keys";
                Ok($crate::SigningKeyRecord {
                    id: r.try_get("id")?,
                    org_id: OrgId(uuid(t, &r.try_get::<String, _>("org_id")?)?),
                    alg: r.try_get("alg")?,
                    private_key: r.try_get("private_key")?,
                    public_jwk: r.try_get("public_jwk")?,
                    created_at: from_millis(r.try_get("created_at")?),
                    retired_at: r.try_get::<Option<i64>, _>("retired_at")?.map(from_millis),
                    publish_until: r.try_get::<Option<i64>, _>("publish_until")?.map(from_millis),
                })
            }

            #[async_trait]
            impl $crate::SigningKeyRepo for $tx {
                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn lock_signing_keys(&mut self, org: OrgId) -> Result<()> {
                    // A write to the row takes its lock on PostgreSQL; SQLite has one writer.
                    sqlx::query("UPDATE organizations SET updated_at = updated_at WHERE id = $1")
                        .bind(org.0.to_string())
                        .execute(&mut *self.tx)
                        .await?;
                    Ok(())
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn insert_signing_key(&mut self, k: &$crate::SigningKeyRecord) -> Result<()> {
                    sqlx::query(
                        "INSERT INTO signing_keys (id, org_id, alg, private_key, public_jwk, created_at, \
                         retired_at, publish_until) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    )
                    .bind(&k.id)
                    .bind(k.org_id.0.to_string())
                    .bind(&k.alg)
                    .bind(&k.private_key)
                    .bind(&k.public_jwk)
                    .bind(to_millis(k.created_at))
                    .bind(k.retired_at.map(to_millis))
                    .bind(k.publish_until.map(to_millis))
                    .execute(&mut *self.tx)
                    .await?;
                    Ok(())
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn published_signing_keys(
                    &mut self,
                    org: OrgId,
                    now: Timestamp,
                ) -> Result<Vec<$crate::SigningKeyRecord>> {
                    sqlx::query(
                        "SELECT id, org_id, alg, private_key, public_jwk, created_at, retired_at, \
                         publish_until FROM signing_keys WHERE org_id = $1 \
                         AND (retired_at IS NULL OR publish_until > $2) ORDER BY created_at, id",
                    )
                    .bind(org.0.to_string())
                    .bind(to_millis(now))
                    .fetch_all(&mut *self.tx)
                    .await?
                    .iter()
                    .map(signing_key_row)
                    .collect()
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn retire_signing_keys(
                    &mut self,
                    org: OrgId,
                    alg: &str,
                    at: Timestamp,
                    publish_until: Timestamp,
                ) -> Result<u64> {
                    Ok(sqlx::query(
                        "UPDATE signing_keys SET retired_at = $3, publish_until = $4 \
                         WHERE org_id = $1 AND alg = $2 AND retired_at IS NULL",
                    )
                    .bind(org.0.to_string())
                    .bind(alg)
                    .bind(to_millis(at))
                    .bind(to_millis(publish_until))
                    .execute(&mut *self.tx)
                    .await?
                    .rows_affected())
                }
            }
        }
    };
}

pub(crate) use impl_keys_repo;
