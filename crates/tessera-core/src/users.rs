//! Members of an organization. Passwords are hashed with argon2id before they reach the
//! store and never appear in a log, an audit event or a response.

use secrecy::{ExposeSecret, SecretString};
use tessera_domain::error::Collector;
use tessera_domain::profile::UserProfile;
use tessera_domain::user::check_password;
use tessera_domain::{
    AuditAction, Email, OrgId, Permission, PermissionSet, PrincipalKind, RoleName, User, UserId,
    Username,
};
use tessera_store::{StoreError, Tx};
use uuid::Uuid;

use crate::audit::AuditEntry;
use crate::{snapshot, Context, CoreError, CoreResult, Services};

/// The input of [`Services::create_user`], as the faces received it.
#[derive(Debug, Default)]
pub struct NewUser {
    pub username: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub password: Option<SecretString>,
    pub roles: Vec<String>,
    /// Standard claims by their camelCase names (`givenName`, `address`, …); see
    /// [`tessera_domain::profile`].
    pub profile: serde_json::Map<String, serde_json::Value>,
}

/// A change to a member, as the faces received it; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct UserPatch {
    pub roles: Option<Vec<String>>,
    /// A new e-mail address (`Some(None)` clears it).
    pub email: Option<Option<String>>,
    /// A new display name (`Some(None)` clears it).
    pub name: Option<Option<String>>,
    /// Standard claims to change, by their camelCase names; `null` clears one.
    pub profile: serde_json::Map<String, serde_json::Value>,
    /// `false` deactivates (the member can no longer sign in, and their sessions end);
    /// `true` reactivates.
    pub is_active: Option<bool>,
}

/// Parses role names, recording each bad one under its index (`roles[2]`).
pub(crate) fn parse_roles(names: &[String], c: &mut Collector) -> Vec<RoleName> {
    names
        .iter()
        .enumerate()
        .filter_map(|(i, r)| c.take(RoleName::parse(r).map_err(|e| e.at(format!("roles[{i}]")))))
        .collect()
}

impl Services {
    pub async fn create_user(&self, ctx: &Context, org: &str, input: NewUser) -> CoreResult<User> {
        let mut c = Collector::new();
        let username = c.take(Username::parse(&input.username));
        let email = input
            .email
            .as_deref()
            .filter(|e| !e.trim().is_empty())
            .and_then(|e| c.take(Email::parse(e)));
        let name = match input
            .name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            Some(n) => c.take(tessera_domain::org::parse_display_name(n, "name")),
            None => None,
        };
        if let Some(p) = &input.password {
            c.take(check_password(p.expose_secret()));
        }
        let roles = parse_roles(&input.roles, &mut c);
        let profile = c.take_all(UserProfile::default().merged(&input.profile));
        c.finish()?;
        let username = username.ok_or_else(|| CoreError::invalid("username", "is required"))?;

