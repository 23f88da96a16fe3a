//! Connections to outside platforms and tools: the platforms an organization streams on, the
//! states a platform's card can be in, and the integrations (OBS, Streamer.bot) and
//! StreamElements tokens it keeps, each parsed at the edge so an invalid one cannot exist.

use serde::{Deserialize, Serialize};

use crate::error::{Collector, FieldError};

/// A streaming platform Tessera can connect an organization to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    Twitch,
    Youtube,
    Kick,
    Trovo,
}

impl Platform {
    pub const ALL: [Platform; 4] = [
        Platform::Twitch,
        Platform::Youtube,
        Platform::Kick,
        Platform::Trovo,
    ];

    /// The wire name: `twitch`, `youtube`, `kick`, `trovo`.
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Twitch => "twitch",
            Platform::Youtube => "youtube",
            Platform::Kick => "kick",
            Platform::Trovo => "trovo",
        }
    }

    /// The name people read: `Twitch`, `YouTube`, `Kick`, `Trovo`.
    pub fn display_name(self) -> &'static str {
        match self {
            Platform::Twitch => "Twitch",
            Platform::Youtube => "YouTube",
            Platform::Kick => "Kick",
            Platform::Trovo => "Trovo",
        }
    }

    pub fn parse(s: &str) -> Result<Self, FieldError> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| {
                FieldError::new(
                    "platform",
                    format!("unknown platform '{s}': use twitch, youtube, kick or trovo"),
                )
            })
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whose identity a connection speaks for: the organization's channel, or its custom chat bot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConnectionKind {
    Channel,
    Bot,
}

impl ConnectionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionKind::Channel => "channel",
            ConnectionKind::Bot => "bot",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "channel" => Some(Self::Channel),
            "bot" => Some(Self::Bot),
            _ => None,
        }
    }

    /// The `identity` a consumer asks a token for: the channel (the default) or the bot.
    pub fn parse_identity(s: Option<&str>) -> Result<Self, FieldError> {
        match s {
            None => Ok(Self::Channel),
            Some(v) => Self::parse(v).ok_or_else(|| {
                FieldError::new(
                    "identity",
                    format!("unknown identity '{v}': use channel or bot"),
                )
            }),
        }
    }
}

/// The four visible states of a platform's card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CardState {
    /// The platform is switched off system-wide.
    Unavailable,
    /// No app credentials yet.
    NotConfigured,
    /// Credentials saved, not connected.
    CredentialsConfigured,
    Connected,
}

impl CardState {
    /// The state's wire name (`unavailable`, `not_configured`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            CardState::Unavailable => "unavailable",
            CardState::NotConfigured => "not_configured",
            CardState::CredentialsConfigured => "credentials_configured",
            CardState::Connected => "connected",
        }
    }

    /// The card's sentence, as the product's documents word it.
    pub fn message(self) -> &'static str {
        match self {
            CardState::Unavailable => {
                "This platform is disabled system-wide by the administrators."
            }
            CardState::NotConfigured => "Set up app credentials to connect this platform.",
            CardState::CredentialsConfigured => {
                "Credentials configured. Click Connect to authorize."
            }
            CardState::Connected => "Connected",
        }
    }
}

/// The longest value accepted for an app credential, a token or a label.
pub const MAX_CREDENTIAL_LEN: usize = 512;
pub const MAX_TOKEN_LEN: usize = 8192;
pub const MAX_LABEL_LEN: usize = 100;

/// A credential or token as pasted: trimmed, not empty, no inner whitespace or control
/// characters (a pasted value with a line break in it is a copy mistake, not a secret).
pub fn parse_pasted(field: &str, value: &str, max: usize) -> Result<String, FieldError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    if v.len() > max {
        return Err(FieldError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(FieldError::new(
            field,
            "must not contain spaces, line breaks or control characters",
        ));
    }
    Ok(v.to_owned())
}

/// A label: trimmed, 1 to 100 characters, printable.
pub fn parse_label(field: &str, value: &str) -> Result<String, FieldError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    if v.chars().count() > MAX_LABEL_LEN {
        return Err(FieldError::new(
            field,
            format!("must be at most {MAX_LABEL_LEN} characters"),
        ));
    }
    crate::text::check_display_text(v, field)?;
    Ok(v.to_owned())
}

/// The last four characters, to recognise a secret without showing it.
pub fn hint(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    chars[chars.len().saturating_sub(4)..].iter().collect()
}

/// A self-hosted tool Tessera talks to over the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum IntegrationKind {
    #[serde(rename = "streamerbot")]
    StreamerBot,
    #[serde(rename = "obs")]
    Obs,
}

impl IntegrationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            IntegrationKind::StreamerBot => "streamerbot",
            IntegrationKind::Obs => "obs",
        }
    }

    pub fn parse(s: &str) -> Result<Self, FieldError> {
        match s {
            "streamerbot" => Ok(Self::StreamerBot),
            "obs" => Ok(Self::Obs),
            _ => Err(FieldError::new(
                "type",
                format!("unknown integration type '{s}': use streamerbot or obs"),
            )),
        }
    }

    pub fn display_name(self) -> &'static str {
        match self {
            IntegrationKind::StreamerBot => "Streamer.bot",
            IntegrationKind::Obs => "OBS Studio",
        }
    }
}

