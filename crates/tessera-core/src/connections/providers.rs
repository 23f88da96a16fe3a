//! The platform providers' system-wide settings: listing them and the switch that turns a
//! platform off for every organization (system administrators only).

use serde::Serialize;
use tessera_connect::Pkce;
use tessera_domain::{AuditAction, Platform};

use super::platform_arg;
use crate::audit::AuditEntry;
use crate::{Context, CoreError, CoreResult, Services};

/// A platform's system-wide settings.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderView {
    pub platform: Platform,
    pub name: &'static str,
    pub enabled: bool,
    pub authorize_url: String,
    pub token_url: String,
    pub revoke_url: Option<String>,
    pub api_url: String,
    pub validate_url: Option<String>,
    pub scopes: Vec<String>,
    pub pkce: &'static str,
}

impl Services {
    /// `GET /api/v1/system/providers`.
    pub async fn list_providers(&self, ctx: &Context) -> CoreResult<Vec<ProviderView>> {
        if !ctx.principal.is_system_admin {
            return Err(CoreError::SystemAdminOnly("see the platform providers"));
        }
        let mut tx = self.store.read().await?;
        let disabled = tx.disabled_providers().await?;
        Ok(Platform::ALL
            .iter()
            .map(|&p| self.provider_view(p, !disabled.contains(&p)))
            .collect())
    }

    fn provider_view(&self, p: Platform, enabled: bool) -> ProviderView {
        let c = self.provider(p);
        ProviderView {
            platform: p,
            name: p.display_name(),
            enabled,
            authorize_url: c.authorize_url.clone(),
            token_url: c.token_url.clone(),
            revoke_url: c.revoke_url.clone(),
            api_url: c.api_url.clone(),
            validate_url: c.validate_url.clone(),
            scopes: c.scopes.clone(),
            pkce: match c.pkce {
                Pkce::No => "none",
                Pkce::Supported => "supported",
                Pkce::Required => "required",
            },
        }
    }

    /// `PATCH /api/v1/system/providers/{platform}`: the system-wide switch.
    pub async fn set_provider_enabled(
        &self,
        ctx: &Context,
        platform: &str,
        enabled: bool,
    ) -> CoreResult<ProviderView> {
        if !ctx.principal.is_system_admin {
            return Err(CoreError::SystemAdminOnly("switch platform providers"));
        }
        let p = platform_arg(platform)?;
        let mut tx = self.store.begin().await?;
        let was = !tx.disabled_providers().await?.contains(&p);
        tx.set_provider_enabled(p, enabled, self.now()).await?;
        self.audit(
            tx.as_mut(),
            ctx,
            AuditEntry::new(AuditAction::ProviderUpdated, "provider")
                .target(p.as_str())
                .before(Some(serde_json::json!({"enabled": was})))
                .after(Some(serde_json::json!({"enabled": enabled}))),
        )
        .await?;
        tx.commit().await?;
        Ok(self.provider_view(p, enabled))
    }
}
