//! The device authorization grant (RFC 8628): a device without a browser gets a device code
//! and a short user code; the user signs in on the device page, enters (or confirms) the user
//! code and approves or denies; the device polls the token endpoint meanwhile.
//!
//! User codes are 8 characters from 20 consonants (RFC 8628 §6.1: no vowels, so no words; no
//! digits, so no 0/O or 1/I confusion), about 34.6 bits, shown as `WDJB-MJHT`; they live ten
//! minutes, only a signed-in user can decide one, and the page looks codes up at most as often
//! as the per-address sign-in limit allows (30 a minute by default), so guessing one is
//! hopeless. Both codes are stored only as keyed hashes.

use std::sync::Arc;

use serde::Serialize;
use tessera_crypto::random::random_bytes;
use tessera_domain::client::{GrantType, OAuthClient};
use tessera_domain::OrgSlug;
use tessera_store::{DeviceCode, DeviceStatus};

use crate::authorize::AuthRequest;
use crate::tokens::{ClientAuth, OAuthError, OAuthResult};
use crate::Services;

/// RFC 8628 §6.1's example alphabet.
const USER_CODE_ALPHABET: &[u8; 20] = b"BCDFGHJKLMNPQRSTVWXZ";
const USER_CODE_LEN: usize = 8;
/// How long a device code lives.
pub const DEVICE_CODE_LIFETIME_SECONDS: i64 = 600;
/// The least time between two polls (RFC 8628 §3.2 `interval`).
pub const DEVICE_POLL_INTERVAL_SECONDS: i64 = 5;

/// The device authorization response (RFC 8628 §3.2).
#[derive(Clone, Serialize)]
pub struct DeviceAuthorization {
    pub device_code: String,
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: String,
    pub expires_in: i64,
    pub interval: i64,
}

opaque_debug!(DeviceAuthorization);

/// What the device page shows next.
#[derive(Debug)]
pub enum DeviceStep {
    /// Sign in first (the login page, as for an authorization request).
    Login {
        request_id: String,
        csrf: String,
        client_name: String,
        org_name: String,
    },
    /// Ask for the code (with a message when the last one did not work).
    EnterCode { error: Option<String> },
    /// Show the code, the client and its scopes; allow or deny.
    Confirm {
        user_code: String,
        client_name: String,
        scopes: Vec<String>,
        csrf: String,
    },
    /// Decided: the device may go on (or was refused).
    Done { approved: bool },
    /// The form was not this browser's (another session's token, or a post from another
    /// site): refused, with the device page to start again from.
    Restart { url: String },
}

/// `WDJBMJHT`, `wdjb-mjht` or `WDJB MJHT` → `WDJBMJHT`; `None` if it cannot be a user code.
fn normalize_user_code(s: &str) -> Option<String> {
    let out: String = s
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (out.len() == USER_CODE_LEN && out.bytes().all(|b| USER_CODE_ALPHABET.contains(&b)))
        .then_some(out)
}

fn display_user_code(code: &str) -> String {
    format!("{}-{}", &code[..4], &code[4..])
}

impl Services {
    /// The device page's address, with the user code when there is one.
    pub fn device_page(&self, org: &OrgSlug, user_code: Option<&str>) -> String {
        let base = format!("{}/device", self.issuer(org));
        match user_code {
            Some(c) => format!(
                "{base}?user_code={}",
                url::form_urlencoded::byte_serialize(c.as_bytes()).collect::<String>()
            ),
            None => base,
        }
    }

    fn user_code_hash(&self, normalized: &str) -> String {
        self.handle_hash.hash(&format!("user-code:{normalized}"))
    }

    /// The page's CSRF token: bound to the session, so nothing is stored for it.
    fn device_csrf(&self, cookie: &str) -> String {
        self.handle_hash.hash(&format!("device-csrf:{cookie}"))
    }

    fn new_user_code(&self) -> OAuthResult<String> {
        // 256 is not a multiple of 20: the first 240 values map evenly, the rest are redrawn.
        let mut out = String::with_capacity(USER_CODE_LEN);
        while out.len() < USER_CODE_LEN {
            let [b] = random_bytes::<1>(&*self.rng)
                .map_err(|e| OAuthError::ServerError(e.to_string()))?;
            if b < 240 {
                out.push(USER_CODE_ALPHABET[usize::from(b % 20)] as char);
            }
        }
        Ok(out)
    }

