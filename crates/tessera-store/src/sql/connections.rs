//! The portable SQL of the connections repository; [`impl_connection_tx!`] stamps
//! [`crate::ConnectionTx`] out for one backend's transaction type. `$claim_lock` is what the
//! claim's inner `SELECT` ends with: `FOR UPDATE SKIP LOCKED` on PostgreSQL (two nodes never
//! wait on, nor take, each other's rows), nothing on SQLite (one writer at a time already).

pub(crate) const CONN_COLS: &str = "id, org_id, platform, kind, channel_id, channel_name, \
     scopes, access_token, refresh_token, token_expires_at, connected_at, updated_at, \
     last_refreshed_at, next_refresh_at, next_validate_at, refresh_attempts, refresh_failed_at, \
     refresh_error, lease_owner, lease_until";
pub(crate) const CRED_COLS: &str =
    "id, org_id, platform, client_id, client_secret, client_id_hint, created_at, updated_at";
pub(crate) const STATE_COLS: &str = "state_hash, org_id, platform, kind, actor_type, actor_id, \
     actor_name, code_verifier, created_at, expires_at, used_at";
pub(crate) const INTEGRATION_COLS: &str = "id, org_id, kind, label, host, port, endpoint, \
     remote_access, password, enabled, created_at, updated_at";
pub(crate) const SE_COLS: &str = "id, org_id, platform, label, token, hint, created_at";

