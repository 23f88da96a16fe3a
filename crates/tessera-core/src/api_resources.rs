//! API resources: the APIs an organization protects (RFC 8707 resource indicators), managed
//! by REST, GraphQL, the console and the CLI through these services, and their RFC 9728
//! protected-resource metadata.
//!
//! A resource's `identifier` is the `aud` of the tokens issued for it, unique in the
//! organization. Every change is audited (`api_resource.created`, `.updated`, `.deleted`) and
//! announced on the change feed.

use tessera_domain::api_resource::{
    ApiResource, ApiResourceId, ApiResourceInput, ApiResourceSettings,
};
use tessera_domain::{AuditAction, Organization, Permission};
use tessera_store::{ApiResourceQuery, StoreError};
use uuid::Uuid;

use crate::audit::AuditEntry;
use crate::{snapshot, Context, CoreError, CoreResult, Services};

use crate::cache::CHANGE_API_RESOURCE;

/// The most API resources one organization has (the token path holds them all in memory).
pub const MAX_RESOURCES_PER_ORG: i64 = 1_000;
/// Largest page of the resource list.
pub const MAX_RESOURCE_PAGE: u32 = 200;

fn not_found(id: &str) -> CoreError {
    CoreError::not_found("API resource", id)
}

fn parse_id(id: &str) -> CoreResult<ApiResourceId> {
    ApiResourceId::parse(id).ok_or_else(|| not_found(id))
}

fn conflict(identifier: &str) -> CoreError {
    CoreError::Conflict(format!(
        "an API resource with identifier '{identifier}' already exists in this organization"
    ))
}

/// The read-only fields of the object may be sent back (a GET answer), but never changed.
fn same_id(id: ApiResourceId, input: &ApiResourceInput) -> CoreResult<()> {
    match &input.id {
        Some(serde_json::Value::String(s)) if s == &id.to_string() => Ok(()),
        None | Some(serde_json::Value::Null) => Ok(()),
        Some(_) => Err(CoreError::invalid(
            "id",
            "is assigned by the server and cannot be changed",
        )),
    }
}

impl Services {
    /// Creates a resource.
    pub async fn create_api_resource(
        &self,
        ctx: &Context,
        org: &str,
        input: ApiResourceInput,
    ) -> CoreResult<ApiResource> {
        let mut tx = self.store.begin().await?;
        let org = self
            .org_for(tx.as_mut(), ctx, org, Some(Permission::ApiResourcesCreate))
            .await?;
        if input.id.as_ref().is_some_and(|v| !v.is_null()) {
            return Err(CoreError::invalid("id", "is assigned by the server"));
        }
        let settings = ApiResourceSettings::validate(&input)?;
        let (_, count) = tx
            .list_api_resources(
                org.id,
                &ApiResourceQuery {
                    q: None,
                    limit: 1,
                    offset: 0,
                },
            )
            .await?;
        if count >= MAX_RESOURCES_PER_ORG {
            return Err(CoreError::invalid(
                "identifier",
                format!("an organization has at most {MAX_RESOURCES_PER_ORG} API resources"),
            ));
        }
        let now = self.now();
        let resource = ApiResource {
            org_id: org.id,
            id: ApiResourceId(Uuid::new_v4()),
            settings,
            created_at: now,
            updated_at: now,
        };
        match tx.insert_api_resource(&resource).await {
            Err(StoreError::Conflict { .. }) => {
                return Err(conflict(resource.settings.identifier.as_str()))
            }
            other => other?,
        }
        self.audit(
            tx.as_mut(),
            ctx,
            AuditEntry::new(AuditAction::ApiResourceCreated, "api_resource")
                .org(org.id)
                .target(resource.id.to_string())
                .after(snapshot(&resource.object())),
        )
        .await?;
        tx.record_change(
            Some(org.id),
            CHANGE_API_RESOURCE,
            &resource.id.to_string(),
            now,
        )
        .await?;
        tx.commit().await?;
        self.caches.resources.invalidate(&org.id);
        Ok(resource)
    }

    pub async fn get_api_resource(
        &self,
        ctx: &Context,
        org: &str,
        id: &str,
    ) -> CoreResult<ApiResource> {
        let mut tx = self.store.read().await?;
        let org = self
            .org_for(tx.as_mut(), ctx, org, Some(Permission::ApiResourcesRead))
            .await?;
        tx.find_api_resource(org.id, parse_id(id)?)
            .await?
            .ok_or_else(|| not_found(id))
    }

    /// One page of resources, newest first, and how many match in all.
    pub async fn list_api_resources(
        &self,
        ctx: &Context,
        org: &str,
        q: Option<String>,
        limit: u32,
        offset: u32,
    ) -> CoreResult<(Vec<ApiResource>, i64)> {
        crate::check_page_limit(limit, MAX_RESOURCE_PAGE)?;
        let mut tx = self.store.read().await?;
        let org = self
            .org_for(tx.as_mut(), ctx, org, Some(Permission::ApiResourcesRead))
            .await?;
        let q = tessera_domain::text::parse_search(q.as_deref(), "q")?;
        Ok(tx
            .list_api_resources(org.id, &ApiResourceQuery { q, limit, offset })
            .await?)
    }

    /// Every resource of the organization (at most [`MAX_RESOURCES_PER_ORG`]), newest first:
    /// the console's page and the CLI's list.
    pub async fn all_api_resources(
        &self,
        ctx: &Context,
        org: &str,
    ) -> CoreResult<Vec<ApiResource>> {
        let mut tx = self.store.read().await?;
        let org = self
            .org_for(tx.as_mut(), ctx, org, Some(Permission::ApiResourcesRead))
            .await?;
        let (all, _) = tx
            .list_api_resources(
                org.id,
                &ApiResourceQuery {
                    q: None,
                    limit: u32::try_from(MAX_RESOURCES_PER_ORG).unwrap_or(u32::MAX),
                    offset: 0,
                },
            )
            .await?;
        Ok(all)
    }

