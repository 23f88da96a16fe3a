//! Refresh tokens (RFC 6749 §6) with rotation on every use and reuse detection (RFC 9700
//! §4.14.2): a spent token presented again revokes its whole family, unless it comes within
//! the configured grace period (for clients that refresh from several tabs at once), in which
//! case it gets a sibling. The family's end is fixed at the first authorization: refreshing
//! never extends a session past the client's `refreshTokenLifetime`.

use std::sync::Arc;

use serde_json::{json, Value};
use tessera_domain::client::{GrantType, OAuthClient};
use tessera_domain::{OrgId, Organization, Timestamp};
use tessera_store::RefreshToken;

use crate::tokens::{ClientAuth, OAuthError, OAuthResult, TokenResponse};
use crate::Services;
use tessera_domain::clock::to_millis;

use super::access_token::AccessTokenClaims;

use super::resources::Targets;
use super::Grant;

impl Services {
    /// A new refresh token of `family` (a new family when `None`): its value and its row.
    pub(crate) fn refresh_record(
        &self,
        org: OrgId,
        client: &OAuthClient,
        grant: Grant<'_>,
        family: Option<(&str, Timestamp)>,
    ) -> OAuthResult<(String, RefreshToken)> {
        let value = self.random_handle()?;
        let now = self.now();
        let (family_id, expires_at) = match family {
            Some((f, end)) => (f.to_owned(), end),
            None => (
                self.random_handle()?,
                now + time::Duration::seconds(client.settings.refresh_token_lifetime),
            ),
        };
        let row = RefreshToken {
            token_hash: self.handle_hash.hash(&value),
            org_id: org,
            family_id,
            client_id: client.id.to_string(),
            user_id: grant.user,
            scope: grant.scope.to_owned(),
            auth_time: grant.auth_time,
            created_at: now,
            expires_at,
            used_at: None,
            revoked_at: None,
            claims: grant.claims.cloned(),
            resources: grant.resources.to_vec(),
            dpop_jkt: grant.dpop_jkt.map(str::to_owned),
            sid: grant.sid.map(str::to_owned),
            amr: grant.amr.to_owned(),
        };
        Ok((value, row))
    }

    /// `grant_type=refresh_token` (RFC 6749 §6).
    pub(crate) async fn refresh(
        self: &Arc<Self>,
        org: &Organization,
        auth: &ClientAuth,
        token: &str,
        scope: Option<&str>,
        resources: &[&str],
    ) -> OAuthResult<TokenResponse> {
        let cached = self
            .grant_client(org, auth, GrantType::RefreshToken)
            .await?;
        let client = &cached.client;
        let bad = |m: &str| OAuthError::InvalidGrant(m.to_owned());
        let hash = self.handle_hash.hash(token);
        let now = self.now();
        let found = {
            let mut tx = self.store.read().await?;
            tx.find_refresh(org.id, &hash).await?
        }
        .ok_or_else(|| bad("the refresh token is not valid"))?;
        // Bound to its client (and, by the lookup, to its organization).
        if found.client_id != client.id.as_str() {
            return Err(bad("the refresh token was issued to another client"));
        }
        if found.revoked_at.is_some() {
            return Err(bad("the refresh token has been revoked"));
        }
        if found.expires_at <= now {
            return Err(bad("the refresh token has expired"));
        }
        // RFC 9449 §5: a bound refresh token needs a proof with its key.
        let key = self.sender_key(client, auth)?;
        if let Some(bound) = &found.dpop_jkt {
            if key.map(|k| k.jkt()) != Some(bound.as_str()) {
                return Err(OAuthError::InvalidDpopProof(
                    "the refresh token is DPoP-bound: send a proof made with its key".into(),
                ));
            }
        }
        // Everything that can refuse the request is checked before the token is spent, so a
        // bad `scope` or an inactive user does not cost the client its refresh token.
        let user = {
            let mut tx = self.store.read().await?;
            tx.find_user(org.id, found.user_id).await?
        }
        .filter(|u| u.user.is_active)
        .ok_or_else(|| bad("the user is no longer active"))?;
        // RFC 6749 §6: the new scope may narrow, never widen.
        let granted: Vec<&str> = found.scope.split(' ').filter(|s| !s.is_empty()).collect();
        let scope_str =
            crate::tokens::narrow_scopes(&granted, scope, "was not granted to this refresh token")?;
        // RFC 8707 §2.2: the new access token may be for fewer of the family's resources.
        let (all, targets) = self
            .narrowed_targets(org.id, client, &found.resources, resources)
            .await?;
        let scope_str = targets.narrow_scope(&all, &scope_str);
        let family = Grant {
            user: user.user.id,
            scope: &found.scope,
            auth_time: found.auth_time,
            nonce: None,
            claims: found.claims.as_ref(),
            resources: &found.resources,
            sid: found.sid.as_deref(),
            dpop_jkt: found.dpop_jkt.as_deref(),
            amr: &found.amr,
        };
        // FAPI 2.0 §5.3.2.1 item 9: no rotation (a client that lost the answer keeps a token
        // that works); the token stays as it is, and the answer carries none.
        if client.settings.security.is_fapi2() {
            // One rotated out before the client followed the profile stays spent.
            if found.used_at.is_some() {
                return Err(bad("the refresh token has already been used"));
            }
            let granted = Grant {
                scope: &scope_str,
                ..family
            };
            return self
                .token_response(
                    org,
                    client,
                    granted,
                    &targets,
                    super::Issue {
                        refresh_token: None,
                        jti: None,
                        key,
                    },
                )
                .await;
        }
        let (new_refresh, row) = self.refresh_record(
            org.id,
            client,
            family,
            Some((&found.family_id, found.expires_at)),
        )?;
        // Spending the old token and storing its successor are one write.
        let mut tx = self.store.begin().await?;
        if !tx.use_refresh(org.id, &hash, now).await? {
            // Spent already: when, as it is now (a concurrent refresh may just have spent it).
            let used_at = tx
                .find_refresh(org.id, &hash)
                .await?
                .and_then(|r| r.used_at);
            let grace = time::Duration::seconds(self.config.refresh_grace_seconds);
            let within_grace =
                used_at.is_some_and(|u| now - u <= grace) && self.config.refresh_grace_seconds > 0;
            if !within_grace {
                // Reuse of a spent token: someone holds a copy. End the whole family.
                tx.revoke_refresh_family(org.id, &found.family_id, now)
                    .await?;
                tx.commit().await?;
                tracing::warn!(org = %org.slug, client_id = %client.id, "refresh token reused; family revoked");
                return Err(bad("the refresh token has already been used"));
            }
        }
        tx.insert_refresh(&row).await?;
        tx.commit().await?;
        let granted = Grant {
            scope: &scope_str,
            ..family
        };
        self.token_response(
            org,
            client,
            granted,
            &targets,
            super::Issue {
                refresh_token: Some(new_refresh),
                jti: None,
                key,
            },
        )
        .await
    }

