//! Pushed authorization requests (RFC 9126): the client posts its authorization request to
//! the PAR endpoint, authenticated, and gets a `request_uri` to send the browser with.
//!
//! The request is checked at the endpoint as the authorization endpoint would check it (the
//! client learns of a bad one at once, in a JSON error), and kept as checked parameters, a
//! request object's merged in. At the authorization endpoint, the pushed parameters are the
//! request: the front channel's (other than `client_id` and `request_uri`) are ignored
//! (§4). A `request_uri` may be loaded again while the user signs in (a reload), and is spent
//! when its code is issued; it expires [`PAR_LIFETIME_SECONDS`] after the push.

use std::sync::Arc;

use serde::Serialize;
use tessera_domain::client::OAuthClient;
use tessera_domain::Organization;
use tessera_store::PushedRequest;

use super::request::AuthorizationRequest;
use super::{AuthorizeError, ResponseMode};
use crate::tokens::{ClientAuth, OAuthError, OAuthResult};
use crate::Services;

/// The prefix of every `request_uri` the PAR endpoint issues (RFC 9126 §2.2).
pub const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";
/// How long a `request_uri` may be used to start the authorization.
pub const PAR_LIFETIME_SECONDS: i64 = 60;

/// The PAR endpoint's answer (RFC 9126 §2.2), sent with `201 Created`.
#[derive(Debug, Clone, Serialize)]
pub struct PushedResponse {
    pub request_uri: String,
    pub expires_in: i64,
}

/// An error of the authorization endpoint's checks, as the PAR endpoint answers it.
fn as_oauth(error: &str, description: String) -> OAuthError {
    match error {
        "unsupported_response_type" => OAuthError::UnsupportedResponseType(description),
        "unauthorized_client" => OAuthError::UnauthorizedClient(description),
        "invalid_scope" => OAuthError::InvalidScope(description),
        "invalid_target" => OAuthError::InvalidTarget(description),
        "invalid_request_object" => OAuthError::InvalidRequestObject(description),
        _ => OAuthError::InvalidRequest(description),
    }
}

