//! People: members of an organization who log in to authorize apps and, with a role, to the
//! console. The password hash never appears in these types; the store keeps it beside them.

use crate::clock::Timestamp;
use crate::error::FieldError;
use crate::org::OrgId;
use crate::permission::RoleName;
use serde::Serialize;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct UserId(pub Uuid);

impl std::fmt::Display for UserId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// A login name, unique within its organization.
///
/// The rule: surrounding white space is dropped, then the name must be 1 to 64 ASCII
/// characters of `A-Z a-z 0-9 . _ @ + -`, and it is stored with `A-Z` lowered to `a-z` (ASCII
/// only), so that `Alice` and `alice` cannot be two people. Nothing else is mapped: a
/// character outside ASCII (the Kelvin sign `K` U+212A, which Unicode lowercases to `k`, a
/// fullwidth `ａ`, a dotted `İ`) is refused rather than silently turned into another
/// person's name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Username(String);

impl Username {
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        let s = s.trim();
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.bytes().all(|b| {
                b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'@' | b'+' | b'-')
            });
        if ok {
            Ok(Self(s.to_ascii_lowercase()))
        } else {
            Err(FieldError::new(
                "username",
                "must be 1 to 64 ASCII characters of letters, digits, '.', '_', '@', '+' or '-'",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Username {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// An e-mail address, checked for shape only (one `@`, a dot in the domain, no spaces);
/// deliverability is not our business here.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        let s = s.trim();
        let bad = || FieldError::new("email", format!("'{s}' is not an e-mail address"));
        let (local, domain) = s.split_once('@').ok_or_else(bad)?;
        if local.is_empty()
            || domain.is_empty()
            || domain.contains('@')
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
            || s.len() > 254
            || s.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(bad());
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Minimum length of a password a person chooses.
pub const MIN_PASSWORD_LEN: usize = 8;

/// Checks a chosen password's length; its content is the person's business.
pub fn check_password(p: &str) -> Result<(), FieldError> {
    if p.chars().count() < MIN_PASSWORD_LEN {
        return Err(FieldError::new(
            "password",
            format!("must be at least {MIN_PASSWORD_LEN} characters"),
        ));
    }
    if p.len() > 1024 {
        return Err(FieldError::new("password", "must be at most 1024 bytes"));
    }
    Ok(())
}

/// A member of an organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub org_id: OrgId,
    pub username: Username,
    pub email: Option<Email>,
    pub name: Option<String>,
    /// The other standard claims of OIDC Core §5.1.
    pub profile: crate::profile::UserProfile,
    pub roles: Vec<RoleName>,
    /// Holds every permission in every organization.
    pub is_system_admin: bool,
    pub is_active: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// The wire form (REST, the CLI, the audit log): camelCase, the standard claims flattened in
/// (`givenName`, …, `address`), and `preferredUsername`, which is the user name.
impl Serialize for User {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Wire<'a> {
            id: UserId,
            org_id: OrgId,
            username: &'a Username,
            preferred_username: &'a Username,
            email: Option<&'a Email>,
            name: Option<&'a str>,
            #[serde(flatten)]
            profile: &'a crate::profile::UserProfile,
            roles: &'a [RoleName],
            is_system_admin: bool,
            is_active: bool,
            #[serde(with = "crate::clock::rfc3339_millis")]
            created_at: Timestamp,
            #[serde(with = "crate::clock::rfc3339_millis")]
            updated_at: Timestamp,
        }
        Wire {
            id: self.id,
            org_id: self.org_id,
            username: &self.username,
            preferred_username: &self.username,
            email: self.email.as_ref(),
            name: self.name.as_deref(),
            profile: &self.profile,
            roles: &self.roles,
            is_system_admin: self.is_system_admin,
            is_active: self.is_active,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
        .serialize(ser)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn usernames_are_lowercased() {
        assert_eq!(Username::parse(" Alice ").unwrap().as_str(), "alice");
        assert!(Username::parse("").is_err());
        assert!(Username::parse("a b").is_err());
    }

    /// Only ASCII is lowered: characters that Unicode case-folds onto ASCII are refused, not
    /// turned into another person's name.
    #[test]
    fn non_ascii_never_folds_onto_a_name() {
        for s in [
            "K\u{212a}",
            "\u{212a}",
            "ａdmin",
            "\u{130}stanbul",
            "straße",
            "ǅ",
        ] {
            let e = Username::parse(s).unwrap_err();
            assert_eq!(e.field, "username", "{s}");
        }
    }

    #[test]
    fn emails() {
        assert!(Email::parse("a@example.com").is_ok());
        for bad in [
            "a", "@x.io", "a@", "a@b", "a@@b.c", "a b@c.d", "a@.c", "a@c.",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords() {
        assert!(check_password("short").is_err());
        assert!(check_password("long enough").is_ok());
    }

    proptest! {
        #[test]
        fn username_parse_is_idempotent(s in "[A-Za-z0-9._@+-]{1,64}") {
            let u = Username::parse(&s).unwrap();
            prop_assert_eq!(Username::parse(u.as_str()).unwrap(), u);
        }

        /// Whatever is typed, an accepted name is ASCII and already lowered.
        #[test]
        fn accepted_names_are_lowercase_ascii(s in "\\PC{0,20}") {
            if let Ok(u) = Username::parse(&s) {
                prop_assert!(u.as_str().bytes().all(|b| b.is_ascii() && !b.is_ascii_uppercase()));
            }
        }
    }
}
