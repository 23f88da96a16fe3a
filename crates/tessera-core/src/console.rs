//! The console's sessions. The console is an ordinary OAuth client of Tessera itself: it signs
//! people in through an organization's authorization endpoint with its own public client
//! (`tessera-console`, code + PKCE, RFC 7636), then keeps a browser session of its own.
//!
//! Nothing of a pending sign-in is stored: the `state` travels in a cookie and in the
//! redirect, and the PKCE verifier is a keyed hash of it, so only this server can make it.
//! A session may hold sign-ins in several organizations (a person with accounts in each); the
//! organization the console shows is kept in the session. System administrators may show any.
//!
//! Every request re-reads the user: a deactivated member or a removed role takes effect on
//! the next click, not at the session's end.

use tessera_crypto::random::random_bytes;
use tessera_domain::{
    AuditAction, Organization, Permission, PermissionSet, Principal, PrincipalKind, User, UserId,
};
use tessera_store::{ConsoleLogin, ConsoleSession};

use crate::audit::AuditEntry;
use crate::orgs::DEFAULT_CONSOLE_CLIENT;
use crate::tokens::{ClientAuth, OAuthError};
use crate::{Context, CoreError, CoreResult, Services};

/// How long a console session lasts from sign-in.
pub const CONSOLE_SESSION_HOURS: i64 = 12;

/// Where a console sign-in returns to (relative to the public URL).
pub const CONSOLE_CALLBACK_PATH: &str = "/login/callback";

/// The first step of a sign-in: where to send the browser, and the state to remember.
#[derive(Debug, Clone)]
pub struct ConsoleSignIn {
    pub authorize_url: String,
    /// Kept in a short-lived cookie and compared with the `state` that comes back.
    pub state: String,
}

/// A signed-in console request: who, in which organization, and what else they may show.
#[derive(Debug, Clone)]
pub struct ConsoleCaller {
    pub ctx: Context,
    pub user: User,
    /// The organization shown.
    pub org: Organization,
    /// The organizations the switcher offers (every one for a system administrator).
    pub orgs: Vec<Organization>,
    /// The token every form of this session carries.
    pub csrf: String,
}

impl ConsoleCaller {
    /// Whether the caller holds `p` in the organization shown (buttons are drawn only then).
    pub fn can(&self, p: Permission) -> bool {
        self.ctx.principal.has(self.org.id, p)
    }
}

/// What switching organizations leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Switch {
    Switched,
    /// The person has no sign-in there yet: send them through that organization's login.
    SignInFirst(String),
}

impl Services {
    /// The console's redirect URI, as registered on every organization's console client.
    pub fn console_redirect_uri(&self) -> String {
        format!("{}{CONSOLE_CALLBACK_PATH}", self.config.public_url)
    }

    /// The PKCE verifier of a sign-in: a keyed hash of its state (43 base64url characters).
    fn console_verifier(&self, state: &str) -> String {
        let h = self.handle_hash.hash(&format!("console-pkce:{state}"));
        h.rsplit('$').next().unwrap_or_default().to_owned()
    }

    /// The CSRF token of a session: a keyed hash of its cookie, so it needs no storage.
    pub fn console_csrf(&self, cookie: &str) -> String {
        let h = self.handle_hash.hash(&format!("console-csrf:{cookie}"));
        h.rsplit('$').next().unwrap_or_default().to_owned()
    }

    fn console_session_hash(&self, cookie: &str) -> String {
        self.handle_hash.hash(&format!("console-session:{cookie}"))
    }

