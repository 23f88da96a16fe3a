//! The store conformance suite on both backends.

use std::sync::Arc;

use tessera_store::{Backend, Store, StoreOptions};
use tessera_testkit::{
    fresh_postgres, fresh_sqlite, migrated_postgres, migrated_sqlite, pg_admin_url, FreshDb,
};

/// A fresh store on `backend`, a copy of the migrated template (migrating it again must be a
/// no-op), or `None` when PostgreSQL is asked for and no server is configured. The `FreshDb`
/// keeps the database alive for the test.
async fn fresh_store(backend: Backend) -> Option<(FreshDb, Arc<dyn Store>)> {
    let db = match backend {
        Backend::Sqlite => migrated_sqlite().await,
        Backend::Postgres => {
            let Some(admin) = pg_admin_url() else {
                eprintln!("skipping PostgreSQL conformance: TESSERA_TEST_PG_URL is not set (./scripts/test sets it)");
                return None;
            };
            migrated_postgres(&admin).await
        }
    };
    let store = tessera_store::connect(&db.url, &StoreOptions::default())
        .await
        .unwrap();
    store.migrate().await.unwrap();
    assert_eq!(store.backend(), backend);
    Some((db, store))
}

/// Migrations apply to an empty database and applying them again changes nothing.
async fn migrates_from_empty(backend: Backend) {
    let db = match backend {
        Backend::Sqlite => fresh_sqlite(),
        Backend::Postgres => match pg_admin_url() {
            Some(admin) => fresh_postgres(&admin).await,
            None => return,
        },
    };
    let store = tessera_store::connect(&db.url, &StoreOptions::default())
        .await
        .unwrap();
    store.migrate().await.unwrap();
    store.migrate().await.unwrap();
    tessera_store::conformance::organizations(store.as_ref()).await;
}

#[tokio::test]
async fn sqlite_migrations_apply_to_an_empty_database_once() {
    migrates_from_empty(Backend::Sqlite).await;
}

#[tokio::test]
async fn postgres_migrations_apply_to_an_empty_database_once() {
    migrates_from_empty(Backend::Postgres).await;
}

/// One test per conformance check and backend, each on its own database, so a failure in one
/// repository hides nothing about the others.
macro_rules! conformance_tests {
    ($($check:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $check() {
                    let (_db, store) = super::fresh_store(tessera_store::Backend::Sqlite).await.unwrap();
                    tessera_store::conformance::$check(store.as_ref()).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $check() {
                    if let Some((_db, store)) = super::fresh_store(tessera_store::Backend::Postgres).await {
                        tessera_store::conformance::$check(store.as_ref()).await;
                    }
                }
            )*
        }
    };
}

conformance_tests!(
    organizations,
    transactions,
    users_and_roles,
    user_updates,
    second_factor,
    api_keys,
    oauth_clients,
    api_resources,
    registration,
    signing_keys_and_revocations,
    interactive_flows,
    codes_on_their_own,
    sender_constraints_and_logout,
    device_codes,
    console_sessions,
    connections,
    audit_log,
    change_feed,
    limit_counters,
    pushed_changes,
    webhooks,
);

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

/// PostgreSQL: a connection whose server process ended while it sat idle in the store fails
/// the one request that finds it broken, and no more: it is not handed out again.
#[tokio::test]
async fn postgres_a_killed_connection_fails_one_request_not_every_later_one() {
    let Some((db, store)) = fresh_store(Backend::Postgres).await else {
        return;
    };
    let id = tessera_domain::OrgId(uuid::Uuid::new_v4());
    // A request that reads (and finds nothing), or its error.
    let read = || async { store.read().await?.find_org(id).await };
    // One request at a time: the store's one connection is the one used each time.
    for _ in 0..3 {
        assert!(read().await.unwrap().is_none());
    }
    // End the server processes of the store's connections (they last read `organizations`;
    // the store's own health watcher is left alone).
    let mut admin: sqlx::PgConnection = sqlx::Connection::connect(&db.url).await.unwrap();
    let ended: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = current_database() AND pid <> pg_backend_pid()
            AND query ILIKE '%organizations%'",
    )
    .fetch_all(&mut admin)
    .await
    .unwrap();
    assert!(!ended.is_empty() && ended.iter().all(|e| *e), "{ended:?}");
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let mut failed = 0;
    for _ in 0..4 {
        if read().await.is_err() {
            failed += 1;
        }
    }
    assert!(failed <= 1, "{failed} of 4 requests after the kill failed");
    assert!(read().await.unwrap().is_none());
}
