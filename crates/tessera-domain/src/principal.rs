//! Who is asking: the authenticated caller of a service, with what it may do and where.
//! The service layer checks every call against it; faces only build it.

use crate::audit::Actor;
use crate::org::OrgId;
use crate::permission::{Permission, PermissionSet};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalKind {
    ApiKey(crate::api_key::ApiKeyId),
    User(crate::user::UserId),
    /// An OAuth client calling a protocol endpoint, by client id.
    OAuthClient(String),
    /// The `tessera` command line, run by whoever can read the data dir.
    Cli,
    /// Tessera itself (bootstrap, background jobs).
    System,
    /// The client registration endpoint (RFC 7591/7592), acting for a registered client.
    Registration,
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    pub kind: PrincipalKind,
    /// A label for the audit log (key name, username).
    pub name: String,
    /// The organization the principal belongs to; `None` for system-wide principals.
    pub org_id: Option<OrgId>,
    pub is_system_admin: bool,
    pub permissions: PermissionSet,
}

impl Principal {
    /// The command line and Tessera itself act as system administrators: whoever can run them
    /// can already read the database.
    pub fn cli() -> Self {
        Self {
            kind: PrincipalKind::Cli,
            name: "cli".into(),
            org_id: None,
            is_system_admin: true,
            permissions: PermissionSet::all(),
        }
    }

    /// An OAuth client of `org`, which holds no admin permission.
    pub fn oauth_client(org: OrgId, client_id: &str) -> Self {
        Self {
            kind: PrincipalKind::OAuthClient(client_id.to_owned()),
            name: client_id.to_owned(),
            org_id: Some(org),
            is_system_admin: false,
            permissions: PermissionSet::EMPTY,
        }
    }

    /// A user of `org` signing in to an application: audited as themselves, holding no admin
    /// permission.
    pub fn end_user(org: OrgId, id: crate::UserId, username: &str) -> Self {
        Self {
            kind: PrincipalKind::User(id),
            name: username.to_owned(),
            org_id: Some(org),
            is_system_admin: false,
            permissions: PermissionSet::EMPTY,
        }
    }

    /// The registration endpoint of `org`, allowed the client permissions of one operation;
    /// `name` says for whom (the client id once there is one).
    pub fn registration(org: OrgId, name: &str, permissions: &[Permission]) -> Self {
        let mut set = PermissionSet::EMPTY;
        for p in permissions {
            set.insert(*p);
        }
        Self {
            kind: PrincipalKind::Registration,
            name: name.to_owned(),
            org_id: Some(org),
            is_system_admin: false,
            permissions: set,
        }
    }

    pub fn system() -> Self {
        Self {
            kind: PrincipalKind::System,
            name: "system".into(),
            org_id: None,
            is_system_admin: true,
            permissions: PermissionSet::all(),
        }
    }

    /// Whether the principal may see anything of this organization at all.
    pub fn can_see_org(&self, org: OrgId) -> bool {
        self.is_system_admin || self.org_id == Some(org)
    }

    /// Whether the principal holds `p` in `org`.
    pub fn has(&self, org: OrgId, p: Permission) -> bool {
        self.is_system_admin || (self.org_id == Some(org) && self.permissions.contains(p))
    }

    pub fn actor(&self) -> Actor {
        let (kind, id) = match &self.kind {
            PrincipalKind::ApiKey(id) => ("api_key", Some(id.to_string())),
            PrincipalKind::User(id) => ("user", Some(id.to_string())),
            PrincipalKind::OAuthClient(id) => ("oauth_client", Some(id.clone())),
            PrincipalKind::Cli => ("cli", None),
            PrincipalKind::System => ("system", None),
            PrincipalKind::Registration => ("registration", None),
        };
        Actor {
            kind: kind.into(),
            id,
            name: self.name.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::permission::Role;
    use uuid::Uuid;

    #[test]
    fn org_scoping() {
        let a = OrgId(Uuid::from_u128(1));
        let b = OrgId(Uuid::from_u128(2));
        let p = Principal {
            kind: PrincipalKind::Cli,
            name: "k".into(),
            org_id: Some(a),
            is_system_admin: false,
            permissions: Role::Viewer.permissions(),
        };
        assert!(p.can_see_org(a));
        assert!(!p.can_see_org(b));
        assert!(p.has(a, Permission::AuditLogRead));
        assert!(!p.has(b, Permission::AuditLogRead));
        assert!(!p.has(a, Permission::ApiKeysCreate));
        assert!(Principal::cli().has(b, Permission::UsersDelete));
    }
}
