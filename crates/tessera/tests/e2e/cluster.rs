//! The cluster: three `tessera serve` processes and one `tessera worker` on one throw-away
//! PostgreSQL database, with requests spread over them, as a deployment behind a load
//! balancer would see them. Every node shares the issuer (the in-process test server's URL,
//! standing in for the load balancer's) and the master key.
//!
//! These tests run in the test command's PostgreSQL pass. On SQLite, which is one node by
//! design, each says so and returns.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tessera_testkit::fakes::platforms::FakePlatforms;
use tessera_testkit::{backend, Backend, TestServer};
use tokio::io::AsyncBufReadExt;

use crate::support::{acme_client, acme_with_alice, hidden, json, Browser, ALICE_PASSWORD};

const BIN: &str = env!("CARGO_BIN_EXE_tessera");
/// The test kit's master key (`[7; 32]`), so that the nodes read what the in-process server
/// wrote (API key hashes, sealed keys).
const MASTER_KEY_HEX: &str = "0707070707070707070707070707070707070707070707070707070707070707";
const REDIRECT: &str = "http://127.0.0.1:8400/callback";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gXFxFlWmE-cluster-verifier";

/// One `tessera serve` process.
struct Node {
    base: String,
    child: tokio::process::Child,
}

/// Three nodes and a worker on the test server's database; the processes die with it.
struct Cluster {
    s: TestServer,
    /// An admin key of `acme-corp` (which has user `alice`).
    admin: String,
    nodes: Vec<Node>,
    _worker: tokio::process::Child,
    _dir: tempfile::TempDir,
}

fn command(cluster_dir: &std::path::Path, db_url: &str, issuer: &str) -> tokio::process::Command {
    let mut c = tokio::process::Command::new(BIN);
    c.env("TESSERA_DATABASE_URL", db_url)
        .env("TESSERA_MASTER_KEY", MASTER_KEY_HEX)
        .env("TESSERA_PUBLIC_URL", issuer)
        .env("TESSERA_DATA_DIR", cluster_dir)
        .env("TESSERA_CONFIG", cluster_dir.join("tessera.toml"))
        .env("TESSERA_LOG", "warn")
        .env_remove("TESSERA_VAULT_KEYS")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    c
}

/// Starts `tessera serve` and waits (up to 30 s) for the line that says where it listens.
async fn start_node(dir: &std::path::Path, db_url: &str, issuer: &str) -> Node {
    let mut c = command(dir, db_url, issuer);
    c.args(["serve", "--listen", "127.0.0.1:0"]);
    listening(c).await
}

/// Spawns a prepared `tessera serve` and waits (up to 30 s) until it listens.
async fn listening(mut c: tokio::process::Command) -> Node {
    let mut child = c.spawn().expect("spawn tessera serve");
    let mut lines = tokio::io::BufReader::new(child.stderr.take().expect("stderr")).lines();
    let base = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.expect("stderr line") {
            if let Some(rest) = line.strip_prefix("Tessera listening on ") {
                return rest.split(' ').next().expect("address").to_owned();
            }
        }
        panic!("tessera serve ended before it listened");
    })
    .await
    .expect("the node listens within 30 s");
    // Keep draining stderr so that the node never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Node { base, child }
}

impl Cluster {
    /// The cluster, or `None` (with a note) when this run is not on PostgreSQL.
    async fn start() -> Option<Self> {
        Self::start_via(None).await
    }

    /// The same, the nodes reaching the database through `proxy` when given.
    async fn start_via(proxy: Option<&DbProxy>) -> Option<Self> {
        Self::start_with(proxy, None).await
    }

    /// The same, with the platforms at `fake` when given: then every node runs the refresh
    /// worker too (a pass a second), beside the worker process.
    async fn start_with(proxy: Option<&DbProxy>, fake: Option<&FakePlatforms>) -> Option<Self> {
        if backend() != Backend::Postgres {
            eprintln!("cluster tests run on PostgreSQL only (TESSERA_TEST_BACKEND=postgres)");
            return None;
        }
        let s = match fake {
            Some(f) => {
                TestServer::start_with(
                    std::sync::Arc::new(tessera_domain::SystemClock),
                    f.providers(),
                )
                .await
            }
            None => TestServer::start().await,
        };
        let admin = acme_with_alice(&s).await;
        let db_url = match proxy {
            Some(p) => p.url_for(&s.db.url),
            None => s.db.url.clone(),
        };
        let dir = tempfile::tempdir().expect("dir");
        // The nodes serve; one worker process refreshes the platform connections (and, with
        // fake platforms, every node's own worker too).
        let config = match fake {
            None => "[connections]\nworker = false\n".to_owned(),
            Some(f) => {
                let mut c = "[connections]\nworker = true\nrefresh_interval_secs = 1\n".to_owned();
                for p in tessera_domain::Platform::ALL {
                    let b = format!("{}/{}", f.base_url, p.as_str());
                    let refresh = if p == tessera_domain::Platform::Trovo {
                        "refresh"
                    } else {
                        "token"
                    };
                    c.push_str(&format!(
                        "[providers.{name}]\nauthorize_url = \"{b}/authorize\"\ntoken_url = \"{b}/token\"\nrefresh_url = \"{b}/{refresh}\"\nrevoke_url = \"{b}/revoke\"\napi_url = \"{b}/api\"\nvalidate_url = \"{validate}\"\n",
                        name = p.as_str(),
                        validate = if p == tessera_domain::Platform::Twitch { format!("{b}/validate") } else { String::new() },
                    ));
                }
                c
            }
        };
        std::fs::write(dir.path().join("tessera.toml"), config).expect("config");
        let (a, b, c) = tokio::join!(
            start_node(dir.path(), &db_url, &s.base),
            start_node(dir.path(), &db_url, &s.base),
            start_node(dir.path(), &db_url, &s.base),
        );
        let worker = command(dir.path(), &db_url, &s.base)
            .arg("worker")
            .spawn()
            .expect("spawn tessera worker");
        Some(Self {
            s,
            admin,
            nodes: vec![a, b, c],
            _worker: worker,
            _dir: dir,
        })
    }

    /// `path` on node `i`.
    fn url(&self, i: usize, path: &str) -> String {
        format!("{}{path}", self.nodes[i].base)
    }

    /// A client of `acme-corp`, created through the in-process node.
    async fn client(&self, body: Value) -> (String, Option<String>) {
        acme_client(&self.s, &self.admin, body).await
    }

