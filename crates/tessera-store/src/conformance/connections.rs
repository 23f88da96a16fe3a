//! Conformance: connections to outside platforms: credentials, tokens, the refresh queue.

use super::*;

pub(super) fn connection(
    org: OrgId,
    p: tessera_domain::Platform,
    due_ms: i64,
) -> crate::ConnectionRecord {
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

pub async fn connections(store: &dyn Store) {
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
    // The bots of system administrators: one per platform, replaced whole, removed once.
    assert_eq!(tx.find_system_bot("discord").await.unwrap(), None);
    let bot = crate::SystemBot {
        platform: "discord".into(),
        application_id: "123456789012345678".into(),
        bot_name: "Tessera".into(),
        token_sealed: "v1.k.n.c".into(),
        token_hint: "abcd".into(),
        updated_at: from_millis(5_000),
    };
    tx.put_system_bot(&bot).await.unwrap();
    let renamed = crate::SystemBot {
        bot_name: "Renamed".into(),
        ..bot
    };
    tx.put_system_bot(&renamed).await.unwrap();
    assert_eq!(tx.find_system_bot("discord").await.unwrap(), Some(renamed));
    let cells = tx
        .sealed_cells(crate::SealedColumn::SystemBotToken, None, 10)
        .await
        .unwrap();
    assert_eq!(cells.len(), 1, "the vault sees the sealed token");
    assert!(tx.delete_system_bot("discord").await.unwrap());
    assert!(!tx.delete_system_bot("discord").await.unwrap());
    tx.commit().await.unwrap();
}
