//! Tests of the client rules: validation of every field, redirect matching, the wire form.

use super::*;
use crate::error::ValidationError;
use proptest::prelude::*;

fn input() -> ClientInput {
    ClientInput {
        name: "App".into(),
        redirect_uris: vec!["https://app.example.com/callback".into()],
        ..ClientInput::default()
    }
}

fn fields(e: ValidationError) -> Vec<String> {
    e.errors.into_iter().map(|e| e.field).collect()
}

/// `none` exactly for public clients; the default follows the type; only a method other
/// than the default survives a round trip through `to_input`, so that changing the type
/// alone brings the other default.
#[test]
fn token_endpoint_auth_method_agrees_with_the_client_type() {
    let ok = |conf: bool, m: Option<&str>| {
        ClientSettings::validate(&ClientInput {
            is_confidential: Some(conf),
            token_endpoint_auth_method: m.map(str::to_owned),
            ..input()
        })
    };
    assert_eq!(
        ok(true, None).unwrap().token_endpoint_auth_method,
        TokenAuthMethod::ClientSecretBasic
    );
    assert_eq!(
        ok(false, None).unwrap().token_endpoint_auth_method,
        TokenAuthMethod::None
    );
    assert_eq!(
        ok(true, Some("client_secret_post"))
            .unwrap()
            .token_endpoint_auth_method,
        TokenAuthMethod::ClientSecretPost
    );
    for (conf, m) in [
        (true, "none"),
        (false, "client_secret_basic"),
        (false, "client_secret_post"),
        (true, "private_key_jwt!"),
    ] {
        let e = ok(conf, Some(m)).unwrap_err();
        assert_eq!(fields(e), vec!["tokenEndpointAuthMethod"], "{conf} {m}");
    }
    // private_key_jwt: confidential, with keys.
    let e = ok(true, Some("private_key_jwt")).unwrap_err();
    assert_eq!(fields(e), vec!["jwks"]);
    let jwk = serde_json::json!({"kty": "OKP", "crv": "Ed25519", "kid": "k1",
        "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"});
    let with_keys = ClientSettings::validate(&ClientInput {
        token_endpoint_auth_method: Some("private_key_jwt".into()),
        jwks: Some(serde_json::json!({"keys": [jwk]})),
        ..input()
    })
    .unwrap();
    assert_eq!(
        with_keys.token_endpoint_auth_method,
        TokenAuthMethod::PrivateKeyJwt
    );
    assert_eq!(with_keys.jwks.as_ref().unwrap().keys().len(), 1);
    let e = ClientSettings::validate(&ClientInput {
        token_endpoint_auth_method: Some("private_key_jwt".into()),
        jwks: Some(serde_json::json!({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]})),
        ..input()
    })
    .unwrap_err();
    assert_eq!(fields(e), vec!["jwks"], "one error, on the keys given");
    assert_eq!(
        fields(ok(false, Some("private_key_jwt")).unwrap_err()),
        vec!["tokenEndpointAuthMethod"]
    );
    let settings = ok(true, Some("client_secret_post")).unwrap();
    let client = OAuthClient {
        org_id: OrgId(uuid::Uuid::nil()),
        id: ClientId::parse("app").unwrap(),
        settings,
        secrets: vec![],
        created_at: Timestamp::UNIX_EPOCH,
        updated_at: Timestamp::UNIX_EPOCH,
        tokens_revoked_at: None,
    };
    let back = client.to_input();
    assert_eq!(
        back.token_endpoint_auth_method.as_deref(),
        Some("client_secret_post")
    );
    let basic = OAuthClient {
        settings: ok(true, None).unwrap(),
        ..client
    };
    assert_eq!(basic.to_input().token_endpoint_auth_method, None);
}

#[test]
fn userinfo_alg_is_optional_and_named_in_errors() {
    let with = |a: Option<&str>| {
        ClientSettings::validate(&ClientInput {
            userinfo_signed_response_alg: a.map(str::to_owned),
            ..input()
        })
    };
    assert_eq!(with(None).unwrap().userinfo_signed_response_alg, None);
    assert_eq!(with(Some("")).unwrap().userinfo_signed_response_alg, None);
    assert_eq!(
        with(Some("RS256")).unwrap().userinfo_signed_response_alg,
        Some(SigningAlg::RS256)
    );
    assert_eq!(
        fields(with(Some("none")).unwrap_err()),
        vec!["userinfoSignedResponseAlg"]
    );
}

