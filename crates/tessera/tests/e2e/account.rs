//! The end users' account page (`/orgs/{org}/account`) and the TOTP second factor, driven
//! over HTTP as a browser would: sign-in through the organization, profile, authorized apps,
//! sessions, password, enrolment with a code computed here (RFC 6238), sign-in with a code
//! and with a recovery code, `amr` in the id_token, and an administrator's reset.

use base64::Engine;
use reqwest::{Method, Response};
use serde_json::json;
use tessera_testkit::TestServer;

use crate::support::{
    acme_client, acme_with_alice, call, hidden, jwt_claims, Browser, ALICE_PASSWORD,
};

const ACCOUNT: &str = "/orgs/acme-corp/account";
const TOKEN: &str = "/orgs/acme-corp/api/v1/oauth/token";
const REDIRECT: &str = "https://app.example.com/callback";
const VERIFIER: &str = "account-test-verifier-0123456789-abcdefghijklmnop";

fn location(res: &Response) -> String {
    let l = res
        .headers()
        .get("location")
        .unwrap_or_else(|| panic!("no Location on {}", res.status()))
        .to_str()
        .unwrap();
    l.to_owned()
}

fn absolute(s: &TestServer, l: &str) -> String {
    if l.starts_with('/') {
        format!("{}{l}", s.base)
    } else {
        l.to_owned()
    }
}

/// An independent TOTP (RFC 6238 with HMAC-SHA1, 6 digits, 30 s) of the base32 secret.
pub(crate) fn totp(secret_b32: &str, step: i64) -> String {
    use hmac::Mac;
    let key = data_encoding::BASE32_NOPAD
        .decode(secret_b32.as_bytes())
        .expect("base32 secret");
    let mut mac = hmac::Hmac::<sha1::Sha1>::new_from_slice(&key).unwrap();
    mac.update(&step.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let o = usize::from(h[19] & 0x0f);
    let bin = (u32::from(h[o]) & 0x7f) << 24
        | u32::from(h[o + 1]) << 16
        | u32::from(h[o + 2]) << 8
        | u32::from(h[o + 3]);
    format!("{:06}", bin % 1_000_000)
}

pub(crate) fn step_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp() / 30
}

async fn text(res: Response) -> String {
    res.text().await.unwrap()
}

/// Opens the account page in `b`, signing in with the password (and `code`, when the second
/// factor is asked for); the page's HTML.
async fn sign_in(s: &TestServer, b: &Browser, password: &str, code: Option<&str>) -> String {
    let account = format!("{}{ACCOUNT}", s.base);
    let res = b.get(&account).await;
    if res.status() == 200 {
        return text(res).await;
    }
    assert!(
        location(&res).contains("client_id=tessera-account"),
        "{}",
        location(&res)
    );
    let res = password_step(s, b, &account, "alice", password).await;
    let res = if res.status() == 200 {
        let page = text(res).await;
        assert!(page.contains("Two-step verification"), "{page}");
        let code = code.expect("the second factor is asked for");
        code_step(s, b, &page, code).await
    } else {
        res
    };
    assert_eq!(res.status(), 303, "signed in");
    let callback = location(&res);
    assert!(
        callback.contains("/orgs/acme-corp/account/callback"),
        "{callback}"
    );
    let res = b.get(&absolute(s, &callback)).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), ACCOUNT);
    let res = b.get(&format!("{}{ACCOUNT}", s.base)).await;
    assert_eq!(res.status(), 200);
    text(res).await
}

/// The login form of a sign-in that `start` sends the browser to (`303` to the authorization
/// endpoint), filled with a user name and password and posted.
async fn password_step(
    s: &TestServer,
    b: &Browser,
    start: &str,
    username: &str,
    password: &str,
) -> Response {
    let res = b.get(start).await;
    assert_eq!(res.status(), 303, "off to the sign-in");
    let login = text(b.get(&absolute(s, &location(&res))).await).await;
    assert!(
        login.contains("acme-corp"),
        "the sign-in page names the organization"
    );
    b.post(
        &format!("{}/orgs/acme-corp/login", s.base),
        &[
            ("request", &hidden(&login, "request")),
            ("csrf_token", &hidden(&login, "csrf_token")),
            ("username", username),
            ("password", password),
        ],
        &[],
    )
    .await
}