    /// A confidential client of `acme-corp` with the client_credentials grant: its id and
    /// secret.
    async fn machine(&self, name: &str) -> (String, String) {
        let (id, secret) = self
            .client(json!({"name": name, "grantTypes": ["client_credentials"]}))
            .await;
        (id, secret.expect("a secret"))
    }

    /// A REST call to node `i` with the admin key.
    async fn admin_call(
        &self,
        i: usize,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .s
            .http
            .request(method, self.url(i, path))
            .bearer_auth(&self.admin);
        if let Some(b) = body {
            req = req.json(&b);
        }
        json(req.send().await.expect("request")).await
    }

    async fn client_credentials(&self, i: usize, id: &str, secret: &str) -> (u16, Value) {
        let res = self
            .s
            .http
            .post(self.url(i, "/orgs/acme-corp/api/v1/oauth/token"))
            .basic_auth(id, Some(secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .expect("token");
        json(res).await
    }

    async fn introspect(&self, i: usize, rs: (&str, &str), token: &str) -> Value {
        let res = self
            .s
            .http
            .post(self.url(i, "/orgs/acme-corp/api/v1/oauth/introspect"))
            .basic_auth(rs.0, Some(rs.1))
            .form(&[("token", token)])
            .send()
            .await
            .expect("introspect");
        let (st, v) = json(res).await;
        assert_eq!(st, 200, "{v}");
        v
    }

    async fn userinfo(&self, i: usize, token: &str) -> u16 {
        self.s
            .http
            .get(self.url(i, "/orgs/acme-corp/api/v1/oauth/userinfo"))
            .bearer_auth(token)
            .send()
            .await
            .expect("userinfo")
            .status()
            .as_u16()
    }
}

/// Waits up to `limit` for `done`, checking as fast as it answers; how long it took.
async fn until<F, Fut>(limit: Duration, what: &str, mut done: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    loop {
        if done().await {
            return start.elapsed();
        }
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::test]
async fn tokens_minted_on_one_node_serve_and_end_on_every_node() {
    let Some(c) = Cluster::start().await else {
        return;
    };
    let (api, api_secret) = c.machine("API").await;
    let (rs, rs_secret) = c.machine("Resource server").await;
    let rs = (rs.as_str(), rs_secret.as_str());

    // A machine token minted on A is active on B and C.
    let (st, t) = c.client_credentials(0, &api, &api_secret).await;
    assert_eq!(st, 200, "{t}");
    let token = t["access_token"].as_str().unwrap();
    for i in [1, 2] {
        let v = c.introspect(i, rs, token).await;
        assert_eq!(v["active"], true, "node {i}: {v}");
        assert_eq!(v["client_id"], api.as_str());
    }

    // A user's token (the password grant) minted on B serves userinfo on A and C.
    let (legacy, legacy_secret) = c
        .client(json!({"name": "Legacy", "grantTypes": ["password"], "allowedScopes": ["openid", "profile"]}))
        .await;
    let res =
        c.s.http
            .post(c.url(1, "/orgs/acme-corp/api/v1/oauth/token"))
            .basic_auth(&legacy, legacy_secret.as_deref())
            .form(&[
                ("grant_type", "password"),
                ("username", "alice"),
                ("password", ALICE_PASSWORD),
                ("scope", "openid profile"),
            ])
            .send()
            .await
            .unwrap();
    let (st, user_token) = json(res).await;
    assert_eq!(st, 200, "{user_token}");
    let user_token = user_token["access_token"].as_str().unwrap().to_owned();
    for i in [0, 2] {
        assert_eq!(c.userinfo(i, &user_token).await, 200, "node {i}");
    }

    // Revoked on A: inactive on B and C at once (each has the token's status cached by now).
    let cr = &c;
    for (t, id, secret) in [
        (token, api.as_str(), api_secret.as_str()),
        (
            &user_token,
            legacy.as_str(),
            legacy_secret.as_deref().unwrap(),
        ),
    ] {
        let res =
            c.s.http
                .post(c.url(0, "/orgs/acme-corp/api/v1/oauth/revoke"))
                .basic_auth(id, Some(secret))
                .form(&[("token", t)])
                .send()
                .await
                .unwrap();
        assert_eq!(res.status(), 200);
        for i in [1, 2] {
            let took = until(
                Duration::from_secs(1),
                "revocation reaches the node",
                || async move { cr.introspect(i, rs, t).await["active"] == false },
            )
            .await;
            eprintln!("revocation on node 0 seen on node {i} after {took:?}");
        }
    }
    for i in [1, 2] {
        assert_eq!(c.userinfo(i, &user_token).await, 401, "node {i}");
    }
}

/// A registration policy changed on one node is what every node's discovery says within a
/// second, although each had the policy cached (the change feed drops it).
#[tokio::test]
async fn a_registration_policy_change_reaches_every_node_within_a_second() {
    let Some(c) = Cluster::start().await else {
        return;
    };
    let disco = |i: usize| {
        let url = c.url(i, "/orgs/acme-corp/.well-known/openid-configuration");
        let http = c.s.http.clone();
        async move { json(http.get(url).send().await.unwrap()).await.1 }
    };
    for i in 0..3 {
        assert_eq!(
            disco(i).await["require_pushed_authorization_requests"],
            false,
            "node {i}"
        );
    }
    let policy = "/orgs/acme-corp/api/v1/admin/registration-policy";
    for required in [true, false] {
        let res =
            c.s.http
                .put(c.url(0, policy))
                .bearer_auth(&c.admin)
                .json(&json!({"requirePushedAuthorizationRequests": required}))
                .send()
                .await
                .unwrap();
        let (st, p) = json(res).await;
        assert_eq!(st, 200, "{p}");
        assert_eq!(
            disco(0).await["require_pushed_authorization_requests"],
            required
        );
        let d = &disco;
        for i in [1, 2] {
            let took = until(
                Duration::from_secs(1),
                "the policy reaches the node",
                || async move { d(i).await["require_pushed_authorization_requests"] == required },
            )
            .await;
            eprintln!("policy change on node 0 seen on node {i} after {took:?}");
        }
    }
}

/// A client disabled on one node is refused by the others within a second; the time it
/// takes is measured over 100 changes (disabling and enabling, half on each of two nodes).
#[tokio::test]
async fn client_changes_reach_every_node_within_a_second() {
    let Some(c) = Cluster::start().await else {
        return;
    };
    let (id, _) = c
        .client(json!({"name": "Dashboard", "isConfidential": false, "redirectUris": [REDIRECT]}))
        .await;
    let authorize = |i: usize| {
        c.url(
            i,
            &format!(
                "/orgs/acme-corp/api/v1/oauth/authorize?response_type=code&client_id={id}&redirect_uri={REDIRECT}&code_challenge={}&code_challenge_method=S256",
                challenge(VERIFIER)
            ),
        )
    };
    // The authorization endpoint reads the cached client: "disabled" is a page of its own,
    // and an enabled client gets the login page. Neither counts as a failure anywhere.
    let disabled_on = |i: usize| {
        let url = authorize(i);
        let http = c.s.http.clone();
        async move {
            let html = http.get(url).send().await.unwrap().text().await.unwrap();
            html.contains("The client is disabled.")
        }
    };
    for i in 0..3 {
        assert!(!disabled_on(i).await, "node {i} knows the client enabled");
    }
    let disabled_on = &disabled_on;
    let mut took = Vec::new();
    for n in 0..100 {
        let active = n % 2 == 1;
        let (from, to) = if n % 4 < 2 { (0, 1) } else { (2, 0) };
        let (st, v) = c
            .admin_call(
                from,
                Method::PATCH,
                &format!("/orgs/acme-corp/api/v1/admin/oauth-clients/{id}"),
                Some(json!({"isActive": active})),
            )
            .await;
        assert_eq!(st, 200, "{v}");
        took.push(
            until(
                Duration::from_secs(1),
                "the change reaches the node",
                || async move { disabled_on(to).await != active },
            )
            .await,
        );
    }
    took.sort();
    eprintln!(
        "client change propagation over {} changes: p50 {:?}, p99 {:?}, max {:?}",
        took.len(),
        percentile(&took, 0.5),
        percentile(&took, 0.99),
        took.last().unwrap()
    );
    assert!(percentile(&took, 0.99) < Duration::from_secs(1));

    // A new secret on B: the old one is refused on A and C within a second, the new one
    // works there.
    let (m2m, old) = c.machine("Machine").await;
    for i in 0..3 {
        assert_eq!(c.client_credentials(i, &m2m, &old).await.0, 200, "node {i}");
    }
    let (st, v) = c
        .admin_call(
            1,
            Method::POST,
            &format!("/orgs/acme-corp/api/v1/admin/oauth-clients/{m2m}/secret"),
            None,
        )
        .await;
    assert_eq!(st, 200, "{v}");
    let new = v["secret"].as_str().unwrap().to_owned();
    let (cr, m2m, old, new) = (&c, m2m.as_str(), old.as_str(), new.as_str());
    for i in [0, 2] {
        assert_eq!(c.client_credentials(i, m2m, new).await.0, 200, "node {i}");
        until(
            Duration::from_secs(1),
            "the old secret dies",
            || async move { cr.client_credentials(i, m2m, old).await.0 == 401 },
        )
        .await;
    }
    // Deleted on C: refused on A and B within a second.
    let (st, _) = c
        .admin_call(
            2,
            Method::DELETE,
            &format!("/orgs/acme-corp/api/v1/admin/oauth-clients/{m2m}"),
            None,
        )
        .await;
    assert_eq!(st, 204);
    for i in [0, 1] {
        until(
            Duration::from_secs(1),
            "the deleted client is refused",
            || async move { cr.client_credentials(i, m2m, new).await.0 == 401 },
        )
        .await;
    }
}

/// S256 of a PKCE verifier.
fn challenge(verifier: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier))
}

/// The query parameter `k` of a redirect.
fn redirect_param(res: &reqwest::Response, k: &str) -> Option<String> {
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "expected a redirect");
    let loc = url::Url::parse(res.headers()["location"].to_str().unwrap()).unwrap();
    loc.query_pairs()
        .find(|(n, _)| n == k)
        .map(|(_, v)| v.into_owned())
}

