//! Organizations: created by system administrators; each sees only itself.

use tessera_domain::error::Collector;
use tessera_domain::{AuditAction, OrgId, OrgName, OrgSlug, Organization, Permission};
use tessera_store::{StoreError, Tx};
use uuid::Uuid;

use crate::{snapshot, Context, CoreError, CoreResult, Services};

impl Services {
    /// Creates an organization. `name` defaults to the slug.
    pub async fn create_org(
        &self,
        ctx: &Context,
        slug: &str,
        name: Option<&str>,
    ) -> CoreResult<Organization> {
        if !ctx.principal.is_system_admin {
            return Err(CoreError::SystemAdminOnly("create organizations"));
        }
        let mut c = Collector::new();
        let slug = c.take(OrgSlug::parse(slug));
        let name = match (name, &slug) {
            (Some(n), _) => c.take(OrgName::parse(n)),
            (None, Some(s)) => c.take(OrgName::parse(s.as_str())),
            (None, None) => None,
        };
        c.finish()?;
        let (Some(slug), Some(name)) = (slug, name) else {
            return Err(CoreError::Internal("collector let an error through".into()));
        };
        let mut tx = self.store.begin().await?;
        let org = self.insert_org(tx.as_mut(), ctx, slug, name).await?;
        tx.commit().await?;
        tracing::info!(org = %org.slug, "organization created");
        Ok(org)
    }

    pub(crate) async fn insert_org(
        &self,
        tx: &mut dyn Tx,
        ctx: &Context,
        slug: OrgSlug,
        name: OrgName,
    ) -> CoreResult<Organization> {
        let now = self.now();
        let org = Organization {
            id: OrgId(Uuid::new_v4()),
            slug,
            name: name.as_str().to_owned(),
            created_at: now,
            updated_at: now,
        };
        match tx.insert_org(&org).await {
            Err(StoreError::Conflict { .. }) => {
                return Err(CoreError::Conflict(format!(
                    "organization '{}' already exists",
                    org.slug
                )))
            }
            other => other?,
        }
        self.audit(
            tx,
            ctx,
            Some(org.id),
            AuditAction::OrgCreated,
            "organization",
            Some(org.slug.to_string()),
            None,
            snapshot(&org),
        )
        .await?;
        Ok(org)
    }

    /// The organizations the caller can see: all of them for a system administrator.
    pub async fn list_orgs(&self, ctx: &Context) -> CoreResult<Vec<Organization>> {
        let mut tx = self.store.read().await?;
        let all = tx.list_orgs().await?;
        Ok(all
            .into_iter()
            .filter(|o| ctx.principal.can_see_org(o.id))
            .collect())
    }

    /// One organization, if the caller can see it and (when given) holds `perm` in it.
    pub async fn get_org(
        &self,
        ctx: &Context,
        slug: &str,
        perm: Option<Permission>,
    ) -> CoreResult<Organization> {
        let mut tx = self.store.read().await?;
        self.org_for(tx.as_mut(), ctx, slug, perm).await
    }
}
