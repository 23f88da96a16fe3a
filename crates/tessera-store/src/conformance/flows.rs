//! Conformance: interactive flows (sessions, pending requests, codes, consents, refresh tokens) and device codes.

use super::*;

pub async fn interactive_flows(store: &dyn Store) {
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
        // And the resources it was for.
        resources: vec!["https://mcp.example.com/mcp".into(), "urn:b".into()],
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
        resources: vec!["urn:api".into()],
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

pub async fn device_codes(store: &dyn Store) {
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
        resources: vec!["urn:api".into()],
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
        resources: vec![],
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
