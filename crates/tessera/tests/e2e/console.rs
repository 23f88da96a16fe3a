//! The console in a real browser: headless Chromium driven over WebDriver (chromedriver),
//! clicking what a person clicks. Screenshots of the list, the secret dialog and the edit page
//! land in `docs/screenshots/`.
//!
//! Without Chromium and chromedriver these tests skip with a note, unless the test command
//! requires them (`TESSERA_TEST_REQUIRE_BROWSER=1`).

use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;
use tessera_core::users::NewUser;
use tessera_core::Context;
use tessera_testkit::TestServer;

use crate::support::{hidden, Jar};
use thirtyfour::prelude::*;

/// A chromedriver process and a browser session through it; both end on drop / quit.
struct Browser {
    driver: WebDriver,
    _chromedriver: tokio::process::Child,
    _profile: tempfile::TempDir,
}

fn chromedriver() -> Option<PathBuf> {
    let path = std::env::var("TESSERA_TEST_CHROMEDRIVER")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from("/usr/bin/chromedriver"));
    if path.is_file() {
        return Some(path);
    }
    if std::env::var("TESSERA_TEST_REQUIRE_BROWSER").as_deref() == Ok("1") {
        panic!("TESSERA_TEST_REQUIRE_BROWSER=1 but chromedriver was not found: install Debian's chromium-driver or set TESSERA_TEST_CHROMEDRIVER");
    }
    eprintln!("note: no chromedriver found; the console browser tests are skipped (the test command installs it)");
    None
}

