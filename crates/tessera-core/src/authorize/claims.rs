//! What a sign-in tells the client about the user: the id_token (OIDC Core §2, §3.1.3.7) and
//! userinfo (§5.3), with the standard claims of the scopes and of the claims request (§5.5).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};
use tessera_crypto::jws::Alg;
use tessera_domain::client::OAuthClient;
use tessera_domain::clock::to_millis;
use tessera_domain::{Organization, UserId};

use super::ACR_PASSWORD;
use crate::oauth::IdTokenClaims;
use crate::tokens::{OAuthError, OAuthResult};
use crate::Services;

/// OIDC Core §3.1.3.6: `at_hash` (and `c_hash`) is the base64url left half of the hash that
/// the id_token's algorithm uses: SHA-256 for RS256, PS256 and ES256, and for EdDSA with Ed25519 the
/// left half of SHA-512 (the OpenID Connect working group's resolution for Ed25519, which
/// Authlib, oauth4webapi, openidconnect-rs and zitadel/oidc follow).
pub(crate) fn half_hash(alg: Alg, value: &str) -> String {
    let d = match alg {
        Alg::EdDSA => aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA512, value.as_bytes()),
        Alg::RS256 | Alg::PS256 | Alg::ES256 => {
            aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, value.as_bytes())
        }
    };
    let bytes = d.as_ref();
    URL_SAFE_NO_PAD.encode(&bytes[..bytes.len() / 2])
}

impl Services {
    /// An id_token (OIDC Core §2), RS256 by default, with `at_hash` (§3.1.3.6), and the
    /// claims the authorization's claims request asked for in it (§5.5).
    pub(crate) async fn sign_id_token(
        &self,
        org: &Organization,
        issuer: &str,
        client: &OAuthClient,
        grant: crate::oauth::Grant<'_>,
        access_token: &str,
        lifetime: i64,
    ) -> OAuthResult<String> {
        let sub = grant.user.to_string();
        let (auth_time, nonce) = (grant.auth_time, grant.nonce);
        let alg = crate::tokens::signing_alg(client.settings.id_token_signed_response_alg);
        let at_hash = half_hash(alg, access_token);
        let now = to_millis(self.now()) / 1000;
        let mut claims = IdTokenClaims {
            iss: issuer.to_owned(),
            sub,
            aud: client.id.as_str().to_owned(),
            azp: Some(client.id.as_str().to_owned()),
            iat: now,
            exp: now + lifetime,
            auth_time: Some(to_millis(auth_time) / 1000),
            nonce: nonce.map(str::to_owned),
            at_hash: Some(at_hash),
            // Every sign-in is with a password (RFC 8176 `pwd`), which is ACR "1"; `otp` is
            // added when a second factor was asked for too.
            acr: Some(ACR_PASSWORD.to_owned()),
            amr: grant.amr.split_whitespace().map(str::to_owned).collect(),
            sid: grant.sid.map(str::to_owned),
            requested: serde_json::Map::new(),
        };
        // A claims request cannot override what the token says of itself. The `roles` scope
        // puts the roles in the id_token too (the seed's clients read them there).
        let roles = "roles".to_owned();
        let mut asked: Vec<&String> = grant
            .claims
            .map(|c| {
                c.id_token
                    .iter()
                    .filter(|n| !IdTokenClaims::is_protocol_claim(n))
                    .collect()
            })
            .unwrap_or_default();
        if crate::oauth::grants_roles(grant.scope) && !asked.contains(&&roles) {
            asked.push(&roles);
        }
        if !asked.is_empty() {
            let user = {
                let mut tx = self.store.read().await?;
                tx.find_user(org.id, grant.user).await?
            };
            if let Some(u) = user {
                for name in asked {
                    if let Some(v) = user_claim(&u.user, name) {
                        claims.requested.insert(name.clone(), v);
                    }
                }
            }
        }
        let claims =
            serde_json::to_value(&claims).map_err(|e| OAuthError::ServerError(e.to_string()))?;
        self.sign_with(org, alg, "JWT", &claims).await
    }

    /// `GET/POST …/oauth/userinfo` (OIDC Core §5.3): claims by scope, as JSON or, for a
    /// client with `userinfoSignedResponseAlg`, as a JWT signed so with `iss` and `aud`
    /// (§5.3.2).
    pub async fn userinfo(
        &self,
        org_slug: &str,
        presented: crate::dpop::Presented<'_>,
    ) -> OAuthResult<UserInfo> {
        let org = self.protocol_org(org_slug).await?;
        let (claims, client_id) = self.userinfo_claims(&org, presented).await?;
        let alg = match self.cached_client(org.id, &client_id).await? {
            Some(c) => c.client.settings.userinfo_signed_response_alg,
            None => None,
        };
        let Some(alg) = alg else {
            return Ok(UserInfo::Json(claims));
        };
        let mut signed = claims;
        signed["iss"] = json!(self.issuer(&org.slug));
        signed["aud"] = json!(client_id);
        signed["iat"] = json!(to_millis(self.now()) / 1000);
        let jwt = self
            .sign_with(&org, crate::tokens::signing_alg(alg), "JWT", &signed)
            .await?;
        Ok(UserInfo::Jwt(jwt))
    }