/// One browser's sign-in spread over the nodes: the authorization request on `nodes.0`, the
/// login on `nodes.1`, the consent (unless given before) on `nodes.2`. The code, and the
/// browser (signed in).
async fn code_across(
    c: &Cluster,
    client_id: &str,
    scope: &str,
    nodes: (usize, usize, usize),
) -> (String, Browser) {
    let b = Browser::new();
    let q: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", REDIRECT),
            ("scope", scope),
            ("state", "st"),
            ("code_challenge", &challenge(VERIFIER)),
            ("code_challenge_method", "S256"),
        ])
        .finish();
    let res = b
        .get(&c.url(
            nodes.0,
            &format!("/orgs/acme-corp/api/v1/oauth/authorize?{q}"),
        ))
        .await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    let (req, csrf) = (hidden(&html, "request"), hidden(&html, "csrf_token"));
    let res = b
        .post(
            &c.url(nodes.1, "/orgs/acme-corp/login"),
            &[
                ("request", &req),
                ("csrf_token", &csrf),
                ("username", "alice"),
                ("password", ALICE_PASSWORD),
            ],
            &[],
        )
        .await;
    if res.status() == StatusCode::SEE_OTHER {
        // Consent was given before: straight back to the client.
        return (redirect_param(&res, "code").expect("a code"), b);
    }
    assert_eq!(res.status(), 200, "the consent page");
    let html = res.text().await.unwrap();
    assert!(html.contains("name=\"decision\" value=\"allow\""), "{html}");
    let res = b
        .post(
            &c.url(nodes.2, "/orgs/acme-corp/consent"),
            &[
                ("request", &req),
                ("csrf_token", &csrf),
                ("decision", "allow"),
            ],
            &[],
        )
        .await;
    (redirect_param(&res, "code").expect("a code"), b)
}

async fn redeem(c: &Cluster, i: usize, client_id: &str, code: &str) -> (u16, Value) {
    let res =
        c.s.http
            .post(c.url(i, "/orgs/acme-corp/api/v1/oauth/token"))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", REDIRECT),
                ("client_id", client_id),
                ("code_verifier", VERIFIER),
            ])
            .send()
            .await
            .unwrap();
    json(res).await
}

