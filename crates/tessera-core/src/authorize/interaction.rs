//! The pages between an authorization request and its answer: the request kept while the
//! user signs in or decides (its forms bound to the browser), the login and consent forms,
//! and the code issued at the end.

use std::sync::Arc;

use serde_json::json;
use subtle::ConstantTimeEq;
use tessera_domain::client::OAuthClient;
use tessera_domain::{AuditAction, OrgId, Organization, Principal, Timestamp, UserId, Username};
use tessera_store::{AuthCode, LoginSession, PendingRequest};

use super::{
    server_page, AuthRequest, AuthorizeError, ClientResponse, NewSession, Next, PostedForm,
    CODE_LIFETIME_SECONDS, PENDING_LIFETIME_SECONDS, SESSION_LIFETIME_SECONDS,
};
use crate::audit::AuditEntry;
use crate::tokens::{OAuthError, OAuthResult};
use crate::{Context, CoreResult, Services};
use tessera_domain::clock::to_millis;

/// How long after a right password the second factor's code may come.
const SECOND_FACTOR_SECONDS: i64 = 300;

impl Services {
    /// Saves a request that waits for the user; its id, and the CSRF token of its forms in
    /// this browser. `id` is an already saved request (id and token) to go on with.
    pub(crate) async fn save_pending(
        &self,
        org: &Organization,
        req: &AuthRequest,
        browser: &str,
        id: Option<(String, String)>,
    ) -> OAuthResult<(String, String)> {
        if let Some(existing) = id {
            return Ok(existing);
        }
        let id = self.random_handle()?;
        let csrf = self.random_handle()?;
        let now = self.now();
        let mut tx = self.store.single_write().await?;
        tx.insert_pending(&PendingRequest {
            id: id.clone(),
            org_id: org.id,
            params: serde_json::to_string(req)
                .map_err(|e| OAuthError::ServerError(e.to_string()))?,
            csrf: csrf.clone(),
            created_at: now,
            expires_at: now + time::Duration::seconds(PENDING_LIFETIME_SECONDS),
        })
        .await?;
        tx.commit().await?;
        let token = self.form_token(browser, &csrf);
        Ok((id, token))
    }

    /// The CSRF token of a form in one browser: a keyed hash of the browser's binding cookie
    /// and the form's own secret, so a token copied from another browser (or made up on
    /// another site) never verifies, and nothing more is stored per browser.
    pub(crate) fn form_token(&self, browser: &str, secret: &str) -> String {
        self.handle_hash.hash(&format!("form:{browser}:{secret}"))
    }

    /// Whether `presented` is the token of the form `secret` in `browser`.
    pub(crate) fn form_token_ok(
        &self,
        browser: Option<&str>,
        secret: &str,
        presented: &str,
    ) -> bool {
        match browser.filter(|b| !b.is_empty()) {
            Some(b) => bool::from(
                self.form_token(b, secret)
                    .as_bytes()
                    .ct_eq(presented.as_bytes()),
            ),
            None => false,
        }
    }

    /// A new browser binding value (256 random bits), for a browser that has none yet.
    pub fn new_browser_binding(&self) -> Result<String, OAuthError> {
        self.random_handle()
    }

