//! Tests of the platform adapter against the fake platforms: full flows, failures sorted the
//! same on every platform, timeouts, and secrets kept out of texts.

use std::time::Duration;

use reqwest::StatusCode;
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::json;
use tessera_domain::Platform;

use super::answers::{token_answer, Op};
use super::transport::Answer;
use super::*;
use crate::fakes::platforms::{FailMode, FakePlatforms};
use crate::platform::{Pkce, ProviderConfig};
use crate::Providers;

const REDIRECT: &str = "http://127.0.0.1:9/callback";
/// RFC 7636 appendix B.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

fn creds(p: Platform) -> AppCredentials {
    AppCredentials {
        client_id: format!("{p}-client"),
        client_secret: SecretString::from(format!("{p}-secret")),
    }
}

async fn setup() -> (FakePlatforms, PlatformClient) {
    let client = PlatformClient::new(Duration::from_secs(5));
    let fake = FakePlatforms::start().await;
    for p in Platform::ALL {
        let c = creds(p);
        fake.register_app(p, &c.client_id, c.client_secret.expose_secret());
    }
    (fake, client)
}

fn verifier(cfg: &ProviderConfig) -> Option<&'static str> {
    (cfg.pkce != Pkce::No).then_some(VERIFIER)
}

/// Follows the authorize URL as a browser would (the user consents) and returns where
/// the platform sent the user back.
async fn authorize_redirect(cfg: &ProviderConfig, c: &AppCredentials) -> url::Url {
    let challenge = pkce_challenge(VERIFIER);
    let url = PlatformClient::authorize_url(cfg, &c.client_id, REDIRECT, "st-1", Some(&challenge));
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = http.get(url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FOUND, "{}", cfg.platform);
    let loc = r.headers()[reqwest::header::LOCATION].to_str().unwrap();
    let loc = url::Url::parse(loc).unwrap();
    assert!(loc.as_str().starts_with(REDIRECT));
    loc
}

fn query(u: &url::Url, k: &str) -> Option<String> {
    u.query_pairs()
        .find(|(n, _)| n == k)
        .map(|(_, v)| v.into_owned())
}

async fn code_for(cfg: &ProviderConfig, c: &AppCredentials) -> String {
    let back = authorize_redirect(cfg, c).await;
    assert_eq!(query(&back, "state").as_deref(), Some("st-1"));
    query(&back, "code").unwrap()
}

fn secret(s: &SecretString) -> String {
    s.expose_secret().to_owned()
}

async fn full_flow(p: Platform) {
    let (fake, client) = setup().await;
    let providers = fake.providers();
    let cfg = providers.get(p);
    let c = creds(p);
    let code = code_for(cfg, &c).await;
    let t = client
        .exchange_code(cfg, &c, &code, REDIRECT, verifier(cfg))
        .await
        .unwrap();
    let at = secret(&t.access_token);
    assert!(at.starts_with(&format!("at-{p}-")), "{at}");
    let rt = secret(t.refresh_token.as_ref().unwrap());
    assert!(rt.starts_with(&format!("rt-{p}-")), "{rt}");
    assert_eq!(t.expires_in, Some(14400));
    let expected_scopes = (p != Platform::Trovo).then(|| cfg.scopes.clone());
    assert_eq!(t.scopes, expected_scopes, "{p}");
    assert_eq!(fake.token_calls(p, "authorization_code"), 1);

    // A code is single-use.
    let again = client
        .exchange_code(cfg, &c, &code, REDIRECT, verifier(cfg))
        .await
        .unwrap_err();
    assert!(
        matches!(again, PlatformError::InvalidGrant(_)),
        "{p}: {again:?}"
    );

    let (id, name) = match p {
        Platform::Twitch => ("1001", "TwitchStreamer"),
        Platform::Youtube => ("UCfakeYouTubeChannel1002", "YouTubeStreamer"),
        Platform::Kick => ("1003", "kickstreamer"),
        Platform::Trovo => ("1004", "TrovoStreamer"),
    };
    let who = client.identity(cfg, &c, &at).await.unwrap();
    assert_eq!(
        who,
        Identity {
            channel_id: id.into(),
            channel_name: name.into()
        }
    );
    let v = client.validate(cfg, &at).await.unwrap();
    let expected = (p == Platform::Twitch).then_some(14400);
    assert_eq!(
        v,
        Validation::Valid {
            expires_in: expected
        }
    );

    let r = client.refresh(cfg, &c, &rt).await.unwrap();
    let at2 = secret(&r.access_token);
    assert_ne!(at2, at);
    assert_eq!(fake.token_calls(p, "refresh_token"), 1);
    if p == Platform::Youtube {
        // Google keeps the refresh token and leaves it out of the answer.
        assert!(r.refresh_token.is_none());
        assert_eq!(fake.current_refresh_token(p).as_deref(), Some(rt.as_str()));
        client.refresh(cfg, &c, &rt).await.unwrap();
    } else {
        let rt2 = secret(r.refresh_token.as_ref().unwrap());
        assert_ne!(rt2, rt);
        assert_eq!(fake.current_refresh_token(p), Some(rt2));
        let old = client.refresh(cfg, &c, &rt).await.unwrap_err();
        assert!(
            matches!(old, PlatformError::InvalidGrant(_)),
            "{p}: {old:?}"
        );
        assert!(!old.to_string().contains(&rt), "no token in error texts");
    }

    client.revoke(cfg, &c, &at2).await.unwrap();
    assert_eq!(fake.revoked(p), vec![at2.clone()]);
    assert!(!fake.is_access_token_valid(p, &at2));
    let gone = client.identity(cfg, &c, &at2).await.unwrap_err();
    assert!(matches!(gone, PlatformError::Rejected(_)), "{p}: {gone:?}");
    if p == Platform::Twitch {
        assert_eq!(
            client.validate(cfg, &at2).await.unwrap(),
            Validation::Invalid
        );
    }
    // Revoking what is already revoked is done, not an error.
    client.revoke(cfg, &c, &at2).await.unwrap();
    assert_eq!(fake.revoked(p).len(), 1);
}

