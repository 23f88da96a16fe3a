//! Conformance: interactive flows (sessions, pending requests, codes, consents, refresh tokens) and device codes.

use super::*;

pub async fn interactive_flows(store: &dyn Store) {
    use crate::{LoginSession, PendingRequest};
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
        // How the user signed in round-trips with the session and the code.
        amr: "pwd otp".into(),
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
    // A claims request, the resources, the DPoP key and the session round-trip with the code.
    let code = auth_code(a.id, u.id, "code-hash");
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
    // Inside a transaction the one-trip redemption nests (no refresh token here).
    assert!(tx
        .redeem_code_once(&spend(a.id, "code-hash-2", 2_500, "jti-x", None))
        .await
        .unwrap());
    let got = tx.find_code(a.id, "code-hash-2").await.unwrap().unwrap();
    assert_eq!(
        (
            got.redeemed_at,
            got.access_jti.as_deref(),
            got.access_expires
        ),
        (Some(t(2_500)), Some("jti-x"), Some(t(9_000)))
    );
    assert!(
        !tx.redeem_code_once(&spend(a.id, "code-hash-2", 2_600, "jti-y", None))
            .await
            .unwrap(),
        "only once"
    );
    assert!(!tx
        .redeem_code_once(&spend(b.id, "code-hash", 2_600, "j", None))
        .await
        .unwrap());
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
    // A sign-in under the consent is noted (in its organization only).
    assert_eq!(
        tx.user_consents(a.id, u.id).await.unwrap()[0].last_used_at,
        None
    );
    tx.touch_consent(b.id, u.id, "web", t(2_500)).await.unwrap();
    tx.touch_consent(a.id, u.id, "web", t(3_000)).await.unwrap();
    tx.touch_consent(a.id, u.id, "no-consent", t(3_000))
        .await
        .unwrap();
    let consents = tx.user_consents(a.id, u.id).await.unwrap();
    assert_eq!(consents.len(), 1);
    assert_eq!(consents[0].last_used_at, Some(t(3_000)));
    assert!(tx.user_consents(b.id, u.id).await.unwrap().is_empty());
    // A session read with its user's consent to one client, in one statement; another
    // organization's consent of the same user and client is not this one's.
    tx.upsert_consent(b.id, u.id, "web-b", &["openid".into()], t(2_000))
        .await
        .unwrap();
    let now_session = tx.find_session(a.id, "sess-hash").await.unwrap().unwrap();
    assert_eq!(
        tx.find_session_with_consent(a.id, "sess-hash", "web")
            .await
            .unwrap(),
        Some((
            now_session.clone(),
            Some(vec!["openid".to_owned(), "email".to_owned()])
        ))
    );
    assert_eq!(
        tx.find_session_with_consent(a.id, "sess-hash", "web-b")
            .await
            .unwrap(),
        Some((now_session, None))
    );
    assert_eq!(
        tx.find_session_with_consent(b.id, "sess-hash", "web")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        tx.find_session_with_consent(a.id, "no-such-session", "web")
            .await
            .unwrap(),
        None
    );

    let rt = |hash: &str| crate::RefreshToken {
        expires_at: t(100_000),
        claims: Some(tessera_domain::claims::ClaimsRequest {
            userinfo: vec!["given_name".into()],
            id_token: vec![],
        }),
        resources: vec!["urn:api".into()],
        dpop_jkt: Some("jkt-rt".into()),
        sid: Some("sid-rt".into()),
        amr: "pwd otp".into(),
        ..refresh_token(a.id, u.id, hash, "fam-1")
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
    let mut fresh = code.clone();
    for hash in [
        "code-hash-3",
        "code-hash-4",
        "code-hash-5-0",
        "code-hash-5-1",
        "code-hash-5-2",
        "code-hash-5-3",
        "code-hash-5-4",
    ] {
        fresh.code_hash = hash.into();
        tx.insert_code(&fresh).await.unwrap();
    }
    tx.commit().await.unwrap();

    // A code redeemed with its refresh token in one trip: both written, once.
    let once = |org, code: &'static str, at, jti: &'static str, refresh| async move {
        store
            .redeem_code(&spend(org, code, at, jti, Some(&refresh)))
            .await
    };
    assert!(once(a.id, "code-hash-3", 3_000, "jti-3", rt("rt-3"))
        .await
        .unwrap());
    assert!(
        !once(a.id, "code-hash-3", 3_100, "jti-x", rt("rt-x"))
            .await
            .unwrap(),
        "only once"
    );
    assert!(
        !once(b.id, "code-hash-4", 3_100, "jti-x", rt("rt-x"))
            .await
            .unwrap(),
        "not another organization's code"
    );
    let mut r = store.read().await.unwrap();
    assert_eq!(
        r.find_refresh(a.id, "rt-3").await.unwrap(),
        Some(rt("rt-3"))
    );
    assert_eq!(
        r.find_refresh(a.id, "rt-x").await.unwrap(),
        None,
        "a loser stores nothing"
    );
    let got = r.find_code(a.id, "code-hash-3").await.unwrap().unwrap();
    assert_eq!(
        (got.redeemed_at, got.access_jti.as_deref()),
        (Some(t(3_000)), Some("jti-3"))
    );
    drop(r);
    // A refresh token that cannot be stored (its hash taken) leaves the code unredeemed, and
    // the connection and the write lock usable by the next writer.
    assert!(once(a.id, "code-hash-4", 3_200, "jti-4", rt("rt-3"))
        .await
        .is_err());
    let redeemed_at = |code: &'static str| async move {
        let mut r = store.read().await.unwrap();
        r.find_code(a.id, code).await.unwrap().unwrap().redeemed_at
    };
    for _ in 0..3 {
        assert_eq!(redeemed_at("code-hash-4").await, None);
    }
    assert!(once(a.id, "code-hash-4", 3_300, "jti-4", rt("rt-4"))
        .await
        .unwrap());
    assert_eq!(redeemed_at("code-hash-4").await, Some(t(3_300)));

    // A redemption given up while its statements run (the request went away): both rows or
    // neither, and the connection it ran on is rolled back before it is used again (a
    // savepoint left open there would swallow the next writes, or refuse the next `BEGIN`).
    // The answer can be back within the first poll (the statements run on another thread, or
    // in another process, on another core, and this thread may lose its core meanwhile): the
    // refresh tokens carry 4 MiB each, more than a socket's buffer takes at once and
    // milliseconds of SQLite's work, and five are tried; at least one must be given up.
    let mut given_up = 0;
    let big = format!("urn:big:{}", "x".repeat(4 << 20));
    for i in 0..5 {
        let mut w = store.single_write().await.unwrap();
        let refresh = crate::RefreshToken {
            resources: vec![big.clone()],
            ..rt(&format!("rt-5-{i}"))
        };
        let (code, jti) = (format!("code-hash-5-{i}"), format!("jti-5-{i}"));
        let redemption = spend(a.id, &code, 3_400, &jti, Some(&refresh));
        let cancelled = w.redeem_code_once(&redemption);
        if futures_util::FutureExt::now_or_never(cancelled).is_none() {
            given_up += 1;
        }
        drop(w);
    }
    assert!(
        given_up > 0,
        "every redemption answered within its first poll"
    );
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    for i in 0..8 {
        let mut tx = store.begin().await.unwrap();
        tx.touch_consent(a.id, u.id, "web", t(10_000 + i))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let mut w = store.single_write().await.unwrap();
        fresh.code_hash = format!("code-after-{i}");
        w.insert_code(&fresh).await.unwrap();
        w.commit().await.unwrap();
        let mut r = store.read().await.unwrap();
        assert!(
            r.find_code(a.id, &fresh.code_hash).await.unwrap().is_some(),
            "write {i} seen"
        );
    }
    let mut r = store.read().await.unwrap();
    for i in 0..5 {
        let spent = r
            .find_code(a.id, &format!("code-hash-5-{i}"))
            .await
            .unwrap()
            .unwrap()
            .redeemed_at;
        let stored = r.find_refresh(a.id, &format!("rt-5-{i}")).await.unwrap();
        assert_eq!(spent.is_some(), stored.is_some(), "both or neither ({i})");
    }
}

