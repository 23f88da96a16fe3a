//! Roles: the built-in `owner`, `admin` and `viewer`, and custom roles an organization defines
//! as a named set of permissions. Roles are granted to users and API keys; nobody can define
//! or grant a role with permissions they do not hold themselves.

use serde::Serialize;
use tessera_domain::error::Collector;
use tessera_domain::{AuditAction, FieldError, Permission, PermissionSet, Role, RoleName};
use tessera_store::{CustomRole, StoreError};

use crate::audit::AuditEntry;
use crate::{snapshot, Context, CoreError, CoreResult, Services};

/// A role as the API shows it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleView {
    pub name: String,
    pub permissions: PermissionSet,
    pub built_in: bool,
}

impl Services {
    /// The built-in roles followed by the organization's custom roles.
    pub async fn list_roles(&self, ctx: &Context, org: &str) -> CoreResult<Vec<RoleView>> {
        let mut tx = self.store.read().await?;
        let org = self
            .org_for(tx.as_mut(), ctx, org, Some(Permission::UsersRead))
            .await?;
        let mut out: Vec<RoleView> = Role::BUILTIN
            .iter()
            .map(|r| RoleView {
                name: r.name().into(),
                permissions: r.permissions(),
                built_in: true,
            })
            .collect();
        out.extend(tx.list_roles(org.id).await?.into_iter().map(|r| RoleView {
            name: r.name.to_string(),
            permissions: r.permissions,
            built_in: false,
        }));
        Ok(out)
    }

    /// Defines a custom role.
    pub async fn create_role(
        &self,
        ctx: &Context,
        org: &str,
        name: &str,
        permissions: &[String],
    ) -> CoreResult<RoleView> {
        let mut tx = self.store.begin().await?;
        let org = self
            .org_for(tx.as_mut(), ctx, org, Some(Permission::UsersEdit))
            .await?;
        let mut c = Collector::new();
        let name = c.take(RoleName::parse(name).map_err(|e| e.at("name")));
        if let Some(n) = &name {
            if n.builtin().is_some() {
                c.push(FieldError::new(
                    "name",
                    format!("'{n}' is a built-in role; choose another name"),
                ));
            }
        }
        let mut set = PermissionSet::EMPTY;
        for (i, p) in permissions.iter().enumerate() {
            if let Some(s) =
                c.take(PermissionSet::parse_item(p).map_err(|e| e.at(format!("permissions[{i}]"))))
            {
                set = set.union(s);
            }
        }
        if permissions.is_empty() {
            c.push(FieldError::new(
                "permissions",
                "give the role at least one permission",
            ));
        }
        c.finish()?;
        let name = name.ok_or_else(|| CoreError::invalid("name", "is required"))?;
        self.check_grantable(tx.as_mut(), ctx, org.id, &[], set)
            .await?;
        let role = CustomRole {
            org_id: org.id,
            name,
            permissions: set,
            created_at: self.now(),
        };
        match tx.insert_role(&role).await {
            Err(StoreError::Conflict { .. }) => {
                return Err(CoreError::Conflict(format!(
                    "role '{}' already exists in this organization",
                    role.name
                )))
            }
            other => other?,
        }
        let view = RoleView {
            name: role.name.to_string(),
            permissions: role.permissions,
            built_in: false,
        };
        self.audit(
            tx.as_mut(),
            ctx,
            AuditEntry::new(AuditAction::RoleCreated, "role")
                .org(org.id)
                .target(view.name.clone())
                .after(snapshot(&view)),
        )
        .await?;
        tx.commit().await?;
        Ok(view)
    }
}
