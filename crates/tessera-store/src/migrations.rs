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
    Migrator::new(Source(list))
        .await
        .map_err(|e| crate::StoreError::Migration(e.to_string()))
}
