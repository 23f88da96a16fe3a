//! The OAuth client registry: create, read, list and search, replace and patch, enable and
//! disable, delete, and secrets (generated, regenerated with an optional grace period, or
//! chosen by the operator).
//!
//! Generated secrets (`cs_live_` + 256 bits) are stored as a keyed SHA-256 and verified in
//! microseconds; operator-chosen secrets, whose entropy is unknown, are stored with argon2id.
//! A secret is returned once, by the call that made it, and never again. Audit pictures are
//! taken without secret metadata.

use secrecy::{ExposeSecret, SecretString};
use tessera_crypto::{generate_secret, secret_hint};
pub use tessera_domain::client::ClientPatch;
use tessera_domain::client::{
    ClientId, ClientInput, ClientSettings, OAuthClient, SecretInfo, TokenAuthMethod,
};
use tessera_domain::{AuditAction, FieldError, OrgId, Permission, Timestamp};
use tessera_store::{ClientQuery, ClientSecretRecord, StoreError, Tx};
use uuid::Uuid;

use crate::audit::AuditEntry;
use crate::cache::CHANGE_CLIENT;
use crate::{snapshot, Context, CoreError, CoreResult, Services};

/// The prefix of generated client secrets.
pub const CLIENT_SECRET_PREFIX: &str = "cs_live_";
/// Shortest operator-chosen secret.
pub const MIN_CHOSEN_SECRET_CHARS: usize = 16;
/// The shortest secret a `client_secret_jwt` client may choose (256 bits of base64).
pub const MIN_JWT_SECRET_CHARS: usize = 43;
/// Longest grace period for a replaced secret: 30 days.
pub const MAX_SECRET_GRACE_SECONDS: i64 = 2_592_000;
/// Largest page of the client list.
pub const MAX_CLIENT_PAGE: u32 = 200;

/// A change that may have produced a secret, which the caller shows once.
#[derive(Debug)]
pub struct ClientWithSecret {
    pub client: OAuthClient,
    pub secret: Option<SecretString>,
}

/// How to replace a client's secret.
#[derive(Debug, Default)]
pub struct SecretChange {
    /// Keep the previous secrets alive this many seconds (otherwise they die at once).
    pub previous_secret_valid_for: Option<i64>,
    /// An operator-chosen secret instead of a generated one.
    pub secret: Option<SecretString>,
}

fn client_not_found(id: &str) -> CoreError {
    CoreError::not_found("client", id)
}

/// The client id never changes: one in the body must be the client's own (a different one
/// is refused, not ignored).
fn same_id(id: &str, given: [(&str, Option<&str>); 2]) -> CoreResult<()> {
    match given.into_iter().find(|(_, v)| v.is_some_and(|v| v != id)) {
        Some((field, _)) => Err(CoreError::invalid(field, "the client id cannot be changed")),
        None => Ok(()),
    }
}

fn parse_client_id(id: &str) -> CoreResult<ClientId> {
    ClientId::parse(id).map_err(|_| client_not_found(id))
}

impl Services {
    /// Registers a client, with the id `input.client_id` or a generated one. A client that
    /// authenticates with a secret gets a generated one, returned once.
    pub async fn create_client(
        &self,
        ctx: &Context,
        org: &str,
        input: ClientInput,
    ) -> CoreResult<ClientWithSecret> {
        // A chosen secret is checked and hashed before the transaction: argon2id is slow on
        // purpose. (Permission is checked again inside, before anything else is said.)
        let chosen = match &input.secret {
            Some(s) => {
                {
                    let mut tx = self.store.read().await?;
                    self.org_for(tx.as_mut(), ctx, org, Some(Permission::OauthClientsCreate))
                        .await?;
                }
                let method = ClientSettings::validate(&input)
                    .map(|s| s.token_endpoint_auth_method)
                    .ok();
                check_chosen_secret(s.expose(), method)?;
                Some(self.hash_password(s.expose().to_owned()).await?)
            }
            None => None,
        };
        let mut tx = self.store.begin().await?;
        let made = self
            .create_client_with(tx.as_mut(), ctx, org, input, chosen)
            .await?;
        tx.commit().await?;
        self.client_created(&made.client);
        Ok(made)
    }

