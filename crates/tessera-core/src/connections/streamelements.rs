//! StreamElements tokens (the JWT from the StreamElements dashboard, sealed) for tip
//! ingestion: listing, adding and deleting them.

use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use tessera_domain::connection::{hint, parse_label, parse_pasted, MAX_TOKEN_LEN};
use tessera_domain::{AuditAction, Permission, Platform};
use tessera_store::{SealedColumn, StreamElementsTokenRecord};

use super::Ts;
use crate::audit::AuditEntry;
use crate::{snapshot, Context, CoreError, CoreResult, Services};

/// A StreamElements token as listed.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SeTokenView {
    pub id: String,
    pub platform: Platform,
    pub label: Option<String>,
    /// `…` and the token's last 4 characters.
    pub hint: String,
    #[serde(with = "tessera_domain::clock::rfc3339_millis")]
    pub created_at: Ts,
}

fn se_view(t: &StreamElementsTokenRecord) -> SeTokenView {
    SeTokenView {
        id: t.id.clone(),
        platform: t.platform,
        label: t.label.clone(),
        hint: format!("…{}", t.hint),
        created_at: t.created_at,
    }
}

impl Services {
    /// `GET /streamelements-tokens`.
    pub async fn list_se_tokens(&self, ctx: &Context, org: &str) -> CoreResult<Vec<SeTokenView>> {
        let mut tx = self.store.read().await?;
        let org = self
            .org_for(tx.as_mut(), ctx, org, Some(Permission::ConnectionsRead))
            .await?;
        Ok(tx
            .list_se_tokens(org.id)
            .await?
            .iter()
            .map(se_view)
            .collect())
    }

    /// `POST /streamelements-tokens`: platform, JWT, optional label.
    pub async fn add_se_token(
        &self,
        ctx: &Context,
        org: &str,
        platform: &str,
        token: &SecretString,
        label: Option<&str>,
    ) -> CoreResult<SeTokenView> {
        let mut problems = tessera_domain::error::Collector::new();
        let p = problems.take(Platform::parse(platform));
        let jwt = problems.take(parse_pasted("token", token.expose_secret(), MAX_TOKEN_LEN).and_then(|t| {
            let parts: Vec<&str> = t.split('.').collect();
            let b64 = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'=');
            if parts.len() == 3 && parts.iter().all(|x| b64(x)) {
                Ok(t)
            } else {
                Err(tessera_domain::FieldError::new("token", "must be the JWT from your StreamElements dashboard (three dot-separated parts)"))
            }
        }));
        let label = match label.map(str::trim).filter(|l| !l.is_empty()) {
            Some(l) => problems.take(parse_label("label", l)).map(Some),
            None => Some(None),
        };
        problems.finish()?;
        let (Some(p), Some(jwt), Some(label)) = (p, jwt, label) else {
            return Err(CoreError::invalid("token", "is invalid"));
        };
        let mut tx = self.store.begin().await?;
        let org = self
            .org_for(tx.as_mut(), ctx, org, Some(Permission::ConnectionsCreate))
            .await?;
        let id = uuid::Uuid::new_v4().to_string();
        let rec = StreamElementsTokenRecord {
            token: self.seal(org.id, SealedColumn::StreamElementsToken, &id, &jwt)?,
            hint: hint(&jwt),
            id,
            org_id: org.id,
            platform: p,
            label,
            created_at: self.now(),
        };
        tx.insert_se_token(&rec).await?;
        let view = se_view(&rec);
        self.audit(
            tx.as_mut(),
            ctx,
            AuditEntry::new(
                AuditAction::StreamElementsTokenCreated,
                "streamelements_token",
            )
            .org(org.id)
            .target(rec.id.clone())
            .after(snapshot(&view)),
        )
        .await?;
        tx.commit().await?;
        Ok(view)
    }

    /// `DELETE /streamelements-tokens/{id}`: tip ingestion with it stops at once.
    pub async fn delete_se_token(&self, ctx: &Context, org: &str, id: &str) -> CoreResult<()> {
        let mut tx = self.store.begin().await?;
        let org = self
            .org_for(tx.as_mut(), ctx, org, Some(Permission::ConnectionsDelete))
            .await?;
        let old = tx
            .list_se_tokens(org.id)
            .await?
            .into_iter()
            .find(|t| t.id == id)
            .ok_or_else(|| CoreError::not_found("StreamElements token", id))?;
        tx.delete_se_token(org.id, id).await?;
        self.audit(
            tx.as_mut(),
            ctx,
            AuditEntry::new(
                AuditAction::StreamElementsTokenDeleted,
                "streamelements_token",
            )
            .org(org.id)
            .target(id)
            .before(snapshot(&se_view(&old))),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
