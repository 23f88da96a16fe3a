//! API keys: `sk_live_` + 256 random bits, shown once, stored as a keyed hash, revocable,
//! with a last-used time, scoped to one organization or system-wide.
//!
//! Verification is one HMAC-SHA256 and one indexed lookup. The last-used time is written at
//! most once per key per interval, after the request, so reads do not turn into writes.

use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use tessera_crypto::{generate_secret, secret_hint};
use tessera_domain::api_key::API_KEY_PREFIX;
use tessera_domain::error::Collector;
use tessera_domain::{
    ApiKey, ApiKeyId, ApiKeyName, AuditAction, FieldError, Permission, PermissionSet, Principal,
    PrincipalKind,
};
use uuid::Uuid;

use crate::audit::AuditEntry;
use crate::{snapshot, Context, CoreError, CoreResult, Services};

/// Where a new key acts.
#[derive(Debug, Clone)]
pub enum KeyScope {
    /// One organization, by slug.
    Org(String),
    /// Every organization, as a system administrator.
    System,
}

#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub scope: KeyScope,
    pub name: String,
    pub roles: Vec<String>,
    pub permissions: Vec<String>,
}

/// A key just made: the only moment its secret exists outside the caller's hands.
#[derive(Debug)]
pub struct CreatedApiKey {
    pub key: ApiKey,
    pub secret: SecretString,
}

impl Services {
    pub async fn create_api_key(
        &self,
        ctx: &Context,
        input: NewApiKey,
    ) -> CoreResult<CreatedApiKey> {
        let mut c = Collector::new();
        let name = c.take(ApiKeyName::parse(&input.name));
        let roles = crate::users::parse_roles(&input.roles, &mut c);
        let mut direct = PermissionSet::EMPTY;
        for (i, p) in input.permissions.iter().enumerate() {
            if let Some(s) =
                c.take(PermissionSet::parse_item(p).map_err(|e| e.at(format!("permissions[{i}]"))))
            {
                direct = direct.union(s);
            }
        }
        let system = matches!(input.scope, KeyScope::System);
        if system && (!input.roles.is_empty() || !input.permissions.is_empty()) {
            c.push(FieldError::new(
                "roles",
                "a system-wide key holds every permission; give it no roles or permissions",
            ));
        }
        if !system && input.roles.is_empty() && input.permissions.is_empty() {
            c.push(FieldError::new(
                "roles",
                "give the key at least one role or permission",
            ));
        }
        c.finish()?;
        let name = name.ok_or_else(|| CoreError::invalid("name", "is required"))?;

        let mut tx = self.store.begin().await?;
        let org = match &input.scope {
            KeyScope::System => {
                if !ctx.principal.is_system_admin {
                    return Err(CoreError::SystemAdminOnly("create system-wide API keys"));
                }
                None
            }
            KeyScope::Org(slug) => {
                let org = self
                    .org_for(tx.as_mut(), ctx, slug, Some(Permission::ApiKeysCreate))
                    .await?;
                self.check_roles(tx.as_mut(), org.id, &roles).await?;
                self.check_grantable(tx.as_mut(), ctx, org.id, &roles, direct)
                    .await?;
                Some(org)
            }
        };
        let secret =
            generate_secret(self.rng.as_ref(), API_KEY_PREFIX).map_err(CoreError::internal)?;
        let key = ApiKey {
            id: ApiKeyId(Uuid::new_v4()),
            org_id: org.as_ref().map(|o| o.id),
            name,
            hint: secret_hint(secret.expose_secret()),
            roles,
            permissions: direct,
            created_at: self.now(),
            last_used_at: None,
            revoked_at: None,
        };
        tx.insert_api_key(&key, &self.key_hash.hash(secret.expose_secret()))
            .await?;
        self.audit(
            tx.as_mut(),
            ctx,
            AuditEntry::new(AuditAction::ApiKeyCreated, "api_key")
                .in_org(key.org_id)
                .target(key.id.to_string())
                .after(snapshot(&key)),
        )
        .await?;
        tx.commit().await?;
        Ok(CreatedApiKey { key, secret })
    }

    /// Turns a presented bearer key into a principal, or says why not.
    pub async fn authenticate_api_key(self: &Arc<Self>, presented: &str) -> CoreResult<Principal> {
        let bad = || CoreError::Unauthenticated("invalid API key".into());
        if !presented.starts_with(API_KEY_PREFIX) || presented.len() != API_KEY_PREFIX.len() + 43 {
            return Err(bad());
        }
        let hash = self.key_hash.hash(presented);
        let mut tx = self.store.read().await?;
        // The lookup is by the keyed hash itself: a unique index, no comparison loop to time.
        let rec = tx.find_api_key_by_hash(&hash).await?.ok_or_else(bad)?;
        let key = rec.key;
        if key.revoked_at.is_some() {
            return Err(CoreError::Unauthenticated(
                "API key has been revoked".into(),
            ));
        }
        let permissions = match key.org_id {
            Some(org) => self
                .role_permissions(tx.as_mut(), org, &key.roles)
                .await?
                .union(key.permissions),
            None => PermissionSet::all(),
        };
        drop(tx);
        self.note_key_use(key.id);
        Ok(Principal {
            kind: PrincipalKind::ApiKey(key.id),
            name: key.name.as_str().to_owned(),
            org_id: key.org_id,
            is_system_admin: key.org_id.is_none(),
            permissions,
        })
    }

    pub async fn list_api_keys(&self, ctx: &Context, org: &str) -> CoreResult<Vec<ApiKey>> {
        let mut tx = self.store.read().await?;
        let org = self
            .org_for(tx.as_mut(), ctx, org, Some(Permission::ApiKeysRead))
            .await?;
        Ok(tx.list_api_keys(Some(org.id)).await?)
    }

    /// Revokes a key of the organization. Like members, a key that holds a permission the
    /// caller lacks is out of the caller's reach (`403` naming the permission).
    pub async fn revoke_api_key(&self, ctx: &Context, org: &str, id: &str) -> CoreResult<ApiKey> {
        let not_found = || CoreError::not_found("API key", id);
        let key_id = Uuid::parse_str(id).map(ApiKeyId).map_err(|_| not_found())?;
        let mut tx = self.store.begin().await?;
        let org = self
            .org_for(tx.as_mut(), ctx, org, Some(Permission::ApiKeysDelete))
            .await?;
        let before = tx
            .find_api_key(Some(org.id), key_id)
            .await?
            .ok_or_else(not_found)?;
        // The rule of members: nobody revokes a key that holds more than they do (an `admin`
        // key cannot revoke the `owner` key).
        self.check_grantable(tx.as_mut(), ctx, org.id, &before.roles, before.permissions)
            .await?;
        let now = self.now();
        if !tx.revoke_api_key(Some(org.id), key_id, now).await? {
            return Err(CoreError::Conflict(format!(
                "API key '{id}' is already revoked"
            )));
        }
        let after = ApiKey {
            revoked_at: Some(now),
            ..before.clone()
        };
        self.audit(
            tx.as_mut(),
            ctx,
            AuditEntry::new(AuditAction::ApiKeyRevoked, "api_key")
                .org(org.id)
                .target(id)
                .before(snapshot(&before))
                .after(snapshot(&after)),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }
}
