//! The real `tessera` binary: a server process and management commands on the same data dir,
//! bootstrap output, restarts, graceful shutdown, and the one-line errors of bad input.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tessera_testkit::{backend, fresh_db, Backend, FreshDb};

const BIN: &str = env!("CARGO_BIN_EXE_tessera");

/// Runs `tessera` against the test database with extra arguments.
fn tessera(db: &FreshDb, args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.arg("--data-dir").arg(db.dir.path());
    if backend() == Backend::Postgres {
        c.arg("--database-url").arg(&db.url);
    }
    c.args(args)
        .env_remove("TESSERA_DATABASE_URL")
        .env_remove("TESSERA_CONFIG")
        .env_remove("TESSERA_MASTER_KEY")
        .env_remove("TESSERA_VAULT_KEYS")
        .env("TESSERA_LOG", "warn");
    c
}

fn run(db: &FreshDb, args: &[&str]) -> Output {
    tessera(db, args)
        .stdin(Stdio::null())
        .output()
        .expect("run tessera")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A server process and the lines it wrote to stderr before it was ready.
struct Server {
    child: Child,
    base: String,
    early: Vec<String>,
    rest: mpsc::Receiver<String>,
}

impl Server {
    fn start(db: &FreshDb) -> Server {
        Self::start_with(db, "warn")
    }

    // The child is waited for in `stop` or in `Drop`.
    #[allow(clippy::zombie_processes)]
    fn start_with(db: &FreshDb, log: &str) -> Server {
        Self::start_args(db, log, &[])
    }

    /// With global arguments before `serve` (`--config FILE`).
    #[allow(clippy::zombie_processes)]
    fn start_args(db: &FreshDb, log: &str, global: &[&str]) -> Server {
        let args: Vec<&str> = global
            .iter()
            .copied()
            .chain(["serve", "--listen", "127.0.0.1:0"])
            .collect();
        let mut child = tessera(db, &args)
            .env("TESSERA_LOG", log)
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("spawn server");
        let err = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel::<String>();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    // Nobody listens any more; keep draining so the server never blocks.
                }
            }
        });
        let mut early = vec![];
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let line = rx
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .unwrap_or_else(|_| panic!("server did not start; stderr so far: {early:?}"));
            if let Some(rest) = line.strip_prefix("Tessera listening on ") {
                let base = rest.split_whitespace().next().unwrap().to_owned();
                return Server {
                    child,
                    base,
                    early,
                    rest: rx,
                };
            }
            early.push(line);
        }
    }

    fn password(&self) -> Option<String> {
        self.early
            .iter()
            .find_map(|l| l.trim().strip_prefix("password: ").map(str::to_owned))
    }

    /// Everything the server wrote to stderr: before it was ready, and since.
    fn log(&self) -> String {
        let mut all = self.early.clone();
        all.extend(self.rest.try_iter());
        all.join("\n")
    }

    /// SIGTERM, then wait for a clean exit.
    fn stop(mut self) {
        let pid = self.child.id().to_string();
        let ok = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(ok.success());
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "graceful shutdown exits 0, got {status}");
                return;
            }
            assert!(Instant::now() < deadline, "server did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn get(base: &str, path: &str, key: &str) -> (u16, serde_json::Value) {
    let res = reqwest::Client::new()
        .get(format!("{base}{path}"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(serde_json::Value::Null))
}

/// The scenario of the foundation issue, end to end, against a live server.
#[tokio::test]
async fn management_commands_work_against_a_running_server_and_survive_restart() {
    let db = fresh_db().await;
    let server = Server::start(&db);
    let password = server
        .password()
        .expect("bootstrap prints the admin password");
    assert!(password.len() >= 20, "{password}");
    assert!(server.early.iter().any(|l| l.contains("username: admin")));
    // The next step the message names is served (a new user's first click).
    let explorer = server
        .early
        .iter()
        .find_map(|l| l.trim().strip_prefix("http").map(|r| format!("http{r}")))
        .expect("the message names the admin API's explorer");
    assert_eq!(
        explorer,
        format!("{}/orgs/default/api/v1/admin/graphql", server.base)
    );
    assert_eq!(reqwest::get(&explorer).await.unwrap().status(), 200);
    // And where to sign in to the console.
    let console = server
        .early
        .iter()
        .find_map(|l| {
            l.trim()
                .strip_prefix("console:")
                .map(|r| r.trim().to_owned())
        })
        .expect("the message names the console");
    assert_eq!(console, format!("{}/login", server.base));
    // It leads to the organization's sign-in page, for the console's own client.
    let page = reqwest::get(&console).await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Tessera Console"), "{html}");
    assert!(html.contains("name=\"password\""), "{html}");
    let picker = reqwest::get(format!("{console}?choose=1")).await.unwrap();
    assert!(picker.text().await.unwrap().contains("Tessera console"));
    assert!(server
        .early
        .iter()
        .any(|l| l.contains("tessera api-key create --system --name ops")));

    let o = run(&db, &["org", "create", "acme-corp", "--name", "Acme Corp"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let org: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(org["slug"], "acme-corp");
    assert_eq!(org["name"], "Acme Corp");

    let o = run(
        &db,
        &[
            "api-key",
            "create",
            "--org",
            "acme-corp",
            "--name",
            "ci",
            "--role",
            "admin",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let key = stdout(&o).trim().to_owned();
    assert!(key.starts_with("sk_live_") && !key.contains('\n'), "{key}");
    let viewer = stdout(&run(
        &db,
        &[
            "api-key",
            "create",
            "--org",
            "acme-corp",
            "--name",
            "ro",
            "--role",
            "viewer",
        ],
    ))
    .trim()
    .to_owned();
    let other = stdout(&run(
        &db,
        &[
            "api-key", "create", "--org", "default", "--name", "d", "--role", "owner",
        ],
    ))
    .trim()
    .to_owned();

    // The running server sees the CLI's changes at once (well within a second).
    let (st, log) = get(&server.base, "/orgs/acme-corp/api/v1/admin/audit-log", &key).await;
    assert_eq!(st, 200, "{log}");
    let (st, _) = get(
        &server.base,
        "/orgs/acme-corp/api/v1/admin/audit-log",
        &other,
    )
    .await;
    assert_eq!(st, 404, "another organization's key");
    let res = reqwest::Client::new()
        .post(format!("{}/orgs/acme-corp/api/v1/admin/users", server.base))
        .bearer_auth(&viewer)
        .json(&serde_json::json!({"username": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403, "viewer cannot write");

    // Users with a password from stdin; the password is never printed.
    let mut child = tessera(
        &db,
        &[
            "user",
            "create",
            "--org",
            "acme-corp",
            "--username",
            "bob",
            "--email",
            "bob@example.com",
            "--password-stdin",
            "--role",
            "viewer",
        ],
    )
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"a long secret passphrase\n")
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!stdout(&o).contains("passphrase") && !stderr(&o).contains("passphrase"));

    // Revocation through the CLI takes effect on the server within one second.
    let keys: serde_json::Value = serde_json::from_str(&stdout(&run(
        &db,
        &["api-key", "list", "--org", "acme-corp"],
    )))
    .unwrap();
    let ro_id = keys
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "ro")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let o = run(&db, &["api-key", "revoke", "--org", "acme-corp", &ro_id]);
    assert!(o.status.success(), "{}", stderr(&o));
    let t0 = Instant::now();
    loop {
        let (st, _) = get(
            &server.base,
            "/orgs/acme-corp/api/v1/admin/audit-log",
            &viewer,
        )
        .await;
        if st == 401 {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(1),
            "revocation not seen within 1 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    server.stop();

    // Restart: nothing lost, no second bootstrap.
    let server = Server::start(&db);
    assert_eq!(server.password(), None, "bootstrap happens once");
    let (st, log) = get(&server.base, "/orgs/acme-corp/api/v1/admin/audit-log", &key).await;
    assert_eq!(st, 200);
    let actions: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "api_key.revoked",
            "user.created",
            "api_key.created",
            "api_key.created",
            "oauth_client.created",
            "oauth_client.created",
            "organization.created"
        ]
    );
    let (st, log) = get(&server.base, "/orgs/default/api/v1/admin/audit-log", &other).await;
    assert_eq!(st, 200);
    let actions: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "api_key.created",
            "system.bootstrapped",
            "user.created",
            "oauth_client.created",
            "oauth_client.created",
            "organization.created"
        ]
    );
    let orgs: serde_json::Value =
        serde_json::from_str(&stdout(&run(&db, &["org", "list"]))).unwrap();
    assert_eq!(orgs.as_array().unwrap().len(), 2);
    server.stop();

    // The master key file is private.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(db.dir.path().join("master.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

/// One line on stderr, naming the problem, and a non-zero exit.
fn assert_fails_with(o: &Output, needle: &str) {
    assert!(!o.status.success(), "should fail: {}", stdout(o));
    let err = stderr(o);
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(lines.len(), 1, "one error line: {err}");
    assert!(lines[0].contains(needle), "expected '{needle}' in: {err}");
}

#[tokio::test]
async fn bad_input_fails_with_one_clear_line() {
    let db = fresh_db().await;
    assert!(run(&db, &["org", "create", "acme-corp"]).status.success());
    assert_fails_with(
        &run(&db, &["org", "create", "Acme_Corp"]),
        "invalid slug 'Acme_Corp'",
    );
    assert_fails_with(
        &run(&db, &["org", "create", "acme-corp"]),
        "organization 'acme-corp' already exists",
    );
    assert_fails_with(
        &run(
            &db,
            &[
                "api-key", "create", "--org", "nope", "--name", "x", "--role", "admin",
            ],
        ),
        "organization 'nope' not found",
    );
    assert_fails_with(
        &run(
            &db,
            &[
                "api-key",
                "create",
                "--org",
                "acme-corp",
                "--name",
                "x",
                "--role",
                "wizard",
            ],
        ),
        "unknown role 'wizard'",
    );
    assert_fails_with(
        &run(
            &db,
            &[
                "api-key",
                "create",
                "--org",
                "acme-corp",
                "--name",
                "x",
                "--permission",
                "everything",
            ],
        ),
        "unknown permission 'everything'",
    );
    // Custom roles, then keys that hold them.
    let o = run(
        &db,
        &[
            "role",
            "create",
            "--org",
            "acme-corp",
            "--name",
            "ops",
            "--permission",
            "audit-log:read",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(run(
        &db,
        &[
            "api-key",
            "create",
            "--org",
            "acme-corp",
            "--name",
            "ops",
            "--role",
            "ops"
        ]
    )
    .status
    .success());
    assert_fails_with(
        &run(
            &db,
            &[
                "role",
                "create",
                "--org",
                "acme-corp",
                "--name",
                "viewer",
                "--permission",
                "audit-log:read",
            ],
        ),
        "'viewer' is a built-in role",
    );
    let roles = stdout(&run(&db, &["role", "list", "--org", "acme-corp"]));
    assert!(roles.contains("\"ops\""), "{roles}");
    // A system key prints just the key.
    let o = run(&db, &["api-key", "create", "--system", "--name", "root"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o).lines().count(), 1);

    // Clients: the secret is printed once, with the client.
    let o = run(
        &db,
        &[
            "client",
            "create",
            "--org",
            "acme-corp",
            "--name",
            "Backend",
            "--client-id",
            "backend",
            "--grant-type",
            "client_credentials",
            "--scope",
            "admin.read",
            "--scope",
            "admin.write",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let c: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(c["id"], "backend");
    assert_eq!(c["clientType"], "confidential");
    assert!(c["secret"].as_str().unwrap().starts_with("cs_live_"));
    let listed = stdout(&run(&db, &["client", "list", "--org", "acme-corp"]));
    assert!(
        listed.contains("\"backend\"") && !listed.contains("cs_live_"),
        "{listed}"
    );
    assert_fails_with(
        &run(
            &db,
            &[
                "client",
                "create",
                "--org",
                "acme-corp",
                "--name",
                "Pub",
                "--public",
                "--grant-type",
                "client_credentials",
            ],
        ),
        "grantTypes[0]: a public client cannot use client_credentials",
    );
    assert_fails_with(
        &run(
            &db,
            &[
                "client",
                "create",
                "--org",
                "acme-corp",
                "--name",
                "Web",
                "--redirect-uri",
                "https://a.example/cb#x",
            ],
        ),
        "redirectUris[0]",
    );
    assert_fails_with(
        &run(
            &db,
            &[
                "client",
                "create",
                "--org",
                "acme-corp",
                "--name",
                "Signer",
                "--redirect-uri",
                "https://a.example/cb",
                "--request-object-alg",
                "none",
            ],
        ),
        "requestObjectSigningAlg: unsigned request objects are not accepted",
    );
    assert_fails_with(
        &run(
            &db,
            &[
                "client",
                "create",
                "--org",
                "acme-corp",
                "--name",
                "Backend",
                "--client-id",
                "backend",
                "--grant-type",
                "client_credentials",
            ],
        ),
        "client id 'backend' already exists",
    );
    // A secret chosen by the operator, from standard input: stored, never printed.
    let mut child = tessera(
        &db,
        &[
            "client",
            "create",
            "--org",
            "acme-corp",
            "--name",
            "Chosen",
            "--grant-type",
            "client_credentials",
            "--secret-stdin",
        ],
    )
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"operator-chosen-cli-secret\n")
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!stdout(&o).contains("operator-chosen-cli-secret"));
    let c: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(c.get("secret").is_none(), "{c}");
    assert_eq!(c["secrets"].as_array().unwrap().len(), 1);

    // The sender-constraint switches and the FAPI 2.0 profile.
    let o = run(
        &db,
        &[
            "client",
            "create",
            "--org",
            "acme-corp",
            "--name",
            "Bank app",
            "--redirect-uri",
            "https://bank.example/cb",
            "--require-par",
            "--dpop",
            "--require-signed-request-object",
            "--backchannel-logout-uri",
            "https://bank.example/bc",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let c: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(c["requirePushedAuthorizationRequests"], true);
    assert_eq!(c["dpopBoundAccessTokens"], true);
    assert_eq!(c["requireSignedRequestObject"], true);
    assert_eq!(c["backchannelLogoutUri"], "https://bank.example/bc");
    assert_fails_with(
        &run(
            &db,
            &[
                "client",
                "create",
                "--org",
                "acme-corp",
                "--name",
                "Bank app",
                "--redirect-uri",
                "https://bank.example/cb",
                "--security-profile",
                "fapi2",
            ],
        ),
        "tokenEndpointAuthMethod: the fapi2 security profile needs private_key_jwt",
    );

    let cfg = db.dir.path().join("bad.toml");
    std::fs::write(&cfg, "[server]\nlisen = \"127.0.0.1:1\"\n").unwrap();
    assert_fails_with(
        &run(&db, &["--config", cfg.to_str().unwrap(), "org", "list"]),
        "invalid config file",
    );
    std::fs::write(&cfg, "this is = = not toml").unwrap();
    assert_fails_with(
        &run(&db, &["--config", cfg.to_str().unwrap(), "org", "list"]),
        "invalid config file",
    );
    assert_fails_with(
        &run(
            &db,
            &["--config", "/nonexistent/tessera.toml", "org", "list"],
        ),
        "cannot read config file /nonexistent/tessera.toml",
    );
}

#[tokio::test]
async fn unreachable_database_at_start_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(BIN)
        .args([
            "--data-dir",
            dir.path().to_str().unwrap(),
            "--database-url",
            "postgres://tessera:secret@127.0.0.1:1/tessera",
            "serve",
        ])
        .env("TESSERA_LOG", "warn")
        .output()
        .unwrap();
    assert_fails_with(
        &o,
        "cannot connect to postgres://tessera:***@127.0.0.1:1/tessera",
    );
    assert!(!stderr(&o).contains("secret"));
}

#[tokio::test]
async fn configuration_layers_file_env_and_flags() {
    let db = fresh_db().await;
    let cfg = db.dir.path().join("tessera.toml");
    // The file says one port, the environment another, the flag a third: the flag wins.
    std::fs::write(
        &cfg,
        "[server]\nlisten = \"127.0.0.1:1\"\npublic_url = \"https://id.example.com\"\n",
    )
    .unwrap();
    let mut cmd = tessera(
        &db,
        &[
            "--config",
            cfg.to_str().unwrap(),
            "serve",
            "--listen",
            "127.0.0.1:0",
        ],
    );
    cmd.env("TESSERA_LISTEN", "127.0.0.1:2")
        .stderr(Stdio::piped())
        .stdout(Stdio::null());
    let mut child = cmd.spawn().unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let line = loop {
        let l = lines.next().expect("server output").unwrap();
        if l.starts_with("Tessera listening on ") {
            break l;
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        line.contains("(public URL https://id.example.com)"),
        "file value kept: {line}"
    );
    assert!(
        !line.contains(":1 ") && !line.contains(":2 "),
        "flag beats env and file: {line}"
    );
}

/// With debug logging on, no API key, client secret or password reaches the server's log.
#[tokio::test]
async fn secrets_never_reach_the_server_log() {
    let db = fresh_db().await;
    let server = Server::start_with(&db, "debug");
    let password = server.password().unwrap();
    assert!(run(&db, &["org", "create", "acme-corp"]).status.success());
    let key = stdout(&run(
        &db,
        &[
            "api-key",
            "create",
            "--org",
            "acme-corp",
            "--name",
            "ci",
            "--role",
            "admin",
        ],
    ))
    .trim()
    .to_owned();
    let http = reqwest::Client::new();
    let c: serde_json::Value = http
        .post(format!("{}/orgs/acme-corp/api/v1/admin/oauth-clients", server.base))
        .bearer_auth(&key)
        .json(&serde_json::json!({"name": "Backend", "redirectUris": [], "grantTypes": ["client_credentials"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let first = c["secret"].as_str().unwrap().to_owned();
    let id = c["id"].as_str().unwrap();
    let r: serde_json::Value = http
        .post(format!(
            "{}/orgs/acme-corp/api/v1/admin/oauth-clients/{id}/secret",
            server.base
        ))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let second = r["secret"].as_str().unwrap().to_owned();
    let res = http
        .post(format!("{}/orgs/acme-corp/api/v1/admin/users", server.base))
        .bearer_auth(&key)
        .json(&serde_json::json!({"username": "eve", "password": "a-very-secret-passphrase"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let log = server.log();
    assert!(log.contains("http.request"), "debug logging was on: {log}");
    for secret in [
        &key[8..],
        &first[8..],
        &second[8..],
        "a-very-secret-passphrase",
    ] {
        assert!(!log.contains(secret), "a secret reached the log");
    }
    // The bootstrap password is printed once, before the server is ready, and never again.
    assert_eq!(log.matches(&password).count(), 1);
    server.stop();
}

/// Keys rotated by another process (the CLI) are used by a running server within a second.
#[tokio::test]
async fn changes_made_by_another_process_take_effect_within_a_second() {
    let db = fresh_db().await;
    let server = Server::start(&db);
    assert!(run(&db, &["org", "create", "acme-corp"]).status.success());
    let o = run(
        &db,
        &[
            "client",
            "create",
            "--org",
            "acme-corp",
            "--name",
            "Backend",
            "--client-id",
            "backend",
            "--grant-type",
            "client_credentials",
        ],
    );
    let secret = serde_json::from_str::<serde_json::Value>(&stdout(&o)).unwrap()["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let http = reqwest::Client::new();
    let token = || async {
        let v: serde_json::Value = http
            .post(format!("{}/orgs/acme-corp/api/v1/oauth/token", server.base))
            .basic_auth("backend", Some(&secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["access_token"].as_str().unwrap().to_owned()
    };
    let kid = |t: &str| jsonwebtoken::decode_header(t).unwrap().kid.unwrap();
    let first = token().await;
    let o = run(&db, &["keys", "rotate", "--org", "acme-corp"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let kids: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let t0 = Instant::now();
    loop {
        let t = token().await;
        if kid(&t) != kid(&first) {
            assert!(kids["kids"]
                .as_array()
                .unwrap()
                .iter()
                .any(|k| k.as_str() == Some(&kid(&t))));
            break;
        }
        // Published at once, signing two seconds later (when every node has it): within
        // three seconds of the rotation.
        assert!(
            t0.elapsed() < Duration::from_secs(3),
            "the server still signs with the old key"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    server.stop();
}

#[tokio::test]
async fn vault_key_rotation_reencrypts_everything_and_can_run_again() {
    let db = fresh_db().await;
    let o = run(&db, &["org", "create", "vaulted"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(&db, &["keys", "rotate", "--org", "vaulted"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let status = |extra: Option<&str>| {
        let mut c = tessera(&db, &["vault", "status"]);
        if let Some(k) = extra {
            c.env("TESSERA_VAULT_KEYS", k);
        }
        let o = c.stdin(Stdio::null()).output().unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        serde_json::from_str::<serde_json::Value>(&stdout(&o)).unwrap()
    };
    let before = status(None);
    let total = before["total"].as_u64().unwrap();
    assert!(total >= 3, "signing keys are sealed: {before}");
    assert_eq!(before["pending"], 0);

    let o = run(&db, &["vault", "generate-key"]);
    let key = stdout(&o).trim().to_owned();
    assert_eq!(key.len(), 43, "{key}");
    let pending = status(Some(&key));
    assert_eq!(pending["pending"].as_u64().unwrap(), total);
    assert_eq!(pending["keys"].as_array().unwrap().len(), 2);

    let o = tessera(&db, &["vault", "reencrypt"])
        .env("TESSERA_VAULT_KEYS", &key)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let report: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(report["resealed"].as_u64().unwrap(), total);
    assert_eq!(status(Some(&key))["pending"], 0);
    // Run again: nothing to do. And the organization's keys still load with the new ring.
    let o = tessera(&db, &["vault", "reencrypt"])
        .env("TESSERA_VAULT_KEYS", &key)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let again: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(again["resealed"], 0);
    let o = tessera(&db, &["keys", "rotate", "--org", "vaulted"])
        .env("TESSERA_VAULT_KEYS", &key)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));

    let o = tessera(&db, &["vault", "status"])
        .env("TESSERA_VAULT_KEYS", "short")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(stderr(&o).contains("TESSERA_VAULT_KEYS"), "{}", stderr(&o));
    // Making a key needs no configuration, so it works while the variable is being fixed.
    let o = tessera(&db, &["vault", "generate-key"])
        .env("TESSERA_VAULT_KEYS", "short")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o).trim().len(), 43);
}

/// Hardening: the data dir is created `0700`, and the SQLite database, its WAL and its
/// shared-memory file are `0600` (owner only), like `master.key`; an older install's
/// readable database is tightened at start.
#[cfg(unix)]
#[tokio::test]
async fn the_data_dir_and_the_database_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let cmd = |args: &[&str]| {
        let mut c = Command::new(BIN);
        c.arg("--data-dir")
            .arg(&data)
            .args(args)
            .env_remove("TESSERA_DATABASE_URL")
            .env_remove("TESSERA_CONFIG")
            .env_remove("TESSERA_MASTER_KEY")
            .env_remove("TESSERA_VAULT_KEYS")
            .env("TESSERA_LOG", "warn");
        c
    };
    let out = cmd(&["migrate"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join("master.key")), 0o600);
    assert_eq!(mode(&data.join("tessera.db")), 0o600);

    // An install whose database was readable by others is tightened.
    std::fs::set_permissions(
        data.join("tessera.db"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    // While a server runs, its WAL and shared-memory files exist: owner only too.
    /// Killed however the test ends, so no server outlives it.
    struct Killed(Child);
    impl Drop for Killed {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut child = Killed(
        cmd(&["serve", "--listen", "127.0.0.1:0"])
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let err = child.0.stderr.take().unwrap();
    let mut lines = BufReader::new(err).lines();
    let base = loop {
        let line = lines.next().expect("server output").unwrap();
        if let Some(rest) = line.strip_prefix("Tessera listening on ") {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    // The database in use, so that the WAL has content.
    tessera_connect::oauth::install_crypto_provider();
    let res = reqwest::get(format!("{base}/readyz")).await.unwrap();
    assert_eq!(res.status(), 200);
    for name in ["tessera.db", "tessera.db-wal", "tessera.db-shm"] {
        let p = data.join(name);
        assert!(p.exists(), "{name}");
        assert_eq!(mode(&p), 0o600, "{name}");
    }
    drop(child);
}

/// SIGTERM with `drain_seconds`: `/readyz` answers 503 at once while requests are still
/// served, and the process exits 0 once the drain is over.
#[tokio::test]
async fn sigterm_drains_before_closing() {
    let db = fresh_db().await;
    let config = db.dir.path().join("drain.toml");
    std::fs::write(&config, "[server]\ndrain_seconds = 2\n").unwrap();
    let server = Server::start_args(&db, "warn", &["--config", config.to_str().unwrap()]);
    let http = reqwest::Client::new();
    let get = |path: &str| http.get(format!("{}{path}", server.base)).send();
    assert_eq!(get("/readyz").await.unwrap().status(), 200);
    let pid = server.child.id().to_string();
    let sent = Instant::now();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let mut draining = false;
    while sent.elapsed() < Duration::from_millis(1500) {
        let r = get("/readyz").await.unwrap();
        if r.status() == 503 {
            let v: serde_json::Value = r.json().await.unwrap();
            assert_eq!(v["status"], "draining");
            draining = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(draining, "/readyz answers 503 once SIGTERM arrives");
    assert_eq!(
        get("/healthz").await.unwrap().status(),
        200,
        "still serving"
    );
    server.stop();
    assert!(
        sent.elapsed() >= Duration::from_secs(2),
        "the listener stayed open for the drain"
    );
}

/// `tessera backup` copies a SQLite database while the server writes to it; the copy opens
/// with the same master key and holds what was committed. PostgreSQL is pointed to pg_dump.
#[tokio::test]
async fn backup_copies_a_live_sqlite_database() {
    let db = fresh_db().await;
    let server = Server::start(&db);
    let o = run(&db, &["org", "create", "before-backup"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = db.dir.path().join("copy.db");
    let o = run(&db, &["backup", "--to", out.to_str().unwrap()]);
    if backend() == Backend::Postgres {
        assert!(!o.status.success());
        assert!(
            stderr(&o).contains("back up PostgreSQL with pg_dump"),
            "{}",
            stderr(&o)
        );
        server.stop();
        return;
    }
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("keep the master key"), "{}", stderr(&o));
    // Never over an existing file.
    let again = run(&db, &["backup", "--to", out.to_str().unwrap()]);
    assert!(!again.status.success());
    assert!(stderr(&again).contains("exists"), "{}", stderr(&again));
    server.stop();
    // The copy, in a data dir of its own with the same master key, has the organization.
    let restored = tempfile::tempdir().unwrap();
    std::fs::copy(&out, restored.path().join("tessera.db")).unwrap();
    std::fs::copy(
        db.dir.path().join("master.key"),
        restored.path().join("master.key"),
    )
    .unwrap();
    let o = Command::new(BIN)
        .arg("--data-dir")
        .arg(restored.path())
        .args(["org", "list"])
        .env_remove("TESSERA_DATABASE_URL")
        .env_remove("TESSERA_CONFIG")
        .env_remove("TESSERA_MASTER_KEY")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("before-backup"), "{}", stdout(&o));
}

/// `client create --auth-method` (interfaces.md), and the longer name it also answers to.
#[tokio::test]
async fn client_create_takes_the_auth_method() {
    let db = fresh_db().await;
    for (flag, id) in [
        ("--auth-method", "post-a"),
        ("--token-endpoint-auth-method", "post-b"),
    ] {
        let o = run(
            &db,
            &[
                "client",
                "create",
                "--org",
                "default",
                "--name",
                "Post",
                "--client-id",
                id,
                "--grant-type",
                "client_credentials",
                flag,
                "client_secret_post",
            ],
        );
        assert!(o.status.success(), "{}", stderr(&o));
        let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
        assert_eq!(v["tokenEndpointAuthMethod"], "client_secret_post", "{flag}");
    }
    let o = run(
        &db,
        &[
            "client",
            "create",
            "--org",
            "default",
            "--name",
            "X",
            "--auth-method",
            "bogus",
        ],
    );
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("tokenEndpointAuthMethod"),
        "{}",
        stderr(&o)
    );
}

#[tokio::test]
async fn api_resources_from_the_command_line() {
    let db = fresh_db().await;
    let o = run(
        &db,
        &[
            "api-resource",
            "create",
            "--org",
            "default",
            "--identifier",
            "https://mcp.example.com/mcp",
            "--name",
            "MCP server",
            "--scope",
            "tools.read=List and call read-only tools",
            "--scope",
            "tools.write",
            "--access-token-lifetime",
            "600",
            "--allowed-client",
            "agent",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["identifier"], "https://mcp.example.com/mcp");
    assert_eq!(
        v["scopes"],
        serde_json::json!([
            {"name": "tools.read", "description": "List and call read-only tools"},
            {"name": "tools.write", "description": null}
        ])
    );
    assert_eq!(v["allowedClients"], serde_json::json!(["agent"]));
    let id = v["id"].as_str().unwrap().to_owned();
    let list: serde_json::Value = serde_json::from_str(&stdout(&run(
        &db,
        &["api-resource", "list", "--org", "default"],
    )))
    .unwrap();
    assert_eq!(list[0]["id"], id.as_str());
    // Bad input: one line naming the field, nothing written.
    let o = run(
        &db,
        &[
            "api-resource",
            "create",
            "--org",
            "default",
            "--identifier",
            "not a uri",
            "--name",
            "X",
        ],
    );
    assert!(!o.status.success());
    assert!(stderr(&o).contains("identifier"), "{}", stderr(&o));
    let o = run(&db, &["api-resource", "delete", "--org", "default", &id]);
    assert!(o.status.success(), "{}", stderr(&o));
    let list: serde_json::Value = serde_json::from_str(&stdout(&run(
        &db,
        &["api-resource", "list", "--org", "default"],
    )))
    .unwrap();
    assert_eq!(list, serde_json::json!([]));
}

/// A collector of OTLP/HTTP JSON on 127.0.0.1: every `POST /v1/traces` body it was sent.
type Collected = std::sync::Arc<std::sync::Mutex<Vec<serde_json::Value>>>;

/// A collector of OTLP/HTTP JSON on 127.0.0.1: every `POST /v1/traces` body it was sent, and
/// the `traceparent` of every other request (a webhook delivery).
async fn otlp_collector() -> (String, Collected, Collected) {
    use tokio::io::AsyncWriteExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let got: Collected = Default::default();
    let other: Collected = Default::default();
    let (g, o) = (got.clone(), other.clone());
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let (g, o) = (g.clone(), o.clone());
            tokio::spawn(async move {
                loop {
                    let Some((head, body)) = crate::support::read_request(&mut sock).await else {
                        return;
                    };
                    if head.starts_with("POST /v1/traces") {
                        if let Ok(v) = serde_json::from_slice(&body) {
                            g.lock().unwrap().push(v);
                        }
                    } else {
                        let tp = head.lines().find_map(|l| {
                            l.to_lowercase()
                                .strip_prefix("traceparent:")
                                .map(|v| v.trim().to_owned())
                        });
                        o.lock()
                            .unwrap()
                            .push(serde_json::json!({ "traceparent": tp }));
                    }
                    let res = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}";
                    if sock.write_all(res.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (url, got, other)
}

/// Every span the collector received, flattened.
fn spans(got: &[serde_json::Value]) -> Vec<serde_json::Value> {
    got.iter()
        .flat_map(|b| b["resourceSpans"].as_array().cloned().unwrap_or_default())
        .flat_map(|r| r["scopeSpans"].as_array().cloned().unwrap_or_default())
        .flat_map(|s| s["spans"].as_array().cloned().unwrap_or_default())
        .collect()
}

fn attribute(span: &serde_json::Value, key: &str) -> Option<String> {
    span["attributes"]
        .as_array()?
        .iter()
        .find(|a| a["key"] == key)
        .and_then(|a| a["value"]["stringValue"].as_str().map(str::to_owned))
}

/// With `[telemetry] otlp_endpoint`, a request's spans reach the collector: the request span
/// under the caller's `traceparent`, with route, organization and request id, and the store
/// calls as its children.
#[tokio::test]
async fn traces_reach_an_otlp_collector_under_the_callers_traceparent() {
    let (collector, got, hooks) = otlp_collector().await;
    let db = fresh_db().await;
    let conf = db.dir.path().join("otel.toml");
    std::fs::write(
        &conf,
        format!("[telemetry]\notlp_endpoint = \"{collector}\"\nexport_interval_ms = 200\n"),
    )
    .unwrap();
    let srv = Server::start_args(&db, "warn", &["--config", conf.to_str().unwrap()]);
    let org = srv
        .early
        .iter()
        .find_map(|l| l.trim().strip_prefix("org:").map(|o| o.trim().to_owned()))
        .expect("the bootstrap names its organization");
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let parent = "00f067aa0ba902b7";
    let res = reqwest::Client::new()
        .post(format!("{}/orgs/{org}/api/v1/oauth/token", srv.base))
        .header("traceparent", format!("00-{trace_id}-{parent}-01"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "no-such-client"),
            ("client_secret", "nothing-at-all-here"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let request_id = res
        .headers()
        .get("x-request-id")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let deadline = Instant::now() + Duration::from_secs(20);
    let (request, all) = loop {
        let all = spans(&got.lock().unwrap());
        let request = all
            .iter()
            .find(|s| s["name"] == "http.request" && s["traceId"] == trace_id)
            .cloned();
        if let Some(r) = request {
            let id = r["spanId"].as_str().unwrap().to_owned();
            if all.iter().any(|s| s["parentSpanId"] == id.as_str()) {
                break (r, all);
            }
        }
        assert!(Instant::now() < deadline, "no trace arrived: {all:#?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(request["parentSpanId"], parent, "{request}");
    assert_eq!(
        attribute(&request, "request_id").as_deref(),
        Some(request_id.as_str())
    );
    assert_eq!(attribute(&request, "org").as_deref(), Some(org.as_str()));
    assert_eq!(
        attribute(&request, "client_id").as_deref(),
        Some("no-such-client")
    );
    assert_eq!(
        attribute(&request, "route").as_deref(),
        Some("/orgs/{org}/api/v1/oauth/token"),
        "{request}"
    );
    let id = request["spanId"].as_str().unwrap();
    let children: Vec<&serde_json::Value> = all
        .iter()
        .filter(|s| s["traceId"] == trace_id && s["parentSpanId"] == id)
        .collect();
    assert!(
        children.iter().any(|s| s["name"]
            .as_str()
            .is_some_and(|n| n.starts_with("store.") || n.starts_with("find_"))),
        "no store span under the request: {children:#?}"
    );
    // The secret never reaches a span.
    assert!(!serde_json::to_string(&all)
        .unwrap()
        .contains("nothing-at-all-here"));

    // On the way out: a webhook delivery carries the `traceparent` of its own span.
    let made = run(
        &db,
        &[
            "webhook",
            "create",
            "--org",
            &org,
            "--url",
            &format!("{collector}/hook"),
        ],
    );
    assert!(made.status.success(), "{}", stderr(&made));
    let deadline = Instant::now() + Duration::from_secs(20);
    let tp = loop {
        if let Some(tp) = hooks
            .lock()
            .unwrap()
            .iter()
            .find_map(|h| h["traceparent"].as_str().map(str::to_owned))
        {
            break tp;
        }
        assert!(Instant::now() < deadline, "no delivery with a traceparent");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let parts: Vec<&str> = tp.split('-').collect();
    assert_eq!(parts.len(), 4, "{tp}");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let all = spans(&got.lock().unwrap());
        if all.iter().any(|s| {
            s["name"] == "webhook.deliver" && s["traceId"] == parts[1] && s["spanId"] == parts[2]
        }) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the delivery's span was not exported"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    srv.stop();
}
