//! The portable SQL of [`crate::LimitRepo`]; [`impl_limits_repo!`] stamps it out for one
//! backend's transaction type. One upsert counts: the row's window restarts when it has ended
//! (both dialects read the old row on the right of `SET`).

macro_rules! impl_limits_repo {
    ($tx:ident, $row:ty) => {
        mod limits_repo {
            use super::$tx;
            use $crate::sql::prelude::*;

            #[async_trait]
            impl $crate::LimitRepo for $tx {
                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn count_event(
                    &mut self,
                    key: &str,
                    now: Timestamp,
                    window_seconds: i64,
                ) -> Result<i64> {
                    let now = to_millis(now);
                    let ended = now - window_seconds.saturating_mul(1000);
                    Ok(sqlx::query(
                        "INSERT INTO limit_counters (key, window_start, count) VALUES ($1, $2, 1) \
                         ON CONFLICT (key) DO UPDATE SET \
                         count = CASE WHEN limit_counters.window_start <= $3 THEN 1 \
                                      ELSE limit_counters.count + 1 END, \
                         window_start = CASE WHEN limit_counters.window_start <= $3 THEN $2 \
                                             ELSE limit_counters.window_start END \
                         RETURNING count",
                    )
                    .bind(key)
                    .bind(now)
                    .bind(ended)
                    .fetch_one(&mut *self.tx)
                    .await?
                    .try_get("count")?)
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn prune_limit_counters(&mut self, before: Timestamp) -> Result<u64> {
                    Ok(sqlx::query("DELETE FROM limit_counters WHERE window_start < $1")
                        .bind(to_millis(before))
                        .execute(&mut *self.tx)
                        .await?
                        .rows_affected())
                }
            }
        }
    };
}

pub(crate) use impl_limits_repo;
