//! Connections: an organization's links to the platforms it streams on (app credentials,
//! connect / reconnect through the platform's OAuth, disconnect), its custom chat bots, the
//! tools on its machines (OBS, Streamer.bot) and its StreamElements tokens.
//!
//! Every secret (client ids and secrets, access and refresh tokens, PKCE verifiers, passwords,
//! JWTs) is sealed by the vault with the row's identity as associated data before it reaches
//! the store, and opened only where it is used. The platform calls themselves are in
//! `tessera-connect`; this module decides when to make them and records what happened.
//! Keeping tokens fresh is [`crate::connection_worker`]'s job.

mod bots;
mod cards;
mod connect;
mod credentials;
mod disconnect;
mod integrations;
mod providers;
mod streamelements;
mod token;
mod views;

pub use bots::{BotConnectionView, DiscordBotInput, DiscordBotView};
pub use cards::ConnectionCard;
pub use connect::{CallbackError, CallbackOutcome, ConnectCallback, STATE_TTL};
pub use credentials::CredentialView;
pub use integrations::{IntegrationPatch, IntegrationView};
pub use providers::ProviderView;
pub use streamelements::SeTokenView;
pub use token::FreshToken;
pub use views::{ConnectionView, RefreshHealth};

use secrecy::{ExposeSecret, SecretString};
use tessera_connect::oauth::AppCredentials;
use tessera_connect::ProviderConfig;
use tessera_crypto::RowId;
use tessera_domain::{OrgId, Platform, Timestamp};
use tessera_store::{CredentialRecord, SealedColumn};

use crate::{CoreError, CoreResult, Services};

type Ts = Timestamp;

/// The vault identity of one sealed cell.
pub(crate) fn cell<'a>(org: &'a str, col: SealedColumn, id: &'a str) -> RowId<'a> {
    let (table, column, _) = col.names();
    RowId {
        org,
        table,
        row: id,
        column,
    }
}

pub(crate) fn platform_arg(s: &str) -> CoreResult<Platform> {
    Platform::parse(s).map_err(|_| CoreError::not_found("platform", s))
}

impl Services {
    pub(crate) fn provider(&self, p: Platform) -> &ProviderConfig {
        self.config.providers.get(p)
    }

    /// The redirect URI registered with the platform: one per organization and platform,
    /// for the channel and the bot alike (the `state` says which).
    pub fn connection_redirect_uri(&self, org: &str, p: Platform) -> String {
        format!(
            "{}/orgs/{org}/api/v1/connections/{}/callback",
            self.config.public_url,
            p.as_str()
        )
    }

    /// Seals `v` for one cell; the cell's identity (organization, table, row, column, named
    /// once in [`SealedColumn`] so that re-encryption walks the same names) is bound in.
    pub(crate) fn seal(
        &self,
        org: OrgId,
        col: SealedColumn,
        id: &str,
        v: &str,
    ) -> CoreResult<String> {
        let o = org.to_string();
        self.vault
            .seal(cell(&o, col, id), v.as_bytes(), self.rng.as_ref())
            .map_err(CoreError::internal)
    }

    pub(crate) fn open(
        &self,
        org: OrgId,
        col: SealedColumn,
        id: &str,
        v: &str,
    ) -> CoreResult<SecretString> {
        let o = org.to_string();
        let (table, column, _) = col.names();
        let bytes = self.vault.open(cell(&o, col, id), v).map_err(|_| {
            CoreError::internal(format!("{table}.{column} of row {id} cannot be decrypted"))
        })?;
        String::from_utf8(bytes)
            .map(SecretString::from)
            .map_err(|_| CoreError::internal(format!("{table}.{column} of row {id} is not text")))
    }

    pub(crate) fn open_credentials(&self, c: &CredentialRecord) -> CoreResult<AppCredentials> {
        Ok(AppCredentials {
            client_id: self
                .open(
                    c.org_id,
                    SealedColumn::CredentialClientId,
                    &c.id,
                    &c.client_id,
                )?
                .expose_secret()
                .to_owned(),
            client_secret: self.open(
                c.org_id,
                SealedColumn::CredentialClientSecret,
                &c.id,
                &c.client_secret,
            )?,
        })
    }
}
