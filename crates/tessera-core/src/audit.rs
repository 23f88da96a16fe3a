//! The audit log: [`AuditEntry`], what a change records, written inside the change's own
//! transaction by [`Services::audit`] so the change and its record commit or roll back
//! together; and reading the log.

use serde_json::Value;
use tessera_domain::{Actor, AuditAction, AuditEvent, NewAuditEvent, OrgId, Permission, Timestamp};
use tessera_store::AuditQuery;

use crate::{Context, CoreError, CoreResult, Services};

/// One audit entry being built: the action and the kind of thing it touched, then what is
/// known (organization, target id, snapshots before and after).
#[must_use]
pub(crate) struct AuditEntry {
    action: AuditAction,
    target_type: &'static str,
    org: Option<OrgId>,
    target_id: Option<String>,
    before: Option<Value>,
    after: Option<Value>,
}

impl AuditEntry {
    pub(crate) fn new(action: AuditAction, target_type: &'static str) -> Self {
        Self {
            action,
            target_type,
            org: None,
            target_id: None,
            before: None,
            after: None,
        }
    }

    /// The organization the event belongs to.
    pub(crate) fn org(self, org: OrgId) -> Self {
        self.in_org(Some(org))
    }

    /// The organization, when there may be none (system-wide keys and events).
    pub(crate) fn in_org(mut self, org: Option<OrgId>) -> Self {
        self.org = org;
        self
    }

    /// The id of the thing changed.
    pub(crate) fn target(self, id: impl Into<String>) -> Self {
        self.target_opt(Some(id.into()))
    }

    pub(crate) fn target_opt(mut self, id: Option<String>) -> Self {
        self.target_id = id;
        self
    }

    /// The snapshot before the change (`None` when there is nothing to show).
    pub(crate) fn before(mut self, snapshot: Option<Value>) -> Self {
        self.before = snapshot;
        self
    }

    /// The snapshot after the change.
    pub(crate) fn after(mut self, snapshot: Option<Value>) -> Self {
        self.after = snapshot;
        self
    }

    /// The event as stored, by `actor` at `at`, with the request's address and id when there
    /// was a request.
    pub(crate) fn event(
        self,
        actor: Actor,
        ip: Option<String>,
        request_id: Option<String>,
        at: Timestamp,
    ) -> NewAuditEvent {
        NewAuditEvent {
            org_id: self.org,
            actor,
            action: self.action,
            target_type: self.target_type.into(),
            target_id: self.target_id,
            ip,
            request_id,
            before: self.before,
            after: self.after,
            created_at: at,
        }
    }
}

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
        if let (Some(from), Some(to)) = (query.from, query.to) {
            if to < from {
                return Err(CoreError::invalid("to", "is before from"));
            }
        }
        let mut tx = self.store.read().await?;
        let org = self
            .org_for(tx.as_mut(), ctx, org, Some(Permission::AuditLogRead))
            .await?;
        Ok(tx.list_audit(org.id, &query).await?)
    }
}
