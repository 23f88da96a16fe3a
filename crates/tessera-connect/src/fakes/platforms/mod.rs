//! Fake Twitch, YouTube, Kick and Trovo on 127.0.0.1: one HTTP server with the layout of
//! [`Providers::all_at`], speaking each platform's own wire shapes (form or JSON bodies, OAuth
//! error codes or prose messages, rotating or kept refresh tokens), so that the adapter and the
//! service layer are tested against what the real platforms answer, failures included.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::routing::{get, post};
use axum::Router;
use tessera_domain::Platform;

use crate::Providers;

mod api;
mod authorize;
mod revoke;
mod state;
mod token;
mod wire;

use api::{api, validate};
use authorize::authorize;
use revoke::revoke;
use state::{Plat, State0};
use token::{token, trovo_refresh};

/// How the next token-endpoint calls of a platform fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailMode {
    /// The grant is refused, in the platform's own shape.
    InvalidGrant,
    /// HTTP 500.
    ServerError,
    /// HTTP 429.
    RateLimited,
}

/// A running fake; the server stops when this is dropped.
pub struct FakePlatforms {
    pub base_url: String,
    state: Arc<Mutex<State0>>,
    server: tokio::task::JoinHandle<()>,
}

fn default_identity(p: Platform) -> (&'static str, &'static str) {
    match p {
        Platform::Twitch => ("1001", "TwitchStreamer"),
        Platform::Youtube => ("UCfakeYouTubeChannel1002", "YouTubeStreamer"),
        Platform::Kick => ("1003", "kickstreamer"),
        Platform::Trovo => ("1004", "TrovoStreamer"),
    }
}

impl FakePlatforms {
    /// Binds 127.0.0.1 on a free port and serves all four platforms there.
    pub async fn start() -> Self {
        let plats = Platform::ALL
            .into_iter()
            .map(|p| {
                let (id, name) = default_identity(p);
                (
                    p,
                    Plat {
                        apps: HashMap::new(),
                        identity: (id.to_owned(), name.to_owned()),
                        expires_in: 14400,
                        fail: None,
                        token_delay: Duration::ZERO,
                        deny_next: false,
                        calls: HashMap::new(),
                        refreshes: HashMap::new(),
                        refused_refreshes: 0,
                        revoked: Vec::new(),
                        codes: HashMap::new(),
                        access: HashMap::new(),
                        refresh: HashMap::new(),
                        last_authorize: None,
                    },
                )
            })
            .collect();
        let state = Arc::new(Mutex::new(State0 { plats, counter: 0 }));
        let app = Router::new()
            .route("/{platform}/authorize", get(authorize))
            .route("/{platform}/token", post(token))
            .route("/{platform}/refresh", post(trovo_refresh))
            .route("/{platform}/revoke", post(revoke))
            .route("/{platform}/validate", get(validate))
            .route("/{platform}/api/{*rest}", get(api))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            base_url: format!("http://{addr}"),
            state,
            server,
        }
    }

    /// Every platform pointed at this server.
    pub fn providers(&self) -> Providers {
        Providers::all_at(&self.base_url)
    }

    fn with<R>(&self, p: Platform, f: impl FnOnce(&mut Plat) -> R) -> R {
        f(self.state.lock().unwrap().plat(p))
    }

    /// Registers an app (client id and secret) on a platform.
    pub fn register_app(&self, p: Platform, client_id: &str, client_secret: &str) {
        self.with(p, |s| {
            s.apps
                .insert(client_id.to_owned(), client_secret.to_owned())
        });
    }

    /// The channel every token of `p` speaks for. On YouTube an empty `channel_id` stands for
    /// a Google account without a channel (the lookup answers no items).
    pub fn set_identity(&self, p: Platform, channel_id: &str, channel_name: &str) {
        self.with(p, |s| {
            s.identity = (channel_id.to_owned(), channel_name.to_owned())
        });
    }

    /// The lifetime announced for new access tokens (default 14400 s).
    pub fn set_expires_in(&self, p: Platform, secs: i64) {
        self.with(p, |s| s.expires_in = secs);
    }

    /// The next `times` token-endpoint calls (code or refresh) of `p` fail with `mode`.
    pub fn fail_next(&self, p: Platform, mode: FailMode, times: u32) {
        self.with(p, |s| s.fail = (times > 0).then_some((mode, times)));
    }

    /// The token endpoint of `p` waits this long before answering.
    pub fn set_token_delay(&self, p: Platform, d: Duration) {
        self.with(p, |s| s.token_delay = d);
    }

    /// The next authorization of `p` is denied by the user.
    pub fn deny_next_authorize(&self, p: Platform) {
        self.with(p, |s| s.deny_next = true);
    }

    /// Token-endpoint calls of `p` with this grant type, refused ones included.
    pub fn token_calls(&self, p: Platform, grant_type: &str) -> u32 {
        self.with(p, |s| s.calls.get(grant_type).copied().unwrap_or(0))
    }

    /// Refreshes of `p` accepted for the app `client_id`.
    pub fn refreshes_of(&self, p: Platform, client_id: &str) -> u32 {
        self.with(p, |s| s.refreshes.get(client_id).copied().unwrap_or(0))
    }

    /// Refresh tokens presented to `p` that were already spent (rotated away), revoked or
    /// never issued: a refresh token spent twice shows here.
    pub fn refused_refreshes(&self, p: Platform) -> u32 {
        self.with(p, |s| s.refused_refreshes)
    }

    /// The tokens revoked on `p`, in order.
    pub fn revoked(&self, p: Platform) -> Vec<String> {
        self.with(p, |s| s.revoked.clone())
    }

    /// Every token of `p` stops working, as if the user had disconnected the app.
    pub fn invalidate_grants(&self, p: Platform) {
        self.with(p, |s| {
            s.access.clear();
            s.refresh.clear();
        });
    }

    /// The live refresh token of `p` issued most recently.
    pub fn current_refresh_token(&self, p: Platform) -> Option<String> {
        self.with(p, |s| {
            s.refresh
                .iter()
                .max_by_key(|(_, t)| t.seq)
                .map(|(k, _)| k.clone())
        })
    }

    pub fn is_access_token_valid(&self, p: Platform, t: &str) -> bool {
        self.with(p, |s| s.access.contains_key(t))
    }

    /// The query the authorize endpoint of `p` last received.
    pub fn last_authorize_query(&self, p: Platform) -> Option<Vec<(String, String)>> {
        self.with(p, |s| s.last_authorize.clone())
    }
}

impl Drop for FakePlatforms {
    fn drop(&mut self) {
        self.server.abort();
    }
}
