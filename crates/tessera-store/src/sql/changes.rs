//! The portable SQL of [`crate::ChangeFeed`]; [`impl_changes_repo!`] stamps it out for one backend's
//! transaction type.

macro_rules! impl_changes_repo {
    ($tx:ident, $row:ty) => {
        mod changes_repo {
            use super::$tx;
            use $crate::sql::prelude::*;

            fn change_row(r: &$row) -> Result<Change> {
                let org: Option<String> = r.try_get("org_id")?;
                Ok(Change {
                    seq: r.try_get("seq")?,
                    org_id: org.map(|o| uuid("changes", &o).map(OrgId)).transpose()?,
                    kind: r.try_get("kind")?,
                    key: r.try_get("key")?,
                })
            }

            #[async_trait]
            impl $crate::ChangeFeed for $tx {
                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn record_change(
                    &mut self,
                    org: Option<OrgId>,
                    kind: &str,
                    key: &str,
                    at: Timestamp,
                ) -> Result<()> {
                    sqlx::query(
                        "INSERT INTO changes (org_id, kind, key, created_at) VALUES ($1, $2, $3, $4)",
                    )
                    .bind(org_param(org))
                    .bind(kind)
                    .bind(key)
                    .bind(to_millis(at))
                    .execute(&mut *self.tx)
                    .await?;
                    Ok(())
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn changes_since(&mut self, seq: i64, limit: u32) -> Result<Vec<Change>> {
                    sqlx::query(
                        "SELECT seq, org_id, kind, key FROM changes WHERE seq > $1 ORDER BY seq LIMIT $2",
                    )
                    .bind(seq)
                    .bind(i64::from(limit))
                    .fetch_all(&mut *self.tx)
                    .await?
                    .iter()
                    .map(change_row)
                    .collect()
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn recent_changes(
                    &mut self,
                    upto: i64,
                    since: Timestamp,
                    limit: u32,
                ) -> Result<Vec<Change>> {
                    sqlx::query(
                        "SELECT seq, org_id, kind, key FROM changes WHERE seq <= $1 AND created_at >= $2 \
                         ORDER BY seq DESC LIMIT $3",
                    )
                    .bind(upto)
                    .bind(to_millis(since))
                    .bind(i64::from(limit))
                    .fetch_all(&mut *self.tx)
                    .await?
                    .iter()
                    .map(change_row)
                    .collect()
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn last_change_seq(&mut self) -> Result<i64> {
                    Ok(sqlx::query("SELECT COALESCE(MAX(seq), 0) AS n FROM changes")
                        .fetch_one(&mut *self.tx)
                        .await?
                        .try_get("n")?)
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn prune_changes(&mut self, older_than: Timestamp) -> Result<u64> {
                    Ok(sqlx::query("DELETE FROM changes WHERE created_at < $1")
                        .bind(to_millis(older_than))
                        .execute(&mut *self.tx)
                        .await?
                        .rows_affected())
                }
            }
        }
    };
}

pub(crate) use impl_changes_repo;
