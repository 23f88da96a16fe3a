//! The change feed other nodes follow to drop what they cached.

use async_trait::async_trait;
use tessera_domain::{OrgId, Timestamp};

use crate::Result;

/// One entry of the change feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub seq: i64,
    pub org_id: Option<OrgId>,
    pub kind: String,
    pub key: String,
}

/// The change feed other nodes follow to drop what they cached.
#[async_trait]
pub trait ChangeFeed: Send {
    async fn record_change(
        &mut self,
        org: Option<OrgId>,
        kind: &str,
        key: &str,
        at: Timestamp,
    ) -> Result<()>;
    async fn changes_since(&mut self, seq: i64, limit: u32) -> Result<Vec<Change>>;
    /// Changes numbered at most `upto` and recorded since `since`, newest first: on PostgreSQL
    /// a transaction can commit after one that took a later number, so a reader that has seen
    /// up to `upto` looks back a few seconds for what committed late.
    async fn recent_changes(
        &mut self,
        upto: i64,
        since: Timestamp,
        limit: u32,
    ) -> Result<Vec<Change>>;
    async fn last_change_seq(&mut self) -> Result<i64>;
    async fn prune_changes(&mut self, older_than: Timestamp) -> Result<u64>;
}
