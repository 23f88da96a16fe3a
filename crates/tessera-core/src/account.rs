//! The end users' own account page (`/orgs/{org}/account`): their profile, the applications
//! they authorized (with scopes and when they last signed in to each; revoking one), their
//! sign-in sessions (signing out elsewhere), their password and their second factor.
//!
//! The page belongs to the organization's sign-in: it is signed in to by the organization's
//! own login session (the cookie the authorization endpoint sets, scoped to `/orgs/{org}`).
//! A browser without one is sent through the authorization endpoint with the organization's
//! `tessera-account` client (public, code + PKCE, first-party: no consent), made the first
//! time the page is used, so the login page, its brakes, the second factor and the audit
//! are the ones every application gets. Its forms are bound to the browser like the login
//! forms (a keyed hash of the browser cookie and the session).

use std::sync::Arc;

use secrecy::ExposeSecret;
use tessera_domain::client::ClientInput;
use tessera_domain::{AuditAction, Organization, Principal, Timestamp, User};

use crate::audit::AuditEntry;
use crate::mfa::{SecondFactorStatus, TotpEnrolment};
use crate::tokens::OAuthError;
use crate::{Context, CoreError, CoreResult, Services};

/// The client id of every organization's account page client.
pub const DEFAULT_ACCOUNT_CLIENT: &str = "tessera-account";
/// The client id of every organization's REST API explorer (Swagger UI) client.
pub const DEFAULT_EXPLORER_CLIENT: &str = "tessera-explorer";
/// Where the explorer's sign-in returns (relative to the public URL): the same page for every
/// organization.
pub const EXPLORER_REDIRECT_PATH: &str = "/assets/swagger-ui/oauth2-redirect.html";

/// The first step of a sign-in to the account page.
#[derive(Debug, Clone)]
pub struct AccountSignIn {
    pub authorize_url: String,
    /// Kept in a short-lived cookie and compared with the `state` that comes back.
    pub state: String,
}

/// A signed-in account page request: the user and the session they signed in with.
#[derive(Debug, Clone)]
pub struct AccountCaller {
    pub org: Organization,
    pub user: User,
    /// The login session's key (the hash of its cookie).
    pub session_hash: String,
    pub ctx: Context,
}

/// An application the user authorized.
#[derive(Debug, Clone)]
pub struct AccountApp {
    pub client_id: String,
    pub client_name: String,
    pub scopes: Vec<String>,
    pub granted_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

/// One of the user's live sign-in sessions.
#[derive(Debug, Clone)]
pub struct AccountSession {
    pub id: String,
    pub auth_time: Timestamp,
    pub expires_at: Timestamp,
    /// Whether it is the one this page is shown with.
    pub current: bool,
    /// How it was signed in to (RFC 8176, space-separated).
    pub amr: String,
}

/// Everything the account page shows.
#[derive(Debug, Clone)]
pub struct AccountOverview {
    pub apps: Vec<AccountApp>,
    pub sessions: Vec<AccountSession>,
    pub second_factor: SecondFactorStatus,
}

impl Services {
    /// The account page's redirect URI in an organization.
    pub fn account_redirect_uri(&self, org: &Organization) -> String {
        format!("{}/account/callback", self.issuer(&org.slug))
    }

    /// The PKCE verifier of a sign-in: a keyed hash of its state.
    fn account_verifier(&self, state: &str) -> String {
        let h = self.handle_hash.hash(&format!("account-pkce:{state}"));
        h.rsplit('$').next().unwrap_or_default().to_owned()
    }

    /// The organization's account client, made the first time it is needed; its redirect
    /// URI follows the public URL when that changed.
    async fn ensure_account_client(&self, org: &Organization) -> CoreResult<()> {
        let input = ClientInput {
            client_id: Some(DEFAULT_ACCOUNT_CLIENT.into()),
            name: "Account".into(),
            description: Some("The account page of the organization's members.".into()),
            is_confidential: Some(false),
            redirect_uris: vec![self.account_redirect_uri(org)],
            allowed_scopes: Some(vec!["openid".into(), "profile".into()]),
            require_consent: false,
            ..ClientInput::default()
        };
        self.ensure_default_client(org, input).await
    }

