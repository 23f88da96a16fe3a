//! Interop: the `openidconnect` crate, written by others, as the relying party. Discovery,
//! the code flow with PKCE through the real login and consent forms over HTTP, id_token
//! validation (signature, nonce, at_hash), userinfo, refresh and logout.

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreJwsSigningAlgorithm as IdAlg, CoreProviderMetadata,
    CoreUserInfoClaims,
};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
};
use reqwest::Method;
use serde_json::json;
use tessera_testkit::TestServer;

use crate::support::{acme_with_alice, call, hidden, json};

const REDIRECT: &str = "http://127.0.0.1:8400/callback";

#[tokio::test]
async fn openidconnect_relying_party_completes_the_flow() {
    relying_party(IdAlg::RsaSsaPkcs1V15Sha256, "ES256").await;
}

/// ES256 id_tokens, `at_hash` the left half of SHA-256; RS256 access tokens (RFC 9068 §2.1).
#[tokio::test]
async fn openidconnect_relying_party_accepts_es256_id_tokens_and_rs256_access_tokens() {
    relying_party(IdAlg::EcdsaP256Sha256, "RS256").await;
}

/// EdDSA (Ed25519) id_tokens, `at_hash` the left half of SHA-512; EdDSA access tokens.
#[tokio::test]
async fn openidconnect_relying_party_accepts_eddsa_id_tokens() {
    relying_party(IdAlg::EdDsa, "EdDSA").await;
}

