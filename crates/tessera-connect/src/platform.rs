//! The platforms as data: where each one's OAuth and API endpoints are, which scopes Tessera
//! asks for, and whether it takes PKCE. Every URL is the real one by default and can be
//! overridden in the configuration (`[providers.twitch] token_url = …`), so that self-hosters
//! behind proxies, and the test suite's fake platforms, can point them elsewhere.

use serde::Deserialize;
use tessera_domain::Platform;

/// Twitch: chat, events (EventSub), moderation and channel-point rewards. 27 scopes.
pub const TWITCH_SCOPES: [&str; 27] = [
    "bits:read",
    "channel:bot",
    "channel:manage:broadcast",
    "channel:manage:moderators",
    "channel:manage:polls",
    "channel:manage:predictions",
    "channel:manage:raids",
    "channel:manage:redemptions",
    "channel:manage:vips",
    "channel:moderate",
    "channel:read:ads",
    "channel:read:goals",
    "channel:read:hype_train",
    "channel:read:polls",
    "channel:read:predictions",
    "channel:read:redemptions",
    "channel:read:subscriptions",
    "chat:edit",
    "chat:read",
    "moderator:manage:announcements",
    "moderator:manage:banned_users",
    "moderator:manage:chat_messages",
    "moderator:manage:shoutouts",
    "moderator:read:chatters",
    "moderator:read:followers",
    "user:read:chat",
    "user:write:chat",
];

/// YouTube: live chat, Super Chats and memberships (read), and posting to chat.
pub const YOUTUBE_SCOPES: [&str; 2] = [
    "https://www.googleapis.com/auth/youtube.readonly",
    "https://www.googleapis.com/auth/youtube.force-ssl",
];

/// Kick: chat and moderation.
pub const KICK_SCOPES: [&str; 6] = [
    "user:read",
    "channel:read",
    "channel:write",
    "chat:write",
    "events:subscribe",
    "moderation:ban",
];

/// Trovo: reading chat needs no OAuth (a public channel token); these read the user's own
/// identity and post to chat.
pub const TROVO_SCOPES: [&str; 2] = ["user_details_self", "chat_send_self"];

/// How a platform wants PKCE (RFC 7636).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pkce {
    /// The platform does not take it (Twitch, Trovo).
    No,
    /// Supported: always sent (YouTube / Google).
    Supported,
    /// Mandatory (Kick).
    Required,
}

/// One platform's endpoints and scopes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderConfig {
    pub platform: Platform,
    /// Where the user is sent to authorize.
    pub authorize_url: String,
    /// Where a code is exchanged for tokens.
    pub token_url: String,
    /// Where a refresh token is exchanged (the token URL, except on Trovo).
    pub refresh_url: String,
    /// Where tokens are revoked; `None` where the platform has no such endpoint.
    pub revoke_url: Option<String>,
    /// The base of the platform's API, for reading the channel (`{api_url}/users`, …).
    pub api_url: String,
    /// Twitch's token validation endpoint, which Twitch requires apps to call hourly.
    pub validate_url: Option<String>,
    pub scopes: Vec<String>,
    pub pkce: Pkce,
}

