//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): ends the login session and,
//! when the relying party names a registered `post_logout_redirect_uri`, sends the user back
//! there with its `state`. The client is found from `client_id` or the `id_token_hint`'s
//! audience; an unregistered address is never followed.

use std::sync::Arc;

use tessera_crypto::jws;

use crate::authorize::{server_page, AuthorizeError};
use crate::Services;

/// Where the user goes after logging out.
#[derive(Debug)]
pub enum LoggedOut {
    /// Back to the relying party.
    Redirect(String),
    /// A page saying the user is signed out.
    Page,
}

impl Services {
    /// Ends the session of `cookie` (if any) and decides where the user goes next.
    pub async fn end_session(
        self: &Arc<Self>,
        org_slug: &str,
        params: &[(String, String)],
        cookie: Option<&str>,
    ) -> Result<LoggedOut, AuthorizeError> {
        let page = |m: &str| AuthorizeError::Page(m.to_owned());
        let org = self
            .protocol_org(org_slug)
            .await
            .map_err(|_| page("This organization does not exist."))?;
        let get = |k: &str| {
            params
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.as_str())
                .filter(|v| !v.is_empty())
        };
        // The hint must be one of our own id_tokens (an expired one is fine, §2).
        let mut hinted_client: Option<String> = None;
        if let Some(hint) = get("id_token_hint") {
            let keys = self
                .org_keys(org.id)
                .await
                .map_err(|e| server_page(e, "The server could not read its keys."))?;
            let verified = jws::peek_kid(hint)
                .and_then(|kid| keys.verifying.get(&kid).cloned())
                .and_then(|vk| jws::verify(hint, &vk).ok())
                .filter(|v| v.claims["iss"].as_str() == Some(&self.issuer(&org.slug)))
                .ok_or_else(|| page("The id_token_hint is not a token issued here."))?;
            hinted_client = verified.claims["aud"].as_str().map(str::to_owned);
        }
        let client_id = match (get("client_id"), hinted_client.as_deref()) {
            (Some(a), Some(b)) if a != b => {
                return Err(page("client_id does not match the id_token_hint."))
            }
            (Some(a), _) => Some(a.to_owned()),
            (None, b) => b.map(str::to_owned),
        };

        if let Some(c) = cookie {
            let hash = self.handle_hash.hash(c);
            let ended = async {
                let mut tx = self.store.begin().await?;
                tx.end_session(org.id, &hash, self.now()).await?;
                tx.commit().await
            }
            .await;
            if ended.is_err() {
                return Err(page("The server could not end the session."));
            }
        }

        let Some(target) = get("post_logout_redirect_uri") else {
            return Ok(LoggedOut::Page);
        };
        let client_id = client_id.ok_or_else(|| {
            page(
                "post_logout_redirect_uri needs client_id or id_token_hint to identify the client.",
            )
        })?;
        let client = self
            .cached_client(org.id, &client_id)
            .await
            .map_err(|e| server_page(e, "The server could not look up the client."))?
            .ok_or_else(|| page("The client is not known."))?;
        if !client
            .client
            .settings
            .post_logout_redirect_uris
            .iter()
            .any(|u| u.as_str() == target)
        {
            return Err(page(
                "The post_logout_redirect_uri is not registered for this client.",
            ));
        }
        let mut url = target.to_owned();
        if let Some(state) = get("state") {
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str("state=");
            url.extend(url::form_urlencoded::byte_serialize(state.as_bytes()));
        }
        Ok(LoggedOut::Redirect(url))
    }
}
