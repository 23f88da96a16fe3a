//! The client credentials grant (RFC 6749 §4.4): a confidential client asks for a token for
//! itself, with scopes among its own, or for API resources (RFC 8707) with theirs.

use std::sync::Arc;

use tessera_domain::client::GrantType;

use crate::tokens::{ClientAuth, OAuthError, OAuthResult, TokenResponse};
use crate::Services;
use tessera_domain::clock::to_millis;

use super::access_token::AccessTokenClaims;

impl Services {
    /// `grant_type=client_credentials` (RFC 6749 §4.4).
    pub(crate) async fn client_credentials(
        self: &Arc<Self>,
        org: &tessera_domain::Organization,
        auth: &ClientAuth,
        scope: Option<&str>,
        resources: &[&str],
    ) -> OAuthResult<TokenResponse> {
        let cached = self
            .grant_client(org, auth, GrantType::ClientCredentials)
            .await?;
        let c = &cached.client;
        let key = self.sender_key(c, auth)?;
        // Never for a public client, whatever its grant list says (RFC 9700 §2.4).
        if !c.settings.is_confidential {
            return Err(OAuthError::UnauthorizedClient(
                "public clients cannot use client_credentials".into(),
            ));
        }
        let targets = self.targets(org.id, c, resources).await?;
        let scope_str = targets.scope(c, scope)?;
        let issuer = self.issuer(&org.slug);
        let audience = targets.audience(issuer.clone());
        let lifetime = targets.lifetime(c);
        let jti = self.random_jti()?;
        let claims = AccessTokenClaims::new(
            issuer,
            c,
            c.id.as_str().to_owned(),
            audience,
            jti,
            to_millis(self.now()) / 1000,
            lifetime,
        )
        .with_scope(&scope_str)
        .bound_to(key);
        let token = self.sign_access_token(org, targets.alg(c), &claims).await?;
        Ok(TokenResponse {
            access_token: token,
            token_type: claims.token_type(),
            expires_in: lifetime,
            scope: (!scope_str.is_empty()).then_some(scope_str),
            refresh_token: None,
            id_token: None,
            issued_token_type: None,
        })
    }
}
