//! Interactive sign-in: login sessions, authorization requests waiting for login or consent,
//! and the consents users gave.

use async_trait::async_trait;
use tessera_domain::{OrgId, Timestamp, UserId};

use crate::Result;

/// A login session (the cookie's hash is the key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginSession {
    pub id_hash: String,
    pub org_id: OrgId,
    pub user_id: UserId,
    pub auth_time: Timestamp,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub ended_at: Option<Timestamp>,
    /// How the user authenticated (RFC 8176 values, space-separated: `pwd`, `pwd otp`).
    pub amr: String,
}

/// An authorization request waiting for login or consent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingRequest {
    pub id: String,
    pub org_id: OrgId,
    /// The validated request, as JSON.
    pub params: String,
    pub csrf: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// A consent a user gave a client: the scopes, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    pub client_id: String,
    pub scopes: Vec<String>,
    pub granted_at: Timestamp,
    /// When the user last signed in to the client under it; `None`: not since it was given.
    pub last_used_at: Option<Timestamp>,
}

/// A client a login session signed its user in to, whose logout token is not queued yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionClient {
    pub org_id: OrgId,
    pub session_hash: String,
    /// The session's id as id_tokens and logout tokens carry it.
    pub sid: String,
    pub client_id: String,
    pub user_id: UserId,
}

/// A logout token on its way to a client's `backchannel_logout_uri`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutDelivery {
    pub id: String,
    pub org_id: OrgId,
    pub client_id: String,
    pub uri: String,
    pub logout_token: String,
    /// Attempts started, this one included once leased.
    pub attempts: i64,
    pub next_attempt_at: Timestamp,
    pub delivered_at: Option<Timestamp>,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
}

/// Interactive sign-in: login sessions, authorization requests waiting for login or consent,
/// and the consents users gave.
/// A login session and the scopes its user consented to for one client (`None`: no consent).
pub type SessionWithConsent = (LoginSession, Option<Vec<String>>);

#[async_trait]
pub trait SessionRepo: Send {
    async fn insert_session(&mut self, s: &LoginSession) -> Result<()>;
    async fn find_session(&mut self, org: OrgId, id_hash: &str) -> Result<Option<LoginSession>>;
    /// A login session and, in the same statement, its user's consent to `client_id` (the
    /// scopes consented to, `None` when there is none): what an authorization request with a
    /// session cookie reads, in one trip instead of two.
    async fn find_session_with_consent(
        &mut self,
        org: OrgId,
        id_hash: &str,
        client_id: &str,
    ) -> Result<Option<SessionWithConsent>>;
    async fn end_session(&mut self, org: OrgId, id_hash: &str, at: Timestamp) -> Result<bool>;
    /// Ends every live login session of a user (deactivation); how many.
    async fn end_user_sessions(&mut self, org: OrgId, user: UserId, at: Timestamp) -> Result<u64>;
    async fn insert_pending(&mut self, p: &PendingRequest) -> Result<()>;
    async fn find_pending(&mut self, org: OrgId, id: &str) -> Result<Option<PendingRequest>>;
    async fn delete_pending(&mut self, org: OrgId, id: &str) -> Result<bool>;
    async fn find_consent(
        &mut self,
        org: OrgId,
        user: UserId,
        client_id: &str,
    ) -> Result<Option<Vec<String>>>;
    async fn upsert_consent(
        &mut self,
        org: OrgId,
        user: UserId,
        client_id: &str,
        scopes: &[String],
        at: Timestamp,
    ) -> Result<()>;
    /// Deletes device codes, authorization codes, pending requests, login sessions and the
    /// `jti`s of client assertions that expired before `before`; how many rows went.
    async fn prune_expired_flows(&mut self, before: Timestamp) -> Result<u64>;
    /// Notes that the user signed in to the client under their consent (if they gave one).
    async fn touch_consent(
        &mut self,
        org: OrgId,
        user: UserId,
        client_id: &str,
        at: Timestamp,
    ) -> Result<()>;
    /// Every consent of a user, by client id.
    async fn user_consents(&mut self, org: OrgId, user: UserId) -> Result<Vec<Consent>>;
    /// Withdraws a user's consent to a client and revokes the refresh tokens the user gave
    /// it, at `at`; false when there was no consent.
    async fn withdraw_consent(
        &mut self,
        org: OrgId,
        user: UserId,
        client_id: &str,
        at: Timestamp,
    ) -> Result<bool>;
    /// A user's live login sessions (not ended, not expired at `now`), newest first.
    async fn user_sessions(
        &mut self,
        org: OrgId,
        user: UserId,
        now: Timestamp,
    ) -> Result<Vec<LoginSession>>;
    /// Notes that a session signed its user in to a client (once per pair).
    async fn add_session_client(&mut self, c: &SessionClient, at: Timestamp) -> Result<()>;
    /// Takes (removes and returns) up to `limit` clients of sessions that ended, expired by
    /// `now`, or are gone; each row goes to exactly one caller.
    async fn take_ended_session_clients(
        &mut self,
        now: Timestamp,
        limit: i64,
    ) -> Result<Vec<SessionClient>>;
    async fn insert_logout_delivery(&mut self, d: &LogoutDelivery) -> Result<()>;
    /// Leases up to `limit` undelivered logout tokens due by `now` whose lease (if any) ran
    /// out, until `lease_until`, counting the attempt; no two callers lease the same one.
    async fn lease_logout_deliveries(
        &mut self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: i64,
    ) -> Result<Vec<LogoutDelivery>>;
    /// Records a delivery's outcome, if the caller's lease (`lease_until`) still holds it:
    /// delivered at `delivered` or, failed, retried at `retry_at` (`None`: given up); the
    /// lease ends. False when another caller holds it now.
    async fn finish_logout_delivery(
        &mut self,
        id: &str,
        lease_until: Timestamp,
        delivered: Option<Timestamp>,
        retry_at: Option<Timestamp>,
        error: Option<&str>,
    ) -> Result<bool>;
    /// The logout tokens queued for a client, newest first (for operators and tests).
    async fn logout_deliveries(
        &mut self,
        org: OrgId,
        client_id: &str,
    ) -> Result<Vec<LogoutDelivery>>;
}
