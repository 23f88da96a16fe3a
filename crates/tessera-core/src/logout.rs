//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): ends the login session and,
//! when the relying party names a registered `post_logout_redirect_uri`, sends the user back
//! there with its `state`. The client is found from `client_id` or the `id_token_hint`'s
//! audience; an unregistered address is never followed.
//!
//! §2: "the OP MUST ask the End-User [whether to log out] if an id_token_hint was not
//! provided or if the supplied ID Token does not belong to the current OP session". So a
//! session ends without a question only when the hint is an id_token of this organization for
//! the signed-in user; otherwise the user is asked on a page whose form carries a CSRF token
//! bound to the browser, and a bare cross-site link cannot sign anybody out.

use std::sync::Arc;

use tessera_crypto::jws;

use crate::authorize::{server_page, AuthorizeError};
use crate::oauth::IdTokenClaims;
use crate::Services;

/// Where the user goes after logging out.
#[derive(Debug)]
pub enum LoggedOut {
    /// Back to the relying party.
    Redirect(String),
    /// A page saying the user is signed out.
    Page,
    /// Ask first: a form that posts `params` back with `csrf_token`.
    Confirm {
        params: Vec<(String, String)>,
        csrf: String,
    },
}

/// The parameters a confirmation form carries back (§2), nothing else.
const CARRIED: [&str; 5] = [
    "id_token_hint",
    "client_id",
    "post_logout_redirect_uri",
    "state",
    "ui_locales",
];

/// The secret half of the logout form's CSRF token (the browser binding is the other half).
const LOGOUT_FORM: &str = "end-session";

impl Services {
    /// Handles a logout request. `browser` is the browser's binding cookie, `csrf` the token a
    /// confirmation form posted (`None` for a plain request, or a post from another site).
    pub async fn end_session(
        self: &Arc<Self>,
        org_slug: &str,
        params: &[(String, String)],
        cookie: Option<&str>,
        browser: &str,
        csrf: Option<&str>,
    ) -> Result<LoggedOut, AuthorizeError> {
        let page = |m: &str| AuthorizeError::Page(m.to_owned());
        let org = self
            .protocol_org(org_slug)
            .await
            .map_err(|_| page("This organization does not exist."))?;
        let get = |k: &str| crate::params::get(params, k);
        // The hint must be one of our own id_tokens (an expired one is fine, §2); an access
        // token (`typ` `at+jwt`) or any other JWT of ours is not an ID token.
        let mut hinted: Option<IdTokenClaims> = None;
        if let Some(hint) = get("id_token_hint") {
            let keys = self
                .org_keys(org.id)
                .await
                .map_err(|e| server_page(e, "The server could not read its keys."))?;
            let verified = jws::peek_kid(hint)
                .and_then(|kid| keys.verifying.get(&kid).cloned())
                .and_then(|vk| jws::verify(hint, &vk).ok())
                .filter(|v| v.claims["iss"].as_str() == Some(&self.issuer(&org.slug)))
                .filter(|v| v.header["typ"].as_str() == Some("JWT"))
                .filter(|v| v.claims.get("client_id").is_none() && v.claims.get("scope").is_none())
                .and_then(|v| serde_json::from_value::<IdTokenClaims>(v.claims).ok())
                .ok_or_else(|| page("The id_token_hint is not an ID token issued here."))?;
            hinted = Some(verified);
        }
        let hinted_client = hinted.as_ref().map(|h| h.aud.clone());
        let client_id = match (get("client_id"), hinted_client.as_deref()) {
            (Some(a), Some(b)) if a != b => {
                return Err(page("client_id does not match the id_token_hint."))
            }
            (Some(a), _) => Some(a.to_owned()),
            (None, b) => b.map(str::to_owned),
        };

        // Where to go afterwards is checked first, so that neither the question nor the
        // sign-out happens for a request that would fail anyway.
        let target = match get("post_logout_redirect_uri") {
            None => None,
            Some(target) => {
                let client_id = client_id.as_deref().ok_or_else(|| {
                    page("post_logout_redirect_uri needs client_id or id_token_hint to identify the client.")
                })?;
                let client = self
                    .cached_client(org.id, client_id)
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
                Some(url)
            }
        };

        let session = self
            .live_session(org.id, cookie)
            .await
            .map_err(|e| server_page(e, "The server could not read the session."))?;
        if let (Some(session), Some(c)) = (session, cookie) {
            let hint_is_this_user = hinted
                .as_ref()
                .is_some_and(|h| h.sub == session.user_id.to_string());
            let confirmed = csrf.is_some_and(|t| {
                !browser.is_empty() && self.form_token_ok(Some(browser), LOGOUT_FORM, t)
            });
            if !hint_is_this_user && !confirmed {
                let carried = CARRIED
                    .iter()
                    .filter_map(|k| get(k).map(|v| ((*k).to_owned(), v.to_owned())))
                    .collect();
                return Ok(LoggedOut::Confirm {
                    params: carried,
                    csrf: self.form_token(browser, LOGOUT_FORM),
                });
            }
            let hash = self.handle_hash.hash(c);
            let result = async {
                let mut tx = self.store.begin().await?;
                tx.end_session(org.id, &hash, self.now()).await?;
                tx.commit().await
            }
            .await;
            if result.is_err() {
                return Err(page("The server could not end the session."));
            }
            // Back-Channel Logout §2.7: the clients of the session hear of it.
            self.wake_backchannel();
        }
        Ok(match target {
            Some(url) => LoggedOut::Redirect(url),
            None => LoggedOut::Page,
        })
    }
}
