//! The audit log's vocabulary: who did what to which object, when, from where, with a
//! before/after picture that never holds a secret (the service layer builds those pictures
//! from the public views of objects, which carry no secrets).

use crate::clock::Timestamp;
use crate::org::OrgId;
use serde::Serialize;
use serde_json::Value;

/// Who acted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Actor {
    /// `api_key`, `user`, `cli` or `system`.
    #[serde(rename = "type")]
    pub kind: String,
    pub id: Option<String>,
    pub name: String,
}

macro_rules! actions {
    ($($variant:ident = $name:literal),+ $(,)?) => {
        /// What happened. The names are stable: filters and alerting use them.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum AuditAction { $($variant),+ }

        impl AuditAction {
            pub const ALL: &'static [AuditAction] = &[$(AuditAction::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $(AuditAction::$variant => $name),+ }
            }

            pub fn parse(s: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|a| a.as_str() == s)
            }
        }
    };
}

actions! {
    SystemBootstrapped = "system.bootstrapped",
    OrgCreated = "organization.created",
    UserCreated = "user.created",
    UserUpdated = "user.updated",
    UserDeactivated = "user.deactivated",
    UserConsentRevoked = "user.consent_revoked",
    UserSessionsEnded = "user.sessions_ended",
    UserReactivated = "user.reactivated",
    UserPasswordChanged = "user.password_changed",
    UserSecondFactorEnrolled = "user.second_factor_enrolled",
    UserSecondFactorRemoved = "user.second_factor_removed",
    SecurityPolicyUpdated = "security_policy.updated",
    DiscordBotConfigured = "discord_bot.configured",
    DiscordBotRemoved = "discord_bot.removed",
    ConsoleSignedIn = "console.signed_in",
    ConsoleSignedOut = "console.signed_out",
    UserLoggedIn = "user.logged_in",
    UserLoginFailed = "user.login_failed",
    ApiKeyCreated = "api_key.created",
    ApiKeyRevoked = "api_key.revoked",
    RoleCreated = "role.created",
    OauthClientCreated = "oauth_client.created",
    OauthClientUpdated = "oauth_client.updated",
    OauthClientEnabled = "oauth_client.enabled",
    OauthClientDisabled = "oauth_client.disabled",
    OauthClientDeleted = "oauth_client.deleted",
    OauthClientSecretRegenerated = "oauth_client.secret_regenerated",
    OauthClientSecretSet = "oauth_client.secret_set",
    OauthClientTokensRevoked = "oauth_client.tokens_revoked",
    OauthClientAuthenticationFailed = "oauth_client.authentication_failed",
    ApiResourceCreated = "api_resource.created",
    ApiResourceUpdated = "api_resource.updated",
    ApiResourceDeleted = "api_resource.deleted",
    SigningKeysRotated = "signing_keys.rotated",
    TokenRevoked = "token.revoked",
    TokenExchanged = "token.exchanged",
    RegistrationPolicyUpdated = "registration_policy.updated",
    RegistrationTokenCreated = "registration_token.created",
    RegistrationTokenRevoked = "registration_token.revoked",
    ConnectionCredentialsSaved = "connection.credentials_saved",
    ConnectionCredentialsDeleted = "connection.credentials_deleted",
    ConnectionConnected = "connection.connected",
    ConnectionFailed = "connection.connect_failed",
    ConnectionRefreshFailed = "connection.refresh_failed",
    ConnectionDisconnected = "connection.disconnected",
    BotConnectionConnected = "bot_connection.connected",
    BotConnectionRefreshFailed = "bot_connection.refresh_failed",
    BotConnectionDisconnected = "bot_connection.disconnected",
    IntegrationCreated = "integration.created",
    IntegrationUpdated = "integration.updated",
    IntegrationDeleted = "integration.deleted",
    StreamElementsTokenCreated = "streamelements_token.created",
    StreamElementsTokenDeleted = "streamelements_token.deleted",
    ProviderUpdated = "provider.updated",
    VaultReencrypted = "vault.reencrypted",
    UserLockedOut = "user.locked_out",
    WebhookCreated = "webhook.created",
    WebhookUpdated = "webhook.updated",
    WebhookDeleted = "webhook.deleted",
    WebhookDisabled = "webhook.disabled",
    ConfigurationApplied = "configuration.applied",
}

impl Serialize for AuditAction {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// An event about to be recorded (the store assigns the id).
#[derive(Debug, Clone, PartialEq)]
pub struct NewAuditEvent {
    pub org_id: Option<OrgId>,
    pub actor: Actor,
    pub action: AuditAction,
    pub target_type: String,
    pub target_id: Option<String>,
    pub ip: Option<String>,
    pub request_id: Option<String>,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub created_at: Timestamp,
}

impl NewAuditEvent {
    /// The body of the event's webhook deliveries (Standard Webhooks: `{type, timestamp,
    /// data}`), `event_id` being the message id every attempt repeats in `webhook-id`.
    pub fn webhook_payload(&self, event_id: &str) -> String {
        serde_json::json!({
            "type": self.action.as_str(),
            "timestamp": crate::clock::rfc3339_millis::format(self.created_at),
            "data": {
                "id": event_id,
                "organizationId": self.org_id.map(|o| o.0.to_string()),
                "actor": &self.actor,
                "targetType": &self.target_type,
                "targetId": &self.target_id,
                "requestId": &self.request_id,
                "before": &self.before,
                "after": &self.after,
            }
        })
        .to_string()
    }
}

/// A recorded event.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent {
    /// Increases with every event; `before=` pages by it.
    pub id: i64,
    pub org_id: Option<OrgId>,
    pub actor: Actor,
    pub action: String,
    pub target_type: String,
    pub target_id: Option<String>,
    pub ip: Option<String>,
    pub request_id: Option<String>,
    pub before: Option<Value>,
    pub after: Option<Value>,
    #[serde(with = "crate::clock::rfc3339_millis")]
    pub created_at: Timestamp,
}