/// Fifty redemptions of one code at once, spread over the nodes: exactly one gets tokens.
/// The same for one refresh token.
#[tokio::test]
async fn one_code_and_one_refresh_token_have_one_winner_across_nodes() {
    let Some(c) = Cluster::start().await else {
        return;
    };
    let (id, _) = c
        .client(
            json!({"name": "Dashboard", "isConfidential": false, "redirectUris": [REDIRECT],
                        "allowedScopes": ["openid", "offline_access"]}),
        )
        .await;
    let (code, _) = code_across(&c, &id, "openid offline_access", (0, 1, 2)).await;
    let results =
        futures_util::future::join_all((0..50).map(|n| redeem(&c, n % 3, &id, &code))).await;
    let winners: Vec<&Value> = results
        .iter()
        .filter(|(st, _)| *st == 200)
        .map(|(_, v)| v)
        .collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    assert!(results
        .iter()
        .all(|(st, v)| *st == 200 || (*st == 400 && v["error"] == "invalid_grant")));
    // The replays revoked what the winner got (RFC 6749 §4.1.2): a refresh token from a code
    // redeemed once, then.
    assert!(winners[0]["refresh_token"].is_string());
    let (code, _) = code_across(&c, &id, "openid offline_access", (2, 0, 1)).await;
    let (st, t) = redeem(&c, 1, &id, &code).await;
    assert_eq!(st, 200, "{t}");
    let refresh = t["refresh_token"]
        .as_str()
        .expect("a refresh token")
        .to_owned();

    let refreshes = futures_util::future::join_all((0..50).map(|n| {
        let url = c.url(n % 3, "/orgs/acme-corp/api/v1/oauth/token");
        let form = [
            ("grant_type", "refresh_token".to_owned()),
            ("refresh_token", refresh.clone()),
            ("client_id", id.clone()),
        ];
        let http = c.s.http.clone();
        async move { json(http.post(url).form(&form).send().await.unwrap()).await }
    }))
    .await;
    let won = refreshes.iter().filter(|(st, _)| *st == 200).count();
    assert_eq!(won, 1, "{refreshes:?}");
}

/// Sign in on A, continue on B, consent on C; the session then serves every node, and logout
/// on B ends it everywhere.
#[tokio::test]
async fn a_sign_in_spans_the_nodes_and_logout_on_one_ends_it_on_all() {
    let Some(c) = Cluster::start().await else {
        return;
    };
    let (id, _) = c
        .client(
            json!({"name": "Dashboard", "isConfidential": false, "redirectUris": [REDIRECT],
                        "postLogoutRedirectUris": [REDIRECT], "requireConsent": true}),
        )
        .await;
    let (code, browser) = code_across(&c, &id, "openid", (0, 1, 2)).await;
    let (st, tokens) = redeem(&c, 2, &id, &code).await;
    assert_eq!(st, 200, "{tokens}");
    let id_token = tokens["id_token"].as_str().unwrap();

    // Signed in: prompt=none answers with a code on every node.
    let silent = |i: usize| {
        let q: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("response_type", "code"),
                ("client_id", id.as_str()),
                ("redirect_uri", REDIRECT),
                ("scope", "openid"),
                ("prompt", "none"),
                ("code_challenge", &challenge(VERIFIER)),
                ("code_challenge_method", "S256"),
            ])
            .finish();
        c.url(i, &format!("/orgs/acme-corp/api/v1/oauth/authorize?{q}"))
    };
    for i in 0..3 {
        let res = browser.get(&silent(i)).await;
        assert!(redirect_param(&res, "code").is_some(), "node {i}");
    }

    // Logout on B (RP-initiated, with the id_token as hint).
    let q: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("id_token_hint", id_token),
            ("post_logout_redirect_uri", REDIRECT),
            ("state", "bye"),
        ])
        .finish();
    let res = browser
        .get(&c.url(1, &format!("/orgs/acme-corp/api/v1/oauth/end_session?{q}")))
        .await;
    assert_eq!(redirect_param(&res, "state").as_deref(), Some("bye"));
    for i in 0..3 {
        let res = browser.get(&silent(i)).await;
        assert_eq!(
            redirect_param(&res, "error").as_deref(),
            Some("login_required"),
            "node {i}"
        );
    }
}

/// Failed sign-ins for one user spread over the three nodes lock the user as they would on
/// one node: the sixth failure blocks the user everywhere, the right password included.
#[tokio::test]
async fn failed_sign_ins_spread_over_the_nodes_lock_as_one() {
    let Some(c) = Cluster::start().await else {
        return;
    };
    let (id, _) = c
        .client(json!({"name": "Dashboard", "isConfidential": false, "redirectUris": [REDIRECT]}))
        .await;
    let b = Browser::new();
    let q: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("response_type", "code"),
            ("client_id", id.as_str()),
            ("redirect_uri", REDIRECT),
            ("code_challenge", &challenge(VERIFIER)),
            ("code_challenge_method", "S256"),
        ])
        .finish();
    let (b, q, cr) = (&b, &q, &c);
    let login = move |i: usize, password: &'static str| {
        let c = cr;
        async move {
            let res = b
                .get(&c.url(i, &format!("/orgs/acme-corp/api/v1/oauth/authorize?{q}")))
                .await;
            let html = res.text().await.unwrap();
            let (req, csrf) = (hidden(&html, "request"), hidden(&html, "csrf_token"));
            let res = b
                .post(
                    &c.url(i, "/orgs/acme-corp/login"),
                    &[
                        ("request", &req),
                        ("csrf_token", &csrf),
                        ("username", "alice"),
                        ("password", password),
                    ],
                    &[],
                )
                .await;
            res.text().await.unwrap()
        }
    };
    for n in 0..6 {
        let html = login(n % 3, "wrong password").await;
        assert!(
            html.contains("Invalid username or password."),
            "failure {n}: {html}"
        );
    }
    let login = &login;
    for i in 0..3 {
        until(
            Duration::from_secs(1),
            "the lock reaches the node",
            || async move {
                login(i, ALICE_PASSWORD)
                    .await
                    .contains("Too many sign-in attempts. Wait a minute and try again.")
            },
        )
        .await;
    }
}

