//! Permissions and roles, named exactly as the product's documents name them
//! (`oauth-clients:create`, `connections:token`, …).
//!
//! A [`PermissionSet`] is a bit set, so checking one on every request costs nothing. Built-in
//! roles (`owner`, `admin`, `viewer`) are fixed here; custom roles are stored per organization
//! and resolved by the service layer into the same set.

use crate::error::FieldError;
use serde::{Deserialize, Serialize};

macro_rules! permissions {
    ($($variant:ident = $name:literal),+ $(,)?) => {
        /// One thing a principal may do.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum Permission { $($variant),+ }

        impl Permission {
            /// Every permission, in declaration order.
            pub const ALL: &'static [Permission] = &[$(Permission::$variant),+];

            /// The wire name, e.g. `oauth-clients:read`.
            pub fn as_str(self) -> &'static str {
                match self { $(Permission::$variant => $name),+ }
            }
        }
    };
}

permissions! {
    AdminAccess = "admin:access",
    OauthClientsRead = "oauth-clients:read",
    OauthClientsCreate = "oauth-clients:create",
    OauthClientsEdit = "oauth-clients:edit",
    OauthClientsDelete = "oauth-clients:delete",
    ApiResourcesRead = "api-resources:read",
    ApiResourcesCreate = "api-resources:create",
    ApiResourcesEdit = "api-resources:edit",
    ApiResourcesDelete = "api-resources:delete",
    ConnectionsRead = "connections:read",
    ConnectionsCreate = "connections:create",
    ConnectionsEdit = "connections:edit",
    ConnectionsDelete = "connections:delete",
    ConnectionsToken = "connections:token",
    BotConnectionsRead = "bot-connections:read",
    BotConnectionsCreate = "bot-connections:create",
    BotConnectionsDelete = "bot-connections:delete",
    AuditLogRead = "audit-log:read",
    UsersRead = "users:read",
    UsersCreate = "users:create",
    UsersEdit = "users:edit",
    UsersDelete = "users:delete",
    ApiKeysRead = "api-keys:read",
    ApiKeysCreate = "api-keys:create",
    ApiKeysDelete = "api-keys:delete",
    WebhooksRead = "webhooks:read",
    WebhooksEdit = "webhooks:edit",
}

impl Permission {
    /// Parses a wire name. A `prefix:*` wildcard is accepted by [`PermissionSet::parse_item`].
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        Self::ALL
            .iter()
            .copied()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| FieldError::new("permissions", format!("unknown permission '{s}'")))
    }

    fn bit(self) -> u64 {
        1u64 << (self as u8)
    }

    /// Read-only permissions: what the `viewer` role holds.
    pub fn is_read(self) -> bool {
        matches!(self, Permission::AdminAccess) || self.as_str().ends_with(":read")
    }
}

impl std::fmt::Display for Permission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Permission {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Permission {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Permission::parse(&s).map_err(|e| serde::de::Error::custom(e.message))
    }
}

/// A set of permissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct PermissionSet(u64);

impl PermissionSet {
    pub const EMPTY: PermissionSet = PermissionSet(0);

    pub fn all() -> Self {
        Self::from_iter(Permission::ALL.iter().copied())
    }

    pub fn contains(self, p: Permission) -> bool {
        self.0 & p.bit() != 0
    }

    pub fn insert(&mut self, p: Permission) {
        self.0 |= p.bit();
    }

    pub fn union(self, other: PermissionSet) -> Self {
        Self(self.0 | other.0)
    }

    pub fn iter(self) -> impl Iterator<Item = Permission> {
        Permission::ALL
            .iter()
            .copied()
            .filter(move |p| self.contains(*p))
    }