impl ProviderConfig {
    /// The real endpoints.
    pub fn defaults(platform: Platform) -> Self {
        let s = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
        match platform {
            Platform::Twitch => Self {
                platform,
                authorize_url: "https://id.twitch.tv/oauth2/authorize".into(),
                token_url: "https://id.twitch.tv/oauth2/token".into(),
                refresh_url: "https://id.twitch.tv/oauth2/token".into(),
                revoke_url: Some("https://id.twitch.tv/oauth2/revoke".into()),
                api_url: "https://api.twitch.tv/helix".into(),
                validate_url: Some("https://id.twitch.tv/oauth2/validate".into()),
                scopes: s(&TWITCH_SCOPES),
                pkce: Pkce::No,
            },
            Platform::Youtube => Self {
                platform,
                authorize_url: "https://accounts.google.com/o/oauth2/v2/auth".into(),
                token_url: "https://oauth2.googleapis.com/token".into(),
                refresh_url: "https://oauth2.googleapis.com/token".into(),
                revoke_url: Some("https://oauth2.googleapis.com/revoke".into()),
                api_url: "https://www.googleapis.com/youtube/v3".into(),
                validate_url: None,
                scopes: s(&YOUTUBE_SCOPES),
                pkce: Pkce::Supported,
            },
            Platform::Kick => Self {
                platform,
                authorize_url: "https://id.kick.com/oauth/authorize".into(),
                token_url: "https://id.kick.com/oauth/token".into(),
                refresh_url: "https://id.kick.com/oauth/token".into(),
                revoke_url: Some("https://id.kick.com/oauth/revoke".into()),
                api_url: "https://api.kick.com/public/v1".into(),
                validate_url: None,
                scopes: s(&KICK_SCOPES),
                pkce: Pkce::Required,
            },
            Platform::Trovo => Self {
                platform,
                authorize_url: "https://open.trovo.live/page/login.html".into(),
                token_url: "https://open-api.trovo.live/openplatform/exchangetoken".into(),
                refresh_url: "https://open-api.trovo.live/openplatform/refreshtoken".into(),
                revoke_url: Some("https://open-api.trovo.live/openplatform/revoke".into()),
                api_url: "https://open-api.trovo.live/openplatform".into(),
                validate_url: None,
                scopes: s(&TROVO_SCOPES),
                pkce: Pkce::No,
            },
        }
    }

    /// These defaults with the overrides of one `[providers.NAME]` table applied.
    pub fn with_overrides(platform: Platform, o: &ProviderOverrides) -> Self {
        let mut c = Self::defaults(platform);
        if let Some(v) = &o.authorize_url {
            c.authorize_url.clone_from(v);
        }
        if let Some(v) = &o.token_url {
            c.token_url.clone_from(v);
            // A moved token endpoint moves the refresh endpoint with it unless that is named
            // too (they are one endpoint everywhere but Trovo).
            if o.refresh_url.is_none() && platform != Platform::Trovo {
                c.refresh_url.clone_from(v);
            }
        }
        if let Some(v) = &o.refresh_url {
            c.refresh_url.clone_from(v);
        }
        if let Some(v) = &o.revoke_url {
            c.revoke_url = (!v.is_empty()).then(|| v.clone());
        }
        if let Some(v) = &o.api_url {
            c.api_url = v.trim_end_matches('/').to_owned();
        }
        if let Some(v) = &o.validate_url {
            c.validate_url = (!v.is_empty()).then(|| v.clone());
        }
        if let Some(v) = &o.scopes {
            c.scopes.clone_from(v);
        }
        c
    }

    /// Every URL this provider is configured with, for checking at start-up.
    pub fn urls(&self) -> Vec<(&'static str, &str)> {
        let mut v = vec![
            ("authorize_url", self.authorize_url.as_str()),
            ("token_url", self.token_url.as_str()),
            ("refresh_url", self.refresh_url.as_str()),
            ("api_url", self.api_url.as_str()),
        ];
        if let Some(u) = &self.revoke_url {
            v.push(("revoke_url", u));
        }
        if let Some(u) = &self.validate_url {
            v.push(("validate_url", u));
        }
        v
    }
}

/// One `[providers.NAME]` table of the configuration file. An empty `revoke_url` or
/// `validate_url` switches that call off.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderOverrides {
    pub authorize_url: Option<String>,
    pub token_url: Option<String>,
    pub refresh_url: Option<String>,
    pub revoke_url: Option<String>,
    pub api_url: Option<String>,
    pub validate_url: Option<String>,
    pub scopes: Option<Vec<String>>,
    /// The name shown for the global (hosted) chat bot on this platform.
    pub global_bot_name: Option<String>,
}