        let password_hash = match input.password {
            Some(p) => Some(self.hash_password(p.expose_secret().to_owned()).await?),
            None => None,
        };
        let mut tx = self.store.begin().await?;
        let org = self
            .org_for(tx.as_mut(), ctx, org, Some(Permission::UsersCreate))
            .await?;
        self.check_roles(tx.as_mut(), org.id, &roles).await?;
        self.check_grantable(tx.as_mut(), ctx, org.id, &roles, PermissionSet::EMPTY)
            .await?;
        let now = self.now();
        let user = User {
            id: UserId(Uuid::new_v4()),
            org_id: org.id,
            username,
            email,
            name,
            profile: profile.unwrap_or_default(),
            roles,
            is_system_admin: false,
            is_active: true,
            created_at: now,
            updated_at: now,
        };
        self.insert_user(tx.as_mut(), ctx, &user, password_hash.as_deref())
            .await?;
        tx.commit().await?;
        Ok(user)
    }

    pub(crate) async fn insert_user(
        &self,
        tx: &mut dyn Tx,
        ctx: &Context,
        user: &User,
        password_hash: Option<&str>,
    ) -> CoreResult<()> {
        // The reverse of the client rule (RFC 9068 §5): a user's id never names a client. A
        // random id meets a client's only if someone chose that client id; refuse, never
        // merge.
        if let Ok(id) = tessera_domain::client::ClientId::parse(&user.id.to_string()) {
            if tx.find_client(user.org_id, &id).await?.is_some() {
                return Err(CoreError::Conflict(format!(
                    "the new user's id {} is a client id of this organization; try again",
                    user.id
                )));
            }
        }
        match tx.insert_user(user, password_hash).await {
            Err(StoreError::Conflict { .. }) => {
                return Err(CoreError::Conflict(format!(
                    "user '{}' already exists in this organization",
                    user.username
                )))
            }
            other => other?,
        }
        self.audit(
            tx,
            ctx,
            AuditEntry::new(AuditAction::UserCreated, "user")
                .org(user.org_id)
                .target(user.id.to_string())
                .after(snapshot(user)),
        )
        .await
    }

    /// Changes a member's roles, e-mail address, name and standard claims, or deactivates /
    /// reactivates them. Deactivating and reactivating need `users:delete` (it is how a member
    /// is removed without losing their history), everything else `users:edit`; nobody
    /// deactivates themselves, changes a member who holds more than they do, or grants more
    /// than they hold.
    pub async fn update_user(
        &self,
        ctx: &Context,
        org: &str,
        id: &str,
        patch: UserPatch,
    ) -> CoreResult<User> {
        let not_found = || CoreError::not_found("user", id);
        let user_id = Uuid::parse_str(id).map(UserId).map_err(|_| not_found())?;
        let mut c = Collector::new();
        let roles = patch.roles.as_ref().map(|r| parse_roles(r, &mut c));
        let email = patch.email.as_ref().map(|e| {
            e.as_deref()
                .map(str::trim)
                .filter(|e| !e.is_empty())
                .and_then(|e| c.take(Email::parse(e)))
        });
        let name = patch.name.as_ref().map(|n| {
            n.as_deref()
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .and_then(|n| c.take(tessera_domain::org::parse_display_name(n, "name")))
        });
        c.finish()?;
        let edits_person = email.is_some() || name.is_some() || !patch.profile.is_empty();
        let mut tx = self.store.begin().await?;
        let org = self
            .org_for(tx.as_mut(), ctx, org, Some(Permission::UsersRead))
            .await?;
        let before = tx
            .find_user(org.id, user_id)
            .await?
            .ok_or_else(not_found)?
            .user;
        // Nobody changes a member who holds more than they do (an admin cannot demote or
        // deactivate an owner); a system administrator is changed only by another.
        if before.is_system_admin && !ctx.principal.is_system_admin {
            return Err(CoreError::SystemAdminOnly("change a system administrator"));
        }
        self.check_grantable(
            tx.as_mut(),
            ctx,
            org.id,
            &before.roles,
            PermissionSet::EMPTY,
        )
        .await?;
        let mut after = before.clone();
        let mut action = AuditAction::UserUpdated;
        if let Some(active) = patch.is_active.filter(|a| *a != before.is_active) {
            // Membership itself, both ways: who may end it may also restore it.
            if !ctx.principal.has(org.id, Permission::UsersDelete) {
                return Err(CoreError::Forbidden(Permission::UsersDelete));
            }
            if !active && ctx.principal.kind == PrincipalKind::User(before.id) {
                return Err(CoreError::invalid(
                    "isActive",
                    "you cannot deactivate yourself: ask another administrator",
                ));
            }
            after.is_active = active;
            action = if active {
                AuditAction::UserReactivated
            } else {
                AuditAction::UserDeactivated
            };
        }
        if edits_person {
            if !ctx.principal.has(org.id, Permission::UsersEdit) {
                return Err(CoreError::Forbidden(Permission::UsersEdit));
            }
            if let Some(e) = email {
                after.email = e;
            }
            if let Some(n) = name {
                after.name = n;
            }
            after.profile = after.profile.merged(&patch.profile)?;
        }
        if let Some(roles) = roles {
            if !ctx.principal.has(org.id, Permission::UsersEdit) {
                return Err(CoreError::Forbidden(Permission::UsersEdit));
            }
            self.check_roles(tx.as_mut(), org.id, &roles).await?;
            self.check_grantable(tx.as_mut(), ctx, org.id, &roles, PermissionSet::EMPTY)
                .await?;
            after.roles = roles;
        }
        if after == before {
            return Ok(before);
        }
        after.updated_at = self.now();
        if !tx.update_user(&after).await? {
            return Err(not_found());
        }
        if !after.is_active {
            // Their sign-in sessions end with them, so no application gets a code from one
            // (console sessions re-read the member on every request).
            tx.end_user_sessions(org.id, after.id, after.updated_at)
                .await?;
        }
        self.audit(
            tx.as_mut(),
            ctx,
            AuditEntry::new(action, "user")
                .org(org.id)
                .target(after.id.to_string())
                .before(snapshot(&before))
                .after(snapshot(&after)),
        )
        .await?;
        tx.commit().await?;
        if !after.is_active {
            self.wake_backchannel();
        }
        Ok(after)
    }

    pub async fn list_users(&self, ctx: &Context, org: &str) -> CoreResult<Vec<User>> {
        let mut tx = self.store.read().await?;
        let org = self
            .org_for(tx.as_mut(), ctx, org, Some(Permission::UsersRead))
            .await?;
        Ok(tx.list_users(org.id).await?)
    }

    /// Every role must be built in or defined in the organization.
    pub(crate) async fn check_roles(
        &self,
        tx: &mut dyn Tx,
        org: OrgId,
        roles: &[RoleName],
    ) -> CoreResult<()> {
        let mut c = Collector::new();
        for (i, r) in roles.iter().enumerate() {
            if r.builtin().is_none() && tx.find_role(org, r).await?.is_none() {
                c.push(tessera_domain::FieldError::new(
                    format!("roles[{i}]"),
                    format!("unknown role '{r}': use owner, admin, viewer or a custom role of the organization"),
                ));
            }
        }
        Ok(c.finish()?)
    }

    /// Nobody hands out, changes or takes away more than they hold: every permission that
    /// `roles` and `direct` grant must be the caller's own (creating and revoking API keys,
    /// changing members).
    pub(crate) async fn check_grantable(
        &self,
        tx: &mut dyn Tx,
        ctx: &Context,
        org: OrgId,
        roles: &[RoleName],
        direct: PermissionSet,
    ) -> CoreResult<()> {
        let granted = self.role_permissions(tx, org, roles).await?.union(direct);
        match granted.iter().find(|p| !ctx.principal.has(org, *p)) {
            Some(p) => Err(CoreError::Forbidden(p)),
            None => Ok(()),
        }
    }

    /// The permissions that a set of roles grants in an organization.
    pub(crate) async fn role_permissions(
        &self,
        tx: &mut dyn Tx,
        org: OrgId,
        roles: &[RoleName],
    ) -> CoreResult<tessera_domain::PermissionSet> {
        let mut set = tessera_domain::PermissionSet::EMPTY;
        for r in roles {
            if let Some(b) = r.builtin() {
                set = set.union(b.permissions());
            } else if let Some(custom) = tx.find_role(org, r).await? {
                set = set.union(custom.permissions);
            }
        }
        Ok(set)
    }
}
