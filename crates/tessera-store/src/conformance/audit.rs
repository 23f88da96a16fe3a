//! Conformance: the audit log and the change feed.

use super::*;

pub async fn audit_log(store: &dyn Store) {
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

pub async fn change_feed(store: &dyn Store) {
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
