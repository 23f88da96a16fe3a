//! A live platform access token for a consumer, refreshed on the spot when it is about to
//! expire.

use secrecy::ExposeSecret;
use serde::Serialize;
use tessera_domain::{ConnectionKind, Permission, Platform};
use tessera_store::SealedColumn;

use super::{platform_arg, Ts};
use crate::{Context, CoreError, CoreResult, Services};

/// A platform token for a consumer.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FreshToken {
    pub platform: Platform,
    pub kind: ConnectionKind,
    pub access_token: String,
    pub token_type: &'static str,
    #[serde(with = "tessera_domain::clock::rfc3339_millis::option")]
    pub expires_at: Option<Ts>,
    pub scopes: Vec<String>,
    pub channel_id: String,
    pub channel_name: String,
    /// The app's client id, which some platform APIs want beside the token (Twitch's
    /// `Client-Id`).
    pub client_id: String,
}
opaque_debug!(FreshToken);

impl Services {
    /// `GET /connections/{platform}/token`: a live access token, refreshed on the spot when
    /// it is about to expire (one refresh at a time per connection, across nodes too). Never
    /// an expired token: when no fresh one can be had, an error says why.
    pub async fn fresh_token(
        &self,
        ctx: &Context,
        org: &str,
        platform: &str,
        kind: ConnectionKind,
    ) -> CoreResult<FreshToken> {
        let p = platform_arg(platform)?;
        let (org, conn) = {
            let mut tx = self.store.read().await?;
            let org = self
                .org_for(tx.as_mut(), ctx, org, Some(Permission::ConnectionsToken))
                .await?;
            let conn = tx.find_connection(org.id, p, kind).await?.ok_or_else(|| {
                CoreError::not_found("connection", format!("{} {}", p.as_str(), kind.as_str()))
            })?;
            (org, conn)
        };
        let conn = self.ensure_fresh(conn).await?;
        let creds = {
            let mut tx = self.store.read().await?;
            tx.find_credentials(org.id, p)
                .await?
                .ok_or_else(|| CoreError::not_found("credentials", p.as_str()))?
        };
        let app = self.open_credentials(&creds)?;
        let access = self.open(
            org.id,
            SealedColumn::AccessToken,
            &conn.id,
            &conn.access_token,
        )?;
        Ok(FreshToken {
            platform: p,
            kind,
            access_token: access.expose_secret().to_owned(),
            token_type: "bearer",
            expires_at: conn.token_expires_at,
            scopes: conn.scopes.clone(),
            channel_id: conn.channel_id.clone(),
            channel_name: conn.channel_name.clone(),
            client_id: app.client_id,
        })
    }
}
