//! Conformance: organizations, and what a transaction promises.

use super::*;

pub async fn organizations(store: &dyn Store) {
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

pub async fn transactions(store: &dyn Store) {
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
    drop(tx);

    // A single write is durable when its statement returns, with or without `commit`; it
    // queues with the transactions (none lost), and a failed one leaves nothing behind.
    let single = |i: usize| async move {
        let o = org(&format!("conf-single-{i}"));
        let mut tx = store.single_write().await.unwrap();
        tx.insert_org(&o).await.unwrap();
        if i.is_multiple_of(2) {
            tx.commit().await.unwrap();
        }
        o.id
    };
    let ids = tokio::join!(single(1), write(5), single(2), write(6), single(3));
    let mut tx = store.read().await.unwrap();
    for id in [ids.0, ids.1, ids.2, ids.3, ids.4] {
        assert!(
            tx.find_org(id).await.unwrap().is_some(),
            "single write kept"
        );
    }
    drop(tx);
    let mut tx = store.single_write().await.unwrap();
    assert!(
        matches!(
            tx.insert_org(&o).await,
            Err(crate::StoreError::Conflict { .. })
        ),
        "duplicate in a single write"
    );
    drop(tx);
    // The gate was let go: the next writer goes on.
    let mut tx = store.begin().await.unwrap();
    assert!(tx.find_org(ids.0).await.unwrap().is_some());
    tx.commit().await.unwrap();

    // A transaction given up while its `BEGIN` is on its way (the request went away): the
    // `BEGIN` may still run, and its connection is rolled back before it is used again
    // (left open there, it would refuse the next `BEGIN` or keep the next single writes
    // uncommitted).
    store.ping().await.unwrap();
    for i in 0..3 {
        let cancelled = store.begin();
        drop(futures_util::FutureExt::now_or_never(cancelled));
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let o = org(&format!("conf-after-cancel-{i}"));
        let mut tx = store.begin().await.unwrap();
        tx.insert_org(&o).await.unwrap();
        tx.commit().await.unwrap();
        let mut w = store.single_write().await.unwrap();
        let single = org(&format!("conf-single-after-cancel-{i}"));
        w.insert_org(&single).await.unwrap();
        drop(w);
        // Seen from every connection, the one the write ran on included.
        let readers = futures_util::future::join_all((0..4).map(|_| async {
            let mut r = store.read().await.unwrap();
            (
                r.find_org(o.id).await.unwrap().is_some(),
                r.find_org(single.id).await.unwrap().is_some(),
                r,
            )
        }))
        .await;
        for (tx_seen, single_seen, _) in &readers {
            assert!(*tx_seen && *single_seen, "round {i}: writes committed");
        }
    }
}
