//! The audit log.

use async_trait::async_trait;
use tessera_domain::{AuditEvent, NewAuditEvent, OrgId};

use crate::Result;

/// Which audit events to list, newest first.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub limit: u32,
    /// Only events with an id below this one (the previous page's last id).
    pub before: Option<i64>,
    pub action: Option<String>,
    /// Matches the actor's name.
    pub actor: Option<String>,
    /// Only events at or after this time.
    pub from: Option<tessera_domain::Timestamp>,
    /// Only events at or before this time.
    pub to: Option<tessera_domain::Timestamp>,
}

/// The audit log.
#[async_trait]
pub trait AuditRepo: Send {
    async fn insert_audit(&mut self, event: &NewAuditEvent) -> Result<i64>;
    async fn list_audit(&mut self, org: OrgId, q: &AuditQuery) -> Result<Vec<AuditEvent>>;
    /// System-wide events (no organization), for system administrators.
    async fn list_system_audit(&mut self, q: &AuditQuery) -> Result<Vec<AuditEvent>>;
}
