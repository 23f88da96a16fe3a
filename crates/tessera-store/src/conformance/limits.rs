//! Shared limit counters, and the change announcements of the backends that push them.

use super::*;

pub async fn limit_counters(store: &dyn Store) {
    let count = |key: &'static str, at: i64| async move {
        let mut tx = store.begin().await.unwrap();
        let n = tx.count_event(key, t(at), 60).await.unwrap();
        tx.commit().await.unwrap();
        n
    };
    // One window of 60 s from the first event; keys are independent.
    assert_eq!(count("user a", 1_000).await, 1);
    assert_eq!(count("user a", 2_000).await, 2);
    assert_eq!(count("user b", 2_000).await, 1);
    assert_eq!(count("user a", 60_999).await, 3);
    // The window has ended: the next event starts a new one.
    assert_eq!(count("user a", 61_000).await, 1);
    assert_eq!(count("user a", 62_000).await, 2);

    // Concurrent counts each see their own number, never the same twice.
    let mut tasks = Vec::new();
    for _ in 0..10 {
        tasks.push(async {
            let mut tx = store.begin().await.unwrap();
            let n = tx.count_event("user c", t(5_000), 60).await.unwrap();
            tx.commit().await.unwrap();
            n
        });
    }
    let mut seen: Vec<i64> = futures_util::future::join_all(tasks).await;
    seen.sort_unstable();
    assert_eq!(seen, (1..=10).collect::<Vec<_>>());

    // Pruning forgets windows that started before the cut, and only those.
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.prune_limit_counters(t(10_000)).await.unwrap(), 2);
    tx.commit().await.unwrap();
    assert_eq!(count("user b", 10_000).await, 1, "forgotten, starts again");
    assert_eq!(count("user a", 63_000).await, 3, "kept");
}

/// A backend that announces changes sends each one as it commits, after saying it (re)started
/// listening; one that does not says so.
pub async fn pushed_changes(store: &dyn Store) {
    let (to, mut pushed) = tokio::sync::mpsc::unbounded_channel();
    if !store.push_changes(to) {
        assert_eq!(store.backend(), crate::Backend::Sqlite, "only SQLite polls");
        return;
    }
    let wait = std::time::Duration::from_secs(10);
    let first = tokio::time::timeout(wait, pushed.recv()).await.unwrap();
    assert_eq!(
        first,
        Some(crate::ChangePush::Lost),
        "listening starts with a poll"
    );
    let o = OrgId(Uuid::new_v4());
    let mut tx = store.begin().await.unwrap();
    tx.record_change(Some(o), "oauth_client", "app", t(1_000))
        .await
        .unwrap();
    tx.record_change(None, "limit_block", "ceiling 10.0.0.1", t(1_000))
        .await
        .unwrap();
    // Nothing before the commit.
    assert!(
        tokio::time::timeout(std::time::Duration::from_millis(200), pushed.recv())
            .await
            .is_err()
    );
    tx.commit().await.unwrap();
    let mut got = Vec::new();
    while got.len() < 2 {
        match tokio::time::timeout(wait, pushed.recv()).await.unwrap() {
            Some(crate::ChangePush::Change(c)) => got.push(c),
            Some(crate::ChangePush::Lost) => {}
            None => panic!("announcements ended"),
        }
    }
    assert_eq!(got[0].org_id, Some(o));
    assert_eq!(
        (got[0].kind.as_str(), got[0].key.as_str()),
        ("oauth_client", "app")
    );
    assert_eq!(got[1].org_id, None);
    assert_eq!(got[1].key, "ceiling 10.0.0.1");
    assert!(got[1].seq > got[0].seq);
}
