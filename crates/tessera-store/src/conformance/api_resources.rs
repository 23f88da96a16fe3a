//! Conformance: API resources.

use super::*;
use crate::ApiResourceQuery;
use tessera_domain::api_resource::{
    AllowedClients, ApiResource, ApiResourceId, ApiResourceInput, ApiResourceSettings,
};

fn resource(org: OrgId, identifier: &str, name: &str, ms: i64) -> ApiResource {
    let input: ApiResourceInput = serde_json::from_value(json!({
        "identifier": identifier,
        "name": name,
        "description": "An API",
        "scopes": [{"name": "tools.read", "description": "Read tools"}, {"name": "tools.write"}],
        "accessTokenLifetime": 600,
        "accessTokenSignedResponseAlg": "EdDSA",
        "allowedClients": ["agent", "cli"]
    }))
    .unwrap();
    ApiResource {
        org_id: org,
        id: ApiResourceId(Uuid::new_v4()),
        settings: ApiResourceSettings::validate(&input).unwrap(),
        created_at: t(ms),
        updated_at: t(ms),
    }
}

pub async fn api_resources(store: &dyn Store) {
    let a = org("conf-resources-a");
    let b = org("conf-resources-b");
    let mcp = resource(a.id, "https://mcp.example.com/mcp", "MCP server", 1_000);
    let billing = resource(a.id, "urn:example:billing", "Billing API", 2_000);
    let mut tx = store.begin().await.unwrap();
    tx.insert_org(&a).await.unwrap();
    tx.insert_org(&b).await.unwrap();
    tx.insert_api_resource(&mcp).await.unwrap();
    tx.insert_api_resource(&billing).await.unwrap();
    // The same identifier in another organization is another resource.
    tx.insert_api_resource(&resource(b.id, "https://mcp.example.com/mcp", "B's", 3_000))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.begin().await.unwrap();
    let dup = tx
        .insert_api_resource(&resource(
            a.id,
            "https://mcp.example.com/mcp",
            "Again",
            4_000,
        ))
        .await
        .unwrap_err();
    assert!(matches!(dup, StoreError::Conflict { .. }), "{dup:?}");
    drop(tx);

    let mut tx = store.read().await.unwrap();
    assert_eq!(
        tx.find_api_resource(a.id, mcp.id).await.unwrap().as_ref(),
        Some(&mcp),
        "every field round-trips"
    );
    assert_eq!(tx.find_api_resource(b.id, mcp.id).await.unwrap(), None);
    assert_eq!(
        tx.find_api_resource_by_identifier(a.id, "urn:example:billing")
            .await
            .unwrap()
            .map(|r| r.id),
        Some(billing.id)
    );
    assert_eq!(
        tx.find_api_resource_by_identifier(a.id, "urn:example:nothing")
            .await
            .unwrap(),
        None
    );
    let page = |q: Option<&str>| ApiResourceQuery {
        q: q.map(str::to_owned),
        limit: 10,
        offset: 0,
    };
    let (all, total) = tx.list_api_resources(a.id, &page(None)).await.unwrap();
    assert_eq!(total, 2);
    assert_eq!(
        all.iter().map(|r| r.id).collect::<Vec<_>>(),
        [billing.id, mcp.id],
        "newest first"
    );
    let (found, total) = tx
        .list_api_resources(a.id, &page(Some("MCP")))
        .await
        .unwrap();
    assert_eq!((found.len(), total), (1, 1));
    let (found, _) = tx
        .list_api_resources(a.id, &page(Some("example:bill")))
        .await
        .unwrap();
    assert_eq!(found[0].id, billing.id, "the identifier matches too");
    drop(tx);

    let mut changed = mcp.clone();
    changed.settings.name = "Renamed".into();
    changed.settings.allowed_clients = AllowedClients::All;
    changed.settings.access_token_lifetime = None;
    changed.settings.access_token_signed_response_alg = None;
    changed.updated_at = t(9_000);
    let mut tx = store.begin().await.unwrap();
    assert!(tx.update_api_resource(&changed).await.unwrap());
    let mut elsewhere = changed.clone();
    elsewhere.org_id = b.id;
    assert!(
        !tx.update_api_resource(&elsewhere).await.unwrap(),
        "not across organizations"
    );
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    assert_eq!(
        tx.find_api_resource(a.id, mcp.id).await.unwrap().as_ref(),
        Some(&changed)
    );
    assert!(!tx.delete_api_resource(b.id, mcp.id).await.unwrap());
    assert!(tx.delete_api_resource(a.id, mcp.id).await.unwrap());
    assert!(!tx.delete_api_resource(a.id, mcp.id).await.unwrap());
    tx.commit().await.unwrap();
    let mut tx = store.read().await.unwrap();
    assert_eq!(tx.find_api_resource(a.id, mcp.id).await.unwrap(), None);
}