/// Where an integration is reached, validated: the defaults of the product's documents fill
/// what the input leaves out (Streamer.bot: 127.0.0.1:8080 `/`; OBS: 127.0.0.1:4455).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IntegrationSettings {
    pub kind: IntegrationKind,
    pub label: String,
    pub host: String,
    pub port: u16,
    /// Streamer.bot's WebSocket path; `/` for OBS.
    pub endpoint: String,
    /// OBS only: the instance is on another machine, reached at `host`.
    pub remote_access: bool,
    pub enabled: bool,
}

/// An integration's fields as they arrive (create, or the result of applying a patch).
#[derive(Debug, Clone, Default)]
pub struct IntegrationInput {
    pub kind: String,
    pub label: Option<String>,
    pub host: Option<String>,
    pub port: Option<i64>,
    pub endpoint: Option<String>,
    pub remote_access: Option<bool>,
    pub enabled: Option<bool>,
}

/// A host name or IP address: letters, digits, `-`, `.`, `:` (IPv6), at most 253 characters.
pub fn parse_host(field: &str, value: &str) -> Result<String, FieldError> {
    let v = value.trim().trim_start_matches('[').trim_end_matches(']');
    if v.is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    if v.len() > 253
        || !v
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | ':'))
    {
        return Err(FieldError::new(
            field,
            "must be a host name or an IP address (no scheme, path or port)",
        ));
    }
    Ok(v.to_owned())
}

impl IntegrationSettings {
    pub fn parse(input: &IntegrationInput) -> Result<Self, crate::ValidationError> {
        let mut p = Collector::new();
        let kind = IntegrationKind::parse(&input.kind)?;
        let label = match &input.label {
            Some(l) => p.take(parse_label("label", l)),
            None => Some(kind.display_name().to_owned()),
        };
        let remote_access = input.remote_access.unwrap_or(false);
        if kind == IntegrationKind::StreamerBot && remote_access {
            p.push(FieldError::new(
                "remoteAccess",
                "applies to OBS only; set host to reach another machine",
            ));
        }
        let host = match (&input.host, kind) {
            (Some(h), _) => p.take(parse_host("host", h)),
            (None, IntegrationKind::Obs) if remote_access => {
                p.push(FieldError::new(
                    "host",
                    "is required when remote access is enabled",
                ));
                None
            }
            (None, _) => Some("127.0.0.1".to_owned()),
        };
        let default_port = match kind {
            IntegrationKind::StreamerBot => 8080,
            IntegrationKind::Obs => 4455,
        };
        let port = match input.port {
            None => Some(default_port),
            Some(n) => match u16::try_from(n) {
                Ok(n) if n > 0 => Some(n),
                _ => {
                    p.push(FieldError::new("port", "must be between 1 and 65535"));
                    None
                }
            },
        };
        let endpoint = match (&input.endpoint, kind) {
            (None, _) => Some("/".to_owned()),
            (Some(e), IntegrationKind::StreamerBot) => {
                let e = e.trim();
                let e = if e.is_empty() { "/" } else { e };
                if !e.starts_with('/')
                    || e.len() > 200
                    || e.chars()
                        .any(|c| c.is_whitespace() || c.is_control() || c == '#')
                {
                    p.push(FieldError::new(
                        "endpoint",
                        "must be a path starting with '/' (usually just '/')",
                    ));
                    None
                } else {
                    Some(e.to_owned())
                }
            }
            (Some(_), IntegrationKind::Obs) => {
                p.push(FieldError::new("endpoint", "applies to Streamer.bot only"));
                None
            }
        };
        p.finish()?;
        match (label, host, port, endpoint) {
            (Some(label), Some(host), Some(port), Some(endpoint)) => Ok(Self {
                kind,
                label,
                host,
                port,
                endpoint,
                remote_access,
                enabled: input.enabled.unwrap_or(true),
            }),
            _ => Err(FieldError::new("integration", "is invalid").into()),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn platforms_round_trip_and_unknown_is_named() {
        for p in Platform::ALL {
            assert_eq!(Platform::parse(p.as_str()).unwrap(), p);
        }
        let e = Platform::parse("discord").unwrap_err();
        assert!(e.message.contains("discord"), "{e}");
    }

    #[test]
    fn pasted_values_are_trimmed_and_line_breaks_refused() {
        assert_eq!(parse_pasted("clientId", "  abc ", 10).unwrap(), "abc");
        assert!(parse_pasted("clientId", "", 10).is_err());
        assert!(parse_pasted("clientId", "a\nb", 10).is_err());
        assert!(parse_pasted("clientId", "abcdefghijk", 10).is_err());
        assert_eq!(hint("abcdef"), "cdef");
        assert_eq!(hint("ab"), "ab");
    }

    #[test]
    fn integration_defaults_follow_the_documents() {
        let sb = IntegrationSettings::parse(&IntegrationInput {
            kind: "streamerbot".into(),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(
            (
                sb.label.as_str(),
                sb.host.as_str(),
                sb.port,
                sb.endpoint.as_str()
            ),
            ("Streamer.bot", "127.0.0.1", 8080, "/")
        );
        let obs = IntegrationSettings::parse(&IntegrationInput {
            kind: "obs".into(),
            ..Default::default()
        })
        .unwrap();
        assert_eq!((obs.port, obs.remote_access), (4455, false));
        let e = IntegrationSettings::parse(&IntegrationInput {
            kind: "obs".into(),
            remote_access: Some(true),
            port: Some(70000),
            ..Default::default()
        })
        .unwrap_err();
        let fields: Vec<_> = e.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["host", "port"]);
        assert!(IntegrationSettings::parse(&IntegrationInput {
            kind: "streamerbot".into(),
            host: Some("http://x/".into()),
            ..Default::default()
        })
        .is_err());
    }
}