    /// After the transaction that created `client` committed.
    pub(crate) fn client_created(&self, client: &OAuthClient) {
        // A lookup of the id before it existed left "no such client" behind: dropped, here
        // and in every thread's front.
        self.caches.forget_client(client.org_id, client.id.as_str());
        self.caches.cors.invalidate(&client.org_id);
        tracing::info!(client_id = %client.id, "client created");
    }

    /// [`Self::create_client`] inside the caller's transaction, which commits it and then
    /// calls [`Self::client_created`].
    pub(crate) async fn create_client_in(
        &self,
        tx: &mut dyn Tx,
        ctx: &Context,
        org: &str,
        input: ClientInput,
    ) -> CoreResult<ClientWithSecret> {
        self.create_client_with(tx, ctx, org, input, None).await
    }

    /// [`Self::create_client_in`] with the hash of the secret the operator chose, if any.
    async fn create_client_with(
        &self,
        tx: &mut dyn Tx,
        ctx: &Context,
        org: &str,
        input: ClientInput,
        chosen_hash: Option<String>,
    ) -> CoreResult<ClientWithSecret> {
        // Permission first: who may not create learns nothing about the rules.
        let org = self
            .org_for(&mut *tx, ctx, org, Some(Permission::OauthClientsCreate))
            .await?;
        if input.id.is_some() {
            return Err(CoreError::invalid(
                "id",
                "is assigned by the server; use clientId to choose one",
            ));
        }
        let id = input.client_id.as_deref().map(ClientId::parse).transpose();
        let settings = ClientSettings::validate(&input);
        let (id, settings) = match (id, settings) {
            (Ok(id), Ok(s)) => (id.unwrap_or_else(ClientId::generate), s),
            (Err(e), Ok(_)) => return Err(e.into()),
            (Ok(_), Err(v)) => return Err(v.into()),
            (Err(e), Err(mut v)) => {
                v.errors.insert(0, e);
                return Err(v.into());
            }
        };
        // RFC 9068 §5: a client_credentials token's `sub` is the client id, a user's token's
        // `sub` the user id; one id must never name both.
        if names_a_user(&mut *tx, org.id, id.as_str()).await? {
            return Err(CoreError::invalid(
                "clientId",
                "is the id of a user of this organization, and an access token's sub would name both (RFC 9068 §5); choose another",
            ));
        }
        let now = self.now();
        let mut client = OAuthClient {
            org_id: org.id,
            id,
            settings,
            secrets: vec![],
            created_at: now,
            updated_at: now,
            tokens_revoked_at: None,
        };
        match tx.insert_client(&client).await {
            Err(StoreError::Conflict { .. }) => {
                return Err(CoreError::Conflict(format!(
                    "client id '{}' already exists in this organization",
                    client.id
                )))
            }
            other => other?,
        }
        let secret = match (
            client.settings.token_endpoint_auth_method.uses_secret(),
            &input.secret,
            chosen_hash,
        ) {
            // The operator's own secret: stored, not returned (they know it).
            (true, Some(chosen), Some(hash)) => {
                let info = SecretInfo {
                    id: Uuid::new_v4().to_string(),
                    hint: secret_hint(chosen.expose()),
                    created_at: client.created_at,
                    expires_at: None,
                    last_used_at: None,
                };
                let sealed = self.sealed_secret(&client, &info.id, chosen.expose())?;
                tx.insert_client_secret(&ClientSecretRecord {
                    org_id: client.org_id,
                    client_id: client.id.clone(),
                    info: info.clone(),
                    secret_hash: hash,
                    sealed,
                })
                .await?;
                client.secrets.push(info);
                None
            }
            (true, _, _) => {
                let (secret, info) = self.add_generated_secret(&mut *tx, &client, None).await?;
                client.secrets.push(info);
                Some(secret)
            }
            (false, Some(_), _) => {
                return Err(CoreError::invalid(
                    "secret",
                    "this client has no secret (a public or private_key_jwt client)",
                ))
            }
            (false, None, _) => None,
        };
        self.audit(
            &mut *tx,
            ctx,
            AuditEntry::new(AuditAction::OauthClientCreated, "oauth_client")
                .org(org.id)
                .target(client.id.to_string())
                .after(snapshot(&client.without_secrets())),
        )
        .await?;
        tx.record_change(Some(org.id), CHANGE_CLIENT, client.id.as_str(), now)
            .await?;
        Ok(ClientWithSecret { client, secret })
    }