    /// A client Tessera itself uses in every organization (public, PKCE, first-party), made
    /// the first time it is needed; its one redirect URI follows the public URL.
    async fn ensure_default_client(
        &self,
        org: &Organization,
        input: ClientInput,
    ) -> CoreResult<()> {
        let id = input.client_id.clone().unwrap_or_default();
        let redirect = input.redirect_uris.first().cloned().unwrap_or_default();
        let existing = self
            .cached_client(org.id, &id)
            .await
            .map_err(|e| CoreError::internal(e.to_string()))?;
        if existing.is_some() {
            return self.follow_public_url(org, &id, &redirect, None).await;
        }
        match self
            .create_client(&Context::system(), org.slug.as_str(), input)
            .await
        {
            // Another request (or node) made it meanwhile.
            Ok(_) | Err(CoreError::Conflict(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// The explorer's redirect URI (the same for every organization).
    pub fn explorer_redirect_uri(&self) -> String {
        format!("{}{EXPLORER_REDIRECT_PATH}", self.config.public_url)
    }

    /// Makes sure the organization has its explorer client; the organization's issuer.
    pub async fn explorer_client(&self, org_slug: &str) -> CoreResult<String> {
        let org = self
            .protocol_org(org_slug)
            .await
            .map_err(|_| CoreError::not_found("organization", org_slug))?;
        let input = ClientInput {
            client_id: Some(DEFAULT_EXPLORER_CLIENT.into()),
            name: "REST API Explorer".into(),
            description: Some(
                "The admin REST API's explorer (Swagger UI) signs members in with this client."
                    .into(),
            ),
            is_confidential: Some(false),
            redirect_uris: vec![self.explorer_redirect_uri()],
            allowed_scopes: Some(vec!["openid".into()]),
            require_consent: false,
            ..ClientInput::default()
        };
        self.ensure_default_client(&org, input).await?;
        Ok(self.issuer(&org.slug))
    }

    /// The caller of an admin API request that carries an access token of the organization's
    /// explorer client: the signed-in member, with their permissions (who must be allowed
    /// in the console, `admin:access`). Tokens of any other client are no admin credential.
    pub async fn authenticate_explorer_token(
        &self,
        org_slug: &str,
        token: &str,
    ) -> CoreResult<tessera_domain::Principal> {
        let denied = || CoreError::Unauthenticated("invalid or expired access token".into());
        let org = self.protocol_org(org_slug).await.map_err(|_| denied())?;
        let claims = self
            .active_claims(&org, token)
            .await
            .map_err(|e| CoreError::internal(e.to_string()))?
            .filter(|c| c.client_id == DEFAULT_EXPLORER_CLIENT)
            .ok_or_else(denied)?;
        let user = uuid::Uuid::parse_str(&claims.sub)
            .map(tessera_domain::UserId)
            .map_err(|_| denied())?;
        let mut tx = self.store.read().await?;
        let user = tx
            .find_user(org.id, user)
            .await?
            .filter(|u| u.user.is_active)
            .ok_or_else(denied)?
            .user;
        let principal = self.user_principal(tx.as_mut(), &user).await?;
        if !principal.has(org.id, tessera_domain::Permission::AdminAccess) {
            return Err(CoreError::Forbidden(
                tessera_domain::Permission::AdminAccess,
            ));
        }
        Ok(principal)
    }

    /// Points a default client's redirect URI (and the console's post-logout URI) at the
    /// current public URL when Tessera made it for another one: only while the client still
    /// has exactly the one URI of that shape, so an operator's own changes are kept.
    pub(crate) async fn follow_public_url(
        &self,
        org: &Organization,
        client_id: &str,
        redirect: &str,
        logout: Option<&str>,
    ) -> CoreResult<()> {
        let Some(c) = self
            .cached_client(org.id, client_id)
            .await
            .map_err(|e| CoreError::internal(e.to_string()))?
        else {
            return Ok(());
        };
        let s = &c.client.settings;
        let path = url::Url::parse(redirect)
            .map(|u| u.path().to_owned())
            .unwrap_or_default();
        let [only] = s.redirect_uris.as_slice() else {
            return Ok(());
        };
        let only = only.as_str();
        let same_shape = url::Url::parse(only).is_ok_and(|u| u.path() == path);
        if only == redirect || !same_shape {
            return Ok(());
        }
        let mut patch = tessera_domain::client::ClientPatch {
            redirect_uris: Some(vec![redirect.to_owned()]),
            ..Default::default()
        };
        if let (Some(l), [old]) = (logout, s.post_logout_redirect_uris.as_slice()) {
            if old.as_str().ends_with("/login") {
                patch.post_logout_redirect_uris = Some(vec![l.to_owned()]);
            }
        }
        tracing::info!(org = %org.slug, client = client_id, from = only, to = redirect, "default client follows the public URL");
        // A URI the rules refuse (plain http on a public host) leaves the client as it was:
        // the sign-in then names the unregistered URI, as before.
        if let Err(e) = self
            .patch_client(&Context::system(), org.slug.as_str(), client_id, patch)
            .await
        {
            tracing::warn!(org = %org.slug, client = client_id, error = %e, "default client cannot follow the public URL");
        }
        Ok(())
    }

    /// Starts a sign-in to the account page of `org_slug`.
    pub async fn account_sign_in(&self, org_slug: &str) -> CoreResult<AccountSignIn> {
        let org = self
            .protocol_org(org_slug)
            .await
            .map_err(|_| CoreError::not_found("organization", org_slug))?;
        self.ensure_account_client(&org).await?;
        let state = self.random_handle().map_err(CoreError::internal)?;
        let challenge = tessera_connect::oauth::pkce_challenge(&self.account_verifier(&state));
        let mut url = url::Url::parse(&format!(
            "{}/api/v1/oauth/authorize",
            self.issuer(&org.slug)
        ))
        .map_err(CoreError::internal)?;
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", DEFAULT_ACCOUNT_CLIENT)
            .append_pair("redirect_uri", &self.account_redirect_uri(&org))
            .append_pair("scope", "openid profile")
            .append_pair("state", &state)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        Ok(AccountSignIn {
            authorize_url: url.into(),
            state,
        })
    }

    /// Finishes a sign-in: the code is redeemed with the verifier only this server can make
    /// (the login session it came from is what signs the page in).
    pub async fn account_finish_sign_in(
        self: &Arc<Self>,
        org_slug: &str,
        code: &str,
        state: &str,
    ) -> CoreResult<()> {
        let org = self
            .protocol_org(org_slug)
            .await
            .map_err(|_| CoreError::not_found("organization", org_slug))?;
        let auth = crate::tokens::ClientAuth::public(DEFAULT_ACCOUNT_CLIENT);
        let redirect = self.account_redirect_uri(&org);
        let verifier = self.account_verifier(state);
        self.authorization_code(&org, &auth, code, Some(&redirect), Some(&verifier), &[])
            .await
            .map_err(|e| match e {
                OAuthError::ServerError(m) => CoreError::internal(m),
                OAuthError::TemporarilyUnavailable(m) => CoreError::Unavailable(m),
                other => CoreError::Unauthenticated(format!("the sign-in failed: {other}")),
            })?;
        Ok(())
    }

    /// Who the account page is shown to: the active user of the organization's live login
    /// session `cookie`; `None` when there is none (sign in first).
    pub async fn account_caller(
        &self,
        org_slug: &str,
        cookie: Option<&str>,
    ) -> CoreResult<Option<AccountCaller>> {
        let org = self
            .protocol_org(org_slug)
            .await
            .map_err(|_| CoreError::not_found("organization", org_slug))?;
        let Some(session) = self
            .live_session(org.id, cookie)
            .await
            .map_err(|e| CoreError::internal(e.to_string()))?
        else {
            return Ok(None);
        };
        let user = {
            let mut tx = self.store.read().await?;
            tx.find_user(org.id, session.user_id).await?
        };
        let Some(user) = user.filter(|u| u.user.is_active).map(|u| u.user) else {
            return Ok(None);
        };
        let ctx = Context {
            principal: Principal::end_user(org.id, user.id, user.username.as_str()),
            ip: None,
            request_id: None,
        };
        Ok(Some(AccountCaller {
            org: Arc::unwrap_or_clone(org),
            user,
            session_hash: session.id_hash,
            ctx,
        }))
    }

    /// The CSRF token of the account page's forms in one browser.
    pub fn account_csrf(&self, browser: &str, caller: &AccountCaller) -> String {
        self.form_token(browser, &format!("account:{}", caller.session_hash))
    }

    /// Whether a posted account form's token belongs to this browser and session.
    pub fn account_csrf_ok(
        &self,
        browser: Option<&str>,
        caller: &AccountCaller,
        presented: &str,
    ) -> bool {
        self.form_token_ok(
            browser,
            &format!("account:{}", caller.session_hash),
            presented,
        )
    }

    /// The applications, sessions and second factor the page shows.
    pub async fn account_overview(&self, caller: &AccountCaller) -> CoreResult<AccountOverview> {
        let (org, user) = (caller.org.id, caller.user.id);
        let (consents, sessions) = {
            let mut tx = self.store.read().await?;
            (
                tx.user_consents(org, user).await?,
                tx.user_sessions(org, user, self.now()).await?,
            )
        };
        let mut apps = Vec::with_capacity(consents.len());
        for c in consents {
            let name = self
                .cached_client(org, &c.client_id)
                .await
                .map_err(|e| CoreError::internal(e.to_string()))?
                .map_or_else(|| c.client_id.clone(), |k| k.client.settings.name.clone());
            apps.push(AccountApp {
                client_id: c.client_id,
                client_name: name,
                scopes: c.scopes,
                granted_at: c.granted_at,
                last_used_at: c.last_used_at,
            });
        }
        let sessions = sessions
            .into_iter()
            .map(|s| AccountSession {
                id: crate::authorize::session_sid(&s.id_hash),
                auth_time: s.auth_time,
                expires_at: s.expires_at,
                current: s.id_hash == caller.session_hash,
                amr: s.amr,
            })
            .collect();
        Ok(AccountOverview {
            apps,
            sessions,
            second_factor: self.second_factor_status(org, user).await?,
        })
    }

    /// The user changes their own name and e-mail address.
    pub async fn account_update_profile(
        &self,
        caller: &AccountCaller,
        name: &str,
        email: &str,
    ) -> CoreResult<User> {
        let mut c = tessera_domain::error::Collector::new();
        let name = name.trim();
        let email = email.trim();
        let name = (!name.is_empty())
            .then(|| c.take(tessera_domain::org::parse_display_name(name, "name")))
            .flatten();
        let email = (!email.is_empty())
            .then(|| c.take(tessera_domain::Email::parse(email)))
            .flatten();
        c.finish()?;
        let before = caller.user.clone();
        let mut after = before.clone();
        after.name = name;
        if after.email != email {
            // A new address is not verified by anyone yet.
            after.email = email;
            after.profile.email_verified = false;
        }
        if after == before {
            return Ok(before);
        }
        after.updated_at = self.now();
        let mut tx = self.store.begin().await?;
        if !tx.update_user(&after).await? {
            return Err(CoreError::not_found("user", before.id.to_string()));
        }
        self.audit(
            tx.as_mut(),
            &caller.ctx,
            AuditEntry::new(AuditAction::UserUpdated, "user")
                .org(caller.org.id)
                .target(after.id.to_string())
                .before(crate::snapshot(&before))
                .after(crate::snapshot(&after)),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// The user withdraws their consent to an application (its refresh tokens go with it).
    pub async fn account_revoke_app(
        &self,
        caller: &AccountCaller,
        client_id: &str,
    ) -> CoreResult<()> {
        self.withdraw_consent_of(&caller.ctx, caller.org.id, caller.user.id, client_id)
            .await
    }

    /// Ends every other live session of the user (the applications with a back-channel
    /// logout URI hear of it); how many ended.
    pub async fn account_end_other_sessions(&self, caller: &AccountCaller) -> CoreResult<u64> {
        let (org, user) = (caller.org.id, caller.user.id);
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let mut n = 0;
        for s in tx.user_sessions(org, user, now).await? {
            if s.id_hash != caller.session_hash && tx.end_session(org, &s.id_hash, now).await? {
                n += 1;
            }
        }
        self.audit(
            tx.as_mut(),
            &caller.ctx,
            AuditEntry::new(AuditAction::UserSessionsEnded, "user")
                .org(org)
                .target(user.to_string())
                .after(Some(
                    serde_json::json!({"sessionsEnded": n, "kept": "current"}),
                )),
        )
        .await?;
        tx.commit().await?;
        self.wake_backchannel();
        Ok(n)
    }

    /// The signed-in user's own password, asked again before a change that matters (a new
    /// password, the second factor off): braked and counted like sign-in failures, so that a
    /// borrowed session cannot guess it. A wrong one is a 400 naming `field`.
    async fn check_own_password(
        &self,
        caller: &AccountCaller,
        presented: &str,
        field: &str,
    ) -> CoreResult<()> {
        let (org, user) = (caller.org.id, caller.user.id);
        let name = caller.user.username.as_str();
        if !self.limits.allow_login(org, name, None) {
            return Err(CoreError::invalid(
                field,
                "too many attempts: wait a minute and try again",
            ));
        }
        let stored = {
            let mut tx = self.store.read().await?;
            tx.find_user(org, user).await?
        }
        .and_then(|u| u.password_hash);
        let ok = match &stored {
            Some(phc) => self.verify_password(presented, phc).await,
            None => false,
        };
        if !ok {
            self.count_failures(&self.limits.login_failed(org, name, None))
                .await;
            return Err(CoreError::invalid(
                field,
                "the current password is not right",
            ));
        }
        Ok(())
    }

    /// The user changes their password: the current one first, the new one twice.
    pub async fn account_change_password(
        &self,
        caller: &AccountCaller,
        current: &str,
        new: &str,
        confirm: &str,
    ) -> CoreResult<()> {
        let (org, user) = (caller.org.id, caller.user.id);
        self.check_own_password(caller, current, "currentPassword")
            .await?;
        if new != confirm {
            return Err(CoreError::invalid(
                "confirmPassword",
                "the new password and its confirmation differ",
            ));
        }
        tessera_domain::user::check_password(new)
            .map_err(|e| CoreError::invalid("newPassword", e.message))?;
        let hash = self.hash_password(new.to_owned()).await?;
        let now = self.now();
        let mut tx = self.store.begin().await?;
        tx.set_password_hash(org, user, &hash, now).await?;
        self.audit(
            tx.as_mut(),
            &caller.ctx,
            AuditEntry::new(AuditAction::UserPasswordChanged, "user")
                .org(org)
                .target(user.to_string()),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Starts setting up the second factor (the secret to show once).
    pub async fn account_totp_start(&self, caller: &AccountCaller) -> CoreResult<TotpEnrolment> {
        self.start_totp_enrolment(&caller.org, caller.user.id, caller.user.username.as_str())
            .await
    }

    /// Confirms the second factor with its first code; the recovery codes to show once.
    pub async fn account_totp_confirm(
        &self,
        caller: &AccountCaller,
        code: &str,
    ) -> CoreResult<Vec<String>> {
        self.confirm_totp_enrolment(&caller.ctx, caller.org.id, caller.user.id, code)
            .await
    }

    /// Turns the second factor off, with the current password.
    pub async fn account_totp_remove(
        &self,
        caller: &AccountCaller,
        password: &secrecy::SecretString,
    ) -> CoreResult<()> {
        self.check_own_password(caller, password.expose_secret(), "password")
            .await?;
        self.remove_second_factor(&caller.ctx, caller.org.id, caller.user.id)
            .await?;
        Ok(())
    }
}