/// A node killed with `kill -9` while it takes writes: the others serve on without a failed
/// request, and every write it acknowledged is there.
#[tokio::test]
async fn a_node_killed_under_load_loses_no_acknowledged_write() {
    let Some(mut c) = Cluster::start().await else {
        return;
    };
    let (m2m, secret) = c.machine("Machine").await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Load on A and B.
    let mut load = Vec::new();
    for i in [0, 1] {
        let (url, http, stop) = (
            c.url(i, "/orgs/acme-corp/api/v1/oauth/token"),
            c.s.http.clone(),
            std::sync::Arc::clone(&stop),
        );
        let (m2m, secret) = (m2m.clone(), secret.clone());
        load.push(tokio::spawn(async move {
            let (mut ok, mut failed) = (0u32, 0u32);
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let res = http
                    .post(&url)
                    .basic_auth(&m2m, Some(&secret))
                    .form(&[("grant_type", "client_credentials")])
                    .send()
                    .await;
                match res {
                    Ok(r) if r.status() == 200 => ok += 1,
                    _ => failed += 1,
                }
            }
            (ok, failed)
        }));
    }
    // Writes on C, each remembered once acknowledged.
    let writes = {
        let (url, http, admin, stop) = (
            c.url(2, "/orgs/acme-corp/api/v1/admin/oauth-clients"),
            c.s.http.clone(),
            c.admin.clone(),
            std::sync::Arc::clone(&stop),
        );
        tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                n += 1;
                let res = http
                    .post(&url)
                    .bearer_auth(&admin)
                    .json(&json!({"name": format!("W{n}"), "grantTypes": ["client_credentials"]}))
                    .send()
                    .await;
                match res {
                    Ok(r) if r.status() == 201 => {
                        let v: Value = r.json().await.unwrap();
                        acknowledged.push(v["id"].as_str().unwrap().to_owned());
                    }
                    // The node died: no more acknowledgements can come from it.
                    _ => break,
                }
            }
            acknowledged
        })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    c.nodes[2].child.start_kill().expect("kill -9");
    c.nodes[2].child.wait().await.expect("the node ends");
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let acknowledged = writes.await.unwrap();
    assert!(
        !acknowledged.is_empty(),
        "node C acknowledged writes before it died"
    );
    for h in load {
        let (ok, failed) = h.await.unwrap();
        assert!(ok > 0);
        assert_eq!(failed, 0, "A and B answered every request");
    }
    for id in &acknowledged {
        let (st, v) = c
            .admin_call(
                0,
                Method::GET,
                &format!("/orgs/acme-corp/api/v1/admin/oauth-clients/{id}"),
                None,
            )
            .await;
        assert_eq!(st, 200, "acknowledged client {id}: {v}");
    }
    eprintln!(
        "kill -9 under load: {} acknowledged writes on the killed node, all kept",
        acknowledged.len()
    );
}

/// Keys rotated while every node hands out tokens: no request fails, and every node's JWKS
/// has the new keys before any token signed with them is handed out (new keys are published
/// at once and sign two seconds later).
#[tokio::test]
async fn keys_rotated_under_load_are_published_everywhere_before_they_sign() {
    let Some(c) = Cluster::start().await else {
        return;
    };
    let (m2m, secret) = c.machine("Machine").await;
    let kid = |t: &str| jsonwebtoken::decode_header(t).unwrap().kid.unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let start = Instant::now();
    // Every node's JWKS, read over and over: when each kid first showed on each node (the
    // time its answer arrived, no earlier than the key was published there).
    let mut watchers = Vec::new();
    for i in 0..3 {
        let (url, http, stop) = (
            c.url(i, "/orgs/acme-corp/api/v1/oauth/jwks"),
            c.s.http.clone(),
            std::sync::Arc::clone(&stop),
        );
        watchers.push(tokio::spawn(async move {
            let mut first_seen: std::collections::HashMap<String, Duration> = Default::default();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let v: Value = http.get(&url).send().await.unwrap().json().await.unwrap();
                let at = start.elapsed();
                for k in v["keys"].as_array().unwrap() {
                    first_seen
                        .entry(k["kid"].as_str().unwrap().to_owned())
                        .or_insert(at);
                }
            }
            first_seen
        }));
    }
    // Tokens from every node: when each kid was first handed out.
    let mut load = Vec::new();
    for i in 0..3 {
        let (url, http, stop) = (
            c.url(i, "/orgs/acme-corp/api/v1/oauth/token"),
            c.s.http.clone(),
            std::sync::Arc::clone(&stop),
        );
        let (m2m, secret) = (m2m.clone(), secret.clone());
        load.push(tokio::spawn(async move {
            let mut first_used: std::collections::HashMap<String, Duration> = Default::default();
            let mut failed = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let res = http
                    .post(&url)
                    .basic_auth(&m2m, Some(&secret))
                    .form(&[("grant_type", "client_credentials")])
                    .send()
                    .await
                    .unwrap();
                if res.status() != 200 {
                    failed += 1;
                    continue;
                }
                let v: Value = res.json().await.unwrap();
                let t = v["access_token"].as_str().unwrap().to_owned();
                first_used.entry(kid(&t)).or_insert(start.elapsed());
            }
            (first_used, failed)
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let new_kids =
        c.s.services
            .rotate_keys(&tessera_core::Context::cli(), "acme-corp")
            .await
            .unwrap();
    tokio::time::sleep(Duration::from_millis(
        (tessera_core::keys::KEY_ACTIVATION_SECONDS * 1000 + 700) as u64,
    ))
    .await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut seen = Vec::new();
    for w in watchers {
        seen.push(w.await.unwrap());
    }
    let mut used_new = false;
    for h in load {
        let (first_used, failed) = h.await.unwrap();
        assert_eq!(failed, 0, "every token request succeeded");
        // The rotated keys: the first keys of the organization are made by one node under a
        // lock while the others wait, so no node can answer without them once they sign.
        for (kid, used_at) in first_used.into_iter().filter(|(k, _)| new_kids.contains(k)) {
            used_new = true;
            for (i, node) in seen.iter().enumerate() {
                let published = node
                    .get(&kid)
                    .unwrap_or_else(|| panic!("{kid} never on node {i}"));
                assert!(
                    published < &used_at,
                    "{kid} handed out at {used_at:?} before node {i} published it at {published:?}"
                );
            }
        }
    }
    assert!(used_new, "the new key signs after its delay");
}

/// The device flow (RFC 8628) started on A, approved in a browser on B, polled on C.
#[tokio::test]
async fn a_device_flow_starts_on_one_node_is_approved_on_another_and_polled_on_a_third() {
    let Some(c) = Cluster::start().await else {
        return;
    };
    let device_grant = "urn:ietf:params:oauth:grant-type:device_code";
    let (cli, _) = c
        .client(
            json!({"name": "Terminal", "isConfidential": false, "redirectUris": [],
                        "grantTypes": [device_grant], "allowedScopes": ["openid"]}),
        )
        .await;
    let res =
        c.s.http
            .post(c.url(0, "/orgs/acme-corp/api/v1/oauth/device_authorization"))
            .form(&[("client_id", cli.as_str()), ("scope", "openid")])
            .send()
            .await
            .unwrap();
    let (st, d) = json(res).await;
    assert_eq!(st, 200, "{d}");
    let user_code = d["user_code"].as_str().unwrap();
    let device_code = d["device_code"].as_str().unwrap();
    let poll = |i: usize| {
        let url = c.url(i, "/orgs/acme-corp/api/v1/oauth/token");
        let form = [
            ("grant_type", device_grant.to_owned()),
            ("device_code", device_code.to_owned()),
            ("client_id", cli.clone()),
        ];
        let http = c.s.http.clone();
        async move { json(http.post(url).form(&form).send().await.unwrap()).await }
    };
    let (_, v) = poll(2).await;
    assert_eq!(v["error"], "authorization_pending");

    // On B: the device page asks to sign in, then to allow.
    let b = Browser::new();
    let page = c.url(1, &format!("/orgs/acme-corp/device?user_code={user_code}"));
    let html = b.get(&page).await.text().await.unwrap();
    assert!(html.contains("name=\"password\""), "signs in first: {html}");
    let res = b
        .post(
            &c.url(1, "/orgs/acme-corp/login"),
            &[
                ("request", &hidden(&html, "request")),
                ("csrf_token", &hidden(&html, "csrf_token")),
                ("username", "alice"),
                ("password", ALICE_PASSWORD),
            ],
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = b.get(&page).await.text().await.unwrap();
    assert!(html.contains("Allow this device?"), "{html}");
    let res = b
        .post(
            &c.url(1, "/orgs/acme-corp/device"),
            &[
                ("user_code", &hidden(&html, "user_code")),
                ("csrf_token", &hidden(&html, "csrf_token")),
                ("decision", "allow"),
            ],
            &[],
        )
        .await;
    assert!(res.text().await.unwrap().contains("Device connected"));

    // On C, after the interval: the tokens, once.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let (st, t) = poll(2).await;
    assert_eq!(st, 200, "{t}");
    assert!(t["access_token"].is_string() && t["id_token"].is_string());
    let (_, v) = poll(0).await;
    assert_eq!(v["error"], "invalid_grant", "single use on every node");
}

/// A TCP proxy in front of PostgreSQL that the test can cut (every connection dropped, new ones
/// refused, as when the database restarts) and restore on the same port.
struct DbProxy {
    addr: std::net::SocketAddr,
    upstream: String,
    tasks: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl DbProxy {
    async fn start(db_url: &str) -> Self {
        let u = url::Url::parse(db_url).unwrap();
        let upstream = format!("{}:{}", u.host_str().unwrap(), u.port().unwrap_or(5432));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let p = Self {
            addr: listener.local_addr().unwrap(),
            upstream,
            tasks: Default::default(),
        };
        p.serve(listener);
        p
    }

    fn serve(&self, listener: tokio::net::TcpListener) {
        let (upstream, tasks) = (self.upstream.clone(), std::sync::Arc::clone(&self.tasks));
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let conn = tokio::spawn(async move {
                    if let Ok(mut out) = tokio::net::TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut out).await;
                    }
                });
                tasks_push(&tasks, conn);
            }
        });
        tasks_push(&self.tasks, accept);
    }

    /// `db_url` through the proxy.
    fn url_for(&self, db_url: &str) -> String {
        let mut u = url::Url::parse(db_url).unwrap();
        u.set_port(Some(self.addr.port())).unwrap();
        u.set_host(Some("127.0.0.1")).unwrap();
        u.to_string()
    }

    /// The database "goes down": every connection through the proxy is dropped, and new ones
    /// are refused.
    fn cut(&self) {
        for t in self.tasks.lock().unwrap().drain(..) {
            t.abort();
        }
    }

    /// The database is back, on the same address.
    async fn restore(&self) {
        let listener = tokio::net::TcpListener::bind(self.addr).await.unwrap();
        self.serve(listener);
    }
}