    pub async fn get_client(&self, ctx: &Context, org: &str, id: &str) -> CoreResult<OAuthClient> {
        let mut tx = self.store.read().await?;
        let org = self
            .org_for(tx.as_mut(), ctx, org, Some(Permission::OauthClientsRead))
            .await?;
        let client = tx
            .find_client(org.id, &parse_client_id(id)?)
            .await?
            .ok_or_else(|| client_not_found(id))?;
        Ok(self.live_secrets_only(client))
    }

    /// One page of clients, newest first, and how many match in all.
    pub async fn list_clients(
        &self,
        ctx: &Context,
        org: &str,
        q: Option<String>,
        limit: u32,
        offset: u32,
        options: tessera_domain::client::ClientListOptions,
    ) -> CoreResult<(Vec<OAuthClient>, i64)> {
        crate::check_page_limit(limit, MAX_CLIENT_PAGE)?;
        let mut tx = self.store.read().await?;
        let org = self
            .org_for(tx.as_mut(), ctx, org, Some(Permission::OauthClientsRead))
            .await?;
        let q = tessera_domain::text::parse_search(q.as_deref(), "q")?;
        let (clients, total) = tx
            .list_clients(
                org.id,
                &ClientQuery {
                    q,
                    limit,
                    offset,
                    options,
                },
            )
            .await?;
        Ok((
            clients
                .into_iter()
                .map(|c| self.live_secrets_only(c))
                .collect(),
            total,
        ))
    }

    /// Replaces every editable setting (PUT).
    pub async fn replace_client(
        &self,
        ctx: &Context,
        org: &str,
        id: &str,
        input: ClientInput,
    ) -> CoreResult<ClientWithSecret> {
        same_id(id, input.ids())?;
        if input.secret.is_some() {
            return Err(CoreError::invalid(
                "secret",
                "is chosen on create; set a new one with POST …/oauth-clients/{client_id}/secret",
            ));
        }
        self.change_client(ctx, org, id, |_| Ok(input)).await
    }

    /// Changes the given settings only (PATCH), e.g. `isActive: false` to disable.
    pub async fn patch_client(
        &self,
        ctx: &Context,
        org: &str,
        id: &str,
        patch: ClientPatch,
    ) -> CoreResult<ClientWithSecret> {
        same_id(id, patch.ids())?;
        self.change_client(ctx, org, id, |current| Ok(patch.apply(current.to_input())))
            .await
    }