    /// The claims userinfo releases for an access token, and the token's client.
    async fn userinfo_claims(
        &self,
        org: &Organization,
        presented: crate::dpop::Presented<'_>,
    ) -> OAuthResult<(Value, String)> {
        let claims = self
            .active_claims(org, presented.token)
            .await?
            .ok_or_else(|| OAuthError::InvalidToken("the access token is not active".into()))?;
        self.check_presentation(org, &claims, presented, "/api/v1/oauth/userinfo")
            .await?;
        let scopes: Vec<&str> = claims.scopes().collect();
        if !scopes.contains(&"openid") {
            return Err(OAuthError::InsufficientScope(
                "the token lacks the openid scope".into(),
            ));
        }
        let sub = claims.sub.as_str();
        let client_id = claims.client_id.clone();
        let user_id = uuid::Uuid::parse_str(sub).ok().map(UserId);
        let user = match user_id {
            Some(id) => {
                let mut tx = self.store.read().await?;
                tx.find_user(org.id, id).await?
            }
            None => None,
        };
        let Some(user) = user else {
            // The seed's userinfo describes "the authenticated user or agent": a machine's
            // token (client_credentials, or an exchange of one) names its client in `sub`,
            // and gets the client's own identity. A client id never equals a user id
            // (RFC 9068 §5), so the two cannot be confused.
            if let Some(c) = self.cached_client(org.id, sub).await? {
                return Ok((
                    json!({"sub": sub, "name": c.client.settings.name}),
                    client_id,
                ));
            }
            return Err(OAuthError::InvalidToken("the user no longer exists".into()));
        };
        if !user.user.is_active {
            return Err(OAuthError::InvalidToken("the user no longer exists".into()));
        }
        let user = user.user;
        let mut out = serde_json::Map::new();
        out.insert("sub".into(), json!(sub));
        // The claims of the scopes (OIDC Core §5.4), and those the claims request asked for
        // at userinfo (§5.5), which the access token lists.
        let requested = claims.userinfo_claims.iter().map(String::as_str);
        let by_scope = scopes
            .iter()
            .flat_map(|s| tessera_domain::profile::scope_claims(s).iter().copied());
        for claim in by_scope.chain(requested) {
            if let Some(v) = user_claim(&user, claim) {
                out.insert(claim.to_owned(), v);
            }
        }
        Ok((Value::Object(out), client_id))
    }
}

/// A userinfo response (OIDC Core §5.3.2).
#[derive(Debug)]
pub enum UserInfo {
    /// `application/json`.
    Json(Value),
    /// `application/jwt`: the claims signed as the client asked.
    Jwt(String),
}

/// One standard claim of a user (OIDC Core §5.1), if the user has a value for it.
pub(crate) fn user_claim(user: &tessera_domain::User, claim: &str) -> Option<Value> {
    match claim {
        "name" => user.name.as_ref().map(|n| json!(n)),
        "preferred_username" => Some(json!(user.username.as_str())),
        "email" => user.email.as_ref().map(|e| json!(e.as_str())),
        // Said only of an address there is.
        "email_verified" => user
            .email
            .as_ref()
            .map(|_| json!(user.profile.email_verified)),
        "updated_at" => Some(json!(to_millis(user.updated_at) / 1000)),
        // The user's role names in the organization (the `roles` scope).
        "roles" => Some(json!(user
            .roles
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>())),
        other => user.profile.claim(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The half-hashes of the specifications' own example and of SHA-512 for Ed25519.
    #[test]
    fn half_hashes_follow_the_signing_algorithm() {
        // OIDC Core, Appendix A.3: at_hash of "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y".
        let token = "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y";
        assert_eq!(half_hash(Alg::RS256, token), "77QmUPtjPfzWtF2AnpK9RQ");
        assert_eq!(half_hash(Alg::ES256, token), "77QmUPtjPfzWtF2AnpK9RQ");
        let sha512 = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA512, token.as_bytes());
        let eddsa = half_hash(Alg::EdDSA, token);
        assert_eq!(eddsa, URL_SAFE_NO_PAD.encode(&sha512.as_ref()[..32]));
        assert_eq!(eddsa.len(), 43);
    }
}
