//! Token exchange (RFC 8693): a client trades an access token of this organization (the
//! subject) for a new one, for itself and a chosen audience, with scopes narrowed. With an
//! `actor_token` the new token records who acts for the subject (delegation, the `act` claim,
//! §4.1); without one the client impersonates the subject, which its policy must allow. Which
//! subjects' tokens a client may exchange is its `tokenExchange` policy.

use std::sync::Arc;

use serde_json::json;
use tessera_domain::client::GrantType;
use tessera_domain::clock::to_millis;
use tessera_domain::AuditAction;

use crate::audit::AuditEntry;
use crate::tokens::{narrow_scopes, ClientAuth, OAuthError, OAuthResult, TokenResponse};
use crate::{Context, Services};

use super::access_token::{AccessTokenClaims, Audience};

pub const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";
const JWT_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:jwt";

/// The parameters of a token exchange request (RFC 8693 §2.1).
#[derive(Default, Clone)]
pub struct ExchangeRequest<'a> {
    pub subject_token: &'a str,
    pub subject_token_type: &'a str,
    pub actor_token: Option<&'a str>,
    pub actor_token_type: Option<&'a str>,
    pub requested_token_type: Option<&'a str>,
    pub audience: Option<&'a str>,
    /// RFC 8693 §2.1 and RFC 8707: each an API resource of the organization.
    pub resources: Vec<&'a str>,
    pub scope: Option<&'a str>,
}

impl std::fmt::Debug for ExchangeRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ExchangeRequest { .. }")
    }
}

fn check_type(name: &str, value: &str) -> OAuthResult<()> {
    // Tessera's access tokens are JWTs, so either name fits them.
    if value == ACCESS_TOKEN_TYPE || value == JWT_TOKEN_TYPE {
        Ok(())
    } else {
        Err(OAuthError::InvalidRequest(format!(
            "{name} '{value}' is not supported; use {ACCESS_TOKEN_TYPE}"
        )))
    }
}