/// Every platform's configuration.
#[derive(Debug, Clone)]
pub struct Providers {
    configs: Vec<ProviderConfig>,
    bot_names: Vec<String>,
}

impl Default for Providers {
    fn default() -> Self {
        Self::new(&Default::default())
    }
}

impl Providers {
    /// Defaults with the overrides given per platform name.
    pub fn new(overrides: &std::collections::BTreeMap<String, ProviderOverrides>) -> Self {
        let empty = ProviderOverrides::default();
        let o = |p: Platform| overrides.get(p.as_str()).unwrap_or(&empty);
        Self {
            configs: Platform::ALL
                .iter()
                .map(|p| ProviderConfig::with_overrides(*p, o(*p)))
                .collect(),
            bot_names: Platform::ALL
                .iter()
                .map(|p| {
                    o(*p)
                        .global_bot_name
                        .clone()
                        .unwrap_or_else(|| "TesseraBot".to_owned())
                })
                .collect(),
        }
    }

    /// Points every platform at one base URL, as `{base}/{platform}/authorize`, `/token`,
    /// `/refresh`, `/revoke`, `/validate` and `/{platform}/api`: the layout of the test
    /// suite's fake platform server.
    pub fn all_at(base: &str) -> Self {
        let base = base.trim_end_matches('/');
        let mut overrides = std::collections::BTreeMap::new();
        for p in Platform::ALL {
            let b = format!("{base}/{}", p.as_str());
            overrides.insert(
                p.as_str().to_owned(),
                ProviderOverrides {
                    authorize_url: Some(format!("{b}/authorize")),
                    token_url: Some(format!("{b}/token")),
                    refresh_url: Some(format!(
                        "{b}/{}",
                        if p == Platform::Trovo {
                            "refresh"
                        } else {
                            "token"
                        }
                    )),
                    revoke_url: Some(format!("{b}/revoke")),
                    api_url: Some(format!("{b}/api")),
                    validate_url: Some(if p == Platform::Twitch {
                        format!("{b}/validate")
                    } else {
                        String::new()
                    }),
                    scopes: None,
                    global_bot_name: None,
                },
            );
        }
        Self::new(&overrides)
    }

    pub fn get(&self, p: Platform) -> &ProviderConfig {
        &self.configs[Platform::ALL.iter().position(|x| *x == p).unwrap_or(0)]
    }

    pub fn global_bot_name(&self, p: Platform) -> &str {
        &self.bot_names[Platform::ALL.iter().position(|x| *x == p).unwrap_or(0)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_scope_counts_match_the_documents() {
        let p = Providers::default();
        let counts: Vec<usize> = Platform::ALL
            .iter()
            .map(|x| p.get(*x).scopes.len())
            .collect();
        assert_eq!(counts, [27, 2, 6, 2]);
        let mut twitch = TWITCH_SCOPES.to_vec();
        twitch.sort_unstable();
        twitch.dedup();
        assert_eq!(twitch.len(), 27, "no scope twice");
    }

    #[test]
    fn overrides_replace_single_urls() {
        let mut o = std::collections::BTreeMap::new();
        o.insert(
            "twitch".to_owned(),
            ProviderOverrides {
                token_url: Some("http://127.0.0.1:9/token".into()),
                revoke_url: Some(String::new()),
                ..Default::default()
            },
        );
        let p = Providers::new(&o);
        let t = p.get(Platform::Twitch);
        assert_eq!(t.token_url, "http://127.0.0.1:9/token");
        assert_eq!(t.refresh_url, "http://127.0.0.1:9/token");
        assert_eq!(t.revoke_url, None);
        assert_eq!(t.authorize_url, "https://id.twitch.tv/oauth2/authorize");
        assert_eq!(
            p.get(Platform::Kick).token_url,
            "https://id.kick.com/oauth/token"
        );
    }
}
