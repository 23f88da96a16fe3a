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
