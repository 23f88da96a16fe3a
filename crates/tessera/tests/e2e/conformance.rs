//! The store conformance suite on both backends.

use tessera_store::StoreOptions;
use tessera_testkit::{fresh_postgres, fresh_sqlite, pg_admin_url};

#[tokio::test]
async fn sqlite_store_conforms() {
    let db = fresh_sqlite();
    let store = tessera_store::connect(&db.url, &StoreOptions::default())
        .await
        .unwrap();
    store.migrate().await.unwrap();
    store.migrate().await.unwrap(); // idempotent
    assert_eq!(store.backend(), tessera_store::Backend::Sqlite);
    tessera_store::conformance::run_all(store.as_ref()).await;
}

#[tokio::test]
async fn postgres_store_conforms() {
    let Some(admin) = pg_admin_url() else {
        eprintln!("skipping PostgreSQL conformance: TESSERA_TEST_PG_URL is not set (./scripts/test sets it)");
        return;
    };
    let db = fresh_postgres(&admin).await;
    let store = tessera_store::connect(&db.url, &StoreOptions::default())
        .await
        .unwrap();
    store.migrate().await.unwrap();
    store.migrate().await.unwrap();
    assert_eq!(store.backend(), tessera_store::Backend::Postgres);
    tessera_store::conformance::run_all(store.as_ref()).await;
}

#[tokio::test]
async fn unreachable_database_is_a_clear_error() {
    let e = tessera_store::connect("postgres://u:pw@127.0.0.1:1/x", &StoreOptions::default())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("cannot connect to postgres://u:***@127.0.0.1:1/x"),
        "{e}"
    );
    assert!(!e.contains("pw"), "password redacted: {e}");
    let e = tessera_store::connect("mysql://x", &StoreOptions::default())
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("unsupported database URL"), "{e}");
}

#[tokio::test]
async fn concurrent_sqlite_writers_queue_instead_of_failing() {
    let db = fresh_sqlite();
    let store = tessera_store::connect(&db.url, &StoreOptions::default())
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let mut tasks = vec![];
    for i in 0..20 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut tx = store.begin().await.unwrap();
            let n = tx.last_change_seq().await.unwrap();
            tx.record_change(
                None,
                "test",
                &format!("{i}-{n}"),
                tessera_domain::clock::from_millis(1),
            )
            .await
            .unwrap();
            tx.commit().await.unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let mut tx = store.read().await.unwrap();
    assert_eq!(tx.changes_since(0, 100).await.unwrap().len(), 20);
}
