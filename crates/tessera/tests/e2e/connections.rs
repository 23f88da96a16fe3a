//! Connections end to end, against fake platforms, OBS and Streamer.bot on 127.0.0.1: the
//! card states, credentials, connect / reconnect / disconnect, state checks, the refresh
//! worker with a mock clock (ahead of expiry, rotation, red on `invalid_grant`, back-off on
//! 500s, two workers), the fresh-token API, the vault's row binding, integration tests,
//! StreamElements tokens and bot connections.

use std::sync::Arc;

use reqwest::Method;
use serde_json::{json, Value};
use tessera_domain::clock::MockClock;
use tessera_domain::Platform;
use tessera_testkit::fakes::platforms::{FailMode, FakePlatforms};
use tessera_testkit::TestServer;

use crate::support::{call, json};

struct Env {
    srv: TestServer,
    fake: FakePlatforms,
    clock: MockClock,
    key: String,
    /// A client that does not follow redirects, like a test of each hop.
    browser: reqwest::Client,
}

async fn env() -> Env {
    let fake = FakePlatforms::start().await;
    let clock = MockClock::new(time::OffsetDateTime::now_utc());
    let srv = TestServer::start_with(Arc::new(clock.clone()), fake.providers()).await;
    srv.org("acme").await;
    let key = srv
        .org_key("acme", &["owner"], &["connections:token"])
        .await;
    Env {
        srv,
        fake,
        clock,
        key,
        browser: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
    }
}

impl Env {
    async fn get(&self, path: &str) -> (u16, Value) {
        json(call(&self.srv, Method::GET, path, Some(&self.key), None).await).await
    }

    async fn card(&self, p: &str) -> Value {
        let (s, cards) = self.get("/orgs/acme/api/v1/connections").await;
        assert_eq!(s, 200, "{cards}");
        cards
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["platform"] == p)
            .cloned()
            .unwrap()
    }

    async fn credentials(&self, p: Platform, id: &str, secret: &str) {
        self.fake.register_app(p, id, secret);
        let (s, v) = json(
            call(
                &self.srv,
                Method::PUT,
                &format!("/orgs/acme/api/v1/connections/credentials/{}", p.as_str()),
                Some(&self.key),
                Some(json!({"clientId": id, "clientSecret": secret})),
            )
            .await,
        )
        .await;
        assert_eq!(s, 200, "{v}");
    }

    /// Connect (or Reconnect) as a browser would: the authorization URL, the platform's
    /// redirect back, the callback's redirect to the page. The final Location.
    async fn connect_as(&self, path: &str) -> String {
        let (s, v) = json(call(&self.srv, Method::POST, path, Some(&self.key), None).await).await;
        assert_eq!(s, 200, "{v}");
        let url = v["authorizationUrl"].as_str().unwrap().to_owned();
        let back = self.hop(&url).await;
        self.hop(&back).await
    }

    async fn connect(&self, p: Platform) -> String {
        self.connect_as(&format!(
            "/orgs/acme/api/v1/connections/{}/authorize",
            p.as_str()
        ))
        .await
    }

    /// GET and the Location it redirects to.
    async fn hop(&self, url: &str) -> String {
        let res = self.browser.get(url).send().await.unwrap();
        assert!(res.status().is_redirection(), "{url}: {}", res.status());
        res.headers()["location"].to_str().unwrap().to_owned()
    }

    async fn tick(&self) -> usize {
        self.srv.services.refresh_due_connections().await.unwrap()
    }

    async fn sealed(&self, sql: &str) -> Vec<String> {
        use sqlx::Row;
        match tessera_testkit::backend() {
            tessera_testkit::Backend::Sqlite => {
                let pool = sqlx::SqlitePool::connect(&self.srv.db.url).await.unwrap();
                let rows = sqlx::query(sql).fetch_all(&pool).await.unwrap();
                rows.iter().map(|r| r.get::<String, _>(0)).collect()
            }
            tessera_testkit::Backend::Postgres => {
                let pool = sqlx::PgPool::connect(&self.srv.db.url).await.unwrap();
                let rows = sqlx::query(sql).fetch_all(&pool).await.unwrap();
                rows.iter().map(|r| r.get::<String, _>(0)).collect()
            }
        }
    }

    async fn exec(&self, sql: &str) {
        match tessera_testkit::backend() {
            tessera_testkit::Backend::Sqlite => {
                let pool = sqlx::SqlitePool::connect(&self.srv.db.url).await.unwrap();
                sqlx::query(sql).execute(&pool).await.unwrap();
            }
            tessera_testkit::Backend::Postgres => {
                let pool = sqlx::PgPool::connect(&self.srv.db.url).await.unwrap();
                sqlx::query(sql).execute(&pool).await.unwrap();
            }
        }
    }

    async fn audit_actions(&self) -> Vec<String> {
        let (_, v) = self
            .get("/orgs/acme/api/v1/admin/audit-log?limit=200")
            .await;
        v.as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap().to_owned())
            .collect()
    }
}