    /// `POST …/oauth/device_authorization` (RFC 8628 §3.1).
    pub async fn device_authorization(
        self: &Arc<Self>,
        org_slug: &str,
        auth: &ClientAuth,
        scope: Option<&str>,
        resources: &[&str],
    ) -> OAuthResult<DeviceAuthorization> {
        let org = self.protocol_org(org_slug).await?;
        let cached = self.grant_client(&org, auth, GrantType::DeviceCode).await?;
        // RFC 8707: the resources the device's tokens are for, and their scopes.
        let targets = self.targets(org.id, &cached.client, resources).await?;
        let scope = targets.scope(&cached.client, scope)?;
        let device_code = self.random_handle()?;
        let now = self.now();
        // A user code already in use in this organization is drawn again.
        for _ in 0..5 {
            let user_code = self.new_user_code()?;
            let row = DeviceCode {
                device_code_hash: self.handle_hash.hash(&device_code),
                user_code_hash: self.user_code_hash(&user_code),
                org_id: org.id,
                client_id: cached.client.id.to_string(),
                scope: scope.clone(),
                status: DeviceStatus::Pending,
                user_id: None,
                auth_time: None,
                interval_secs: DEVICE_POLL_INTERVAL_SECONDS,
                last_polled_at: None,
                created_at: now,
                expires_at: now + time::Duration::seconds(DEVICE_CODE_LIFETIME_SECONDS),
                resources: targets.identifiers(),
            };
            let mut tx = self.store.begin().await?;
            match tx.insert_device_code(&row).await {
                Ok(()) => {}
                Err(tessera_store::StoreError::Conflict { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
            tx.commit().await?;
            let shown = display_user_code(&user_code);
            return Ok(DeviceAuthorization {
                device_code,
                verification_uri: self.device_page(&org.slug, None),
                verification_uri_complete: self.device_page(&org.slug, Some(&shown)),
                user_code: shown,
                expires_in: DEVICE_CODE_LIFETIME_SECONDS,
                interval: DEVICE_POLL_INTERVAL_SECONDS,
            });
        }
        Err(OAuthError::ServerError("no free user code".into()))
    }

    /// The pending authorization of a user code, with its client, if it can still be decided.
    async fn pending_device(
        &self,
        org: &tessera_domain::Organization,
        user_code: &str,
    ) -> OAuthResult<Option<(DeviceCode, Arc<crate::cache::CachedClient>)>> {
        let Some(code) = normalize_user_code(user_code) else {
            return Ok(None);
        };
        let found = {
            let mut tx = self.store.read().await?;
            tx.find_device_by_user_code(org.id, &self.user_code_hash(&code))
                .await?
        };
        let Some(d) =
            found.filter(|d| d.status == DeviceStatus::Pending && d.expires_at > self.now())
        else {
            return Ok(None);
        };
        let client = self
            .cached_client(org.id, &d.client_id)
            .await?
            .filter(|c| c.client.settings.is_active);
        Ok(client.map(|c| (d, c)))
    }

    /// `GET /orgs/{org}/device[?user_code=…]`.
    pub async fn device_page_get(
        self: &Arc<Self>,
        org_slug: &str,
        user_code: Option<&str>,
        cookie: Option<&str>,
        browser: &str,
        address: Option<&str>,
    ) -> OAuthResult<DeviceStep> {
        let org = self.protocol_org(org_slug).await?;
        let Some(user_code) = user_code.filter(|c| !c.trim().is_empty()) else {
            return Ok(DeviceStep::EnterCode { error: None });
        };
        if !self
            .allow_attempt(self.limits.device_lookup(org.id, address))
            .await
        {
            return Ok(DeviceStep::EnterCode {
                error: Some("Too many attempts. Wait a minute and try again.".into()),
            });
        }
        let Some((d, client)) = self.pending_device(&org, user_code).await? else {
            return Ok(DeviceStep::EnterCode {
                error: Some(
                    "That code is not valid or has expired. Check it and try again.".into(),
                ),
            });
        };
        let shown =
            normalize_user_code(user_code).map_or_else(String::new, |c| display_user_code(&c));
        let session = self.live_session(org.id, cookie).await?;
        match (session, cookie) {
            (Some(_), Some(c)) => Ok(DeviceStep::Confirm {
                user_code: shown,
                client_name: client.client.settings.name.clone(),
                scopes: d
                    .scope
                    .split(' ')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
                csrf: self.device_csrf(c),
            }),
            _ => {
                let req = device_login_request(&client.client, &d, &shown);
                let (request_id, csrf) = self.save_pending(&org, &req, browser, None).await?;
                Ok(DeviceStep::Login {
                    request_id,
                    csrf,
                    client_name: client.client.settings.name.clone(),
                    org_name: org.name.clone(),
                })
            }
        }
    }

    /// `POST /orgs/{org}/device`: the signed-in user allows or denies the device.
    pub async fn device_decide(
        self: &Arc<Self>,
        org_slug: &str,
        user_code: &str,
        form: crate::authorize::PostedForm<'_>,
        allow: bool,
        cookie: Option<&str>,
        address: Option<&str>,
    ) -> OAuthResult<DeviceStep> {
        use subtle::ConstantTimeEq;
        let csrf = form.csrf;
        let browser = form.browser.unwrap_or_default();
        let org = self.protocol_org(org_slug).await?;
        let session = self.live_session(org.id, cookie).await?;
        let (Some(session), Some(c)) = (session, cookie) else {
            // The session ended meanwhile: start again from the page.
            return self
                .device_page_get(org_slug, Some(user_code), None, browser, address)
                .await;
        };
        // The token is bound to this browser's session: another browser's token, or a post
        // made by another site (whose token is made up), never verifies.
        if !bool::from(self.device_csrf(c).as_bytes().ct_eq(csrf.as_bytes())) {
            let code = normalize_user_code(user_code).map(|c| display_user_code(&c));
            return Ok(DeviceStep::Restart {
                url: self.device_page(&org.slug, code.as_deref()),
            });
        }
        if !self
            .allow_attempt(self.limits.device_lookup(org.id, address))
            .await
        {
            return Ok(DeviceStep::EnterCode {
                error: Some("Too many attempts. Wait a minute and try again.".into()),
            });
        }
        let Some(code) = normalize_user_code(user_code) else {
            return Ok(DeviceStep::EnterCode {
                error: Some(
                    "That code is not valid or has expired. Check it and try again.".into(),
                ),
            });
        };
        let mut tx = self.store.begin().await?;
        let decided = tx
            .decide_device_code(
                org.id,
                &self.user_code_hash(&code),
                allow,
                session.user_id,
                session.auth_time,
                self.now(),
            )
            .await?;
        tx.commit().await?;
        if !decided {
            return Ok(DeviceStep::EnterCode {
                error: Some(
                    "That code is not valid or has expired. Check it and try again.".into(),
                ),
            });
        }
        Ok(DeviceStep::Done { approved: allow })
    }
}

/// The saved request that brings the user back to the device page after signing in.
fn device_login_request(client: &OAuthClient, d: &DeviceCode, shown: &str) -> AuthRequest {
    AuthRequest {
        client_id: client.id.to_string(),
        redirect_uri: String::new(),
        scopes: d
            .scope
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        state: None,
        nonce: None,
        code_challenge: None,
        prompt: vec![],
        max_age: None,
        login_hint: None,
        device_user_code: Some(shown.to_owned()),
        claims: None,
        response_mode: Default::default(),
        resources: vec![],
        dpop_jkt: None,
        pushed: None,
        password_ok: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_codes_are_normalized_and_checked() {
        assert_eq!(
            normalize_user_code("wdjb-mjht").as_deref(),
            Some("WDJBMJHT")
        );
        assert_eq!(
            normalize_user_code("WDJB MJHT").as_deref(),
            Some("WDJBMJHT")
        );
        assert_eq!(normalize_user_code("WDJB-MJH"), None, "too short");
        assert_eq!(normalize_user_code("WDJA-MJHT"), None, "a vowel");
        assert_eq!(normalize_user_code("WDJ0-MJHT"), None, "a digit");
        assert_eq!(display_user_code("WDJBMJHT"), "WDJB-MJHT");
    }
}
