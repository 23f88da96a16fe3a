//! The store conformance suite: one set of checks that every backend must pass, one file per
//! repository. The test binary runs each check as its own test on SQLite and on PostgreSQL,
//! each on a fresh database, so one failure hides none of the others.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::json;
use tessera_domain::clock::from_millis;
use tessera_domain::{
    Actor, ApiKey, ApiKeyId, ApiKeyName, AuditAction, Email, NewAuditEvent, OrgId, OrgSlug,
    Organization, Permission, PermissionSet, RoleName, User, UserId, Username,
};
use uuid::Uuid;

use crate::{AuditQuery, CustomRole, Store, StoreError};

mod api_resources;
mod audit;
mod clients;
mod connections;
mod console;
mod flows;
mod limits;
mod orgs;
mod tokens;
mod users;
mod webhooks;

pub use api_resources::api_resources;
pub use audit::{audit_log, change_feed};
pub use clients::{oauth_clients, registration};
pub use connections::connections;
pub use console::console_sessions;
pub use flows::{
    codes_on_their_own, device_codes, interactive_flows, sender_constraints_and_logout,
};
pub use limits::{limit_counters, pushed_changes};
pub use orgs::{organizations, transactions};
pub use tokens::signing_keys_and_revocations;
pub use users::{api_keys, second_factor, user_updates, users_and_roles};
pub use webhooks::webhooks;

fn t(ms: i64) -> tessera_domain::Timestamp {
    from_millis(ms)
}

fn org(slug: &str) -> Organization {
    Organization {
        id: OrgId(Uuid::new_v4()),
        slug: OrgSlug::parse(slug).unwrap(),
        name: format!("Org {slug}"),
        created_at: t(1_000),
        updated_at: t(2_000),
    }
}

fn user(org: OrgId, name: &str) -> User {
    User {
        id: UserId(Uuid::new_v4()),
        org_id: org,
        username: Username::parse(name).unwrap(),
        email: Some(Email::parse(&format!("{name}@example.com")).unwrap()),
        name: Some(format!("User {name}")),
        // Standard claims round-trip through the store as they are.
        profile: tessera_domain::profile::UserProfile {
            given_name: Some(format!("Given {name}")),
            birthdate: Some("0000-02-29".into()),
            email_verified: true,
            address: Some(tessera_domain::profile::Address {
                locality: Some("Oxford".into()),
                postal_code: Some("OX1 1AA".into()),
                ..Default::default()
            }),
            ..Default::default()
        },
        roles: vec![RoleName::parse("admin").unwrap()],
        is_system_admin: false,
        is_active: true,
        created_at: t(3_000),
        updated_at: t(3_000),
    }
}

/// An authorization code of `user` with every optional value set.
fn auth_code(org: OrgId, user: UserId, hash: &str) -> crate::AuthCode {
    crate::AuthCode {
        code_hash: hash.into(),
        org_id: org,
        client_id: "web".into(),
        user_id: user,
        redirect_uri: "https://a.example/cb".into(),
        scope: "openid profile".into(),
        nonce: Some("n-1".into()),
        code_challenge: Some("challenge".into()),
        auth_time: t(1_000),
        created_at: t(1_000),
        expires_at: t(61_000),
        redeemed_at: None,
        access_jti: None,
        access_expires: None,
        claims: Some(tessera_domain::claims::ClaimsRequest {
            userinfo: vec!["name".into()],
            id_token: vec!["email".into()],
        }),
        resources: vec!["https://mcp.example.com/mcp".into(), "urn:b".into()],
        dpop_jkt: Some("jkt-1".into()),
        sid: Some("sid-1".into()),
        amr: "pwd otp".into(),
    }
}

/// A live refresh token of `user` for the client `web`, without any optional value.
fn refresh_token(org: OrgId, user: UserId, hash: &str, family: &str) -> crate::RefreshToken {
    crate::RefreshToken {
        token_hash: hash.into(),
        org_id: org,
        family_id: family.into(),
        client_id: "web".into(),
        user_id: user,
        scope: "openid".into(),
        auth_time: t(1_000),
        created_at: t(1_000),
        expires_at: t(900_000),
        used_at: None,
        revoked_at: None,
        claims: None,
        resources: vec![],
        dpop_jkt: None,
        sid: None,
        amr: "pwd".into(),
    }
}

fn key(org: Option<OrgId>, name: &str) -> ApiKey {
    ApiKey {
        id: ApiKeyId(Uuid::new_v4()),
        org_id: org,
        name: ApiKeyName::parse(name).unwrap(),
        hint: "…abcd".into(),
        roles: vec![RoleName::parse("viewer").unwrap()],
        permissions: PermissionSet::from_iter([Permission::ApiKeysCreate]),
        created_at: t(4_000),
        last_used_at: None,
        revoked_at: None,
    }
}

fn event(org: Option<OrgId>, action: AuditAction, actor: &str, ms: i64) -> NewAuditEvent {
    NewAuditEvent {
        org_id: org,
        actor: Actor {
            kind: "cli".into(),
            id: None,
            name: actor.into(),
        },
        action,
        target_type: "organization".into(),
        target_id: org.map(|o| o.to_string()),
        ip: Some("127.0.0.1".into()),
        request_id: Some("req-1".into()),
        before: None,
        after: Some(json!({"slug": "x", "n": ms})),
        created_at: t(ms),
    }
}
