//! The PostgreSQL backend, for clusters: any number of stateless nodes share one database.

use sqlx::postgres::{PgPool, PgPoolOptions};

use async_trait::async_trait;

use crate::{Backend, Result, Store, StoreError, StoreOptions};

crate::sql::impl_tx!(
    PgTx,
    sqlx::postgres::PgRow,
    sqlx::Transaction<'static, sqlx::Postgres>,
    "FOR UPDATE SKIP LOCKED"
);

/// A PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    pub async fn connect(url: &str, opts: &StoreOptions) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(opts.max_connections.max(1))
            .acquire_timeout(opts.busy_timeout)
            .connect(url)
            .await
            .map_err(|e| {
                StoreError::Unavailable(format!(
                    "cannot connect to {}: {e}",
                    crate::redact_url(url)
                ))
            })?;
        Ok(Self { pool })
    }
}

#[async_trait]
impl Store for PgStore {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    async fn migrate(&self) -> Result<()> {
        crate::migrations::migrator(crate::migrations::POSTGRES)
            .await?
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::Migration(e.to_string()))
    }

    async fn begin(&self) -> Result<Box<dyn crate::Tx>> {
        Ok(Box::new(PgTx {
            tx: self.pool.begin().await?,
        }))
    }

    async fn read(&self) -> Result<Box<dyn crate::Tx>> {
        Ok(Box::new(PgTx {
            tx: self.pool.begin().await?,
        }))
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}
