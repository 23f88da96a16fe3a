//! Conformance: users, custom roles and API keys.

use super::*;

pub async fn users_and_roles(store: &dyn Store) {
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

pub async fn user_updates(store: &dyn Store) {
    let a = org("conf-update-a");
    let b = org("conf-update-b");
    let alice = user(a.id, "alice");
    let mut tx = store.begin().await.unwrap();
    tx.insert_org(&a).await.unwrap();
    tx.insert_org(&b).await.unwrap();
    let namesake = user(b.id, "alice");
    tx.insert_user(&alice, Some("$argon2id$kept"))
        .await
        .unwrap();
    tx.insert_user(&namesake, None).await.unwrap();

    let edited = User {
        email: Some(Email::parse("alice@new.example").unwrap()),
        name: None,
        roles: vec![
            RoleName::parse("viewer").unwrap(),
            RoleName::parse("ops").unwrap(),
        ],
        is_active: false,
        updated_at: t(9_000),
        ..alice.clone()
    };
    assert!(tx.update_user(&edited).await.unwrap());
    let found = tx.find_user(a.id, alice.id).await.unwrap().unwrap();
    assert_eq!(found.user, edited);
    assert_eq!(
        found.password_hash.as_deref(),
        Some("$argon2id$kept"),
        "the password hash is untouched"
    );
    // Only the editable fields are written.
    let renamed = User {
        username: Username::parse("mallory").unwrap(),
        is_system_admin: true,
        created_at: t(1),
        updated_at: t(10_000),
        ..edited.clone()
    };
    assert!(tx.update_user(&renamed).await.unwrap());
    let found = tx
        .find_user_by_username(a.id, &alice.username)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        found.user,
        User {
            updated_at: t(10_000),
            ..edited.clone()
        }
    );
    assert_eq!(found.password_hash.as_deref(), Some("$argon2id$kept"));

    // Another organization's user, or no user at all, is not there to update.
    let elsewhere = User {
        org_id: b.id,
        is_active: true,
        updated_at: t(11_000),
        ..edited.clone()
    };
    assert!(!tx.update_user(&elsewhere).await.unwrap());
    let missing = User {
        id: UserId(Uuid::new_v4()),
        ..edited.clone()
    };
    assert!(!tx.update_user(&missing).await.unwrap());
    let unchanged = tx.find_user(a.id, alice.id).await.unwrap().unwrap();
    assert!(!unchanged.user.is_active);
    assert_eq!(unchanged.user.updated_at, t(10_000));
    assert_eq!(
        tx.find_user(b.id, namesake.id).await.unwrap().unwrap().user,
        namesake,
        "the namesake in the other organization is untouched"
    );
    tx.commit().await.unwrap();
}

pub async fn api_keys(store: &dyn Store) {
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

/// Passwords set by their owner, and the TOTP second factor: enrolment, confirmation by the
/// first step, no step twice, recovery codes spent once, removal; nothing crosses
/// organizations.
pub async fn second_factor(store: &dyn Store) {
    use crate::UserTotp;
    let a = org("conf-mfa-a");
    let b = org("conf-mfa-b");
    let alice = user(a.id, "alice");
    let mut tx = store.begin().await.unwrap();
    tx.insert_org(&a).await.unwrap();
    tx.insert_org(&b).await.unwrap();
    tx.insert_user(&alice, Some("$argon2id$old")).await.unwrap();

    assert!(!tx
        .set_password_hash(b.id, alice.id, "$argon2id$x", t(5_000))
        .await
        .unwrap());
    assert!(tx
        .set_password_hash(a.id, alice.id, "$argon2id$new", t(5_000))
        .await
        .unwrap());
    let found = tx.find_user(a.id, alice.id).await.unwrap().unwrap();
    assert_eq!(found.password_hash.as_deref(), Some("$argon2id$new"));
    assert_eq!(found.user.updated_at, t(5_000));

    assert_eq!(tx.find_totp(a.id, alice.id).await.unwrap(), None);
    let pending = UserTotp {
        org_id: a.id,
        user_id: alice.id,
        secret_sealed: "sealed-1".into(),
        confirmed_at: None,
        last_step: 0,
        recovery_codes: vec!["h1".into(), "h2".into()],
        created_at: t(6_000),
    };
    tx.put_totp(&pending).await.unwrap();
    assert_eq!(
        tx.find_totp(a.id, alice.id).await.unwrap(),
        Some(pending.clone())
    );
    assert_eq!(tx.find_totp(b.id, alice.id).await.unwrap(), None);
    // The first accepted step confirms it; the same step or an earlier one never again.
    assert!(!tx
        .accept_totp_step(b.id, alice.id, 10, t(7_000))
        .await
        .unwrap());
    assert!(tx
        .accept_totp_step(a.id, alice.id, 10, t(7_000))
        .await
        .unwrap());
    assert!(!tx
        .accept_totp_step(a.id, alice.id, 10, t(7_500))
        .await
        .unwrap());
    assert!(!tx
        .accept_totp_step(a.id, alice.id, 9, t(7_500))
        .await
        .unwrap());
    assert!(tx
        .accept_totp_step(a.id, alice.id, 11, t(8_000))
        .await
        .unwrap());
    let got = tx.find_totp(a.id, alice.id).await.unwrap().unwrap();
    assert_eq!(
        got.confirmed_at,
        Some(t(7_000)),
        "confirmed by the first step"
    );
    assert_eq!(got.last_step, 11);
    // Recovery codes: each once.
    assert!(!tx.spend_recovery_code(b.id, alice.id, "h1").await.unwrap());
    assert!(tx.spend_recovery_code(a.id, alice.id, "h1").await.unwrap());
    assert!(!tx.spend_recovery_code(a.id, alice.id, "h1").await.unwrap());
    assert!(!tx
        .spend_recovery_code(a.id, alice.id, "nope")
        .await
        .unwrap());
    assert_eq!(
        tx.find_totp(a.id, alice.id)
            .await
            .unwrap()
            .unwrap()
            .recovery_codes,
        vec!["h2".to_owned()]
    );
    // A new enrolment replaces the old one whole.
    let again = UserTotp {
        secret_sealed: "sealed-2".into(),
        recovery_codes: vec!["h3".into()],
        created_at: t(9_000),
        ..pending
    };
    tx.put_totp(&again).await.unwrap();
    assert_eq!(tx.find_totp(a.id, alice.id).await.unwrap(), Some(again));
    assert!(!tx.delete_totp(b.id, alice.id).await.unwrap());
    assert!(tx.delete_totp(a.id, alice.id).await.unwrap());
    // The organization's security policy: none until set, then the last one, per organization.
    assert_eq!(tx.find_security_policy(a.id).await.unwrap(), None);
    tx.put_security_policy(a.id, "{\"x\":1}", t(9_000))
        .await
        .unwrap();
    tx.put_security_policy(a.id, "{\"x\":2}", t(9_500))
        .await
        .unwrap();
    assert_eq!(
        tx.find_security_policy(a.id).await.unwrap().as_deref(),
        Some("{\"x\":2}")
    );
    assert_eq!(tx.find_security_policy(b.id).await.unwrap(), None);
    assert!(!tx.delete_totp(a.id, alice.id).await.unwrap());
    assert_eq!(tx.find_totp(a.id, alice.id).await.unwrap(), None);
    tx.commit().await.unwrap();
}