impl Services {
    /// `grant_type=urn:ietf:params:oauth:grant-type:token-exchange`.
    pub(crate) async fn token_exchange(
        self: &Arc<Self>,
        org: &tessera_domain::Organization,
        auth: &ClientAuth,
        req: ExchangeRequest<'_>,
    ) -> OAuthResult<TokenResponse> {
        let cached = self
            .grant_client(org, auth, GrantType::TokenExchange)
            .await?;
        let client = &cached.client;
        if !client.settings.is_confidential {
            return Err(OAuthError::UnauthorizedClient(
                "public clients cannot exchange tokens".into(),
            ));
        }
        check_type("subject_token_type", req.subject_token_type)?;
        if let Some(t) = req.requested_token_type {
            check_type("requested_token_type", t)?;
        }
        let actor = match (req.actor_token, req.actor_token_type) {
            (Some(t), Some(ty)) => {
                check_type("actor_token_type", ty)?;
                Some(t)
            }
            (Some(_), None) => {
                return Err(OAuthError::InvalidRequest(
                    "actor_token_type is required with actor_token".into(),
                ))
            }
            (None, Some(_)) => {
                return Err(OAuthError::InvalidRequest(
                    "actor_token_type was given without actor_token".into(),
                ))
            }
            (None, None) => None,
        };
        // Active here: signed by this organization, unexpired, not revoked, client alive.
        let subject = self
            .active_claims(org, req.subject_token)
            .await?
            .ok_or_else(|| {
                OAuthError::InvalidGrant(
                    "the subject_token is not an active access token of this organization".into(),
                )
            })?;
        let subject_client = subject.client_id.as_str();
        let policy = &client.settings.token_exchange;
        if !policy.allows_subject(subject_client) {
            return Err(OAuthError::UnauthorizedClient(format!(
                "this client may not exchange tokens issued to client '{subject_client}'"
            )));
        }
        // A token for a user who is no longer active is not exchanged. A machine token's
        // subject is a client of the organization (its own, or the one an exchange carried).
        let sub = subject.sub.as_str();
        let user = match uuid::Uuid::parse_str(sub) {
            Ok(u) => {
                let mut tx = self.store.read().await?;
                tx.find_user(org.id, tessera_domain::UserId(u)).await?
            }
            Err(_) => None,
        };
        match user {
            Some(u) if !u.user.is_active => {
                return Err(OAuthError::InvalidGrant(
                    "the subject_token's user is no longer active".into(),
                ))
            }
            Some(_) => {}
            None => {
                let is_client =
                    sub == subject_client || self.cached_client(org.id, sub).await?.is_some();
                if !is_client {
                    return Err(OAuthError::InvalidGrant(
                        "the subject_token's subject no longer exists".into(),
                    ));
                }
            }
        }
        let mut expires = subject.exp;
        let act = match actor {
            Some(t) => {
                let a = self.active_claims(org, t).await?.ok_or_else(|| {
                    OAuthError::InvalidGrant(
                        "the actor_token is not an active access token of this organization".into(),
                    )
                })?;
                // The actor is the caller: a token issued to this client.
                if a.client_id != client.id.as_str() {
                    return Err(OAuthError::InvalidGrant(
                        "the actor_token must be issued to the client making the request".into(),
                    ));
                }
                expires = expires.min(a.exp);
                // §4.1: the current actor outermost, prior actors (the subject token's) nested.
                let mut act = json!({"sub": a.sub, "client_id": a.client_id});
                if let Some(prior) = &subject.act {
                    act["act"] = prior.clone();
                }
                Some(act)
            }
            // Impersonation keeps the chain the subject token already had.
            None if policy.allow_impersonation => subject.act.clone(),
            None => {
                return Err(OAuthError::UnauthorizedClient(
                    "this client may not impersonate: send an actor_token (delegation)".into(),
                ))
            }
        };
        let delegated = actor.is_some();
        // Narrowed to what the subject token had and the client may have.
        let had: Vec<&str> = subject
            .scopes()
            .filter(|s| {
                client
                    .settings
                    .allowed_scopes
                    .iter()
                    .any(|a| a.as_str() == *s)
            })
            .collect();
        let scope = narrow_scopes(
            &had,
            req.scope,
            "is not in the subject_token or not allowed for this client",
        )?;
        // RFC 8693 §2.2.2: an unacceptable resource or audience is `invalid_target`. The
        // resources are API resources of the organization (RFC 8707); an audience is a logical
        // name. Both given, the token is meant for all of them.
        let targets = self.targets(org.id, client, &req.resources).await?;
        let audience = req
            .audience
            .map(|a| {
                tessera_domain::text::parse_audience(a)
                    .map_err(|e| OAuthError::InvalidTarget(format!("{}: {}", e.field, e.message)))
            })
            .transpose()?;
        let audience = match (targets.is_empty(), audience) {
            (true, Some(a)) => Audience::One(a),
            (true, None) => Audience::One(self.issuer(&org.slug)),
            (false, None) => targets.audience(String::new()),
            (false, Some(a)) => {
                let mut all: Vec<String> = targets
                    .0
                    .iter()
                    .map(|r| r.settings.identifier.as_str().to_owned())
                    .collect();
                if !all.contains(&a) {
                    all.push(a);
                }
                Audience::of(all)
            }
        };
        // Never outlives the subject token, nor the actor token.
        let now = to_millis(self.now()) / 1000;
        let lifetime = targets.lifetime(client).min(expires - now).max(1);
        let jti = self.random_jti()?;
        let mut claims = AccessTokenClaims::new(
            self.issuer(&org.slug),
            client,
            subject.sub.clone(),
            audience,
            jti.clone(),
            now,
            lifetime,
        )
        .with_scope(&scope)
        .bound_to(self.sender_key(client, auth)?);
        claims.act = act.clone();
        let access_token = self
            .sign_access_token(org, targets.alg(client), &claims)
            .await?;
        let ctx = Context {
            principal: tessera_domain::Principal::oauth_client(org.id, client.id.as_str()),
            ip: auth.address.clone(),
            request_id: auth.request_id.clone(),
        };
        self.audit_exchange(org, &ctx, &subject, &claims, delegated)
            .await?;
        Ok(TokenResponse {
            access_token,
            token_type: claims.token_type(),
            expires_in: lifetime,
            scope: (!scope.is_empty()).then_some(scope),
            refresh_token: None,
            id_token: None,
            issued_token_type: Some(ACCESS_TOKEN_TYPE),
        })
    }

    /// `token.exchanged`: who got a token for whom, delegated or impersonating.
    async fn audit_exchange(
        &self,
        org: &tessera_domain::Organization,
        ctx: &Context,
        subject: &AccessTokenClaims,
        issued: &AccessTokenClaims,
        delegated: bool,
    ) -> OAuthResult<()> {
        let act = issued.act.as_ref().filter(|_| delegated);
        let mut tx = self.store.begin().await?;
        self.audit(
            tx.as_mut(),
            ctx,
            AuditEntry::new(AuditAction::TokenExchanged, "access_token")
                .org(org.id)
                .target(issued.jti.as_str())
                .after(Some(json!({
                    "subject": subject.sub,
                    "subjectClientId": subject.client_id,
                    "mode": if act.is_some() { "delegation" } else { "impersonation" },
                    "actor": act.map(|a| a["sub"].clone()),
                }))),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
