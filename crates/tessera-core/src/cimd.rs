//! Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document), as the MCP
//! authorization specification uses them: a `client_id` that is an `https` URL names a JSON
//! document describing the client. When the organization's registration policy allows it
//! (`clientIdMetadataDocuments`), the document is fetched (no redirects, a short timeout, a
//! bounded body, never an internal address unless the operator allows internal fetches),
//! checked — its `client_id` must be its URL, it must carry no secret and authenticate with
//! `none`, and its metadata must pass the same rules and the same policy as a dynamically
//! registered client — and it becomes a public client that needs PKCE and consent, cached as
//! long as the document's `Cache-Control` allows (at least 30 seconds, at most a day). A
//! document that cannot be fetched or is refused is remembered as refused for 30 seconds.
//!
//! Nothing is stored: codes, refresh tokens and consents name the client by its URL, and
//! every use looks the document up again through this cache.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tessera_domain::client::{ClientId, ClientSettings, OAuthClient};
use tessera_domain::OrgId;

use crate::cache::CachedClient;
use crate::tokens::OAuthResult;
use crate::Services;

/// The shortest and longest time a document is kept.
const MIN_KEEP: Duration = Duration::from_secs(30);
const MAX_KEEP: Duration = Duration::from_secs(86_400);

/// A fetched document: the client it describes (or `None`, refused), until `until`.
#[derive(Clone, Debug)]
pub(crate) struct Fetched {
    client: Option<Arc<CachedClient>>,
    until: Instant,
}

/// The documents fetched, by organization and URL.
pub(crate) type DocumentCache = moka::sync::Cache<(OrgId, String), Fetched>;

pub(crate) fn new_cache() -> DocumentCache {
    moka::sync::Cache::builder()
        .max_capacity(10_000)
        .time_to_live(MAX_KEEP)
        .build()
}

/// Why a document is refused (logged; the client is simply unknown).
fn check(url: &str, doc: &Value) -> Result<(), String> {
    let Some(obj) = doc.as_object() else {
        return Err("the document is not a JSON object".into());
    };
    if obj.get("client_id").and_then(Value::as_str) != Some(url) {
        return Err("its client_id is not the document's URL".into());
    }
    for secret in ["client_secret", "client_secret_expires_at"] {
        if obj.contains_key(secret) {
            return Err(format!("it carries {secret}"));
        }
    }
    match obj
        .get("token_endpoint_auth_method")
        .and_then(Value::as_str)
    {
        None | Some("none") => {}
        Some(other) => return Err(format!("token_endpoint_auth_method '{other}': only none")),
    }
    if obj
        .get("redirect_uris")
        .and_then(Value::as_array)
        .is_none_or(Vec::is_empty)
    {
        return Err("it lists no redirect_uris".into());
    }
    Ok(())
}

impl Services {
    /// Drops the cached registration policies and every fetched document (after a
    /// registration policy changed, here or on another node).
    pub(crate) fn registration_policy_changed(&self) {
        self.policy_epoch
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        self.policies.invalidate_all();
        self.metadata_documents.invalidate_all();
    }

    /// Whether the organization accepts Client ID Metadata Documents, and whether it requires
    /// pushed authorization requests of every client (its registration policy), for
    /// discovery.
    pub async fn discovery_switches(&self, org: OrgId) -> OAuthResult<(bool, bool)> {
        let p = self.policy_of(org).await?;
        Ok((
            p.client_id_metadata_documents,
            p.require_pushed_authorization_requests,
        ))
    }

    /// The client a Client ID Metadata Document at `url` describes, for `org`; `None` when
    /// the organization does not accept documents, or this one cannot be fetched or is
    /// refused.
    pub(crate) async fn metadata_document_client(
        &self,
        org: OrgId,
        url: &str,
    ) -> OAuthResult<Option<Arc<CachedClient>>> {
        let Ok(id) = ClientId::metadata_document(url, self.config.allow_internal_jwks_uri) else {
            return Ok(None);
        };
        let key = (org, url.to_owned());
        if let Some(f) = self.metadata_documents.get(&key) {
            if f.until > Instant::now() {
                return Ok(f.client);
            }
        }
        let policy = self.policy_of(org).await?;
        if !policy.client_id_metadata_documents {
            return Ok(None);
        }
        let (client, keep) = match self.key_fetcher.fetch_client_metadata(url).await {
            Ok((mut doc, max_age)) => {
                let keep = Duration::from_secs(max_age.unwrap_or(0)).clamp(MIN_KEEP, MAX_KEEP);
                match check(url, &doc) {
                    Ok(()) => {
                        if let Some(o) = doc.as_object_mut() {
                            o.entry("token_endpoint_auth_method")
                                .or_insert_with(|| Value::from("none"));
                        }
                        match crate::register::document_client(&policy, &doc).and_then(|input| {
                            ClientSettings::validate(&input).map_err(|e| e.to_string())
                        }) {
                            Ok(settings) => (
                                Some(Arc::new(CachedClient::new(
                                    OAuthClient {
                                        org_id: org,
                                        id,
                                        settings,
                                        secrets: vec![],
                                        // Fixed, so that the tokens of one document outlive its
                                        // fetches (the incarnation check of active tokens).
                                        created_at: tessera_domain::clock::from_millis(0),
                                        updated_at: tessera_domain::clock::from_millis(0),
                                        tokens_revoked_at: None,
                                    },
                                    vec![],
                                ))),
                                keep,
                            ),
                            Err(why) => {
                                tracing::info!(url, why, "client metadata document refused");
                                (None, MIN_KEEP)
                            }
                        }
                    }
                    Err(why) => {
                        tracing::info!(url, why, "client metadata document refused");
                        (None, MIN_KEEP)
                    }
                }
            }
            Err(e) => {
                tracing::info!(url, error = %e, "client metadata document not fetched");
                (None, MIN_KEEP)
            }
        };
        self.metadata_documents.insert(
            key,
            Fetched {
                client: client.clone(),
                until: Instant::now() + keep,
            },
        );
        Ok(client)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_document_must_name_itself_and_hold_no_secret() {
        let url = "https://app.example.com/client.json";
        let good = json!({"client_id": url, "redirect_uris": ["https://app.example.com/cb"]});
        assert_eq!(check(url, &good), Ok(()));
        for (bad, why) in [
            (
                json!({"client_id": "https://evil.example/x", "redirect_uris": ["https://a/cb"]}),
                "client_id",
            ),
            (
                json!({"client_id": url, "redirect_uris": ["https://a/cb"], "client_secret": "s"}),
                "client_secret",
            ),
            (
                json!({"client_id": url, "redirect_uris": ["https://a/cb"], "token_endpoint_auth_method": "client_secret_basic"}),
                "only none",
            ),
            (json!({"client_id": url}), "redirect_uris"),
            (json!([url]), "object"),
        ] {
            let e = check(url, &bad).unwrap_err();
            assert!(e.contains(why), "{e}");
        }
    }
}
