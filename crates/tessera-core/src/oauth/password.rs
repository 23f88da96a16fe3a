//! The resource owner password grant (RFC 6749 §4.3), kept for first-party confidential
//! clients that cannot redirect: off unless the client has the `password` grant type, never for
//! public clients (RFC 9700 §2.4), failures limited per user and per client, and audited like a
//! sign-in on the login page.

use std::sync::Arc;

use tessera_domain::client::GrantType;
use tessera_domain::AuditAction;

use crate::authorize::interaction::login_entry;
use crate::tokens::{ClientAuth, OAuthError, OAuthResult, TokenResponse};
use crate::Services;

impl Services {
    /// `grant_type=password`.
    pub(crate) async fn password_grant(
        self: &Arc<Self>,
        org: &tessera_domain::Organization,
        auth: &ClientAuth,
        username: &str,
        password: &str,
        scope: Option<&str>,
        resources: &[&str],
    ) -> OAuthResult<TokenResponse> {
        let address = auth.address.as_deref();
        let cached = self.grant_client(org, auth, GrantType::Password).await?;
        let client = &cached.client;
        let key = self.sender_key(client, auth)?;
        if !client.settings.is_confidential {
            return Err(OAuthError::UnauthorizedClient(
                "public clients cannot use the password grant".into(),
            ));
        }
        // RFC 8707: as for client_credentials, the resources asked for decide the audience
        // and the scopes; checked before the password, so a bad request costs no attempt.
        let targets = self.targets(org.id, client, resources).await?;
        let scope = targets.scope(client, scope)?;
        if !self
            .limits
            .allow_password_grant(org.id, username, client.id.as_str())
        {
            return Err(OAuthError::TooManyAttempts(
                "too many sign-in attempts for this user or client; wait a minute".into(),
            ));
        }
        let Some(user) = self
            .check_password(org, client, username, password, address, "password_grant")
            .await?
        else {
            self.count_failures(&self.limits.password_grant_failed(
                org.id,
                username,
                client.id.as_str(),
            ))
            .await;
            return Err(OAuthError::InvalidGrant(
                "invalid username or password".into(),
            ));
        };
        let now = self.now();
        let granted = targets.identifiers();
        let grant = crate::oauth::Grant {
            user: user.user.id,
            scope: &scope,
            auth_time: now,
            nonce: None,
            claims: None,
            resources: &granted,
            sid: None,
            dpop_jkt: super::refresh_binding(client, key),
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
        if let Some((_, row)) = &refresh {
            tx.insert_refresh(row).await?;
        }
        self.audit(
            tx.as_mut(),
            &Self::signing_in(org, &user, address),
            login_entry(
                org.id,
                &user,
                AuditAction::UserLoggedIn,
                client,
                "password_grant",
                None,
            ),
        )
        .await?;
        tx.commit().await?;
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
