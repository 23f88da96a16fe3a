//! The portable SQL of [`crate::OrgRepo`]; [`impl_orgs_repo!`] stamps it out for one backend's
//! transaction type.

pub(crate) const ORG_COLS: &str = "id, slug, name, created_at, updated_at";

macro_rules! impl_orgs_repo {
    ($tx:ident, $row:ty) => {
        mod orgs_repo {
            use super::$tx;
            use $crate::sql::orgs::*;
            use $crate::sql::prelude::*;

            fn org_row(r: &$row) -> Result<Organization> {
                let t = "organizations";
                Ok(Organization {
                    id: OrgId(uuid(t, &r.try_get::<String, _>("id")?)?),
                    slug: OrgSlug::parse(&r.try_get::<String, _>("slug")?)
                        .map_err(|e| corrupt(t, e))?,
                    name: r.try_get("name")?,
                    created_at: from_millis(r.try_get("created_at")?),
                    updated_at: from_millis(r.try_get("updated_at")?),
                })
            }

            #[async_trait]
            impl $crate::OrgRepo for $tx {
                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn insert_org(&mut self, org: &Organization) -> Result<()> {
                    sqlx::query(
                        "INSERT INTO organizations (id, slug, name, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(org.id.0.to_string())
                    .bind(org.slug.as_str())
                    .bind(&org.name)
                    .bind(to_millis(org.created_at))
                    .bind(to_millis(org.updated_at))
                    .execute(&mut *self.tx)
                    .await?;
                    Ok(())
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn find_org(&mut self, id: OrgId) -> Result<Option<Organization>> {
                    let q = format!("SELECT {ORG_COLS} FROM organizations WHERE id = $1");
                    sqlx::query(&q)
                        .bind(id.0.to_string())
                        .fetch_optional(&mut *self.tx)
                        .await?
                        .map(|r| org_row(&r))
                        .transpose()
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn find_org_by_slug(
                    &mut self,
                    slug: &OrgSlug,
                ) -> Result<Option<Organization>> {
                    let q = format!("SELECT {ORG_COLS} FROM organizations WHERE slug = $1");
                    sqlx::query(&q)
                        .bind(slug.as_str())
                        .fetch_optional(&mut *self.tx)
                        .await?
                        .map(|r| org_row(&r))
                        .transpose()
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn list_orgs(&mut self) -> Result<Vec<Organization>> {
                    let q = format!("SELECT {ORG_COLS} FROM organizations ORDER BY slug");
                    sqlx::query(&q)
                        .fetch_all(&mut *self.tx)
                        .await?
                        .iter()
                        .map(org_row)
                        .collect()
                }

                #[tracing::instrument(level = "debug", target = "tessera_store", skip_all)]
                async fn count_orgs(&mut self) -> Result<i64> {
                    Ok(sqlx::query("SELECT COUNT(*) AS n FROM organizations")
                        .fetch_one(&mut *self.tx)
                        .await?
                        .try_get("n")?)
                }
            }
        }
    };
}

pub(crate) use impl_orgs_repo;