#[tokio::test]
async fn twitch_full_flow() {
    full_flow(Platform::Twitch).await;
}

#[tokio::test]
async fn youtube_full_flow() {
    full_flow(Platform::Youtube).await;
}

#[tokio::test]
async fn kick_full_flow() {
    full_flow(Platform::Kick).await;
}

#[tokio::test]
async fn trovo_full_flow() {
    full_flow(Platform::Trovo).await;
}

#[test]
fn pkce_challenge_matches_rfc_7636_appendix_b() {
    assert_eq!(
        pkce_challenge(VERIFIER),
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    );
}

#[test]
fn authorize_url_carries_pkce_and_offline_access_where_they_belong() {
    let providers = Providers::default();
    for p in Platform::ALL {
        let cfg = providers.get(p);
        let u = PlatformClient::authorize_url(cfg, "cid", REDIRECT, "s t", Some("chal"));
        let u = url::Url::parse(&u).unwrap();
        assert!(u.as_str().starts_with(&cfg.authorize_url));
        assert_eq!(query(&u, "client_id").as_deref(), Some("cid"));
        assert_eq!(query(&u, "redirect_uri").as_deref(), Some(REDIRECT));
        assert_eq!(query(&u, "response_type").as_deref(), Some("code"));
        assert_eq!(query(&u, "state").as_deref(), Some("s t"));
        assert_eq!(query(&u, "scope"), Some(cfg.scopes.join(" ")));
        let pkce = matches!(p, Platform::Youtube | Platform::Kick);
        assert_eq!(query(&u, "code_challenge").is_some(), pkce, "{p}");
        assert_eq!(
            query(&u, "code_challenge_method").as_deref(),
            pkce.then_some("S256")
        );
        let google = p == Platform::Youtube;
        assert_eq!(
            query(&u, "access_type").as_deref(),
            google.then_some("offline")
        );
        assert_eq!(query(&u, "prompt").as_deref(), google.then_some("consent"));
    }
    // Space in the scope is form-encoded; a query already in the configured URL stays.
    let mut cfg = providers.get(Platform::Twitch).clone();
    cfg.authorize_url = "https://id.example/authorize?tenant=a".into();
    cfg.scopes = vec!["chat:read".into(), "chat:edit".into()];
    let u = PlatformClient::authorize_url(&cfg, "cid", REDIRECT, "s", None);
    assert!(
        u.starts_with("https://id.example/authorize?tenant=a&client_id=cid&"),
        "{u}"
    );
    assert!(u.contains("scope=chat%3Aread+chat%3Aedit"), "{u}");
}