    /// Replaces every setting (PUT).
    pub async fn replace_api_resource(
        &self,
        ctx: &Context,
        org: &str,
        id: &str,
        input: ApiResourceInput,
    ) -> CoreResult<ApiResource> {
        self.change_api_resource(ctx, org, id, |_| Ok(input)).await
    }

    /// Changes the settings the patch names (PATCH, JSON merge patch of RFC 7396 over the
    /// resource object: a member set to `null` clears an optional setting).
    pub async fn patch_api_resource(
        &self,
        ctx: &Context,
        org: &str,
        id: &str,
        patch: serde_json::Map<String, serde_json::Value>,
    ) -> CoreResult<ApiResource> {
        self.change_api_resource(ctx, org, id, |current| {
            let mut merged = match serde_json::to_value(current.object()) {
                Ok(serde_json::Value::Object(m)) => m,
                _ => return Err(CoreError::internal("the resource object is not an object")),
            };
            for (k, v) in patch {
                if v.is_null() && matches!(k.as_str(), "identifier" | "name" | "scopes") {
                    return Err(CoreError::invalid(k, "cannot be null"));
                }
                merged.insert(k, v);
            }
            // A bad member is named by its path (`scopes[0].name`), as validation names it.
            serde_path_to_error::deserialize(serde_json::Value::Object(merged)).map_err(|e| {
                let path = e.path().to_string();
                let field = if path == "." { "body".to_owned() } else { path };
                CoreError::invalid(field, e.into_inner().to_string())
            })
        })
        .await
    }

    async fn change_api_resource(
        &self,
        ctx: &Context,
        org: &str,
        id: &str,
        new_input: impl FnOnce(&ApiResource) -> CoreResult<ApiResourceInput>,
    ) -> CoreResult<ApiResource> {
        let rid = parse_id(id)?;
        let mut tx = self.store.begin().await?;
        let org = self
            .org_for(tx.as_mut(), ctx, org, Some(Permission::ApiResourcesEdit))
            .await?;
        let before = tx
            .find_api_resource(org.id, rid)
            .await?
            .ok_or_else(|| not_found(id))?;
        let input = new_input(&before)?;
        same_id(rid, &input)?;
        let settings = ApiResourceSettings::validate(&input)?;
        let now = self.now();
        let after = ApiResource {
            settings,
            updated_at: now,
            ..before.clone()
        };
        if after.settings == before.settings {
            return Ok(before);
        }
        match tx.update_api_resource(&after).await {
            Err(StoreError::Conflict { .. }) => {
                return Err(conflict(after.settings.identifier.as_str()))
            }
            other => other?,
        };
        self.audit(
            tx.as_mut(),
            ctx,
            AuditEntry::new(AuditAction::ApiResourceUpdated, "api_resource")
                .org(org.id)
                .target(id)
                .before(snapshot(&before.object()))
                .after(snapshot(&after.object())),
        )
        .await?;
        tx.record_change(Some(org.id), CHANGE_API_RESOURCE, id, now)
            .await?;
        tx.commit().await?;
        self.caches.resources.invalidate(&org.id);
        Ok(after)
    }

    pub async fn delete_api_resource(&self, ctx: &Context, org: &str, id: &str) -> CoreResult<()> {
        let rid = parse_id(id)?;
        let mut tx = self.store.begin().await?;
        let org = self
            .org_for(tx.as_mut(), ctx, org, Some(Permission::ApiResourcesDelete))
            .await?;
        let before = tx
            .find_api_resource(org.id, rid)
            .await?
            .ok_or_else(|| not_found(id))?;
        tx.delete_api_resource(org.id, rid).await?;
        self.audit(
            tx.as_mut(),
            ctx,
            AuditEntry::new(AuditAction::ApiResourceDeleted, "api_resource")
                .org(org.id)
                .target(id)
                .before(snapshot(&before.object())),
        )
        .await?;
        tx.record_change(Some(org.id), CHANGE_API_RESOURCE, id, self.now())
            .await?;
        tx.commit().await?;
        self.caches.resources.invalidate(&org.id);
        Ok(())
    }

    /// The resource's protected-resource metadata (RFC 9728 §2), for its resource server to
    /// serve at `/.well-known/oauth-protected-resource`: this organization as the
    /// authorization server, the resource's scopes, and bearer tokens in the `Authorization`
    /// header (RFC 6750 §2.1), the one method Tessera's tokens are meant for.
    pub async fn api_resource_metadata(
        &self,
        ctx: &Context,
        org: &str,
        id: &str,
    ) -> CoreResult<serde_json::Value> {
        let mut tx = self.store.read().await?;
        let org: Organization = self
            .org_for(tx.as_mut(), ctx, org, Some(Permission::ApiResourcesRead))
            .await?;
        let r = tx
            .find_api_resource(org.id, parse_id(id)?)
            .await?
            .ok_or_else(|| not_found(id))?;
        Ok(protected_resource_metadata(&self.issuer(&org.slug), &r))
    }
}

/// The RFC 9728 §2 document of `r`, whose authorization server is `issuer`.
pub fn protected_resource_metadata(issuer: &str, r: &ApiResource) -> serde_json::Value {
    let s = &r.settings;
    serde_json::json!({
        "resource": s.identifier.as_str(),
        "authorization_servers": [issuer],
        "scopes_supported": s.scopes.iter().map(|sc| sc.name.as_str()).collect::<Vec<_>>(),
        "bearer_methods_supported": ["header"],
        "resource_name": s.name,
    })
}
