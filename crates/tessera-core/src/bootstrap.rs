//! First start: an empty database gets the `default` organization and the `admin` system
//! administrator, whose random password is handed back once to be printed once.

use secrecy::SecretString;
use tessera_crypto::random::random_bytes;
use tessera_domain::org::DEFAULT_ORG_SLUG;
use tessera_domain::{AuditAction, OrgName, OrgSlug, RoleName, User, UserId, Username};
use uuid::Uuid;

use crate::audit::AuditEntry;
use crate::{snapshot, Context, CoreError, CoreResult, Services};

/// What the operator needs to log in the first time.
#[derive(Debug)]
pub struct Bootstrapped {
    pub org: String,
    pub username: String,
    pub password: SecretString,
}

impl Services {
    /// Creates the first organization and administrator when there is no organization yet;
    /// `None` when the database was already set up (by this or another process).
    pub async fn bootstrap(&self) -> CoreResult<Option<Bootstrapped>> {
        use base64::Engine as _;
        {
            let mut tx = self.store.read().await?;
            if tx.count_orgs().await? > 0 {
                return Ok(None);
            }
        }
        let bytes: [u8; 18] = random_bytes(self.rng.as_ref()).map_err(CoreError::internal)?;
        let password = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        let hash = self.hash_password(password.clone()).await?;

        let ctx = Context::system();
        let mut tx = self.store.begin().await?;
        // Checked again inside the writing transaction: another process may have won.
        if tx.count_orgs().await? > 0 {
            return Ok(None);
        }
        let slug = OrgSlug::parse(DEFAULT_ORG_SLUG)?;
        let org = match self
            .insert_org(tx.as_mut(), &ctx, slug, OrgName::parse("Default")?)
            .await
        {
            Ok(org) => org,
            // Lost a race with another process bootstrapping the same database.
            Err(CoreError::Conflict(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        let now = self.now();
        let admin = User {
            profile: Default::default(),
            id: UserId(Uuid::new_v4()),
            org_id: org.id,
            username: Username::parse("admin")?,
            email: None,
            name: Some("Administrator".into()),
            roles: vec![RoleName::parse("owner")?],
            is_system_admin: true,
            is_active: true,
            created_at: now,
            updated_at: now,
        };
        self.insert_user(tx.as_mut(), &ctx, &admin, Some(&hash))
            .await?;
        self.audit(
            tx.as_mut(),
            &ctx,
            AuditEntry::new(AuditAction::SystemBootstrapped, "system")
                .org(org.id)
                .after(snapshot(
                    &serde_json::json!({"organization": org.slug, "admin": admin.username}),
                )),
        )
        .await?;
        match tx.commit().await {
            Ok(()) => Ok(Some(Bootstrapped {
                org: org.slug.to_string(),
                username: admin.username.to_string(),
                password: SecretString::from(password),
            })),
            // Lost a race with another process bootstrapping the same database.
            Err(tessera_store::StoreError::Conflict { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}
