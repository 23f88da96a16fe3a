//! The JSON Schema (2020-12) of the configuration document `tessera apply` reads and
//! `tessera export` writes, committed as `docs/tessera-config.schema.json`. Its items are the
//! request schemas of the OpenAPI document (OpenAPI 3.1 schemas are JSON Schema), so the file
//! and the API cannot drift apart; a test holds the committed copy to the code
//! (`TESSERA_UPDATE_OPENAPI=1` rewrites it).

use serde_json::{json, Value};

/// The schemas of the OpenAPI document an item of the file uses, and what they reference.
const USED: &[&str] = &[
    "OauthClientInput",
    "ApiResourceInput",
    "ApiResourceScopeInput",
    "RegistrationPolicy",
    "WebhookInput",
    "TokenExchangePolicy",
    "ClientType",
];

/// `#/components/schemas/X` → `#/$defs/X`, everywhere in `v`.
fn rebase(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get_mut("$ref") {
                *r = r.replace("#/components/schemas/", "#/$defs/");
            }
            m.values_mut().for_each(rebase);
        }
        Value::Array(items) => items.iter_mut().for_each(rebase),
        _ => {}
    }
}

/// The schema, as committed (sorted keys, pretty, a final newline).
pub fn document() -> String {
    let api: Value = serde_json::from_str(&super::document()).unwrap_or_default();
    let components = &api["components"]["schemas"];
    let mut defs = serde_json::Map::new();
    for name in USED {
        if let Some(s) = components.get(*name) {
            defs.insert((*name).to_owned(), s.clone());
        }
    }
    // The client input, with `secretFrom` instead of `secret` (never in a file) and its id
    // required (it names the client from one run to the next).
    let mut client = components
        .get("OauthClientInput")
        .cloned()
        .unwrap_or_else(|| json!({"type": "object"}));
    if let Some(props) = client.get_mut("properties").and_then(Value::as_object_mut) {
        props.remove("secret");
        props.insert(
            "secretFrom".into(),
            json!({
                "description": "Only when the client is created: its secret from an environment variable or a file (relative to the configuration file), read by tessera apply. Absent: a secret is generated and printed once.",
                "oneOf": [
                    {"type": "object", "properties": {"env": {"type": "string"}}, "required": ["env"], "additionalProperties": false},
                    {"type": "object", "properties": {"file": {"type": "string"}}, "required": ["file"], "additionalProperties": false}
                ]
            }),
        );
    }
    client["required"] = json!(["clientId", "name"]);
    client["description"] = json!("An OAuth client, named by its clientId from one run to the next: every field of the REST client input, and never a secret.");
    defs.insert("Client".into(), client);
    defs.insert(
        "Role".into(),
        json!({
            "description": "A custom role: its permissions are fixed once defined.",
            "type": "object",
            "additionalProperties": false,
            "required": ["name", "permissions"],
            "properties": {
                "name": {"type": "string", "pattern": "^[a-z0-9_.-]{1,63}$"},
                "permissions": {"type": "array", "minItems": 1, "items": {"type": "string", "description": "A permission (oauth-clients:read) or a wildcard (users:*)"}}
            }
        }),
    );
    defs.insert(
        "Webhook".into(),
        {
            let mut w = components
                .get("WebhookInput")
                .cloned()
                .unwrap_or_else(|| json!({"type": "object"}));
            w["required"] = json!(["url"]);
            w["description"] = json!("A webhook subscription, named by its URL. Its signing secret is generated and printed once.");
            w
        },
    );
    defs.insert(
        "Organization".into(),
        json!({
            "type": "object",
            "additionalProperties": false,
            "required": ["slug"],
            "properties": {
                "slug": {"type": "string", "description": "Created when missing (system administrators only)"},
                "name": {"type": "string"},
                "clients": {"type": "array", "items": {"$ref": "#/$defs/Client"}},
                "apiResources": {"type": "array", "items": {"$ref": "#/$defs/ApiResourceInput"}},
                "roles": {"type": "array", "items": {"$ref": "#/$defs/Role"}},
                "registrationPolicy": {"$ref": "#/$defs/RegistrationPolicy"},
                "webhooks": {"type": "array", "items": {"$ref": "#/$defs/Webhook"}}
            }
        }),
    );
    let mut schema = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Tessera configuration (tessera apply -f FILE, tessera export, POST …/admin/apply)",
        "description": "Organizations and, in each, what tessera apply makes so. YAML, TOML or JSON. docs/automation.md explains each part.",
        "type": "object",
        "additionalProperties": false,
        "required": ["organizations"],
        "properties": {
            "version": {"const": 1},
            "organizations": {"type": "array", "items": {"$ref": "#/$defs/Organization"}}
        },
        "$defs": Value::Object(defs),
    });
    rebase(&mut schema);
    let mut s = serde_json::to_string_pretty(&super::sorted(schema)).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn committed_schema_matches_the_code() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../docs/tessera-config.schema.json");
        let generated = super::document();
        if std::env::var("TESSERA_UPDATE_OPENAPI").as_deref() == Ok("1") {
            std::fs::write(&path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "docs/tessera-config.schema.json is out of date: run TESSERA_UPDATE_OPENAPI=1 cargo test -p tessera-web openapi"
        );
        // Every schema an item refers to is there.
        let v: serde_json::Value = serde_json::from_str(&generated).unwrap();
        for name in super::USED {
            assert!(v["$defs"].get(*name).is_some(), "{name} missing");
        }
        assert!(
            !generated.contains("#/components/"),
            "a reference was not rebased"
        );
    }
}
