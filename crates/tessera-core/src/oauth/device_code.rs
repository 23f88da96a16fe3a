//! The device code grant (RFC 8628 §3.4, §3.5): the device polls with its device code until
//! the user approves (a token), denies (`access_denied`) or lets the code expire
//! (`expired_token`); polling faster than the interval is `slow_down`, and the interval grows.

use std::sync::Arc;

use tessera_domain::client::GrantType;
use tessera_store::DeviceStatus;

use crate::tokens::{ClientAuth, OAuthError, OAuthResult, TokenResponse};
use crate::Services;

impl Services {
    /// `grant_type=urn:ietf:params:oauth:grant-type:device_code` (RFC 8628 §3.4, §3.5).
    pub(crate) async fn device_code_grant(
        self: &Arc<Self>,
        org: &tessera_domain::Organization,
        auth: &ClientAuth,
        device_code: &str,
        resources: &[&str],
    ) -> OAuthResult<TokenResponse> {
        let cached = self.grant_client(org, auth, GrantType::DeviceCode).await?;
        let client = &cached.client;
        let key = self.sender_key(client, auth)?;
        let hash = self.handle_hash.hash(device_code);
        let now = self.now();
        let found = {
            let mut tx = self.store.read().await?;
            tx.find_device_code(org.id, &hash).await?
        }
        .filter(|d| d.client_id == client.id.as_str())
        .ok_or_else(|| OAuthError::InvalidGrant("the device code is not valid".into()))?;
        if found.expires_at <= now {
            return Err(OAuthError::ExpiredToken(
                "the device code has expired; start again".into(),
            ));
        }
        match found.status {
            DeviceStatus::Denied => {
                return Err(OAuthError::AccessDenied(
                    "the user denied the request".into(),
                ))
            }
            DeviceStatus::Redeemed => {
                return Err(OAuthError::InvalidGrant(
                    "the device code has already been used".into(),
                ))
            }
            DeviceStatus::Pending => {
                // RFC 8628 §3.5: too fast → slow_down, and the interval grows by 5 seconds.
                let too_fast = found
                    .last_polled_at
                    .is_some_and(|last| now - last < time::Duration::seconds(found.interval_secs));
                let interval = found.interval_secs + if too_fast { 5 } else { 0 };
                let mut tx = self.store.begin().await?;
                tx.poll_device_code(org.id, &hash, now, interval).await?;
                tx.commit().await?;
                return Err(if too_fast {
                    OAuthError::SlowDown(interval)
                } else {
                    OAuthError::AuthorizationPending
                });
            }
            DeviceStatus::Approved => {}
        }
        let (Some(user_id), Some(auth_time)) = (found.user_id, found.auth_time) else {
            return Err(OAuthError::ServerError(
                "an approval without its user".into(),
            ));
        };
        let user = {
            let mut tx = self.store.read().await?;
            tx.find_user(org.id, user_id).await?
        }
        .filter(|u| u.user.is_active)
        .ok_or_else(|| OAuthError::InvalidGrant("the user is no longer active".into()))?;
        // RFC 8707 §2.2: the token may be for fewer of the authorization's resources.
        let (all, targets) = self
            .narrowed_targets(org.id, client, &found.resources, resources)
            .await?;
        let scope = targets.narrow_scope(&all, &found.scope);
        let grant = super::Grant {
            user: user.user.id,
            scope: &found.scope,
            auth_time,
            nonce: None,
            claims: None,
            resources: &found.resources,
            sid: None,
            dpop_jkt: super::refresh_binding(client, key),
            // The device page's sign-in, as the code carries no more than its time.
            amr: "pwd",
        };
        let refresh = if client
            .settings
            .grant_types
            .contains(&GrantType::RefreshToken)
        {
            Some(self.refresh_record(org.id, client, grant, None)?)
        } else {
            None
        };
        let mut tx = self.store.begin().await?;
        if !tx.redeem_device_code(org.id, &hash).await? {
            return Err(OAuthError::InvalidGrant(
                "the device code has already been used".into(),
            ));
        }
        if let Some((_, row)) = &refresh {
            tx.insert_refresh(row).await?;
        }
        tx.commit().await?;
        let grant = super::Grant {
            scope: &scope,
            ..grant
        };
        self.token_response(
            org,
            client,
            grant,
            &targets,
            super::Issue {
                refresh_token: refresh.map(|r| r.0),
                jti: None,
                key,
            },
        )
        .await
    }
}
