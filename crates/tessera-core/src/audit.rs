//! Reading the audit log. Writing happens inside each change's own transaction
//! ([`Services::audit`]), never here.

use tessera_domain::{AuditEvent, Permission};
use tessera_store::AuditQuery;

use crate::{Context, CoreError, CoreResult, Services};

/// The largest page a caller may ask for.
pub const MAX_AUDIT_PAGE: u32 = 500;

impl Services {
    /// Events of one organization, newest first.
    pub async fn list_audit(
        &self,
        ctx: &Context,
        org: &str,
        mut query: AuditQuery,
    ) -> CoreResult<Vec<AuditEvent>> {
        if query.limit == 0 || query.limit > MAX_AUDIT_PAGE {
            return Err(CoreError::invalid(
                "limit",
                format!("must be between 1 and {MAX_AUDIT_PAGE}"),
            ));
        }
        query.action = query.action.filter(|a| !a.is_empty());
        query.actor = tessera_domain::text::parse_search(query.actor.as_deref(), "actor")?;
        let mut tx = self.store.read().await?;
        let org = self
            .org_for(tx.as_mut(), ctx, org, Some(Permission::AuditLogRead))
            .await?;
        Ok(tx.list_audit(org.id, &query).await?)
    }
}
