//! Console sessions. A session belongs to no one organization (it holds sign-ins in
//! several), so these take none; its sign-ins name theirs.

use async_trait::async_trait;
use tessera_domain::{OrgId, Timestamp, UserId};

use crate::Result;

/// A console browser session. The cookie is stored only as its keyed hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleSession {
    pub id_hash: String,
    /// The organization the console shows; `None` until chosen (or after it was deleted).
    pub current_org: Option<OrgId>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub ended_at: Option<Timestamp>,
}

/// One sign-in of a console session in one organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleLogin {
    pub session_hash: String,
    pub org_id: OrgId,
    pub user_id: UserId,
    pub auth_time: Timestamp,
    pub created_at: Timestamp,
}

/// Console sessions. A session belongs to no one organization (it holds sign-ins in
/// several), so these take none; its sign-ins name theirs.
#[async_trait]
pub trait ConsoleRepo: Send {
    /// Stores a new session; a hash already stored is a conflict.
    async fn insert_console_session(&mut self, s: &ConsoleSession) -> Result<()>;
    /// The session, whatever its state (the caller checks expiry and end).
    async fn find_console_session(&mut self, id_hash: &str) -> Result<Option<ConsoleSession>>;
    /// Sets the organization shown; false when there is no such live (not ended) session.
    async fn set_console_org(&mut self, id_hash: &str, org: OrgId) -> Result<bool>;
    /// Ends a session; false when it was not there or already ended.
    async fn end_console_session(&mut self, id_hash: &str, at: Timestamp) -> Result<bool>;
    /// Records a sign-in, replacing an earlier one of the same session in the same organization.
    async fn upsert_console_login(&mut self, l: &ConsoleLogin) -> Result<()>;
    /// The session's sign-ins, oldest first.
    async fn list_console_logins(&mut self, session_hash: &str) -> Result<Vec<ConsoleLogin>>;
    /// Deletes sessions that expired or ended before `before`, and their sign-ins with them;
    /// how many sessions went.
    async fn purge_console_sessions(&mut self, before: Timestamp) -> Result<u64>;
}
