//! Webhook subscriptions and their deliveries.
//!
//! An organization subscribes a URL to some or all of its events (the audit action names,
//! such as `oauth_client.created`). Every event is delivered by the Standard Webhooks rules:
//! a stable message id, a timestamp and an HMAC-SHA256 signature under the subscription's
//! `whsec_` secret, retried with back-off until the receiver answers 2xx.

use serde::{Deserialize, Serialize};
use url::Url;
use uuid::Uuid;

use crate::error::{Collector, FieldError, ValidationError};
use crate::{AuditAction, OrgId, Timestamp};

/// The longest URL accepted.
pub const MAX_WEBHOOK_URL_LEN: usize = 2_000;
/// The most event types one subscription names.
pub const MAX_WEBHOOK_EVENTS: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct WebhookId(pub Uuid);

impl std::fmt::Display for WebhookId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl WebhookId {
    /// Parses the id of a path; `None` for anything that is not a UUID.
    pub fn parse(s: &str) -> Option<Self> {
        Uuid::parse_str(s).ok().map(Self)
    }
}

/// Where deliveries go: an absolute `https` URL without credentials or fragment, or `http` to
/// a loopback receiver when the deployment allows it (development).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct WebhookUrl(String);

impl WebhookUrl {
    /// `allow_http_loopback`: accept `http://127.0.0.1…`, `http://[::1]…` and
    /// `http://localhost…` (a development deployment).
    pub fn parse(s: &str, allow_http_loopback: bool) -> Result<Self, FieldError> {
        let field = "url";
        let s = s.trim();
        if s.is_empty() {
            return Err(FieldError::new(field, "is required"));
        }
        if s.len() > MAX_WEBHOOK_URL_LEN {
            return Err(FieldError::new(
                field,
                format!("must be at most {MAX_WEBHOOK_URL_LEN} characters"),
            ));
        }
        let url = Url::parse(s).map_err(|_| {
            FieldError::new(
                field,
                "must be an absolute URL, e.g. https://example.com/hooks",
            )
        })?;
        if url.host().is_none() {
            return Err(FieldError::new(field, "must name a host"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(FieldError::new(
                field,
                "must not carry a user name or password",
            ));
        }
        if url.fragment().is_some() {
            return Err(FieldError::new(field, "must not have a fragment"));
        }
        match url.scheme() {
            "https" => {}
            "http" if allow_http_loopback && is_loopback(&url) => {}
            "http" => {
                return Err(FieldError::new(
                    field,
                    "must use https (http only for a loopback receiver in development)",
                ))
            }
            _ => return Err(FieldError::new(field, "must be an https URL")),
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A stored URL, not re-checked.
    pub fn from_stored(s: String) -> Self {
        Self(s)
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// The event types a subscription wants; empty: all of them.
pub fn parse_event_filter(names: &[String]) -> Result<Vec<AuditAction>, ValidationError> {
    let mut c = Collector::new();
    if names.len() > MAX_WEBHOOK_EVENTS {
        c.push(FieldError::new(
            "events",
            format!("at most {MAX_WEBHOOK_EVENTS} event types"),
        ));
    }
    let mut out: Vec<AuditAction> = Vec::new();
    for (i, n) in names.iter().enumerate() {
        match AuditAction::parse(n.trim()) {
            Some(a) => {
                if !out.contains(&a) {
                    out.push(a);
                }
            }
            _ => c.push(FieldError::new(
                format!("events[{i}]"),
                format!("unknown event type '{n}' (docs/automation.md lists them)"),
            )),
        }
    }
    c.finish()?;
    out.sort_by_key(|a| a.as_str());
    Ok(out)
}

/// A subscription.
#[derive(Debug, Clone, PartialEq)]
pub struct Webhook {
    pub org_id: OrgId,
    pub id: WebhookId,
    pub url: WebhookUrl,
    /// Empty: every event.
    pub events: Vec<AuditAction>,
    pub is_active: bool,
    /// Since when every delivery has failed (none succeeded since); `None` while healthy.
    pub failing_since: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Webhook {
    /// Whether an event of type `action` goes to this subscription.
    pub fn wants(&self, action: AuditAction) -> bool {
        self.is_active && (self.events.is_empty() || self.events.contains(&action))
    }

    pub fn object(&self) -> WebhookObject<'_> {
        WebhookObject {
            id: self.id,
            url: self.url.as_str(),
            events: self.events.iter().map(|a| a.as_str()).collect(),
            is_active: self.is_active,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// The webhook object of REST and GraphQL.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = Webhook))]
#[serde(rename_all = "camelCase")]
pub struct WebhookObject<'a> {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub id: WebhookId,
    pub url: &'a str,
    /// Event types delivered; empty: all of them.
    pub events: Vec<&'static str>,
    pub is_active: bool,
    #[serde(with = "crate::clock::rfc3339_millis")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
    #[serde(with = "crate::clock::rfc3339_millis")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: Timestamp,
}

/// A subscription as a create or update request sends it (every field optional for a
/// `PATCH`; `url` required on create).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct WebhookInput {
    /// `https://…` (or `http://127.0.0.1…` in development).
    pub url: Option<String>,
    /// Event types, e.g. `["oauth_client.created"]`; empty or absent: all of them.
    pub events: Option<Vec<String>>,
    pub is_active: Option<bool>,
}

/// The checked settings of a subscription.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookSettings {
    pub url: WebhookUrl,
    pub events: Vec<AuditAction>,
    pub is_active: bool,
}

impl WebhookSettings {
    /// `input` over `base` (a `PATCH`), or over nothing (a create, where `url` is required).
    pub fn validate(
        input: &WebhookInput,
        base: Option<&Webhook>,
        allow_http_loopback: bool,
    ) -> Result<Self, ValidationError> {
        let mut c = Collector::new();
        let url = match (&input.url, base) {
            (Some(u), _) => c.take(WebhookUrl::parse(u, allow_http_loopback)),
            (None, Some(b)) => Some(b.url.clone()),
            (None, None) => {
                c.push(FieldError::new("url", "is required"));
                None
            }
        };
        let events = match (&input.events, base) {
            (Some(e), _) => c.take_all(parse_event_filter(e)),
            (None, Some(b)) => Some(b.events.clone()),
            (None, None) => Some(Vec::new()),
        };
        let is_active = input
            .is_active
            .unwrap_or_else(|| base.is_none_or(|b| b.is_active));
        c.finish()?;
        Ok(Self {
            url: url.unwrap_or_else(|| WebhookUrl(String::new())),
            events: events.unwrap_or_default(),
            is_active,
        })
    }
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Not yet answered 2xx; retried at `next_attempt_at`.
    Pending,
    Succeeded,
    /// Given up after a day of attempts (or its subscription was disabled).
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Pending, Self::Succeeded, Self::Failed]
            .into_iter()
            .find(|d| d.as_str() == s)
    }
}

/// One event for one subscription, and how its delivery went.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub id: Uuid,
    pub org_id: OrgId,
    pub webhook_id: WebhookId,
    /// The Standard Webhooks message id (`webhook-id`): the same on every attempt.
    pub event_id: String,
    pub event_type: String,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub next_attempt_at: Option<Timestamp>,
    pub last_attempt_at: Option<Timestamp>,
    /// The receiver's HTTP status on the last attempt (none: no answer).
    pub response_status: Option<i32>,
    /// How long the last attempt took, in milliseconds.
    pub duration_ms: Option<i64>,
    /// Why the last attempt failed, when it did.
    pub error: Option<String>,
    pub created_at: Timestamp,
}

/// The delivery object of REST and GraphQL.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = WebhookDelivery))]
#[serde(rename_all = "camelCase")]
pub struct DeliveryObject<'a> {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub id: Uuid,
    /// The `webhook-id` header: the same on every attempt and redelivery.
    pub event_id: &'a str,
    pub event_type: &'a str,
    /// `pending`, `succeeded` or `failed`.
    pub status: &'static str,
    pub attempts: i32,
    pub response_status: Option<i32>,
    pub duration_ms: Option<i64>,
    pub error: Option<&'a str>,
    #[serde(with = "crate::clock::rfc3339_millis::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub last_attempt_at: Option<Timestamp>,
    #[serde(with = "crate::clock::rfc3339_millis::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub next_attempt_at: Option<Timestamp>,
    #[serde(with = "crate::clock::rfc3339_millis")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
}

impl Delivery {
    pub fn object(&self) -> DeliveryObject<'_> {
        DeliveryObject {
            id: self.id,
            event_id: &self.event_id,
            event_type: &self.event_type,
            status: self.status.as_str(),
            attempts: self.attempts,
            response_status: self.response_status,
            duration_ms: self.duration_ms,
            error: self.error.as_deref(),
            last_attempt_at: self.last_attempt_at,
            next_attempt_at: self.next_attempt_at,
            created_at: self.created_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_must_be_https_or_loopback_in_development() {
        assert!(WebhookUrl::parse("https://hooks.example.com/x", false).is_ok());
        assert!(WebhookUrl::parse("http://hooks.example.com/x", true).is_err());
        assert!(WebhookUrl::parse("http://127.0.0.1:9000/x", false).is_err());
        assert!(WebhookUrl::parse("http://127.0.0.1:9000/x", true).is_ok());
        assert!(WebhookUrl::parse("http://[::1]:9000/x", true).is_ok());
        assert!(WebhookUrl::parse("https://u:p@hooks.example.com/", false).is_err());
        assert!(WebhookUrl::parse("https://hooks.example.com/#f", false).is_err());
        assert!(WebhookUrl::parse("ftp://hooks.example.com/", true).is_err());
        assert!(WebhookUrl::parse("hooks", true).is_err());
    }

    #[test]
    fn event_filters_name_each_unknown_type() {
        let ok = parse_event_filter(&["oauth_client.created".into(), "user.created".into()]);
        assert_eq!(ok.unwrap().len(), 2);
        let err = parse_event_filter(&["user.created".into(), "nope".into()]).unwrap_err();
        assert_eq!(err.errors[0].field, "events[1]");
    }
}