    /// Parses one item of a permission list: an exact name or a `prefix:*` wildcard such as
    /// `users:*`.
    pub fn parse_item(s: &str) -> Result<Self, FieldError> {
        if let Some(prefix) = s.strip_suffix(":*") {
            let set = Self::from_iter(
                Permission::ALL
                    .iter()
                    .copied()
                    .filter(|p| p.as_str().split(':').next() == Some(prefix)),
            );
            if set == Self::EMPTY {
                return Err(FieldError::new(
                    "permissions",
                    format!("unknown permission '{s}'"),
                ));
            }
            return Ok(set);
        }
        Permission::parse(s).map(|p| Self::from_iter([p]))
    }

    /// The names, sorted by declaration order.
    pub fn names(self) -> Vec<&'static str> {
        self.iter().map(Permission::as_str).collect()
    }
}

impl FromIterator<Permission> for PermissionSet {
    fn from_iter<I: IntoIterator<Item = Permission>>(iter: I) -> Self {
        let mut s = Self::EMPTY;
        for p in iter {
            s.insert(p);
        }
        s
    }
}

impl Serialize for PermissionSet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter().map(Permission::as_str))
    }
}

/// The name of a role: a built-in (`owner`, `admin`, `viewer`) or a custom role of the
/// organization. Lowercase letters, digits, `-`, `_`, `.`; 1 to 63 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct RoleName(String);

impl RoleName {
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        let ok = !s.is_empty()
            && s.len() <= 63
            && s.bytes().all(|b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.')
            });
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(FieldError::new(
                "roles",
                format!("invalid role name '{s}': use 1 to 63 lowercase letters, digits, '-', '_' or '.'"),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The built-in role of this name, if it is one.
    pub fn builtin(&self) -> Option<Role> {
        Role::BUILTIN.iter().copied().find(|r| r.name() == self.0)
    }
}

impl std::fmt::Display for RoleName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for RoleName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        RoleName::parse(&s).map_err(|e| serde::de::Error::custom(e.message))
    }
}

/// The built-in roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Everything in the organization.
    Owner,
    /// Everything in the organization except deleting members; the day-to-day operator.
    Admin,
    /// Enter the console and read everything; change nothing.
    Viewer,
}

impl Role {
    pub const BUILTIN: &'static [Role] = &[Role::Owner, Role::Admin, Role::Viewer];

    pub fn name(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Viewer => "viewer",
        }
    }

    pub fn permissions(self) -> PermissionSet {
        match self {
            Role::Owner => PermissionSet::all(),
            Role::Admin => PermissionSet::from_iter(
                Permission::ALL
                    .iter()
                    .copied()
                    .filter(|p| *p != Permission::UsersDelete),
            ),
            Role::Viewer => {
                PermissionSet::from_iter(Permission::ALL.iter().copied().filter(|p| p.is_read()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for p in Permission::ALL {
            assert_eq!(Permission::parse(p.as_str()), Ok(*p));
        }
        assert!(Permission::parse("oauth-clients:write").is_err());
        assert!(Permission::ALL.len() < 64);
    }

    #[test]
    fn wildcards_expand() {
        let users = PermissionSet::parse_item("users:*").unwrap();
        assert_eq!(
            users.names(),
            ["users:read", "users:create", "users:edit", "users:delete"]
        );
        assert!(PermissionSet::parse_item("nothing:*").is_err());
    }

    #[test]
    fn builtin_roles() {
        let viewer = Role::Viewer.permissions();
        assert!(viewer.contains(Permission::AdminAccess));
        assert!(viewer.contains(Permission::OauthClientsRead));
        assert!(!viewer.contains(Permission::OauthClientsCreate));
        assert!(!viewer.contains(Permission::ConnectionsToken));
        assert!(Role::Owner.permissions().contains(Permission::UsersDelete));
        assert!(!Role::Admin.permissions().contains(Permission::UsersDelete));
        assert!(Role::Admin
            .permissions()
            .contains(Permission::ApiKeysCreate));
        assert_eq!(
            RoleName::parse("viewer").unwrap().builtin(),
            Some(Role::Viewer)
        );
        assert!(RoleName::parse("Ops Team").is_err());
    }
}