/// The whole flow with id_tokens signed with `alg`, checked by the library (signature, nonce,
/// `at_hash` of the code's and of the refreshed access token), and access tokens signed with
/// `access_alg`, checked against the JWKS by an independent JWT library and used at userinfo.
async fn relying_party(alg: IdAlg, access_alg: &str) {
    let alg_name = match alg {
        IdAlg::RsaSsaPkcs1V15Sha256 => "RS256",
        IdAlg::EcdsaP256Sha256 => "ES256",
        _ => "EdDSA",
    };
    let s = TestServer::start().await;
    let admin = acme_with_alice(&s).await;
    let (st, c) = json(
        call(
            &s,
            Method::POST,
            "/orgs/acme-corp/api/v1/admin/oauth-clients",
            Some(&admin),
            Some(json!({
                "name": "Relying Party", "isConfidential": false, "redirectUris": [REDIRECT],
                "postLogoutRedirectUris": ["http://127.0.0.1:8400/bye"],
                "allowedScopes": ["openid", "profile", "email", "offline_access"],
                "idTokenSignedResponseAlg": alg_name,
                "accessTokenSignedResponseAlg": access_alg,
            })),
        )
        .await,
    )
    .await;
    assert_eq!(st, 201, "{c}");
    let client_id = c["id"].as_str().unwrap().to_owned();

    let http = openidconnect::reqwest::ClientBuilder::new()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let issuer = IssuerUrl::new(s.url("/orgs/acme-corp")).unwrap();
    let metadata = CoreProviderMetadata::discover_async(issuer, &http)
        .await
        .expect("discovery");
    let client =
        CoreClient::from_provider_metadata(metadata, ClientId::new(client_id.clone()), None)
            .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap());

    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, csrf, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("offline_access".into()))
        .set_pkce_challenge(challenge)
        .url();

    // The browser: the real login and consent forms.
    let res = http.get(auth_url.as_str()).send().await.unwrap();
    // The browser binding the login form's token is bound to, as a browser keeps it.
    let binding = crate::support::set_cookie(&res, "tessera_browser").unwrap();
    let html = res.text().await.unwrap();
    let (req, token) = (hidden(&html, "request"), hidden(&html, "csrf_token"));
    let res = http
        .post(s.url("/orgs/acme-corp/login"))
        .header("cookie", &binding)
        .form(&[
            ("request", req.as_str()),
            ("csrf_token", &token),
            ("username", "alice"),
            ("password", "correct horse battery"),
        ])
        .send()
        .await
        .unwrap();
    let cookie = format!(
        "{binding}; {}",
        crate::support::set_cookie(&res, "tessera_session").unwrap()
    );
    let html = res.text().await.unwrap();
    assert!(html.contains("offline_access"));
    let res = http
        .post(s.url("/orgs/acme-corp/consent"))
        .header("cookie", &cookie)
        .form(&[
            ("request", req.as_str()),
            ("csrf_token", &token),
            ("decision", "allow"),
        ])
        .send()
        .await
        .unwrap();
    let location = url::Url::parse(res.headers()["location"].to_str().unwrap()).unwrap();
    let get = |k: &str| {
        location
            .query_pairs()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.into_owned())
    };
    assert_eq!(get("state").as_deref(), Some(csrf.secret().as_str()));
    assert_eq!(get("iss"), Some(s.url("/orgs/acme-corp")));
    let code = get("code").unwrap();

    // The relying party redeems the code and validates the id_token its own way.
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("token exchange");
    let id_token = tokens.id_token().expect("an id_token");
    let id_verifier = client.id_token_verifier().set_allowed_algs([alg.clone()]);
    assert_eq!(id_token.signing_alg().unwrap(), &alg);
    let claims = id_token
        .claims(&id_verifier, &nonce)
        .expect("a valid id_token");
    let expected = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&id_verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(claims.access_token_hash(), Some(&expected));
    assert!(claims.auth_time().is_some());
    access_token_verifies(&s, tokens.access_token().secret(), access_alg).await;

    let info: CoreUserInfoClaims = client
        .user_info(tokens.access_token().to_owned(), None)
        .unwrap()
        .request_async(&http)
        .await
        .expect("userinfo");
    assert_eq!(info.subject(), claims.subject());
    assert_eq!(info.preferred_username().map(|u| u.as_str()), Some("alice"));
    assert_eq!(info.email().map(|e| e.as_str()), Some("alice@example.com"));

    let refreshed = client
        .exchange_refresh_token(tokens.refresh_token().expect("a refresh token"))
        .unwrap()
        .request_async(&http)
        .await
        .expect("refresh");
    assert_ne!(
        refreshed.access_token().secret(),
        tokens.access_token().secret()
    );
    let new_id = refreshed.id_token().expect("a refreshed id_token");
    let new_claims = new_id
        .claims(&id_verifier, |_: Option<&Nonce>| Ok(()))
        .expect("a valid refreshed id_token");
    let expected = AccessTokenHash::from_token(
        refreshed.access_token(),
        new_id.signing_alg().unwrap(),
        new_id.signing_key(&id_verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(new_claims.access_token_hash(), Some(&expected));
    assert_eq!(new_claims.subject(), claims.subject());
    assert_eq!(new_claims.auth_time(), claims.auth_time());

    // RP-initiated logout with the id_token as hint.
    let q: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("id_token_hint", id_token.to_string().as_str()),
            ("post_logout_redirect_uri", "http://127.0.0.1:8400/bye"),
            ("state", "bye"),
        ])
        .finish();
    let res = http
        .get(s.url(&format!("/orgs/acme-corp/api/v1/oauth/end_session?{q}")))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()["location"],
        "http://127.0.0.1:8400/bye?state=bye"
    );
}

/// An access token (RFC 9068) signed with `alg`, verified by `jsonwebtoken` against the JWKS.
async fn access_token_verifies(s: &TestServer, token: &str, alg: &str) {
    let set: jsonwebtoken::jwk::JwkSet = s
        .http
        .get(s.url("/orgs/acme-corp/api/v1/oauth/jwks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let header = jsonwebtoken::decode_header(token).unwrap();
    let expected: jsonwebtoken::Algorithm = alg.parse().unwrap();
    assert_eq!(header.alg, expected);
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    let key =
        jsonwebtoken::DecodingKey::from_jwk(set.find(header.kid.as_deref().unwrap()).unwrap())
            .unwrap();
    let mut v = jsonwebtoken::Validation::new(expected);
    v.set_audience(&[s.url("/orgs/acme-corp")]);
    v.set_issuer(&[s.url("/orgs/acme-corp")]);
    jsonwebtoken::decode::<serde_json::Value>(token, &key, &v).expect("the access token verifies");
}