#[test]
fn request_object_alg_is_optional_never_none_and_round_trips() {
    let with = |a: Option<&str>| {
        ClientSettings::validate(&ClientInput {
            request_object_signing_alg: a.map(str::to_owned),
            ..input()
        })
    };
    assert_eq!(with(None).unwrap().request_object_signing_alg, None);
    assert_eq!(with(Some("")).unwrap().request_object_signing_alg, None);
    let ps = with(Some("PS256")).unwrap();
    assert_eq!(ps.request_object_signing_alg, Some(ClientAlg::PS256));
    for bad in ["none", "HS256"] {
        let e = with(Some(bad)).unwrap_err();
        assert_eq!(e.errors[0].field, "requestObjectSigningAlg");
        assert!(
            e.errors[0].message.contains("ES384"),
            "{}",
            e.errors[0].message
        );
    }
    assert!(with(Some("none")).unwrap_err().errors[0]
        .message
        .contains("unsigned"));
    let client = OAuthClient {
        org_id: OrgId(uuid::Uuid::nil()),
        id: ClientId::parse("app").unwrap(),
        settings: ps,
        secrets: vec![],
        created_at: Timestamp::UNIX_EPOCH,
        updated_at: Timestamp::UNIX_EPOCH,
        tokens_revoked_at: None,
    };
    assert_eq!(
        client.to_input().request_object_signing_alg.as_deref(),
        Some("PS256")
    );
    assert_eq!(
        serde_json::to_value(&client).unwrap()["requestObjectSigningAlg"],
        "PS256"
    );
}

