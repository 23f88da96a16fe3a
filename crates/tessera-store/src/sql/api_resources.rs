//! The portable SQL of [`crate::ApiResourceRepo`]; [`impl_api_resources_repo!`] stamps it out
//! for one backend's transaction type. A row is read back through the domain's validation, so
//! a stored resource is always a valid one.

pub(crate) const RESOURCE_COLS: &str = "org_id, id, identifier, name, description, scopes, \
     access_token_lifetime, access_token_alg, allowed_clients, created_at, updated_at";

use tessera_domain::api_resource::{
    AllowedClients, ApiResource, ApiResourceId, ApiResourceInput, ApiResourceSettings,
};
use tessera_domain::clock::{from_millis, to_millis};
use tessera_domain::OrgId;

use super::{corrupt, uuid};
use crate::StoreError;

/// The columns of a resource, in `RESOURCE_COLS` order from `identifier` to `allowed_clients`.
pub(crate) struct Columns {
    pub identifier: String,
    pub name: String,
    pub description: Option<String>,
    pub scopes: String,
    pub lifetime: Option<i64>,
    pub alg: Option<String>,
    pub allowed: String,
}

pub(crate) fn columns(r: &ApiResource) -> Columns {
    let s = &r.settings;
    Columns {
        identifier: s.identifier.as_str().to_owned(),
        name: s.name.clone(),
        description: s.description.clone(),
        scopes: serde_json::to_string(&s.scopes).unwrap_or_else(|_| "[]".into()),
        lifetime: s.access_token_lifetime,
        alg: s
            .access_token_signed_response_alg
            .map(|a| a.as_str().to_owned()),
        allowed: match &s.allowed_clients {
            AllowedClients::All => "\"*\"".to_owned(),
            c @ AllowedClients::Only(_) => serde_json::to_string(c).unwrap_or_else(|_| "[]".into()),
        },
    }
}

pub(crate) fn resource(
    org: &str,
    id: &str,
    c: Columns,
    created_at: i64,
    updated_at: i64,
) -> Result<ApiResource, StoreError> {
    let t = "api_resources";
    let input = ApiResourceInput {
        identifier: c.identifier,
        name: c.name,
        description: c.description,
        scopes: serde_json::from_str(&c.scopes).map_err(|e| corrupt(t, e))?,
        access_token_lifetime: c.lifetime,
        access_token_signed_response_alg: c.alg,
        allowed_clients: Some(serde_json::from_str(&c.allowed).map_err(|e| corrupt(t, e))?),
        ..ApiResourceInput::default()
    };
    let settings = ApiResourceSettings::validate(&input).map_err(|e| corrupt(t, e))?;
    Ok(ApiResource {
        org_id: OrgId(uuid(t, org)?),
        id: ApiResourceId(uuid(t, id)?),
        settings,
        created_at: from_millis(created_at),
        updated_at: from_millis(updated_at),
    })
}

pub(crate) fn millis(r: &ApiResource) -> (i64, i64) {
    (to_millis(r.created_at), to_millis(r.updated_at))
}