#[tokio::test]
async fn the_fake_authorize_endpoint_checks_and_denies() {
    let (fake, _client) = setup().await;
    let providers = fake.providers();
    let cfg = providers.get(Platform::Kick);
    let c = creds(Platform::Kick);
    fake.deny_next_authorize(Platform::Kick);
    let back = authorize_redirect(cfg, &c).await;
    assert_eq!(query(&back, "error").as_deref(), Some("access_denied"));
    assert_eq!(query(&back, "state").as_deref(), Some("st-1"));
    assert_eq!(query(&back, "code"), None);
    let seen = fake.last_authorize_query(Platform::Kick).unwrap();
    assert!(seen.iter().any(|(k, _)| k == "code_challenge"));

    // Kick without a challenge, or an unknown client: a page, no redirect.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let no_pkce = PlatformClient::authorize_url(cfg, &c.client_id, REDIRECT, "s", None);
    assert_eq!(http.get(no_pkce).send().await.unwrap().status(), 400);
    let stranger = PlatformClient::authorize_url(cfg, "nobody", REDIRECT, "s", Some("x"));
    assert_eq!(http.get(stranger).send().await.unwrap().status(), 400);
}

#[tokio::test]
async fn a_wrong_pkce_verifier_is_an_invalid_grant() {
    let (fake, client) = setup().await;
    let providers = fake.providers();
    for p in [Platform::Youtube, Platform::Kick] {
        let cfg = providers.get(p);
        let c = creds(p);
        let code = code_for(cfg, &c).await;
        let e = client
            .exchange_code(cfg, &c, &code, REDIRECT, Some("not-the-verifier"))
            .await
            .unwrap_err();
        assert!(matches!(e, PlatformError::InvalidGrant(_)), "{p}: {e:?}");
    }
}

#[tokio::test]
async fn failures_are_sorted_the_same_on_every_platform() {
    let (fake, client) = setup().await;
    let providers = fake.providers();
    for p in Platform::ALL {
        let cfg = providers.get(p);
        let c = creds(p);
        let code = code_for(cfg, &c).await;
        let t = client
            .exchange_code(cfg, &c, &code, REDIRECT, verifier(cfg))
            .await
            .unwrap();
        let rt = secret(t.refresh_token.as_ref().unwrap());

        fake.fail_next(p, FailMode::InvalidGrant, 2);
        let e = client
            .exchange_code(cfg, &c, "code-x", REDIRECT, verifier(cfg))
            .await
            .unwrap_err();
        assert!(matches!(e, PlatformError::InvalidGrant(_)), "{p}: {e:?}");
        assert!(!e.is_transient());
        let e = client.refresh(cfg, &c, &rt).await.unwrap_err();
        assert!(matches!(e, PlatformError::InvalidGrant(_)), "{p}: {e:?}");
        assert!(e.to_string().contains(p.display_name()), "{e}");

        fake.fail_next(p, FailMode::ServerError, 1);
        let e = client.refresh(cfg, &c, &rt).await.unwrap_err();
        assert!(matches!(e, PlatformError::Unavailable(_)), "{p}: {e:?}");
        assert!(e.is_transient());
        assert!(e.to_string().contains("500"), "{e}");

        fake.fail_next(p, FailMode::RateLimited, 1);
        let e = client.refresh(cfg, &c, &rt).await.unwrap_err();
        assert!(matches!(e, PlatformError::RateLimited), "{p}: {e:?}");
        assert!(e.is_transient());

        // The failures spent, the refresh token still works.
        client.refresh(cfg, &c, &rt).await.unwrap();
        assert_eq!(fake.token_calls(p, "refresh_token"), 4);
        assert_eq!(fake.token_calls(p, "authorization_code"), 2);

        let unknown = client.refresh(cfg, &c, "rt-unknown").await.unwrap_err();
        assert!(
            matches!(unknown, PlatformError::InvalidGrant(_)),
            "{p}: {unknown:?}"
        );

        let wrong = AppCredentials {
            client_id: c.client_id.clone(),
            client_secret: SecretString::from("wrong".to_owned()),
        };
        let e = client.refresh(cfg, &wrong, "rt-any").await.unwrap_err();
        assert!(matches!(e, PlatformError::InvalidClient(_)), "{p}: {e:?}");
        assert!(!e.to_string().contains("wrong"), "no secret in error texts");
        let code = code_for(cfg, &c).await;
        let e = client
            .exchange_code(cfg, &wrong, &code, REDIRECT, verifier(cfg))
            .await
            .unwrap_err();
        assert!(matches!(e, PlatformError::InvalidClient(_)), "{p}: {e:?}");
    }
}

#[tokio::test]
async fn revoked_grants_are_invalid_grants() {
    let (fake, client) = setup().await;
    let providers = fake.providers();
    for p in Platform::ALL {
        let cfg = providers.get(p);
        let c = creds(p);
        let code = code_for(cfg, &c).await;
        let t = client
            .exchange_code(cfg, &c, &code, REDIRECT, verifier(cfg))
            .await
            .unwrap();
        fake.invalidate_grants(p);
        let rt = secret(t.refresh_token.as_ref().unwrap());
        let e = client.refresh(cfg, &c, &rt).await.unwrap_err();
        assert!(matches!(e, PlatformError::InvalidGrant(_)), "{p}: {e:?}");
        assert_eq!(fake.current_refresh_token(p), None);
    }
    let cfg = providers.get(Platform::Twitch);
    assert_eq!(
        client.validate(cfg, "at-twitch-1").await.unwrap(),
        Validation::Invalid
    );
}

