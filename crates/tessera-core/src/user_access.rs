//! What a member has handed out and where they are signed in, for administrators: the
//! consents they gave clients (withdrawing one revokes the refresh tokens the client got from
//! them) and their live sign-in sessions (ending them also tells the clients with a
//! back-channel logout URI).

use serde::Serialize;
use tessera_domain::clock::rfc3339_millis;
use tessera_domain::{AuditAction, OrgId, Permission, Timestamp, UserId};

use crate::audit::AuditEntry;
use crate::{Context, CoreError, CoreResult, Services};

/// A consent as the API shows it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsentView {
    pub client_id: String,
    /// The client's name, or null when the client is gone.
    pub client_name: Option<String>,
    pub scopes: Vec<String>,
    #[serde(with = "rfc3339_millis")]
    pub granted_at: Timestamp,
    /// The member's last sign-in to the client under the consent; null: none since.
    #[serde(with = "rfc3339_millis::option")]
    pub last_used_at: Option<Timestamp>,
}

/// A live sign-in session as the API shows it: its `sid` (as id_tokens carry it), never the
/// cookie or its hash.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionView {
    pub id: String,
    #[serde(with = "rfc3339_millis")]
    pub auth_time: Timestamp,
    #[serde(with = "rfc3339_millis")]
    pub created_at: Timestamp,
    #[serde(with = "rfc3339_millis")]
    pub expires_at: Timestamp,
}

impl Services {
    /// The organization and the user `id` names in it, with `permission`.
    pub(crate) async fn member_for(
        &self,
        ctx: &Context,
        org: &str,
        id: &str,
        permission: Permission,
    ) -> CoreResult<(OrgId, UserId)> {
        let not_found = || CoreError::not_found("user", id);
        let mut tx = self.store.read().await?;
        let org = self
            .org_for(tx.as_mut(), ctx, org, Some(permission))
            .await?;
        let user = uuid::Uuid::parse_str(id)
            .map(UserId)
            .map_err(|_| not_found())?;
        tx.find_user(org.id, user).await?.ok_or_else(not_found)?;
        Ok((org.id, user))
    }

    /// `GET …/users/{id}/consents`.
    pub async fn user_consents(
        &self,
        ctx: &Context,
        org: &str,
        id: &str,
    ) -> CoreResult<Vec<ConsentView>> {
        let (org, user) = self.member_for(ctx, org, id, Permission::UsersRead).await?;
        let consents = {
            let mut tx = self.store.read().await?;
            tx.user_consents(org, user).await?
        };
        let mut out = Vec::with_capacity(consents.len());
        for c in consents {
            let name = self
                .cached_client(org, &c.client_id)
                .await
                .map_err(|e| CoreError::internal(e.to_string()))?
                .map(|k| k.client.settings.name.clone());
            out.push(ConsentView {
                client_id: c.client_id,
                client_name: name,
                scopes: c.scopes,
                granted_at: c.granted_at,
                last_used_at: c.last_used_at,
            });
        }
        Ok(out)
    }

    /// `DELETE …/users/{id}/consents/{client_id}`: the consent goes (the client asks again)
    /// and so do the refresh tokens the user gave the client.
    pub async fn withdraw_consent(
        &self,
        ctx: &Context,
        org: &str,
        id: &str,
        client_id: &str,
    ) -> CoreResult<()> {
        let (org_id, user) = self.member_for(ctx, org, id, Permission::UsersEdit).await?;
        self.withdraw_consent_of(ctx, org_id, user, client_id).await
    }

    /// Withdraws `user`'s consent to `client_id` (and the client's refresh tokens from
    /// them), audited as `ctx`: an administrator's or the user's own doing.
    pub(crate) async fn withdraw_consent_of(
        &self,
        ctx: &Context,
        org_id: OrgId,
        user: UserId,
        client_id: &str,
    ) -> CoreResult<()> {
        let mut tx = self.store.begin().await?;
        if !tx
            .withdraw_consent(org_id, user, client_id, self.now())
            .await?
        {
            return Err(CoreError::not_found("consent", client_id));
        }
        self.audit(
            tx.as_mut(),
            ctx,
            AuditEntry::new(AuditAction::UserConsentRevoked, "user")
                .org(org_id)
                .target(user.to_string())
                .before(Some(serde_json::json!({"clientId": client_id}))),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// `GET …/users/{id}/sessions`: the live ones, newest first.
    pub async fn user_sessions(
        &self,
        ctx: &Context,
        org: &str,
        id: &str,
    ) -> CoreResult<Vec<SessionView>> {
        let (org, user) = self.member_for(ctx, org, id, Permission::UsersRead).await?;
        let mut tx = self.store.read().await?;
        Ok(tx
            .user_sessions(org, user, self.now())
            .await?
            .into_iter()
            .map(|s| SessionView {
                id: crate::authorize::session_sid(&s.id_hash),
                auth_time: s.auth_time,
                created_at: s.created_at,
                expires_at: s.expires_at,
            })
            .collect())
    }

    /// `DELETE …/users/{id}/sessions`: every live sign-in session ends (the browsers must sign
    /// in again); the clients with a back-channel logout URI hear of it. How many ended.
    pub async fn end_user_sessions(&self, ctx: &Context, org: &str, id: &str) -> CoreResult<u64> {
        let (org_id, user) = self.member_for(ctx, org, id, Permission::UsersEdit).await?;
        let mut tx = self.store.begin().await?;
        let n = tx.end_user_sessions(org_id, user, self.now()).await?;
        self.audit(
            tx.as_mut(),
            ctx,
            AuditEntry::new(AuditAction::UserSessionsEnded, "user")
                .org(org_id)
                .target(id.to_owned())
                .after(Some(serde_json::json!({"sessionsEnded": n}))),
        )
        .await?;
        tx.commit().await?;
        self.wake_backchannel();
        Ok(n)
    }
}