macro_rules! impl_api_resources_repo {
    ($tx:ident, $row:ty) => {
        mod api_resources_repo {
            use super::$tx;
            use $crate::sql::api_resources::*;
            use $crate::sql::prelude::*;
            use $crate::ApiResourceQuery;
            use tessera_domain::api_resource::{ApiResource, ApiResourceId};

            fn row(r: &$row) -> Result<ApiResource> {
                resource(
                    &r.try_get::<String, _>("org_id")?,
                    &r.try_get::<String, _>("id")?,
                    Columns {
                        identifier: r.try_get("identifier")?,
                        name: r.try_get("name")?,
                        description: r.try_get("description")?,
                        scopes: r.try_get("scopes")?,
                        lifetime: r.try_get("access_token_lifetime")?,
                        alg: r.try_get("access_token_alg")?,
                        allowed: r.try_get("allowed_clients")?,
                    },
                    r.try_get("created_at")?,
                    r.try_get("updated_at")?,
                )
            }

            #[async_trait]
            impl $crate::ApiResourceRepo for $tx {
                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn insert_api_resource(&mut self, r: &ApiResource) -> Result<()> {
                    let c = columns(r);
                    let (created, updated) = millis(r);
                    sqlx::query(&format!(
                        "INSERT INTO api_resources ({RESOURCE_COLS}) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
                    ))
                    .bind(r.org_id.0.to_string())
                    .bind(r.id.0.to_string())
                    .bind(c.identifier)
                    .bind(c.name)
                    .bind(c.description)
                    .bind(c.scopes)
                    .bind(c.lifetime)
                    .bind(c.alg)
                    .bind(c.allowed)
                    .bind(created)
                    .bind(updated)
                    .execute(&mut *self.tx)
                    .await?;
                    Ok(())
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn update_api_resource(&mut self, r: &ApiResource) -> Result<bool> {
                    let c = columns(r);
                    let (_, updated) = millis(r);
                    let done = sqlx::query(
                        "UPDATE api_resources SET identifier = $3, name = $4, description = $5, \
                         scopes = $6, access_token_lifetime = $7, access_token_alg = $8, \
                         allowed_clients = $9, updated_at = $10 WHERE org_id = $1 AND id = $2",
                    )
                    .bind(r.org_id.0.to_string())
                    .bind(r.id.0.to_string())
                    .bind(c.identifier)
                    .bind(c.name)
                    .bind(c.description)
                    .bind(c.scopes)
                    .bind(c.lifetime)
                    .bind(c.alg)
                    .bind(c.allowed)
                    .bind(updated)
                    .execute(&mut *self.tx)
                    .await?;
                    Ok(done.rows_affected() == 1)
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn delete_api_resource(&mut self, org: OrgId, id: ApiResourceId) -> Result<bool> {
                    let done = sqlx::query("DELETE FROM api_resources WHERE org_id = $1 AND id = $2")
                        .bind(org.0.to_string())
                        .bind(id.0.to_string())
                        .execute(&mut *self.tx)
                        .await?;
                    Ok(done.rows_affected() == 1)
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn find_api_resource(
                    &mut self,
                    org: OrgId,
                    id: ApiResourceId,
                ) -> Result<Option<ApiResource>> {
                    sqlx::query(&format!(
                        "SELECT {RESOURCE_COLS} FROM api_resources WHERE org_id = $1 AND id = $2"
                    ))
                    .bind(org.0.to_string())
                    .bind(id.0.to_string())
                    .fetch_optional(&mut *self.tx)
                    .await?
                    .as_ref()
                    .map(row)
                    .transpose()
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn find_api_resource_by_identifier(
                    &mut self,
                    org: OrgId,
                    identifier: &str,
                ) -> Result<Option<ApiResource>> {
                    sqlx::query(&format!(
                        "SELECT {RESOURCE_COLS} FROM api_resources WHERE org_id = $1 AND identifier = $2"
                    ))
                    .bind(org.0.to_string())
                    .bind(identifier)
                    .fetch_optional(&mut *self.tx)
                    .await?
                    .as_ref()
                    .map(row)
                    .transpose()
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn list_api_resources(
                    &mut self,
                    org: OrgId,
                    query: &ApiResourceQuery,
                ) -> Result<(Vec<ApiResource>, i64)> {
                    let pattern = query.q.as_deref().filter(|q| !q.is_empty()).map(like_pattern);
                    let filter = "org_id = $1 AND ($2 IS NULL OR lower(identifier) LIKE $2 ESCAPE '\\' \
                                  OR lower(name) LIKE $2 ESCAPE '\\')";
                    let total: i64 = sqlx::query(&format!("SELECT COUNT(*) AS n FROM api_resources WHERE {filter}"))
                        .bind(org.0.to_string())
                        .bind(pattern.as_deref())
                        .fetch_one(&mut *self.tx)
                        .await?
                        .try_get("n")?;
                    let items = sqlx::query(&format!(
                        "SELECT {RESOURCE_COLS} FROM api_resources WHERE {filter} \
                         ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4"
                    ))
                    .bind(org.0.to_string())
                    .bind(pattern.as_deref())
                    .bind(i64::from(query.limit))
                    .bind(i64::from(query.offset))
                    .fetch_all(&mut *self.tx)
                    .await?
                    .iter()
                    .map(row)
                    .collect::<Result<Vec<_>>>()?;
                    Ok((items, total))
                }
            }
        }
    };
}

pub(crate) use impl_api_resources_repo;
