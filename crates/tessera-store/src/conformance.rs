//! The store conformance suite: one set of checks that every backend must pass. The test
//! binary runs it on SQLite and on PostgreSQL, each on a fresh database.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::json;
use tessera_domain::clock::from_millis;
use tessera_domain::{
    Actor, ApiKey, ApiKeyId, ApiKeyName, AuditAction, Email, NewAuditEvent, OrgId, OrgSlug,
    Organization, Permission, PermissionSet, RoleName, User, UserId, Username,
};
use uuid::Uuid;

use crate::{AuditQuery, CustomRole, Store, StoreError};

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
        roles: vec![RoleName::parse("admin").unwrap()],
        is_system_admin: false,
        is_active: true,
        created_at: t(3_000),
        updated_at: t(3_000),
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

/// Runs every check against `store`, which must be freshly migrated and empty.
pub async fn run_all(store: &dyn Store) {
    organizations(store).await;
    users_and_roles(store).await;
    api_keys(store).await;
    audit_log(store).await;
    change_feed(store).await;
    transactions(store).await;
}

async fn organizations(store: &dyn Store) {
    let a = org("conf-org-a");
    let b = org("conf-org-b");
    let mut tx = store.begin().await.unwrap();
    let before = tx.count_orgs().await.unwrap();
    tx.insert_org(&b).await.unwrap();
    tx.insert_org(&a).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.read().await.unwrap();
    assert_eq!(tx.find_org(a.id).await.unwrap(), Some(a.clone()));
    assert_eq!(tx.find_org_by_slug(&b.slug).await.unwrap(), Some(b.clone()));
    assert_eq!(
        tx.find_org_by_slug(&OrgSlug::parse("conf-missing").unwrap())
            .await
            .unwrap(),
        None
    );
    assert_eq!(tx.count_orgs().await.unwrap(), before + 2);
    let slugs: Vec<String> = tx
        .list_orgs()
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.slug.to_string())
        .filter(|s| s.starts_with("conf-org-"))
        .collect();
    assert_eq!(slugs, ["conf-org-a", "conf-org-b"], "sorted by slug");
    drop(tx);

    let mut tx = store.begin().await.unwrap();
    let dup = Organization {
        id: OrgId(Uuid::new_v4()),
        ..a.clone()
    };
    match tx.insert_org(&dup).await {
        Err(StoreError::Conflict { .. }) => {}
        other => panic!("duplicate slug must be a conflict, got {other:?}"),
    }
}

async fn users_and_roles(store: &dyn Store) {
    let a = org("conf-users-a");
    let b = org("conf-users-b");
    let alice = user(a.id, "alice");
    let mut tx = store.begin().await.unwrap();
    tx.insert_org(&a).await.unwrap();
    tx.insert_org(&b).await.unwrap();
    tx.insert_user(&alice, Some("$argon2id$fake"))
        .await
        .unwrap();
    // The same name in another organization is another person.
    tx.insert_user(&user(b.id, "alice"), None).await.unwrap();
    tx.insert_role(&CustomRole {
        org_id: a.id,
        name: RoleName::parse("ops").unwrap(),
        permissions: PermissionSet::from_iter([Permission::AuditLogRead, Permission::UsersRead]),
        created_at: t(5_000),
    })
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.read().await.unwrap();
    let found = tx
        .find_user_by_username(a.id, &alice.username)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.user, alice);
    assert_eq!(found.password_hash.as_deref(), Some("$argon2id$fake"));
    assert_eq!(
        tx.find_user(a.id, alice.id).await.unwrap().unwrap().user,
        alice
    );
    assert!(
        tx.find_user(b.id, alice.id).await.unwrap().is_none(),
        "another organization's user is invisible"
    );
    assert_eq!(tx.list_users(a.id).await.unwrap(), vec![alice.clone()]);
    let role = tx
        .find_role(a.id, &RoleName::parse("ops").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(role.permissions.contains(Permission::AuditLogRead));
    assert!(!role.permissions.contains(Permission::UsersCreate));
    assert!(tx
        .find_role(b.id, &RoleName::parse("ops").unwrap())
        .await
        .unwrap()
        .is_none());
    assert_eq!(tx.list_roles(a.id).await.unwrap().len(), 1);
    drop(tx);

    let mut tx = store.begin().await.unwrap();
    let dup = User {
        id: UserId(Uuid::new_v4()),
        ..alice.clone()
    };
    assert!(matches!(
        tx.insert_user(&dup, None).await,
        Err(StoreError::Conflict { .. })
    ));
}

