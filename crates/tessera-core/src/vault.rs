//! Vault key rotation: how many sealed values each key holds, and re-encryption of every
//! sealed column under the current key (`tessera vault reencrypt`).
//!
//! Re-encryption walks each column by row id and rewrites one row at a time with a
//! compare-and-swap on the old value, so that it can stop anywhere (each row is under the old
//! key or the new one, and the ring opens both), be run again (rows already under the current
//! key are skipped), and run beside a live server (a value changed meanwhile is left alone: it
//! was sealed under the current key anyway).

use std::collections::BTreeMap;

use serde::Serialize;
use tessera_crypto::Vault;
use tessera_domain::AuditAction;
use tessera_store::SealedColumn;

use crate::audit::AuditEntry;
use crate::connections::cell;
use crate::{Context, CoreError, CoreResult, Services};

const PAGE: u32 = 200;

/// Sealed values per column and per key.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VaultStatus {
    pub current_key: String,
    /// Every key the ring holds, the current one first.
    pub keys: Vec<String>,
    pub total: u64,
    /// Values under a key other than the current one: what a re-encryption would rewrite.
    pub pending: u64,
    /// Values under each key id (a key missing from `keys` cannot be opened).
    pub by_key: BTreeMap<String, u64>,
    pub columns: Vec<ColumnStatus>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ColumnStatus {
    pub table: &'static str,
    pub column: &'static str,
    pub total: u64,
    pub pending: u64,
}

/// What a re-encryption did.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReencryptReport {
    pub current_key: String,
    pub resealed: u64,
    pub already_current: u64,
    /// Changed by someone else between reading and rewriting (then already current).
    pub changed_meanwhile: u64,
}

impl Services {
    /// Counts sealed values per key. Command line and system administrators only.
    pub async fn vault_status(&self, ctx: &Context) -> CoreResult<VaultStatus> {
        if !ctx.principal.is_system_admin {
            return Err(CoreError::SystemAdminOnly("inspect the vault"));
        }
        let current = self.vault.current_key_id().to_owned();
        let mut st = VaultStatus {
            current_key: current.clone(),
            keys: self
                .vault
                .key_ids()
                .iter()
                .map(|k| (*k).to_owned())
                .collect(),
            total: 0,
            pending: 0,
            by_key: BTreeMap::new(),
            columns: Vec::new(),
        };
        for col in SealedColumn::ALL {
            let (table, column, _) = col.names();
            let mut cs = ColumnStatus {
                table,
                column,
                total: 0,
                pending: 0,
            };
            let mut after: Option<String> = None;
            loop {
                let page = {
                    let mut tx = self.store.read().await?;
                    tx.sealed_cells(col, after.as_deref(), PAGE).await?
                };
                for c in &page {
                    let kid = Vault::key_id_of(&c.value).unwrap_or("?").to_owned();
                    cs.total += 1;
                    if kid != current {
                        cs.pending += 1;
                    }
                    *st.by_key.entry(kid).or_default() += 1;
                }
                match page.last() {
                    Some(last) if page.len() == PAGE as usize => after = Some(last.row_id.clone()),
                    _ => break,
                }
            }
            st.total += cs.total;
            st.pending += cs.pending;
            st.columns.push(cs);
        }
        Ok(st)
    }

    /// Rewrites every sealed value that is not under the current key. `progress(done, total)`
    /// is called after each row.
    pub async fn reencrypt_vault(
        &self,
        ctx: &Context,
        progress: &(dyn Fn(u64, u64) + Send + Sync),
    ) -> CoreResult<ReencryptReport> {
        let status = self.vault_status(ctx).await?;
        let mut report = ReencryptReport {
            current_key: status.current_key.clone(),
            ..Default::default()
        };
        let total = status.total;
        let mut done = 0;
        for col in SealedColumn::ALL {
            let (table, column, _) = col.names();
            let mut after: Option<String> = None;
            loop {
                let page = {
                    let mut tx = self.store.read().await?;
                    tx.sealed_cells(col, after.as_deref(), PAGE).await?
                };
                for c in &page {
                    let org = c.org_id.to_string();
                    let at = cell(&org, col, &c.row_id);
                    match self
                        .vault
                        .reseal(at, &c.value, self.rng.as_ref())
                        .map_err(|_| {
                            CoreError::internal(format!(
                                "{table}.{column} of row {} cannot be opened with any key of the ring; add its key to TESSERA_VAULT_KEYS",
                                c.row_id
                            ))
                        })? {
                        None => report.already_current += 1,
                        Some(new) => {
                            let mut tx = self.store.begin().await?;
                            if tx.reseal_cell(col, &c.row_id, &c.value, &new).await? {
                                report.resealed += 1;
                            } else {
                                report.changed_meanwhile += 1;
                            }
                            tx.commit().await?;
                        }
                    }
                    done += 1;
                    progress(done, total.max(done));
                }
                match page.last() {
                    Some(last) if page.len() == PAGE as usize => after = Some(last.row_id.clone()),
                    _ => break,
                }
            }
        }
        let mut tx = self.store.begin().await?;
        self.audit(
            tx.as_mut(),
            ctx,
            AuditEntry::new(AuditAction::VaultReencrypted, "vault")
                .target(report.current_key.clone())
                .after(crate::snapshot(&report)),
        )
        .await?;
        tx.commit().await?;
        Ok(report)
    }
}