    async fn change_client(
        &self,
        ctx: &Context,
        org: &str,
        id: &str,
        new_input: impl FnOnce(&OAuthClient) -> CoreResult<ClientInput>,
    ) -> CoreResult<ClientWithSecret> {
        let client_id = parse_client_id(id)?;
        let mut tx = self.store.begin().await?;
        let org = self
            .org_for(tx.as_mut(), ctx, org, Some(Permission::OauthClientsEdit))
            .await?;
        let before = tx
            .find_client(org.id, &client_id)
            .await?
            .ok_or_else(|| client_not_found(id))?;
        let settings = ClientSettings::validate(&new_input(&before)?)?;
        let now = self.now();
        let mut after = OAuthClient {
            settings,
            updated_at: now,
            ..before.clone()
        };
        tx.update_client(&after).await?;

        // A public client and a private_key_jwt client hold no secret; a client that starts
        // authenticating with one gets one, shown once. One that starts signing with its
        // secret (client_secret_jwt) gets a new one too, since the old ones were kept only
        // hashed; and one that stops does, so that no sealed copy outlives the need.
        let mut secret = None;
        let uses_secret = |c: &OAuthClient| c.settings.token_endpoint_auth_method.uses_secret();
        let signs_with_secret = |c: &OAuthClient| {
            c.settings.token_endpoint_auth_method == TokenAuthMethod::ClientSecretJwt
        };
        let resealed = signs_with_secret(&after) != signs_with_secret(&before);
        if !uses_secret(&after) || resealed {
            for s in &before.secrets {
                tx.delete_client_secret(org.id, &s.id).await?;
            }
            after.secrets.clear();
        }
        if uses_secret(&after) && (!uses_secret(&before) || resealed) {
            let (s, info) = self.add_generated_secret(tx.as_mut(), &after, None).await?;
            after.secrets = vec![info];
            secret = Some(s);
        }

        let (b, a) = (before.without_secrets(), after.without_secrets());
        let active_changed = b.settings.is_active != a.settings.is_active;
        let mut other_changes = b.clone();
        other_changes.settings.is_active = a.settings.is_active;
        if other_changes.settings != a.settings {
            self.audit(
                tx.as_mut(),
                ctx,
                AuditEntry::new(AuditAction::OauthClientUpdated, "oauth_client")
                    .org(org.id)
                    .target(id)
                    .before(snapshot(&b))
                    .after(snapshot(&a)),
            )
            .await?;
        }
        if active_changed {
            let action = if a.settings.is_active {
                AuditAction::OauthClientEnabled
            } else {
                AuditAction::OauthClientDisabled
            };
            self.audit(
                tx.as_mut(),
                ctx,
                AuditEntry::new(action, "oauth_client")
                    .org(org.id)
                    .target(id)
                    .before(snapshot(
                        &serde_json::json!({"isActive": b.settings.is_active}),
                    ))
                    .after(snapshot(
                        &serde_json::json!({"isActive": a.settings.is_active}),
                    )),
            )
            .await?;
        }
        tx.record_change(Some(org.id), CHANGE_CLIENT, id, now)
            .await?;
        tx.commit().await?;
        self.caches.forget_client(org.id, id);
        self.caches.cors.invalidate(&org.id);
        Ok(ClientWithSecret {
            client: self.live_secrets_only(after),
            secret,
        })
    }

    /// Deletes a client and its secrets; every token it holds stops working.
    pub async fn delete_client(&self, ctx: &Context, org: &str, id: &str) -> CoreResult<()> {
        let client_id = parse_client_id(id)?;
        let mut tx = self.store.begin().await?;
        let org = self
            .org_for(tx.as_mut(), ctx, org, Some(Permission::OauthClientsDelete))
            .await?;
        let before = tx
            .find_client(org.id, &client_id)
            .await?
            .ok_or_else(|| client_not_found(id))?;
        tx.delete_client(org.id, &client_id).await?;
        self.audit(
            tx.as_mut(),
            ctx,
            AuditEntry::new(AuditAction::OauthClientDeleted, "oauth_client")
                .org(org.id)
                .target(id)
                .before(snapshot(&before.without_secrets())),
        )
        .await?;
        tx.record_change(Some(org.id), CHANGE_CLIENT, id, self.now())
            .await?;
        tx.commit().await?;
        self.caches.forget_client(org.id, id);
        self.caches.cors.invalidate(&org.id);
        Ok(())
    }

    /// Revokes every token of the client; the client stays. Its access tokens issued until now
    /// are inactive at once on every node (introspection, userinfo), its refresh tokens are
    /// revoked and its unredeemed codes spent. When it was done.
    pub async fn revoke_client_tokens(
        &self,
        ctx: &Context,
        org: &str,
        id: &str,
    ) -> CoreResult<Timestamp> {
        let client_id = parse_client_id(id)?;
        let mut tx = self.store.begin().await?;
        let org = self
            .org_for(tx.as_mut(), ctx, org, Some(Permission::OauthClientsEdit))
            .await?;
        let now = self.now();
        let refresh = tx
            .revoke_client_tokens(org.id, &client_id, now)
            .await?
            .ok_or_else(|| client_not_found(id))?;
        self.audit(
            tx.as_mut(),
            ctx,
            AuditEntry::new(AuditAction::OauthClientTokensRevoked, "oauth_client")
                .org(org.id)
                .target(id)
                .after(snapshot(&serde_json::json!({
                    "refreshTokensRevoked": refresh,
                }))),
        )
        .await?;
        tx.record_change(Some(org.id), CHANGE_CLIENT, id, now)
            .await?;
        tx.commit().await?;
        self.caches.forget_client(org.id, id);
        Ok(now)
    }

