//! Conformance: webhook subscriptions, the outbox written with each audit event, the leased
//! claims of deliveries and their outcomes.

use super::*;
use crate::AttemptOutcome;
use tessera_domain::webhook::{DeliveryStatus, Webhook, WebhookId, WebhookUrl};

fn hook(org: OrgId, url: &str, events: Vec<AuditAction>) -> Webhook {
    Webhook {
        org_id: org,
        id: WebhookId(Uuid::new_v4()),
        url: WebhookUrl::parse(url, false).unwrap(),
        events,
        is_active: true,
        failing_since: None,
        created_at: t(1_000),
        updated_at: t(1_000),
    }
}

pub async fn webhooks(store: &dyn Store) {
    let a = org("conf-hooks-a");
    let b = org("conf-hooks-b");
    let all = hook(a.id, "https://a.example.com/all", vec![]);
    let mut users = hook(
        a.id,
        "https://a.example.com/users",
        vec![AuditAction::UserCreated],
    );
    users.created_at = t(2_000);
    let other = hook(b.id, "https://b.example.com/", vec![]);
    let mut tx = store.begin().await.unwrap();
    tx.insert_org(&a).await.unwrap();
    tx.insert_org(&b).await.unwrap();
    tx.insert_webhook(&all, "sealed-a").await.unwrap();
    tx.insert_webhook(&users, "sealed-u").await.unwrap();
    tx.insert_webhook(&other, "sealed-b").await.unwrap();
    tx.commit().await.unwrap();

    // A rolled-back change leaves no event behind.
    let mut tx = store.begin().await.unwrap();
    tx.insert_audit(&event(Some(a.id), AuditAction::UserCreated, "cli", 5_000))
        .await
        .unwrap();
    drop(tx);
    // Two events of a: the first for both subscriptions, the second only for `all`.
    let mut tx = store.begin().await.unwrap();
    tx.insert_audit(&event(Some(a.id), AuditAction::UserCreated, "cli", 10_000))
        .await
        .unwrap();
    tx.insert_audit(&event(
        Some(a.id),
        AuditAction::ApiKeyCreated,
        "cli",
        11_000,
    ))
    .await
    .unwrap();
    tx.insert_audit(&event(None, AuditAction::SystemBootstrapped, "cli", 12_000))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.read().await.unwrap();
    let listed = tx.list_webhooks(a.id).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0].webhook, all);
    assert_eq!(listed[0].secret_sealed, "sealed-a");
    let for_all = tx.list_deliveries(a.id, all.id, 50, 0).await.unwrap();
    let for_users = tx.list_deliveries(a.id, users.id, 50, 0).await.unwrap();
    assert_eq!(for_all.len(), 2, "{for_all:?}");
    assert_eq!(for_users.len(), 1);
    assert_eq!(for_all[0].event_type, "api_key.created", "newest first");
    assert_eq!(
        for_users[0].event_id, for_all[1].event_id,
        "one event, one id"
    );
    assert!(tx
        .list_deliveries(b.id, other.id, 50, 0)
        .await
        .unwrap()
        .is_empty());
    // Another organization cannot name them.
    assert!(tx
        .list_deliveries(b.id, all.id, 50, 0)
        .await
        .unwrap()
        .is_empty());
    assert!(tx.find_webhook(b.id, all.id).await.unwrap().is_none());
    drop(tx);

    // Claims: each due delivery to one owner until its lease ends.
    let mut tx = store.begin().await.unwrap();
    let first = tx
        .claim_due_deliveries("node-1", t(20_000), t(30_000), 10)
        .await
        .unwrap();
    assert_eq!(first.len(), 3);
    assert!(first
        .iter()
        .all(|d| d.payload.contains(&d.delivery.event_id)));
    let again = tx
        .claim_due_deliveries("node-2", t(21_000), t(31_000), 10)
        .await
        .unwrap();
    assert!(again.is_empty(), "leased elsewhere");
    tx.commit().await.unwrap();
    let d = &first[0].delivery;
    let mut tx = store.begin().await.unwrap();
    let failed = AttemptOutcome {
        at: t(22_000),
        response_status: Some(503),
        duration_ms: 12,
        error: Some("the receiver answered HTTP 503".into()),
        next_attempt_at: Some(t(40_000)),
    };
    assert!(
        !tx.finish_delivery(d.id, "node-2", &failed).await.unwrap(),
        "not the holder"
    );
    assert!(tx.finish_delivery(d.id, "node-1", &failed).await.unwrap());
    assert_eq!(
        tx.note_webhook_health(d.webhook_id, false, t(22_000))
            .await
            .unwrap(),
        Some(t(22_000))
    );
    assert_eq!(
        tx.note_webhook_health(d.webhook_id, false, t(23_000))
            .await
            .unwrap(),
        Some(t(22_000)),
        "failing since the first failure"
    );
    tx.commit().await.unwrap();
    // The other two leases end unfinished (a node died): they are due again.
    let mut tx = store.begin().await.unwrap();
    let retaken = tx
        .claim_due_deliveries("node-2", t(35_000), t(45_000), 10)
        .await
        .unwrap();
    assert_eq!(retaken.len(), 2, "the failed one waits for 40 s");
    for r in &retaken {
        let ok = AttemptOutcome {
            at: t(36_000),
            response_status: Some(200),
            duration_ms: 3,
            error: None,
            next_attempt_at: None,
        };
        assert!(tx
            .finish_delivery(r.delivery.id, "node-2", &ok)
            .await
            .unwrap());
    }
    let later = tx
        .claim_due_deliveries("node-3", t(41_000), t(51_000), 10)
        .await
        .unwrap();
    assert_eq!(later.len(), 1);
    assert_eq!(later[0].delivery.attempts, 1);
    assert_eq!(later[0].delivery.response_status, Some(503));
    tx.commit().await.unwrap();

    // A disabled subscription's deliveries wait; a redelivery is due at once.
    let mut tx = store.begin().await.unwrap();
    let mut off = all.clone();
    off.is_active = false;
    off.updated_at = t(50_000);
    assert!(tx.update_webhook(&off).await.unwrap());
    let done = tx.list_deliveries(a.id, users.id, 50, 0).await.unwrap();
    assert_eq!(done[0].status, DeliveryStatus::Succeeded);
    assert!(tx
        .requeue_delivery(a.id, users.id, done[0].id, t(60_000))
        .await
        .unwrap());
    assert!(!tx
        .requeue_delivery(b.id, users.id, done[0].id, t(60_000))
        .await
        .unwrap());
    let due = tx
        .claim_due_deliveries("node-4", t(70_000), t(80_000), 10)
        .await
        .unwrap();
    assert_eq!(due.len(), 1, "only the active subscription's");
    assert_eq!(due[0].delivery.webhook_id, users.id);
    tx.commit().await.unwrap();

    // History goes after its time; pending deliveries stay.
    let mut tx = store.begin().await.unwrap();
    assert!(tx.delete_webhook(a.id, users.id).await.unwrap());
    let pruned = tx.prune_webhook_history(t(1_000_000)).await.unwrap();
    assert_eq!(pruned, 1, "the succeeded delivery of `all`");
    let left = tx.list_deliveries(a.id, all.id, 50, 0).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].status, DeliveryStatus::Pending);
    tx.commit().await.unwrap();
}
