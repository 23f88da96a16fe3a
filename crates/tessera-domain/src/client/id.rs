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

    /// The id of a client described by a Client ID Metadata Document: the document's URL
    /// (draft-ietf-oauth-client-id-metadata-document §3): `https`, with a path, without a
    /// fragment, credentials, or `.`/`..` segments, at most 512 characters. `http` on a
    /// loopback address only when `loopback` allows it (tests and development).
    pub fn metadata_document(s: &str, loopback: bool) -> Result<Self, FieldError> {
        let bad = |why: &str| FieldError::new("client_id", format!("'{s}' {why}"));
        if s.len() > 512 {
            return Err(bad("is longer than 512 characters"));
        }
        let url = url::Url::parse(s).map_err(|_| bad("is not a URL"))?;
        let loopback_host = matches!(
            url.host(),
            Some(url::Host::Ipv4(ip)) if ip.is_loopback()
        ) || matches!(url.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback());
        match url.scheme() {
            "https" => {}
            "http" if loopback && loopback_host => {}
            _ => return Err(bad("must be an https URL")),
        }
        if url.path() == "/" || url.path().is_empty() {
            return Err(bad("must have a path"));
        }
        if url.fragment().is_some() || !url.username().is_empty() || url.password().is_some() {
            return Err(bad("must have no fragment and no credentials"));
        }
        if s.split('/').any(|seg| seg == "." || seg == "..") {
            return Err(bad("must have no dot segments"));
        }
        if url.as_str() != s {
            return Err(bad("is not in its normal form"));
        }
        Ok(Self(s.to_owned()))
    }

    /// Whether this id is a Client ID Metadata Document's URL.
    pub fn is_metadata_document(&self) -> bool {
        self.0.contains("://")
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
