//! Conformance: oAuth clients, their secrets, and dynamic registration.

use super::*;

pub(super) fn client(
    org: OrgId,
    id: &str,
    name: &str,
    ms: i64,
) -> tessera_domain::client::OAuthClient {
    use tessera_domain::client::{ClientId, ClientInput, ClientSettings, OAuthClient};
    let settings = ClientSettings::validate(&ClientInput {
        name: name.into(),
        redirect_uris: vec![
            "https://app.example.com/cb".into(),
            "myapp://callback".into(),
        ],
        allowed_cors_origins: vec!["https://app.example.com".into()],
        allowed_scopes: Some(vec!["openid".into(), "admin.read".into()]),
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
        tokens_revoked_at: None,
    }
}

pub(super) fn secret(
    c: &tessera_domain::client::OAuthClient,
    id: &str,
    ms: i64,
) -> crate::ClientSecretRecord {
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
        // A sealed copy round-trips too.
        sealed: Some(format!("sealed-{id}")),
    }
}

pub async fn oauth_clients(store: &dyn Store) {
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
    let (with, hashes) = tx
        .find_client_with_secrets(a.id, &backend.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(with.settings, backend.settings);
    assert!(with.secrets.is_empty(), "the hashes carry the secrets");
    assert_eq!(
        hashes
            .iter()
            .map(|s| (s.info.id.as_str(), s.secret_hash.as_str()))
            .collect::<Vec<_>>(),
        [("s1", "hmac-sha256$s1")]
    );
    assert!(tx
        .find_client_with_secrets(b.id, &spa.id)
        .await
        .unwrap()
        .is_none());

    let page = |q: Option<&str>, limit, offset| ClientQuery {
        q: q.map(str::to_owned),
        limit,
        offset,
        options: Default::default(),
    };
    // Sorted and filtered as asked.
    let listed = |options: tessera_domain::client::ClientListOptions| ClientQuery {
        q: None,
        limit: 10,
        offset: 0,
        options,
    };
    let opts = |sort: &str, active: Option<&str>, kind: Option<&str>, grant: Option<&str>| {
        tessera_domain::client::ClientListOptions::parse(Some(sort), active, kind, grant).unwrap()
    };
    let names = |v: &[tessera_domain::client::OAuthClient]| {
        v.iter()
            .map(|c| c.settings.name.clone())
            .collect::<Vec<_>>()
    };
    let (by_name, _) = tx
        .list_clients(a.id, &listed(opts("name", None, None, None)))
        .await
        .unwrap();
    assert_eq!(names(&by_name), ["Backend Service", "React Dashboard"]);
    let (by_name, _) = tx
        .list_clients(a.id, &listed(opts("-name", None, None, None)))
        .await
        .unwrap();
    assert_eq!(names(&by_name), ["React Dashboard", "Backend Service"]);
    let (oldest, _) = tx
        .list_clients(a.id, &listed(opts("createdAt", None, None, None)))
        .await
        .unwrap();
    assert_eq!(oldest[0].id, backend.id);
    let (used, _) = tx
        .list_clients(a.id, &listed(opts("-lastUsedAt", None, None, None)))
        .await
        .unwrap();
    assert_eq!(used.len(), 2, "never-used clients are listed too");
    for (active, n) in [("true", 2), ("false", 0)] {
        let (_, total) = tx
            .list_clients(a.id, &listed(opts("name", Some(active), None, None)))
            .await
            .unwrap();
        assert_eq!(total, n, "isActive={active}");
    }
    let mut by_kind = 0;
    for kind in ["public", "confidential"] {
        by_kind += tx
            .list_clients(a.id, &listed(opts("name", None, Some(kind), None)))
            .await
            .unwrap()
            .1;
    }
    assert_eq!(by_kind, 2, "every client is public or confidential");
    let (_, none) = tx
        .list_clients(
            a.id,
            &listed(opts(
                "name",
                None,
                None,
                Some("urn:ietf:params:oauth:grant-type:token-exchange"),
            )),
        )
        .await
        .unwrap();
    assert_eq!(none, 0);
    let (_, code) = tx
        .list_clients(
            a.id,
            &listed(opts("name", None, None, Some("authorization_code"))),
        )
        .await
        .unwrap();
    assert_eq!(code, 2);
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

pub async fn registration(store: &dyn Store) {
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
    // Every organization's policy, for the cleanup of unused clients (other tests' organizations
    // may share the database).
    let all = tx.all_registration_policies().await.unwrap();
    assert!(
        all.contains(&(a.id, r#"{"mode":"token"}"#.to_owned())),
        "{all:?}"
    );
    assert!(!all.iter().any(|(o, _)| *o == b.id));
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
    // Unused: registered (at 2_000) and never used, then used at 5_000; another
    // organization's clients are not listed, nor are clients that were not registered.
    assert_eq!(
        tx.unused_registered_clients(a.id, t(3_000), 10)
            .await
            .unwrap(),
        ["registered"]
    );
    assert!(tx
        .unused_registered_clients(a.id, t(2_000), 10)
        .await
        .unwrap()
        .is_empty());
    tx.touch_registered_client(a.id, "registered", t(5_000))
        .await
        .unwrap();
    tx.touch_registered_client(a.id, "not-registered", t(5_000))
        .await
        .unwrap();
    assert!(tx
        .unused_registered_clients(a.id, t(4_000), 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        tx.unused_registered_clients(a.id, t(6_000), 10)
            .await
            .unwrap(),
        ["registered"]
    );
    assert!(tx
        .unused_registered_clients(b.id, t(6_000), 10)
        .await
        .unwrap()
        .is_empty());
    // Deleting the client deletes its registration and every grant it held.
    let who = UserId(Uuid::from_u128(91));
    tx.upsert_consent(a.id, who, "registered", &["openid".to_owned()], t(1_000))
        .await
        .unwrap();
    tx.insert_refresh(&crate::RefreshToken {
        client_id: "registered".into(),
        expires_at: t(9_000_000),
        ..refresh_token(a.id, who, "reg-refresh", "fam")
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