#[test]
fn redirect_uri_rules() {
    for ok in [
        "https://example.com/callback",
        "https://example.com/callback/",
        "http://127.0.0.1:8080/cb",
        "http://localhost/cb",
        "http://[::1]:9/cb",
        "myapp://callback",
        "com.example.app:/oauth2redirect",
        "https://example.com/cb?x=1",
    ] {
        assert!(RedirectUri::parse(ok).is_ok(), "{ok}");
    }
    for bad in [
        "/callback",
        "example.com/callback",
        "https://example.com/cb#frag",
        "https://example.com/cb#",
        "http://example.com/cb",
        "http://127.0.0.2.example.com/cb",
        "javascript:alert(1)",
        "data:text/html,x",
        "https://exa mple.com/",
        " https://example.com/cb",
    ] {
        assert!(RedirectUri::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn redirect_matching_is_exact_but_for_loopback_ports() {
    let r = RedirectUri::parse("https://example.com/callback").unwrap();
    assert!(r.matches("https://example.com/callback"));
    for no in [
        "https://example.com/callback/",
        "https://example.com/callbackx",
        "https://example.com/callback?x",
        "https://example.com/callback#x",
        "https://EXAMPLE.com/callback",
        "https://example.com:443/callback",
    ] {
        assert!(!r.matches(no), "{no}");
    }
    let l = RedirectUri::parse("http://127.0.0.1:8080/cb").unwrap();
    assert!(l.matches("http://127.0.0.1:51234/cb"));
    assert!(l.matches("http://127.0.0.1/cb"));
    assert!(!l.matches("http://127.0.0.1:51234/cb/"));
    assert!(!l.matches("http://localhost:8080/cb"));
    assert!(!l.matches("http://127.0.0.1:1/cb?x=1"));
}

#[test]
fn cors_origins() {
    for ok in [
        "https://app.example.com",
        "http://localhost:3000",
        "https://a.b:8443",
    ] {
        assert!(CorsOrigin::parse(ok).is_ok(), "{ok}");
    }
    for bad in [
        "https://app.example.com/",
        "https://app.example.com/path",
        "app.example.com",
        "ftp://x.y",
        "https://u:p@x.y",
        "https://x.y?q",
        "https://X.Y",
        "https://x.y:443",
    ] {
        assert!(CorsOrigin::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn scopes_and_grants() {
    for ok in [
        "openid",
        "profile",
        "admin.read",
        "octo_api.read_only",
        "https://api/x:read",
    ] {
        assert!(Scope::parse(ok).is_ok(), "{ok}");
    }
    for bad in ["", "a b", "quo\"te", "back\\slash", "tab\t", "é"] {
        assert!(Scope::parse(bad).is_err(), "{bad}");
    }
    assert_eq!(
        GrantType::parse("urn:ietf:params:oauth:grant-type:device_code"),
        Ok(GrantType::DeviceCode)
    );
    assert!(GrantType::parse("implicit").is_err());
}

#[test]
fn settings_report_every_bad_field() {
    let bad = ClientInput {
        name: " ".into(),
        is_confidential: Some(false),
        redirect_uris: vec![
            "https://a.example/cb".into(),
            "https://a.example/cb#x".into(),
            "https://a.example/cb".into(),
        ],
        allowed_cors_origins: vec!["https://a.example/".into()],
        allowed_scopes: Some(vec!["ok".into(), "not ok".into()]),
        grant_types: vec![
            "authorization_code".into(),
            "client_credentials".into(),
            "magic".into(),
        ],
        access_token_lifetime: 0,
        refresh_token_lifetime: i64::MAX,
        ..ClientInput::default()
    };
    assert_eq!(
        fields(ClientSettings::validate(&bad).unwrap_err()),
        [
            "name",
            "redirectUris[1]",
            "redirectUris[2]",
            "allowedCorsOrigins[0]",
            "allowedScopes[1]",
            "grantTypes[2]",
            "grantTypes[1]",
            "accessTokenLifetime",
            "refreshTokenLifetime"
        ]
    );
}

#[test]
fn public_clients_and_redirects() {
    let mut i = input();
    i.is_confidential = Some(false);
    i.require_pkce = false;
    let s = ClientSettings::validate(&i).unwrap();
    assert!(s.require_pkce, "public clients always need PKCE");
    i.grant_types = vec!["password".into()];
    assert_eq!(
        fields(ClientSettings::validate(&i).unwrap_err()),
        ["grantTypes[0]"]
    );

    let m2m = ClientInput {
        name: "Backend".into(),
        grant_types: vec!["client_credentials".into()],
        ..ClientInput::default()
    };
    assert!(
        ClientSettings::validate(&m2m).is_ok(),
        "no redirect needed without authorization_code"
    );
    let mut web = m2m.clone();
    web.grant_types = vec!["authorization_code".into()];
    assert_eq!(
        fields(ClientSettings::validate(&web).unwrap_err()),
        ["redirectUris"]
    );
    let mut long = input();
    long.name = "x".repeat(201);
    assert_eq!(
        fields(ClientSettings::validate(&long).unwrap_err()),
        ["name"]
    );
}

#[test]
fn wire_form_matches_the_interface() {
    let c = OAuthClient {
        org_id: OrgId(uuid::Uuid::nil()),
        id: ClientId::parse("mobile").unwrap(),
        settings: ClientSettings::validate(&ClientInput {
            name: "Mobile App".into(),
            is_confidential: Some(false),
            redirect_uris: vec!["myapp://callback".into()],
            allowed_scopes: Some(vec!["openid".into(), "profile".into()]),
            ..ClientInput::default()
        })
        .unwrap(),
        secrets: vec![],
        created_at: crate::clock::from_millis(1_768_478_400_000),
        updated_at: crate::clock::from_millis(1_768_478_400_000),
        tokens_revoked_at: None,
    };
    let v = serde_json::to_value(&c).unwrap();
    assert_eq!(
        v,
        serde_json::json!({
            "id": "mobile", "name": "Mobile App", "description": null,
            "clientType": "public", "isConfidential": false,
            "redirectUris": ["myapp://callback"], "postLogoutRedirectUris": [],
            "allowedCorsOrigins": [], "allowedScopes": ["openid", "profile"],
            "grantTypes": ["authorization_code", "refresh_token"], "isActive": true,
            "requirePkce": true, "requireConsent": true, "clientUri": null, "logoUri": null,
            "accessTokenLifetime": 3600, "refreshTokenLifetime": 2592000,
            "idTokenSignedResponseAlg": "RS256",
            "accessTokenSignedResponseAlg": "ES256",
            "userinfoSignedResponseAlg": null,
            "requestObjectSigningAlg": null,
            "tokenEndpointAuthMethod": "none",
            "jwks": null,
            "jwksUri": null,
            "tokenExchange": {"subjectClients": [], "allowImpersonation": false},
            "requirePushedAuthorizationRequests": false,
            "dpopBoundAccessTokens": false,
            "requireSignedRequestObject": false,
            "backchannelLogoutUri": null,
            "backchannelLogoutSessionRequired": false,
            "securityProfile": null,
            "secrets": [],
            "createdAt": "2026-01-15T12:00:00.000Z", "updatedAt": "2026-01-15T12:00:00.000Z"
        })
    );
    assert_eq!(ClientSettings::validate(&c.to_input()).unwrap(), c.settings);
}

#[test]
fn client_ids() {
    assert!(ClientId::parse("tessera-cli").is_ok());
    assert!(ClientId::parse("my.app_1~x").is_ok());
    for bad in ["", "a b", "a:b", "ä", &"x".repeat(129)] {
        assert!(ClientId::parse(bad).is_err(), "{bad}");
    }
    assert_eq!(ClientId::generate().as_str().len(), 36);
}

proptest! {
    #[test]
    fn redirect_parse_never_panics_and_rejects_fragments(s in ".{0,80}") {
        let r = RedirectUri::parse(&s);
        if s.contains('#') { prop_assert!(r.is_err()); }
        if let Ok(r) = r { prop_assert!(r.matches(&s)); }
    }

    #[test]
    fn https_paths_round_trip(path in "[a-z0-9/._-]{0,40}") {
        let s = format!("https://example.com/{path}");
        let r = RedirectUri::parse(&s).unwrap();
        prop_assert_eq!(r.as_str(), s.as_str());
        let longer = format!("{}x", s);
        prop_assert!(!r.matches(&longer));
    }

    #[test]
    fn scope_tokens(s in "[!#-\\[\\]-~]{1,50}") {
        prop_assert!(Scope::parse(&s).is_ok());
    }
}

#[test]
fn scopes_default_by_grant_only_when_none_were_named() {
    let scopes = |allowed_scopes: Option<Vec<String>>, grant: &str| {
        let s = ClientSettings::validate(&ClientInput {
            allowed_scopes,
            grant_types: vec![grant.into()],
            redirect_uris: vec!["https://app.example/cb".into()],
            ..input()
        })
        .unwrap();
        s.allowed_scopes
            .iter()
            .map(|s| s.as_str().to_owned())
            .collect::<Vec<_>>()
    };
    // A client for people gets what an OpenID Connect sign-in needs; a machine nothing.
    assert_eq!(scopes(None, "authorization_code"), ["openid", "profile"]);
    assert_eq!(scopes(None, "client_credentials"), Vec::<String>::new());
    // Named, even as nothing, they are kept as named.
    assert_eq!(
        scopes(Some(vec![]), "authorization_code"),
        Vec::<String>::new()
    );
    assert_eq!(
        scopes(Some(vec!["api.read".into()]), "authorization_code"),
        ["api.read"]
    );
}

/// The create body: absent and `null` both mean the default; read-only fields of the client
/// object are accepted and ignored; an unknown field is refused by name.
#[test]
fn input_parses_with_the_defaults() {
    let parse = |v: serde_json::Value| serde_json::from_value::<ClientInput>(v);
    let bare = parse(serde_json::json!({"name": "App"})).unwrap();
    let nulls = parse(serde_json::json!({
        "name": "App", "isActive": null, "grantTypes": null, "requirePkce": null,
        "accessTokenLifetime": null, "idTokenSignedResponseAlg": null, "tokenExchange": null,
        "allowedScopes": null, "jwks": null, "postLogoutRedirectUris": null,
    }))
    .unwrap();
    assert_eq!(bare, nulls);
    assert_eq!(
        bare,
        ClientInput {
            name: "App".into(),
            ..ClientInput::default()
        }
    );
    assert!(bare.is_active && bare.require_pkce && bare.require_consent);
    assert_eq!(bare.grant_types, ["authorization_code", "refresh_token"]);
    assert_eq!(bare.access_token_lifetime, DEFAULT_ACCESS_TOKEN_LIFETIME);

    // A GET answer sent back parses, and names the same settings.
    let c = OAuthClient {
        org_id: crate::OrgId(uuid::Uuid::nil()),
        id: ClientId::parse("app").unwrap(),
        settings: ClientSettings::validate(&input()).unwrap(),
        secrets: vec![],
        created_at: crate::clock::from_millis(0),
        updated_at: crate::clock::from_millis(0),
        tokens_revoked_at: None,
    };
    let back = parse(serde_json::to_value(&c).unwrap()).unwrap();
    assert_eq!(back.id.as_deref(), Some("app"));
    assert_eq!(ClientSettings::validate(&back).unwrap(), c.settings);

    let e = parse(serde_json::json!({"name": "App", "colour": "red"})).unwrap_err();
    assert!(e.to_string().contains("unknown field `colour`"), "{e}");
    let e = parse(serde_json::json!({"name": "App", "isActive": "yes"})).unwrap_err();
    assert!(e.to_string().contains("expected a boolean"), "{e}");
}

/// The type of a client follows what a patch says of it; `null` clears a nullable field;
/// absent fields stay.
#[test]
fn patch_applies_what_it_names() {
    let current = ClientInput {
        description: Some("d".into()),
        userinfo_signed_response_alg: Some("RS256".into()),
        ..input()
    };
    let patch: ClientPatch = serde_json::from_value(serde_json::json!({
        "clientType": "public", "description": null, "isActive": false,
    }))
    .unwrap();
    let after = patch.apply(current.clone());
    assert_eq!(after.is_confidential, Some(false));
    assert_eq!(after.description, None);
    assert!(!after.is_active);
    assert_eq!(after.userinfo_signed_response_alg.as_deref(), Some("RS256"));
    assert_eq!(after.redirect_uris, current.redirect_uris);
    let s = ClientSettings::validate(&after).unwrap();
    assert_eq!(s.token_endpoint_auth_method, TokenAuthMethod::None);

    let patch: ClientPatch =
        serde_json::from_value(serde_json::json!({"tokenEndpointAuthMethod": "none"})).unwrap();
    assert_eq!(patch.apply(current).is_confidential, Some(false));
    assert!(serde_json::from_value::<ClientPatch>(serde_json::json!({"nope": 1})).is_err());
}

#[test]
fn metadata_document_client_ids_are_https_urls_with_a_path() {
    let ok = "https://agent.example.com/oauth/client.json";
    let id = ClientId::metadata_document(ok, false).unwrap();
    assert!(id.is_metadata_document());
    assert!(!ClientId::parse("app").unwrap().is_metadata_document());
    for bad in [
        "http://agent.example.com/client.json",
        "http://127.0.0.1:9/client.json",
        "https://agent.example.com/",
        "https://agent.example.com",
        "https://agent.example.com/a#frag",
        "https://user:pw@agent.example.com/a",
        "https://agent.example.com/a/../b",
        "https://AGENT.example.com/a",
        "ftp://agent.example.com/a",
    ] {
        assert!(ClientId::metadata_document(bad, false).is_err(), "{bad}");
    }
    // Loopback http only with the development setting.
    assert!(ClientId::metadata_document("http://127.0.0.1:9/client.json", true).is_ok());
    assert!(ClientId::metadata_document("http://10.0.0.1/client.json", true).is_err());
    assert!(
        ClientId::metadata_document(&format!("https://a.example/{}", "x".repeat(600)), false)
            .is_err()
    );
}

#[test]
fn the_fapi2_profile_holds_the_client_to_its_rules_and_round_trips() {
    let keys = serde_json::json!({"keys": [{"kty": "OKP", "crv": "Ed25519",
        "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]});
    let fapi = ClientInput {
        name: "Bank".into(),
        redirect_uris: vec!["https://bank.example/cb".into()],
        token_endpoint_auth_method: Some("private_key_jwt".into()),
        jwks: Some(keys),
        id_token_signed_response_alg: "PS256".into(),
        security_profile: Some("fapi2".into()),
        require_pkce: false,
        ..ClientInput::default()
    };
    let s = ClientSettings::validate(&fapi).unwrap();
    assert!(s.require_pkce, "PKCE is on under fapi2");
    assert!(s.security.requires_par() && s.security.requires_dpop());
    assert!(!s.security.require_pushed_authorization_requests);
    let e = ClientSettings::validate(&ClientInput {
        id_token_signed_response_alg: "RS256".into(),
        token_endpoint_auth_method: None,
        jwks: None,
        ..fapi.clone()
    })
    .unwrap_err();
    let fields: Vec<&str> = e.errors.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(
        fields,
        ["tokenEndpointAuthMethod", "idTokenSignedResponseAlg"]
    );
    let e = ClientSettings::validate(&ClientInput {
        security_profile: Some("fapi1".into()),
        backchannel_logout_uri: Some("https://bank.example/bc#frag".into()),
        ..fapi
    })
    .unwrap_err();
    let fields: Vec<&str> = e.errors.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(fields, ["backchannelLogoutUri", "securityProfile"]);
}