async fn api_keys(store: &dyn Store) {
    let a = org("conf-keys-a");
    let b = org("conf-keys-b");
    let ka = key(Some(a.id), "ci");
    let ks = key(None, "root");
    let mut tx = store.begin().await.unwrap();
    tx.insert_org(&a).await.unwrap();
    tx.insert_org(&b).await.unwrap();
    tx.insert_api_key(&ka, "hmac-sha256$a").await.unwrap();
    tx.insert_api_key(&ks, "hmac-sha256$s").await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.begin().await.unwrap();
    let rec = tx
        .find_api_key_by_hash("hmac-sha256$a")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rec.key, ka);
    assert_eq!(rec.key_hash, "hmac-sha256$a");
    assert!(tx.find_api_key_by_hash("nope").await.unwrap().is_none());
    assert_eq!(
        tx.find_api_key(Some(a.id), ka.id).await.unwrap(),
        Some(ka.clone())
    );
    assert_eq!(tx.find_api_key(Some(b.id), ka.id).await.unwrap(), None);
    assert_eq!(tx.find_api_key(None, ka.id).await.unwrap(), None);
    assert_eq!(
        tx.find_api_key(None, ks.id).await.unwrap(),
        Some(ks.clone())
    );
    assert_eq!(
        tx.list_api_keys(Some(a.id)).await.unwrap(),
        vec![ka.clone()]
    );
    assert!(tx.list_api_keys(Some(b.id)).await.unwrap().is_empty());
    assert!(tx.list_api_keys(None).await.unwrap().contains(&ks));

    tx.touch_api_key(ka.id, t(9_000)).await.unwrap();
    assert!(!tx
        .revoke_api_key(Some(b.id), ka.id, t(9_500))
        .await
        .unwrap());
    assert!(tx
        .revoke_api_key(Some(a.id), ka.id, t(10_000))
        .await
        .unwrap());
    assert!(!tx
        .revoke_api_key(Some(a.id), ka.id, t(11_000))
        .await
        .unwrap());
    let after = tx.find_api_key(Some(a.id), ka.id).await.unwrap().unwrap();
    assert_eq!(after.last_used_at, Some(t(9_000)));
    assert_eq!(after.revoked_at, Some(t(10_000)));
    let mut dup = key(Some(a.id), "dup");
    dup.id = ApiKeyId(Uuid::new_v4());
    assert!(matches!(
        tx.insert_api_key(&dup, "hmac-sha256$a").await,
        Err(StoreError::Conflict { .. })
    ));
}

async fn audit_log(store: &dyn Store) {
    let a = org("conf-audit-a");
    let b = org("conf-audit-b");
    let mut tx = store.begin().await.unwrap();
    tx.insert_org(&a).await.unwrap();
    tx.insert_org(&b).await.unwrap();
    let mut ids = vec![];
    for i in 0..5 {
        let action = if i % 2 == 0 {
            AuditAction::UserCreated
        } else {
            AuditAction::ApiKeyCreated
        };
        ids.push(
            tx.insert_audit(&event(
                Some(a.id),
                action,
                if i < 3 { "cli" } else { "bob" },
                20_000 + i,
            ))
            .await
            .unwrap(),
        );
    }
    tx.insert_audit(&event(Some(b.id), AuditAction::OrgCreated, "cli", 30_000))
        .await
        .unwrap();
    let sys = tx
        .insert_audit(&event(
            None,
            AuditAction::SystemBootstrapped,
            "system",
            40_000,
        ))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids increase");

    let mut tx = store.read().await.unwrap();
    let all = tx
        .list_audit(
            a.id,
            &AuditQuery {
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(all.len(), 5, "only this organization's events");
    assert_eq!(all[0].id, ids[4], "newest first");
    assert_eq!(all[0].after, Some(json!({"slug": "x", "n": 20_004})));
    assert_eq!(all[0].ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(all[0].created_at, t(20_004));

    let page = tx
        .list_audit(
            a.id,
            &AuditQuery {
                limit: 2,
                before: Some(ids[3]),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        page.iter().map(|e| e.id).collect::<Vec<_>>(),
        vec![ids[2], ids[1]]
    );

    let users = tx
        .list_audit(
            a.id,
            &AuditQuery {
                limit: 100,
                action: Some("user.created".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(users.len(), 3);
    let bob = tx
        .list_audit(
            a.id,
            &AuditQuery {
                limit: 100,
                actor: Some("bob".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(bob.len(), 2);
    let system = tx
        .list_system_audit(&AuditQuery {
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(system.iter().any(|e| e.id == sys));
    assert!(system.iter().all(|e| e.org_id.is_none()));
}

async fn change_feed(store: &dyn Store) {
    let mut tx = store.begin().await.unwrap();
    let start = tx.last_change_seq().await.unwrap();
    tx.record_change(None, "api_key", "k1", t(1_000))
        .await
        .unwrap();
    tx.record_change(None, "api_key", "k2", t(50_000))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.begin().await.unwrap();
    let seen = tx.changes_since(start, 10).await.unwrap();
    assert_eq!(
        seen.iter().map(|c| c.key.as_str()).collect::<Vec<_>>(),
        ["k1", "k2"]
    );
    assert_eq!(tx.last_change_seq().await.unwrap(), seen[1].seq);
    assert_eq!(tx.changes_since(start, 1).await.unwrap().len(), 1);
    assert!(tx.prune_changes(t(2_000)).await.unwrap() >= 1);
    let rest = tx.changes_since(start, 10).await.unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(tx.last_change_seq().await.unwrap(), seen[1].seq);
    tx.commit().await.unwrap();
}

async fn transactions(store: &dyn Store) {
    let o = org("conf-rollback");
    {
        let mut tx = store.begin().await.unwrap();
        tx.insert_org(&o).await.unwrap();
        // Dropped without commit.
    }
    let mut tx = store.read().await.unwrap();
    assert!(tx.find_org(o.id).await.unwrap().is_none(), "rolled back");
    drop(tx);
    store.ping().await.unwrap();
}