    fn random_token(&self) -> CoreResult<String> {
        use base64::Engine;
        let b: [u8; 32] = random_bytes(self.rng.as_ref()).map_err(CoreError::internal)?;
        Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b))
    }

    /// Starts a sign-in to `org`: the authorization request of the console client.
    pub async fn console_sign_in(&self, org_slug: &str) -> CoreResult<ConsoleSignIn> {
        let org = self
            .protocol_org(org_slug)
            .await
            .map_err(|_| CoreError::not_found("organization", org_slug))?;
        // Started on another public URL, Tessera points its own console client here.
        self.follow_public_url(
            &org,
            DEFAULT_CONSOLE_CLIENT,
            &self.console_redirect_uri(),
            Some(&format!("{}/login", self.config.public_url)),
        )
        .await?;
        let state = self.random_token()?;
        let challenge = tessera_connect::oauth::pkce_challenge(&self.console_verifier(&state));
        let mut url = url::Url::parse(&format!(
            "{}/api/v1/oauth/authorize",
            self.issuer(&org.slug)
        ))
        .map_err(CoreError::internal)?;
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", DEFAULT_CONSOLE_CLIENT)
            .append_pair("redirect_uri", &self.console_redirect_uri())
            .append_pair("scope", "openid profile")
            .append_pair("state", &state)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256")
            // The password every time: signing out of the console must not leave a sign-in
            // session at the organization that signs the next person in without one.
            .append_pair("prompt", "login");
        Ok(ConsoleSignIn {
            authorize_url: url.into(),
            state,
        })
    }

    /// Finishes a sign-in: redeems the code (with the verifier only this server can make),
    /// checks that the person may enter the console (`admin:access`), and adds the sign-in to
    /// the browser's session, or starts one. Returns the session cookie to set.
    pub async fn console_finish_sign_in(
        self: &std::sync::Arc<Self>,
        ctx_origin: &Context,
        org_slug: &str,
        code: &str,
        state: &str,
        existing_cookie: Option<&str>,
    ) -> CoreResult<String> {
        let verifier = self.console_verifier(state);
        let auth = ClientAuth::public(DEFAULT_CONSOLE_CLIENT);
        let redirect = self.console_redirect_uri();
        let failed = |e: OAuthError| match e {
            OAuthError::ServerError(m) => CoreError::internal(m),
            OAuthError::TemporarilyUnavailable(m) => CoreError::Unavailable(m),
            other => CoreError::Unauthenticated(format!("the sign-in failed: {other}")),
        };
        let org = self.protocol_org(org_slug).await.map_err(failed)?;
        let tokens = self
            .authorization_code(&org, &auth, code, Some(&redirect), Some(&verifier), &[])
            .await
            .map_err(failed)?;
        let claims = self
            .active_claims(&org, &tokens.access_token)
            .await
            .map_err(CoreError::internal)?
            .ok_or_else(|| CoreError::Unauthenticated("the sign-in failed".into()))?;
        let user_id = uuid::Uuid::parse_str(&claims.sub)
            .ok()
            .map(UserId)
            .ok_or_else(|| CoreError::Unauthenticated("the sign-in named no user".into()))?;

        let now = self.now();
        let mut tx = self.store.begin().await?;
        // Housekeeping on the way: sessions that ended or expired a day ago go.
        tx.purge_console_sessions(now - time::Duration::days(1))
            .await?;
        let user = tx
            .find_user(org.id, user_id)
            .await?
            .filter(|u| u.user.is_active)
            .ok_or_else(|| CoreError::Unauthenticated("this account is deactivated".into()))?
            .user;
        let principal = self.user_principal(tx.as_mut(), &user).await?;
        if !principal.has(org.id, Permission::AdminAccess) {
            return Err(CoreError::Forbidden(Permission::AdminAccess));
        }
        // An organization may require two-step verification of everyone who administers it;
        // a member who has it was asked for the code by this very sign-in (`prompt=login`).
        let policy = crate::mfa::SecurityPolicy::from_stored(
            tx.find_security_policy(org.id).await?.as_deref(),
        )?;
        if policy.require_second_factor_for_admins
            && tx
                .find_totp(org.id, user.id)
                .await?
                .is_none_or(|t| t.confirmed_at.is_none())
        {
            return Err(CoreError::Unauthenticated(format!(
                "{} requires two-step verification of its administrators: set it up on your account page, {}/account, then sign in again",
                org.name,
                self.issuer(&org.slug)
            )));
        }
        // Always a fresh cookie (a cookie from before the sign-in is never promoted, so it
        // cannot be fixated). The sign-ins of the browser's live session, if any, move over to
        // the new session and the old one ends.
        let earlier = match existing_cookie {
            Some(c) => {
                let hash = self.console_session_hash(c);
                match tx
                    .find_console_session(&hash)
                    .await?
                    .filter(|s| s.ended_at.is_none() && s.expires_at > now)
                {
                    Some(s) => tx.list_console_logins(&s.id_hash).await?,
                    None => Vec::new(),
                }
                .into_iter()
                .map(|l| (hash.clone(), l))
                .collect::<Vec<_>>()
            }
            None => Vec::new(),
        };
        let cookie = self.random_token()?;
        let session = ConsoleSession {
            id_hash: self.console_session_hash(&cookie),
            current_org: Some(org.id),
            created_at: now,
            expires_at: now + time::Duration::hours(CONSOLE_SESSION_HOURS),
            ended_at: None,
        };
        tx.insert_console_session(&session).await?;
        if let Some((old_hash, _)) = earlier.first() {
            tx.end_console_session(old_hash, now).await?;
        }
        for (_, l) in earlier.into_iter().filter(|(_, l)| l.org_id != org.id) {
            tx.upsert_console_login(&ConsoleLogin {
                session_hash: session.id_hash.clone(),
                ..l
            })
            .await?;
        }
        tx.upsert_console_login(&ConsoleLogin {
            session_hash: session.id_hash.clone(),
            org_id: org.id,
            user_id: user.id,
            auth_time: now,
            created_at: now,
        })
        .await?;
        let ctx = Context {
            principal,
            ip: ctx_origin.ip.clone(),
            request_id: ctx_origin.request_id.clone(),
        };
        self.audit(
            tx.as_mut(),
            &ctx,
            AuditEntry::new(AuditAction::ConsoleSignedIn, "user")
                .org(org.id)
                .target(user.id.to_string()),
        )
        .await?;
        tx.commit().await?;
        Ok(cookie)
    }

    /// The principal of a user: the permissions of their roles in their organization, or
    /// every permission everywhere for a system administrator.
    pub(crate) async fn user_principal(
        &self,
        tx: &mut dyn tessera_store::Tx,
        user: &User,
    ) -> CoreResult<Principal> {
        let permissions = if user.is_system_admin {
            PermissionSet::all()
        } else {
            self.role_permissions(tx, user.org_id, &user.roles).await?
        };
        Ok(Principal {
            kind: PrincipalKind::User(user.id),
            name: user.username.as_str().to_owned(),
            org_id: Some(user.org_id),
            is_system_admin: user.is_system_admin,
            permissions,
        })
    }

    /// The console caller of a session cookie, or `Unauthenticated` (signed out, expired,
    /// deactivated, or no longer allowed in).
    pub async fn console_caller(
        &self,
        cookie: &str,
        ip: Option<String>,
        request_id: Option<String>,
    ) -> CoreResult<ConsoleCaller> {
        self.console_caller_in(cookie, None, ip, request_id).await
    }

    /// The same, acting in `org` (by slug) when the session may show it, rather than in the
    /// organization shown: an admin API call on the cookie names its organization in the path,
    /// and another tab switching organizations must not change what it acts as.
    pub async fn console_caller_in(
        &self,
        cookie: &str,
        org_slug: Option<&str>,
        ip: Option<String>,
        request_id: Option<String>,
    ) -> CoreResult<ConsoleCaller> {
        let gone = || CoreError::Unauthenticated("the console session has ended".into());
        let now = self.now();
        let hash = self.console_session_hash(cookie);
        let mut tx = self.store.read().await?;
        let session = tx
            .find_console_session(&hash)
            .await?
            .filter(|s| s.ended_at.is_none() && s.expires_at > now)
            .ok_or_else(gone)?;
        // Every sign-in of the session whose person is still active and still allowed in.
        let mut signed_in: Vec<(User, Principal)> = Vec::new();
        for login in tx.list_console_logins(&hash).await? {
            let Some(rec) = tx.find_user(login.org_id, login.user_id).await? else {
                continue;
            };
            if !rec.user.is_active {
                continue;
            }
            let p = self.user_principal(tx.as_mut(), &rec.user).await?;
            if p.has(login.org_id, Permission::AdminAccess) {
                signed_in.push((rec.user, p));
            }
        }
        let admin = signed_in.iter().find(|(u, _)| u.is_system_admin).cloned();
        // The switcher's list: every organization for a system administrator; otherwise only
        // the signed-in ones, read by id (not every organization on every request).
        let orgs: Vec<Organization> = if admin.is_some() {
            tx.list_orgs().await?
        } else {
            let mut orgs = Vec::with_capacity(signed_in.len());
            for (u, _) in &signed_in {
                if let Some(o) = tx.find_org(u.org_id).await? {
                    orgs.push(o);
                }
            }
            orgs
        };
        let org = org_slug
            .and_then(|slug| orgs.iter().find(|o| o.slug.as_str() == slug).cloned())
            .or_else(|| {
                session
                    .current_org
                    .and_then(|id| orgs.iter().find(|o| o.id == id).cloned())
            })
            .or_else(|| orgs.first().cloned())
            .ok_or_else(gone)?;
        // Act as the sign-in of the organization shown; a system administrator's anywhere.
        let (user, principal) = signed_in
            .iter()
            .find(|(u, _)| u.org_id == org.id)
            .cloned()
            .or(admin)
            .ok_or_else(gone)?;
        Ok(ConsoleCaller {
            ctx: Context {
                principal,
                ip,
                request_id,
            },
            user,
            org,
            orgs,
            csrf: self.console_csrf(cookie),
        })
    }

    /// Shows another organization, if the session may; otherwise says to sign in there.
    /// `caller` is this session's, as the request already read it.
    pub async fn console_switch(
        &self,
        cookie: &str,
        caller: &ConsoleCaller,
        org_slug: &str,
    ) -> CoreResult<Switch> {
        let Some(target) = caller.orgs.iter().find(|o| o.slug.as_str() == org_slug) else {
            // Not signed in there (or no such organization: the login page will say so).
            return Ok(Switch::SignInFirst(org_slug.to_owned()));
        };
        let mut tx = self.store.begin().await?;
        tx.set_console_org(&self.console_session_hash(cookie), target.id)
            .await?;
        tx.commit().await?;
        Ok(Switch::Switched)
    }

    /// Ends the session (every organization's sign-in in it).
    pub async fn console_sign_out(&self, cookie: &str) -> CoreResult<()> {
        let caller = self.console_caller(cookie, None, None).await.ok();
        let mut tx = self.store.begin().await?;
        let ended = tx
            .end_console_session(&self.console_session_hash(cookie), self.now())
            .await?;
        if let (true, Some(c)) = (ended, caller) {
            self.audit(
                tx.as_mut(),
                &c.ctx,
                AuditEntry::new(AuditAction::ConsoleSignedOut, "user")
                    .org(c.org.id)
                    .target(c.user.id.to_string()),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