/// The redemption of `code` at `at` (ms) with the access token `jti`, expiring at 9 s.
fn spend<'a>(
    org: tessera_domain::OrgId,
    code: &'a str,
    at: i64,
    jti: &'a str,
    refresh: Option<&'a crate::RefreshToken>,
) -> crate::Redemption<'a> {
    crate::Redemption {
        org,
        code_hash: code,
        at: t(at),
        jti,
        access_expires: t(9_000),
        refresh,
    }
}
/// The reads and writes of a flow on their own ([`Store::write_code`], [`Store::read_code`],
/// [`Store::redeem_code`], [`Store::read_session_with_consent`]): every value round-trips, a second code of the same hash and a code of no organization are
/// refused with nothing written, one of many redemptions of a code wins, and a write made
/// while a transaction is open lands after it, not inside it.
pub async fn codes_on_their_own(store: &dyn Store) {
    use crate::AuthCode;
    let a = org("conf-lone-a");
    let b = org("conf-lone-b");
    let u = user(a.id, "lone-user");
    let mut tx = store.begin().await.unwrap();
    tx.insert_org(&a).await.unwrap();
    tx.insert_org(&b).await.unwrap();
    tx.insert_user(&u, None).await.unwrap();
    tx.commit().await.unwrap();
    let full = AuthCode {
        created_at: t(1_100),
        redeemed_at: Some(t(1_200)),
        access_jti: Some("jti-0".into()),
        access_expires: Some(t(1_300)),
        ..auth_code(a.id, u.id, "lone-1")
    };
    let bare = AuthCode {
        code_hash: "lone-2".into(),
        nonce: None,
        code_challenge: None,
        redeemed_at: None,
        access_jti: None,
        access_expires: None,
        claims: None,
        resources: vec![],
        dpop_jkt: None,
        sid: None,
        ..full.clone()
    };
    store.write_code(&full).await.unwrap();
    store.write_code(&bare).await.unwrap();
    let mut r = store.read().await.unwrap();
    assert_eq!(
        r.find_code(a.id, "lone-1").await.unwrap(),
        Some(full.clone())
    );
    assert_eq!(
        r.find_code(a.id, "lone-2").await.unwrap(),
        Some(bare.clone())
    );
    drop(r);
    assert_eq!(
        store.read_code(a.id, "lone-1").await.unwrap(),
        Some(full.clone())
    );
    assert_eq!(
        store.read_code(a.id, "lone-2").await.unwrap(),
        Some(bare.clone())
    );
    assert_eq!(store.read_code(b.id, "lone-1").await.unwrap(), None);
    assert_eq!(store.read_code(a.id, "lone-9").await.unwrap(), None);

    // A session read on its own, with its user's consent to one client.
    let session = crate::LoginSession {
        id_hash: "lone-session".into(),
        org_id: a.id,
        user_id: u.id,
        auth_time: t(1_000),
        created_at: t(1_000),
        expires_at: t(90_000),
        ended_at: Some(t(5_000)),
        amr: "pwd".into(),
    };
    let mut tx = store.begin().await.unwrap();
    tx.insert_session(&session).await.unwrap();
    let scopes = vec!["openid".to_owned(), "profile".to_owned()];
    tx.upsert_consent(a.id, u.id, "web", &scopes, t(1_000))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        store
            .read_session_with_consent(a.id, "lone-session", "web")
            .await
            .unwrap(),
        Some((session.clone(), Some(scopes)))
    );
    assert_eq!(
        store
            .read_session_with_consent(a.id, "lone-session", "other")
            .await
            .unwrap(),
        Some((session, None))
    );
    assert_eq!(
        store
            .read_session_with_consent(b.id, "lone-session", "web")
            .await
            .unwrap(),
        None,
        "not another organization's session"
    );
    let again = AuthCode {
        scope: "other".into(),
        ..bare.clone()
    };
    assert!(
        matches!(
            store.write_code(&again).await,
            Err(StoreError::Conflict { .. })
        ),
        "a code's hash is taken once"
    );
    let nowhere = AuthCode {
        code_hash: "lone-3".into(),
        org_id: OrgId(Uuid::new_v4()),
        ..bare.clone()
    };
    assert!(
        store.write_code(&nowhere).await.is_err(),
        "a code of no organization is refused"
    );
    let mut r = store.read().await.unwrap();
    assert_eq!(
        r.find_code(a.id, "lone-2").await.unwrap(),
        Some(bare.clone())
    );
    assert_eq!(r.find_code(nowhere.org_id, "lone-3").await.unwrap(), None);
    drop(r);

    // Many redemptions of one code at once: one wins, and only its refresh token is stored.
    let rt = |hash: String| refresh_token(a.id, u.id, &hash, "fam-lone");
    let refreshes: Vec<_> = (0..8).map(|i| rt(format!("lone-rt-{i}"))).collect();
    let wins = futures_util::future::join_all(refreshes.iter().enumerate().map(|(i, x)| {
        let jti = format!("lone-jti-{i}");
        async move {
            store
                .redeem_code(&spend(a.id, "lone-2", 3_000, &jti, Some(x)))
                .await
                .unwrap()
        }
    }))
    .await;
    assert_eq!(wins.iter().filter(|w| **w).count(), 1, "{wins:?}");
    let mut r = store.read().await.unwrap();
    for (i, won) in wins.iter().enumerate() {
        let stored = r.find_refresh(a.id, &format!("lone-rt-{i}")).await.unwrap();
        assert_eq!(stored.is_some(), *won, "refresh token {i}");
    }
    let got = r.find_code(a.id, "lone-2").await.unwrap().unwrap();
    let winner = wins.iter().position(|w| *w).unwrap();
    assert_eq!(
        (got.redeemed_at, got.access_jti, got.access_expires),
        (
            Some(t(3_000)),
            Some(format!("lone-jti-{winner}")),
            Some(t(9_000))
        )
    );
    drop(r);
    assert!(
        !store
            .redeem_code(&spend(b.id, "lone-1", 3_000, "j", None))
            .await
            .unwrap(),
        "not another organization's code"
    );
    assert!(
        !store
            .redeem_code(&spend(a.id, "lone-1", 3_000, "j", None))
            .await
            .unwrap(),
        "a code redeemed before"
    );

    // A transaction open while a code is written and another redeemed: both land, after
    // the transaction and not inside it (its rollback does not take them).
    store
        .write_code(&AuthCode {
            code_hash: "lone-5".into(),
            ..bare.clone()
        })
        .await
        .unwrap();
    let late = AuthCode {
        code_hash: "lone-4".into(),
        ..bare.clone()
    };
    let mut tx = store.begin().await.unwrap();
    tx.touch_consent(a.id, u.id, "web", t(4_000)).await.unwrap();
    let lone_5 = spend(a.id, "lone-5", 4_000, "jti-5", None);
    let (written, redeemed, ()) =
        tokio::join!(store.write_code(&late), store.redeem_code(&lone_5), async {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            drop(tx);
        });
    written.unwrap();
    assert!(redeemed.unwrap());
    let mut r = store.read().await.unwrap();
    assert_eq!(r.find_code(a.id, "lone-4").await.unwrap(), Some(late));
    let spent = r.find_code(a.id, "lone-5").await.unwrap().unwrap();
    assert_eq!(spent.redeemed_at, Some(t(4_000)));
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

