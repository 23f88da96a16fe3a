//! Organizations (tenants). Everything else belongs to exactly one of them, and nothing of one
//! is visible in another.

use crate::clock::Timestamp;
use crate::error::FieldError;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// An organization's internal identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OrgId(pub Uuid);

impl std::fmt::Display for OrgId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// The URL name of an organization: `[a-z0-9][a-z0-9-]{1,62}` (2 to 63 characters), e.g.
/// `acme-corp`. It appears in every issuer, so it is deliberately DNS-label-like.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct OrgSlug(String);

/// The slug of the organization created on first start.
pub const DEFAULT_ORG_SLUG: &str = "default";

impl OrgSlug {
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        match Self::problem(s) {
            Some(m) => Err(FieldError::new("slug", format!("invalid slug '{s}': {m}"))),
            None => Ok(Self(s.to_owned())),
        }
    }

    /// Whether `s` is a valid slug, without making one (the check every request's path gets).
    pub fn is_valid(s: &str) -> bool {
        Self::problem(s).is_none()
    }

    /// What is wrong with `s` as a slug, if anything.
    fn problem(s: &str) -> Option<&'static str> {
        let bytes = s.as_bytes();
        if bytes.len() < 2 || bytes.len() > 63 {
            return Some("must be 2 to 63 characters long");
        }
        if !(bytes[0].is_ascii_lowercase() || bytes[0].is_ascii_digit()) {
            return Some("must start with a lowercase letter or a digit");
        }
        if !bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        {
            return Some("may contain only lowercase letters, digits and '-'");
        }
        None
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for OrgSlug {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for OrgSlug {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(|e| serde::de::Error::custom(e.message))
    }
}

/// A display name: 1 to 200 characters after trimming, no control, bidirectional-override or
/// invisible characters ([`crate::text`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct OrgName(String);

impl OrgName {
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        parse_display_name(s, "name").map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Shared rule for human display names (organizations, keys, users): shown on pages, so no
/// control, bidirectional-override or invisible characters.
pub fn parse_display_name(s: &str, field: &str) -> Result<String, FieldError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(FieldError::new(field, "is required"));
    }
    if t.chars().count() > 200 {
        return Err(FieldError::new(field, "must be at most 200 characters"));
    }
    crate::text::check_display_text(t, field)?;
    Ok(t.to_owned())
}

/// A tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Organization {
    pub id: OrgId,
    pub slug: OrgSlug,
    pub name: String,
    #[serde(with = "crate::clock::rfc3339_millis")]
    pub created_at: Timestamp,
    #[serde(with = "crate::clock::rfc3339_millis")]
    pub updated_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_and_rejects() {
        for ok in ["acme-corp", "default", "a1", "0rg", "a-"] {
            assert!(OrgSlug::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "a",
            "-acme",
            "Acme",
            "acme_corp",
            "acme corp",
            "ä-org",
            &"a".repeat(64),
        ] {
            assert!(OrgSlug::parse(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn any_valid_slug_parses(s in "[a-z0-9][a-z0-9-]{1,62}") {
            prop_assert_eq!(OrgSlug::parse(&s).map(|x| x.0), Ok(s));
        }

        #[test]
        fn parse_never_accepts_invalid(s in ".{0,70}") {
            let valid = s.len() >= 2 && s.len() <= 63
                && s.bytes().next().is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
                && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            prop_assert_eq!(OrgSlug::parse(&s).is_ok(), valid);
            prop_assert_eq!(OrgSlug::is_valid(&s), valid);
        }
    }

    #[test]
    fn display_names() {
        assert_eq!(
            OrgName::parse("  Acme  ").map(|n| n.0),
            Ok("Acme".to_owned())
        );
        assert!(OrgName::parse("   ").is_err());
        assert!(OrgName::parse(&"x".repeat(201)).is_err());
        assert!(OrgName::parse("a\nb").is_err());
    }
}