    /// A new secret for a confidential client: generated (and returned once) or chosen by the
    /// operator. The previous secrets die at once, or after `previous_secret_valid_for`.
    pub async fn change_client_secret(
        &self,
        ctx: &Context,
        org: &str,
        id: &str,
        change: SecretChange,
    ) -> CoreResult<ClientWithSecret> {
        let client_id = parse_client_id(id)?;
        // Permission first: who may not edit learns nothing about the rules.
        {
            let mut tx = self.store.read().await?;
            self.org_for(tx.as_mut(), ctx, org, Some(Permission::OauthClientsEdit))
                .await?;
        }
        let mut c = tessera_domain::error::Collector::new();
        if let Some(g) = change.previous_secret_valid_for {
            if !(1..=MAX_SECRET_GRACE_SECONDS).contains(&g) {
                c.push(FieldError::new(
                    "previousSecretValidFor",
                    format!("must be between 1 and {MAX_SECRET_GRACE_SECONDS} seconds"),
                ));
            }
        }
        if let Some(s) = &change.secret {
            if let Err(e) = secret_rules(s.expose_secret()) {
                c.push(e);
            }
        }
        c.finish()?;
        // Hash a chosen secret before the transaction: argon2id is slow on purpose.
        let chosen_hash = match &change.secret {
            Some(s) => Some(self.hash_password(s.expose_secret().to_owned()).await?),
            None => None,
        };

        let mut tx = self.store.begin().await?;
        let org = self
            .org_for(tx.as_mut(), ctx, org, Some(Permission::OauthClientsEdit))
            .await?;
        let mut client = tx
            .find_client(org.id, &client_id)
            .await?
            .ok_or_else(|| client_not_found(id))?;
        if !client.settings.is_confidential {
            return Err(CoreError::invalid(
                "isConfidential",
                "a public client has no secret; make it confidential first",
            ));
        }
        if let Some(s) = &change.secret {
            check_chosen_secret(
                s.expose_secret(),
                Some(client.settings.token_endpoint_auth_method),
            )?;
        }
        if !client.settings.token_endpoint_auth_method.uses_secret() {
            return Err(CoreError::invalid(
                "tokenEndpointAuthMethod",
                "a private_key_jwt client authenticates with its keys and has no secret",
            ));
        }
        let now = self.now();
        let grace_until = change
            .previous_secret_valid_for
            .map(|g| now + time::Duration::seconds(g));
        for old in tx.client_secrets(org.id, &client_id).await? {
            match grace_until {
                Some(until) if old.info.expires_at.is_none_or(|e| e > until) => {
                    tx.set_client_secret_expiry(org.id, &old.info.id, Some(until))
                        .await?;
                }
                Some(_) => {}
                None => {
                    tx.delete_client_secret(org.id, &old.info.id).await?;
                }
            }
        }
        let (secret, action) = match (chosen_hash, change.secret) {
            (Some(hash), Some(chosen)) => {
                let info = SecretInfo {
                    id: Uuid::new_v4().to_string(),
                    hint: secret_hint(chosen.expose_secret()),
                    created_at: now,
                    expires_at: None,
                    last_used_at: None,
                };
                let sealed = self.sealed_secret(&client, &info.id, chosen.expose_secret())?;
                tx.insert_client_secret(&ClientSecretRecord {
                    org_id: org.id,
                    client_id: client_id.clone(),
                    info,
                    secret_hash: hash,
                    sealed,
                })
                .await?;
                (None, AuditAction::OauthClientSecretSet)
            }
            _ => {
                let (s, _) = self
                    .add_generated_secret(tx.as_mut(), &client, None)
                    .await?;
                (Some(s), AuditAction::OauthClientSecretRegenerated)
            }
        };
        client.updated_at = now;
        tx.update_client(&client).await?;
        self.audit(
            tx.as_mut(),
            ctx,
            AuditEntry::new(action, "oauth_client")
                .org(org.id)
                .target(id)
                .after(snapshot(&serde_json::json!({
                    "previousSecretValidFor": change.previous_secret_valid_for,
                }))),
        )
        .await?;
        tx.record_change(Some(org.id), CHANGE_CLIENT, id, now)
            .await?;
        client.secrets = tx
            .client_secrets(org.id, &client_id)
            .await?
            .into_iter()
            .map(|s| s.info)
            .collect();
        tx.commit().await?;
        self.caches.forget_client(org.id, id);
        self.caches.cors.invalidate(&org.id);
        Ok(ClientWithSecret {
            client: self.live_secrets_only(client),
            secret,
        })
    }