#[tokio::test]
async fn cards_credentials_connect_reconnect_disconnect() {
    let e = env().await;
    // Every platform starts without credentials.
    let (s, cards) = e.get("/orgs/acme/api/v1/connections").await;
    assert_eq!(s, 200);
    let names: Vec<&str> = cards
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["platform"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["twitch", "youtube", "kick", "trovo"]);
    for c in cards.as_array().unwrap() {
        assert_eq!(c["state"], "not_configured");
        assert_eq!(
            c["message"],
            "Set up app credentials to connect this platform."
        );
    }
    let counts: Vec<usize> = cards
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["defaultScopes"].as_array().unwrap().len())
        .collect();
    assert_eq!(counts, [27, 2, 6, 2]);

    // A system administrator switches Trovo off: Unavailable.
    let sys = e.srv.system_key().await;
    let (s, v) = json(
        call(
            &e.srv,
            Method::PATCH,
            "/api/v1/system/providers/trovo",
            Some(&sys),
            Some(json!({"enabled": false})),
        )
        .await,
    )
    .await;
    assert_eq!((s, &v["enabled"]), (200, &json!(false)), "{v}");
    assert_eq!(e.card("trovo").await["state"], "unavailable");
    let (s, _) = json(
        call(
            &e.srv,
            Method::PATCH,
            "/api/v1/system/providers/trovo",
            Some(&e.key),
            Some(json!({"enabled": true})),
        )
        .await,
    )
    .await;
    assert_eq!(s, 403, "an organization key cannot switch providers");

    // Credentials: a hint of the client id, never the secret.
    e.credentials(Platform::Twitch, "twitch-app-1234", "s3cret-twitch")
        .await;
    let (_, creds) = e.get("/orgs/acme/api/v1/connections/credentials").await;
    let twitch = &creds[0];
    assert_eq!(twitch["clientIdHint"], "1234");
    assert!(twitch["redirectUri"]
        .as_str()
        .unwrap()
        .ends_with("/orgs/acme/api/v1/connections/twitch/callback"));
    assert!(!creds.to_string().contains("s3cret"));
    let card = e.card("twitch").await;
    assert_eq!(card["state"], "credentials_configured");
    assert_eq!(
        card["message"],
        "Credentials configured. Click Connect to authorize."
    );
    let (s, v) = json(
        call(
            &e.srv,
            Method::PUT,
            "/orgs/acme/api/v1/connections/credentials/twitch",
            Some(&e.key),
            Some(json!({"clientId": "", "clientSecret": "a\nb"})),
        )
        .await,
    )
    .await;
    assert_eq!(s, 400);
    let fields: Vec<&str> = v["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["clientId", "clientSecret"]);

    // Connect.
    let loc = e.connect(Platform::Twitch).await;
    assert_eq!(loc, "/dashboard/connections?connected=twitch");
    let card = e.card("twitch").await;
    assert_eq!(card["state"], "connected", "{card}");
    assert_eq!(card["channelName"], "TwitchStreamer");
    assert_eq!(card["channelId"], "1001");
    assert_eq!(card["scopes"].as_array().unwrap().len(), 27);
    assert!(card["tokenExpiresAt"].is_string());
    assert_eq!(card["refreshFailed"], false);
    assert!(
        !card.to_string().contains("at-twitch"),
        "no token in a card"
    );
    let connected_at = card["connectedAt"].clone();

    // Stored sealed: no plaintext in the database.
    let sealed = e
        .sealed("SELECT access_token FROM connections UNION ALL SELECT refresh_token FROM connections UNION ALL SELECT client_secret FROM platform_credentials UNION ALL SELECT client_id FROM platform_credentials")
        .await;
    assert_eq!(sealed.len(), 4);
    for v in &sealed {
        assert!(v.starts_with("v1."), "{v}");
        for plain in ["at-twitch", "rt-twitch", "s3cret", "twitch-app"] {
            assert!(!v.contains(plain), "plaintext {plain} in {v}");
        }
    }

    // Reconnect overwrites the tokens, keeps the channel and the connected date.
    e.clock.advance(time::Duration::seconds(5));
    let loc = e.connect(Platform::Twitch).await;
    assert_eq!(loc, "/dashboard/connections?connected=twitch");
    assert_eq!(
        e.fake.token_calls(Platform::Twitch, "authorization_code"),
        2
    );
    let card = e.card("twitch").await;
    assert_eq!(card["connectedAt"], connected_at);
    assert_ne!(card["updatedAt"], connected_at);

    // Reconnecting as another account is refused with a readable error.
    e.fake.set_identity(Platform::Twitch, "2002", "SomeoneElse");
    let loc = e.connect(Platform::Twitch).await;
    assert!(
        loc.starts_with("/dashboard/connections?error=channel_mismatch"),
        "{loc}"
    );
    assert!(loc.contains("SomeoneElse"), "{loc}");
    assert_eq!(e.card("twitch").await["channelId"], "1001");
    e.fake
        .set_identity(Platform::Twitch, "1001", "TwitchStreamer");

    // Disconnect: revoked at the platform, credentials kept.
    let (s, _) = json(
        call(
            &e.srv,
            Method::DELETE,
            "/orgs/acme/api/v1/connections/twitch",
            Some(&e.key),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(s, 204);
    assert!(!e.fake.revoked(Platform::Twitch).is_empty());
    assert_eq!(e.card("twitch").await["state"], "credentials_configured");
    let (s, _) = e.get("/orgs/acme/api/v1/connections/twitch/token").await;
    assert_eq!(s, 404);

    // Deleting the credentials ends the connection.
    e.connect(Platform::Twitch).await;
    assert_eq!(e.card("twitch").await["state"], "connected");
    let (s, _) = json(
        call(
            &e.srv,
            Method::DELETE,
            "/orgs/acme/api/v1/connections/credentials/twitch",
            Some(&e.key),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(s, 204);
    assert_eq!(e.card("twitch").await["state"], "not_configured");
    assert_eq!(
        e.sealed("SELECT id FROM connections").await.len(),
        0,
        "the connection is gone"
    );

    let actions = e.audit_actions().await;
    for a in [
        "connection.credentials_saved",
        "connection.connected",
        "connection.connect_failed",
        "connection.disconnected",
        "connection.credentials_deleted",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} in {actions:?}");
    }

    // Nothing crosses organizations; permissions are named.
    e.srv.org("other").await;
    let other = e.srv.org_key("other", &["owner"], &[]).await;
    let (s, _) = json(
        call(
            &e.srv,
            Method::GET,
            "/orgs/acme/api/v1/connections",
            Some(&other),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(s, 404);
    let viewer = e.srv.org_key("acme", &["viewer"], &[]).await;
    let (s, v) = json(
        call(
            &e.srv,
            Method::POST,
            "/orgs/acme/api/v1/connections/youtube/authorize",
            Some(&viewer),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(s, 403);
    assert!(v["error_description"]
        .as_str()
        .unwrap()
        .contains("connections:edit"));
    let (s, _) = json(
        call(
            &e.srv,
            Method::GET,
            "/orgs/acme/api/v1/connections",
            Some(&viewer),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(s, 200, "viewers see the cards");
}

#[tokio::test]
async fn state_is_single_use_and_bound_and_platform_errors_redirect_readably() {
    let e = env().await;
    e.credentials(Platform::Kick, "kick-app-9876", "kick-secret")
        .await;
    let (_, v) = json(
        call(
            &e.srv,
            Method::POST,
            "/orgs/acme/api/v1/connections/kick/authorize",
            Some(&e.key),
            None,
        )
        .await,
    )
    .await;
    let url = v["authorizationUrl"].as_str().unwrap().to_owned();
    assert!(url.contains("code_challenge="), "Kick requires PKCE: {url}");
    assert!(url.contains("code_challenge_method=S256"));
    let callback = e.hop(&url).await;

    // The same state at another organization's or platform's callback is refused (and is
    // spent by the attempt).
    e.srv.org("evil").await;
    let stolen = callback.replace("/orgs/acme/", "/orgs/evil/");
    let loc = e.hop(&stolen).await;
    assert!(
        loc.starts_with("/dashboard/connections?error=invalid_state"),
        "{loc}"
    );
    assert_eq!(e.card("kick").await["state"], "credentials_configured");

    // A fresh flow works once; its replay is refused.
    let loc = e.connect(Platform::Kick).await;
    assert_eq!(loc, "/dashboard/connections?connected=kick");
    let (_, v) = json(
        call(
            &e.srv,
            Method::POST,
            "/orgs/acme/api/v1/connections/kick/authorize",
            Some(&e.key),
            None,
        )
        .await,
    )
    .await;
    let cb = e.hop(v["authorizationUrl"].as_str().unwrap()).await;
    assert_eq!(e.hop(&cb).await, "/dashboard/connections?connected=kick");
    let replay = e.hop(&cb).await;
    assert!(replay.contains("error=invalid_state"), "{replay}");
    let wrong_platform = cb.replace("/connections/kick/", "/connections/twitch/");
    assert!(e.hop(&wrong_platform).await.contains("error=invalid_state"));
    let forged = e
        .hop(
            &e.srv
                .url("/orgs/acme/api/v1/connections/kick/callback?code=x&state=made-up"),
        )
        .await;
    assert!(forged.contains("error=invalid_state"), "{forged}");
    let empty = e
        .hop(&e.srv.url("/orgs/acme/api/v1/connections/kick/callback"))
        .await;
    assert!(empty.contains("error=invalid_state"), "{empty}");

    // The user says no at the platform.
    e.fake.deny_next_authorize(Platform::Kick);
    let loc = e.connect(Platform::Kick).await;
    assert!(loc.contains("error=access_denied"), "{loc}");
    assert!(loc.contains("platform=kick"), "{loc}");

    // Wrong client secret: a readable error naming App Credentials, never a 500.
    e.fake
        .register_app(Platform::Kick, "kick-app-9876", "rotated-at-kick");
    let loc = e.connect(Platform::Kick).await;
    assert!(loc.contains("error=token_exchange_failed"), "{loc}");
    let msg: String = url::form_urlencoded::parse(loc.split_once('?').unwrap().1.as_bytes())
        .find(|(k, _)| k == "message")
        .unwrap()
        .1
        .into_owned();
    assert!(msg.contains("App Credentials"), "{msg}");

    // Switched off system-wide while a flow was under way: refused on the way back.
    e.fake
        .register_app(Platform::Kick, "kick-app-9876", "kick-secret");
    let (_, v) = json(
        call(
            &e.srv,
            Method::POST,
            "/orgs/acme/api/v1/connections/kick/authorize",
            Some(&e.key),
            None,
        )
        .await,
    )
    .await;
    let cb = e.hop(v["authorizationUrl"].as_str().unwrap()).await;
    let sys = e.srv.system_key().await;
    let switch = |on: bool| {
        call(
            &e.srv,
            Method::PATCH,
            "/api/v1/system/providers/kick",
            Some(&sys),
            Some(json!({ "enabled": on })),
        )
    };
    assert_eq!(switch(false).await.status(), 200);
    assert!(e.hop(&cb).await.contains("error=unavailable"));
    assert_eq!(e.card("kick").await["state"], "unavailable");
    assert_eq!(switch(true).await.status(), 200);

    // The platform is down.
    e.fake.fail_next(Platform::Kick, FailMode::ServerError, 1);
    let loc = e.connect(Platform::Kick).await;
    assert!(loc.contains("error=token_exchange_failed"), "{loc}");
    // Still connected from before, tokens untouched.
    assert_eq!(e.card("kick").await["state"], "connected");
}

#[tokio::test]
async fn worker_refreshes_ahead_rotates_backs_off_and_marks_refused_tokens_red() {
    let e = env().await;
    e.fake.set_expires_in(Platform::Twitch, 3600);
    e.credentials(Platform::Twitch, "twitch-app-1", "secret-1")
        .await;
    e.connect(Platform::Twitch).await;
    let first_rt = e.fake.current_refresh_token(Platform::Twitch).unwrap();

    // Nothing is due yet.
    e.tick().await;
    assert_eq!(e.fake.token_calls(Platform::Twitch, "refresh_token"), 0);

    // 55 minutes in, a 1-hour token is inside its 6-minute lead: refreshed before expiry.
    e.clock.advance(time::Duration::minutes(55));
    assert_eq!(e.tick().await, 1);
    assert_eq!(e.fake.token_calls(Platform::Twitch, "refresh_token"), 1);
    let rotated = e.fake.current_refresh_token(Platform::Twitch).unwrap();
    assert_ne!(rotated, first_rt, "the platform rotated the refresh token");
    let card = e.card("twitch").await;
    assert_eq!(card["refresh"]["status"], "ok", "{card}");
    let (s, t) = e.get("/orgs/acme/api/v1/connections/twitch/token").await;
    assert_eq!(s, 200, "{t}");
    assert!(e
        .fake
        .is_access_token_valid(Platform::Twitch, t["accessToken"].as_str().unwrap()));
    assert_eq!(t["clientId"], "twitch-app-1");

    // The rotated refresh token was stored: the next refresh (which the fake only accepts
    // with it) succeeds.
    e.clock.advance(time::Duration::minutes(55));
    e.tick().await;
    assert_eq!(e.fake.token_calls(Platform::Twitch, "refresh_token"), 2);
    assert_eq!(e.card("twitch").await["refresh"]["status"], "ok");

    // A 500 is retried after a back-off, not at once.
    e.fake.fail_next(Platform::Twitch, FailMode::ServerError, 1);
    e.clock.advance(time::Duration::minutes(55));
    e.tick().await;
    assert_eq!(e.fake.token_calls(Platform::Twitch, "refresh_token"), 3);
    let card = e.card("twitch").await;
    assert_eq!(card["refresh"]["status"], "retrying", "{card}");
    assert_eq!(card["refreshFailed"], false);
    e.clock.advance(time::Duration::seconds(5));
    e.tick().await;
    assert_eq!(
        e.fake.token_calls(Platform::Twitch, "refresh_token"),
        3,
        "backing off"
    );
    e.clock.advance(time::Duration::seconds(30));
    e.tick().await;
    assert_eq!(e.fake.token_calls(Platform::Twitch, "refresh_token"), 4);
    assert_eq!(e.card("twitch").await["refresh"]["status"], "ok");

    // The user revoked the app at Twitch: invalid_grant turns the card red.
    e.fake.invalidate_grants(Platform::Twitch);
    e.clock.advance(time::Duration::minutes(55));
    e.tick().await;
    let card = e.card("twitch").await;
    assert_eq!(card["state"], "connected");
    assert_eq!(card["refreshFailed"], true, "{card}");
    assert_eq!(card["refresh"]["status"], "failed");
    assert!(e
        .audit_actions()
        .await
        .contains(&"connection.refresh_failed".to_owned()));
    let (s, v) = e.get("/orgs/acme/api/v1/connections/twitch/token").await;
    assert_eq!(s, 409, "never an expired or refused token: {v}");
    let calls = e.fake.token_calls(Platform::Twitch, "refresh_token");
    e.clock.advance(time::Duration::hours(2));
    e.tick().await;
    assert_eq!(
        e.fake.token_calls(Platform::Twitch, "refresh_token"),
        calls,
        "a red connection is not retried"
    );
    let metrics = e
        .srv
        .http
        .get(e.srv.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("tessera_connection_refresh_failures_total 1"),
        "{metrics}"
    );
    assert!(metrics.contains("tessera_connections_refresh_failed 1"));

    // Reconnect fixes it.
    e.connect(Platform::Twitch).await;
    assert_eq!(e.card("twitch").await["refreshFailed"], false);
}

#[tokio::test]
async fn two_workers_on_one_database_refresh_each_token_once() {
    let e = env().await;
    for (p, id) in [
        (Platform::Twitch, "t-app"),
        (Platform::Youtube, "y-app"),
        (Platform::Kick, "k-app"),
    ] {
        e.fake.set_expires_in(p, 3600);
        e.fake
            .set_token_delay(p, std::time::Duration::from_millis(150));
        e.credentials(p, id, "secret").await;
        e.connect(p).await;
    }
    let other = e.srv.second_node(Arc::new(e.clock.clone())).await;
    e.clock.advance(time::Duration::minutes(56));
    let a = Arc::clone(&e.srv.services);
    let b = Arc::clone(&other);
    let (ra, rb) = tokio::join!(
        async {
            let mut n = 0;
            for _ in 0..3 {
                n += a.refresh_due_connections().await.unwrap();
            }
            n
        },
        async {
            let mut n = 0;
            for _ in 0..3 {
                n += b.refresh_due_connections().await.unwrap();
            }
            n
        }
    );
    assert_eq!(ra + rb, 3, "each connection worked on once ({ra} + {rb})");
    for p in [Platform::Twitch, Platform::Youtube, Platform::Kick] {
        assert_eq!(e.fake.token_calls(p, "refresh_token"), 1, "{p}");
        assert_eq!(e.card(p.as_str()).await["refresh"]["status"], "ok");
    }
}

#[tokio::test]
async fn fresh_token_api_refreshes_on_the_spot_once() {
    let e = env().await;
    e.fake.set_expires_in(Platform::Youtube, 120);
    e.credentials(Platform::Youtube, "yt-app", "yt-secret")
        .await;
    e.connect(Platform::Youtube).await;
    let (s, first) = e.get("/orgs/acme/api/v1/connections/youtube/token").await;
    assert_eq!(s, 200, "{first}");
    assert_eq!(first["channelName"], "YouTubeStreamer");
    assert_eq!(e.fake.token_calls(Platform::Youtube, "refresh_token"), 0);

    // 90 s later the token has 30 s left: ten consumers at once get one refresh.
    e.clock.advance(time::Duration::seconds(90));
    e.fake
        .set_token_delay(Platform::Youtube, std::time::Duration::from_millis(100));
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..10 {
        let http = e.srv.http.clone();
        let url = e.srv.url("/orgs/acme/api/v1/connections/youtube/token");
        let key = e.key.clone();
        set.spawn(async move {
            let r = http.get(url).bearer_auth(key).send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        });
    }
    let mut tokens = std::collections::HashSet::new();
    while let Some(r) = set.join_next().await {
        let (s, v) = r.unwrap();
        assert_eq!(s, 200, "{v}");
        tokens.insert(v["accessToken"].as_str().unwrap().to_owned());
    }
    assert_eq!(tokens.len(), 1, "{tokens:?}");
    assert_ne!(
        tokens.iter().next().unwrap(),
        first["accessToken"].as_str().unwrap()
    );
    assert_eq!(e.fake.token_calls(Platform::Youtube, "refresh_token"), 1);
    // YouTube does not rotate: the same refresh token still works later.
    e.clock.advance(time::Duration::seconds(90));
    let (s, _) = e.get("/orgs/acme/api/v1/connections/youtube/token").await;
    assert_eq!(s, 200);
    assert_eq!(e.fake.token_calls(Platform::Youtube, "refresh_token"), 2);

    // Its own permission.
    let editor = e
        .srv
        .org_key("acme", &[], &["connections:read", "connections:edit"])
        .await;
    let (s, v) = json(
        call(
            &e.srv,
            Method::GET,
            "/orgs/acme/api/v1/connections/youtube/token",
            Some(&editor),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(s, 403);
    assert!(v["error_description"]
        .as_str()
        .unwrap()
        .contains("connections:token"));

    // The platform is down and the token has expired: an error, never the expired token.
    e.fake
        .fail_next(Platform::Youtube, FailMode::ServerError, 5);
    e.clock.advance(time::Duration::seconds(200));
    let (s, v) = e.get("/orgs/acme/api/v1/connections/youtube/token").await;
    assert_eq!(s, 503, "{v}");
}

#[tokio::test]
async fn sealed_values_open_only_in_their_own_row_and_reencrypt_under_a_new_key() {
    let e = env().await;
    e.credentials(Platform::Twitch, "twitch-app", "twitch-secret")
        .await;
    e.credentials(Platform::Kick, "kick-app", "kick-secret")
        .await;
    e.connect(Platform::Twitch).await;
    e.connect(Platform::Kick).await;

    // A new vault key: a node with it first re-encrypts everything; the old key still opens
    // what it has not reached.
    let new_key = Arc::new(tessera_crypto::MasterKey::from_bytes([42; 32]));
    let rotated = e
        .srv
        .second_node_with_vault_keys(Arc::new(e.clock.clone()), vec![new_key])
        .await;
    let cli = tessera_core::Context::cli();
    let before = rotated.vault_status(&cli).await.unwrap();
    assert!(before.total >= 9, "{before:?}");
    assert_eq!(before.pending, before.total);
    let report = rotated.reencrypt_vault(&cli, &|_, _| {}).await.unwrap();
    assert_eq!(report.resealed, before.total);
    let after = rotated.vault_status(&cli).await.unwrap();
    assert_eq!(after.pending, 0);
    let again = rotated.reencrypt_vault(&cli, &|_, _| {}).await.unwrap();
    assert_eq!((again.resealed, again.already_current), (0, before.total));
    let t = rotated
        .fresh_token(
            &cli,
            "acme",
            "kick",
            tessera_domain::ConnectionKind::Channel,
        )
        .await
        .unwrap();
    assert!(e.fake.is_access_token_valid(
        Platform::Kick,
        serde_json::to_value(&t).unwrap()["accessToken"]
            .as_str()
            .unwrap()
    ));

    // A sealed value copied into another row does not open there.
    e.exec(
        "UPDATE connections SET access_token = (SELECT access_token FROM connections WHERE platform = 'twitch') WHERE platform = 'kick'",
    )
    .await;
    let r = rotated
        .fresh_token(
            &cli,
            "acme",
            "kick",
            tessera_domain::ConnectionKind::Channel,
        )
        .await;
    assert!(r.is_err(), "a moved ciphertext must not open");
    let t = rotated
        .fresh_token(
            &cli,
            "acme",
            "twitch",
            tessera_domain::ConnectionKind::Channel,
        )
        .await;
    assert!(t.is_ok(), "its own row still opens");
}

#[tokio::test]
async fn integrations_report_success_wrong_password_and_timeout() {
    use tessera_testkit::fakes::obs::FakeObs;
    use tessera_testkit::fakes::streamerbot::FakeStreamerBot;
    let e = env().await;
    let obs = FakeObs::start(Some("obs-pass"), "30.1.2").await;
    let (s, created) = json(
        call(
            &e.srv,
            Method::POST,
            "/orgs/acme/api/v1/integrations",
            Some(&e.key),
            Some(json!({"type": "obs", "port": obs.port, "password": "obs-pass"})),
        )
        .await,
    )
    .await;
    assert_eq!(s, 201, "{created}");
    assert_eq!(created["hasPassword"], true);
    assert_eq!(created["remoteAccess"], false);
    assert!(!created.to_string().contains("obs-pass"));
    let id = created["id"].as_str().unwrap().to_owned();
    let test = |id: String| {
        let e = &e;
        async move {
            json(
                call(
                    &e.srv,
                    Method::POST,
                    &format!("/orgs/acme/api/v1/integrations/{id}/test"),
                    Some(&e.key),
                    None,
                )
                .await,
            )
            .await
        }
    };
    let (s, v) = test(id.clone()).await;
    assert_eq!(s, 200);
    assert_eq!(v["success"], true, "{v}");
    assert_eq!(v["message"], "Connected to OBS 30.1.2 successfully!");

    // Wrong password.
    let (s, _) = json(
        call(
            &e.srv,
            Method::PATCH,
            &format!("/orgs/acme/api/v1/integrations/{id}"),
            Some(&e.key),
            Some(json!({"password": "wrong"})),
        )
        .await,
    )
    .await;
    assert_eq!(s, 200);
    let (_, v) = test(id.clone()).await;
    assert_eq!(v["outcome"]["result"], "auth_failed", "{v}");
    assert!(v["message"]
        .as_str()
        .unwrap()
        .contains("Authentication failed"));

    // Nothing answers: a timeout, told apart from an auth failure.
    let silent = FakeObs::silent().await;
    let (_, v) = json(
        call(
            &e.srv,
            Method::PATCH,
            &format!("/orgs/acme/api/v1/integrations/{id}"),
            Some(&e.key),
            Some(json!({"port": silent.port, "enabled": false})),
        )
        .await,
    )
    .await;
    assert_eq!(v["enabled"], false);
    let (_, v) = test(id.clone()).await;
    assert_eq!(v["outcome"]["result"], "timed_out", "{v}");
    assert!(v["message"].as_str().unwrap().starts_with("Timed out"));

    // Streamer.bot, the same three.
    let sb = FakeStreamerBot::start(Some("sb-pass"), "0.2.4", "/").await;
    let (s, created) = json(
        call(
            &e.srv,
            Method::POST,
            "/orgs/acme/api/v1/integrations",
            Some(&e.key),
            Some(json!({"type": "streamerbot", "label": "Main PC", "port": sb.port, "password": "sb-pass"})),
        )
        .await,
    )
    .await;
    assert_eq!(s, 201, "{created}");
    assert_eq!(
        (&created["host"], &created["endpoint"]),
        (&json!("127.0.0.1"), &json!("/"))
    );
    let sid = created["id"].as_str().unwrap().to_owned();
    let (_, v) = test(sid.clone()).await;
    assert_eq!(v["success"], true, "{v}");
    assert!(v["message"].as_str().unwrap().contains("0.2.4"));
    e.srv
        .http
        .patch(e.srv.url(&format!("/orgs/acme/api/v1/integrations/{sid}")))
        .bearer_auth(&e.key)
        .json(&json!({"password": "nope"}))
        .send()
        .await
        .unwrap();
    let (_, v) = test(sid.clone()).await;
    assert_eq!(v["outcome"]["result"], "auth_failed", "{v}");
    let quiet = FakeStreamerBot::silent().await;
    e.srv
        .http
        .patch(e.srv.url(&format!("/orgs/acme/api/v1/integrations/{sid}")))
        .bearer_auth(&e.key)
        .json(&json!({"port": quiet.port}))
        .send()
        .await
        .unwrap();
    let (_, v) = test(sid.clone()).await;
    assert_eq!(v["outcome"]["result"], "timed_out", "{v}");

    // A test makes the server connect out: editors only.
    let viewer = e.srv.org_key("acme", &["viewer"], &[]).await;
    let (s, _) = json(
        call(
            &e.srv,
            Method::POST,
            &format!("/orgs/acme/api/v1/integrations/{sid}/test"),
            Some(&viewer),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(s, 403);

    // Bad input is named; listing and removal.
    let (s, v) = json(
        call(
            &e.srv,
            Method::POST,
            "/orgs/acme/api/v1/integrations",
            Some(&e.key),
            Some(json!({"type": "obs", "remoteAccess": true, "port": 0})),
        )
        .await,
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(v["details"][0]["field"], "host");
    let (_, list) = e.get("/orgs/acme/api/v1/integrations").await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    let (s, _) = json(
        call(
            &e.srv,
            Method::DELETE,
            &format!("/orgs/acme/api/v1/integrations/{id}"),
            Some(&e.key),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(s, 204);
    let (_, list) = e.get("/orgs/acme/api/v1/integrations").await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let sealed = e.sealed("SELECT password FROM integrations").await;
    assert!(sealed
        .iter()
        .all(|p| p.starts_with("v1.") && !p.contains("nope")));
}

#[tokio::test]
async fn streamelements_tokens_and_bot_connections() {
    let e = env().await;
    let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJjaGFubmVsIjoiYWJjIn0.c2lnbmF0dXJlX3ZhbHVlX3h5ejQ";
    let (s, v) = json(
        call(
            &e.srv,
            Method::POST,
            "/orgs/acme/api/v1/streamelements-tokens",
            Some(&e.key),
            Some(json!({"platform": "twitch", "token": jwt, "label": "Main Channel"})),
        )
        .await,
    )
    .await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["hint"], "…5ejQ");
    assert!(!v.to_string().contains(jwt));
    let id = v["id"].as_str().unwrap().to_owned();
    let (s, v) = json(
        call(
            &e.srv,
            Method::POST,
            "/orgs/acme/api/v1/streamelements-tokens",
            Some(&e.key),
            Some(json!({"platform": "mixer", "token": "not a jwt"})),
        )
        .await,
    )
    .await;
    assert_eq!(s, 400);
    let fields: Vec<&str> = v["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["platform", "token"]);
    let sealed = e.sealed("SELECT token FROM streamelements_tokens").await;
    // None of the token's parts in the clear. (Not "no `eyJ`": three characters turn up in
    // random ciphertext about once in a thousand runs, and did.)
    assert!(sealed[0].starts_with("v1."));
    assert!(
        !jwt.split('.').any(|part| sealed[0].contains(part)),
        "{}",
        sealed[0]
    );
    let (s, _) = json(
        call(
            &e.srv,
            Method::DELETE,
            &format!("/orgs/acme/api/v1/streamelements-tokens/{id}"),
            Some(&e.key),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(s, 204);
    let (_, list) = e.get("/orgs/acme/api/v1/streamelements-tokens").await;
    assert_eq!(list, json!([]));

    // Bots: global by default; a custom bot through the same connect machinery.
    let (_, bots) = e.get("/orgs/acme/api/v1/bot-connections").await;
    assert!(bots
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["platform"] != "discord")
        .all(|b| b["mode"] == "global" && b["botName"] == "TesseraBot"));
    // Discord's is the administrators' (none configured here).
    let discord = bots.as_array().unwrap().last().unwrap();
    assert_eq!(
        (&discord["platform"], &discord["mode"], &discord["enabled"]),
        (&json!("discord"), &json!("managed"), &json!(false))
    );
    e.credentials(Platform::Twitch, "twitch-app", "twitch-secret")
        .await;
    e.connect(Platform::Twitch).await;
    e.fake.set_identity(Platform::Twitch, "5005", "MyBot");
    let loc = e
        .connect_as("/orgs/acme/api/v1/bot-connections/twitch/authorize")
        .await;
    assert_eq!(loc, "/dashboard/connections/bot?connected=twitch");
    let (_, bots) = e.get("/orgs/acme/api/v1/bot-connections").await;
    assert_eq!(bots[0]["mode"], "custom");
    assert_eq!(bots[0]["botName"], "MyBot");
    assert_eq!(e.card("twitch").await["channelName"], "TwitchStreamer");
    let (s, t) = e
        .get("/orgs/acme/api/v1/connections/twitch/token?identity=bot")
        .await;
    assert_eq!((s, &t["channelName"]), (200, &json!("MyBot")));
    let (s, _) = json(
        call(
            &e.srv,
            Method::DELETE,
            "/orgs/acme/api/v1/bot-connections/twitch",
            Some(&e.key),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(s, 204);
    let (_, bots) = e.get("/orgs/acme/api/v1/bot-connections").await;
    assert_eq!(bots[0]["mode"], "global", "falls back to the global bot");
    assert_eq!(e.card("twitch").await["state"], "connected");
    assert!(e
        .audit_actions()
        .await
        .contains(&"bot_connection.disconnected".to_owned()));
}

#[tokio::test]
async fn twitch_tokens_are_validated_hourly_and_a_revoked_one_turns_red() {
    let e = env().await;
    e.fake.set_expires_in(Platform::Twitch, 4 * 3600);
    e.credentials(Platform::Twitch, "twitch-app", "secret")
        .await;
    e.connect(Platform::Twitch).await;
    // An hour in, long before the refresh is due, the token is validated and stays.
    e.clock.advance(time::Duration::minutes(61));
    assert_eq!(e.tick().await, 1, "validation is due");
    assert_eq!(e.fake.token_calls(Platform::Twitch, "refresh_token"), 0);
    assert_eq!(e.card("twitch").await["refreshFailed"], false);
    assert_eq!(e.tick().await, 0, "next validation in an hour");
    // The user disconnects the app in Twitch's settings: the next validation finds out, a
    // refresh confirms it, and the card turns red well before the token would expire.
    e.fake.invalidate_grants(Platform::Twitch);
    e.clock.advance(time::Duration::minutes(61));
    assert_eq!(e.tick().await, 1);
    let card = e.card("twitch").await;
    assert_eq!(card["refreshFailed"], true, "{card}");
}

/// A connection granted fewer scopes than the platform's configured set (the operator added
/// scopes since, or the user declined some) says which are missing; a Reconnect asks for them.
#[tokio::test]
async fn a_connection_missing_scopes_says_so_until_reconnected() {
    let e = env().await;
    e.credentials(Platform::Twitch, "cid-twitch-1234", "cs-twitch-secret")
        .await;
    e.connect(Platform::Twitch).await;
    let card = e.card("twitch").await;
    assert_eq!(card["missingScopes"], json!([]), "{card}");
    e.exec("UPDATE connections SET scopes = '[\"chat:read\"]' WHERE platform = 'twitch'")
        .await;
    let card = e.card("twitch").await;
    let missing = card["missingScopes"].as_array().unwrap();
    assert_eq!(missing.len(), 26, "{card}");
    assert!(!missing.contains(&json!("chat:read")));
    e.connect(Platform::Twitch).await;
    assert_eq!(e.card("twitch").await["missingScopes"], json!([]));
}

/// The Discord bot: system administrators set it (token sealed, shown as a hint only, each bad
/// field named), every organization's Bot Connections show it as managed, no organization
/// can connect or disconnect it, and it can be removed.
#[tokio::test]
async fn system_administrators_configure_the_discord_bot_for_everyone() {
    let s = TestServer::start().await;
    s.org("acme").await;
    let sys = s.system_key().await;
    let org_key = s.org_key("acme", &["owner"], &[]).await;
    let path = "/api/v1/system/discord-bot";
    let (st, v) = json(call(&s, Method::GET, path, Some(&sys), None).await).await;
    assert_eq!(st, 200);
    assert_eq!(v["configured"], false);
    // Only system administrators.
    let (st, _) = json(call(&s, Method::GET, path, Some(&org_key), None).await).await;
    assert_eq!(st, 403);
    let (st, e) = json(
        call(
            &s,
            Method::PUT,
            path,
            Some(&sys),
            Some(json!({"applicationId": "12ab", "botName": "", "botToken": "short"})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 400);
    for field in ["applicationId", "botName", "botToken"] {
        assert!(e.to_string().contains(field), "{field} named: {e}");
    }
    let token = format!(
        "MTIzNDU2Nzg5MDEyMzQ1Njc4.{}.abcdefghijklmnopqrstuvwxyz0123456789wxyz",
        "GhIjKl"
    );
    let (st, v) = json(
        call(
            &s,
            Method::PUT,
            path,
            Some(&sys),
            Some(json!({"applicationId": "123456789012345678", "botName": "Tessera Bot", "botToken": token})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["tokenHint"], "…wxyz");
    assert!(!v.to_string().contains(&token), "the token is never shown");
    // Sealed at rest: the database does not hold the token.
    let mut tx = s.store.begin().await.unwrap();
    let row = tx.find_system_bot("discord").await.unwrap().unwrap();
    tx.commit().await.unwrap();
    assert!(!row.token_sealed.contains(&token) && row.token_sealed.starts_with("v1."));
    // Every organization sees it, managed by administrators.
    let (_, bots) = json(
        call(
            &s,
            Method::GET,
            "/orgs/acme/api/v1/bot-connections",
            Some(&org_key),
            None,
        )
        .await,
    )
    .await;
    let discord = bots
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["platform"] == "discord")
        .unwrap()
        .clone();
    assert_eq!(discord["mode"], "managed");
    assert_eq!(discord["enabled"], true);
    assert_eq!(discord["botName"], "Tessera Bot");
    assert_eq!(discord["botId"], "123456789012345678");
    // No per-organization customisation.
    let (st, _) = json(
        call(
            &s,
            Method::POST,
            "/orgs/acme/api/v1/bot-connections/discord/authorize",
            Some(&org_key),
            Some(json!({})),
        )
        .await,
    )
    .await;
    assert!(st == 400 || st == 404, "{st}");
    let (st, _) = json(
        call(
            &s,
            Method::DELETE,
            "/orgs/acme/api/v1/bot-connections/discord",
            Some(&org_key),
            None,
        )
        .await,
    )
    .await;
    assert!(st == 400 || st == 404, "{st}");
    // Removed: gone for everyone.
    let (st, _) = json(call(&s, Method::DELETE, path, Some(&sys), None).await).await;
    assert_eq!(st, 204);
    let (st, _) = json(call(&s, Method::DELETE, path, Some(&sys), None).await).await;
    assert_eq!(st, 404);
    let (_, bots) = json(
        call(
            &s,
            Method::GET,
            "/orgs/acme/api/v1/bot-connections",
            Some(&org_key),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(bots.as_array().unwrap().last().unwrap()["enabled"], false);
}
