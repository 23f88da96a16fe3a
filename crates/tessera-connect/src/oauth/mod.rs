//! The HTTP adapter to the streaming platforms: building the authorize URL, exchanging a code,
//! refreshing, revoking, reading the connected channel and (Twitch) validating a token, each
//! in the platform's own wire shape, with every answer sorted into a [`PlatformError`] the
//! service layer can act on (reconnect, fix the credentials, or retry later).
//!
//! Tokens and secrets pass through here but are never logged nor put into an error text: the
//! texts carry the platform's own explanation and nothing the caller sent.

use base64::Engine as _;
use secrecy::SecretString;

mod answers;
mod client;
mod transport;

pub use client::{install_crypto_provider, PlatformClient};

/// An organization's app on one platform (client id and secret).
#[derive(Clone)]
pub struct AppCredentials {
    pub client_id: String,
    pub client_secret: SecretString,
}

impl std::fmt::Debug for AppCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppCredentials")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .finish()
    }
}

/// What a code exchange or a refresh returned.
pub struct TokenSet {
    pub access_token: SecretString,
    /// Absent when the platform kept the previous one (YouTube on a refresh).
    pub refresh_token: Option<SecretString>,
    /// Seconds until the access token expires, when the platform said.
    pub expires_in: Option<i64>,
    /// The scopes granted, when the platform said.
    pub scopes: Option<Vec<String>>,
}

impl std::fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSet")
            .field("access_token", &"[redacted]")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[redacted]"),
            )
            .field("expires_in", &self.expires_in)
            .field("scopes", &self.scopes)
            .finish()
    }
}

/// The channel a token speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub channel_id: String,
    pub channel_name: String,
}

/// Why a platform call failed, sorted by what the caller should do about it.
#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    /// The code or refresh token was refused (invalid, expired, revoked): connect again.
    #[error("{0}")]
    InvalidGrant(String),
    /// The app credentials were refused: fix the client id or secret.
    #[error("{0}")]
    InvalidClient(String),
    /// The platform asked us to slow down (HTTP 429).
    #[error("the platform is rate limiting Tessera; try again in a minute")]
    RateLimited,
    /// The platform could not be reached or failed (network error, timeout, 5xx).
    #[error("{0}")]
    Unavailable(String),
    /// Any other refusal, or an answer Tessera could not read.
    #[error("{0}")]
    Rejected(String),
}

impl PlatformError {
    /// Whether trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::RateLimited | Self::Unavailable(_))
    }
}

/// The answer of a token validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validation {
    Valid { expires_in: Option<i64> },
    Invalid,
}

/// The S256 PKCE challenge of a verifier: base64url without padding of its SHA-256.
pub fn pkce_challenge(verifier: &str) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(d.as_ref())
}

#[cfg(test)]
mod tests;