    async fn add_generated_secret(
        &self,
        tx: &mut dyn Tx,
        client: &OAuthClient,
        expires_at: Option<Timestamp>,
    ) -> CoreResult<(SecretString, SecretInfo)> {
        let secret = generate_secret(self.rng.as_ref(), CLIENT_SECRET_PREFIX)
            .map_err(CoreError::internal)?;
        let info = SecretInfo {
            id: Uuid::new_v4().to_string(),
            hint: secret_hint(secret.expose_secret()),
            created_at: self.now(),
            expires_at,
            last_used_at: None,
        };
        tx.insert_client_secret(&ClientSecretRecord {
            org_id: client.org_id,
            client_id: client.id.clone(),
            info: info.clone(),
            secret_hash: self.client_hash.hash(secret.expose_secret()),
            sealed: self.sealed_secret(client, &info.id, secret.expose_secret())?,
        })
        .await?;
        Ok((secret, info))
    }

    /// The secret sealed by the vault, for a `client_secret_jwt` client: Tessera needs the
    /// secret itself to check an HMAC made with it. Other clients' secrets are kept only
    /// hashed.
    fn sealed_secret(
        &self,
        client: &OAuthClient,
        secret_id: &str,
        secret: &str,
    ) -> CoreResult<Option<String>> {
        if client.settings.token_endpoint_auth_method != TokenAuthMethod::ClientSecretJwt {
            return Ok(None);
        }
        let org = client.org_id.to_string();
        let row =
            crate::connections::cell(&org, tessera_store::SealedColumn::ClientSecret, secret_id);
        self.vault
            .seal(row, secret.as_bytes(), self.rng.as_ref())
            .map(Some)
            .map_err(CoreError::internal)
    }

    /// Expired secrets are history, not metadata a caller needs.
    fn live_secrets_only(&self, mut c: OAuthClient) -> OAuthClient {
        let now = self.now();
        c.secrets.retain(|s| s.expires_at.is_none_or(|e| e > now));
        c
    }
}

/// The rules of a secret an operator chooses: 16 to 512 characters without white space.
fn secret_rules(s: &str) -> Result<(), FieldError> {
    if s.chars().count() < MIN_CHOSEN_SECRET_CHARS || s.len() > 512 {
        Err(FieldError::new(
            "secret",
            format!("must be {MIN_CHOSEN_SECRET_CHARS} to 512 characters"),
        ))
    } else if s.chars().any(|ch| ch.is_control() || ch.is_whitespace()) {
        Err(FieldError::new("secret", "must not contain white space"))
    } else {
        Ok(())
    }
}

/// [`secret_rules`], and for a client that makes HMACs with it (`client_secret_jwt`) at least
/// [`MIN_JWT_SECRET_CHARS`]: an HMAC key of 256 bits (RFC 7518 §3.2), since a captured
/// assertion would let a weaker secret be guessed offline.
fn check_chosen_secret(s: &str, method: Option<TokenAuthMethod>) -> CoreResult<()> {
    secret_rules(s).map_err(|e| CoreError::invalid(&e.field, e.message))?;
    if method == Some(TokenAuthMethod::ClientSecretJwt) && s.chars().count() < MIN_JWT_SECRET_CHARS
    {
        return Err(CoreError::invalid(
            "secret",
            format!(
                "a client_secret_jwt client's secret must be at least {MIN_JWT_SECRET_CHARS} characters (an HMAC key of 256 bits, RFC 7518 §3.2)"
            ),
        ));
    }
    Ok(())
}

/// Whether `id` is, letter for letter, the id of a user of `org` (as a `sub` shows it).
pub(crate) async fn names_a_user(tx: &mut dyn Tx, org: OrgId, id: &str) -> CoreResult<bool> {
    match uuid::Uuid::parse_str(id) {
        Ok(u) if u.hyphenated().to_string() == id => Ok(tx
            .find_user(org, tessera_domain::UserId(u))
            .await?
            .is_some()),
        _ => Ok(false),
    }
}