    /// Access token, and an id_token when `openid` was granted. The access token is for
    /// `targets` (RFC 8707), or for the issuer when there are none.
    pub(crate) async fn token_response(
        &self,
        org: &Organization,
        client: &OAuthClient,
        grant: Grant<'_>,
        targets: &Targets,
        issue: super::Issue<'_>,
    ) -> OAuthResult<TokenResponse> {
        let super::Issue {
            refresh_token,
            jti,
            key,
        } = issue;
        let jti = match jti {
            Some(j) => j.to_owned(),
            None => self.random_jti()?,
        };
        let lifetime = targets.lifetime(client);
        let issuer = self.issuer(&org.slug);
        let scope = grant.scope;
        let mut claims = AccessTokenClaims::new(
            issuer.clone(),
            client,
            grant.user.to_string(),
            targets.audience(issuer.clone()),
            jti,
            to_millis(self.now()) / 1000,
            lifetime,
        )
        .with_scope(scope)
        .bound_to(key);
        // RFC 9068 §7.2.1.1: the user's roles, when the `roles` scope was granted.
        if super::grants_roles(scope) {
            let user = {
                let mut tx = self.store.read().await?;
                tx.find_user(org.id, grant.user).await?
            };
            claims.roles =
                user.map(|u| u.user.roles.iter().map(|r| r.as_str().to_owned()).collect());
        }
        // The claims request's userinfo claims (OIDC Core §5.5) travel with the token to
        // userinfo, which has no other way to know them.
        claims.userinfo_claims = grant.claims.map(|c| c.userinfo.clone()).unwrap_or_default();
        let access_token = self
            .sign_access_token(org, targets.alg(client), &claims)
            .await?;
        let id_token = if scope.split(' ').any(|s| s == "openid") {
            Some(
                self.sign_id_token(org, &issuer, client, grant, &access_token, lifetime)
                    .await?,
            )
        } else {
            None
        };
        Ok(TokenResponse {
            access_token,
            token_type: claims.token_type(),
            expires_in: lifetime,
            scope: (!scope.is_empty()).then(|| scope.to_owned()),
            refresh_token,
            id_token,
            issued_token_type: None,
        })
    }

    /// RFC 7662 for a refresh token: active unless spent, revoked or expired.
    pub(crate) async fn refresh_claims(
        &self,
        org: &Organization,
        token: &str,
    ) -> OAuthResult<Option<Value>> {
        let found = {
            let mut tx = self.store.read().await?;
            tx.find_refresh(org.id, &self.handle_hash.hash(token))
                .await?
        };
        let now = self.now();
        Ok(found
            .filter(|t| t.used_at.is_none() && t.revoked_at.is_none() && t.expires_at > now)
            .map(|t| {
                json!({
                    "active": true,
                    "token_type": "refresh_token",
                    "client_id": t.client_id,
                    "sub": t.user_id.to_string(),
                    "scope": t.scope,
                    "iss": self.issuer(&org.slug),
                    "exp": tessera_domain::clock::to_millis(t.expires_at) / 1000,
                })
            }))
    }

    /// RFC 7009 for a refresh token: revokes its family. False when it is not one of the
    /// client's refresh tokens.
    pub(crate) async fn revoke_refresh(
        &self,
        org: &Organization,
        client_id: &str,
        token: &str,
    ) -> OAuthResult<bool> {
        let hash = self.handle_hash.hash(token);
        let mut tx = self.store.begin().await?;
        let Some(found) = tx.find_refresh(org.id, &hash).await? else {
            return Ok(false);
        };
        if found.client_id != client_id {
            return Err(OAuthError::UnauthorizedClient(
                "the token was not issued to this client".into(),
            ));
        }
        tx.revoke_refresh_family(org.id, &found.family_id, self.now())
            .await?;
        tx.commit().await?;
        Ok(true)
    }
}
