//! Migrations embedded in the binary, one list per backend, fed to sqlx's migrator.

use std::borrow::Cow;

use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};

type Embedded = &'static [(i64, &'static str, &'static str)];

pub(crate) const SQLITE: Embedded = &[
    (
        1,
        "foundation",
        include_str!("../migrations/sqlite/0001_foundation.sql"),
    ),
    (
        2,
        "oauth clients",
        include_str!("../migrations/sqlite/0002_oauth_clients.sql"),
    ),
    (
        3,
        "tokens",
        include_str!("../migrations/sqlite/0003_tokens.sql"),
    ),
    (
        4,
        "interactive flows",
        include_str!("../migrations/sqlite/0004_interactive.sql"),
    ),
    (
        5,
        "refresh tokens",
        include_str!("../migrations/sqlite/0005_refresh_tokens.sql"),
    ),
    (
        6,
        "id token algorithm",
        include_str!("../migrations/sqlite/0006_id_token_alg.sql"),
    ),
    (
        7,
        "device codes",
        include_str!("../migrations/sqlite/0007_device_codes.sql"),
    ),
    (
        8,
        "token exchange policy",
        include_str!("../migrations/sqlite/0008_token_exchange.sql"),
    ),
    (
        9,
        "client registration",
        include_str!("../migrations/sqlite/0009_registration.sql"),
    ),
    (
        10,
        "connections",
        include_str!("../migrations/sqlite/0010_connections.sql"),
    ),
    (
        11,
        "console sessions",
        include_str!("../migrations/sqlite/0011_console.sql"),
    ),
    (
        12,
        "access token algorithm",
        include_str!("../migrations/sqlite/0012_access_token_alg.sql"),
    ),
    (
        13,
        "user profile",
        include_str!("../migrations/sqlite/0013_user_profile.sql"),
    ),
    (
        14,
        "claims request",
        include_str!("../migrations/sqlite/0014_claims_request.sql"),
    ),
    (
        15,
        "client userinfo algorithm and token endpoint authentication method",
        include_str!("../migrations/sqlite/0015_client_userinfo_auth_method.sql"),
    ),
    (
        16,
        "client keys and assertions",
        include_str!("../migrations/sqlite/0016_client_assertions.sql"),
    ),
    (
        17,
        "client request object algorithm",
        include_str!("../migrations/sqlite/0017_client_request_object_alg.sql"),
    ),
    (
        18,
        "shared limits",
        include_str!("../migrations/sqlite/0018_shared_limits.sql"),
    ),
    (
        19,
        "api resources",
        include_str!("../migrations/sqlite/0019_api_resources.sql"),
    ),
    (
        20,
        "resource indicators",
        include_str!("../migrations/sqlite/0020_resource_indicators.sql"),
    ),
    (
        21,
        "registered client use",
        include_str!("../migrations/sqlite/0021_registered_client_use.sql"),
    ),
    (
        22,
        "device resources",
        include_str!("../migrations/sqlite/0022_device_resources.sql"),
    ),
    (
        23,
        "sender constraints",
        include_str!("../migrations/sqlite/0023_sender_constraints.sql"),
    ),
    (
        24,
        "client secret jwt and token cutoffs",
        include_str!("../migrations/sqlite/0024_client_secret_jwt.sql"),
    ),
    (
        25,
        "account page and second factor",
        include_str!("../migrations/sqlite/0025_account.sql"),
    ),
    (
        26,
        "webhooks and their outbox",
        include_str!("../migrations/sqlite/0026_webhooks.sql"),
    ),
];

pub(crate) const POSTGRES: Embedded = &[
    (
        1,
        "foundation",
        include_str!("../migrations/postgres/0001_foundation.sql"),
    ),
    (
        2,
        "oauth clients",
        include_str!("../migrations/postgres/0002_oauth_clients.sql"),
    ),
    (
        3,
        "tokens",
        include_str!("../migrations/postgres/0003_tokens.sql"),
    ),
    (
        4,
        "interactive flows",
        include_str!("../migrations/postgres/0004_interactive.sql"),
    ),
    (
        5,
        "refresh tokens",
        include_str!("../migrations/postgres/0005_refresh_tokens.sql"),
    ),
    (
        6,
        "id token algorithm",
        include_str!("../migrations/postgres/0006_id_token_alg.sql"),
    ),
    (
        7,
        "device codes",
        include_str!("../migrations/postgres/0007_device_codes.sql"),
    ),
    (
        8,
        "token exchange policy",
        include_str!("../migrations/postgres/0008_token_exchange.sql"),
    ),
    (
        9,
        "client registration",
        include_str!("../migrations/postgres/0009_registration.sql"),
    ),
    (
        10,
        "connections",
        include_str!("../migrations/postgres/0010_connections.sql"),
    ),
    (
        11,
        "console sessions",
        include_str!("../migrations/postgres/0011_console.sql"),
    ),
    (
        12,
        "access token algorithm",
        include_str!("../migrations/postgres/0012_access_token_alg.sql"),
    ),
    (
        13,
        "user profile",
        include_str!("../migrations/postgres/0013_user_profile.sql"),
    ),
    (
        14,
        "claims request",
        include_str!("../migrations/postgres/0014_claims_request.sql"),
    ),
    (
        15,
        "client userinfo algorithm and token endpoint authentication method",
        include_str!("../migrations/postgres/0015_client_userinfo_auth_method.sql"),
    ),
    (
        16,
        "client keys and assertions",
        include_str!("../migrations/postgres/0016_client_assertions.sql"),
    ),
    (
        17,
        "client request object algorithm",
        include_str!("../migrations/postgres/0017_client_request_object_alg.sql"),
    ),
    (
        18,
        "shared limits",
        include_str!("../migrations/postgres/0018_shared_limits.sql"),
    ),
    (
        19,
        "api resources",
        include_str!("../migrations/postgres/0019_api_resources.sql"),
    ),
    (
        20,
        "resource indicators",
        include_str!("../migrations/postgres/0020_resource_indicators.sql"),
    ),
    (
        21,
        "registered client use",
        include_str!("../migrations/postgres/0021_registered_client_use.sql"),
    ),
    (
        22,
        "device resources",
        include_str!("../migrations/postgres/0022_device_resources.sql"),
    ),
    (
        23,
        "sender constraints",
        include_str!("../migrations/postgres/0023_sender_constraints.sql"),
    ),
    (
        24,
        "client secret jwt and token cutoffs",
        include_str!("../migrations/postgres/0024_client_secret_jwt.sql"),
    ),
    (
        25,
        "account page and second factor",
        include_str!("../migrations/postgres/0025_account.sql"),
    ),
    (
        26,
        "webhooks and their outbox",
        include_str!("../migrations/postgres/0026_webhooks.sql"),
    ),
];

