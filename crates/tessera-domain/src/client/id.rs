//! A client's identifier ([`ClientId`]): generated, or chosen at creation.

use serde::Serialize;

use crate::error::FieldError;

/// A client identifier: a generated UUID, or an id chosen at creation (1 to 128 of
/// `A-Z a-z 0-9 . _ ~ -`, the RFC 3986 unreserved set, so it never needs escaping in a URL or
/// in HTTP Basic authentication).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ClientId(String);

impl ClientId {
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        let ok = !s.is_empty()
            && s.len() <= 128
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'~' | b'-'));
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(FieldError::new(
                "clientId",
                "must be 1 to 128 characters of letters, digits, '.', '_', '~' or '-'",
            ))
        }
    }

    /// A new random id (UUID v4).
    pub fn generate() -> Self {
        Self(uuid::Uuid::new_v4().to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ClientId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
