//! Organizations: created by system administrators; each sees only itself.

use tessera_domain::client::{ClientId, ClientInput, ClientSettings, GrantType, OAuthClient};
use tessera_domain::error::Collector;
use tessera_domain::{AuditAction, OrgId, OrgName, OrgSlug, Organization, Permission};
use tessera_store::{StoreError, Tx};
use uuid::Uuid;

use crate::audit::AuditEntry;
use crate::{snapshot, Context, CoreError, CoreResult, Services};

/// The client id of every organization's command-line client.
pub const DEFAULT_CLI_CLIENT: &str = "tessera-cli";
/// The client id of every organization's console client.
pub const DEFAULT_CONSOLE_CLIENT: &str = "tessera-console";

impl Services {
    /// Creates an organization. `name` defaults to the slug.
    pub async fn create_org(
        &self,
        ctx: &Context,
        slug: &str,
        name: Option<&str>,
    ) -> CoreResult<Organization> {
        if !ctx.principal.is_system_admin {
            return Err(CoreError::SystemAdminOnly("create organizations"));
        }
        let mut c = Collector::new();
        let slug = c.take(OrgSlug::parse(slug));
        let name = match (name, &slug) {
            (Some(n), _) => c.take(OrgName::parse(n)),
            (None, Some(s)) => c.take(OrgName::parse(s.as_str())),
            (None, None) => None,
        };
        c.finish()?;
        let (Some(slug), Some(name)) = (slug, name) else {
            return Err(CoreError::internal("collector let an error through"));
        };
        let mut tx = self.store.begin().await?;
        let org = self.insert_org(tx.as_mut(), ctx, slug, name).await?;
        tx.commit().await?;
        tracing::info!(org = %org.slug, "organization created");
        Ok(org)
    }

    pub(crate) async fn insert_org(
        &self,
        tx: &mut dyn Tx,
        ctx: &Context,
        slug: OrgSlug,
        name: OrgName,
    ) -> CoreResult<Organization> {
        let now = self.now();
        let org = Organization {
            id: OrgId(Uuid::new_v4()),
            slug,
            name: name.as_str().to_owned(),
            created_at: now,
            updated_at: now,
        };
        match tx.insert_org(&org).await {
            Err(StoreError::Conflict { .. }) => {
                return Err(CoreError::Conflict(format!(
                    "organization '{}' already exists",
                    org.slug
                )))
            }
            other => other?,
        }
        self.audit(
            tx,
            ctx,
            AuditEntry::new(AuditAction::OrgCreated, "organization")
                .org(org.id)
                .target(org.slug.to_string())
                .after(snapshot(&org)),
        )
        .await?;
        self.insert_default_clients(tx, ctx, &org).await?;
        Ok(org)
    }

    /// The clients every organization starts with (product.md §2): `tessera-cli`, a public
    /// device-code client for command lines, and `tessera-console`, the console's own public
    /// PKCE client. Both first-party, so no consent page; both ordinary, editable clients.
    async fn insert_default_clients(
        &self,
        tx: &mut dyn Tx,
        ctx: &Context,
        org: &Organization,
    ) -> CoreResult<()> {
        let scopes: Vec<String> = ["openid", "profile", "email", "offline_access"]
            .map(str::to_owned)
            .to_vec();
        let defaults = [
            (
                DEFAULT_CLI_CLIENT,
                ClientInput {
                    name: "Tessera CLI".into(),
                    description: Some("Command-line sign-in with the device flow.".into()),
                    is_confidential: Some(false),
                    grant_types: vec![
                        GrantType::DeviceCode.as_str().into(),
                        GrantType::RefreshToken.as_str().into(),
                    ],
                    allowed_scopes: Some(scopes.clone()),
                    require_consent: false,
                    ..ClientInput::default()
                },
            ),
            (
                DEFAULT_CONSOLE_CLIENT,
                ClientInput {
                    name: "Tessera Console".into(),
                    description: Some("The web console's own sign-in.".into()),
                    is_confidential: Some(false),
                    redirect_uris: vec![format!("{}/login/callback", self.config.public_url)],
                    post_logout_redirect_uris: vec![format!("{}/login", self.config.public_url)],
                    allowed_scopes: Some(scopes),
                    require_consent: false,
                    ..ClientInput::default()
                },
            ),
        ];
        let now = self.now();
        for (id, input) in defaults {
            let settings = match ClientSettings::validate(&input) {
                Ok(s) => s,
                Err(e) => {
                    // A public URL the redirect rules refuse (plain http on a non-loopback
                    // host): the console client waits until an operator adds it.
                    tracing::warn!(org = %org.slug, client = id, error = ?e, "default client not created");
                    continue;
                }
            };
            let client = OAuthClient {
                org_id: org.id,
                id: ClientId::parse(id)?,
                settings,
                secrets: vec![],
                created_at: now,
                updated_at: now,
                tokens_revoked_at: None,
            };
            tx.insert_client(&client).await?;
            self.audit(
                tx,
                ctx,
                AuditEntry::new(AuditAction::OauthClientCreated, "oauth_client")
                    .org(org.id)
                    .target(id)
                    .after(snapshot(&client.without_secrets())),
            )
            .await?;
        }
        Ok(())
    }

    /// The organizations the caller can see: all of them for a system administrator.
    pub async fn list_orgs(&self, ctx: &Context) -> CoreResult<Vec<Organization>> {
        let mut tx = self.store.read().await?;
        let all = tx.list_orgs().await?;
        Ok(all
            .into_iter()
            .filter(|o| ctx.principal.can_see_org(o.id))
            .collect())
    }

    /// One organization, if the caller can see it and (when given) holds `perm` in it.
    pub async fn get_org(
        &self,
        ctx: &Context,
        slug: &str,
        perm: Option<Permission>,
    ) -> CoreResult<Organization> {
        let mut tx = self.store.read().await?;
        self.org_for(tx.as_mut(), ctx, slug, perm).await
    }
}