#[derive(Debug)]
struct Source(Embedded);

impl<'s> MigrationSource<'s> for Source {
    fn resolve(
        self,
    ) -> futures_core_shim::BoxFuture<'s, Result<Vec<Migration>, sqlx::error::BoxDynError>> {
        Box::pin(async move {
            Ok(self
                .0
                .iter()
                .map(|(v, d, sql)| {
                    Migration::new(
                        *v,
                        Cow::Borrowed(*d),
                        MigrationType::Simple,
                        Cow::Borrowed(*sql),
                        false,
                    )
                })
                .collect())
        })
    }
}

mod futures_core_shim {
    pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;
}

pub(crate) async fn migrator(list: Embedded) -> Result<Migrator, crate::StoreError> {
    let mut m = Migrator::new(Source(list))
        .await
        .map_err(|e| crate::StoreError::Migration(e.to_string()))?;
    // Migrations only expand the schema (see the test below), so a binary of the previous
    // release works on a database a newer one migrated: during a rolling upgrade, or to go
    // back after one. It must not refuse to start over migrations it does not know.
    m.set_ignore_missing(true);
    Ok(m)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// A statement of a migration that could break a node of the previous release, which
    /// runs on the migrated schema during a rolling upgrade: only a migration that says
    /// `-- contract:` (why it is safe now) may do it.
    fn breaking(sql: &str) -> Option<String> {
        let code: String = sql
            .lines()
            .map(|l| l.split("--").next().unwrap_or(""))
            .collect::<Vec<_>>()
            .join(" ")
            .to_ascii_uppercase();
        let words: Vec<&str> = code.split_whitespace().collect();
        for (i, w) in words.iter().enumerate() {
            let next = words.get(i + 1).copied().unwrap_or("");
            let bad = match *w {
                "DROP" => matches!(next, "TABLE" | "COLUMN" | "CONSTRAINT" | "VIEW"),
                "RENAME" => true,
                "ALTER" => next == "COLUMN",
                "SET" => next == "NOT" && words.get(i + 2) == Some(&"NULL"),
                _ => false,
            };
            if bad {
                return Some(words[i.saturating_sub(3)..(i + 3).min(words.len())].join(" "));
            }
        }
        // A new NOT NULL column needs a default, or the previous release cannot insert.
        for stmt in code.split(';') {
            if stmt.contains("ADD COLUMN") && stmt.contains("NOT NULL") && !stmt.contains("DEFAULT")
            {
                return Some(stmt.trim().to_owned());
            }
        }
        None
    }

    #[test]
    fn migrations_only_expand_the_schema() {
        for (backend, list) in [("sqlite", SQLITE), ("postgres", POSTGRES)] {
            // The first migration creates the schema from nothing.
            for (version, name, sql) in list.iter().skip(1) {
                if sql.contains("-- contract:") {
                    continue;
                }
                assert_eq!(
                    breaking(sql),
                    None,
                    "{backend} migration {version} ({name}) would break nodes of the previous release"
                );
            }
        }
        assert!(breaking("ALTER TABLE t DROP COLUMN c;").is_some());
        assert!(breaking("ALTER TABLE t RENAME TO u;").is_some());
        assert!(breaking("ALTER TABLE t ADD COLUMN c TEXT NOT NULL;").is_some());
        assert!(breaking("ALTER TABLE t ADD COLUMN c TEXT NOT NULL DEFAULT '';").is_none());
        assert!(breaking("-- drop table t\nCREATE INDEX i ON t (c);").is_none());
    }

    /// A binary of the previous release starts on a database a newer one migrated.
    #[tokio::test]
    async fn an_older_binary_accepts_a_newer_schema() {
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect("sqlite::memory:")
            .await
            .unwrap();
        migrator(SQLITE).await.unwrap().run(&pool).await.unwrap();
        let older = &SQLITE[..SQLITE.len() - 1];
        migrator(older).await.unwrap().run(&pool).await.unwrap();
    }
}
