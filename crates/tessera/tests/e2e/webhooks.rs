//! Webhooks end to end: a receiver on 127.0.0.1 that refuses the first deliveries on purpose,
//! signatures checked by the Standard Webhooks reference library (npm `standardwebhooks`,
//! installed by the test command from `interop/webhooks/package-lock.json`), every event seen
//! exactly once, nothing from another organization, the delivery log and redelivery, the
//! automatic disabling, the rules of the subscription itself, and a delivering process killed
//! mid-delivery.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};
use tessera_testkit::TestServer;
use tokio::io::AsyncWriteExt;

use crate::support::{acme_client, acme_with_alice, call, json, ACME_CLIENTS};

const HOOKS: &str = "/orgs/acme-corp/api/v1/admin/webhooks";

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    headers: Vec<(String, String)>,
    body: String,
    /// What the receiver answered.
    status: u16,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.as_str())
    }

    fn payload(&self) -> Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }
}

/// A webhook receiver on 127.0.0.1: answers 500 to the first `fail_first` requests, then
/// 200; with `hang_first`, the first request is read and never answered.
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<Received>>>,
}

async fn receiver(fail_first: usize, hang_first: bool) -> Receiver {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    let got: Arc<Mutex<Vec<Received>>> = Arc::default();
    let seen = Arc::new(AtomicUsize::new(0));
    let g = got.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let (g, seen) = (g.clone(), seen.clone());
            tokio::spawn(async move {
                let Some((head, body)) = crate::support::read_request(&mut sock).await else {
                    return;
                };
                let headers = head
                    .lines()
                    .skip(1)
                    .filter_map(|l| l.split_once(':'))
                    .map(|(n, v)| (n.trim().to_lowercase(), v.trim().to_owned()))
                    .collect();
                let body = String::from_utf8_lossy(&body).into_owned();
                let n = seen.fetch_add(1, Ordering::SeqCst);
                if hang_first && n == 0 {
                    g.lock().unwrap().push(Received {
                        headers,
                        body,
                        status: 0,
                    });
                    // Hold the connection open: the sender never hears back.
                    tokio::time::sleep(Duration::from_secs(600)).await;
                    return;
                }
                let status = if n < fail_first { 500 } else { 200 };
                g.lock().unwrap().push(Received {
                    headers,
                    body,
                    status,
                });
                let reason = if status == 200 {
                    "OK"
                } else {
                    "Internal Server Error"
                };
                let res = format!(
                    "HTTP/1.1 {status} {reason}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                );
                let _ = sock.write_all(res.as_bytes()).await;
            });
        }
    });
    Receiver { url, got }
}

