//! The committed document against the code, and the schema mirrors against the real
//! serialisation of the objects they describe.

use super::*;
use std::collections::BTreeSet;

fn committed_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/api/openapi.json")
}

#[test]
fn committed_document_matches_the_code() {
    let generated = document();
    let path = committed_path();
    if std::env::var("TESSERA_UPDATE_OPENAPI").as_deref() == Ok("1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/api/openapi.json is out of date: run TESSERA_UPDATE_OPENAPI=1 cargo test -p tessera-web openapi"
    );
}

fn keys(v: &serde_json::Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

fn schema_props(name: &str) -> BTreeSet<String> {
    let doc: serde_json::Value = serde_json::from_str(&document()).unwrap();
    keys(&doc["components"]["schemas"][name]["properties"])
}

fn schema(name: &str) -> serde_json::Value {
    let doc: serde_json::Value = serde_json::from_str(&document()).unwrap();
    doc["components"]["schemas"][name].clone()
}

fn required(name: &str) -> BTreeSet<String> {
    schema(name)["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

fn enum_values(name: &str) -> BTreeSet<String> {
    schema(name)["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

fn wire(v: impl serde::Serialize) -> String {
    serde_json::to_value(v)
        .unwrap()
        .as_str()
        .unwrap()
        .to_owned()
}

/// A connected object has every property; one without a connection has the required ones.
fn check_flattened(name: &str, with: serde_json::Value, without: serde_json::Value) {
    assert_eq!(keys(&with), schema_props(name), "{name} with a connection");
    assert_eq!(
        keys(&without),
        required(name),
        "{name} without a connection"
    );
}

/// Every property is always there (null or not), so every one is required.
fn check_exact(name: &str, v: impl serde::Serialize) {
    let k = keys(&serde_json::to_value(v).unwrap());
    assert_eq!(k, schema_props(name), "{name}: properties");
    assert_eq!(k, required(name), "{name}: required");
}

#[test]
fn connection_schemas_describe_the_real_objects() {
    use tessera_core::connections::*;
    use tessera_domain::{clock, CardState, ConnectionKind, IntegrationKind, Platform};
    let t = clock::from_millis(0);
    let view = ConnectionView {
        channel_name: "c".into(),
        channel_id: "1".into(),
        scopes: vec![],
        missing_scopes: vec![],
        connected_at: t,
        updated_at: t,
        token_expires_at: None,
        refresh_failed: false,
        refresh: RefreshHealth {
            status: "ok",
            last_refreshed_at: None,
            next_refresh_at: None,
            failed_at: None,
            error: None,
            attempts: 0,
        },
    };
    check_exact("RefreshHealth", &view.refresh);
    let card = |connection| ConnectionCard {
        platform: Platform::Twitch,
        name: "Twitch",
        state: CardState::Connected,
        message: "Connected",
        enabled: true,
        credentials_configured: true,
        default_scopes: vec![],
        connection,
    };
    check_flattened(
        "ConnectionCard",
        serde_json::to_value(card(Some(view.clone()))).unwrap(),
        serde_json::to_value(card(None)).unwrap(),
    );
    let bot = |connection| BotConnectionView {
        platform: "kick",
        name: "Kick",
        mode: "global",
        enabled: true,
        credentials_configured: false,
        bot_name: "TesseraBot".into(),
        bot_id: None,
        connection,
    };
    check_flattened(
        "BotConnection",
        serde_json::to_value(bot(Some(view.clone()))).unwrap(),
        serde_json::to_value(bot(None)).unwrap(),
    );
    let cred = CredentialView {
        platform: Platform::Youtube,
        name: "YouTube",
        configured: false,
        client_id_hint: None,
        redirect_uri: "https://id.example/cb".into(),
        created_at: None,
        updated_at: None,
    };
    check_exact("AppCredentials", &cred);
    let token = FreshToken {
        platform: Platform::Twitch,
        kind: ConnectionKind::Bot,
        access_token: "a".into(),
        token_type: "bearer",
        expires_at: None,
        scopes: vec![],
        channel_id: "1".into(),
        channel_name: "c".into(),
        client_id: "id".into(),
    };
    check_exact("FreshToken", &token);
    let integration = IntegrationView {
        id: "i".into(),
        kind: IntegrationKind::Obs,
        label: "OBS Studio".into(),
        host: "127.0.0.1".into(),
        port: 4455,
        endpoint: "/".into(),
        remote_access: false,
        enabled: true,
        has_password: false,
        created_at: t,
        updated_at: t,
    };
    check_exact("Integration", &integration);
    let se = SeTokenView {
        id: "s".into(),
        platform: Platform::Trovo,
        label: None,
        hint: "…abcd".into(),
        created_at: t,
    };
    check_exact("StreamElementsToken", &se);
    let provider = ProviderView {
        platform: Platform::Twitch,
        name: "Twitch",
        enabled: true,
        authorize_url: "a".into(),
        token_url: "t".into(),
        revoke_url: None,
        api_url: "u".into(),
        validate_url: None,
        scopes: vec![],
        pkce: "none",
    };
    check_exact("Provider", &provider);

    let platforms: BTreeSet<_> = Platform::ALL.into_iter().map(wire).collect();
    assert_eq!(platforms, enum_values("Platform"));
    let states: BTreeSet<_> = [
        CardState::Unavailable,
        CardState::NotConfigured,
        CardState::CredentialsConfigured,
        CardState::Connected,
    ]
    .into_iter()
    .map(wire)
    .collect();
    assert_eq!(states, enum_values("CardState"));
    let kinds: BTreeSet<_> = [ConnectionKind::Channel, ConnectionKind::Bot]
        .into_iter()
        .map(wire)
        .collect();
    assert_eq!(kinds, enum_values("ConnectionKind"));
    let types: BTreeSet<_> = [IntegrationKind::StreamerBot, IntegrationKind::Obs]
        .into_iter()
        .map(wire)
        .collect();
    assert_eq!(types, enum_values("IntegrationType"));
}

/// Every route that `connections::router()` and `system_router()` serve is documented,
/// with every method.
#[test]
fn every_connections_route_is_documented() {
    let doc: serde_json::Value = serde_json::from_str(&document()).unwrap();
    let org = [
        ("get", "/connections"),
        ("get", "/connections/credentials"),
        ("put", "/connections/credentials/{platform}"),
        ("delete", "/connections/credentials/{platform}"),
        ("delete", "/connections/{platform}"),
        ("post", "/connections/{platform}/authorize"),
        ("get", "/connections/{platform}/callback"),
        ("get", "/connections/{platform}/token"),
        ("get", "/integrations"),
        ("post", "/integrations"),
        ("patch", "/integrations/{id}"),
        ("delete", "/integrations/{id}"),
        ("post", "/integrations/{id}/test"),
        ("get", "/streamelements-tokens"),
        ("post", "/streamelements-tokens"),
        ("delete", "/streamelements-tokens/{id}"),
        ("get", "/bot-connections"),
        ("post", "/bot-connections/{platform}/authorize"),
        ("delete", "/bot-connections/{platform}"),
    ]
    .map(|(m, p)| (m, format!("{}{p}", crate::paths::ORG_API_BASE)));
    let system = [("get", "/providers"), ("patch", "/providers/{platform}")]
        .map(|(m, p)| (m, format!("{}{p}", crate::paths::SYSTEM_BASE)));
    for (method, path) in org.iter().chain(system.iter()) {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} is not in the document"
        );
    }
}

#[test]
fn client_schema_describes_the_real_client_object() {
    use tessera_domain::client::*;
    let c = OAuthClient {
        org_id: tessera_domain::OrgId(uuid::Uuid::nil()),
        id: ClientId::generate(),
        settings: ClientSettings::validate(&ClientInput {
            name: "x".into(),
            redirect_uris: vec!["https://a.example/cb".into()],
            ..ClientInput::default()
        })
        .unwrap(),
        secrets: vec![],
        created_at: tessera_domain::clock::from_millis(0),
        updated_at: tessera_domain::clock::from_millis(0),
        tokens_revoked_at: None,
    };
    assert_eq!(
        keys(&serde_json::to_value(&c).unwrap()),
        schema_props("OauthClient")
    );
}

#[test]
fn other_schemas_describe_the_real_objects() {
    use tessera_domain::*;
    let key = ApiKey {
        id: ApiKeyId(uuid::Uuid::nil()),
        org_id: None,
        name: ApiKeyName::parse("k").unwrap(),
        hint: "…abcd".into(),
        roles: vec![],
        permissions: PermissionSet::EMPTY,
        created_at: clock::from_millis(0),
        last_used_at: None,
        revoked_at: None,
    };
    assert_eq!(
        keys(&serde_json::to_value(&key).unwrap()),
        schema_props("ApiKey")
    );
    let user = User {
        id: UserId(uuid::Uuid::nil()),
        org_id: OrgId(uuid::Uuid::nil()),
        username: Username::parse("u").unwrap(),
        email: None,
        name: None,
        profile: Default::default(),
        roles: vec![],
        is_system_admin: false,
        is_active: true,
        created_at: clock::from_millis(0),
        updated_at: clock::from_millis(0),
    };
    assert_eq!(
        keys(&serde_json::to_value(&user).unwrap()),
        schema_props("User")
    );
    let ev = AuditEvent {
        id: 1,
        org_id: None,
        actor: Actor {
            kind: "cli".into(),
            id: None,
            name: "cli".into(),
        },
        action: "x".into(),
        target_type: "x".into(),
        target_id: None,
        ip: None,
        request_id: None,
        before: None,
        after: None,
        created_at: clock::from_millis(0),
    };
    assert_eq!(
        keys(&serde_json::to_value(&ev).unwrap()),
        schema_props("AuditEvent")
    );
    let org = Organization {
        id: OrgId(uuid::Uuid::nil()),
        slug: OrgSlug::parse("ab").unwrap(),
        name: "A".into(),
        created_at: clock::from_millis(0),
        updated_at: clock::from_millis(0),
    };
    assert_eq!(
        keys(&serde_json::to_value(&org).unwrap()),
        schema_props("Organization")
    );
}