fn tasks_push(
    tasks: &std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>,
    t: tokio::task::JoinHandle<()>,
) {
    tasks.lock().unwrap().push(t);
}

/// PostgreSQL "restarted" under load: every node answers 503 `temporarily_unavailable` fast
/// instead of hanging, `/readyz` goes 503, and once the database is back every node serves
/// again without a restart.
#[tokio::test]
async fn the_database_restarting_is_a_fast_503_and_every_node_recovers() {
    if backend() != Backend::Postgres {
        eprintln!("cluster tests run on PostgreSQL only (TESSERA_TEST_BACKEND=postgres)");
        return;
    }
    let pg = tessera_testkit::pg_admin_url().expect("PostgreSQL");
    let proxy = DbProxy::start(&pg).await;
    let Some(c) = Cluster::start_via(Some(&proxy)).await else {
        return;
    };
    let get = |i: usize, path: &str| {
        let req = c.s.http.get(c.url(i, path)).bearer_auth(&c.admin);
        async move {
            let started = Instant::now();
            let res = req.send().await.unwrap();
            let st = res.status().as_u16();
            let body: Value = res.json().await.unwrap_or(Value::Null);
            (st, body, started.elapsed())
        }
    };
    let users = "/orgs/acme-corp/api/v1/admin/users";
    for i in 0..3 {
        assert_eq!(get(i, "/readyz").await.0, 200);
        assert_eq!(get(i, users).await.0, 200);
    }

    // Load on every node throughout: no request may hang, whatever the database does.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut load = Vec::new();
    for i in 0..3 {
        let (url, http, admin, stop) = (
            c.url(i, users),
            c.s.http.clone(),
            c.admin.clone(),
            std::sync::Arc::clone(&stop),
        );
        load.push(tokio::spawn(async move {
            let (mut slowest, mut answered) = (Duration::ZERO, 0u32);
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let started = Instant::now();
                let st = http
                    .get(&url)
                    .bearer_auth(&admin)
                    .send()
                    .await
                    .unwrap()
                    .status();
                assert!(st == 200 || st == 503, "only 200 or 503, got {st}");
                slowest = slowest.max(started.elapsed());
                answered += 1;
            }
            (slowest, answered)
        }));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;

    proxy.cut();
    let mut slowest = Duration::ZERO;
    for i in 0..3 {
        let (st, body, took) = get(i, users).await;
        assert_eq!(st, 503, "node {i}: {body}");
        assert_eq!(body["error"], "temporarily_unavailable", "node {i}: {body}");
        let (st, _, took_ready) = get(i, "/readyz").await;
        assert_eq!(st, 503, "node {i} not ready");
        slowest = slowest.max(took).max(took_ready);
    }
    eprintln!("database down: the slowest 503 took {slowest:?}");
    assert!(
        slowest < Duration::from_secs(3),
        "503 fast, not a hang: {slowest:?}"
    );

    proxy.restore().await;
    for i in 0..3 {
        let took = until(
            Duration::from_secs(15),
            "the node is ready again",
            || async move { get(i, "/readyz").await.0 == 200 },
        )
        .await;
        eprintln!("database back: node {i} ready after {took:?}");
        assert_eq!(get(i, users).await.0, 200, "node {i} serves again");
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for h in load {
        let (slowest, answered) = h.await.unwrap();
        assert!(answered > 0);
        assert!(
            slowest < Duration::from_secs(3),
            "a request under load hung for {slowest:?}"
        );
    }
}

/// docs/deployment.md, followed with the files of `deploy/`: the environment file and the
/// configuration file as they ship (only the database, the master key and the config path
/// filled in), `tessera migrate` then `tessera serve` as the unit runs them, on two nodes and a
/// worker; a token from one node introspects on the other, and SIGTERM drains.
#[tokio::test]
async fn the_deployment_guide_runs_as_written() {
    if backend() != Backend::Postgres {
        eprintln!("cluster tests run on PostgreSQL only (TESSERA_TEST_BACKEND=postgres)");
        return;
    }
    let deploy = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy");
    let read = |f: &str| std::fs::read_to_string(deploy.join(f)).unwrap();
    let db = tessera_testkit::fresh_db().await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("tessera.toml");
    std::fs::write(&config, read("tessera.toml")).unwrap();

    // `tessera vault generate-key` makes the master key, as step 2 says.
    let key = std::process::Command::new(BIN)
        .args(["vault", "generate-key"])
        .output()
        .unwrap();
    assert!(key.status.success());
    let master = String::from_utf8(key.stdout).unwrap().trim().to_owned();
    // The environment file: exactly the three variables, filled in.
    let mut env = Vec::new();
    for line in read("tessera.env.example").lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (k, _) = line.split_once('=').unwrap();
        let v = match k {
            "TESSERA_DATABASE_URL" => db.url.clone(),
            "TESSERA_MASTER_KEY" => master.clone(),
            "TESSERA_CONFIG" => config.to_str().unwrap().to_owned(),
            other => panic!("the guide does not explain {other}"),
        };
        env.push((k.to_owned(), v));
    }
    assert_eq!(env.len(), 3);
    // The units' commands, with the binary where the test built it.
    let exec = |unit: &str, key: &str| -> Vec<String> {
        let text = read(unit);
        let line = text
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{key}=")))
            .unwrap_or_else(|| panic!("{unit} has no {key}"));
        let mut words: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
        assert_eq!(words[0], "/usr/local/bin/tessera");
        words.remove(0);
        words
    };
    let tessera = |args: &[String]| {
        let mut c = tokio::process::Command::new(BIN);
        c.args(args)
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("TESSERA_DATA_DIR", dir.path())
            .current_dir(dir.path())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        c
    };

    // ExecStartPre: the empty database is migrated (and set up, printing the password once).
    let pre = exec("tessera.service", "ExecStartPre");
    assert_eq!(pre, ["migrate"]);
    let out = tessera(&pre).output().await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("password:"));
    // ExecStart on two nodes (one machine here, so each on a port of its own).
    let start = exec("tessera.service", "ExecStart");
    assert_eq!(start, ["serve"]);
    let node = || {
        let mut c = tessera(&start);
        c.args(["--listen", "127.0.0.1:0"]);
        listening(c)
    };
    let (mut a, b) = tokio::join!(node(), node());
    let worker = exec("tessera-worker.service", "ExecStart");
    assert_eq!(worker, ["worker"]);
    let _worker = tessera(&worker).spawn().unwrap();
    let http = reqwest::Client::new();
    for n in [&a, &b] {
        let r = http.get(format!("{}/readyz", n.base)).send().await.unwrap();
        assert_eq!(r.status(), 200);
    }

    // An administrator's key from the command line, a client over REST on A, a token from A
    // that B introspects.
    let out = tessera(&[
        "api-key".into(),
        "create".into(),
        "--system".into(),
        "--name".into(),
        "ops".into(),
    ])
    .output()
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let admin = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let (st, m2m) = json(
        http.post(format!(
            "{}/orgs/default/api/v1/admin/oauth-clients",
            a.base
        ))
        .bearer_auth(&admin)
        .json(&json!({"name": "Machine", "grantTypes": ["client_credentials"]}))
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(st, 201, "{m2m}");
    let (id, secret) = (m2m["id"].as_str().unwrap(), m2m["secret"].as_str().unwrap());
    let (st, t) = json(
        http.post(format!("{}/orgs/default/api/v1/oauth/token", a.base))
            .basic_auth(id, Some(secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, 200, "{t}");
    assert_eq!(
        crate::support::jwt_claims(t["access_token"].as_str().unwrap())["iss"],
        "https://id.example.com/orgs/default",
        "the issuer is the public URL of tessera.toml"
    );
    let (_, v) = json(
        http.post(format!("{}/orgs/default/api/v1/oauth/introspect", b.base))
            .basic_auth(id, Some(secret))
            .form(&[("token", t["access_token"].as_str().unwrap())])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(v["active"], true, "{v}");

    // systemctl stop: SIGTERM, and /readyz 503 while A still serves (drain_seconds = 10).
    let pid = a.child.id().unwrap().to_string();
    assert!(std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    until(Duration::from_secs(2), "A drains", || {
        let url = format!("{}/readyz", a.base);
        let http = http.clone();
        async move { http.get(url).send().await.unwrap().status() == 503 }
    })
    .await;
    let r = http
        .get(format!("{}/healthz", a.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "still serving while it drains");
    let r = http.get(format!("{}/readyz", b.base)).send().await.unwrap();
    assert_eq!(r.status(), 200, "B is not affected");
    a.child.start_kill().unwrap();
}

/// The refresh worker on every node and in a worker process at once, all on one database:
/// every due connection is refreshed once per due time, and no rotated platform refresh token
/// is ever presented twice (the fake platform refuses a spent one, and counts it).
#[tokio::test]
async fn refresh_workers_on_every_node_refresh_each_connection_once() {
    let fake = FakePlatforms::start().await;
    let Some(c) = Cluster::start_with(None, Some(&fake)).await else {
        return;
    };
    let twitch = tessera_domain::Platform::Twitch;
    // Four-second tokens: due two seconds after each refresh (a lead of half the lifetime).
    fake.set_expires_in(twitch, 4);
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let orgs: Vec<String> = (0..6).map(|i| format!("stream-{i}")).collect();
    for (i, org) in orgs.iter().enumerate() {
        c.s.org(org).await;
        let key = c.s.org_key(org, &["owner"], &[]).await;
        let app = format!("app-{i}");
        fake.register_app(twitch, &app, "app-secret");
        let (st, v) = crate::support::json(
            crate::support::call(
                &c.s,
                Method::PUT,
                &format!("/orgs/{org}/api/v1/connections/credentials/twitch"),
                Some(&key),
                Some(json!({"clientId": app, "clientSecret": "app-secret"})),
            )
            .await,
        )
        .await;
        assert_eq!(st, 200, "{v}");
        // Connect through node i % 3, as a browser would: the platform, then the callback.
        let (st, v) = json(
            c.s.http
                .post(c.url(
                    i % 3,
                    &format!("/orgs/{org}/api/v1/connections/twitch/authorize"),
                ))
                .bearer_auth(&key)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(st, 200, "{v}");
        let mut url = v["authorizationUrl"].as_str().unwrap().to_owned();
        for _ in 0..2 {
            let res = browser.get(&url).send().await.unwrap();
            assert!(res.status().is_redirection(), "{url}: {}", res.status());
            url = res.headers()["location"].to_str().unwrap().to_owned();
        }
        assert!(url.contains("connected="), "{url}");
    }
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(7)).await;
    let elapsed = started.elapsed().as_secs_f64();
    assert_eq!(
        fake.refused_refreshes(twitch),
        0,
        "a refresh token was spent twice"
    );
    // Due every two seconds from each connection's own start: never more refreshes than due
    // times (plus one for the connections made first), and at least one.
    let most = (elapsed / 2.0).ceil() as u32 + 1;
    for i in 0..orgs.len() {
        let n = fake.refreshes_of(twitch, &format!("app-{i}"));
        assert!(
            (1..=most).contains(&n),
            "connection {i}: {n} refreshes in {elapsed:.1} s (at most {most})"
        );
    }
    eprintln!(
        "refresh workers on 4 processes: {} refreshes of {} connections in {elapsed:.1} s, none twice",
        fake.token_calls(twitch, "refresh_token"),
        orgs.len()
    );
}

/// docs/getting-started.md's PostgreSQL section, its shell block run as written by bash on the
/// test cluster (only the names made unique, the server's address and a free port filled
/// in): the role and the database it owns, the master key, `tessera migrate` (which
/// bootstraps), `tessera serve` answering and its console sign-in pointing at itself.
#[tokio::test]
async fn the_getting_started_postgres_section_runs_as_written() {
    if backend() != Backend::Postgres {
        eprintln!("this guide's section runs on PostgreSQL only (TESSERA_TEST_BACKEND=postgres)");
        return;
    }
    let admin = tessera_testkit::pg_admin_url().expect("TESSERA_TEST_PG_URL");
    let pg = url::Url::parse(&admin).unwrap();
    let (host, port) = (pg.host_str().unwrap().to_owned(), pg.port().unwrap_or(5432));
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/getting-started.md"),
    )
    .unwrap();
    let section = &doc[doc.find("## 6. Switch to PostgreSQL").expect("the section")..];
    let block = section
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("its shell block");
    let role = format!(
        "tessera_gs_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..10]
    );
    let web_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut script = block.to_owned();
    for (from, to) in [
        ("ROLE tessera ", format!("ROLE {role} ")),
        ("-O tessera tessera", format!("-O {role} {role}")),
        (
            "postgres://tessera:secret@127.0.0.1:5432/tessera",
            format!("postgres://{role}:secret@{host}:{port}/{role}"),
        ),
        ("127.0.0.1:8701", format!("127.0.0.1:{web_port}")),
    ] {
        assert!(script.contains(from), "the section no longer says {from:?}");
        script = script.replace(from, &to);
    }
    let bin_dir = std::path::Path::new(BIN).parent().unwrap();
    let data = tempfile::tempdir().unwrap();
    let mut cmd = tokio::process::Command::new("bash");
    cmd.arg("-euc")
        .arg(&script)
        .env(
            "PATH",
            format!(
                "{}:{}",
                bin_dir.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        // psql and createdb as the superuser, as the section says; PG* name the server.
        .env("PGHOST", &host)
        .env("PGPORT", port.to_string())
        .env("PGUSER", pg.username())
        .env("PGDATABASE", pg.path().trim_start_matches('/'))
        .env("TESSERA_DATA_DIR", data.path())
        .env("TESSERA_LOG", "warn")
        .env_remove("TESSERA_DATABASE_URL")
        .env_remove("TESSERA_MASTER_KEY")
        .env_remove("TESSERA_CONFIG")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let mut child = cmd.spawn().expect("bash");
    let pgid = child.id().expect("pid");
    let base = format!("http://127.0.0.1:{web_port}");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut ready = false;
    for _ in 0..600 {
        if let Ok(r) = http.get(format!("{base}/readyz")).send().await {
            if r.status() == 200 {
                ready = true;
                break;
            }
        }
        if let Ok(Some(status)) = child.try_wait() {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                use tokio::io::AsyncReadExt;
                let _ = e.read_to_string(&mut err).await;
            }
            panic!("the section failed ({status}): {err}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ready, "tessera serve never became ready");
    // The console sign-in goes to this server's own sign-in page (its public URL).
    let res = http.get(format!("{base}/login")).send().await.unwrap();
    assert_eq!(res.status(), 303);
    let to = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(to.starts_with(&format!("{base}/orgs/default/")), "{to}");
    // Stop everything the script started, then read what it printed: the bootstrap.
    let _ = std::process::Command::new("kill")
        .args(["-TERM", "--", &format!("-{pgid}")])
        .status();
    let out = tokio::time::timeout(Duration::from_secs(20), child.wait_with_output())
        .await
        .expect("the server stops on SIGTERM")
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Tessera is set up"),
        "the first command bootstraps: {err}"
    );
    // Clean up the cluster for the next run.
    let drop = std::process::Command::new("psql")
        .env("PGHOST", &host)
        .env("PGPORT", port.to_string())
        .env("PGUSER", pg.username())
        .env("PGDATABASE", pg.path().trim_start_matches('/'))
        .args([
            "-qc",
            &format!("DROP DATABASE {role}"),
            "-c",
            &format!("DROP ROLE {role}"),
        ])
        .status();
    assert!(drop.is_ok_and(|s| s.success()), "cleanup");
}
