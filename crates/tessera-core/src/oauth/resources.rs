//! Resource indicators (RFC 8707): the API resources a token request names, and what they
//! decide about the token — its audience, the scopes it may carry, its lifetime and its
//! signing algorithm.
//!
//! Every `resource` must be an absolute URI without a fragment (§2) and the identifier of one
//! of the organization's API resources that the client is allowed to ask for; anything else is
//! `invalid_target` (§2), naming the value. With resources, a requested scope must be one of
//! theirs or one of the client's own (`openid`, `offline_access`…); without `scope`, the token
//! carries every scope of the resources.

use std::sync::Arc;

use tessera_domain::api_resource::ApiResource;
use tessera_domain::client::{OAuthClient, SigningAlg};
use tessera_domain::OrgId;
use tessera_store::ApiResourceQuery;

use super::access_token::Audience;
use crate::api_resources::MAX_RESOURCES_PER_ORG;
use crate::tokens::{OAuthError, OAuthResult};
use crate::Services;

/// The API resources a token is for, in the order they were asked for.
#[derive(Debug, Clone, Default)]
pub(crate) struct Targets(pub Vec<Arc<ApiResource>>);

impl Targets {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The token's audience: the resources' identifiers, or `otherwise` when there are none.
    pub fn audience(&self, otherwise: String) -> Audience {
        if self.0.is_empty() {
            return Audience::One(otherwise);
        }
        Audience::of(self.identifiers())
    }

    /// The shortest lifetime a resource fixes, or the client's.
    pub fn lifetime(&self, client: &OAuthClient) -> i64 {
        self.0
            .iter()
            .filter_map(|r| r.settings.access_token_lifetime)
            .min()
            .unwrap_or(client.settings.access_token_lifetime)
    }

    /// The first resource's algorithm, or the client's.
    pub fn alg(&self, client: &OAuthClient) -> SigningAlg {
        self.0
            .iter()
            .find_map(|r| r.settings.access_token_signed_response_alg)
            .unwrap_or(client.settings.access_token_signed_response_alg)
    }

    /// The resources' identifiers, in order.
    pub fn identifiers(&self) -> Vec<String> {
        self.0
            .iter()
            .map(|r| r.settings.identifier.as_str().to_owned())
            .collect()
    }

    /// The granted `scope` with the scopes of the authorization's resources (`all`) that none
    /// of these resources define taken out: narrowed to one resource, a token carries that
    /// resource's scopes and the client's own, not another resource's.
    pub fn narrow_scope(&self, all: &Targets, scope: &str) -> String {
        scope
            .split(' ')
            .filter(|s| !s.is_empty() && (!all.defines(s) || self.defines(s)))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Whether one of the resources defines `scope`.
    fn defines(&self, scope: &str) -> bool {
        self.0.iter().any(|r| r.scope(scope).is_some())
    }

    /// The granted scope for a request with these resources: each requested scope one of
    /// theirs or one of the client's own; with none requested, every scope of the resources.
    /// Without resources, the client's scopes as before.
    pub fn scope(&self, client: &OAuthClient, requested: Option<&str>) -> OAuthResult<String> {
        if self.0.is_empty() {
            return crate::tokens::allowed_scopes(client, requested);
        }
        let Some(requested) = requested.map(str::trim).filter(|s| !s.is_empty()) else {
            let mut all: Vec<&str> = vec![];
            for r in &self.0 {
                for s in &r.settings.scopes {
                    if !all.contains(&s.name.as_str()) {
                        all.push(s.name.as_str());
                    }
                }
            }
            return Ok(all.join(" "));
        };
        let own = |s: &str| {
            client
                .settings
                .allowed_scopes
                .iter()
                .any(|a| a.as_str() == s)
        };
        let mut out: Vec<&str> = vec![];
        for s in requested.split(' ').filter(|s| !s.is_empty()) {
            if !self.defines(s) && !own(s) {
                return Err(OAuthError::InvalidScope(format!(
                    "scope '{s}' is defined by none of the requested resources and not allowed for this client"
                )));
            }
            if !out.contains(&s) {
                out.push(s);
            }
        }
        Ok(out.join(" "))
    }
}

impl Services {
    /// The resources of a token from an earlier authorization (a code, a refresh token):
    /// those it was for, or the ones of them `asked` names (RFC 8707 §2.2: a token request may
    /// narrow, never widen). Each must still exist and allow the client. Returns the
    /// authorization's resources and the token's.
    pub(crate) async fn narrowed_targets(
        &self,
        org: OrgId,
        client: &OAuthClient,
        granted: &[String],
        asked: &[&str],
    ) -> OAuthResult<(Targets, Targets)> {
        for a in asked {
            if !granted.iter().any(|g| g == a) {
                return Err(OAuthError::InvalidTarget(format!(
                    "resource '{a}' was not part of the authorization"
                )));
            }
        }
        let ids: Vec<&str> = granted.iter().map(String::as_str).collect();
        let all = self.targets(org, client, &ids).await?;
        if asked.is_empty() {
            return Ok((all.clone(), all));
        }
        let narrowed = Targets(
            all.0
                .iter()
                .filter(|r| asked.contains(&r.settings.identifier.as_str()))
                .cloned()
                .collect(),
        );
        Ok((all, narrowed))
    }

    /// Every API resource of the organization, cached until one changes.
    pub(crate) async fn org_resources(
        &self,
        org: OrgId,
    ) -> OAuthResult<Arc<Vec<Arc<ApiResource>>>> {
        if let Some(r) = self.caches.resources.get(&org) {
            return Ok(r);
        }
        crate::cache::count_load(&self.caches.loads.resources);
        let (all, _) = {
            let mut tx = self.store.read().await?;
            tx.list_api_resources(
                org,
                &ApiResourceQuery {
                    q: None,
                    limit: u32::try_from(MAX_RESOURCES_PER_ORG).unwrap_or(u32::MAX),
                    offset: 0,
                },
            )
            .await?
        };
        let all: Arc<Vec<Arc<ApiResource>>> = Arc::new(all.into_iter().map(Arc::new).collect());
        self.caches.resources.insert(org, Arc::clone(&all));
        Ok(all)
    }

    /// The API resources that `requested` names for `client` (see the module header).
    pub(crate) async fn targets(
        &self,
        org: OrgId,
        client: &OAuthClient,
        requested: &[&str],
    ) -> OAuthResult<Targets> {
        if requested.is_empty() {
            return Ok(Targets::default());
        }
        let all = self.org_resources(org).await?;
        let mut out: Vec<Arc<ApiResource>> = Vec::with_capacity(requested.len());
        for r in requested {
            tessera_domain::text::parse_resource(r)
                .map_err(|e| OAuthError::InvalidTarget(format!("{}: {}", e.field, e.message)))?;
            let Some(found) = all.iter().find(|a| a.settings.identifier.as_str() == *r) else {
                return Err(OAuthError::InvalidTarget(format!(
                    "resource '{r}' is not an API resource of this organization"
                )));
            };
            if !found.settings.allowed_clients.allows(&client.id) {
                return Err(OAuthError::InvalidTarget(format!(
                    "resource '{r}' does not allow this client"
                )));
            }
            if !out.iter().any(|o| o.id == found.id) {
                out.push(Arc::clone(found));
            }
        }
        Ok(Targets(out))
    }
}
