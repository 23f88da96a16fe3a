//! Conformance: console sessions and their sign-ins.

use super::*;

pub async fn console_sessions(store: &dyn Store) {
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
