//! The portable SQL of [`crate::UserRepo`]; [`impl_users_repo!`] stamps it out for one backend's
//! transaction type.

pub(crate) const USER_COLS: &str = "id, org_id, username, email, name, password_hash, roles, \
     is_system_admin, is_active, created_at, updated_at, profile";

macro_rules! impl_users_repo {
    ($tx:ident, $row:ty) => {
        mod users_repo {
            use super::$tx;
            use $crate::sql::prelude::*;
            use $crate::sql::users::*;

            fn user_row(r: &$row) -> Result<UserRecord> {
                let t = "users";
                let email: Option<String> = r.try_get("email")?;
                Ok(UserRecord {
                    user: User {
                        id: UserId(uuid(t, &r.try_get::<String, _>("id")?)?),
                        org_id: OrgId(uuid(t, &r.try_get::<String, _>("org_id")?)?),
                        username: Username::parse(&r.try_get::<String, _>("username")?)
                            .map_err(|e| corrupt(t, e))?,
                        email: email
                            .map(|e| Email::parse(&e).map_err(|e| corrupt(t, e)))
                            .transpose()?,
                        name: r.try_get("name")?,
                        profile: serde_json::from_str(&r.try_get::<String, _>("profile")?)
                            .map_err(|e| corrupt(t, e))?,
                        roles: roles_from_json(t, &r.try_get::<String, _>("roles")?)?,
                        is_system_admin: r.try_get("is_system_admin")?,
                        is_active: r.try_get("is_active")?,
                        created_at: from_millis(r.try_get("created_at")?),
                        updated_at: from_millis(r.try_get("updated_at")?),
                    },
                    password_hash: r.try_get("password_hash")?,
                })
            }

            fn role_row(r: &$row) -> Result<CustomRole> {
                let t = "roles";
                Ok(CustomRole {
                    org_id: OrgId(uuid(t, &r.try_get::<String, _>("org_id")?)?),
                    name: RoleName::parse(&r.try_get::<String, _>("name")?)
                        .map_err(|e| corrupt(t, e))?,
                    permissions: perms_from_json(t, &r.try_get::<String, _>("permissions")?)?,
                    created_at: from_millis(r.try_get("created_at")?),
                })
            }

            #[async_trait]
            impl $crate::UserRepo for $tx {
                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn insert_user(
                    &mut self,
                    u: &User,
                    password_hash: Option<&str>,
                ) -> Result<()> {
                    let q = format!(
                        "INSERT INTO users ({USER_COLS}) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
                    );
                    sqlx::query(&q)
                        .bind(u.id.0.to_string())
                        .bind(u.org_id.0.to_string())
                        .bind(u.username.as_str())
                        .bind(u.email.as_ref().map(Email::as_str))
                        .bind(u.name.as_deref())
                        .bind(password_hash)
                        .bind(roles_to_json(&u.roles))
                        .bind(u.is_system_admin)
                        .bind(u.is_active)
                        .bind(to_millis(u.created_at))
                        .bind(to_millis(u.updated_at))
                        .bind(serde_json::to_string(&u.profile).unwrap_or_else(|_| "{}".into()))
                        .execute(&mut *self.tx)
                        .await?;
                    Ok(())
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn find_user(
                    &mut self,
                    org: OrgId,
                    id: UserId,
                ) -> Result<Option<UserRecord>> {
                    let q = format!("SELECT {USER_COLS} FROM users WHERE org_id = $1 AND id = $2");
                    sqlx::query(&q)
                        .bind(org.0.to_string())
                        .bind(id.0.to_string())
                        .fetch_optional(&mut *self.tx)
                        .await?
                        .map(|r| user_row(&r))
                        .transpose()
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn find_user_by_username(
                    &mut self,
                    org: OrgId,
                    username: &Username,
                ) -> Result<Option<UserRecord>> {
                    let q = format!(
                        "SELECT {USER_COLS} FROM users WHERE org_id = $1 AND username = $2"
                    );
                    sqlx::query(&q)
                        .bind(org.0.to_string())
                        .bind(username.as_str())
                        .fetch_optional(&mut *self.tx)
                        .await?
                        .map(|r| user_row(&r))
                        .transpose()
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn list_users(&mut self, org: OrgId) -> Result<Vec<User>> {
                    let q = format!(
                        "SELECT {USER_COLS} FROM users WHERE org_id = $1 ORDER BY username"
                    );
                    sqlx::query(&q)
                        .bind(org.0.to_string())
                        .fetch_all(&mut *self.tx)
                        .await?
                        .iter()
                        .map(|r| user_row(r).map(|u| u.user))
                        .collect()
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn update_user(&mut self, u: &User) -> Result<bool> {
                    // Username, system administration, creation time and password hash are not
                    // editable here: they are not written.
                    let done = sqlx::query(
                        "UPDATE users SET email = $3, name = $4, roles = $5, is_active = $6, \
                         updated_at = $7, profile = $8 WHERE org_id = $1 AND id = $2",
                    )
                    .bind(u.org_id.0.to_string())
                    .bind(u.id.0.to_string())
                    .bind(u.email.as_ref().map(Email::as_str))
                    .bind(u.name.as_deref())
                    .bind(roles_to_json(&u.roles))
                    .bind(u.is_active)
                    .bind(to_millis(u.updated_at))
                    .bind(serde_json::to_string(&u.profile).unwrap_or_else(|_| "{}".into()))
                    .execute(&mut *self.tx)
                    .await?;
                    Ok(done.rows_affected() == 1)
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn set_password_hash(
                    &mut self,
                    org: OrgId,
                    user: UserId,
                    hash: &str,
                    at: Timestamp,
                ) -> Result<bool> {
                    let done = sqlx::query(
                        "UPDATE users SET password_hash = $3, updated_at = $4 \
                         WHERE org_id = $1 AND id = $2",
                    )
                    .bind(org.0.to_string())
                    .bind(user.0.to_string())
                    .bind(hash)
                    .bind(to_millis(at))
                    .execute(&mut *self.tx)
                    .await?;
                    Ok(done.rows_affected() == 1)
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn find_totp(&mut self, org: OrgId, user: UserId) -> Result<Option<UserTotp>> {
                    let t = "user_totp";
                    sqlx::query(
                        "SELECT secret_sealed, confirmed_at, last_step, recovery_codes, created_at \
                         FROM user_totp WHERE org_id = $1 AND user_id = $2",
                    )
                    .bind(org.0.to_string())
                    .bind(user.0.to_string())
                    .fetch_optional(&mut *self.tx)
                    .await?
                    .map(|r| {
                        Ok(UserTotp {
                            org_id: org,
                            user_id: user,
                            secret_sealed: r.try_get("secret_sealed")?,
                            confirmed_at: r
                                .try_get::<Option<i64>, _>("confirmed_at")?
                                .map(from_millis),
                            last_step: r.try_get("last_step")?,
                            recovery_codes: serde_json::from_str(
                                &r.try_get::<String, _>("recovery_codes")?,
                            )
                            .map_err(|e| corrupt(t, e))?,
                            created_at: from_millis(r.try_get("created_at")?),
                        })
                    })
                    .transpose()
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn put_totp(&mut self, x: &UserTotp) -> Result<()> {
                    sqlx::query(
                        "INSERT INTO user_totp (org_id, user_id, secret_sealed, confirmed_at, \
                         last_step, recovery_codes, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                         ON CONFLICT (org_id, user_id) DO UPDATE SET secret_sealed = excluded.secret_sealed, \
                         confirmed_at = excluded.confirmed_at, last_step = excluded.last_step, \
                         recovery_codes = excluded.recovery_codes, created_at = excluded.created_at",
                    )
                    .bind(x.org_id.0.to_string())
                    .bind(x.user_id.0.to_string())
                    .bind(&x.secret_sealed)
                    .bind(x.confirmed_at.map(to_millis))
                    .bind(x.last_step)
                    .bind(serde_json::to_string(&x.recovery_codes).unwrap_or_else(|_| "[]".into()))
                    .bind(to_millis(x.created_at))
                    .execute(&mut *self.tx)
                    .await?;
                    Ok(())
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn delete_totp(&mut self, org: OrgId, user: UserId) -> Result<bool> {
                    Ok(sqlx::query("DELETE FROM user_totp WHERE org_id = $1 AND user_id = $2")
                        .bind(org.0.to_string())
                        .bind(user.0.to_string())
                        .execute(&mut *self.tx)
                        .await?
                        .rows_affected()
                        == 1)
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn accept_totp_step(
                    &mut self,
                    org: OrgId,
                    user: UserId,
                    step: i64,
                    at: Timestamp,
                ) -> Result<bool> {
                    Ok(sqlx::query(
                        "UPDATE user_totp SET last_step = $3, \
                         confirmed_at = COALESCE(confirmed_at, $4) \
                         WHERE org_id = $1 AND user_id = $2 AND last_step < $3",
                    )
                    .bind(org.0.to_string())
                    .bind(user.0.to_string())
                    .bind(step)
                    .bind(to_millis(at))
                    .execute(&mut *self.tx)
                    .await?
                    .rows_affected()
                        == 1)
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn spend_recovery_code(
                    &mut self,
                    org: OrgId,
                    user: UserId,
                    hash: &str,
                ) -> Result<bool> {
                    let t = "user_totp";
                    let Some(old) = sqlx::query(
                        "SELECT recovery_codes FROM user_totp WHERE org_id = $1 AND user_id = $2",
                    )
                    .bind(org.0.to_string())
                    .bind(user.0.to_string())
                    .fetch_optional(&mut *self.tx)
                    .await?
                    .map(|r| r.try_get::<String, _>("recovery_codes"))
                    .transpose()?
                    else {
                        return Ok(false);
                    };
                    let codes: Vec<String> = serde_json::from_str(&old).map_err(|e| corrupt(t, e))?;
                    if !codes.iter().any(|c| c == hash) {
                        return Ok(false);
                    }
                    let left: Vec<&String> = codes.iter().filter(|c| *c != hash).collect();
                    // Written only if nobody changed the list meanwhile: of two requests
                    // spending the same code, one wins.
                    Ok(sqlx::query(
                        "UPDATE user_totp SET recovery_codes = $3 \
                         WHERE org_id = $1 AND user_id = $2 AND recovery_codes = $4",
                    )
                    .bind(org.0.to_string())
                    .bind(user.0.to_string())
                    .bind(serde_json::to_string(&left).unwrap_or_else(|_| "[]".into()))
                    .bind(&old)
                    .execute(&mut *self.tx)
                    .await?
                    .rows_affected()
                        == 1)
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn find_security_policy(&mut self, org: OrgId) -> Result<Option<String>> {
                    Ok(sqlx::query("SELECT policy FROM security_policies WHERE org_id = $1")
                        .bind(org.0.to_string())
                        .fetch_optional(&mut *self.tx)
                        .await?
                        .map(|r| r.try_get::<String, _>("policy"))
                        .transpose()?)
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn put_security_policy(
                    &mut self,
                    org: OrgId,
                    policy: &str,
                    at: Timestamp,
                ) -> Result<()> {
                    sqlx::query(
                        "INSERT INTO security_policies (org_id, policy, updated_at) VALUES ($1, $2, $3) \
                         ON CONFLICT (org_id) DO UPDATE SET policy = excluded.policy, \
                         updated_at = excluded.updated_at",
                    )
                    .bind(org.0.to_string())
                    .bind(policy)
                    .bind(to_millis(at))
                    .execute(&mut *self.tx)
                    .await?;
                    Ok(())
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn insert_role(&mut self, role: &CustomRole) -> Result<()> {
                    sqlx::query(
                        "INSERT INTO roles (org_id, name, permissions, created_at) \
                         VALUES ($1, $2, $3, $4)",
                    )
                    .bind(role.org_id.0.to_string())
                    .bind(role.name.as_str())
                    .bind(perms_to_json(role.permissions))
                    .bind(to_millis(role.created_at))
                    .execute(&mut *self.tx)
                    .await?;
                    Ok(())
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn find_role(
                    &mut self,
                    org: OrgId,
                    name: &RoleName,
                ) -> Result<Option<CustomRole>> {
                    sqlx::query(
                        "SELECT org_id, name, permissions, created_at FROM roles \
                         WHERE org_id = $1 AND name = $2",
                    )
                    .bind(org.0.to_string())
                    .bind(name.as_str())
                    .fetch_optional(&mut *self.tx)
                    .await?
                    .map(|r| role_row(&r))
                    .transpose()
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn list_roles(&mut self, org: OrgId) -> Result<Vec<CustomRole>> {
                    sqlx::query(
                        "SELECT org_id, name, permissions, created_at FROM roles \
                         WHERE org_id = $1 ORDER BY name",
                    )
                    .bind(org.0.to_string())
                    .fetch_all(&mut *self.tx)
                    .await?
                    .iter()
                    .map(role_row)
                    .collect()
                }
            }
        }
    };
}

pub(crate) use impl_users_repo;
