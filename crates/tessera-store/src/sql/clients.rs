//! The portable SQL of [`crate::ClientRepo`]; [`impl_clients_repo!`] stamps it out for one backend's
//! transaction type.

pub(crate) const CLIENT_COLS: &str = "org_id, id, name, description, is_confidential, \
     redirect_uris, post_logout_redirect_uris, allowed_cors_origins, allowed_scopes, grant_types, \
     is_active, require_pkce, require_consent, client_uri, logo_uri, access_token_lifetime, \
     refresh_token_lifetime, id_token_alg, token_exchange, access_token_alg, userinfo_alg, \
     token_endpoint_auth_method, jwks, jwks_uri, request_object_alg, security, created_at, updated_at";

pub(crate) const SECRET_COLS: &str =
    "id, org_id, client_id, secret_hash, hint, created_at, expires_at, last_used_at, sealed";

macro_rules! impl_clients_repo {
    ($tx:ident, $row:ty) => {
        mod clients_repo {
            use super::$tx;
            use $crate::sql::prelude::*;
            use $crate::sql::clients::*;

            fn client_row(r: &$row) -> Result<tessera_domain::client::OAuthClient> {
                use tessera_domain::client::{
                    ClientId, ClientSettings, CorsOrigin, GrantType, OAuthClient, RedirectUri, Scope,
                };
                let t = "oauth_clients";
                Ok(OAuthClient {
                    org_id: OrgId(uuid(t, &r.try_get::<String, _>("org_id")?)?),
                    id: ClientId::parse(&r.try_get::<String, _>("id")?).map_err(|e| corrupt(t, e))?,
                    settings: ClientSettings {
                        name: r.try_get("name")?,
                        description: r.try_get("description")?,
                        is_confidential: r.try_get("is_confidential")?,
                        redirect_uris: strings_from_json(t, &r.try_get::<String, _>("redirect_uris")?, RedirectUri::parse)?,
                        post_logout_redirect_uris: strings_from_json(
                            t,
                            &r.try_get::<String, _>("post_logout_redirect_uris")?,
                            RedirectUri::parse,
                        )?,
                        allowed_cors_origins: strings_from_json(
                            t,
                            &r.try_get::<String, _>("allowed_cors_origins")?,
                            CorsOrigin::parse,
                        )?,
                        allowed_scopes: strings_from_json(t, &r.try_get::<String, _>("allowed_scopes")?, Scope::parse)?,
                        grant_types: strings_from_json(t, &r.try_get::<String, _>("grant_types")?, GrantType::parse)?,
                        is_active: r.try_get("is_active")?,
                        require_pkce: r.try_get("require_pkce")?,
                        require_consent: r.try_get("require_consent")?,
                        client_uri: r.try_get("client_uri")?,
                        logo_uri: r.try_get("logo_uri")?,
                        access_token_lifetime: r.try_get("access_token_lifetime")?,
                        refresh_token_lifetime: r.try_get("refresh_token_lifetime")?,
                        id_token_signed_response_alg: tessera_domain::client::IdTokenAlg::parse(
                            &r.try_get::<String, _>("id_token_alg")?,
                        )
                        .map_err(|e| corrupt(t, e))?,
                        token_exchange: serde_json::from_str(&r.try_get::<String, _>("token_exchange")?)
                            .map_err(|e| corrupt(t, e))?,
                        access_token_signed_response_alg: tessera_domain::client::SigningAlg::parse(
                            &r.try_get::<String, _>("access_token_alg")?,
                        )
                        .map_err(|e| corrupt(t, e))?,
                        userinfo_signed_response_alg: r
                            .try_get::<Option<String>, _>("userinfo_alg")?
                            .map(|a| tessera_domain::client::SigningAlg::parse(&a))
                            .transpose()
                            .map_err(|e| corrupt(t, e))?,
                        // NULL in rows older than migration 0015: the default of the type.
                        token_endpoint_auth_method: match r
                            .try_get::<Option<String>, _>("token_endpoint_auth_method")?
                        {
                            Some(m) => tessera_domain::client::TokenAuthMethod::parse(&m)
                                .map_err(|e| corrupt(t, e))?,
                            None => tessera_domain::client::TokenAuthMethod::default_for(
                                r.try_get("is_confidential")?,
                            ),
                        },
                        jwks: match r.try_get::<Option<String>, _>("jwks")? {
                            Some(j) => Some(
                                serde_json::from_str(&j)
                                    .map_err(|e| corrupt(t, e))
                                    .and_then(|v| {
                                        tessera_domain::client::ClientJwks::parse(&v)
                                            .map_err(|e| corrupt(t, e))
                                    })?,
                            ),
                            None => None,
                        },
                        jwks_uri: r.try_get("jwks_uri")?,
                        request_object_signing_alg: r
                            .try_get::<Option<String>, _>("request_object_alg")?
                            .map(|a| tessera_domain::client::parse_request_object_alg(&a))
                            .transpose()
                            .map_err(|e| corrupt(t, e))?,
                        // NULL in rows older than migration 0023: every switch off.
                        security: match r.try_get::<Option<String>, _>("security")? {
                            Some(j) => serde_json::from_str(&j).map_err(|e| corrupt(t, e))?,
                            None => Default::default(),
                        },
                    },
                    secrets: vec![],
                    created_at: from_millis(r.try_get("created_at")?),
                    updated_at: from_millis(r.try_get("updated_at")?),
                    tokens_revoked_at: r
                        .try_get::<Option<i64>, _>("tokens_revoked_at")?
                        .map(from_millis),
                })
            }

            fn secret_row(r: &$row) -> Result<$crate::ClientSecretRecord> {
                let t = "oauth_client_secrets";
                Ok($crate::ClientSecretRecord {
                    org_id: OrgId(uuid(t, &r.try_get::<String, _>("org_id")?)?),
                    client_id: tessera_domain::client::ClientId::parse(&r.try_get::<String, _>("client_id")?)
                        .map_err(|e| corrupt(t, e))?,
                    info: tessera_domain::client::SecretInfo {
                        id: r.try_get("id")?,
                        hint: r.try_get("hint")?,
                        created_at: from_millis(r.try_get("created_at")?),
                        expires_at: r.try_get::<Option<i64>, _>("expires_at")?.map(from_millis),
                        last_used_at: r.try_get::<Option<i64>, _>("last_used_at")?.map(from_millis),
                    },
                    secret_hash: r.try_get("secret_hash")?,
                    sealed: r.try_get("sealed")?,
                })
            }

            /// The bind values of a client's settings, in `CLIENT_COLS` order from `name` on.
            macro_rules! bind_settings {
                ($q:expr, $c:expr) => {{
                    let s = &$c.settings;
                    $q.bind(&s.name)
                        .bind(s.description.as_deref())
                        .bind(s.is_confidential)
                        .bind(strings_to_json(&s.redirect_uris, |u| u.as_str()))
                        .bind(strings_to_json(&s.post_logout_redirect_uris, |u| u.as_str()))
                        .bind(strings_to_json(&s.allowed_cors_origins, |u| u.as_str()))
                        .bind(strings_to_json(&s.allowed_scopes, |u| u.as_str()))
                        .bind(strings_to_json(&s.grant_types, |g| g.as_str()))
                        .bind(s.is_active)
                        .bind(s.require_pkce)
                        .bind(s.require_consent)
                        .bind(s.client_uri.as_deref())
                        .bind(s.logo_uri.as_deref())
                        .bind(s.access_token_lifetime)
                        .bind(s.refresh_token_lifetime)
                        .bind(s.id_token_signed_response_alg.as_str())
                        .bind(serde_json::to_string(&s.token_exchange).unwrap_or_else(|_| "{}".into()))
                        .bind(s.access_token_signed_response_alg.as_str())
                        .bind(s.userinfo_signed_response_alg.map(|a| a.as_str()))
                        .bind(s.token_endpoint_auth_method.as_str())
                        .bind(s.jwks.as_ref().map(|j| j.as_json().to_string()))
                        .bind(s.jwks_uri.as_deref())
                        .bind(s.request_object_signing_alg.map(|a| a.as_str()))
                        .bind(serde_json::to_string(&s.security).unwrap_or_else(|_| "{}".into()))
                }};
            }

            #[async_trait]
            impl $crate::ClientRepo for $tx {
                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn insert_client(&mut self, c: &tessera_domain::client::OAuthClient) -> Result<()> {
                    let q = format!(
                        "INSERT INTO oauth_clients ({CLIENT_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, \
                         $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, \
                         $23, $24, $25, $26, $27, $28)"
                    );
                    let q = sqlx::query(&q).bind(c.org_id.0.to_string()).bind(c.id.as_str());
                    bind_settings!(q, c)
                        .bind(to_millis(c.created_at))
                        .bind(to_millis(c.updated_at))
                        .execute(&mut *self.tx)
                        .await?;
                    Ok(())
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn update_client(&mut self, c: &tessera_domain::client::OAuthClient) -> Result<bool> {
                    let q = sqlx::query(
                        "UPDATE oauth_clients SET name = $3, description = $4, is_confidential = $5, \
                         redirect_uris = $6, post_logout_redirect_uris = $7, allowed_cors_origins = $8, \
                         allowed_scopes = $9, grant_types = $10, is_active = $11, require_pkce = $12, \
                         require_consent = $13, client_uri = $14, logo_uri = $15, \
                         access_token_lifetime = $16, refresh_token_lifetime = $17, id_token_alg = $18, \
                         token_exchange = $19, access_token_alg = $20, userinfo_alg = $21, \
                         token_endpoint_auth_method = $22, jwks = $23, jwks_uri = $24, \
                         request_object_alg = $25, security = $26, updated_at = $27 \
                         WHERE org_id = $1 AND id = $2",
                    )
                    .bind(c.org_id.0.to_string())
                    .bind(c.id.as_str());
                    let done = bind_settings!(q, c)
                        .bind(to_millis(c.updated_at))
                        .execute(&mut *self.tx)
                        .await?;
                    Ok(done.rows_affected() == 1)
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn find_client(
                    &mut self,
                    org: OrgId,
                    id: &tessera_domain::client::ClientId,
                ) -> Result<Option<tessera_domain::client::OAuthClient>> {
                    Ok(self.find_client_with_secrets(org, id).await?.map(|(mut client, secrets)| {
                        client.secrets = secrets.into_iter().map(|s| s.info).collect();
                        client
                    }))
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn find_client_with_secrets(
                    &mut self,
                    org: OrgId,
                    id: &tessera_domain::client::ClientId,
                ) -> Result<Option<(tessera_domain::client::OAuthClient, Vec<$crate::ClientSecretRecord>)>> {
                    let q = format!("SELECT {CLIENT_COLS}, tokens_revoked_at FROM oauth_clients WHERE org_id = $1 AND id = $2");
                    let Some(row) = sqlx::query(&q)
                        .bind(org.0.to_string())
                        .bind(id.as_str())
                        .fetch_optional(&mut *self.tx)
                        .await?
                    else {
                        return Ok(None);
                    };
                    let client = client_row(&row)?;
                    let secrets = self.client_secrets(org, id).await?;
                    Ok(Some((client, secrets)))
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn list_clients(
                    &mut self,
                    org: OrgId,
                    query: &$crate::ClientQuery,
                ) -> Result<(Vec<tessera_domain::client::OAuthClient>, i64)> {
                    use tessera_domain::client::ClientSortKey;
                    let pattern = query.q.as_deref().filter(|q| !q.is_empty()).map(like_pattern);
                    let o = &query.options;
                    // Grant types are kept as a JSON array of strings.
                    let grant = o.grant_type.map(|g| format!("%\"{}\"%", g.as_str()));
                    let filter = "org_id = $1 AND ($2 IS NULL OR lower(id) LIKE $2 ESCAPE '\\' \
                                  OR lower(name) LIKE $2 ESCAPE '\\') \
                                  AND ($3 IS NULL OR is_active = $3) \
                                  AND ($4 IS NULL OR is_confidential = $4) \
                                  AND ($5 IS NULL OR grant_types LIKE $5)";
                    let total: i64 = sqlx::query(&format!("SELECT COUNT(*) AS n FROM oauth_clients WHERE {filter}"))
                        .bind(org.0.to_string())
                        .bind(pattern.as_deref())
                        .bind(o.is_active)
                        .bind(o.confidential)
                        .bind(grant.as_deref())
                        .fetch_one(&mut *self.tx)
                        .await?
                        .try_get("n")?;
                    let key = match o.sort.key {
                        ClientSortKey::Name => "lower(name)",
                        ClientSortKey::CreatedAt => "created_at",
                        ClientSortKey::UpdatedAt => "updated_at",
                        ClientSortKey::LastUsedAt => {
                            "(SELECT MAX(s.last_used_at) FROM oauth_client_secrets s \
                             WHERE s.org_id = oauth_clients.org_id AND s.client_id = oauth_clients.id)"
                        }
                    };
                    let dir = if o.sort.descending { "DESC" } else { "ASC" };
                    // Clients without a value (never used) last either way, on both backends.
                    let q = format!(
                        "SELECT {CLIENT_COLS}, tokens_revoked_at FROM oauth_clients WHERE {filter} \
                         ORDER BY ({key} IS NULL), {key} {dir}, id {dir} LIMIT $6 OFFSET $7"
                    );
                    let mut clients = sqlx::query(&q)
                        .bind(org.0.to_string())
                        .bind(pattern.as_deref())
                        .bind(o.is_active)
                        .bind(o.confidential)
                        .bind(grant.as_deref())
                        .bind(i64::from(query.limit))
                        .bind(i64::from(query.offset))
                        .fetch_all(&mut *self.tx)
                        .await?
                        .iter()
                        .map(client_row)
                        .collect::<Result<Vec<_>>>()?;
                    if !clients.is_empty() {
                        // One query for the secrets of the whole page.
                        let marks: Vec<String> = (0..clients.len()).map(|i| format!("${}", i + 2)).collect();
                        let q = format!(
                            "SELECT {SECRET_COLS} FROM oauth_client_secrets WHERE org_id = $1 \
                             AND client_id IN ({}) ORDER BY created_at, id",
                            marks.join(", ")
                        );
                        let mut sq = sqlx::query(&q).bind(org.0.to_string());
                        for c in &clients {
                            sq = sq.bind(c.id.as_str().to_owned());
                        }
                        for row in sq.fetch_all(&mut *self.tx).await? {
                            let s = secret_row(&row)?;
                            if let Some(c) = clients.iter_mut().find(|c| c.id == s.client_id) {
                                c.secrets.push(s.info);
                            }
                        }
                    }
                    Ok((clients, total))
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn cors_origins(&mut self, org: OrgId) -> Result<Vec<String>> {
                    let rows = sqlx::query(
                        "SELECT allowed_cors_origins FROM oauth_clients WHERE org_id = $1 \
                         AND allowed_cors_origins <> '[]'",
                    )
                    .bind(org.0.to_string())
                    .fetch_all(&mut *self.tx)
                    .await?;
                    let mut out: Vec<String> = vec![];
                    for r in rows {
                        let list: Vec<String> = serde_json::from_str(&r.try_get::<String, _>("allowed_cors_origins")?)
                            .map_err(|e| corrupt("oauth_clients", e))?;
                        for o in list {
                            if !out.contains(&o) {
                                out.push(o);
                            }
                        }
                    }
                    Ok(out)
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn revoke_client_tokens(
                    &mut self,
                    org: OrgId,
                    id: &tessera_domain::client::ClientId,
                    at: Timestamp,
                ) -> Result<Option<u64>> {
                    let found = sqlx::query(
                        "UPDATE oauth_clients SET tokens_revoked_at = $3 WHERE org_id = $1 AND id = $2",
                    )
                    .bind(org.0.to_string())
                    .bind(id.as_str())
                    .bind(to_millis(at))
                    .execute(&mut *self.tx)
                    .await?
                    .rows_affected();
                    if found == 0 {
                        return Ok(None);
                    }
                    let refresh = sqlx::query(
                        "UPDATE refresh_tokens SET revoked_at = $3 WHERE org_id = $1 AND client_id = $2 \
                         AND revoked_at IS NULL",
                    )
                    .bind(org.0.to_string())
                    .bind(id.as_str())
                    .bind(to_millis(at))
                    .execute(&mut *self.tx)
                    .await?
                    .rows_affected();
                    sqlx::query(
                        "UPDATE auth_codes SET redeemed_at = $3 WHERE org_id = $1 AND client_id = $2 \
                         AND redeemed_at IS NULL",
                    )
                    .bind(org.0.to_string())
                    .bind(id.as_str())
                    .bind(to_millis(at))
                    .execute(&mut *self.tx)
                    .await?;
                    Ok(Some(refresh))
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn delete_client(&mut self, org: OrgId, id: &tessera_domain::client::ClientId) -> Result<bool> {
                    // Everything the client was granted goes with it: a client created later with
                    // the same id must not inherit its refresh tokens, consents or codes.
                    for table in [
                        "oauth_client_secrets",
                        "refresh_tokens",
                        "consents",
                        "auth_codes",
                        "device_codes",
                    ] {
                        sqlx::query(&format!(
                            "DELETE FROM {table} WHERE org_id = $1 AND client_id = $2"
                        ))
                        .bind(org.0.to_string())
                        .bind(id.as_str())
                        .execute(&mut *self.tx)
                        .await?;
                    }
                    let done = sqlx::query("DELETE FROM oauth_clients WHERE org_id = $1 AND id = $2")
                        .bind(org.0.to_string())
                        .bind(id.as_str())
                        .execute(&mut *self.tx)
                        .await?;
                    Ok(done.rows_affected() == 1)
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn insert_client_secret(&mut self, s: &$crate::ClientSecretRecord) -> Result<()> {
                    let q = format!(
                        "INSERT INTO oauth_client_secrets ({SECRET_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
                    );
                    sqlx::query(&q)
                        .bind(&s.info.id)
                        .bind(s.org_id.0.to_string())
                        .bind(s.client_id.as_str())
                        .bind(&s.secret_hash)
                        .bind(&s.info.hint)
                        .bind(to_millis(s.info.created_at))
                        .bind(s.info.expires_at.map(to_millis))
                        .bind(s.info.last_used_at.map(to_millis))
                        .bind(s.sealed.as_deref())
                        .execute(&mut *self.tx)
                        .await?;
                    Ok(())
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn client_secrets(
                    &mut self,
                    org: OrgId,
                    id: &tessera_domain::client::ClientId,
                ) -> Result<Vec<$crate::ClientSecretRecord>> {
                    let q = format!(
                        "SELECT {SECRET_COLS} FROM oauth_client_secrets WHERE org_id = $1 AND client_id = $2 \
                         ORDER BY created_at, id"
                    );
                    sqlx::query(&q)
                        .bind(org.0.to_string())
                        .bind(id.as_str())
                        .fetch_all(&mut *self.tx)
                        .await?
                        .iter()
                        .map(secret_row)
                        .collect()
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn delete_client_secret(&mut self, org: OrgId, secret_id: &str) -> Result<bool> {
                    let done = sqlx::query("DELETE FROM oauth_client_secrets WHERE org_id = $1 AND id = $2")
                        .bind(org.0.to_string())
                        .bind(secret_id)
                        .execute(&mut *self.tx)
                        .await?;
                    Ok(done.rows_affected() == 1)
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn set_client_secret_expiry(
                    &mut self,
                    org: OrgId,
                    secret_id: &str,
                    expires_at: Option<Timestamp>,
                ) -> Result<()> {
                    sqlx::query("UPDATE oauth_client_secrets SET expires_at = $3 WHERE org_id = $1 AND id = $2")
                        .bind(org.0.to_string())
                        .bind(secret_id)
                        .bind(expires_at.map(to_millis))
                        .execute(&mut *self.tx)
                        .await?;
                    Ok(())
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn touch_client_secret(&mut self, org: OrgId, secret_id: &str, at: Timestamp) -> Result<()> {
                    sqlx::query("UPDATE oauth_client_secrets SET last_used_at = $3 WHERE org_id = $1 AND id = $2")
                        .bind(org.0.to_string())
                        .bind(secret_id)
                        .bind(to_millis(at))
                        .execute(&mut *self.tx)
                        .await?;
                    Ok(())
                }
            }
        }
    };
}

pub(crate) use impl_clients_repo;