    /// Consent, then the code; `pending` is the saved request when there is one;
    /// `read_consent` is the user's stored consent to this client when it was read with the
    /// session (`Some(None)`: there is none), `None` when it is still to be read.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn after_login(
        &self,
        org: &Organization,
        client: &OAuthClient,
        req: AuthRequest,
        signed_in: SignedIn,
        browser: &str,
        pending: Option<(String, String)>,
        read_consent: Option<Option<Vec<String>>>,
    ) -> Result<Next, AuthorizeError> {
        let user = signed_in.user;
        let needs_consent = if client.settings.require_consent {
            let stored = if let Some(read) = read_consent {
                read
            } else {
                let mut tx = self
                    .store
                    .read()
                    .await
                    .map_err(|e| server_page(e, "The server could not read consent."))?;
                tx.find_consent(org.id, user, client.id.as_str())
                    .await
                    .map_err(|e| server_page(e, "The server could not read consent."))?
            };
            let covered = stored.is_some_and(|s| req.scopes.iter().all(|x| s.contains(x)));
            !covered || req.prompt.iter().any(|p| p == "consent")
        } else {
            false
        };
        if needs_consent {
            if req.prompt.iter().any(|p| p == "none") {
                return Err(self.error_for(
                    org,
                    &req,
                    "consent_required",
                    "the user has not consented",
                ));
            }
            let (request_id, csrf) = self
                .save_pending(org, &req, browser, pending)
                .await
                .map_err(|e| server_page(e, "The server could not save the request."))?;
            let all = self
                .org_resources(org.id)
                .await
                .map_err(|e| server_page(e, "The server could not read the API resources."))?;
            let resources: Vec<super::ConsentResource> = all
                .iter()
                .filter(|r| {
                    req.resources
                        .iter()
                        .any(|i| i == r.settings.identifier.as_str())
                })
                .map(|r| super::ConsentResource {
                    name: r.settings.name.clone(),
                    identifier: r.settings.identifier.as_str().to_owned(),
                    scopes: r
                        .settings
                        .scopes
                        .iter()
                        .filter(|s| req.scopes.iter().any(|x| x == s.name.as_str()))
                        .map(|s| (s.name.as_str().to_owned(), s.description.clone()))
                        .collect(),
                })
                .collect();
            let scopes = req
                .scopes
                .iter()
                .filter(|s| {
                    !resources
                        .iter()
                        .any(|r| r.scopes.iter().any(|(n, _)| n == *s))
                })
                .cloned()
                .collect();
            // A client described by a metadata document names itself: the consent page says
            // where the description comes from (its host).
            let client_name = if client.id.is_metadata_document() {
                let host = url::Url::parse(client.id.as_str())
                    .ok()
                    .and_then(|u| u.host_str().map(str::to_owned))
                    .unwrap_or_default();
                format!("{} ({host})", client.settings.name)
            } else {
                client.settings.name.clone()
            };
            return Ok(Next::Consent {
                request_id,
                csrf,
                client_name,
                scopes,
                resources,
            });
        }
        let response = self
            .issue_code(org, client, &req, &signed_in, pending.map(|p| p.0))
            .await
            .map_err(|e| server_page(e, "The server could not issue a code."))?;
        Ok(Next::Respond(response))
    }

    /// Issues the code of `req` for the user signed in to a session, spending the pushed
    /// request it came from, if any, noting the client for back-channel logout, and noting
    /// the sign-in on the user's consent (the account page's "last used").
    async fn issue_code(
        &self,
        org: &Organization,
        client: &OAuthClient,
        req: &AuthRequest,
        signed_in: &SignedIn,
        pending: Option<String>,
    ) -> OAuthResult<ClientResponse> {
        let (user, auth_time, session_hash) = (
            signed_in.user,
            signed_in.auth_time,
            signed_in.session_hash.as_str(),
        );
        let code = self.random_handle()?;
        let now = self.now();
        let sid = super::session_sid(session_hash);
        let backchannel = client.settings.security.backchannel_logout_uri.is_some();
        let touch = client.settings.require_consent
            && self.consent_touch_due(org.id, user, client.id.as_str());
        let stored = AuthCode {
            code_hash: self.handle_hash.hash(&code),
            org_id: org.id,
            client_id: req.client_id.clone(),
            user_id: user,
            redirect_uri: req.redirect_uri.clone(),
            scope: req.scopes.join(" "),
            nonce: req.nonce.clone(),
            code_challenge: req.code_challenge.clone(),
            auth_time,
            created_at: now,
            expires_at: now + time::Duration::seconds(CODE_LIFETIME_SECONDS),
            redeemed_at: None,
            access_jti: None,
            access_expires: None,
            claims: req.claims.clone(),
            resources: req.resources.clone(),
            dpop_jkt: req.dpop_jkt.clone(),
            sid: Some(sid.clone()),
            amr: signed_in.amr.clone(),
        };
        // Mostly the code is the only write: then it is a single write of its own.
        if req.pushed.is_none() && !backchannel && !touch && pending.is_none() {
            self.store.write_code(&stored).await?;
        } else {
            let mut tx = self.store.begin().await?;
            // RFC 9126 §4: a pushed request is spent by the code it ends in (a reload of the
            // authorization page before that is harmless).
            if let Some(hash) = &req.pushed {
                if tx.take_pushed(org.id, hash).await?.is_none() {
                    return Ok(self.error_response(
                        org,
                        &req.redirect_uri,
                        req.state.as_deref(),
                        req.response_mode,
                        "invalid_request_uri",
                        "the request_uri was used already",
                    ));
                }
            }
            if backchannel {
                tx.add_session_client(
                    &tessera_store::SessionClient {
                        org_id: org.id,
                        session_hash: session_hash.to_owned(),
                        sid: sid.clone(),
                        client_id: client.id.as_str().to_owned(),
                        user_id: user,
                    },
                    now,
                )
                .await?;
            }
            tx.insert_code(&stored).await?;
            if touch {
                tx.touch_consent(org.id, user, client.id.as_str(), now)
                    .await?;
            }
            if let Some(p) = pending {
                tx.delete_pending(org.id, &p).await?;
            }
            tx.commit().await?;
        }
        if touch {
            self.consent_touched(org.id, user, client.id.as_str(), now);
        }
        // RFC 9207: `iss` in every authorization response.
        let mut params = vec![("code".to_owned(), code)];
        if let Some(s) = &req.state {
            params.push(("state".to_owned(), s.clone()));
        }
        params.push(("iss".to_owned(), self.issuer(&org.slug)));
        Ok(ClientResponse {
            redirect_uri: req.redirect_uri.clone(),
            params,
            mode: req.response_mode,
        })
    }

    /// The organization of a posted sign-in form and its saved request, if the form's token
    /// belongs to this browser.
    async fn posted_request(
        &self,
        org_slug: &str,
        request_id: &str,
        csrf: &str,
        browser: Option<&str>,
    ) -> Result<(Organization, AuthRequest, Arc<crate::cache::CachedClient>), AuthorizeError> {
        let org = self
            .protocol_org(org_slug)
            .await
            .map_err(|_| AuthorizeError::Page("This organization does not exist.".into()))?;
        let (req, client) = self.load_pending(&org, request_id, csrf, browser).await?;
        Ok((Arc::unwrap_or_clone(org), req, client))
    }

    /// The saved request of a posted form, if the form's token belongs to this browser.
    async fn load_pending(
        &self,
        org: &Organization,
        request_id: &str,
        csrf: &str,
        browser: Option<&str>,
    ) -> Result<(AuthRequest, Arc<crate::cache::CachedClient>), AuthorizeError> {
        let page = |m: &str| AuthorizeError::Page(m.to_owned());
        let p = {
            let mut tx = self
                .store
                .read()
                .await
                .map_err(|e| server_page(e, "The server could not read the request."))?;
            tx.find_pending(org.id, request_id)
                .await
                .map_err(|e| server_page(e, "The server could not read the request."))?
        }
        .filter(|p| p.expires_at > self.now())
        .ok_or_else(|| {
            page("This sign-in request has expired. Start again from the application.")
        })?;
        let req: AuthRequest =
            serde_json::from_str(&p.params).map_err(|_| page("The request is corrupt."))?;
        if !self.form_token_ok(browser, &p.csrf, csrf) {
            // A pushed request cannot be spelled out in a link (and must not be: that would
            // move it to the front channel); the application starts it again.
            if req.pushed.is_some() {
                return Err(page(
                    "This form was not opened in this browser, or was sent from another site, \
                     so it was refused. Start the sign-in again from the application.",
                ));
            }
            return Err(AuthorizeError::Restart {
                message: "This form was not opened in this browser, or was sent from another \
                          site, so it was refused. Start the sign-in again here."
                    .into(),
                url: self.restart_url(org, &req),
            });
        }
        let client = self
            .cached_client(org.id, &req.client_id)
            .await
            .map_err(|e| server_page(e, "The server could not look up the client."))?
            .filter(|c| c.client.settings.is_active)
            .ok_or_else(|| page("The client is no longer available."))?;
        Ok((req, client))
    }

    /// Who a sign-in is audited as: the user, from their address.
    pub(crate) fn signing_in(
        org: &Organization,
        user: &tessera_store::UserRecord,
        address: Option<&str>,
    ) -> Context {
        Context {
            principal: Principal::end_user(org.id, user.user.id, user.user.username.as_str()),
            ip: address.map(str::to_owned),
            request_id: None,
        }
    }

    /// The active user whose password this is, or `None`. The same slow hash runs whether or
    /// not the user exists, so timing tells nothing. A failure against an existing user is
    /// audited (`method`: how they tried); a name that matches nobody is not recorded, as it
    /// may be a password typed into the wrong field.
    pub(crate) async fn check_password(
        &self,
        org: &Organization,
        client: &OAuthClient,
        username: &str,
        password: &str,
        address: Option<&str>,
        method: &str,
    ) -> CoreResult<Option<tessera_store::UserRecord>> {
        let user = match Username::parse(username) {
            Ok(u) => {
                let mut tx = self.store.read().await?;
                tx.find_user_by_username(org.id, &u).await?
            }
            Err(_) => None,
        };
        let phc = match user.as_ref().and_then(|u| u.password_hash.clone()) {
            Some(h) => h,
            None => self.dummy_hash().await?,
        };
        let ok = self.verify_password(password, &phc).await;
        match user {
            Some(u) if ok && u.user.is_active && u.password_hash.is_some() => Ok(Some(u)),
            Some(u) => {
                let reason = if u.user.is_active {
                    "wrong password"
                } else {
                    "user disabled"
                };
                let mut tx = self.store.begin().await?;
                self.audit(
                    tx.as_mut(),
                    &Self::signing_in(org, &u, address),
                    login_entry(
                        org.id,
                        &u,
                        AuditAction::UserLoginFailed,
                        client,
                        method,
                        Some(reason),
                    ),
                )
                .await?;
                tx.commit().await?;
                Ok(None)
            }
            None => Ok(None),
        }
    }

    /// `POST /orgs/{org}/login`: checks the password; then either asks for the second factor
    /// (a user who set one up) or starts a session and goes on with the flow.
    pub async fn login(
        self: &Arc<Self>,
        org_slug: &str,
        request_id: &str,
        form: PostedForm<'_>,
        username: &str,
        password: &str,
        address: Option<&str>,
    ) -> Result<(Next, Option<NewSession>), AuthorizeError> {
        let PostedForm { csrf, browser } = form;
        let page = |m: &str| AuthorizeError::Page(m.to_owned());
        let (org, req, client) = self
            .posted_request(org_slug, request_id, csrf, browser)
            .await?;
        let browser = browser.unwrap_or_default();
        let retry = |error: &str| Next::Login {
            request_id: request_id.to_owned(),
            csrf: csrf.to_owned(),
            client_name: client.client.settings.name.clone(),
            org_name: org.name.clone(),
            error: Some(error.to_owned()),
            username: Some(username.to_owned()),
        };
        if !self.limits.allow_login(org.id, username, address) {
            return Ok((
                retry("Too many sign-in attempts. Wait a minute and try again."),
                None,
            ));
        }
        let user = match self
            .check_password(
                &org,
                &client.client,
                username,
                password,
                address,
                "password",
            )
            .await
        {
            Ok(Some(u)) => u,
            Ok(None) => {
                self.count_failures(&self.limits.login_failed(org.id, username, address))
                    .await;
                return Ok((retry("Invalid username or password."), None));
            }
            Err(_) => return Err(page("The server could not check the password.")),
        };
        let second = self
            .confirmed_totp(org.id, user.user.id)
            .await
            .map_err(|e| server_page(e, "The server could not read the second factor."))?;
        if second.is_some() {
            // The password was right: the request remembers it for a few minutes, and the
            // code is asked for on the same request (its CSRF token stays valid).
            let until = to_millis(self.now()) + SECOND_FACTOR_SECONDS * 1000;
            let req = AuthRequest {
                password_ok: Some(super::PasswordOk {
                    user: user.user.id,
                    until,
                }),
                ..req
            };
            self.replace_pending(&org, request_id, &req)
                .await
                .map_err(|e| server_page(e, "The server could not save the request."))?;
            return Ok((
                Next::SecondFactor {
                    request_id: request_id.to_owned(),
                    csrf: csrf.to_owned(),
                    client_name: client.client.settings.name.clone(),
                    org_name: org.name.clone(),
                    error: None,
                },
                None,
            ));
        }
        self.start_session(
            &org,
            &client.client,
            req,
            &user,
            ("pwd", "password"),
            (request_id, csrf, browser),
            address,
        )
        .await
    }

    /// `POST /orgs/{org}/login/second-factor`: the code of the user whose password was right
    /// on this request (a TOTP code, or one of their recovery codes); then the session.
    pub async fn login_second_factor(
        self: &Arc<Self>,
        org_slug: &str,
        request_id: &str,
        form: PostedForm<'_>,
        code: &str,
        address: Option<&str>,
    ) -> Result<(Next, Option<NewSession>), AuthorizeError> {
        let PostedForm { csrf, browser } = form;
        let page = |m: &str| AuthorizeError::Page(m.to_owned());
        let (org, req, client) = self
            .posted_request(org_slug, request_id, csrf, browser)
            .await?;
        let browser = browser.unwrap_or_default();
        let now_ms = to_millis(self.now());
        let Some(ok) = req.password_ok.clone().filter(|p| p.until > now_ms) else {
            return Err(page(
                "The sign-in took too long. Start again from the application.",
            ));
        };
        let retry = |error: &str| Next::SecondFactor {
            request_id: request_id.to_owned(),
            csrf: csrf.to_owned(),
            client_name: client.client.settings.name.clone(),
            org_name: org.name.clone(),
            error: Some(error.to_owned()),
        };
        // The same brakes as passwords, per user: six digits must not be guessed.
        let key = ok.user.to_string();
        if !self.limits.allow_login(org.id, &key, address) {
            return Ok((
                retry("Too many sign-in attempts. Wait a minute and try again."),
                None,
            ));
        }
        let user = {
            let mut tx = self
                .store
                .read()
                .await
                .map_err(|e| server_page(e, "The server could not read the user."))?;
            tx.find_user(org.id, ok.user)
                .await
                .map_err(|e| server_page(e, "The server could not read the user."))?
        }
        .filter(|u| u.user.is_active)
        .ok_or_else(|| page("This account is not available. Start again from the application."))?;
        let method = self
            .check_second_factor(org.id, ok.user, code)
            .await
            .map_err(|e| server_page(e, "The server could not check the code."))?;
        let Some(method) = method else {
            self.count_failures(&self.limits.login_failed(org.id, &key, address))
                .await;
            let written = async {
                let mut tx = self.store.begin().await?;
                self.audit(
                    tx.as_mut(),
                    &Self::signing_in(&org, &user, address),
                    login_entry(
                        org.id,
                        &user,
                        AuditAction::UserLoginFailed,
                        &client.client,
                        "password+otp",
                        Some("wrong second factor code"),
                    ),
                )
                .await?;
                tx.commit().await?;
                Ok::<(), crate::CoreError>(())
            }
            .await;
            if let Err(e) = written {
                tracing::warn!(error = %e, "could not record a failed second factor");
            }
            return Ok((
                retry("That code is not right. Try the current one, or a recovery code."),
                None,
            ));
        };
        let req = AuthRequest {
            password_ok: None,
            ..req
        };
        let audited = if method == "otp" {
            "password+otp"
        } else {
            "password+recovery_code"
        };
        self.start_session(
            &org,
            &client.client,
            req,
            &user,
            ("pwd otp", audited),
            (request_id, csrf, browser),
            address,
        )
        .await
    }

    /// Writes `req` over the saved request `id` (same id, token and expiry).
    async fn replace_pending(
        &self,
        org: &Organization,
        id: &str,
        req: &AuthRequest,
    ) -> OAuthResult<()> {
        let mut tx = self.store.begin().await?;
        let Some(p) = tx.find_pending(org.id, id).await? else {
            return Err(OAuthError::ServerError("the request is gone".into()));
        };
        tx.delete_pending(org.id, id).await?;
        tx.insert_pending(&PendingRequest {
            params: serde_json::to_string(req)
                .map_err(|e| OAuthError::ServerError(e.to_string()))?,
            ..p
        })
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A signed-in user's new session (`amr` says how), audited as `method`; then on with the
    /// flow: back to the device page, or consent and the code.
    #[allow(clippy::too_many_arguments)]
    async fn start_session(
        self: &Arc<Self>,
        org: &Organization,
        client: &OAuthClient,
        req: AuthRequest,
        user: &tessera_store::UserRecord,
        (amr, method): (&str, &str),
        (request_id, csrf, browser): (&str, &str, &str),
        address: Option<&str>,
    ) -> Result<(Next, Option<NewSession>), AuthorizeError> {
        let audit_ctx = Self::signing_in(org, user, address);
        let value = self
            .random_handle()
            .map_err(|e| server_page(e, "The server could not start a session."))?;
        let now = self.now();
        let session = LoginSession {
            id_hash: self.handle_hash.hash(&value),
            org_id: org.id,
            user_id: user.user.id,
            auth_time: now,
            created_at: now,
            expires_at: now + time::Duration::seconds(SESSION_LIFETIME_SECONDS),
            ended_at: None,
            amr: amr.to_owned(),
        };
        {
            let mut tx = self
                .store
                .begin()
                .await
                .map_err(|e| server_page(e, "The server could not start a session."))?;
            tx.insert_session(&session)
                .await
                .map_err(|e| server_page(e, "The server could not start a session."))?;
            self.audit(
                tx.as_mut(),
                &audit_ctx,
                login_entry(
                    org.id,
                    user,
                    AuditAction::UserLoggedIn,
                    client,
                    method,
                    None,
                ),
            )
            .await
            .map_err(|e| server_page(e, "The server could not start a session."))?;
            tx.commit()
                .await
                .map_err(|e| server_page(e, "The server could not start a session."))?;
        }
        let next = match &req.device_user_code {
            // Signed in for the device page: back to it, to confirm the code.
            Some(code) => {
                let mut tx = self
                    .store
                    .begin()
                    .await
                    .map_err(|e| server_page(e, "The server failed."))?;
                tx.delete_pending(org.id, request_id)
                    .await
                    .map_err(|e| server_page(e, "The server failed."))?;
                tx.commit()
                    .await
                    .map_err(|e| server_page(e, "The server failed."))?;
                Next::Redirect(self.device_page(&org.slug, Some(code)))
            }
            None => {
                self.after_login(
                    org,
                    client,
                    req,
                    SignedIn {
                        user: user.user.id,
                        auth_time: now,
                        session_hash: session.id_hash.clone(),
                        amr: amr.to_owned(),
                    },
                    browser,
                    Some((request_id.to_owned(), csrf.to_owned())),
                    None,
                )
                .await?
            }
        };
        Ok((
            next,
            Some(NewSession {
                value,
                max_age: SESSION_LIFETIME_SECONDS,
            }),
        ))
    }

    /// `POST /orgs/{org}/consent`: `allow` remembers the consent and issues the code; `deny`
    /// sends `access_denied` back.
    pub async fn consent(
        self: &Arc<Self>,
        org_slug: &str,
        request_id: &str,
        form: PostedForm<'_>,
        allow: bool,
        cookie: Option<&str>,
    ) -> Result<Next, AuthorizeError> {
        let PostedForm { csrf, browser } = form;
        let page = |m: &str| AuthorizeError::Page(m.to_owned());
        let (org, req, client) = self
            .posted_request(org_slug, request_id, csrf, browser)
            .await?;
        let session = self
            .live_session(org.id, cookie)
            .await
            .map_err(|e| server_page(e, "The server could not read the session."))?
            .ok_or_else(|| page("You are not signed in. Start again from the application."))?;
        if !allow {
            let mut tx = self
                .store
                .begin()
                .await
                .map_err(|e| server_page(e, "The server failed."))?;
            tx.delete_pending(org.id, request_id)
                .await
                .map_err(|e| server_page(e, "The server failed."))?;
            tx.commit()
                .await
                .map_err(|e| server_page(e, "The server failed."))?;
            return Err(self.error_for(&org, &req, "access_denied", "the user denied the request"));
        }
        {
            let mut tx = self
                .store
                .begin()
                .await
                .map_err(|e| server_page(e, "The server failed."))?;
            tx.upsert_consent(
                org.id,
                session.user_id,
                &req.client_id,
                &req.scopes,
                self.now(),
            )
            .await
            .map_err(|e| server_page(e, "The server failed."))?;
            tx.commit()
                .await
                .map_err(|e| server_page(e, "The server failed."))?;
            // A consent given anew (after a revocation, perhaps) gets its first use written.
            self.forget_consent_touch(org.id, session.user_id, &req.client_id);
        }
        let response = self
            .issue_code(
                &org,
                &client.client,
                &req,
                &SignedIn {
                    user: session.user_id,
                    auth_time: session.auth_time,
                    session_hash: session.id_hash.clone(),
                    amr: session.amr.clone(),
                },
                Some(request_id.to_owned()),
            )
            .await
            .map_err(|e| server_page(e, "The server could not issue a code."))?;
        Ok(Next::Respond(response))
    }
}

/// The audit entry of a sign-in (or a failed one, with its reason) to `client` by `user`.
pub(crate) fn login_entry(
    org: OrgId,
    user: &tessera_store::UserRecord,
    action: AuditAction,
    client: &OAuthClient,
    method: &str,
    reason: Option<&str>,
) -> AuditEntry {
    let mut after = json!({"clientId": client.id.as_str(), "method": method});
    if let Some(r) = reason {
        after["reason"] = json!(r);
    }
    AuditEntry::new(action, "user")
        .org(org)
        .target(user.user.id.to_string())
        .after(Some(after))
}

/// Who is signed in to the browser and since when (OIDC Core §2 `auth_time`).
#[derive(Debug, Clone)]
pub(super) struct SignedIn {
    pub user: UserId,
    pub auth_time: Timestamp,
    /// The login session's key (the hash of its cookie).
    pub session_hash: String,
    /// How the session was authenticated (RFC 8176, space-separated).
    pub amr: String,
}