impl Receiver {
    fn all(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    /// The requests answered 200.
    fn accepted(&self) -> Vec<Received> {
        self.all().into_iter().filter(|r| r.status == 200).collect()
    }

    /// Waits (up to 20 s) until `done` holds of what arrived.
    async fn wait_for(&self, what: &str, done: impl Fn(&[Received]) -> bool) {
        let start = Instant::now();
        loop {
            if done(&self.all()) {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "timed out waiting for {what}; received: {:#?}",
                self.all()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Checks `messages` with the Standard Webhooks reference library; the payloads it accepted
/// and the indexes it refused. `None` when Node or the library is not installed (and the test
/// command does not require them).
fn verify_with_reference_library(
    secret: &str,
    messages: &[Received],
) -> Option<(Vec<Value>, Vec<usize>)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../interop/webhooks");
    let installed = dir.join("node_modules/standardwebhooks").is_dir();
    let node = std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !(installed && node) {
        assert!(
            std::env::var("TESSERA_TEST_REQUIRE_NODE").as_deref() != Ok("1"),
            "node or interop/webhooks/node_modules is missing (npm ci --prefix interop/webhooks)"
        );
        eprintln!("skipped the reference-library check: npm ci --prefix interop/webhooks");
        return None;
    }
    let input = json!({
        "secret": secret,
        "messages": messages.iter().map(|m| json!({
            "headers": m.headers.iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect::<serde_json::Map<_, _>>(),
            "body": m.body,
        })).collect::<Vec<_>>(),
    });
    let mut child = std::process::Command::new("node")
        .arg(dir.join("verify.mjs"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("node");
    {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.to_string().as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().expect("node ran");
    assert!(out.status.success(), "verify.mjs failed");
    let v: Value = serde_json::from_slice(&out.stdout).expect("verify.mjs answers JSON");
    let verified = v["verified"].as_array().unwrap().clone();
    let refused = v["refused"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i.as_u64().unwrap() as usize)
        .collect();
    Some((verified, refused))
}

async fn subscribe(s: &TestServer, key: &str, path: &str, body: Value) -> (String, String) {
    let (st, w) = json(call(s, Method::POST, path, Some(key), Some(body)).await).await;
    assert_eq!(st, 201, "{w}");
    (
        w["id"].as_str().unwrap().to_owned(),
        w["secret"].as_str().unwrap().to_owned(),
    )
}

/// The acceptance test: a receiver that fails the first deliveries sees every event exactly
/// once, signed as Standard Webhooks says, and nothing of another organization.
#[tokio::test]
async fn every_event_arrives_once_signed_after_failed_first_deliveries() {
    let s = TestServer::start().await;
    let admin = acme_with_alice(&s).await;
    let rx = receiver(2, false).await;
    let (hook, secret) = subscribe(&s, &admin, HOOKS, json!({"url": rx.url})).await;
    assert!(secret.starts_with("whsec_"), "{secret}");

    // Another organization with its own receiver and changes.
    s.org("globex").await;
    let globex = s.org_key("globex", &["admin"], &[]).await;
    let other = receiver(0, false).await;
    subscribe(
        &s,
        &globex,
        "/orgs/globex/api/v1/admin/webhooks",
        json!({"url": other.url, "events": ["oauth_client.created"]}),
    )
    .await;
    let (st, _) = json(
        call(
            &s,
            Method::POST,
            "/orgs/globex/api/v1/admin/oauth-clients",
            Some(&globex),
            Some(json!({"name": "Globex app", "redirectUris": [], "grantTypes": ["client_credentials"]})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 201);

    // Changes in acme: a client made, renamed, its secret rotated, disabled, deleted.
    let (client, _) = acme_client(
        &s,
        &admin,
        json!({"name": "Backend", "redirectUris": [], "grantTypes": ["client_credentials"]}),
    )
    .await;
    let path = format!("{ACME_CLIENTS}/{client}");
    let (st, _) = json(
        call(
            &s,
            Method::PATCH,
            &path,
            Some(&admin),
            Some(json!({"name": "Backend 2"})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 200);
    let (st, _) = json(
        call(
            &s,
            Method::POST,
            &format!("{path}/secret"),
            Some(&admin),
            None,
        )
        .await,
    )
    .await;
    assert!(st == 200 || st == 201, "{st}");
    let (st, _) = json(
        call(
            &s,
            Method::PATCH,
            &path,
            Some(&admin),
            Some(json!({"isActive": false})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 200);
    let st = call(&s, Method::DELETE, &path, Some(&admin), None)
        .await
        .status();
    assert_eq!(st, 204);

    let expected = [
        "oauth_client.created",
        "oauth_client.updated",
        "oauth_client.secret_regenerated",
        "oauth_client.disabled",
        "oauth_client.deleted",
    ];
    rx.wait_for("every acme event accepted", |got| {
        let types: Vec<String> = got
            .iter()
            .filter(|r| r.status == 200)
            .map(|r| r.payload()["type"].as_str().unwrap_or("").to_owned())
            .collect();
        expected.iter().all(|e| types.iter().any(|t| t == e))
    })
    .await;
    other
        .wait_for("globex's event", |got| got.iter().any(|r| r.status == 200))
        .await;
    // A moment for any duplicate to show.
    tokio::time::sleep(Duration::from_millis(600)).await;

    let all = rx.all();
    let accepted = rx.accepted();
    // The two refused deliveries were sent again under the same message id.
    let refused: Vec<&Received> = all.iter().filter(|r| r.status == 500).collect();
    assert_eq!(refused.len(), 2, "{all:#?}");
    for r in &refused {
        let id = r.header("webhook-id");
        assert!(id.starts_with("msg_"), "{id}");
        assert!(accepted.iter().any(|a| a.header("webhook-id") == id));
    }
    // Every event exactly once among the accepted deliveries.
    let mut ids: Vec<&str> = accepted.iter().map(|r| r.header("webhook-id")).collect();
    ids.sort_unstable();
    let n = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), n, "an event was accepted twice: {accepted:#?}");
    for r in &accepted {
        let p = r.payload();
        assert_eq!(p["data"]["id"], r.header("webhook-id"));
        let org = p["data"]["organizationId"].as_str().unwrap();
        assert!(
            !p.to_string().contains("Globex"),
            "another organization's event reached acme's receiver: {p}"
        );
        assert!(!org.is_empty());
        assert!(p["timestamp"].as_str().unwrap().ends_with('Z'));
        assert!(r.header("content-type").starts_with("application/json"));
        // No secret is ever in an event.
        assert!(!r.body.contains("cs_live_"), "{}", r.body);
    }
    // Globex's receiver heard only its own, filtered event.
    for r in other.all() {
        assert_eq!(r.payload()["type"], "oauth_client.created");
        assert!(r.body.contains("Globex app"));
    }

    // The reference library accepts every delivery, and refuses a tampered one.
    let mut tampered = accepted[0].clone();
    tampered.body = tampered.body.replace("oauth_client", "oauth_clienT");
    let mut messages = accepted.clone();
    messages.push(tampered);
    if let Some((verified, refused_ix)) = verify_with_reference_library(&secret, &messages) {
        assert_eq!(verified.len(), accepted.len());
        assert_eq!(refused_ix, vec![accepted.len()]);
    }

    // The delivery log: succeeded, the first ones after a failure.
    let (st, log) = json(
        call(
            &s,
            Method::GET,
            &format!("{HOOKS}/{hook}/deliveries"),
            Some(&admin),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(st, 200, "{log}");
    let log = log.as_array().unwrap().clone();
    assert_eq!(log.len(), accepted.len(), "{log:#?}");
    assert!(log
        .iter()
        .all(|d| d["status"] == "succeeded" && d["responseStatus"] == 200));
    assert_eq!(
        log.iter()
            .map(|d| d["attempts"].as_i64().unwrap())
            .sum::<i64>(),
        all.len() as i64
    );
    let failed_once = log
        .iter()
        .find(|d| d["attempts"].as_i64().unwrap() > 1)
        .expect("a delivery that needed a retry");
    assert!(failed_once["error"].is_null(), "{failed_once}");

    // Redelivery sends the same message id again.
    let delivery = failed_once["id"].as_str().unwrap();
    let event_id = failed_once["eventId"].as_str().unwrap().to_owned();
    let (st, d) = json(
        call(
            &s,
            Method::POST,
            &format!("{HOOKS}/{hook}/deliveries/{delivery}/redeliver"),
            Some(&admin),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(st, 202, "{d}");
    // Another organization's key can neither read the log nor redeliver, even knowing ids.
    s.org("initech").await;
    let intruder = s.org_key("initech", &["admin"], &[]).await;
    for (method, path) in [
        (Method::GET, format!("{HOOKS}/{hook}/deliveries")),
        (
            Method::POST,
            format!("{HOOKS}/{hook}/deliveries/{delivery}/redeliver"),
        ),
        (
            Method::POST,
            format!("/orgs/initech/api/v1/admin/webhooks/{hook}/deliveries/{delivery}/redeliver"),
        ),
    ] {
        let st = call(&s, method, &path, Some(&intruder), None)
            .await
            .status();
        assert_eq!(st, 404, "{path}");
    }
    // A viewer of acme reads the log but may not redeliver.
    let viewer = s.org_key("acme-corp", &["viewer"], &[]).await;
    let st = call(
        &s,
        Method::GET,
        &format!("{HOOKS}/{hook}/deliveries"),
        Some(&viewer),
        None,
    )
    .await
    .status();
    assert_eq!(st, 200);
    let st = call(
        &s,
        Method::POST,
        &format!("{HOOKS}/{hook}/deliveries/{delivery}/redeliver"),
        Some(&viewer),
        None,
    )
    .await
    .status();
    assert_eq!(st, 403);
    rx.wait_for("the redelivery", |got| {
        got.iter()
            .filter(|r| r.status == 200 && r.header("webhook-id") == event_id)
            .count()
            == 2
    })
    .await;

    // The subscription's own changes are audited (and become events too).
    let (_, audit) = json(
        call(
            &s,
            Method::GET,
            "/orgs/acme-corp/api/v1/admin/audit-log?limit=100&action=webhook.created",
            Some(&admin),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(audit.as_array().unwrap().len(), 1, "{audit}");
    assert!(!audit.to_string().contains("whsec_"), "{audit}");
}

/// Bad subscriptions are refused with every field named; the secret is never shown again;
/// permissions and organizations hold.
#[tokio::test]
async fn subscriptions_are_checked_and_kept_to_their_organization() {
    let s = TestServer::start().await;
    let admin = acme_with_alice(&s).await;
    let (st, e) = json(
        call(
            &s,
            Method::POST,
            HOOKS,
            Some(&admin),
            Some(json!({"url": "http://hooks.example.com/x", "events": ["user.created", "nope.happened"]})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 400, "{e}");
    let fields: Vec<&str> = e["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["url", "events[1]"], "{e}");
    let (st, e) = json(
        call(
            &s,
            Method::POST,
            HOOKS,
            Some(&admin),
            Some(json!({"url": "https://h.example.com", "colour": "red"})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 400, "{e}");
    assert!(e.to_string().contains("colour"), "{e}");

    let (id, _) = subscribe(
        &s,
        &admin,
        HOOKS,
        json!({"url": "https://hooks.example.com/tessera", "events": ["user.created"]}),
    )
    .await;
    let (st, w) = json(
        call(
            &s,
            Method::GET,
            &format!("{HOOKS}/{id}"),
            Some(&admin),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(st, 200);
    assert!(w.get("secret").is_none(), "{w}");
    assert_eq!(w["events"], json!(["user.created"]));
    assert_eq!(w["isActive"], true);
    let (st, w) = json(
        call(
            &s,
            Method::PATCH,
            &format!("{HOOKS}/{id}"),
            Some(&admin),
            Some(json!({"events": [], "isActive": false})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 200, "{w}");
    assert_eq!(w["events"], json!([]));
    assert_eq!(w["isActive"], false);

    // A viewer reads but cannot change; another organization's key sees nothing.
    let viewer = s.org_key("acme-corp", &["viewer"], &[]).await;
    assert_eq!(
        call(&s, Method::GET, HOOKS, Some(&viewer), None)
            .await
            .status(),
        200
    );
    let (st, e) = json(
        call(
            &s,
            Method::DELETE,
            &format!("{HOOKS}/{id}"),
            Some(&viewer),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(st, 403, "{e}");
    assert!(e.to_string().contains("webhooks:edit"), "{e}");
    s.org("globex").await;
    let globex = s.org_key("globex", &["admin"], &[]).await;
    assert_eq!(
        call(&s, Method::GET, HOOKS, Some(&globex), None)
            .await
            .status(),
        404
    );
    assert_eq!(
        call(
            &s,
            Method::GET,
            &format!("/orgs/globex/api/v1/admin/webhooks/{id}"),
            Some(&globex),
            None
        )
        .await
        .status(),
        404
    );

    // GraphQL sees the same subscription.
    let (st, g) = json(
        call(
            &s,
            Method::POST,
            "/orgs/acme-corp/api/v1/admin/graphql",
            Some(&admin),
            Some(json!({"query": "{ adminWebhooks { id url events isActive } }"})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 200, "{g}");
    assert_eq!(g["data"]["adminWebhooks"][0]["id"], id.as_str(), "{g}");

    let st = call(
        &s,
        Method::DELETE,
        &format!("{HOOKS}/{id}"),
        Some(&admin),
        None,
    )
    .await
    .status();
    assert_eq!(st, 204);
    assert_eq!(
        call(
            &s,
            Method::GET,
            &format!("{HOOKS}/{id}"),
            Some(&admin),
            None
        )
        .await
        .status(),
        404
    );
}

/// A subscription whose deliveries all fail for the configured time (a day by default) is
/// disabled, audited, and announced to the organization's other subscriptions.
#[tokio::test]
async fn a_webhook_that_keeps_failing_is_disabled() {
    let s = TestServer::start_with_webhooks(
        tessera_core::webhooks::WebhookConfig {
            give_up_after: time::Duration::seconds(30),
            disable_after: time::Duration::seconds(1),
            ..tessera_testkit::test_webhooks()
        },
        true,
    )
    .await;
    let admin = acme_with_alice(&s).await;
    let broken = receiver(usize::MAX, false).await;
    let watcher = receiver(0, false).await;
    let (bad, _) = subscribe(
        &s,
        &admin,
        HOOKS,
        json!({"url": broken.url, "events": ["oauth_client.created"]}),
    )
    .await;
    subscribe(
        &s,
        &admin,
        HOOKS,
        json!({"url": watcher.url, "events": ["webhook.disabled"]}),
    )
    .await;
    acme_client(
        &s,
        &admin,
        json!({"name": "Backend", "redirectUris": [], "grantTypes": ["client_credentials"]}),
    )
    .await;

    watcher
        .wait_for("webhook.disabled", |got| {
            got.iter().any(|r| r.status == 200)
        })
        .await;
    let p = watcher.accepted()[0].payload();
    assert_eq!(p["type"], "webhook.disabled");
    assert_eq!(p["data"]["targetId"], bad.as_str());
    assert_eq!(p["data"]["actor"]["type"], "system");
    let (_, w) = json(
        call(
            &s,
            Method::GET,
            &format!("{HOOKS}/{bad}"),
            Some(&admin),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(w["isActive"], false, "{w}");
    // Disabled: nothing more goes out to it.
    let attempts = broken.all().len();
    assert!(attempts >= 2, "{attempts}");
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(broken.all().len(), attempts);
    let (_, audit) = json(
        call(
            &s,
            Method::GET,
            "/orgs/acme-corp/api/v1/admin/audit-log?action=webhook.disabled",
            Some(&admin),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(audit.as_array().unwrap().len(), 1, "{audit}");
}

/// A `tessera worker` killed while its receiver holds a delivery loses nothing: the next
/// process takes the delivery over when the lease ends and delivers it, same message id.
#[tokio::test]
async fn a_process_killed_mid_delivery_loses_no_event() {
    const BIN: &str = env!("CARGO_BIN_EXE_tessera");
    const MASTER_KEY_HEX: &str = "0707070707070707070707070707070707070707070707070707070707070707";
    // This process only writes; the `tessera worker` processes deliver.
    let s = TestServer::start_with_webhooks(tessera_testkit::test_webhooks(), false).await;
    let admin = acme_with_alice(&s).await;
    let rx = receiver(0, true).await;
    subscribe(
        &s,
        &admin,
        HOOKS,
        json!({"url": rx.url, "events": ["oauth_client.created"]}),
    )
    .await;
    acme_client(
        &s,
        &admin,
        json!({"name": "Backend", "redirectUris": [], "grantTypes": ["client_credentials"]}),
    )
    .await;

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("tessera.toml"),
        "[webhooks]\nallow_internal_urls = true\nretry_base_ms = 200\npoll_interval_ms = 100\ntimeout_secs = 2\n",
    )
    .unwrap();
    let worker = || {
        let mut c = tokio::process::Command::new(BIN);
        c.arg("worker")
            .env("TESSERA_DATABASE_URL", &s.db.url)
            .env("TESSERA_MASTER_KEY", MASTER_KEY_HEX)
            .env("TESSERA_PUBLIC_URL", &s.base)
            .env("TESSERA_DATA_DIR", dir.path())
            .env("TESSERA_CONFIG", dir.path().join("tessera.toml"))
            .env("TESSERA_LOG", "warn")
            .env_remove("TESSERA_VAULT_KEYS")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true);
        c.spawn().expect("tessera worker")
    };
    let mut first = worker();
    rx.wait_for("the first attempt", |got| !got.is_empty())
        .await;
    // Killed while the receiver holds the request: no outcome is ever written.
    first.kill().await.unwrap();
    let held = rx.all()[0].header("webhook-id").to_owned();
    let _second = worker();
    rx.wait_for("the delivery after the lease ended", |got| {
        got.iter().any(|r| r.status == 200)
    })
    .await;
    let accepted = rx.accepted();
    assert_eq!(accepted.len(), 1, "{accepted:#?}");
    assert_eq!(accepted[0].header("webhook-id"), held);
    assert_eq!(accepted[0].payload()["type"], "oauth_client.created");
}