/// Whether `jkt` looks like a JWK SHA-256 thumbprint (43 base64url characters).
fn is_thumbprint(jkt: &str) -> bool {
    jkt.len() == 43
        && jkt
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl Services {
    /// `POST …/oauth/par` (RFC 9126 §2): checks the request of an authenticated client and
    /// keeps it behind a new `request_uri`.
    pub async fn push_authorization_request(
        self: &Arc<Self>,
        org_slug: &str,
        auth: &ClientAuth,
        params: &[(String, String)],
    ) -> OAuthResult<PushedResponse> {
        let org = self.protocol_org(org_slug).await?;
        // RFC 9449 §10.1: a proof here binds the code to its key.
        let proven = self.prove(&org, auth, "/api/v1/oauth/par").await?;
        let auth = &*proven;
        let cached = self.authenticate_client(&org, auth).await?;
        let client = &cached.client;
        if !client.settings.is_active {
            return Err(OAuthError::UnauthorizedClient(
                "the client is disabled".into(),
            ));
        }
        let get = |k: &str| crate::params::get(params, k);
        // §2.1: request_uri is not a parameter of a pushed request.
        if get("request_uri").is_some() {
            return Err(OAuthError::InvalidRequest(
                "request_uri cannot be pushed: send the request's parameters, or a request \
                 object in request (RFC 9126 §2.1)"
                    .into(),
            ));
        }
        if get("client_id").is_some_and(|c| c != client.id.as_str()) {
            return Err(OAuthError::InvalidRequest(
                "client_id differs from the authenticated client".into(),
            ));
        }
        let merged = self
            .resolve_request_object(&org, client, params)
            .await
            .map_err(|e| as_oauth(e.error, e.description))?;
        if merged.is_none() && client.settings.security.require_signed_request_object {
            return Err(OAuthError::InvalidRequest(
                "this client must send its request as a signed request object (request)".into(),
            ));
        }
        let mut checked: Vec<(String, String)> = merged.unwrap_or_else(|| params.to_vec());
        checked.retain(|(k, _)| {
            !matches!(
                k.as_str(),
                "client_assertion" | "client_assertion_type" | "client_secret" | "client_id"
            )
        });
        checked.push(("client_id".into(), client.id.as_str().to_owned()));
        let r = AuthorizationRequest::from_params(&checked);
        // FAPI 2.0 §5.3.2.2 item 4 (and RFC 9126's point): the redirect URI travels in the
        // pushed request, and is one the client registered.
        let redirect_uri = match r.redirect_uri {
            Some(u) if client.settings.redirect_uris.iter().any(|x| x.matches(u)) => u.to_owned(),
            Some(_) => {
                return Err(OAuthError::InvalidRequest(
                    "redirect_uri is not registered for this client".into(),
                ))
            }
            None if client.settings.redirect_uris.len() == 1
                && !client.settings.security.is_fapi2() =>
            {
                client.settings.redirect_uris[0].as_str().to_owned()
            }
            None => {
                return Err(OAuthError::InvalidRequest(
                    "redirect_uri is required".into(),
                ))
            }
        };
        let mode = match r.response_mode {
            None => ResponseMode::Query,
            Some(m) => ResponseMode::parse(m).ok_or_else(|| {
                OAuthError::InvalidRequest(format!(
                    "unsupported response_mode '{m}': use query or form_post"
                ))
            })?,
        };
        let asked = crate::params::get_all(&checked, "resource");
        let targets = self.targets(org.id, client, &asked).await?;
        r.check(
            client,
            &targets,
            redirect_uri,
            r.state.map(str::to_owned),
            mode,
        )
        .map_err(|e| as_oauth(e.error, e.description))?;
        // RFC 9449 §10.1: `dpop_jkt` and a proof's key must agree; a proof alone names it.
        match (r.dpop_jkt, &auth.proven) {
            (Some(j), Some(k)) if j != k.jkt() => {
                return Err(OAuthError::InvalidDpopProof(
                    "dpop_jkt differs from the thumbprint of the DPoP proof's key".into(),
                ))
            }
            (None, Some(k)) => {
                // An empty `dpop_jkt` (absent to the rules) must not shadow the proof's.
                checked.retain(|(n, _)| n != "dpop_jkt");
                checked.push(("dpop_jkt".into(), k.jkt().to_owned()));
            }
            _ => {}
        }
        let handle = self.random_handle()?;
        let now = self.now();
        let row = PushedRequest {
            handle_hash: self.handle_hash.hash(&handle),
            org_id: org.id,
            client_id: client.id.as_str().to_owned(),
            params: serde_json::to_string(&checked)
                .map_err(|e| OAuthError::ServerError(e.to_string()))?,
            created_at: now,
            expires_at: now + time::Duration::seconds(PAR_LIFETIME_SECONDS),
        };
        let mut tx = self.store.begin().await?;
        tx.insert_pushed(&row).await?;
        tx.commit().await?;
        Ok(PushedResponse {
            request_uri: format!("{REQUEST_URI_PREFIX}{handle}"),
            expires_in: PAR_LIFETIME_SECONDS,
        })
    }

    /// The pushed request a front-channel `request_uri` names, for `client`: its parameters
    /// and the hash that spends it, or `None` when the request has no pushed `request_uri`.
    /// One that is unknown, spent, expired or another client's is `invalid_request_uri`, sent
    /// to the front channel's redirect URI when the client registered it, else shown as a
    /// page.
    pub(super) async fn pushed_request(
        &self,
        org: &Organization,
        client: &OAuthClient,
        params: &[(String, String)],
    ) -> Result<Option<(Vec<(String, String)>, String)>, AuthorizeError> {
        let Some(handle) = crate::params::get(params, "request_uri")
            .and_then(|u| u.strip_prefix(REQUEST_URI_PREFIX))
        else {
            return Ok(None);
        };
        let page = |m: &str| AuthorizeError::Page(m.to_owned());
        let refuse = |m: &str| {
            let front = AuthorizationRequest::from_params(params);
            match front.redirect_uri {
                Some(uri) if client.settings.redirect_uris.iter().any(|u| u.matches(uri)) => {
                    let mode = front
                        .response_mode
                        .and_then(ResponseMode::parse)
                        .unwrap_or_default();
                    AuthorizeError::Respond(self.error_response(
                        org,
                        uri,
                        front.state,
                        mode,
                        "invalid_request_uri",
                        m,
                    ))
                }
                _ => page(&format!("The request_uri is not valid (invalid_request_uri): {m}. Start again from the application.")),
            }
        };
        let hash = self.handle_hash.hash(handle);
        let found = {
            let mut tx = self
                .store
                .read()
                .await
                .map_err(|e| super::server_page(e, "The server could not read the request."))?;
            tx.find_pushed(org.id, &hash)
                .await
                .map_err(|e| super::server_page(e, "The server could not read the request."))?
        };
        let found = found.filter(|p| p.expires_at > self.now()).ok_or_else(|| {
            refuse("the request_uri is unknown, was used already, or has expired")
        })?;
        if found.client_id != client.id.as_str() {
            return Err(refuse("the request_uri was pushed by another client"));
        }
        let pushed: Vec<(String, String)> =
            serde_json::from_str(&found.params).map_err(|_| page("The request is corrupt."))?;
        Ok(Some((pushed, hash)))
    }
}

/// Checks a `dpop_jkt` parameter's form (RFC 9449 §10).
pub(super) fn check_dpop_jkt(jkt: Option<&str>) -> Result<Option<String>, super::request::Refusal> {
    match jkt {
        None => Ok(None),
        Some(j) if is_thumbprint(j) => Ok(Some(j.to_owned())),
        Some(_) => Err(super::request::Refusal {
            error: "invalid_request",
            description: "dpop_jkt must be a JWK SHA-256 thumbprint (43 base64url characters)"
                .into(),
        }),
    }
}