#[tokio::test]
async fn a_closed_port_is_unavailable_and_the_text_carries_no_token() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let providers = Providers::all_at(&base);
    let client = PlatformClient::new(Duration::from_secs(5));
    for p in Platform::ALL {
        let cfg = providers.get(p);
        let c = creds(p);
        let e = client
            .refresh(cfg, &c, "rt-secret-value")
            .await
            .unwrap_err();
        assert!(matches!(e, PlatformError::Unavailable(_)), "{p}: {e:?}");
        assert!(e.is_transient());
        assert!(e.to_string().starts_with(p.display_name()), "{e}");
        let e = client.revoke(cfg, &c, "at-secret-value").await.unwrap_err();
        assert!(matches!(e, PlatformError::Unavailable(_)), "{p}: {e:?}");
        assert!(!e.to_string().contains("secret-value"), "{e}");
    }
}

#[tokio::test]
async fn a_slow_platform_times_out_as_unavailable() {
    let (fake, _) = setup().await;
    let client = PlatformClient::new(Duration::from_millis(30));
    fake.set_token_delay(Platform::Twitch, Duration::from_secs(5));
    let providers = fake.providers();
    let cfg = providers.get(Platform::Twitch);
    let e = client
        .refresh(cfg, &creds(Platform::Twitch), "rt-x")
        .await
        .unwrap_err();
    assert!(matches!(e, PlatformError::Unavailable(_)), "{e:?}");
    assert!(e.to_string().contains("in time"), "{e}");
}

#[tokio::test]
async fn a_google_account_without_a_channel_is_rejected() {
    let (fake, client) = setup().await;
    let providers = fake.providers();
    let cfg = providers.get(Platform::Youtube);
    let c = creds(Platform::Youtube);
    fake.set_identity(Platform::Youtube, "", "");
    fake.set_expires_in(Platform::Youtube, 3599);
    let code = code_for(cfg, &c).await;
    let t = client
        .exchange_code(cfg, &c, &code, REDIRECT, verifier(cfg))
        .await
        .unwrap();
    assert_eq!(t.expires_in, Some(3599));
    let e = client
        .identity(cfg, &c, &secret(&t.access_token))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("has no YouTube channel"), "{e}");
}

#[tokio::test]
async fn no_endpoint_means_no_call() {
    let client = PlatformClient::new(Duration::from_secs(1));
    let mut cfg = Providers::all_at("http://127.0.0.1:9")
        .get(Platform::Twitch)
        .clone();
    cfg.revoke_url = None;
    cfg.validate_url = None;
    let c = creds(Platform::Twitch);
    client.revoke(&cfg, &c, "t").await.unwrap();
    assert_eq!(
        client.validate(&cfg, "t").await.unwrap(),
        Validation::Valid { expires_in: None }
    );
}

#[test]
fn token_answers_accept_numeric_strings_and_missing_tokens_are_rejected() {
    let a = Answer {
        status: StatusCode::OK,
        body: json!({"access_token": "a", "expires_in": "3600", "scope": "x y"}),
    };
    let t = token_answer(Platform::Kick, Op::Refresh, &a).unwrap();
    assert_eq!(t.expires_in, Some(3600));
    assert_eq!(t.scopes, Some(vec!["x".to_owned(), "y".to_owned()]));
    assert!(t.refresh_token.is_none());
    let a = Answer {
        status: StatusCode::OK,
        body: json!({"token_type": "bearer"}),
    };
    let e = token_answer(Platform::Kick, Op::Code, &a).unwrap_err();
    assert!(matches!(e, PlatformError::Rejected(_)), "{e:?}");
}

#[test]
fn debug_output_hides_secrets() {
    let c = creds(Platform::Twitch);
    let t = TokenSet {
        access_token: SecretString::from("at-hidden".to_owned()),
        refresh_token: Some(SecretString::from("rt-hidden".to_owned())),
        expires_in: Some(1),
        scopes: None,
    };
    let shown = format!("{c:?} {t:?}");
    assert!(!shown.contains("twitch-secret"), "{shown}");
    assert!(!shown.contains("hidden"), "{shown}");
    assert!(shown.contains("twitch-client"), "{shown}");
}
