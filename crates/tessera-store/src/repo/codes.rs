//! Codes waiting to be redeemed: authorization codes and device authorizations (RFC 8628).

use async_trait::async_trait;
use tessera_domain::{OrgId, Timestamp, UserId};

use crate::Result;

/// An authorization code (the code's hash is the key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthCode {
    pub code_hash: String,
    pub org_id: OrgId,
    pub client_id: String,
    pub user_id: UserId,
    pub redirect_uri: String,
    pub scope: String,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub auth_time: Timestamp,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub redeemed_at: Option<Timestamp>,
    /// The access token issued for it, to revoke on a second redemption.
    pub access_jti: Option<String>,
    pub access_expires: Option<Timestamp>,
    /// The authorization's claims request (OIDC Core §5.5), if it had one.
    pub claims: Option<tessera_domain::claims::ClaimsRequest>,
    /// The identifiers of the API resources the authorization was for (RFC 8707).
    pub resources: Vec<String>,
    /// The DPoP key the code is bound to (`dpop_jkt`, RFC 9449 §10): the token request must
    /// prove possession of it.
    pub dpop_jkt: Option<String>,
    /// The login session the code came from (`sid`, Back-Channel Logout §2.1).
    pub sid: Option<String>,
    /// How the user authenticated (RFC 8176 values, space-separated), for the id_token.
    pub amr: String,
}

/// A pushed authorization request (RFC 9126): the checked parameters behind a `request_uri`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedRequest {
    pub handle_hash: String,
    pub org_id: OrgId,
    pub client_id: String,
    /// The request's parameters (a request object's merged in), as a JSON array of pairs.
    pub params: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// Where a device authorization stands (RFC 8628).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceStatus {
    /// Waiting for the user.
    Pending,
    Approved,
    Denied,
    /// Approved and exchanged for tokens: spent.
    Redeemed,
}

impl DeviceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Denied => "denied",
            Self::Redeemed => "redeemed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Pending, Self::Approved, Self::Denied, Self::Redeemed]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// A device authorization (RFC 8628 §3.2); both codes kept only as hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceCode {
    pub device_code_hash: String,
    pub user_code_hash: String,
    pub org_id: OrgId,
    pub client_id: String,
    pub scope: String,
    pub status: DeviceStatus,
    /// Who approved or denied it, and when they signed in.
    pub user_id: Option<UserId>,
    pub auth_time: Option<Timestamp>,
    /// The polling interval now in force (RFC 8628 §3.5: `slow_down` adds 5 seconds).
    pub interval_secs: i64,
    pub last_polled_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    /// The identifiers of the API resources asked for (RFC 8707).
    pub resources: Vec<String>,
}

/// A code's redemption ([`CodeRepo::redeem_code_once`]): which code, when, the access token
/// issued for it (its `jti` and expiry) and the refresh token issued with it, if any.
#[derive(Debug, Clone, Copy)]
pub struct Redemption<'a> {
    pub org: OrgId,
    pub code_hash: &'a str,
    pub at: Timestamp,
    pub jti: &'a str,
    pub access_expires: Timestamp,
    pub refresh: Option<&'a crate::RefreshToken>,
}

/// Codes waiting to be redeemed: authorization codes and device authorizations (RFC 8628).
#[async_trait]
pub trait CodeRepo: Send {
    async fn insert_code(&mut self, c: &AuthCode) -> Result<()>;
    async fn find_code(&mut self, org: OrgId, code_hash: &str) -> Result<Option<AuthCode>>;
    /// Marks a code redeemed; true only for the one caller that redeems it first.
    async fn redeem_code(&mut self, org: OrgId, code_hash: &str, at: Timestamp) -> Result<bool>;
    /// Redeems a code once: marks it redeemed with the access token about to be issued for it
    /// (`jti`, so that a replay can revoke that token, RFC 6749 §4.1.2) and stores the refresh
    /// token issued with it, both or neither, in one trip to the database. False, with nothing
    /// written, when the code is not there or was already redeemed. Atomic on its own (run it
    /// on [`crate::Store::single_write`]; inside a transaction it nests).
    async fn redeem_code_once(&mut self, r: &Redemption<'_>) -> Result<bool>;
    async fn set_code_token(
        &mut self,
        org: OrgId,
        code_hash: &str,
        jti: &str,
        expires: Timestamp,
    ) -> Result<()>;
    async fn insert_device_code(&mut self, d: &DeviceCode) -> Result<()>;
    async fn find_device_code(
        &mut self,
        org: OrgId,
        device_code_hash: &str,
    ) -> Result<Option<DeviceCode>>;
    async fn find_device_by_user_code(
        &mut self,
        org: OrgId,
        user_code_hash: &str,
    ) -> Result<Option<DeviceCode>>;
    /// Approves or denies a pending, unexpired authorization; true if this call decided it.
    async fn decide_device_code(
        &mut self,
        org: OrgId,
        user_code_hash: &str,
        approve: bool,
        user: UserId,
        auth_time: Timestamp,
        now: Timestamp,
    ) -> Result<bool>;
    /// Records a poll and the interval in force from now on.
    async fn poll_device_code(
        &mut self,
        org: OrgId,
        device_code_hash: &str,
        at: Timestamp,
        interval_secs: i64,
    ) -> Result<()>;
    /// Approved → redeemed; true only for the one caller that redeems it.
    async fn redeem_device_code(&mut self, org: OrgId, device_code_hash: &str) -> Result<bool>;
    async fn insert_pushed(&mut self, p: &PushedRequest) -> Result<()>;
    async fn find_pushed(&mut self, org: OrgId, handle_hash: &str)
        -> Result<Option<PushedRequest>>;
    /// Removes and returns a pushed request: only one caller ever gets it (RFC 9126 §4).
    async fn take_pushed(&mut self, org: OrgId, handle_hash: &str)
        -> Result<Option<PushedRequest>>;
}
