//! Conformance: signing keys, revoked tokens and replayed assertions.

use super::*;

pub async fn signing_keys_and_revocations(store: &dyn Store) {
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
    assert!(tx
        .revoke_token(a.id, "jti-3", t(10_000), t(5_000))
        .await
        .unwrap());
    let mut live = tx.live_revoked_tokens(a.id, t(9_000), 10).await.unwrap();
    live.sort();
    assert_eq!(live, ["jti-1", "jti-3"]);
    assert_eq!(
        tx.live_revoked_tokens(a.id, t(10_000), 10).await.unwrap(),
        ["jti-1"],
        "a token expired by then is left out"
    );
    assert_eq!(
        tx.live_revoked_tokens(a.id, t(9_000), 1)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(tx
        .live_revoked_tokens(b.id, t(9_000), 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(tx.prune_revoked_tokens(t(20_001)).await.unwrap(), 2);
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
