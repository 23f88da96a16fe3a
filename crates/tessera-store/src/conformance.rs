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
    oauth_clients(store).await;
    signing_keys_and_revocations(store).await;
    interactive_flows(store).await;
    device_codes(store).await;
    registration(store).await;
    connections(store).await;
    console_sessions(store).await;
    user_updates(store).await;
}

async fn console_sessions(store: &dyn Store) {
    use crate::{ConsoleLogin, ConsoleSession};
    let a = org("conf-console-a");
    let b = org("conf-console-b");
    let ann = user(a.id, "ann");
    let amy = user(a.id, "amy");
    let bea = user(b.id, "bea");
    let session = |hash: &str, expires_ms: i64| ConsoleSession {
        id_hash: hash.into(),
        current_org: None,
        created_at: t(1_000),
        expires_at: t(expires_ms),
        ended_at: None,
    };
    let login = |hash: &str, org: OrgId, who: UserId, ms: i64| ConsoleLogin {
        session_hash: hash.into(),
        org_id: org,
        user_id: who,
        auth_time: t(ms),
        created_at: t(ms),
    };
    let mut tx = store.begin().await.unwrap();
    tx.insert_org(&a).await.unwrap();
    tx.insert_org(&b).await.unwrap();
    for u in [&ann, &amy, &bea] {
        tx.insert_user(u, None).await.unwrap();
    }
    let first = session("console-1", 100_000);
    let shown = ConsoleSession {
        current_org: Some(b.id),
        ..session("console-2", 900_000)
    };
    tx.insert_console_session(&first).await.unwrap();
    tx.insert_console_session(&shown).await.unwrap();
    tx.commit().await.unwrap();

    // Round trip, with and without an organization shown.
    let mut tx = store.begin().await.unwrap();
    assert_eq!(
        tx.find_console_session("console-1").await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(
        tx.find_console_session("console-2").await.unwrap(),
        Some(shown.clone())
    );
    assert_eq!(tx.find_console_session("console-x").await.unwrap(), None);

    // The organization shown changes while the session lives, not after it ended.
    assert!(tx.set_console_org("console-1", a.id).await.unwrap());
    assert!(!tx.set_console_org("console-x", a.id).await.unwrap());
    assert_eq!(
        tx.find_console_session("console-1")
            .await
            .unwrap()
            .unwrap()
            .current_org,
        Some(a.id)
    );
    assert!(tx.end_console_session("console-1", t(5_000)).await.unwrap());
    assert!(
        !tx.end_console_session("console-1", t(6_000)).await.unwrap(),
        "ended once"
    );
    assert!(!tx.end_console_session("console-x", t(6_000)).await.unwrap());
    assert!(
        !tx.set_console_org("console-1", b.id).await.unwrap(),
        "ended"
    );
    let ended = tx.find_console_session("console-1").await.unwrap().unwrap();
    assert_eq!(
        (ended.current_org, ended.ended_at),
        (Some(a.id), Some(t(5_000)))
    );

    // One sign-in per organization: a newer one replaces it, other organizations keep theirs.
    tx.upsert_console_login(&login("console-2", a.id, ann.id, 2_000))
        .await
        .unwrap();
    tx.upsert_console_login(&login("console-2", b.id, bea.id, 3_000))
        .await
        .unwrap();
    assert_eq!(
        tx.list_console_logins("console-2").await.unwrap(),
        [
            login("console-2", a.id, ann.id, 2_000),
            login("console-2", b.id, bea.id, 3_000)
        ],
        "oldest first"
    );
    tx.upsert_console_login(&login("console-2", a.id, amy.id, 4_000))
        .await
        .unwrap();
    assert_eq!(
        tx.list_console_logins("console-2").await.unwrap(),
        [
            login("console-2", b.id, bea.id, 3_000),
            login("console-2", a.id, amy.id, 4_000)
        ],
        "replaced in place, now the newest"
    );
    assert!(tx
        .list_console_logins("console-x")
        .await
        .unwrap()
        .is_empty());
    tx.commit().await.unwrap();

    // Purging removes what expired or ended before the cut-off, with its sign-ins; what lives
    // on, or ended after it, stays.
    let mut tx = store.begin().await.unwrap();
    tx.insert_console_session(&session("console-expired", 10_000))
        .await
        .unwrap();
    tx.upsert_console_login(&login("console-expired", a.id, ann.id, 1_000))
        .await
        .unwrap();
    tx.upsert_console_login(&login("console-1", a.id, ann.id, 1_000))
        .await
        .unwrap();
    tx.insert_console_session(&ConsoleSession {
        ended_at: Some(t(60_000)),
        ..session("console-ended-late", 900_000)
    })
    .await
    .unwrap();
    assert_eq!(tx.purge_console_sessions(t(50_000)).await.unwrap(), 2);
    for gone in ["console-expired", "console-1"] {
        assert_eq!(tx.find_console_session(gone).await.unwrap(), None, "{gone}");
        assert!(
            tx.list_console_logins(gone).await.unwrap().is_empty(),
            "{gone}'s sign-ins go with it"
        );
    }
    assert!(tx
        .find_console_session("console-ended-late")
        .await
        .unwrap()
        .is_some());
    assert_eq!(
        tx.find_console_session("console-2").await.unwrap(),
        Some(shown)
    );
    assert_eq!(tx.list_console_logins("console-2").await.unwrap().len(), 2);
    assert_eq!(tx.purge_console_sessions(t(50_000)).await.unwrap(), 0);
    tx.commit().await.unwrap();

    // A hash is stored once (the failed insert ends a PostgreSQL transaction: it comes last).
    let mut tx = store.begin().await.unwrap();
    assert!(matches!(
        tx.insert_console_session(&session("console-2", 1)).await,
        Err(StoreError::Conflict { .. })
    ));
    drop(tx);
}

async fn user_updates(store: &dyn Store) {
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

fn connection(org: OrgId, p: tessera_domain::Platform, due_ms: i64) -> crate::ConnectionRecord {
    crate::ConnectionRecord {
        id: Uuid::new_v4().to_string(),
        org_id: org,
        platform: p,
        kind: tessera_domain::ConnectionKind::Channel,
        channel_id: "42".into(),
        channel_name: "Chan".into(),
        scopes: vec!["a".into(), "b".into()],
        access_token: "v1.k.n.access".into(),
        refresh_token: Some("v1.k.n.refresh".into()),
        token_expires_at: Some(t(due_ms + 600_000)),
        connected_at: t(1_000),
        updated_at: t(1_000),
        last_refreshed_at: None,
        next_refresh_at: Some(t(due_ms)),
        next_validate_at: None,
        refresh_attempts: 0,
        refresh_failed_at: None,
        refresh_error: None,
        lease_owner: None,
        lease_until: None,
    }
}

async fn connections(store: &dyn Store) {
    use crate::{SealedColumn, WorkResult};
    use tessera_domain::{ConnectionKind, Platform};
    let o = org("conn-org");
    let mut tx = store.begin().await.unwrap();
    tx.insert_org(&o).await.unwrap();
    // Providers: on unless switched off.
    assert!(tx.disabled_providers().await.unwrap().is_empty());
    tx.set_provider_enabled(Platform::Trovo, false, t(1))
        .await
        .unwrap();
    assert_eq!(tx.disabled_providers().await.unwrap(), [Platform::Trovo]);
    tx.set_provider_enabled(Platform::Trovo, true, t(2))
        .await
        .unwrap();
    assert!(tx.disabled_providers().await.unwrap().is_empty());
    // Credentials: one row per platform, replaced in place.
    let mut cred = crate::CredentialRecord {
        id: Uuid::new_v4().to_string(),
        org_id: o.id,
        platform: Platform::Twitch,
        client_id: "v1.k.n.id".into(),
        client_secret: "v1.k.n.secret".into(),
        client_id_hint: "1234".into(),
        created_at: t(10),
        updated_at: t(10),
    };
    tx.put_credentials(&cred).await.unwrap();
    cred.client_secret = "v1.k.n.secret2".into();
    cred.updated_at = t(20);
    tx.put_credentials(&cred).await.unwrap();
    assert_eq!(tx.list_credentials(o.id).await.unwrap(), [cred.clone()]);
    let a = connection(o.id, Platform::Twitch, 5_000);
    let b = connection(o.id, Platform::Kick, 9_000);
    tx.put_connection(&a).await.unwrap();
    tx.put_connection(&b).await.unwrap();
    assert_eq!(
        tx.find_connection(o.id, Platform::Twitch, ConnectionKind::Channel)
            .await
            .unwrap(),
        Some(a.clone())
    );
    tx.commit().await.unwrap();

    // Leases: what one owner holds, no one else gets; only the holder writes.
    let mut tx = store.begin().await.unwrap();
    let got = tx
        .claim_due_connections("node-a", t(6_000), t(66_000), 10)
        .await
        .unwrap();
    assert_eq!(got.len(), 1, "only the due one");
    assert_eq!(got[0].id, a.id);
    assert_eq!(got[0].lease_owner.as_deref(), Some("node-a"));
    assert!(tx
        .claim_due_connections("node-b", t(6_000), t(66_000), 10)
        .await
        .unwrap()
        .is_empty());
    assert!(tx
        .claim_connection(&a.id, "node-b", t(6_000), t(66_000))
        .await
        .unwrap()
        .is_none());
    let done = WorkResult::Refreshed {
        access_token: "v1.k.n.access2".into(),
        refresh_token: Some("v1.k.n.refresh2".into()),
        token_expires_at: Some(t(700_000)),
        next_refresh_at: Some(t(600_000)),
        next_validate_at: None,
        at: t(6_100),
    };
    assert!(!tx
        .finish_connection_work(&a.id, "node-b", &done)
        .await
        .unwrap());
    assert!(tx
        .finish_connection_work(&a.id, "node-a", &done)
        .await
        .unwrap());
    let now = tx.find_connection_by_id(&a.id).await.unwrap().unwrap();
    assert_eq!(
        (now.access_token.as_str(), now.refresh_token.as_deref()),
        ("v1.k.n.access2", Some("v1.k.n.refresh2"))
    );
    assert_eq!(now.lease_owner, None);
    assert_eq!(now.last_refreshed_at, Some(t(6_100)));
    // A lease that ran out can be taken over.
    let b2 = tx
        .claim_connection(&b.id, "node-a", t(6_000), t(7_000))
        .await
        .unwrap();
    assert!(b2.is_some());
    assert!(tx
        .claim_connection(&b.id, "node-b", t(8_000), t(68_000))
        .await
        .unwrap()
        .is_some());
    let failed = WorkResult::Failed {
        error: "refused".into(),
        at: t(8_100),
    };
    assert!(!tx
        .finish_connection_work(&b.id, "node-a", &failed)
        .await
        .unwrap());
    assert!(tx
        .finish_connection_work(&b.id, "node-b", &failed)
        .await
        .unwrap());
    assert!(
        tx.claim_due_connections("node-c", t(999_999_999), t(999_999_999), 10)
            .await
            .unwrap()
            .iter()
            .all(|c| c.id != b.id),
        "a failed connection is not claimed"
    );
    let stats = tx.connection_stats().await.unwrap();
    assert_eq!((stats.connections, stats.failed), (2, 1));
    tx.commit().await.unwrap();

    // Sealed cells: listed by row id, swapped only while unchanged.
    let mut tx = store.begin().await.unwrap();
    let cells = tx
        .sealed_cells(SealedColumn::AccessToken, None, 100)
        .await
        .unwrap();
    assert!(cells
        .iter()
        .any(|c| c.row_id == a.id && c.value == "v1.k.n.access2"));
    assert!(!tx
        .reseal_cell(SealedColumn::AccessToken, &a.id, "stale", "new")
        .await
        .unwrap());
    assert!(tx
        .reseal_cell(
            SealedColumn::AccessToken,
            &a.id,
            "v1.k.n.access2",
            "v1.k2.n.x"
        )
        .await
        .unwrap());
    // States: single use.
    let st = crate::ConnectionState {
        state_hash: "h1".into(),
        org_id: o.id,
        platform: Platform::Kick,
        kind: ConnectionKind::Bot,
        actor: Actor {
            kind: "user".into(),
            id: Some("u1".into()),
            name: "ann".into(),
        },
        code_verifier: Some("v1.k.n.verifier".into()),
        created_at: t(1),
        expires_at: t(600_001),
        used_at: None,
    };
    tx.insert_connection_state(&st).await.unwrap();
    let taken = tx.take_connection_state("h1", t(5)).await.unwrap().unwrap();
    assert_eq!(taken.used_at, Some(t(5)));
    assert_eq!(taken.actor, st.actor);
    assert!(tx
        .take_connection_state("h1", t(6))
        .await
        .unwrap()
        .is_none());
    assert!(tx
        .delete_connection(o.id, Platform::Kick, ConnectionKind::Channel)
        .await
        .unwrap());
    assert!(tx.delete_credentials(o.id, Platform::Twitch).await.unwrap());
    tx.commit().await.unwrap();
}

async fn registration(store: &dyn Store) {
    use crate::InitialAccessToken;
    let a = org("conf-reg-a");
    let b = org("conf-reg-b");
    let c = client(a.id, "registered", "Registered App", 1_000);
    let mut tx = store.begin().await.unwrap();
    tx.insert_org(&a).await.unwrap();
    tx.insert_org(&b).await.unwrap();
    tx.insert_client(&c).await.unwrap();
    assert_eq!(tx.registration_policy(a.id).await.unwrap(), None);
    tx.put_registration_policy(a.id, r#"{"mode":"open"}"#, t(1_000))
        .await
        .unwrap();
    tx.put_registration_policy(a.id, r#"{"mode":"token"}"#, t(2_000))
        .await
        .unwrap();
    assert_eq!(
        tx.registration_policy(a.id).await.unwrap().as_deref(),
        Some(r#"{"mode":"token"}"#)
    );
    assert_eq!(tx.registration_policy(b.id).await.unwrap(), None);
    let iat = InitialAccessToken {
        id: "iat-1".into(),
        org_id: a.id,
        token_hash: "iat-hash".into(),
        hint: "…abcd".into(),
        created_at: t(1_000),
        expires_at: Some(t(9_000)),
        revoked_at: None,
    };
    tx.insert_initial_access_token(&iat).await.unwrap();
    assert_eq!(
        tx.find_initial_access_token(a.id, "iat-hash")
            .await
            .unwrap(),
        Some(iat.clone())
    );
    assert!(tx
        .find_initial_access_token(b.id, "iat-hash")
        .await
        .unwrap()
        .is_none());
    assert_eq!(tx.list_initial_access_tokens(a.id).await.unwrap(), [iat]);
    assert!(!tx
        .revoke_initial_access_token(b.id, "iat-1", t(3_000))
        .await
        .unwrap());
    assert!(tx
        .revoke_initial_access_token(a.id, "iat-1", t(3_000))
        .await
        .unwrap());
    assert!(!tx
        .revoke_initial_access_token(a.id, "iat-1", t(3_000))
        .await
        .unwrap());
    tx.set_registration_token(a.id, "registered", "rat-1", t(1_000))
        .await
        .unwrap();
    tx.set_registration_token(a.id, "registered", "rat-2", t(2_000))
        .await
        .unwrap();
    assert_eq!(
        tx.registration_token(a.id, "registered")
            .await
            .unwrap()
            .as_deref(),
        Some("rat-2")
    );
    assert_eq!(
        tx.registration_token(b.id, "registered").await.unwrap(),
        None
    );
    // Deleting the client deletes its registration and every grant it held.
    let who = UserId(Uuid::from_u128(91));
    tx.upsert_consent(a.id, who, "registered", &["openid".to_owned()], t(1_000))
        .await
        .unwrap();
    tx.insert_refresh(&crate::RefreshToken {
        token_hash: "reg-refresh".into(),
        org_id: a.id,
        family_id: "fam".into(),
        client_id: "registered".into(),
        user_id: who,
        scope: "openid".into(),
        auth_time: t(1_000),
        created_at: t(1_000),
        expires_at: t(9_000_000),
        used_at: None,
        revoked_at: None,
        claims: None,
    })
    .await
    .unwrap();
    tx.delete_client(a.id, &c.id).await.unwrap();
    assert_eq!(
        tx.registration_token(a.id, "registered").await.unwrap(),
        None
    );
    assert_eq!(
        tx.find_consent(a.id, who, "registered").await.unwrap(),
        None
    );
    assert!(tx
        .find_refresh(a.id, "reg-refresh")
        .await
        .unwrap()
        .is_none());
    tx.commit().await.unwrap();
}

async fn device_codes(store: &dyn Store) {
    use crate::{DeviceCode, DeviceStatus};
    let a = org("conf-device-a");
    let b = org("conf-device-b");
    let who = UserId(Uuid::from_u128(77));
    let d = DeviceCode {
        device_code_hash: "dev-hash".into(),
        user_code_hash: "user-hash".into(),
        org_id: a.id,
        client_id: "cli".into(),
        scope: "openid".into(),
        status: DeviceStatus::Pending,
        user_id: None,
        auth_time: None,
        interval_secs: 5,
        last_polled_at: None,
        created_at: t(1_000),
        expires_at: t(601_000),
    };
    let mut tx = store.begin().await.unwrap();
    tx.insert_org(&a).await.unwrap();
    tx.insert_org(&b).await.unwrap();
    tx.insert_device_code(&d).await.unwrap();
    assert_eq!(
        tx.find_device_code(a.id, "dev-hash").await.unwrap(),
        Some(d.clone())
    );
    assert_eq!(
        tx.find_device_by_user_code(a.id, "user-hash")
            .await
            .unwrap(),
        Some(d.clone())
    );
    assert!(
        tx.find_device_code(b.id, "dev-hash")
            .await
            .unwrap()
            .is_none(),
        "other org"
    );
    assert!(tx
        .find_device_by_user_code(b.id, "user-hash")
        .await
        .unwrap()
        .is_none());
    // Nothing to redeem while pending; not decided once expired or by another org.
    assert!(!tx.redeem_device_code(a.id, "dev-hash").await.unwrap());
    assert!(!tx
        .decide_device_code(a.id, "user-hash", true, who, t(2_000), t(601_000))
        .await
        .unwrap());
    assert!(!tx
        .decide_device_code(b.id, "user-hash", true, who, t(2_000), t(2_000))
        .await
        .unwrap());
    tx.poll_device_code(a.id, "dev-hash", t(3_000), 10)
        .await
        .unwrap();
    assert!(tx
        .decide_device_code(a.id, "user-hash", true, who, t(2_000), t(4_000))
        .await
        .unwrap());
    // Decided once only.
    assert!(!tx
        .decide_device_code(a.id, "user-hash", false, who, t(2_000), t(4_000))
        .await
        .unwrap());
    let now = tx
        .find_device_code(a.id, "dev-hash")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(now.status, DeviceStatus::Approved);
    assert_eq!((now.user_id, now.auth_time), (Some(who), Some(t(2_000))));
    assert_eq!(
        (now.interval_secs, now.last_polled_at),
        (10, Some(t(3_000)))
    );
    assert!(tx.redeem_device_code(a.id, "dev-hash").await.unwrap());
    assert!(
        !tx.redeem_device_code(a.id, "dev-hash").await.unwrap(),
        "once"
    );
    assert_eq!(
        tx.find_device_code(a.id, "dev-hash")
            .await
            .unwrap()
            .unwrap()
            .status,
        DeviceStatus::Redeemed
    );
    // The same user code in another organization is another row.
    tx.insert_device_code(&DeviceCode {
        device_code_hash: "dev-hash-b".into(),
        org_id: b.id,
        ..d.clone()
    })
    .await
    .unwrap();
    // Expired flows are pruned; live ones stay.
    tx.insert_device_code(&DeviceCode {
        device_code_hash: "dev-live".into(),
        user_code_hash: "user-live".into(),
        org_id: a.id,
        client_id: "cli".into(),
        scope: String::new(),
        status: DeviceStatus::Pending,
        user_id: None,
        auth_time: None,
        interval_secs: 5,
        last_polled_at: None,
        created_at: t(1_000),
        expires_at: t(900_000),
    })
    .await
    .unwrap();
    assert!(tx.prune_expired_flows(t(601_001)).await.unwrap() >= 2);
    assert!(tx
        .find_device_code(a.id, "dev-live")
        .await
        .unwrap()
        .is_some());
    assert!(tx
        .find_device_code(a.id, "dev-hash")
        .await
        .unwrap()
        .is_none());
    assert!(tx
        .find_device_code(b.id, "dev-hash-b")
        .await
        .unwrap()
        .is_none());
    drop(tx);
    // A user code is unique in its organization (the insert fails, which ends a PostgreSQL
    // transaction, so it comes last).
    let mut tx = store.begin().await.unwrap();
    tx.insert_org(&a).await.unwrap();
    tx.insert_device_code(&d).await.unwrap();
    assert!(matches!(
        tx.insert_device_code(&DeviceCode {
            device_code_hash: "dev-hash-c".into(),
            ..d
        })
        .await,
        Err(StoreError::Conflict { .. })
    ));
    drop(tx);
}

async fn interactive_flows(store: &dyn Store) {
    use crate::{AuthCode, LoginSession, PendingRequest};
    let a = org("conf-flows-a");
    let b = org("conf-flows-b");
    let u = user(a.id, "flow-user");
    let mut tx = store.begin().await.unwrap();
    tx.insert_org(&a).await.unwrap();
    tx.insert_org(&b).await.unwrap();
    tx.insert_user(&u, None).await.unwrap();
    let session = LoginSession {
        id_hash: "sess-hash".into(),
        org_id: a.id,
        user_id: u.id,
        auth_time: t(1_000),
        created_at: t(1_000),
        expires_at: t(90_000),
        ended_at: None,
    };
    tx.insert_session(&session).await.unwrap();
    let pending = PendingRequest {
        id: "req-1".into(),
        org_id: a.id,
        params: "{\"client_id\":\"x\"}".into(),
        csrf: "csrf-1".into(),
        created_at: t(1_000),
        expires_at: t(2_000),
    };
    tx.insert_pending(&pending).await.unwrap();
    let code = AuthCode {
        code_hash: "code-hash".into(),
        org_id: a.id,
        client_id: "web".into(),
        user_id: u.id,
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
        // A claims request round-trips with the code.
        claims: Some(tessera_domain::claims::ClaimsRequest {
            userinfo: vec!["name".into()],
            id_token: vec!["email".into()],
        }),
    };
    tx.insert_code(&code).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.begin().await.unwrap();
    assert_eq!(
        tx.find_session(a.id, "sess-hash").await.unwrap(),
        Some(session.clone())
    );
    assert_eq!(tx.find_session(b.id, "sess-hash").await.unwrap(), None);
    // Ending a user's sessions: only theirs, only in that organization, only live ones.
    assert_eq!(tx.end_user_sessions(b.id, u.id, t(4_000)).await.unwrap(), 0);
    assert_eq!(tx.end_user_sessions(a.id, u.id, t(4_000)).await.unwrap(), 1);
    assert_eq!(tx.end_user_sessions(a.id, u.id, t(4_500)).await.unwrap(), 0);
    assert!(!tx.end_session(a.id, "sess-hash", t(5_000)).await.unwrap());
    assert_eq!(
        tx.find_session(a.id, "sess-hash")
            .await
            .unwrap()
            .unwrap()
            .ended_at,
        Some(t(4_000))
    );

    assert_eq!(tx.find_pending(a.id, "req-1").await.unwrap(), Some(pending));
    assert_eq!(tx.find_pending(b.id, "req-1").await.unwrap(), None);
    assert!(tx.delete_pending(a.id, "req-1").await.unwrap());
    assert_eq!(tx.find_pending(a.id, "req-1").await.unwrap(), None);

    assert_eq!(
        tx.find_code(a.id, "code-hash").await.unwrap(),
        Some(code.clone())
    );
    assert_eq!(tx.find_code(b.id, "code-hash").await.unwrap(), None);
    let mut other = code.clone();
    other.code_hash = "code-hash-2".into();
    tx.insert_code(&other).await.unwrap();
    let got = tx
        .redeem_code_for(a.id, "code-hash-2", t(2_500), "jti-x", t(8_000))
        .await
        .unwrap()
        .expect("redeemed");
    assert_eq!(
        (got.redeemed_at, got.access_jti.as_deref()),
        (Some(t(2_500)), Some("jti-x"))
    );
    assert_eq!(got.code_challenge.as_deref(), Some("challenge"));
    assert!(
        tx.redeem_code_for(a.id, "code-hash-2", t(2_600), "jti-y", t(8_000))
            .await
            .unwrap()
            .is_none(),
        "only once"
    );
    assert!(tx
        .redeem_code_for(b.id, "code-hash", t(2_600), "j", t(8_000))
        .await
        .unwrap()
        .is_none());
    assert!(!tx.redeem_code(b.id, "code-hash", t(2_000)).await.unwrap());
    assert!(
        tx.redeem_code(a.id, "code-hash", t(2_000)).await.unwrap(),
        "first redemption wins"
    );
    assert!(
        !tx.redeem_code(a.id, "code-hash", t(3_000)).await.unwrap(),
        "only once"
    );
    tx.set_code_token(a.id, "code-hash", "jti-9", t(9_000))
        .await
        .unwrap();
    let redeemed = tx.find_code(a.id, "code-hash").await.unwrap().unwrap();
    assert_eq!(redeemed.redeemed_at, Some(t(2_000)));
    assert_eq!(redeemed.access_jti.as_deref(), Some("jti-9"));

    assert_eq!(tx.find_consent(a.id, u.id, "web").await.unwrap(), None);
    tx.upsert_consent(a.id, u.id, "web", &["openid".into()], t(1_000))
        .await
        .unwrap();
    tx.upsert_consent(
        a.id,
        u.id,
        "web",
        &["openid".into(), "email".into()],
        t(2_000),
    )
    .await
    .unwrap();
    assert_eq!(
        tx.find_consent(a.id, u.id, "web").await.unwrap(),
        Some(vec!["openid".to_owned(), "email".to_owned()])
    );
    assert_eq!(tx.find_consent(b.id, u.id, "web").await.unwrap(), None);

    let rt = |hash: &str| crate::RefreshToken {
        token_hash: hash.into(),
        org_id: a.id,
        family_id: "fam-1".into(),
        client_id: "web".into(),
        user_id: u.id,
        scope: "openid".into(),
        auth_time: t(1_000),
        created_at: t(1_000),
        expires_at: t(100_000),
        used_at: None,
        revoked_at: None,
        claims: Some(tessera_domain::claims::ClaimsRequest {
            userinfo: vec!["given_name".into()],
            id_token: vec![],
        }),
    };
    tx.insert_refresh(&rt("rt-1")).await.unwrap();
    tx.insert_refresh(&rt("rt-2")).await.unwrap();
    assert_eq!(
        tx.find_refresh(a.id, "rt-1").await.unwrap(),
        Some(rt("rt-1"))
    );
    assert_eq!(tx.find_refresh(b.id, "rt-1").await.unwrap(), None);
    assert!(
        tx.use_refresh(a.id, "rt-1", t(2_000)).await.unwrap(),
        "first use wins"
    );
    assert!(
        !tx.use_refresh(a.id, "rt-1", t(3_000)).await.unwrap(),
        "spent"
    );
    assert_eq!(
        tx.revoke_refresh_family(a.id, "fam-1", t(4_000))
            .await
            .unwrap(),
        2
    );
    assert!(
        !tx.use_refresh(a.id, "rt-2", t(5_000)).await.unwrap(),
        "revoked"
    );
    assert_eq!(
        tx.find_refresh(a.id, "rt-2")
            .await
            .unwrap()
            .unwrap()
            .revoked_at,
        Some(t(4_000))
    );
    tx.commit().await.unwrap();
}

async fn signing_keys_and_revocations(store: &dyn Store) {
    use crate::SigningKeyRecord;
    let a = org("conf-keys2-a");
    let b = org("conf-keys2-b");
    let key = |org: &Organization, id: &str, alg: &str, ms: i64| SigningKeyRecord {
        id: id.into(),
        org_id: org.id,
        alg: alg.into(),
        private_key: format!("v1.sealed.{id}"),
        public_jwk: format!("{{\"kid\":\"{id}\"}}"),
        created_at: t(ms),
        retired_at: None,
        publish_until: None,
    };
    let mut tx = store.begin().await.unwrap();
    tx.insert_org(&a).await.unwrap();
    tx.insert_org(&b).await.unwrap();
    tx.insert_signing_key(&key(&a, "a-es-1", "ES256", 1_000))
        .await
        .unwrap();
    tx.insert_signing_key(&key(&a, "a-rs-1", "RS256", 1_001))
        .await
        .unwrap();
    tx.insert_signing_key(&key(&b, "b-es-1", "ES256", 1_002))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.begin().await.unwrap();
    let ids = |v: Vec<SigningKeyRecord>| v.into_iter().map(|k| k.id).collect::<Vec<_>>();
    assert_eq!(
        ids(tx.published_signing_keys(a.id, t(2_000)).await.unwrap()),
        ["a-es-1", "a-rs-1"]
    );
    assert_eq!(
        tx.retire_signing_keys(a.id, "ES256", t(3_000), t(10_000))
            .await
            .unwrap(),
        1
    );
    tx.insert_signing_key(&key(&a, "a-es-2", "ES256", 3_000))
        .await
        .unwrap();
    let published = tx.published_signing_keys(a.id, t(5_000)).await.unwrap();
    assert_eq!(ids(published.clone()), ["a-es-1", "a-rs-1", "a-es-2"]);
    assert_eq!(published[0].retired_at, Some(t(3_000)));
    assert_eq!(published[0].private_key, "v1.sealed.a-es-1");
    assert_eq!(
        ids(tx.published_signing_keys(a.id, t(10_001)).await.unwrap()),
        ["a-rs-1", "a-es-2"],
        "retired key unpublished after its tokens expire"
    );
    assert_eq!(
        ids(tx.published_signing_keys(b.id, t(5_000)).await.unwrap()),
        ["b-es-1"]
    );

    assert!(tx
        .revoke_token(a.id, "jti-1", t(20_000), t(5_000))
        .await
        .unwrap());
    assert!(
        !tx.revoke_token(a.id, "jti-1", t(20_000), t(6_000))
            .await
            .unwrap(),
        "idempotent"
    );
    assert!(tx.is_token_revoked(a.id, "jti-1").await.unwrap());
    assert!(!tx.is_token_revoked(b.id, "jti-1").await.unwrap());
    assert!(!tx.is_token_revoked(a.id, "jti-2").await.unwrap());
    assert_eq!(tx.prune_revoked_tokens(t(20_001)).await.unwrap(), 1);
    assert!(!tx.is_token_revoked(a.id, "jti-1").await.unwrap());

    // Client assertions: each jti once per client of an organization, until it expires.
    let use_jti = |org: OrgId, client: &'static str| (org, client);
    for (org, client) in [
        use_jti(a.id, "c1"),
        use_jti(a.id, "c2"),
        use_jti(b.id, "c1"),
    ] {
        assert!(tx
            .use_client_assertion(org, client, "j1", t(30_000))
            .await
            .unwrap());
    }
    assert!(
        !tx.use_client_assertion(a.id, "c1", "j1", t(40_000))
            .await
            .unwrap(),
        "a replay"
    );
    assert!(tx.prune_expired_flows(t(30_001)).await.unwrap() >= 3);
    assert!(
        tx.use_client_assertion(a.id, "c1", "j1", t(50_000))
            .await
            .unwrap(),
        "forgotten once expired"
    );
    tx.commit().await.unwrap();
}

fn client(org: OrgId, id: &str, name: &str, ms: i64) -> tessera_domain::client::OAuthClient {
    use tessera_domain::client::{ClientId, ClientInput, ClientSettings, OAuthClient};
    let settings = ClientSettings::validate(&ClientInput {
        name: name.into(),
        redirect_uris: vec![
            "https://app.example.com/cb".into(),
            "myapp://callback".into(),
        ],
        allowed_cors_origins: vec!["https://app.example.com".into()],
        allowed_scopes: vec!["openid".into(), "admin.read".into()],
        description: Some("desc".into()),
        client_uri: Some("https://app.example.com".into()),
        // Values other than the defaults, so that a round trip proves they are stored.
        access_token_signed_response_alg: "RS256".into(),
        userinfo_signed_response_alg: Some("EdDSA".into()),
        request_object_signing_alg: Some("PS256".into()),
        token_endpoint_auth_method: Some("client_secret_post".into()),
        jwks: Some(
            serde_json::json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "k1",
            "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}),
        ),
        ..ClientInput::default()
    })
    .unwrap();
    OAuthClient {
        org_id: org,
        id: ClientId::parse(id).unwrap(),
        settings,
        secrets: vec![],
        created_at: t(ms),
        updated_at: t(ms),
    }
}

fn secret(c: &tessera_domain::client::OAuthClient, id: &str, ms: i64) -> crate::ClientSecretRecord {
    crate::ClientSecretRecord {
        org_id: c.org_id,
        client_id: c.id.clone(),
        info: tessera_domain::client::SecretInfo {
            id: id.into(),
            hint: "…wxyz".into(),
            created_at: t(ms),
            expires_at: None,
            last_used_at: None,
        },
        secret_hash: format!("hmac-sha256${id}"),
    }
}

async fn oauth_clients(store: &dyn Store) {
    use crate::ClientQuery;
    let a = org("conf-clients-a");
    let b = org("conf-clients-b");
    let backend = client(a.id, "backend", "Backend Service", 1_000);
    let spa = client(a.id, &Uuid::new_v4().to_string(), "React Dashboard", 2_000);
    let mut tx = store.begin().await.unwrap();
    tx.insert_org(&a).await.unwrap();
    tx.insert_org(&b).await.unwrap();
    tx.insert_client(&backend).await.unwrap();
    tx.insert_client(&spa).await.unwrap();
    tx.insert_client(&client(b.id, "backend", "Other org's backend", 3_000))
        .await
        .unwrap();
    tx.insert_client_secret(&secret(&backend, "s1", 1_000))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    // A failed statement ends a PostgreSQL transaction, so the conflict gets its own.
    let mut tx = store.begin().await.unwrap();
    assert!(matches!(
        tx.insert_client(&backend).await,
        Err(StoreError::Conflict { .. })
    ));
    drop(tx);

    let mut tx = store.begin().await.unwrap();
    let found = tx.find_client(a.id, &backend.id).await.unwrap().unwrap();
    assert_eq!(found.settings, backend.settings);
    assert_eq!(found.secrets.len(), 1);
    assert_eq!(found.secrets[0].id, "s1");
    assert_eq!(found.created_at, t(1_000));
    let other = tx.find_client(b.id, &backend.id).await.unwrap().unwrap();
    assert_eq!(
        other.settings.name, "Other org's backend",
        "same id, other organization"
    );
    assert!(
        other.secrets.is_empty(),
        "secrets never cross organizations"
    );

    let page = |q: Option<&str>, limit, offset| ClientQuery {
        q: q.map(str::to_owned),
        limit,
        offset,
    };
    let (all, total) = tx.list_clients(a.id, &page(None, 10, 0)).await.unwrap();
    assert_eq!(total, 2);
    assert_eq!(all[0].id, spa.id, "newest first");
    assert_eq!(all[1].secrets.len(), 1, "secrets of the page are filled in");
    assert_eq!(
        tx.cors_origins(a.id).await.unwrap(),
        ["https://app.example.com"],
        "once, though two clients allow it"
    );
    assert_eq!(
        tx.cors_origins(b.id).await.unwrap(),
        ["https://app.example.com"]
    );
    let (hits, n) = tx
        .list_clients(a.id, &page(Some("dash"), 10, 0))
        .await
        .unwrap();
    assert_eq!((n, hits[0].id.clone()), (1, spa.id.clone()));
    let (hits, n) = tx
        .list_clients(a.id, &page(Some("BACK"), 10, 0))
        .await
        .unwrap();
    assert_eq!((n, hits[0].id.clone()), (1, backend.id.clone()));
    let id_part = &spa.id.as_str()[..8];
    assert_eq!(
        tx.list_clients(a.id, &page(Some(id_part), 10, 0))
            .await
            .unwrap()
            .1,
        1
    );
    assert_eq!(
        tx.list_clients(a.id, &page(Some("%"), 10, 0))
            .await
            .unwrap()
            .1,
        0,
        "wildcards are literal"
    );
    let (second, n) = tx.list_clients(a.id, &page(None, 1, 1)).await.unwrap();
    assert_eq!(
        (n, second.len(), second[0].id.clone()),
        (2, 1, backend.id.clone())
    );

    let mut changed = found.clone();
    changed.settings.is_active = false;
    changed.settings.name = "Renamed".into();
    changed.updated_at = t(5_000);
    assert!(tx.update_client(&changed).await.unwrap());
    let again = tx.find_client(a.id, &backend.id).await.unwrap().unwrap();
    assert!(!again.settings.is_active);
    assert_eq!(again.settings.name, "Renamed");
    assert_eq!(again.updated_at, t(5_000));
    assert_eq!(again.created_at, t(1_000));

    tx.insert_client_secret(&secret(&backend, "s2", 6_000))
        .await
        .unwrap();
    tx.set_client_secret_expiry(a.id, "s1", Some(t(9_000)))
        .await
        .unwrap();
    tx.touch_client_secret(a.id, "s2", t(7_000)).await.unwrap();
    let secrets = tx.client_secrets(a.id, &backend.id).await.unwrap();
    assert_eq!(
        secrets
            .iter()
            .map(|s| s.info.id.as_str())
            .collect::<Vec<_>>(),
        ["s1", "s2"]
    );
    assert_eq!(secrets[0].info.expires_at, Some(t(9_000)));
    assert_eq!(secrets[1].info.last_used_at, Some(t(7_000)));
    assert_eq!(secrets[1].secret_hash, "hmac-sha256$s2");
    assert!(
        !tx.delete_client_secret(b.id, "s1").await.unwrap(),
        "not another org's secret"
    );
    assert!(tx.delete_client_secret(a.id, "s1").await.unwrap());

    assert!(!tx.delete_client(b.id, &spa.id).await.unwrap());
    assert!(tx.delete_client(a.id, &backend.id).await.unwrap());
    assert!(tx.find_client(a.id, &backend.id).await.unwrap().is_none());
    assert!(tx
        .client_secrets(a.id, &backend.id)
        .await
        .unwrap()
        .is_empty());
    assert!(!tx.delete_client(a.id, &backend.id).await.unwrap());
    assert!(tx.find_client(b.id, &backend.id).await.unwrap().is_some());
    tx.commit().await.unwrap();
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
    // Only what comes after the given number, whenever it was recorded.
    let after_first = tx.changes_since(seen[0].seq, 10).await.unwrap();
    assert_eq!(
        after_first
            .iter()
            .map(|c| c.key.as_str())
            .collect::<Vec<_>>(),
        ["k2"]
    );
    assert!(tx.changes_since(seen[1].seq, 10).await.unwrap().is_empty());
    let last = seen[1].seq;
    let recent = tx.recent_changes(last, t(40_000), 10).await.unwrap();
    assert_eq!(
        recent.iter().map(|c| c.key.as_str()).collect::<Vec<_>>(),
        ["k2"],
        "look-back by time"
    );
    let both = tx.recent_changes(last, t(0), 10).await.unwrap();
    assert_eq!(
        both.iter().map(|c| c.key.as_str()).collect::<Vec<_>>(),
        ["k2", "k1"],
        "newest first"
    );
    assert!(
        tx.recent_changes(seen[0].seq, t(40_000), 10)
            .await
            .unwrap()
            .is_empty(),
        "nothing numbered after upto"
    );
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

    // The next writer starts after the rollback and sees none of it; a failed statement
    // leaves the transaction usable for rollback only, and the one after it commits.
    let mut tx = store.begin().await.unwrap();
    tx.insert_org(&o).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    let other = org("conf-rollback-2");
    tx.insert_org(&other).await.unwrap();
    assert!(
        matches!(
            tx.insert_org(&o).await,
            Err(crate::StoreError::Conflict { .. })
        ),
        "duplicate"
    );
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    assert!(
        tx.find_org(other.id).await.unwrap().is_none(),
        "rolled back"
    );
    assert!(tx.find_org(o.id).await.unwrap().is_some(), "committed");
    tx.commit().await.unwrap();

    // Writers queue; none is lost.
    let write = |i: usize| async move {
        let o = org(&format!("conf-queue-{i}"));
        let mut tx = store.begin().await.unwrap();
        tx.insert_org(&o).await.unwrap();
        tx.commit().await.unwrap();
        o.id
    };
    let ids = tokio::join!(write(1), write(2), write(3), write(4));
    let mut tx = store.read().await.unwrap();
    for id in [ids.0, ids.1, ids.2, ids.3] {
        assert!(tx.find_org(id).await.unwrap().is_some());
    }
}