impl Browser {
    async fn start() -> Option<Self> {
        let chromium = tessera_testkit::chromium()?;
        let driver_bin = chromedriver()?;
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let child = tokio::process::Command::new(driver_bin)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start chromedriver");
        let status = format!("http://127.0.0.1:{port}/status");
        for _ in 0..100 {
            if reqwest::get(&status).await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let profile = tempfile::tempdir().unwrap();
        let mut caps = DesiredCapabilities::chrome();
        caps.set_binary(chromium.to_str().unwrap()).unwrap();
        for arg in [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-dev-shm-usage",
            // Nothing but 127.0.0.1: no update, sync, variations or safe-browsing calls.
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-quic",
            "--no-pings",
            "--window-size=1280,900",
            "--proxy-server=127.0.0.1:9",
            "--proxy-bypass-list=127.0.0.1",
        ] {
            caps.add_arg(arg).unwrap();
        }
        caps.add_arg(&format!("--user-data-dir={}", profile.path().display()))
            .unwrap();
        let driver = WebDriver::new(format!("http://127.0.0.1:{port}"), caps)
            .await
            .expect("WebDriver session with Chromium");
        Some(Self {
            driver,
            _chromedriver: child,
            _profile: profile,
        })
    }

    async fn quit(self) {
        let _ = self.driver.quit().await;
    }

    async fn id(&self, id: &str) -> WebElement {
        match self.driver.find(By::Id(id)).await {
            Ok(el) => el,
            Err(e) => panic!(
                "no #{id} on {}: {e}\n{}",
                self.url().await,
                self.source().await
            ),
        }
    }

    async fn url(&self) -> String {
        self.driver.current_url().await.unwrap().to_string()
    }

    async fn source(&self) -> String {
        self.driver.source().await.unwrap()
    }

    /// Waits (up to ten seconds) until the page shows `needle`: a click that submits a form
    /// returns before the next page is there.
    async fn see(&self, needle: &str) {
        for _ in 0..100 {
            if self.source().await.contains(needle) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "{needle:?} never showed on {}: {}",
            self.url().await,
            self.source().await
        );
    }

    /// Clicks something that loads another page, and waits until that page is there (a
    /// click returns before the next page has loaded).
    async fn click_nav(&self, el: &WebElement) {
        self.driver
            .execute("window.__oldPage = true;", Vec::new())
            .await
            .unwrap();
        el.click().await.unwrap();
        self.wait_new_page().await;
    }

    async fn wait_new_page(&self) {
        for _ in 0..200 {
            let old = self
                .driver
                .execute(
                    "return window.__oldPage === true || document.readyState !== 'complete';",
                    Vec::new(),
                )
                .await
                .map(|r| r.json().as_bool().unwrap_or(true))
                .unwrap_or(true);
            if !old {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no new page after the click: {}", self.url().await);
    }

    /// Clicks the element with this id and waits for the page it loads.
    async fn press(&self, id: &str) {
        let el = self.id(id).await;
        self.click_nav(&el).await;
    }

    /// How many elements match, without waiting for any.
    async fn count(&self, css: &str) -> usize {
        self.driver
            .execute(
                "return document.querySelectorAll(arguments[0]).length;",
                vec![serde_json::json!(css)],
            )
            .await
            .unwrap()
            .json()
            .as_u64()
            .unwrap() as usize
    }

    /// Types into a field, replacing what it held.
    async fn fill(&self, id: &str, text: &str) {
        let el = self.id(id).await;
        el.clear().await.unwrap();
        el.send_keys(text).await.unwrap();
    }

    /// Signs in through the organization's login page.
    async fn sign_in(&self, base: &str, username: &str, password: &str) {
        self.driver
            .goto(format!("{base}/oauth-clients"))
            .await
            .unwrap();
        // Straight to the sign-in page of the organization (`default` on a first visit).
        assert!(
            self.url()
                .await
                .contains("/orgs/default/api/v1/oauth/authorize"),
            "{}",
            self.url().await
        );
        self.driver
            .find(By::Name("username"))
            .await
            .unwrap()
            .send_keys(username)
            .await
            .unwrap();
        self.driver
            .find(By::Name("password"))
            .await
            .unwrap()
            .send_keys(password)
            .await
            .unwrap();
        let submit = self
            .driver
            .find(By::Css("button[type=submit]"))
            .await
            .unwrap();
        self.click_nav(&submit).await;
        assert!(
            self.url().await.ends_with("/oauth-clients"),
            "after sign-in: {} {}",
            self.url().await,
            self.source().await
        );
    }

    /// The console session cookie, to call the server as this browser does.
    async fn session_cookie(&self) -> String {
        self.driver
            .get_all_cookies()
            .await
            .unwrap()
            .into_iter()
            .find(|c| c.name == "tessera_console")
            .map(|c| c.value)
            .expect("console session cookie")
    }

    async fn screenshot(&self, name: &str) {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        self.driver.screenshot(&dir.join(name)).await.unwrap();
    }

    /// The row of a client in the table.
    async fn client_row(&self, id: &str) -> WebElement {
        self.driver
            .find(By::Css(format!("tr[data-client-id=\"{id}\"]")))
            .await
            .unwrap()
    }
}

pub(crate) async fn member(s: &TestServer, username: &str, roles: &[&str]) -> &'static str {
    let password = "correct horse battery staple";
    s.services
        .create_user(
            &Context::cli(),
            "default",
            NewUser {
                username: username.into(),
                password: Some(SecretString::from(password.to_owned())),
                roles: roles.iter().map(|r| r.to_string()).collect(),
                ..NewUser::default()
            },
        )
        .await
        .unwrap();
    password
}

/// `client_credentials` with a client's id and secret: the HTTP status.
async fn token_status(s: &TestServer, id: &str, secret: &str) -> u16 {
    s.http
        .post(s.url("/orgs/default/api/v1/oauth/token"))
        .basic_auth(id, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// The CSRF token of the page the browser shows.
async fn csrf_of(b: &Browser) -> String {
    b.driver
        .find(By::Name("csrf_token"))
        .await
        .unwrap()
        .value()
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn operator_manages_a_client_in_a_real_browser() {
    let s = TestServer::start().await;
    let password = member(&s, "operator", &["owner"]).await;
    let Some(b) = Browser::start().await else {
        return;
    };
    b.sign_in(&s.base, "operator", password).await;

    // Create a confidential client through the dialog.
    b.id("create-client").await.click().await.unwrap();
    let name = b.id("client-name").await;
    assert_eq!(
        name.attr("placeholder").await.unwrap().as_deref(),
        Some("My Application")
    );
    name.send_keys("Billing Service").await.unwrap();
    b.fill(
        "client-redirect-uris",
        "https://billing.example.com/callback",
    )
    .await;
    b.driver
        .find(By::Css(
            "#create-client-dialog input[value=client_credentials]",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.press("create-client-submit").await;

    // The secret, once, in the warning dialog, worded as the seed words it.
    let dialog = b.id("secret-reveal").await;
    assert!(dialog.is_displayed().await.unwrap());
    let text = dialog.text().await.unwrap();
    assert!(
        text.contains("Client Created — Save Your Credentials"),
        "{text}"
    );
    assert!(
        text.contains(
            "The client secret will only be shown once. Copy it now and store it securely."
        ),
        "{text}"
    );
    let client_id = b.id("revealed-subject").await.text().await.unwrap();
    let secret = b
        .id("revealed-secret")
        .await
        .value()
        .await
        .unwrap()
        .unwrap();
    assert!(secret.starts_with("cs_live_"), "{secret}");
    b.screenshot("client-created-dialog.png").await;
    let copy = b.id("copy-secret").await;
    assert_eq!(copy.text().await.unwrap(), "Copy Secret");
    copy.click().await.unwrap();
    // The clipboard answers through a promise: the label changes a moment after the click.
    b.see(">Copied<").await;
    assert_eq!(copy.text().await.unwrap(), "Copied");
    assert_eq!(token_status(&s, &client_id, &secret).await, 200);

    // Dismissed, the secret is nowhere on the page.
    b.press("dismiss-secret").await;
    assert!(b.url().await.ends_with("/oauth-clients"));
    let html = b.source().await;
    assert!(!html.contains(&secret), "the secret is still on the page");
    assert!(html.contains(&client_id));
    b.screenshot("clients-list.png").await;

    // The row: monospace id, type, URIs, grant types, Enabled badge.
    let row = b.client_row(&client_id).await;
    let row_text = row.text().await.unwrap();
    for needle in [
        "Billing Service",
        "confidential",
        "https://billing.example.com/callback",
        "client_credentials",
        "Enabled",
    ] {
        assert!(row_text.contains(needle), "{needle} in {row_text}");
    }

    // Disable, then enable again; the token endpoint follows.
    b.click_nav(&row.find(By::Css("[data-action=disable]")).await.unwrap())
        .await;
    b.see("The client is disabled").await;
    let row = b.client_row(&client_id).await;
    assert!(row.text().await.unwrap().contains("Disabled"));
    assert_ne!(token_status(&s, &client_id, &secret).await, 200);
    b.click_nav(&row.find(By::Css("[data-action=enable]")).await.unwrap())
        .await;
    b.see("The client is enabled").await;
    let row = b.client_row(&client_id).await;
    assert!(row.text().await.unwrap().contains("Enabled"));
    assert_eq!(token_status(&s, &client_id, &secret).await, 200);

    // Edit its redirect URIs: a bad one is named next to the field, with its line.
    b.click_nav(&row.find(By::LinkText("Edit")).await.unwrap())
        .await;
    assert!(b
        .url()
        .await
        .ends_with(&format!("/oauth-clients/{client_id}")));
    assert_eq!(
        b.id("f-client-id")
            .await
            .attr("readonly")
            .await
            .unwrap()
            .as_deref(),
        Some("true")
    );
    b.screenshot("client-edit.png").await;
    b.fill(
        "f-redirect-uris",
        "https://billing.example.com/callback\nhttp://billing.example.com/plain",
    )
    .await;
    b.press("save-client").await;
    let err = b.id("f-redirect-uris-error").await.text().await.unwrap();
    assert!(err.starts_with("Line 2:"), "{err}");
    assert_eq!(
        b.id("f-redirect-uris")
            .await
            .attr("aria-invalid")
            .await
            .unwrap()
            .as_deref(),
        Some("true")
    );
    // What was typed is kept.
    assert!(b
        .id("f-redirect-uris")
        .await
        .value()
        .await
        .unwrap()
        .unwrap()
        .contains("http://billing.example.com/plain"));
    b.fill(
        "f-redirect-uris",
        "https://billing.example.com/callback\nhttps://billing.example.com/alt",
    )
    .await;
    // Signed userinfo, and the secret sent in the form body; PAR and signed requests
    // required, a back-channel logout URI.
    b.fill(
        "f-backchannel",
        "https://billing.example.com/backchannel-logout",
    )
    .await;
    for option in [
        "#f-userinfo-alg option[value='RS256']",
        "#f-request-object-alg option[value='ES256']",
        "#f-auth-method option[value='client_secret_post']",
        "input[name=requirePushedAuthorizationRequests]",
        "input[name=requireSignedRequestObject]",
    ] {
        let e = b.driver.find(By::Css(option)).await.unwrap();
        // Above the sticky Save bar before the click.
        e.scroll_into_view().await.unwrap();
        e.click().await.unwrap();
    }
    b.press("save-client").await;
    b.see("The client is saved.").await;
    let saved = s
        .services
        .get_client(&Context::cli(), "default", &client_id)
        .await
        .unwrap();
    assert_eq!(saved.settings.redirect_uris.len(), 2);
    assert_eq!(
        saved.settings.userinfo_signed_response_alg,
        Some(tessera_domain::client::SigningAlg::RS256)
    );
    assert_eq!(
        saved.settings.request_object_signing_alg,
        Some(tessera_domain::client::ClientAlg::ES256)
    );
    assert_eq!(
        saved.settings.token_endpoint_auth_method.as_str(),
        "client_secret_post"
    );
    let security = &saved.settings.security;
    assert!(
        security.require_pushed_authorization_requests && security.require_signed_request_object
    );
    assert!(!security.dpop_bound_access_tokens);
    assert_eq!(
        security.backchannel_logout_uri.as_deref(),
        Some("https://billing.example.com/backchannel-logout")
    );
    assert_eq!(security.security_profile, None);

    // Regenerate the secret: a new one, once; the old one dies at once.
    b.press("regenerate-secret").await;
    let new_secret = b
        .id("revealed-secret")
        .await
        .value()
        .await
        .unwrap()
        .unwrap();
    assert_ne!(new_secret, secret);
    assert_eq!(token_status(&s, &client_id, &secret).await, 401);
    assert_eq!(token_status(&s, &client_id, &new_secret).await, 200);
    b.press("dismiss-secret").await;
    assert!(!b.source().await.contains(&new_secret));
    // Its hint, creation and last use are listed.
    let secrets = b.id("secrets").await.text().await.unwrap();
    assert!(
        secrets.contains(&format!("…{}", &new_secret[new_secret.len() - 4..])),
        "{secrets}"
    );

    // Set New Secret: typed twice; a mismatch is said, a match works.
    b.id("set-new-secret").await.click().await.unwrap();
    b.fill("new-secret", "operator-chosen-secret-0123456789abcdef")
        .await;
    b.fill("new-secret-confirm", "something else").await;
    b.press("set-secret-submit").await;
    b.see("The two secrets differ.").await;
    b.fill("new-secret", "operator-chosen-secret-0123456789abcdef")
        .await;
    b.fill(
        "new-secret-confirm",
        "operator-chosen-secret-0123456789abcdef",
    )
    .await;
    b.press("set-secret-submit").await;
    b.see("The new secret is set.").await;
    assert_eq!(
        token_status(&s, &client_id, "operator-chosen-secret-0123456789abcdef").await,
        200
    );

    // Export the list (as this browser: its session cookie).
    b.driver
        .goto(format!("{}/oauth-clients", s.base))
        .await
        .unwrap();
    let href = b
        .id("export-csv")
        .await
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    let cookie = b.session_cookie().await;
    let res = s
        .http
        .get(s.url(&href))
        .header("cookie", format!("tessera_console={cookie}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("attachment"));
    let csv = res.text().await.unwrap();
    assert!(csv.contains(
        "\"Name\",\"Client ID\",\"Client Type\",\"Client URI\",\"Redirect URIs\",\"Scopes\",\"Grant Types\",\"Status\""
    ));
    assert!(csv.contains(&client_id));
    for (id, magic) in [("export-xlsx", &b"PK"[..]), ("export-pdf", &b"%PDF"[..])] {
        let href = b.id(id).await.attr("href").await.unwrap().unwrap();
        let bytes = s
            .http
            .get(s.url(&href))
            .header("cookie", format!("tessera_console={cookie}"))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert!(bytes.starts_with(magic), "{id}");
    }

    // Search by name and by id.
    s.services
        .create_client(
            &Context::cli(),
            "default",
            tessera_domain::client::ClientInput {
                name: "Other App".into(),
                redirect_uris: vec!["https://other.example.com/cb".into()],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    for q in ["Billing", client_id.as_str()] {
        b.fill("client-search", q).await;
        b.press("search-button").await;
        let rows = b
            .driver
            .find_all(By::Css("#clients-table tbody tr[data-client-id]"))
            .await
            .unwrap();
        assert_eq!(rows.len(), 1, "search {q}");
        assert!(rows[0].text().await.unwrap().contains("Billing Service"));
    }
    b.fill("client-search", "Other").await;
    b.press("search-button").await;
    assert!(!b.source().await.contains(&client_id));

    // Delete, after a confirmation that says it cannot be undone.
    b.fill("client-search", "").await;
    b.press("search-button").await;
    b.client_row(&client_id)
        .await
        .find(By::Css("[data-action=delete]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let confirm = b.id("confirm-delete-dialog").await;
    assert!(confirm.is_displayed().await.unwrap());
    assert!(confirm
        .text()
        .await
        .unwrap()
        .contains("This cannot be undone."));
    b.press("confirm-delete").await;
    b.see("The client is deleted.").await;
    assert!(b
        .driver
        .find_all(By::Css(format!("tr[data-client-id=\"{client_id}\"]")))
        .await
        .unwrap()
        .is_empty());
    assert!(s
        .services
        .get_client(&Context::cli(), "default", &client_id)
        .await
        .is_err());

    // The pages carry the security headers; a form without the CSRF token is refused.
    let res = s
        .http
        .get(s.url("/oauth-clients"))
        .header("cookie", format!("tessera_console={cookie}"))
        .send()
        .await
        .unwrap();
    assert!(res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("frame-ancestors 'none'"));
    assert_eq!(res.headers()["referrer-policy"], "no-referrer");
    let res = s
        .http
        .post(s.url("/oauth-clients"))
        .header("cookie", format!("tessera_console={cookie}"))
        .form(&[("name", "Forged"), ("redirectUris", "https://x.example/cb")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);

    // The session cookie also authenticates the admin API; changes need X-CSRF-Token.
    let api = s.url("/orgs/default/api/v1/admin/oauth-clients");
    let res = s
        .http
        .get(&api)
        .header("cookie", format!("tessera_console={cookie}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body = serde_json::json!({"name": "Via cookie", "redirectUris": ["https://c.example/cb"]});
    let res = s
        .http
        .post(&api)
        .header("cookie", format!("tessera_console={cookie}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let csrf = csrf_of(&b).await;
    let res = s
        .http
        .post(&api)
        .header("cookie", format!("tessera_console={cookie}"))
        .header("x-csrf-token", csrf)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);

    // Signed out, the cookie opens nothing.
    b.press("sign-out").await;
    b.see("You are signed out").await;
    let res = s
        .http
        .get(&api)
        .header("cookie", format!("tessera_console={cookie}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    b.quit().await;
    s.stop().await;
}

#[tokio::test]
async fn a_viewer_sees_no_buttons_and_the_server_refuses_anyway() {
    let s = TestServer::start().await;
    let password = member(&s, "watcher", &["viewer"]).await;
    let made = s
        .services
        .create_client(
            &Context::cli(),
            "default",
            tessera_domain::client::ClientInput {
                name: "Seen Not Touched".into(),
                redirect_uris: vec!["https://seen.example.com/cb".into()],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let id = made.client.id.as_str().to_owned();
    let Some(b) = Browser::start().await else {
        return;
    };
    b.sign_in(&s.base, "watcher", password).await;
    b.see("Seen Not Touched").await;
    // Readable on a phone: the table becomes one card per client, nothing runs off the side.
    b.driver.set_window_rect(0, 0, 390, 844).await.unwrap();
    b.screenshot("clients-list-phone.png").await;
    let overflow = b
        .driver
        .execute(
            "return document.documentElement.scrollWidth > window.innerWidth + 1;",
            Vec::new(),
        )
        .await
        .unwrap();
    assert_eq!(
        overflow.json(),
        &serde_json::json!(false),
        "horizontal scroll on a phone"
    );
    b.driver.set_window_rect(0, 0, 1280, 900).await.unwrap();
    assert!(b.count("#create-client").await == 0);
    assert!(b.count("[data-action]").await == 0);
    assert!(b
        .driver
        .find_all(By::LinkText("Edit"))
        .await
        .unwrap()
        .is_empty());
    b.driver
        .goto(format!("{}/oauth-clients/{id}", s.base))
        .await
        .unwrap();
    for absent in [
        "save-client",
        "delete-client",
        "regenerate-secret",
        "set-new-secret",
    ] {
        assert!(b.count(&format!("#{absent}")).await == 0, "{absent}");
    }
    // The form is there to read, not to change.
    assert!(!b.id("f-name").await.is_enabled().await.unwrap());
    // Members and API keys: readable, without their buttons.
    b.driver.goto(format!("{}/members", s.base)).await.unwrap();
    b.see("watcher").await;
    assert!(b.count("#add-member").await == 0);
    assert!(b.count("button.danger").await == 0);

    // The server refuses what the page does not offer.
    let csrf = csrf_of(&b).await;
    let cookie = b.session_cookie().await;
    for (path, form) in [
        (
            format!("/oauth-clients/{id}/active"),
            vec![("active", "false")],
        ),
        (format!("/oauth-clients/{id}/delete"), vec![]),
        (
            "/oauth-clients".to_owned(),
            vec![("name", "Nope"), ("redirectUris", "https://n.example/cb")],
        ),
    ] {
        let mut form: Vec<(&str, &str)> = form;
        form.push(("csrf_token", &csrf));
        let res = s
            .http
            .post(s.url(&path))
            .header("cookie", format!("tessera_console={cookie}"))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "{path}");
        assert!(res
            .text()
            .await
            .unwrap()
            .contains("You do not have the permission"));
    }
    let still = s
        .services
        .get_client(&Context::cli(), "default", &id)
        .await
        .unwrap();
    assert!(still.settings.is_active);
    b.quit().await;
    s.stop().await;
}

#[tokio::test]
async fn members_api_keys_and_the_audit_log_in_a_real_browser() {
    let s = TestServer::start().await;
    let password = member(&s, "operator", &["owner"]).await;
    let Some(b) = Browser::start().await else {
        return;
    };
    b.sign_in(&s.base, "operator", password).await;

    // Members: add one (a bad email is named), change roles, deactivate.
    b.driver.goto(format!("{}/members", s.base)).await.unwrap();
    b.id("add-member").await.click().await.unwrap();
    b.fill("m-username", "newcomer").await;
    // The browser takes it (type=email); the server does not (no dot in the domain).
    b.fill("m-email", "newcomer@localhost").await;
    b.fill("m-password", "a long enough password 123").await;
    b.driver
        .find(By::Css("#add-member-dialog input[value=viewer]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.press("add-member-submit").await;
    let err = b
        .driver
        .find(By::Css("#add-member-dialog .field-error"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(err.contains("is not an e-mail address"), "{err}");
    b.fill("m-email", "newcomer@example.com").await;
    b.fill("m-password", "a long enough password 123").await;
    b.press("add-member-submit").await;
    b.see("The member is added.").await;
    let row = b
        .driver
        .find(By::Css("tr[data-username=newcomer]"))
        .await
        .unwrap();
    assert!(row.text().await.unwrap().contains("viewer"));
    b.click_nav(&row.find(By::Css("button.danger")).await.unwrap())
        .await;
    let row = b
        .driver
        .find(By::Css("tr[data-username=newcomer]"))
        .await
        .unwrap();
    assert!(row.text().await.unwrap().contains("Deactivated"));
    // Nobody deactivates themselves: no button on one's own row.
    let me = b
        .driver
        .find(By::Css("tr[data-username=operator]"))
        .await
        .unwrap();
    assert!(me
        .find_all(By::Css("button.danger"))
        .await
        .unwrap()
        .is_empty());

    // Sign-in Rules: two-step verification required of administrators, saved and shown.
    b.id("require_second_factor").await.click().await.unwrap();
    b.press("save-sign-in-rules").await;
    b.see("The sign-in rules are saved.").await;
    assert!(b
        .id("require_second_factor")
        .await
        .is_selected()
        .await
        .unwrap());
    let policy = s
        .services
        .get_security_policy(&Context::cli(), "default")
        .await
        .unwrap();
    assert!(policy.require_second_factor_for_admins);
    b.id("require_second_factor").await.click().await.unwrap();
    b.press("save-sign-in-rules").await;
    b.see("The sign-in rules are saved.").await;

    // API keys: created with the key shown once; it works; revoked, it does not.
    b.driver.goto(format!("{}/api-keys", s.base)).await.unwrap();
    b.id("create-api-key").await.click().await.unwrap();
    b.fill("k-name", "deploy-bot").await;
    b.driver
        .find(By::Css("#create-key-dialog input[value=viewer]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.press("create-key-submit").await;
    let key = b
        .id("revealed-secret")
        .await
        .value()
        .await
        .unwrap()
        .unwrap();
    assert!(key.starts_with("sk_live_"));
    let api = s.url("/orgs/default/api/v1/admin/oauth-clients");
    let status = |k: String| {
        let http = s.http.clone();
        let api = api.clone();
        async move {
            http.get(&api)
                .bearer_auth(k)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(status(key.clone()).await, 200);
    b.press("dismiss-secret").await;
    assert!(!b.source().await.contains(&key));
    let row = b
        .driver
        .find(By::Css("tr[data-key-name=deploy-bot]"))
        .await
        .unwrap();
    assert!(row.text().await.unwrap().contains(&key[key.len() - 4..]));
    // Revoking asks first (the script's confirm), then the key stops working.
    b.driver
        .execute("window.__oldPage = true;", Vec::new())
        .await
        .unwrap();
    row.find(By::Css("button.danger"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.driver.accept_alert().await.unwrap();
    b.wait_new_page().await;
    b.see("The key is revoked").await;
    assert_eq!(status(key).await, 401);

    // The audit log shows all of it, filtered by action and by actor.
    b.driver
        .goto(format!("{}/audit-log", s.base))
        .await
        .unwrap();
    let mut table = String::new();
    for row in b
        .driver
        .find_all(By::Css("#audit-table tbody tr"))
        .await
        .unwrap()
    {
        table.push_str(&row.text().await.unwrap());
        table.push('\n');
    }
    for action in [
        "user.created",
        "user.deactivated",
        "api_key.created",
        "api_key.revoked",
        "console.signed_in",
    ] {
        assert!(table.contains(action), "{action} in {table}");
    }
    let select = b.id("audit-action").await;
    select
        .find(By::Css("option[value=\"api_key.revoked\"]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.press("audit-filter").await;
    let rows = b
        .driver
        .find_all(By::Css("#audit-table tbody tr"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert!(rows[0].text().await.unwrap().contains("operator"));
    b.driver
        .goto(format!("{}/audit-log?actor=nobody-at-all", s.base))
        .await
        .unwrap();
    b.see("No events match.").await;
    b.quit().await;
    s.stop().await;
}

#[tokio::test]
async fn connections_pages_in_a_real_browser() {
    use tessera_domain::Platform;
    use tessera_testkit::fakes::platforms::FakePlatforms;

    let fake = FakePlatforms::start().await;
    let s = TestServer::start_with(
        std::sync::Arc::new(tessera_domain::clock::SystemClock),
        fake.providers(),
    )
    .await;
    let password = member(&s, "operator", &["owner"]).await;
    fake.register_app(Platform::Twitch, "twitch-app-id-1234", "twitch-app-secret");
    fake.set_identity(Platform::Twitch, "1001", "TwitchStreamer");
    let Some(b) = Browser::start().await else {
        return;
    };
    b.sign_in(&s.base, "operator", password).await;
    let nav = b.driver.find(By::LinkText("Connections")).await.unwrap();
    b.click_nav(&nav).await;
    let card = b.id("card-twitch").await;
    assert_eq!(
        card.attr("data-state").await.unwrap().as_deref(),
        Some("not_configured")
    );
    assert!(card
        .text()
        .await
        .unwrap()
        .contains("Set up app credentials to connect this platform."));

    // App Credentials: the pair is saved; only a hint of the client id comes back.
    b.press("app-credentials").await;
    b.fill("cid-twitch", "twitch-app-id-1234").await;
    b.fill("csecret-twitch", "twitch-app-secret").await;
    b.press("save-cred-twitch").await;
    b.see("The credentials are saved.").await;
    let html = b.source().await;
    assert!(html.contains("…1234"));
    assert!(!html.contains("twitch-app-secret"));

    // Connect: off to the platform and back, with the seed's banner.
    b.driver
        .goto(format!("{}/dashboard/connections", s.base))
        .await
        .unwrap();
    let connect = b
        .driver
        .find(By::Css("button[data-connect=twitch]"))
        .await
        .unwrap();
    b.click_nav(&connect).await;
    b.see("Successfully connected to Twitch!").await;
    assert!(b.url().await.contains("connected=twitch"));
    let card = b.id("card-twitch").await;
    assert_eq!(
        card.attr("data-state").await.unwrap().as_deref(),
        Some("connected")
    );
    let text = card.text().await.unwrap();
    assert!(text.contains("TwitchStreamer"), "{text}");
    assert!(text.contains("(auto-refresh)"), "{text}");
    assert!(text.contains('+'), "the +N of Twitch's 27 scopes: {text}");
    b.screenshot("connections.png").await;

    // Disconnect, after the seed's question; the credentials stay.
    b.driver
        .find(By::Css("[data-open-dialog=disconnect-twitch]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let dialog = b.id("disconnect-twitch").await;
    assert!(dialog.text().await.unwrap().contains(
        "Are you sure you want to disconnect Twitch? This will revoke the connection but keep your app credentials."
    ));
    let confirm = b
        .driver
        .find(By::Css("button[data-disconnect=twitch]"))
        .await
        .unwrap();
    b.click_nav(&confirm).await;
    b.see("Disconnected. The app credentials are kept.").await;
    assert_eq!(
        b.id("card-twitch")
            .await
            .attr("data-state")
            .await
            .unwrap()
            .as_deref(),
        Some("credentials_configured")
    );

    // Bot Connections: Discord's bot is the administrators', with no buttons.
    s.services
        .set_discord_bot(
            &Context::cli(),
            tessera_core::connections::DiscordBotInput {
                application_id: "123456789012345678".into(),
                bot_name: "Acme Discord Bot".into(),
                bot_token: SecretString::from(format!(
                    "{}.abcdef.{}",
                    "M".repeat(24),
                    "x".repeat(38)
                )),
            },
        )
        .await
        .unwrap();
    b.driver
        .goto(format!("{}/dashboard/connections/bot", s.base))
        .await
        .unwrap();
    let discord = b.id("bot-discord").await;
    let text = discord.text().await.unwrap();
    assert!(text.contains("Managed by administrators"), "{text}");
    assert!(text.contains("Acme Discord Bot"), "{text}");
    assert!(
        text.contains("Discord bots are configured by administrators and cannot be customised per organization."),
        "{text}"
    );
    assert!(discord
        .find_all(By::Css("button"))
        .await
        .unwrap()
        .is_empty());
    b.screenshot("bot-connections.png").await;
    b.quit().await;
    s.stop().await;
}

/// Signs in to the console over plain HTTP, as a browser would: the console's redirect to the
/// organization's authorize endpoint, its login form, the callback. The callback's response.
pub(crate) async fn sign_in_http(
    s: &TestServer,
    http: &reqwest::Client,
    jar: &mut Jar,
    org: &str,
    username: &str,
    password: &str,
) -> reqwest::Response {
    let send = |req: reqwest::RequestBuilder, jar: &Jar| req.header("cookie", jar.header()).send();
    let res = send(http.get(s.url(&format!("/login?org={org}"))), jar)
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    jar.take(&res);
    let authorize = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(authorize.contains("client_id=tessera-console"));
    assert!(authorize.contains("code_challenge_method=S256"));
    let res = send(http.get(&authorize), jar).await.unwrap();
    jar.take(&res);
    let callback = if res.status() == 303 {
        // A live sign-in session at the organization: straight back with a code.
        res.headers()["location"].to_str().unwrap().to_owned()
    } else {
        let html = res.text().await.unwrap();
        let res = send(
            http.post(s.url(&format!("/orgs/{org}/login"))).form(&[
                ("request", hidden(&html, "request").as_str()),
                ("csrf_token", hidden(&html, "csrf_token").as_str()),
                ("username", username),
                ("password", password),
            ]),
            jar,
        )
        .await
        .unwrap();
        assert_eq!(res.status(), 303);
        jar.take(&res);
        res.headers()["location"].to_str().unwrap().to_owned()
    };
    assert!(callback.contains("/login/callback?"), "{callback}");
    let res = send(http.get(&callback), jar).await.unwrap();
    jar.take(&res);
    res
}

/// The console session over plain HTTP (no browser needed): `admin:access` to enter,
/// sign-ins in two organizations in one session, the switcher, and a deactivated member.
#[tokio::test]
async fn console_sessions_follow_the_member_across_organizations() {
    let s = TestServer::start().await;
    s.org("acme").await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let pw = "correct horse battery staple";
    for (org, user, roles) in [
        ("default", "plain", vec![]),
        ("default", "operator", vec!["owner".to_owned()]),
        ("acme", "operator", vec!["admin".to_owned()]),
    ] {
        s.services
            .create_user(
                &Context::cli(),
                org,
                NewUser {
                    username: user.into(),
                    password: Some(SecretString::from(pw.to_owned())),
                    roles,
                    ..NewUser::default()
                },
            )
            .await
            .unwrap();
    }

    // Without admin:access the organization signs the person in, the console does not.
    let mut jar = Jar::default();
    let res = sign_in_http(&s, &http, &mut jar, "default", "plain", pw).await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("lacks admin:access"));
    assert!(!jar.0.contains_key("tessera_console"));

    // A forged state is refused before any code is redeemed.
    let res = http
        .get(s.url("/login/callback?code=x&state=forged"))
        .header("cookie", "tessera_console_login=real-state|default|%2F")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("does not belong to this browser"));

    let mut jar = Jar::default();
    let res = sign_in_http(&s, &http, &mut jar, "default", "operator", pw).await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/oauth-clients");
    let session = jar.0["tessera_console"].clone();
    let api = |org: &str| s.url(&format!("/orgs/{org}/api/v1/admin/oauth-clients"));
    let get = |url: String, jar: &Jar| http.get(url).header("cookie", jar.header()).send();
    assert_eq!(get(api("default"), &jar).await.unwrap().status(), 200);
    assert_eq!(get(api("acme"), &jar).await.unwrap().status(), 404);
    // A bad address is a page that names what was wrong.
    let res = get(s.url("/oauth-clients?offset=abc"), &jar).await.unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(res.text().await.unwrap().contains("offset"));

    // Signing in to a second organization keeps the first sign-in, in a fresh session (a
    // cookie is never promoted by a sign-in), and shows the second.
    let res = sign_in_http(&s, &http, &mut jar, "acme", "operator", pw).await;
    assert_eq!(res.status(), 303);
    assert_ne!(jar.0["tessera_console"], session, "a fresh cookie");
    let old_jar = Jar([("tessera_console".to_owned(), session.clone())].into());
    assert_eq!(get(api("default"), &old_jar).await.unwrap().status(), 401);
    // The API acts in the organization its path names, whichever one the console shows.
    assert_eq!(get(api("acme"), &jar).await.unwrap().status(), 200);
    assert_eq!(get(api("default"), &jar).await.unwrap().status(), 200);
    assert_eq!(get(api("elsewhere"), &jar).await.unwrap().status(), 404);
    let page = get(s.url("/oauth-clients"), &jar)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("<option value=\"default\""));
    assert!(page.contains("<option value=\"acme\" selected"));

    // The switcher goes back without another sign-in.
    let res = http
        .post(s.url("/switch-org"))
        .header("cookie", jar.header())
        .form(&[
            ("org", "default"),
            ("csrf_token", &hidden(&page, "csrf_token")),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/oauth-clients");
    let page = get(s.url("/oauth-clients"), &jar)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("<option value=\"default\" selected"));
    // An organization without a sign-in in the session: off to sign in there.
    let res = http
        .post(s.url("/switch-org"))
        .header("cookie", jar.header())
        .form(&[
            ("org", "elsewhere"),
            ("csrf_token", &hidden(&page, "csrf_token")),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["location"], "/login?org=elsewhere");

    // Deactivated in one organization: that organization is gone from the session (and its
    // single sign-on session with it); the other stays.
    let users = s
        .services
        .list_users(&Context::cli(), "default")
        .await
        .unwrap();
    let op = users
        .iter()
        .find(|u| u.username.as_str() == "operator")
        .unwrap();
    s.services
        .update_user(
            &Context::cli(),
            "default",
            &op.id.to_string(),
            tessera_core::users::UserPatch {
                is_active: Some(false),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(get(api("default"), &jar).await.unwrap().status(), 404);
    assert_eq!(get(api("acme"), &jar).await.unwrap().status(), 200);
    let res = http
        .get(s.url("/login?org=default"))
        .header("cookie", jar.header())
        .send()
        .await
        .unwrap();
    // The console always asks for the password; an application (no prompt=login) would get a
    // code from a live sign-in session, and the deactivation ended it.
    let authorize = res.headers()["location"]
        .to_str()
        .unwrap()
        .replace("&prompt=login", "");
    let res = http
        .get(&authorize)
        .header("cookie", jar.header())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "the login form again, not a code");
    assert!(res.text().await.unwrap().contains("name=\"password\""));

    // In acme the operator is an admin: roles yes, deactivating members no (users:delete).
    let other = s
        .services
        .create_user(
            &Context::cli(),
            "acme",
            NewUser {
                username: "other".into(),
                ..NewUser::default()
            },
        )
        .await
        .unwrap();
    let page = get(s.url("/members"), &jar)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !page.contains(">Deactivate<"),
        "no button without users:delete"
    );
    let csrf = hidden(&page, "csrf_token");
    let post = |op: &'static str, extra: Option<(&'static str, &'static str)>| {
        let mut form = vec![("op", op.to_owned()), ("csrf_token", csrf.clone())];
        if let Some((k, v)) = extra {
            form.push((k, v.to_owned()));
        }
        http.post(s.url(&format!("/members/{}", other.id)))
            .header("cookie", jar.header())
            .form(&form)
            .send()
    };
    assert_eq!(post("deactivate", None).await.unwrap().status(), 403);
    let res = post("roles", Some(("roles", "viewer"))).await.unwrap();
    assert_eq!(res.status(), 303);
    let after = s
        .services
        .list_users(&Context::cli(), "acme")
        .await
        .unwrap();
    let after = after.iter().find(|u| u.id == other.id).unwrap();
    assert_eq!(after.roles.len(), 1);
    assert!(after.is_active);

    // The same rules through the REST API.
    let admin_key = s.org_key("acme", &["admin"], &[]).await;
    let owner_key = s.org_key("acme", &["owner"], &[]).await;
    let user_url = s.url(&format!("/orgs/acme/api/v1/admin/users/{}", other.id));
    let patch = |key: &str, body: serde_json::Value| {
        http.patch(&user_url).bearer_auth(key).json(&body).send()
    };
    let res = patch(&admin_key, serde_json::json!({"isActive": false}))
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let res = patch(&owner_key, serde_json::json!({"roles": ["nope"]}))
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let v: serde_json::Value = res.json().await.unwrap();
    assert_eq!(v["details"][0]["field"], "roles[0]");
    let res = patch(&owner_key, serde_json::json!({"isActive": false}))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let v: serde_json::Value = res.json().await.unwrap();
    assert_eq!(v["isActive"], false);
    // An admin cannot change an owner (who holds more than an admin does).
    let owner = s
        .services
        .create_user(
            &Context::cli(),
            "acme",
            NewUser {
                username: "boss".into(),
                roles: vec!["owner".into()],
                ..NewUser::default()
            },
        )
        .await
        .unwrap();
    let res = http
        .patch(s.url(&format!("/orgs/acme/api/v1/admin/users/{}", owner.id)))
        .bearer_auth(&admin_key)
        .json(&serde_json::json!({"roles": ["viewer"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);

    // A form's bad number comes back next to its field, with what was typed.
    let add = |port: &'static str| {
        http.post(s.url("/dashboard/connections/integrations"))
            .header("cookie", jar.header())
            .form(&[
                ("type", "obs"),
                ("label", "Studio PC"),
                ("port", port),
                ("csrf_token", csrf.as_str()),
            ])
            .send()
    };
    let res = add("forty").await.unwrap();
    assert_eq!(res.status(), 400);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("forty") && html.contains("is not a port: use a whole number"),
        "{html}"
    );
    assert!(html.contains("value=\"Studio PC\""));
    let res = add("4455").await.unwrap();
    assert_eq!(res.status(), 303);
    let listed = s
        .services
        .list_integrations(&Context::cli(), "acme")
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].port, 4455);
    s.stop().await;
}

/// The Members page edits a member's standard claims (OIDC Core §5.1) through the service the
/// API uses; a bad value is named on the error page and nothing changes.
#[tokio::test]
async fn members_profiles_are_edited_on_the_members_page() {
    let s = TestServer::start().await;
    let pw = member(&s, "operator", &["admin"]).await;
    let target = s
        .services
        .create_user(
            &Context::cli(),
            "default",
            NewUser {
                username: "willow".into(),
                ..NewUser::default()
            },
        )
        .await
        .unwrap();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut jar = Jar::default();
    sign_in_http(&s, &http, &mut jar, "default", "operator", pw).await;
    let page = http
        .get(s.url("/members"))
        .header("cookie", jar.header())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("name=\"address.postalCode\""),
        "the profile form"
    );
    let csrf = hidden(&page, "csrf_token");
    let post = |form: Vec<(&'static str, &'static str)>| {
        let mut form: Vec<(&str, String)> =
            form.into_iter().map(|(k, v)| (k, v.to_owned())).collect();
        form.push(("csrf_token", csrf.clone()));
        form.push(("op", "profile".into()));
        http.post(s.url(&format!("/members/{}", target.id)))
            .header("cookie", jar.header())
            .form(&form)
            .send()
    };
    let res = post(vec![
        ("name", "Willow Rosenberg"),
        ("email", "willow@sunnydale.example"),
        ("givenName", "Willow"),
        ("birthdate", "1981-12-19"),
        ("emailVerified", "on"),
        ("address.locality", "Sunnydale"),
    ])
    .await
    .unwrap();
    assert_eq!(res.status(), 303);
    let users = s
        .services
        .list_users(&Context::cli(), "default")
        .await
        .unwrap();
    let w = users
        .iter()
        .find(|u| u.username.as_str() == "willow")
        .unwrap();
    assert_eq!(w.name.as_deref(), Some("Willow Rosenberg"));
    assert_eq!(w.profile.given_name.as_deref(), Some("Willow"));
    assert!(w.profile.email_verified);
    assert_eq!(
        w.profile.address.as_ref().unwrap().locality.as_deref(),
        Some("Sunnydale")
    );
    // A bad birthdate: a page that names it, and nothing changed.
    let res = post(vec![("givenName", "Red"), ("birthdate", "1981-13-40")])
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("birthdate"));
    let users = s
        .services
        .list_users(&Context::cli(), "default")
        .await
        .unwrap();
    let w = users
        .iter()
        .find(|u| u.username.as_str() == "willow")
        .unwrap();
    assert_eq!(w.profile.given_name.as_deref(), Some("Willow"));
}

/// The API Resources page: created in the dialog (a bad field named beside it, what was typed
/// kept), listed with its scopes, deleted; the same resource REST sees.
#[tokio::test]
async fn api_resources_are_managed_on_their_console_page() {
    let s = TestServer::start().await;
    let pw = member(&s, "operator", &["admin"]).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut jar = Jar::default();
    sign_in_http(&s, &http, &mut jar, "default", "operator", pw).await;
    let get = |path: &'static str| http.get(s.url(path)).header("cookie", jar.header()).send();
    let page = get("/api-resources").await.unwrap().text().await.unwrap();
    assert!(page.contains("No API resources yet."), "{page}");
    assert!(
        page.contains("href=\"/api-resources\""),
        "in the navigation"
    );
    let csrf = hidden(&page, "csrf_token");
    let post = |form: Vec<(&'static str, &'static str)>| {
        let mut form: Vec<(&str, String)> =
            form.into_iter().map(|(k, v)| (k, v.to_owned())).collect();
        form.push(("csrf_token", csrf.clone()));
        http.post(s.url("/api-resources"))
            .header("cookie", jar.header())
            .form(&form)
            .send()
    };
    let res = post(vec![
        ("identifier", "not a uri"),
        ("name", "MCP"),
        ("scopes", "tools.read: Read tools"),
    ])
    .await
    .unwrap();
    assert_eq!(res.status(), 400);
    let html = res.text().await.unwrap();
    assert!(html.contains("is not an absolute URI"), "{html}");
    assert!(
        html.contains("tools.read: Read tools"),
        "what was typed is kept"
    );
    let res = post(vec![
        ("identifier", "https://mcp.example.com/mcp"),
        ("name", "MCP server"),
        ("scopes", "tools.read: Read tools\ntools.write"),
        ("lifetime", "600"),
        ("alg", "RS256"),
        ("clients", "agent cli"),
    ])
    .await
    .unwrap();
    assert_eq!(res.status(), 303);
    let (all, _) = s
        .services
        .list_api_resources(&Context::cli(), "default", None, 10, 0)
        .await
        .unwrap();
    let r = &all[0].settings;
    assert_eq!(r.identifier.as_str(), "https://mcp.example.com/mcp");
    assert_eq!(r.scopes[0].description.as_deref(), Some("Read tools"));
    assert_eq!(r.scopes[1].description, None);
    assert_eq!(r.access_token_lifetime, Some(600));
    let page = get("/api-resources?done=created")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("tools.read: Read tools") && page.contains("agent, cli"),
        "{page}"
    );
    // Edit: the dialog opens filled in; saving replaces the settings.
    let id = all[0].id.to_string();
    let page = http
        .get(s.url(&format!("/api-resources?edit={id}")))
        .header("cookie", jar.header())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Edit API Resource"), "{page}");
    assert!(page.contains(&format!("action=\"/api-resources/{id}\"")));
    assert!(page.contains("tools.read: Read tools") && page.contains("value=\"600\""));
    let res = http
        .post(s.url(&format!("/api-resources/{id}")))
        .header("cookie", jar.header())
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("identifier", "https://mcp.example.com/mcp"),
            ("name", "Renamed MCP server"),
            ("scopes", "tools.read: Read tools"),
            ("lifetime", ""),
            ("alg", ""),
            ("clients", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let r = s
        .services
        .get_api_resource(&Context::cli(), "default", &id)
        .await
        .unwrap();
    assert_eq!(r.settings.name, "Renamed MCP server");
    assert_eq!(r.settings.access_token_lifetime, None);
    assert_eq!(
        r.settings.allowed_clients,
        tessera_domain::api_resource::AllowedClients::All
    );
    let res = http
        .post(s.url(&format!("/api-resources/{}/delete", all[0].id)))
        .header("cookie", jar.header())
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let page = get("/api-resources?done=deleted")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("No API resources yet."));
}

/// The clients page takes the REST list's order and filters (`sort`, `isActive`,
/// `clientType`, `grantType`), keeps them in its page and export links, and exports the
/// filtered list; a bad value is a page that names it.
#[tokio::test]
async fn the_clients_page_sorts_filters_and_exports_what_it_shows() {
    let s = TestServer::start().await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let pw = "correct horse battery staple";
    s.services
        .create_user(
            &Context::cli(),
            "default",
            NewUser {
                username: "operator".into(),
                password: Some(SecretString::from(pw.to_owned())),
                roles: vec!["owner".to_owned()],
                ..NewUser::default()
            },
        )
        .await
        .unwrap();
    for (id, public, active) in [("zeta-spa", true, true), ("alpha-web", false, false)] {
        s.services
            .create_client(
                &Context::cli(),
                "default",
                tessera_domain::client::ClientInput {
                    client_id: Some(id.into()),
                    name: id.into(),
                    is_confidential: Some(!public),
                    redirect_uris: vec!["https://app.example.com/cb".into()],
                    is_active: active,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
    }
    let mut jar = Jar::default();
    let res = sign_in_http(&s, &http, &mut jar, "default", "operator", pw).await;
    assert_eq!(res.status(), 303);
    let get = |path: &str| http.get(s.url(path)).header("cookie", jar.header()).send();
    let html = get("/oauth-clients?sort=name&clientType=public")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("zeta-spa") && !html.contains("alpha-web"),
        "public only"
    );
    assert!(
        html.contains("<option value=\"name\" selected>"),
        "the sort is kept"
    );
    assert!(
        html.contains("href=\"/oauth-clients?sort=name&#38;clientType=public&#38;format=csv\""),
        "the exports keep the filters: {}",
        html.lines()
            .filter(|l| l.contains("export-csv"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let csv = get("/oauth-clients?isActive=false&format=csv")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        csv.contains("alpha-web") && !csv.contains("zeta-spa"),
        "{csv}"
    );
    let res = get("/oauth-clients?sort=size").await.unwrap();
    assert_eq!(res.status(), 400);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("unknown sort") && page.contains("size"),
        "{page}"
    );

    // The create dialog takes a Client URI and an operator's own secret (not shown again).
    let csrf = hidden(&html, "csrf_token");
    let res = http
        .post(s.url("/oauth-clients"))
        .header("cookie", jar.header())
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("name", "Own secret"),
            ("clientId", "own-secret"),
            ("clientType", "confidential"),
            ("grantTypes", "client_credentials"),
            ("clientUri", "https://own.example.com"),
            ("secret", "operator-chosen-secret-value"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        303,
        "{}",
        res.text().await.unwrap_or_default()
    );
    let res = s
        .http
        .post(s.url("/orgs/default/api/v1/oauth/token"))
        .basic_auth("own-secret", Some("operator-chosen-secret-value"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let html = get("/oauth-clients?sort=name")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("https://own.example.com"), "the URI column");
    assert!(!html.contains("operator-chosen-secret-value"));
    let csv = get("/oauth-clients?format=csv")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        csv.contains("Client URI") && csv.contains("https://own.example.com"),
        "{csv}"
    );

    // Revoke All Tokens on the edit page: the token just issued stops working.
    let (_, t) = crate::support::json(res_token(&s).await).await;
    let at = t["access_token"].as_str().unwrap().to_owned();
    let edit = get("/oauth-clients/own-secret")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(edit.contains("id=\"revoke-tokens\""));
    let res = http
        .post(s.url("/oauth-clients/own-secret/revoke-tokens"))
        .header("cookie", jar.header())
        .form(&[("csrf_token", hidden(&edit, "csrf_token").as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers()["location"],
        "/oauth-clients/own-secret?done=tokens-revoked"
    );
    let (_, i) = crate::support::json(
        s.http
            .post(s.url("/orgs/default/api/v1/oauth/introspect"))
            .basic_auth("own-secret", Some("operator-chosen-secret-value"))
            .form(&[("token", at.as_str())])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(i["active"], false);

    // The audit log by day, and its export.
    let today = time::OffsetDateTime::now_utc().date();
    let day = |d: time::Date| format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day());
    let html = get(&format!("/audit-log?from={}&to={}", day(today), day(today)))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("oauth_client.tokens_revoked"),
        "today's events"
    );
    assert!(
        html.contains(&format!("value=\"{}\"", day(today))),
        "the range is kept"
    );
    let csv = get(&format!("/audit-log?from={}&format=csv", day(today)))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        csv.contains("\"When\",\"Actor\"") && csv.contains("oauth_client.created"),
        "{csv}"
    );
    let tomorrow = today.next_day().unwrap();
    let csv = get(&format!("/audit-log?from={}&format=csv", day(tomorrow)))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!csv.contains("oauth_client.created"), "{csv}");
    let res = get("/audit-log?from=someday").await.unwrap();
    assert_eq!(res.status(), 400);
}

async fn res_token(s: &TestServer) -> reqwest::Response {
    s.http
        .post(s.url("/orgs/default/api/v1/oauth/token"))
        .basic_auth("own-secret", Some("operator-chosen-secret-value"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
}

/// Members → Apps and sessions: the apps a member authorized (revocable) and their sign-in
/// sessions (all ended at once).
#[tokio::test]
async fn a_members_apps_and_sessions_are_shown_and_revoked() {
    let s = TestServer::start().await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let pw = "correct horse battery staple";
    let op = s
        .services
        .create_user(
            &Context::cli(),
            "default",
            NewUser {
                username: "operator".into(),
                password: Some(SecretString::from(pw.to_owned())),
                roles: vec!["owner".to_owned()],
                ..NewUser::default()
            },
        )
        .await
        .unwrap();
    let mut jar = Jar::default();
    let res = sign_in_http(&s, &http, &mut jar, "default", "operator", pw).await;
    assert_eq!(res.status(), 303);
    // A consent the member gave an application.
    let org = s.services.protocol_org("default").await.unwrap();
    let mut tx = s.store.begin().await.unwrap();
    tx.upsert_consent(
        org.id,
        op.id,
        "tessera-console",
        &["openid".to_owned()],
        time::OffsetDateTime::now_utc(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let page = format!("/members/{}/access", op.id);
    let get = |path: String| http.get(s.url(&path)).header("cookie", jar.header()).send();
    let html = get(page.clone()).await.unwrap().text().await.unwrap();
    assert!(
        html.contains("data-client-id=\"tessera-console\""),
        "{html}"
    );
    assert!(
        html.contains("id=\"end-sessions\""),
        "a live session is listed"
    );
    let csrf = hidden(&html, "csrf_token");
    let post = |form: Vec<(&'static str, String)>| {
        http.post(s.url(&page))
            .header("cookie", jar.header())
            .form(&form)
            .send()
    };
    let res = post(vec![
        ("csrf_token", csrf.clone()),
        ("op", "revoke-consent".into()),
        ("client_id", "tessera-console".into()),
    ])
    .await
    .unwrap();
    assert_eq!(res.status(), 303);
    let res = post(vec![
        ("csrf_token", csrf.clone()),
        ("op", "end-sessions".into()),
    ])
    .await
    .unwrap();
    assert_eq!(res.status(), 303);
    let html = get(format!("{page}?done=signed-out"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("No authorized apps.") && html.contains("No live session."),
        "{html}"
    );
    assert!(html.contains("signed out everywhere"));
    let members = get("/members".into()).await.unwrap().text().await.unwrap();
    assert!(members.contains(&format!("href=\"/members/{}/access\"", op.id)));
}

/// A system administrator switches a platform off and on for every organization from the
/// Connections page (the API's `PATCH /api/v1/system/providers/{platform}`); others see no
/// switch and cannot post one.
#[tokio::test]
async fn system_admins_switch_platforms_from_the_connections_page() {
    let s = TestServer::start().await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let pw = "correct horse battery staple";
    for (user, roles) in [("root", vec![]), ("operator", vec!["owner".to_owned()])] {
        s.services
            .create_user(
                &Context::cli(),
                "default",
                NewUser {
                    username: user.into(),
                    password: Some(SecretString::from(pw.to_owned())),
                    roles,
                    ..NewUser::default()
                },
            )
            .await
            .unwrap();
    }
    let sql = "UPDATE users SET is_system_admin = TRUE WHERE username = 'root'";
    match tessera_testkit::backend() {
        tessera_testkit::Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&s.db.url).await.unwrap();
            sqlx::query(sql).execute(&pool).await.unwrap();
        }
        tessera_testkit::Backend::Postgres => {
            let pool = sqlx::PgPool::connect(&s.db.url).await.unwrap();
            sqlx::query(sql).execute(&pool).await.unwrap();
        }
    }
    let mut root = Jar::default();
    assert_eq!(
        sign_in_http(&s, &http, &mut root, "default", "root", pw)
            .await
            .status(),
        303
    );
    let page = |jar: &Jar| {
        http.get(s.url("/dashboard/connections"))
            .header("cookie", jar.header())
            .send()
    };
    let html = page(&root).await.unwrap().text().await.unwrap();
    assert!(
        html.contains("data-provider-off=\"twitch\""),
        "a switch per platform"
    );
    let csrf = hidden(&html, "csrf_token");
    let switch = |jar: &Jar, csrf: &str, enabled: &str| {
        http.post(s.url("/dashboard/connections/providers/twitch"))
            .header("cookie", jar.header())
            .form(&[("csrf_token", csrf), ("enabled", enabled)])
            .send()
    };
    let res = switch(&root, &csrf, "false").await.unwrap();
    assert_eq!(res.status(), 303);
    let html = page(&root).await.unwrap().text().await.unwrap();
    assert!(html.contains("data-provider-on=\"twitch\""), "switched off");
    let res = switch(&root, &csrf, "true").await.unwrap();
    assert_eq!(res.status(), 303);
    // An organization's owner is not a system administrator.
    let mut op = Jar::default();
    sign_in_http(&s, &http, &mut op, "default", "operator", pw).await;
    let html = page(&op).await.unwrap().text().await.unwrap();
    assert!(!html.contains("data-provider-off"));
    let res = switch(&op, &hidden(&html, "csrf_token"), "false")
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
}

/// The account page and two-step verification in Chromium: sign in through the organization,
/// set up an authenticator (the code computed here), then sign in again with the code.
#[tokio::test]
async fn the_account_page_and_two_step_sign_in_in_a_real_browser() {
    let s = TestServer::start().await;
    crate::support::acme_with_alice(&s).await;
    let Some(b) = Browser::start().await else {
        return;
    };
    let account = format!("{}/orgs/acme-corp/account", s.base);
    let sign_in = |code: Option<String>| {
        let (b, account) = (&b, account.clone());
        async move {
            b.driver.goto(&account).await.unwrap();
            b.see("acme-corp").await;
            b.fill("username", "alice").await;
            b.fill("password", crate::support::ALICE_PASSWORD).await;
            let submit = b.driver.find(By::Css("button[type=submit]")).await.unwrap();
            b.click_nav(&submit).await;
            if let Some(code) = code {
                b.see("Two-step verification").await;
                b.screenshot("sign-in-second-factor.png").await;
                b.fill("code", &code).await;
                let submit = b.driver.find(By::Css("button[type=submit]")).await.unwrap();
                b.click_nav(&submit).await;
            }
            b.see("Your account").await;
        }
    };
    sign_in(None).await;
    b.see("Off: sign-in asks for your password only.").await;
    b.press("totp-start").await;
    let secret = b.id("totp-secret").await.text().await.unwrap();
    let step = crate::account::step_now();
    b.fill("totp_code", &crate::account::totp(&secret, step))
        .await;
    b.press("totp-confirm").await;
    b.see("Save these recovery codes now").await;
    assert_eq!(b.count("#recovery-codes li").await, 10);
    // Tall enough for the whole page in the picture.
    b.driver.set_window_rect(0, 0, 1280, 1900).await.unwrap();
    b.screenshot("account.png").await;
    b.driver.set_window_rect(0, 0, 1280, 900).await.unwrap();

    // Signed out (the cookies gone), the next sign-in asks for the code.
    b.driver.delete_all_cookies().await.unwrap();
    sign_in(Some(crate::account::totp(&secret, step + 1))).await;
    b.see("password and code").await;
    b.see("Recovery codes left: 10").await;
    b.quit().await;
}

/// The REST API explorer in Chromium: Swagger UI drawn from Tessera's own assets, Authorize
/// signs the member in through the organization's sign-in page in its window (PKCE), and
/// "Try it out" calls the API with the token it got.
#[tokio::test]
async fn the_rest_explorer_signs_in_and_calls_the_api_in_a_real_browser() {
    let s = TestServer::start().await;
    s.services
        .create_user(
            &Context::cli(),
            "default",
            NewUser {
                username: "operator".into(),
                password: Some(SecretString::from(
                    "correct horse battery staple".to_owned(),
                )),
                roles: vec!["owner".to_owned()],
                ..NewUser::default()
            },
        )
        .await
        .unwrap();
    let Some(b) = Browser::start().await else {
        return;
    };
    b.driver
        .goto(format!("{}/orgs/default/api/v1/admin/explorer", s.base))
        .await
        .unwrap();
    b.see("listOauthClients").await;
    b.see("Authorize").await;
    b.screenshot("api-explorer.png").await;
    let main = b.driver.window().await.unwrap();
    b.driver
        .find(By::Css("button.btn.authorize"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.see("tessera-explorer").await;
    // The modal's Authorize for the sign-in scheme opens the sign-in window.
    let buttons = b.driver.find_all(By::Css(".auth-container")).await.unwrap();
    let mut clicked = false;
    for c in buttons {
        if c.text().await.unwrap_or_default().contains("signIn") {
            c.find(By::Css("button.authorize"))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
            clicked = true;
            break;
        }
    }
    assert!(
        clicked,
        "the sign-in scheme in the dialog: {}",
        b.source().await
    );
    let mut popup = None;
    for _ in 0..100 {
        let handles = b.driver.windows().await.unwrap();
        if let Some(h) = handles.into_iter().find(|h| *h != main) {
            popup = Some(h);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    b.driver
        .switch_to_window(popup.expect("the sign-in window"))
        .await
        .unwrap();
    b.see("Sign in").await;
    b.fill("username", "operator").await;
    b.fill("password", "correct horse battery staple").await;
    b.driver
        .find(By::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // The window hands the code back and closes; the explorer redeems it.
    for _ in 0..100 {
        if b.driver.windows().await.unwrap().len() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    b.driver.switch_to_window(main).await.unwrap();
    b.see("Logout").await;
    b.driver
        .execute(
            "document.querySelectorAll('.auth-container .btn-done, button.btn-done').forEach(function (x) { x.click(); });",
            Vec::new(),
        )
        .await
        .unwrap();
    // Try it out on the clients list: the answer lists the default clients.
    if let Ok(close) = b.driver.find(By::Css("button.close-modal")).await {
        let _ = close.click().await;
    }
    let op = "#operations-oauth-clients-listOauthClients";
    let el = |css: String| {
        let b = &b;
        async move {
            for _ in 0..100 {
                if let Ok(e) = b.driver.find(By::Css(css.clone())).await {
                    return e;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            panic!("no {css}");
        }
    };
    let summary = el(format!("{op} .opblock-summary-control")).await;
    summary.scroll_into_view().await.unwrap();
    summary.click().await.unwrap();
    let try_out = el(format!("{op} button.try-out__btn")).await;
    try_out.scroll_into_view().await.unwrap();
    try_out.click().await.unwrap();
    let execute = el(format!("{op} button.execute")).await;
    execute.scroll_into_view().await.unwrap();
    execute.click().await.unwrap();
    let status = el(format!(
        "{op} .live-responses-table .response .response-col_status"
    ))
    .await;
    assert_eq!(status.text().await.unwrap().trim(), "200");
    let body = el(format!(
        "{op} .live-responses-table .response-col_description pre"
    ))
    .await;
    let text = body.text().await.unwrap();
    assert!(text.contains("tessera-console"), "{text}");
    b.quit().await;
}

/// The Webhooks page in a real browser: create one (the secret shown once), see it listed,
/// open its delivery log after an event and redeliver.
#[tokio::test]
async fn operator_subscribes_a_webhook_in_a_real_browser() {
    let s = TestServer::start().await;
    let password = member(&s, "operator", &["owner"]).await;
    let Some(b) = Browser::start().await else {
        return;
    };
    b.sign_in(&s.base, "operator", password).await;
    let nav = b
        .driver
        .find(By::Css("nav a[href=\"/webhooks\"]"))
        .await
        .unwrap();
    b.click_nav(&nav).await;
    b.see("No webhooks yet.").await;
    b.id("create-webhook").await.click().await.unwrap();
    // A receiver that answers 405 to a POST: the server's own health check.
    let receiver = s.url("/healthz");
    b.fill("w-url", "http://hooks.example.com/x").await;
    b.press("create-webhook-submit").await;
    b.see("must use https").await;
    b.fill("w-url", &receiver).await;
    b.fill("w-events", "oauth_client.created").await;
    b.press("create-webhook-submit").await;
    let dialog = b.id("secret-reveal").await;
    let text = dialog.text().await.unwrap();
    assert!(
        text.contains("Webhook Created — Save Your Signing Secret"),
        "{text}"
    );
    let secret = b
        .id("revealed-secret")
        .await
        .value()
        .await
        .unwrap()
        .unwrap();
    assert!(secret.starts_with("whsec_"), "{secret}");
    b.screenshot("webhook-created-dialog.png").await;
    b.press("dismiss-secret").await;
    assert!(!b.source().await.contains(&secret), "shown only once");
    let row = b
        .driver
        .find(By::Css(format!("tr[data-webhook-url=\"{receiver}\"]")))
        .await
        .unwrap();
    let row_text = row.text().await.unwrap();
    assert!(
        row_text.contains("oauth_client.created") && row_text.contains("Enabled"),
        "{row_text}"
    );

    // An event: a client made by the command line.
    s.services
        .create_client(
            &Context::cli(),
            "default",
            serde_json::from_value(serde_json::json!({"name": "Hooked", "redirectUris": [], "grantTypes": ["client_credentials"]})).unwrap(),
        )
        .await
        .unwrap();
    let link = row.find(By::LinkText("Deliveries")).await.unwrap();
    b.click_nav(&link).await;
    for _ in 0..100 {
        if b.count("tr[data-event-type=\"oauth_client.created\"]")
            .await
            == 1
            && b.source().await.contains("405")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        b.driver.refresh().await.unwrap();
    }
    let log = b.id("deliveries-table").await.text().await.unwrap();
    assert!(
        log.contains("oauth_client.created") && log.contains("405"),
        "{log}"
    );
    b.screenshot("webhook-deliveries.png").await;
    let redeliver = b
        .driver
        .find(By::Css("#deliveries-table button[type=submit]"))
        .await
        .unwrap();
    b.click_nav(&redeliver).await;
    b.see("The delivery is queued").await;
    // Disable from the list: the row says so and the service agrees.
    b.driver.goto(format!("{}/webhooks", s.base)).await.unwrap();
    let disable = b
        .driver
        .find(By::XPath("//button[text()='Disable']"))
        .await
        .unwrap();
    b.click_nav(&disable).await;
    b.see("The webhook is disabled.").await;
    let hooks = s
        .services
        .list_webhooks(&Context::cli(), "default")
        .await
        .unwrap();
    assert!(!hooks[0].is_active);
    b.quit().await;
}