/// The second factor's form of page `ask`, posted with `code`.
async fn code_step(s: &TestServer, b: &Browser, ask: &str, code: &str) -> Response {
    b.post(
        &format!("{}/orgs/acme-corp/login/second-factor", s.base),
        &[
            ("request", &hidden(ask, "request")),
            ("csrf_token", &hidden(ask, "csrf_token")),
            ("code", code),
        ],
        &[],
    )
    .await
}

/// Posts one of the account page's forms (with the page's CSRF token).
async fn act(s: &TestServer, b: &Browser, page: &str, form: &[(&str, &str)]) -> Response {
    let csrf = hidden(page, "csrf_token");
    let mut all = vec![("csrf_token", csrf.as_str())];
    all.extend_from_slice(form);
    b.post(&format!("{}{ACCOUNT}", s.base), &all, &[]).await
}

async fn page(s: &TestServer, b: &Browser) -> String {
    let res = b.get(&format!("{}{ACCOUNT}", s.base)).await;
    assert_eq!(res.status(), 200);
    text(res).await
}

#[tokio::test]
async fn the_account_page_manages_profile_apps_sessions_and_password() {
    let s = TestServer::start().await;
    let admin = acme_with_alice(&s).await;
    let b = Browser::new();
    let home = sign_in(&s, &b, ALICE_PASSWORD, None).await;
    assert!(home.contains("Your account") && home.contains("alice"));
    assert!(home.contains("You have not authorized any application."));
    assert!(
        home.contains("This browser"),
        "the current session is marked"
    );

    // A form from elsewhere (no valid token) changes nothing.
    let res = b
        .post(
            &format!("{}{ACCOUNT}", s.base),
            &[
                ("csrf_token", "forged"),
                ("action", "profile"),
                ("name", "Mallory"),
            ],
            &[],
        )
        .await;
    assert_eq!(res.status(), 403);
    // Profile.
    let res = act(
        &s,
        &b,
        &home,
        &[
            ("action", "profile"),
            ("name", "Alice L."),
            ("email", "alice@new.example"),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    assert!(location(&res).ends_with("?done=profile"));
    let home = page(&s, &b).await;
    assert!(home.contains("Alice L.") && home.contains("alice@new.example"));
    let res = act(
        &s,
        &b,
        &home,
        &[
            ("action", "profile"),
            ("name", ""),
            ("email", "not-an-address"),
        ],
    )
    .await;
    assert_eq!(res.status(), 400);
    assert!(text(res).await.contains("email"), "the bad field is named");

    // An application authorized in this browser shows up, with its scopes and last use.
    let (app, _) = acme_client(
        &s,
        &admin,
        json!({"name": "Photo app", "isConfidential": false, "requireConsent": true,
               "redirectUris": [REDIRECT], "allowedScopes": ["openid", "profile"]}),
    )
    .await;
    let ch = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(<sha2::Sha256 as sha2::Digest>::digest(VERIFIER.as_bytes()));
    let authorize = format!(
        "{}/orgs/acme-corp/api/v1/oauth/authorize?response_type=code&client_id={app}&redirect_uri={}&scope=openid%20profile&state=s1&code_challenge={ch}&code_challenge_method=S256",
        s.base,
        url::form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect::<String>()
    );
    let consent = text(b.get(&authorize).await).await;
    let res = b
        .post(
            &format!("{}/orgs/acme-corp/consent", s.base),
            &[
                ("request", &hidden(&consent, "request")),
                ("csrf_token", &hidden(&consent, "csrf_token")),
                ("decision", "allow"),
            ],
            &[],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert!(location(&res).starts_with(REDIRECT));
    let home = page(&s, &b).await;
    assert!(
        home.contains("Photo app") && home.contains("openid profile"),
        "{home}"
    );
    assert!(
        !home.contains(">never<"),
        "the sign-in under the consent is its last use"
    );
    let res = act(&s, &b, &home, &[("action", "revoke"), ("client_id", &app)]).await;
    assert!(location(&res).ends_with("?done=revoked"));
    let home = page(&s, &b).await;
    assert!(!home.contains("Photo app"));
    // The admin API sees the same: no consent left.
    let users = call(
        &s,
        Method::GET,
        "/orgs/acme-corp/api/v1/admin/users",
        Some(&admin),
        None,
    )
    .await;
    let users: serde_json::Value = users.json().await.unwrap();
    let alice = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "alice")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let consents = call(
        &s,
        Method::GET,
        &format!("/orgs/acme-corp/api/v1/admin/users/{alice}/consents"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(
        consents.json::<serde_json::Value>().await.unwrap(),
        json!([])
    );

    // Sessions: a second browser signs in; "sign out everywhere else" ends it, not this one.
    let other = Browser::new();
    sign_in(&s, &other, ALICE_PASSWORD, None).await;
    let res = act(&s, &b, &home, &[("action", "sessions")]).await;
    assert!(location(&res).ends_with("?done=sessions"));
    assert_eq!(
        other.get(&format!("{}{ACCOUNT}", s.base)).await.status(),
        303,
        "signed out there"
    );
    let home = page(&s, &b).await;

    // Password: the current one first, the new one twice, the rules of passwords.
    for (current, new, confirm, field) in [
        (
            "wrong password",
            "a new long password",
            "a new long password",
            "current password",
        ),
        (
            ALICE_PASSWORD,
            "a new long password",
            "another one entirely",
            "confirmation",
        ),
        (ALICE_PASSWORD, "short", "short", "newPassword"),
    ] {
        let res = act(
            &s,
            &b,
            &home,
            &[
                ("action", "password"),
                ("current_password", current),
                ("new_password", new),
                ("confirm_password", confirm),
            ],
        )
        .await;
        assert_eq!(res.status(), 400);
        assert!(text(res).await.contains(field), "{field}");
    }
    let res = act(
        &s,
        &b,
        &home,
        &[
            ("action", "password"),
            ("current_password", ALICE_PASSWORD),
            ("new_password", "a new long password"),
            ("confirm_password", "a new long password"),
        ],
    )
    .await;
    assert!(location(&res).ends_with("?done=password"));
    // The old password no longer signs in; the new one does.
    let third = Browser::new();
    let res = password_step(
        &s,
        &third,
        &format!("{}{ACCOUNT}", s.base),
        "alice",
        ALICE_PASSWORD,
    )
    .await;
    assert!(text(res).await.contains("Invalid username or password."));
    sign_in(&s, &Browser::new(), "a new long password", None).await;
}

#[tokio::test]
async fn totp_enrolment_sign_in_with_codes_and_recovery_codes_and_reset() {
    let s = TestServer::start().await;
    let admin = acme_with_alice(&s).await;
    let b = Browser::new();
    let home = sign_in(&s, &b, ALICE_PASSWORD, None).await;
    assert!(home.contains("Off: sign-in asks for your password only."));
    let res = act(&s, &b, &home, &[("action", "totp-start")]).await;
    assert_eq!(res.status(), 200);
    let setup = text(res).await;
    let start = setup
        .find("id=\"totp-secret\">")
        .expect("the secret is shown")
        + 17;
    let secret = setup[start..].split('<').next().unwrap().to_owned();
    assert_eq!(secret.len(), 32, "160 bits in base32");
    assert!(setup.contains("otpauth://totp/"));
    // A wrong code is refused, and the factor stays off.
    let res = act(
        &s,
        &b,
        &setup,
        &[("action", "totp-confirm"), ("code", "000000")],
    )
    .await;
    assert_eq!(res.status(), 400);
    let step = step_now();
    let res = act(
        &s,
        &b,
        &setup,
        &[("action", "totp-confirm"), ("code", &totp(&secret, step))],
    )
    .await;
    assert_eq!(res.status(), 200);
    let done = text(res).await;
    let codes: Vec<String> = done
        .split("<li>")
        .skip(1)
        .map(|x| x.split('<').next().unwrap().to_owned())
        .collect();
    assert_eq!(codes.len(), 10, "ten recovery codes, shown once: {done}");
    assert!(page(&s, &b).await.contains("Recovery codes left: 10"));

    // Sign-in now asks for a code: a wrong one, then the code already used, are refused.
    let b2 = Browser::new();
    let res = password_step(
        &s,
        &b2,
        &format!("{}{ACCOUNT}", s.base),
        "alice",
        ALICE_PASSWORD,
    )
    .await;
    let ask = text(res).await;
    assert!(ask.contains("Two-step verification"), "{ask}");
    assert!(
        b2.cookie("tessera_session").is_none(),
        "no session before the code"
    );
    for wrong in ["123456".to_owned(), totp(&secret, step)] {
        let res = code_step(&s, &b2, &ask, &wrong).await;
        assert_eq!(res.status(), 200);
        assert!(text(res).await.contains("That code is not right"));
    }
    // The next step's code (within the drift window) signs in.
    let res = code_step(&s, &b2, &ask, &totp(&secret, step + 1)).await;
    assert_eq!(res.status(), 303);
    b2.get(&absolute(&s, &location(&res))).await;
    let home2 = page(&s, &b2).await;
    assert!(
        home2.contains("password and code"),
        "the session says how it was signed in to"
    );

    // An application's id_token says so: amr pwd + otp (RFC 8176).
    let (app, _) = acme_client(
        &s,
        &admin,
        json!({"name": "App", "isConfidential": false, "redirectUris": [REDIRECT],
               "allowedScopes": ["openid"], "requireConsent": false}),
    )
    .await;
    let ch = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(<sha2::Sha256 as sha2::Digest>::digest(VERIFIER.as_bytes()));
    let res = b2
        .get(&format!(
            "{}/orgs/acme-corp/api/v1/oauth/authorize?response_type=code&client_id={app}&redirect_uri={}&scope=openid&state=s&code_challenge={ch}&code_challenge_method=S256",
            s.base,
            url::form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect::<String>()
        ))
        .await;
    assert_eq!(res.status(), 303);
    let back = url::Url::parse(&location(&res)).unwrap();
    let code = back
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let tokens: serde_json::Value = reqwest::Client::new()
        .post(format!("{}{TOKEN}", s.base))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("client_id", &app),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = jwt_claims(tokens["id_token"].as_str().expect("id_token"));
    assert_eq!(id["amr"], json!(["pwd", "otp"]), "{id}");

    // A recovery code signs in once.
    let b3 = Browser::new();
    sign_in(&s, &b3, ALICE_PASSWORD, Some(&codes[0].to_uppercase())).await;
    assert!(page(&s, &b3).await.contains("Recovery codes left: 9"));
    let b4 = Browser::new();
    let res = password_step(
        &s,
        &b4,
        &format!("{}{ACCOUNT}", s.base),
        "alice",
        ALICE_PASSWORD,
    )
    .await;
    let ask = text(res).await;
    let res = code_step(&s, &b4, &ask, &codes[0]).await;
    assert!(text(res).await.contains("That code is not right"), "spent");

    // The audit log has the enrolment and the failed code.
    let (_, log) = crate::support::json(
        call(
            &s,
            Method::GET,
            "/orgs/acme-corp/api/v1/admin/audit-log?limit=200",
            Some(&admin),
            None,
        )
        .await,
    )
    .await;
    let actions: Vec<&str> = log["items"]
        .as_array()
        .or(log.as_array())
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(
        actions.contains(&"user.second_factor_enrolled"),
        "{actions:?}"
    );
    assert!(actions.contains(&"user.login_failed"));

    // An administrator resets it (a lost device): the password alone signs in again.
    let users = call(
        &s,
        Method::GET,
        "/orgs/acme-corp/api/v1/admin/users",
        Some(&admin),
        None,
    )
    .await;
    let users: serde_json::Value = users.json().await.unwrap();
    let alice = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "alice")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/orgs/acme-corp/api/v1/admin/users/{alice}/second-factor");
    assert_eq!(
        call(&s, Method::DELETE, &path, Some(&admin), None)
            .await
            .status(),
        204
    );
    assert_eq!(
        call(&s, Method::DELETE, &path, Some(&admin), None)
            .await
            .status(),
        404
    );
    sign_in(&s, &Browser::new(), ALICE_PASSWORD, None).await;

    // The user turns it off themselves after setting it up again: the password is asked.
    let home = page(&s, &b).await;
    assert!(home.contains("Off: sign-in asks"));
}

/// The organization's rule that administrators use two-step verification: REST and GraphQL
/// read and write it, the console refuses an administrator without it, and lets one with it
/// in after the code; an administrator sees a member's state and resets it from the console.
#[tokio::test]
async fn an_organization_can_require_two_step_verification_of_its_administrators() {
    use tessera_core::Context;
    let s = TestServer::start().await;
    let admin = acme_with_alice(&s).await;
    let boss = s
        .services
        .create_user(
            &Context::cli(),
            "acme-corp",
            tessera_core::users::NewUser {
                username: "boss".into(),
                password: Some(secrecy::SecretString::from("the boss password")),
                roles: vec!["owner".into()],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let policy = "/orgs/acme-corp/api/v1/admin/security-policy";
    let (st, v) =
        crate::support::json(call(&s, Method::GET, policy, Some(&admin), None).await).await;
    assert_eq!(
        (st, v),
        (200, json!({"requireSecondFactorForAdmins": false}))
    );
    let (st, v) = crate::support::json(
        call(
            &s,
            Method::PUT,
            policy,
            Some(&admin),
            Some(json!({"requireTwoStep": true})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 400);
    assert!(
        v.to_string().contains("requireTwoStep"),
        "the unknown field is named: {v}"
    );
    let (st, v) = crate::support::json(
        call(
            &s,
            Method::PUT,
            policy,
            Some(&admin),
            Some(json!({"requireSecondFactorForAdmins": true})),
        )
        .await,
    )
    .await;
    assert_eq!(
        (st, v),
        (200, json!({"requireSecondFactorForAdmins": true}))
    );
    let (_, g) = crate::support::json(
        call(
            &s,
            Method::POST,
            "/orgs/acme-corp/api/v1/admin/graphql",
            Some(&admin),
            Some(json!({"query": "{ adminSecurityPolicy { requireSecondFactorForAdmins } }"})),
        )
        .await,
    )
    .await;
    assert_eq!(
        g["data"]["adminSecurityPolicy"]["requireSecondFactorForAdmins"], true,
        "{g}"
    );

    // Without a second factor, the console refuses the administrator and says where to go.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut jar = crate::support::Jar::default();
    let res = crate::console::sign_in_http(
        &s,
        &http,
        &mut jar,
        "acme-corp",
        "boss",
        "the boss password",
    )
    .await;
    assert_eq!(res.status(), 400);
    let page = text(res).await;
    assert!(page.contains("requires two-step verification"), "{page}");
    assert!(page.contains("/orgs/acme-corp/account"), "{page}");

    // With one, the console asks for the code and lets them in.
    let org = s.services.protocol_org("acme-corp").await.unwrap();
    let e = s
        .services
        .start_totp_enrolment(&org, boss.id, "boss")
        .await
        .unwrap();
    let step = step_now();
    s.services
        .confirm_totp_enrolment(&Context::cli(), org.id, boss.id, &totp(&e.secret, step))
        .await
        .unwrap();
    let b = Browser::new();
    let res = password_step(
        &s,
        &b,
        &format!("{}/login?org=acme-corp", s.base),
        "boss",
        "the boss password",
    )
    .await;
    let ask = text(res).await;
    assert!(ask.contains("Two-step verification"), "{ask}");
    let res = code_step(&s, &b, &ask, &totp(&e.secret, step + 1)).await;
    assert_eq!(res.status(), 303);
    let res = b.get(&absolute(&s, &location(&res))).await;
    assert_eq!(res.status(), 303, "into the console");
    assert_eq!(location(&res), "/oauth-clients");

    // The member's state, in the admin API and on the console's Apps and Sessions page,
    // where it is reset.
    let path = format!(
        "/orgs/acme-corp/api/v1/admin/users/{}/second-factor",
        boss.id
    );
    let (st, v) =
        crate::support::json(call(&s, Method::GET, &path, Some(&admin), None).await).await;
    assert_eq!(
        (st, v),
        (200, json!({"enabled": true, "recoveryCodesLeft": 10}))
    );
    let access = text(
        b.get(&format!("{}/members/{}/access", s.base, boss.id))
            .await,
    )
    .await;
    assert!(access.contains("Recovery codes left: 10"), "{access}");
    let csrf = hidden(&access, "csrf_token");
    let res = b
        .post(
            &format!("{}/members/{}/access", s.base, boss.id),
            &[("csrf_token", csrf.as_str()), ("op", "reset-second-factor")],
            &[("origin", s.base.as_str())],
        )
        .await;
    assert_eq!(res.status(), 303, "{}", text(res).await);
    let (_, v) = crate::support::json(call(&s, Method::GET, &path, Some(&admin), None).await).await;
    assert_eq!(v, json!({"enabled": false, "recoveryCodesLeft": 0}));
    // The Members page shows the rule and saves it.
    let members = text(b.get(&format!("{}/members", s.base)).await).await;
    assert!(
        members.contains("id=\"require_second_factor\" value=\"1\" checked"),
        "the rule is on"
    );
    let res = b
        .post(
            &format!("{}/security-policy", s.base),
            &[("csrf_token", hidden(&members, "csrf_token").as_str())],
            &[("origin", s.base.as_str())],
        )
        .await;
    assert_eq!(res.status(), 303);
    let (_, v) =
        crate::support::json(call(&s, Method::GET, policy, Some(&admin), None).await).await;
    assert_eq!(
        v,
        json!({"requireSecondFactorForAdmins": false}),
        "unticked: off"
    );
}

/// Abuse of the account page and of the second factor's administration: a session of one
/// organization opens nothing in another, a post from another site is refused even with a
/// right token, the password asked again is braked, and the rules and resets need their
/// permissions (an admin does not reset an owner's second factor).
#[tokio::test]
async fn the_account_page_and_two_step_refuse_abuse() {
    let s = TestServer::start().await;
    let admin = acme_with_alice(&s).await;
    s.org("other-org").await;
    let b = Browser::new();
    let home = sign_in(&s, &b, ALICE_PASSWORD, None).await;
    // Another organization's account page signs in there (it does not show alice).
    let res = b.get(&format!("{}/orgs/other-org/account", s.base)).await;
    assert_eq!(res.status(), 303);
    let to = location(&res);
    assert!(
        to.contains("/orgs/other-org/api/v1/oauth/authorize"),
        "{to}"
    );
    // A cross-site post, even with this page's token: refused, nothing changed.
    let csrf = hidden(&home, "csrf_token");
    let res = b
        .post(
            &format!("{}{ACCOUNT}", s.base),
            &[
                ("csrf_token", &csrf),
                ("action", "profile"),
                ("name", "Mallory"),
            ],
            &[
                ("origin", "https://evil.example"),
                ("sec-fetch-site", "cross-site"),
            ],
        )
        .await;
    assert_eq!(res.status(), 403);
    assert!(!page(&s, &b).await.contains("Mallory"));
    // The password asked again is braked like sign-in.
    let setup = text(act(&s, &b, &home, &[("action", "totp-start")]).await).await;
    let start = setup.find("id=\"totp-secret\">").unwrap() + 17;
    let secret = setup[start..].split('<').next().unwrap().to_owned();
    let res = act(
        &s,
        &b,
        &setup,
        &[
            ("action", "totp-confirm"),
            ("code", &totp(&secret, step_now())),
        ],
    )
    .await;
    assert_eq!(res.status(), 200);
    let home = page(&s, &b).await;
    let mut braked = false;
    for _ in 0..8 {
        let res = act(
            &s,
            &b,
            &home,
            &[("action", "totp-remove"), ("password", "not the password")],
        )
        .await;
        assert_eq!(res.status(), 400);
        if text(res).await.contains("too many attempts") {
            braked = true;
            break;
        }
    }
    assert!(
        braked,
        "guessing the password through the account page is braked"
    );
    assert!(
        page(&s, &b).await.contains("Recovery codes left: 10"),
        "still on"
    );

    // Permissions: a viewer reads the rules but does not change them; another organization's
    // key sees nothing; an admin does not reset an owner's second factor; only system
    // administrators set the Discord bot.
    let viewer = s.org_key("acme-corp", &["viewer"], &[]).await;
    let other = s.org_key("other-org", &["owner"], &[]).await;
    let policy = "/orgs/acme-corp/api/v1/admin/security-policy";
    let body = json!({"requireSecondFactorForAdmins": true});
    assert_eq!(
        call(&s, Method::GET, policy, Some(&viewer), None)
            .await
            .status(),
        200
    );
    assert_eq!(
        call(&s, Method::PUT, policy, Some(&viewer), Some(body.clone()))
            .await
            .status(),
        403
    );
    assert!(matches!(
        call(&s, Method::PUT, policy, Some(&other), Some(body))
            .await
            .status()
            .as_u16(),
        403 | 404
    ));
    let boss = s
        .services
        .create_user(
            &tessera_core::Context::cli(),
            "acme-corp",
            tessera_core::users::NewUser {
                username: "boss".into(),
                password: Some(secrecy::SecretString::from("the boss password")),
                roles: vec!["owner".into()],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let org = s.services.protocol_org("acme-corp").await.unwrap();
    let e = s
        .services
        .start_totp_enrolment(&org, boss.id, "boss")
        .await
        .unwrap();
    s.services
        .confirm_totp_enrolment(
            &tessera_core::Context::cli(),
            org.id,
            boss.id,
            &totp(&e.secret, step_now()),
        )
        .await
        .unwrap();
    let reset = format!(
        "/orgs/acme-corp/api/v1/admin/users/{}/second-factor",
        boss.id
    );
    assert_eq!(
        call(&s, Method::DELETE, &reset, Some(&admin), None)
            .await
            .status(),
        403
    );
    assert_eq!(
        call(&s, Method::DELETE, &reset, Some(&viewer), None)
            .await
            .status(),
        403
    );
    let other_reset = format!(
        "/orgs/other-org/api/v1/admin/users/{}/second-factor",
        boss.id
    );
    assert_eq!(
        call(&s, Method::DELETE, &other_reset, Some(&other), None)
            .await
            .status(),
        404
    );
    let (_, v) =
        crate::support::json(call(&s, Method::GET, &reset, Some(&admin), None).await).await;
    assert_eq!(v["enabled"], true, "the owner's second factor stays");
    let discord = json!({"applicationId": "123456789012345678", "botName": "x",
                         "botToken": "a".repeat(60)});
    assert_eq!(
        call(
            &s,
            Method::PUT,
            "/api/v1/system/discord-bot",
            Some(&admin),
            Some(discord)
        )
        .await
        .status(),
        403
    );
}