macro_rules! impl_connection_tx {
    ($tx:ident, $row:ty, $claim_lock:expr) => {
        mod connection_tx {
            use super::$tx;
            use async_trait::async_trait;
            use sqlx::Row as _;
            use tessera_domain::clock::{from_millis, to_millis};
            use tessera_domain::connection::{IntegrationKind, IntegrationSettings};
            use tessera_domain::{Actor, ConnectionKind, OrgId, Platform, Timestamp};
            use $crate::repo::connections::*;
            use $crate::sql::{corrupt, uuid};
            use $crate::sql::connections::*;
            use $crate::Result;

            fn org_id(t: &'static str, r: &$row) -> Result<OrgId> {
                Ok(OrgId(uuid(t, &r.try_get::<String, _>("org_id")?)?))
            }

            fn platform(t: &'static str, r: &$row) -> Result<Platform> {
                Platform::parse(&r.try_get::<String, _>("platform")?).map_err(|e| corrupt(t, e))
            }

            fn kind(t: &'static str, r: &$row) -> Result<ConnectionKind> {
                let k: String = r.try_get("kind")?;
                ConnectionKind::parse(&k).ok_or_else(|| corrupt(t, format!("kind '{k}'")))
            }

            fn ts(r: &$row, col: &str) -> Result<Option<Timestamp>> {
                Ok(r.try_get::<Option<i64>, _>(col)?.map(from_millis))
            }

            fn cred_row(r: &$row) -> Result<CredentialRecord> {
                let t = "platform_credentials";
                Ok(CredentialRecord {
                    id: r.try_get("id")?,
                    org_id: org_id(t, r)?,
                    platform: platform(t, r)?,
                    client_id: r.try_get("client_id")?,
                    client_secret: r.try_get("client_secret")?,
                    client_id_hint: r.try_get("client_id_hint")?,
                    created_at: from_millis(r.try_get("created_at")?),
                    updated_at: from_millis(r.try_get("updated_at")?),
                })
            }

            fn conn_row(r: &$row) -> Result<ConnectionRecord> {
                let t = "connections";
                let scopes: String = r.try_get("scopes")?;
                Ok(ConnectionRecord {
                    id: r.try_get("id")?,
                    org_id: org_id(t, r)?,
                    platform: platform(t, r)?,
                    kind: kind(t, r)?,
                    channel_id: r.try_get("channel_id")?,
                    channel_name: r.try_get("channel_name")?,
                    scopes: serde_json::from_str(&scopes).map_err(|e| corrupt(t, e))?,
                    access_token: r.try_get("access_token")?,
                    refresh_token: r.try_get("refresh_token")?,
                    token_expires_at: ts(r, "token_expires_at")?,
                    connected_at: from_millis(r.try_get("connected_at")?),
                    updated_at: from_millis(r.try_get("updated_at")?),
                    last_refreshed_at: ts(r, "last_refreshed_at")?,
                    next_refresh_at: ts(r, "next_refresh_at")?,
                    next_validate_at: ts(r, "next_validate_at")?,
                    refresh_attempts: r.try_get("refresh_attempts")?,
                    refresh_failed_at: ts(r, "refresh_failed_at")?,
                    refresh_error: r.try_get("refresh_error")?,
                    lease_owner: r.try_get("lease_owner")?,
                    lease_until: ts(r, "lease_until")?,
                })
            }

            fn state_row(r: &$row) -> Result<ConnectionState> {
                let t = "connection_states";
                Ok(ConnectionState {
                    state_hash: r.try_get("state_hash")?,
                    org_id: org_id(t, r)?,
                    platform: platform(t, r)?,
                    kind: kind(t, r)?,
                    actor: Actor {
                        kind: r.try_get("actor_type")?,
                        id: r.try_get("actor_id")?,
                        name: r.try_get("actor_name")?,
                    },
                    code_verifier: r.try_get("code_verifier")?,
                    created_at: from_millis(r.try_get("created_at")?),
                    expires_at: from_millis(r.try_get("expires_at")?),
                    used_at: ts(r, "used_at")?,
                })
            }

            fn integration_row(r: &$row) -> Result<IntegrationRecord> {
                let t = "integrations";
                let kind: String = r.try_get("kind")?;
                let port: i32 = r.try_get("port")?;
                Ok(IntegrationRecord {
                    id: r.try_get("id")?,
                    org_id: org_id(t, r)?,
                    settings: IntegrationSettings {
                        kind: IntegrationKind::parse(&kind).map_err(|e| corrupt(t, e))?,
                        label: r.try_get("label")?,
                        host: r.try_get("host")?,
                        port: u16::try_from(port).map_err(|e| corrupt(t, e))?,
                        endpoint: r.try_get("endpoint")?,
                        remote_access: r.try_get("remote_access")?,
                        enabled: r.try_get("enabled")?,
                    },
                    password: r.try_get("password")?,
                    created_at: from_millis(r.try_get("created_at")?),
                    updated_at: from_millis(r.try_get("updated_at")?),
                })
            }

            fn se_row(r: &$row) -> Result<StreamElementsTokenRecord> {
                let t = "streamelements_tokens";
                Ok(StreamElementsTokenRecord {
                    id: r.try_get("id")?,
                    org_id: org_id(t, r)?,
                    platform: platform(t, r)?,
                    label: r.try_get("label")?,
                    token: r.try_get("token")?,
                    hint: r.try_get("hint")?,
                    created_at: from_millis(r.try_get("created_at")?),
                })
            }

            #[async_trait]
            impl ConnectionTx for $tx {
                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn disabled_providers(&mut self) -> Result<Vec<Platform>> {
                    let rows = sqlx::query("SELECT platform FROM providers WHERE enabled = $1")
                        .bind(false)
                        .fetch_all(&mut *self.tx)
                        .await?;
                    rows.iter().map(|r| platform("providers", r)).collect()
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn set_provider_enabled(
                    &mut self,
                    p: Platform,
                    enabled: bool,
                    at: Timestamp,
                ) -> Result<()> {
                    sqlx::query(
                        "INSERT INTO providers (platform, enabled, updated_at) VALUES ($1, $2, $3) \
                         ON CONFLICT (platform) DO UPDATE SET enabled = $2, updated_at = $3",
                    )
                    .bind(p.as_str())
                    .bind(enabled)
                    .bind(to_millis(at))
                    .execute(&mut *self.tx)
                    .await?;
                    Ok(())
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn find_credentials(
                    &mut self,
                    org: OrgId,
                    p: Platform,
                ) -> Result<Option<CredentialRecord>> {
                    sqlx::query(&format!(
                        "SELECT {CRED_COLS} FROM platform_credentials WHERE org_id = $1 AND platform = $2"
                    ))
                    .bind(org.0.to_string())
                    .bind(p.as_str())
                    .fetch_optional(&mut *self.tx)
                    .await?
                    .map(|r| cred_row(&r))
                    .transpose()
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn list_credentials(&mut self, org: OrgId) -> Result<Vec<CredentialRecord>> {
                    let rows = sqlx::query(&format!(
                        "SELECT {CRED_COLS} FROM platform_credentials WHERE org_id = $1 ORDER BY platform"
                    ))
                    .bind(org.0.to_string())
                    .fetch_all(&mut *self.tx)
                    .await?;
                    rows.iter().map(cred_row).collect()
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn put_credentials(&mut self, c: &CredentialRecord) -> Result<()> {
                    sqlx::query(
                        "INSERT INTO platform_credentials (id, org_id, platform, client_id, \
                         client_secret, client_id_hint, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                         ON CONFLICT (id) DO UPDATE SET client_id = $4, client_secret = $5, \
                         client_id_hint = $6, updated_at = $8",
                    )
                    .bind(&c.id)
                    .bind(c.org_id.0.to_string())
                    .bind(c.platform.as_str())
                    .bind(&c.client_id)
                    .bind(&c.client_secret)
                    .bind(&c.client_id_hint)
                    .bind(to_millis(c.created_at))
                    .bind(to_millis(c.updated_at))
                    .execute(&mut *self.tx)
                    .await?;
                    Ok(())
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn delete_credentials(&mut self, org: OrgId, p: Platform) -> Result<bool> {
                    let done = sqlx::query(
                        "DELETE FROM platform_credentials WHERE org_id = $1 AND platform = $2",
                    )
                    .bind(org.0.to_string())
                    .bind(p.as_str())
                    .execute(&mut *self.tx)
                    .await?;
                    Ok(done.rows_affected() > 0)
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn find_connection(
                    &mut self,
                    org: OrgId,
                    p: Platform,
                    kind: ConnectionKind,
                ) -> Result<Option<ConnectionRecord>> {
                    sqlx::query(&format!(
                        "SELECT {CONN_COLS} FROM connections \
                         WHERE org_id = $1 AND platform = $2 AND kind = $3"
                    ))
                    .bind(org.0.to_string())
                    .bind(p.as_str())
                    .bind(kind.as_str())
                    .fetch_optional(&mut *self.tx)
                    .await?
                    .map(|r| conn_row(&r))
                    .transpose()
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn find_connection_by_id(
                    &mut self,
                    id: &str,
                ) -> Result<Option<ConnectionRecord>> {
                    sqlx::query(&format!("SELECT {CONN_COLS} FROM connections WHERE id = $1"))
                        .bind(id)
                        .fetch_optional(&mut *self.tx)
                        .await?
                        .map(|r| conn_row(&r))
                        .transpose()
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn list_connections(&mut self, org: OrgId) -> Result<Vec<ConnectionRecord>> {
                    let rows = sqlx::query(&format!(
                        "SELECT {CONN_COLS} FROM connections WHERE org_id = $1 ORDER BY platform, kind"
                    ))
                    .bind(org.0.to_string())
                    .fetch_all(&mut *self.tx)
                    .await?;
                    rows.iter().map(conn_row).collect()
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn put_connection(&mut self, c: &ConnectionRecord) -> Result<()> {
                    sqlx::query(
                        "INSERT INTO connections (id, org_id, platform, kind, channel_id, \
                         channel_name, scopes, access_token, refresh_token, token_expires_at, \
                         connected_at, updated_at, last_refreshed_at, next_refresh_at, \
                         next_validate_at, refresh_attempts, refresh_failed_at, refresh_error, \
                         lease_owner, lease_until) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
                         $10, $11, $12, $13, $14, $15, $16, $17, $18, NULL, NULL) \
                         ON CONFLICT (id) DO UPDATE SET channel_id = $5, channel_name = $6, \
                         scopes = $7, access_token = $8, refresh_token = $9, \
                         token_expires_at = $10, updated_at = $12, last_refreshed_at = $13, \
                         next_refresh_at = $14, next_validate_at = $15, refresh_attempts = $16, \
                         refresh_failed_at = $17, refresh_error = $18, lease_owner = NULL, \
                         lease_until = NULL",
                    )
                    .bind(&c.id)
                    .bind(c.org_id.0.to_string())
                    .bind(c.platform.as_str())
                    .bind(c.kind.as_str())
                    .bind(&c.channel_id)
                    .bind(&c.channel_name)
                    .bind(serde_json::to_string(&c.scopes).unwrap_or_else(|_| "[]".into()))
                    .bind(&c.access_token)
                    .bind(&c.refresh_token)
                    .bind(c.token_expires_at.map(to_millis))
                    .bind(to_millis(c.connected_at))
                    .bind(to_millis(c.updated_at))
                    .bind(c.last_refreshed_at.map(to_millis))
                    .bind(c.next_refresh_at.map(to_millis))
                    .bind(c.next_validate_at.map(to_millis))
                    .bind(c.refresh_attempts)
                    .bind(c.refresh_failed_at.map(to_millis))
                    .bind(&c.refresh_error)
                    .execute(&mut *self.tx)
                    .await?;
                    Ok(())
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn delete_connection(
                    &mut self,
                    org: OrgId,
                    p: Platform,
                    kind: ConnectionKind,
                ) -> Result<bool> {
                    let done = sqlx::query(
                        "DELETE FROM connections WHERE org_id = $1 AND platform = $2 AND kind = $3",
                    )
                    .bind(org.0.to_string())
                    .bind(p.as_str())
                    .bind(kind.as_str())
                    .execute(&mut *self.tx)
                    .await?;
                    Ok(done.rows_affected() > 0)
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn claim_due_connections(
                    &mut self,
                    owner: &str,
                    now: Timestamp,
                    lease_until: Timestamp,
                    limit: u32,
                ) -> Result<Vec<ConnectionRecord>> {
                    // The outer condition repeats the lease test: on PostgreSQL a row locked
                    // by the inner SELECT is re-checked after any concurrent update.
                    let rows = sqlx::query(&format!(
                        "UPDATE connections SET lease_owner = $1, lease_until = $2 \
                         WHERE id IN (SELECT id FROM connections \
                           WHERE refresh_failed_at IS NULL \
                           AND ((refresh_token IS NOT NULL AND next_refresh_at <= $3) \
                                OR next_validate_at <= $3) \
                           AND (lease_until IS NULL OR lease_until < $3) \
                           ORDER BY COALESCE(next_refresh_at, next_validate_at) LIMIT $4 {}) \
                         AND (lease_until IS NULL OR lease_until < $3) \
                         RETURNING {CONN_COLS}",
                        $claim_lock
                    ))
                    .bind(owner)
                    .bind(to_millis(lease_until))
                    .bind(to_millis(now))
                    .bind(i64::from(limit))
                    .fetch_all(&mut *self.tx)
                    .await?;
                    rows.iter().map(conn_row).collect()
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn claim_connection(
                    &mut self,
                    id: &str,
                    owner: &str,
                    now: Timestamp,
                    lease_until: Timestamp,
                ) -> Result<Option<ConnectionRecord>> {
                    sqlx::query(&format!(
                        "UPDATE connections SET lease_owner = $1, lease_until = $2 \
                         WHERE id = $3 AND (lease_until IS NULL OR lease_until < $4) \
                         RETURNING {CONN_COLS}"
                    ))
                    .bind(owner)
                    .bind(to_millis(lease_until))
                    .bind(id)
                    .bind(to_millis(now))
                    .fetch_optional(&mut *self.tx)
                    .await?
                    .map(|r| conn_row(&r))
                    .transpose()
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn finish_connection_work(
                    &mut self,
                    id: &str,
                    owner: &str,
                    result: &WorkResult,
                ) -> Result<bool> {
                                        let q = match result {
                        WorkResult::Refreshed {
                            access_token,
                            refresh_token,
                            token_expires_at,
                            next_refresh_at,
                            next_validate_at,
                            at,
                        } => sqlx::query(
                            "UPDATE connections SET access_token = $3, \
                             refresh_token = COALESCE($4, refresh_token), token_expires_at = $5, \
                             next_refresh_at = $6, next_validate_at = $7, updated_at = $8, \
                             last_refreshed_at = $8, refresh_attempts = 0, \
                             refresh_failed_at = NULL, refresh_error = NULL, lease_owner = NULL, lease_until = NULL \
                             WHERE id = $1 AND lease_owner = $2",
                        )
                        .bind(id)
                        .bind(owner)
                        .bind(access_token.clone())
                        .bind(refresh_token.clone())
                        .bind(token_expires_at.map(to_millis))
                        .bind(next_refresh_at.map(to_millis))
                        .bind(next_validate_at.map(to_millis))
                        .bind(to_millis(*at)),
                        WorkResult::Failed { error, at } => sqlx::query(
                            "UPDATE connections SET refresh_failed_at = $3, refresh_error = $4, \
                             next_refresh_at = NULL, next_validate_at = NULL, lease_owner = NULL, lease_until = NULL \
                             WHERE id = $1 AND lease_owner = $2",
                        )
                        .bind(id)
                        .bind(owner)
                        .bind(to_millis(*at))
                        .bind(error.clone()),
                        WorkResult::Retry {
                            error,
                            attempts,
                            next_refresh_at,
                        } => sqlx::query(
                            "UPDATE connections SET refresh_error = $3, refresh_attempts = $4, \
                             next_refresh_at = $5, lease_owner = NULL, lease_until = NULL WHERE id = $1 AND lease_owner = $2",
                        )
                        .bind(id)
                        .bind(owner)
                        .bind(error.clone())
                        .bind(*attempts)
                        .bind(to_millis(*next_refresh_at)),
                        WorkResult::Validated { next_validate_at } => sqlx::query(
                            "UPDATE connections SET next_validate_at = $3, lease_owner = NULL, lease_until = NULL \
                             WHERE id = $1 AND lease_owner = $2",
                        )
                        .bind(id)
                        .bind(owner)
                        .bind(to_millis(*next_validate_at)),
                    };
                    Ok(q.execute(&mut *self.tx).await?.rows_affected() == 1)
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn connection_stats(&mut self) -> Result<ConnectionStats> {
                    let r = sqlx::query(
                        "SELECT COUNT(*) AS n, \
                         SUM(CASE WHEN refresh_failed_at IS NULL THEN 0 ELSE 1 END) AS failed, \
                         MIN(CASE WHEN refresh_failed_at IS NULL \
                             THEN COALESCE(last_refreshed_at, connected_at) END) AS oldest \
                         FROM connections",
                    )
                    .fetch_one(&mut *self.tx)
                    .await?;
                    Ok(ConnectionStats {
                        connections: r.try_get("n")?,
                        failed: r.try_get::<Option<i64>, _>("failed")?.unwrap_or(0),
                        oldest_token_at: r.try_get::<Option<i64>, _>("oldest")?.map(from_millis),
                    })
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn insert_connection_state(&mut self, s: &ConnectionState) -> Result<()> {
                    sqlx::query(
                        "INSERT INTO connection_states (state_hash, org_id, platform, kind, \
                         actor_type, actor_id, actor_name, code_verifier, created_at, expires_at, \
                         used_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                    )
                    .bind(&s.state_hash)
                    .bind(s.org_id.0.to_string())
                    .bind(s.platform.as_str())
                    .bind(s.kind.as_str())
                    .bind(&s.actor.kind)
                    .bind(&s.actor.id)
                    .bind(&s.actor.name)
                    .bind(&s.code_verifier)
                    .bind(to_millis(s.created_at))
                    .bind(to_millis(s.expires_at))
                    .bind(s.used_at.map(to_millis))
                    .execute(&mut *self.tx)
                    .await?;
                    Ok(())
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn take_connection_state(
                    &mut self,
                    state_hash: &str,
                    at: Timestamp,
                ) -> Result<Option<ConnectionState>> {
                    sqlx::query(&format!(
                        "UPDATE connection_states SET used_at = $1 \
                         WHERE state_hash = $2 AND used_at IS NULL RETURNING {STATE_COLS}"
                    ))
                    .bind(to_millis(at))
                    .bind(state_hash)
                    .fetch_optional(&mut *self.tx)
                    .await?
                    .map(|r| state_row(&r))
                    .transpose()
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn insert_integration(&mut self, i: &IntegrationRecord) -> Result<()> {
                    sqlx::query(
                        "INSERT INTO integrations (id, org_id, kind, label, host, port, endpoint, \
                         remote_access, password, enabled, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                    )
                    .bind(&i.id)
                    .bind(i.org_id.0.to_string())
                    .bind(i.settings.kind.as_str())
                    .bind(&i.settings.label)
                    .bind(&i.settings.host)
                    .bind(i32::from(i.settings.port))
                    .bind(&i.settings.endpoint)
                    .bind(i.settings.remote_access)
                    .bind(&i.password)
                    .bind(i.settings.enabled)
                    .bind(to_millis(i.created_at))
                    .bind(to_millis(i.updated_at))
                    .execute(&mut *self.tx)
                    .await?;
                    Ok(())
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn update_integration(&mut self, i: &IntegrationRecord) -> Result<bool> {
                    let done = sqlx::query(
                        "UPDATE integrations SET label = $3, host = $4, port = $5, endpoint = $6, \
                         remote_access = $7, password = $8, enabled = $9, updated_at = $10 \
                         WHERE org_id = $1 AND id = $2",
                    )
                    .bind(i.org_id.0.to_string())
                    .bind(&i.id)
                    .bind(&i.settings.label)
                    .bind(&i.settings.host)
                    .bind(i32::from(i.settings.port))
                    .bind(&i.settings.endpoint)
                    .bind(i.settings.remote_access)
                    .bind(&i.password)
                    .bind(i.settings.enabled)
                    .bind(to_millis(i.updated_at))
                    .execute(&mut *self.tx)
                    .await?;
                    Ok(done.rows_affected() == 1)
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn find_integration(
                    &mut self,
                    org: OrgId,
                    id: &str,
                ) -> Result<Option<IntegrationRecord>> {
                    sqlx::query(&format!(
                        "SELECT {INTEGRATION_COLS} FROM integrations WHERE org_id = $1 AND id = $2"
                    ))
                    .bind(org.0.to_string())
                    .bind(id)
                    .fetch_optional(&mut *self.tx)
                    .await?
                    .map(|r| integration_row(&r))
                    .transpose()
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn list_integrations(&mut self, org: OrgId) -> Result<Vec<IntegrationRecord>> {
                    let rows = sqlx::query(&format!(
                        "SELECT {INTEGRATION_COLS} FROM integrations WHERE org_id = $1 \
                         ORDER BY created_at, id"
                    ))
                    .bind(org.0.to_string())
                    .fetch_all(&mut *self.tx)
                    .await?;
                    rows.iter().map(integration_row).collect()
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn delete_integration(&mut self, org: OrgId, id: &str) -> Result<bool> {
                    let done = sqlx::query("DELETE FROM integrations WHERE org_id = $1 AND id = $2")
                        .bind(org.0.to_string())
                        .bind(id)
                        .execute(&mut *self.tx)
                        .await?;
                    Ok(done.rows_affected() == 1)
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn insert_se_token(&mut self, t: &StreamElementsTokenRecord) -> Result<()> {
                    sqlx::query(
                        "INSERT INTO streamelements_tokens (id, org_id, platform, label, token, \
                         hint, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    )
                    .bind(&t.id)
                    .bind(t.org_id.0.to_string())
                    .bind(t.platform.as_str())
                    .bind(&t.label)
                    .bind(&t.token)
                    .bind(&t.hint)
                    .bind(to_millis(t.created_at))
                    .execute(&mut *self.tx)
                    .await?;
                    Ok(())
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn list_se_tokens(
                    &mut self,
                    org: OrgId,
                ) -> Result<Vec<StreamElementsTokenRecord>> {
                    let rows = sqlx::query(&format!(
                        "SELECT {SE_COLS} FROM streamelements_tokens WHERE org_id = $1 \
                         ORDER BY created_at, id"
                    ))
                    .bind(org.0.to_string())
                    .fetch_all(&mut *self.tx)
                    .await?;
                    rows.iter().map(se_row).collect()
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn delete_se_token(&mut self, org: OrgId, id: &str) -> Result<bool> {
                    let done =
                        sqlx::query("DELETE FROM streamelements_tokens WHERE org_id = $1 AND id = $2")
                            .bind(org.0.to_string())
                            .bind(id)
                            .execute(&mut *self.tx)
                            .await?;
                    Ok(done.rows_affected() == 1)
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn find_system_bot(&mut self, platform: &str) -> Result<Option<SystemBot>> {
                    sqlx::query(
                        "SELECT platform, application_id, bot_name, token_sealed, token_hint, \
                         updated_at FROM system_bots WHERE platform = $1",
                    )
                    .bind(platform)
                    .fetch_optional(&mut *self.tx)
                    .await?
                    .map(|r| {
                        Ok(SystemBot {
                            platform: r.try_get("platform")?,
                            application_id: r.try_get("application_id")?,
                            bot_name: r.try_get("bot_name")?,
                            token_sealed: r.try_get("token_sealed")?,
                            token_hint: r.try_get("token_hint")?,
                            updated_at: from_millis(r.try_get("updated_at")?),
                        })
                    })
                    .transpose()
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn put_system_bot(&mut self, b: &SystemBot) -> Result<()> {
                    sqlx::query(
                        "INSERT INTO system_bots (platform, application_id, bot_name, token_sealed, \
                         token_hint, updated_at) VALUES ($1, $2, $3, $4, $5, $6) \
                         ON CONFLICT (platform) DO UPDATE SET application_id = excluded.application_id, \
                         bot_name = excluded.bot_name, token_sealed = excluded.token_sealed, \
                         token_hint = excluded.token_hint, updated_at = excluded.updated_at",
                    )
                    .bind(&b.platform)
                    .bind(&b.application_id)
                    .bind(&b.bot_name)
                    .bind(&b.token_sealed)
                    .bind(&b.token_hint)
                    .bind(to_millis(b.updated_at))
                    .execute(&mut *self.tx)
                    .await?;
                    Ok(())
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn delete_system_bot(&mut self, platform: &str) -> Result<bool> {
                    Ok(sqlx::query("DELETE FROM system_bots WHERE platform = $1")
                        .bind(platform)
                        .execute(&mut *self.tx)
                        .await?
                        .rows_affected()
                        == 1)
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn sealed_cells(
                    &mut self,
                    col: SealedColumn,
                    after: Option<&str>,
                    limit: u32,
                ) -> Result<Vec<SealedCell>> {
                    let (table, column, id) = col.names();
                    let rows = sqlx::query(&format!(
                        "SELECT org_id, {id} AS row_id, {column} AS value FROM {table} \
                         WHERE {column} IS NOT NULL AND {id} > $1 ORDER BY {id} LIMIT $2"
                    ))
                    .bind(after.unwrap_or(""))
                    .bind(i64::from(limit))
                    .fetch_all(&mut *self.tx)
                    .await?;
                    rows.iter()
                        .map(|r| {
                            Ok(SealedCell {
                                org_id: org_id(table_name(col), r)?,
                                row_id: r.try_get("row_id")?,
                                value: r.try_get("value")?,
                            })
                        })
                        .collect()
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn reseal_cell(
                    &mut self,
                    col: SealedColumn,
                    row_id: &str,
                    old: &str,
                    new: &str,
                ) -> Result<bool> {
                    let (table, column, id) = col.names();
                    let done = sqlx::query(&format!(
                        "UPDATE {table} SET {column} = $1 WHERE {id} = $2 AND {column} = $3"
                    ))
                    .bind(new)
                    .bind(row_id)
                    .bind(old)
                    .execute(&mut *self.tx)
                    .await?;
                    Ok(done.rows_affected() == 1)
                }
            }

            fn table_name(col: SealedColumn) -> &'static str {
                col.names().0
            }
        }
    };
}

pub(crate) use impl_connection_tx;