/// Pushed authorization requests (read again while the user signs in, spent once), the
/// clients of sessions (taken once when the session ends or expires) and logout deliveries
/// (leased by one caller at a time, retried, finished).
pub async fn sender_constraints_and_logout(store: &dyn Store) {
    use crate::{LoginSession, LogoutDelivery, PushedRequest, SessionClient};
    let a = org("conf-par-a");
    let b = org("conf-par-b");
    let u = user(a.id, "par-user");
    let mut tx = store.begin().await.unwrap();
    tx.insert_org(&a).await.unwrap();
    tx.insert_org(&b).await.unwrap();
    tx.insert_user(&u, None).await.unwrap();
    let pushed = PushedRequest {
        handle_hash: "par-hash".into(),
        org_id: a.id,
        client_id: "web".into(),
        params: r#"[["client_id","web"]]"#.into(),
        created_at: t(1_000),
        expires_at: t(61_000),
    };
    tx.insert_pushed(&pushed).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.begin().await.unwrap();
    assert_eq!(
        tx.find_pushed(a.id, "par-hash").await.unwrap(),
        Some(pushed.clone())
    );
    assert_eq!(tx.find_pushed(b.id, "par-hash").await.unwrap(), None);
    assert_eq!(tx.take_pushed(b.id, "par-hash").await.unwrap(), None);
    assert_eq!(
        tx.take_pushed(a.id, "par-hash").await.unwrap(),
        Some(pushed)
    );
    assert_eq!(tx.take_pushed(a.id, "par-hash").await.unwrap(), None);
    assert_eq!(tx.find_pushed(a.id, "par-hash").await.unwrap(), None);

    // Two sessions: one alive, one ended; each signed the user in to a client.
    for (hash, ended) in [("live-sess", None), ("ended-sess", Some(t(5_000)))] {
        tx.insert_session(&LoginSession {
            id_hash: hash.into(),
            org_id: a.id,
            user_id: u.id,
            auth_time: t(1_000),
            created_at: t(1_000),
            expires_at: t(90_000),
            ended_at: ended,
            amr: "pwd".into(),
        })
        .await
        .unwrap();
        let c = SessionClient {
            org_id: a.id,
            session_hash: hash.into(),
            sid: format!("sid-{hash}"),
            client_id: "web".into(),
            user_id: u.id,
        };
        tx.add_session_client(&c, t(1_000)).await.unwrap();
        // Once per session and client.
        tx.add_session_client(&c, t(2_000)).await.unwrap();
    }
    let taken = tx.take_ended_session_clients(t(10_000), 10).await.unwrap();
    assert_eq!(taken.len(), 1, "{taken:?}");
    assert_eq!(taken[0].sid, "sid-ended-sess");
    assert_eq!(taken[0].user_id, u.id);
    assert!(tx
        .take_ended_session_clients(t(10_000), 10)
        .await
        .unwrap()
        .is_empty());
    // The live one, once expired.
    let expired = tx.take_ended_session_clients(t(90_000), 10).await.unwrap();
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0].session_hash, "live-sess");

    let d = LogoutDelivery {
        id: "ld-1".into(),
        org_id: a.id,
        client_id: "web".into(),
        uri: "https://rp.example/bc".into(),
        logout_token: "jwt".into(),
        attempts: 0,
        next_attempt_at: t(10_000),
        delivered_at: None,
        last_error: None,
        created_at: t(10_000),
    };
    tx.insert_logout_delivery(&d).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.begin().await.unwrap();
    assert!(tx
        .lease_logout_deliveries(t(9_000), t(40_000), 10)
        .await
        .unwrap()
        .is_empty());
    let leased = tx
        .lease_logout_deliveries(t(10_000), t(40_000), 10)
        .await
        .unwrap();
    assert_eq!(leased.len(), 1);
    assert_eq!(leased[0].attempts, 1);
    // Leased: nobody else gets it until the lease runs out.
    assert!(tx
        .lease_logout_deliveries(t(20_000), t(50_000), 10)
        .await
        .unwrap()
        .is_empty());
    // Not the holder of the lease: nothing written.
    assert!(!tx
        .finish_logout_delivery("ld-1", t(41_000), Some(t(42_000)), None, None)
        .await
        .unwrap());
    assert!(tx
        .finish_logout_delivery("ld-1", t(40_000), None, Some(t(45_000)), Some("HTTP 500"))
        .await
        .unwrap());
    assert!(tx
        .lease_logout_deliveries(t(44_000), t(60_000), 10)
        .await
        .unwrap()
        .is_empty());
    let again = tx
        .lease_logout_deliveries(t(45_000), t(60_000), 10)
        .await
        .unwrap();
    assert_eq!(again[0].attempts, 2);
    assert_eq!(again[0].last_error.as_deref(), Some("HTTP 500"));
    assert!(tx
        .finish_logout_delivery("ld-1", t(60_000), Some(t(46_000)), None, None)
        .await
        .unwrap());
    assert!(tx
        .lease_logout_deliveries(t(999_000), t(999_999), 10)
        .await
        .unwrap()
        .is_empty());
    let all = tx.logout_deliveries(a.id, "web").await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].delivered_at, Some(t(46_000)));
    assert!(tx.logout_deliveries(b.id, "web").await.unwrap().is_empty());

    // Revoking all of a client's tokens: the time noted, refresh tokens revoked, codes spent;
    // another organization's client of the same id untouched.
    let web = super::clients::client(a.id, "web", "Web", 1_000);
    let other = super::clients::client(b.id, "web", "Web", 1_000);
    tx.insert_client(&web).await.unwrap();
    tx.insert_client(&other).await.unwrap();
    let rt = refresh_token(a.id, u.id, "rt-web", "fam-web");
    tx.insert_refresh(&rt).await.unwrap();
    let id = tessera_domain::client::ClientId::parse("web").unwrap();
    assert_eq!(
        tx.revoke_client_tokens(a.id, &id, t(50_000)).await.unwrap(),
        Some(1)
    );
    let found = tx.find_client(a.id, &id).await.unwrap().unwrap();
    assert_eq!(found.tokens_revoked_at, Some(t(50_000)));
    assert_eq!(
        tx.find_refresh(a.id, "rt-web")
            .await
            .unwrap()
            .unwrap()
            .revoked_at,
        Some(t(50_000))
    );
    assert_eq!(
        tx.find_client(b.id, &id)
            .await
            .unwrap()
            .unwrap()
            .tokens_revoked_at,
        None
    );
    let nobody = tessera_domain::client::ClientId::parse("nobody").unwrap();
    assert_eq!(
        tx.revoke_client_tokens(a.id, &nobody, t(50_000))
            .await
            .unwrap(),
        None
    );
    tx.commit().await.unwrap();
}
