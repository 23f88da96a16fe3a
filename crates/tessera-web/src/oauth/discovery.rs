//! Discovery metadata (OIDC Discovery 1.0 and RFC 8414, both paths) and the JWKS.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use http::{header, HeaderValue};
use serde_json::{json, Value};
use tessera_core::oauth::TokenRequest;
use tessera_core::tokens::OAuthError;

use super::ProtocolResult;
use crate::AppState;

/// What the authorization server implements, for both discovery documents.
fn metadata(issuer: &str) -> Value {
    let auth_methods = json!([
        "client_secret_basic",
        "client_secret_post",
        "client_secret_jwt",
        "private_key_jwt"
    ]);
    let all_methods = json!([
        "client_secret_basic",
        "client_secret_post",
        "client_secret_jwt",
        "private_key_jwt",
        "none"
    ]);
    // RFC 8414 §2: the algorithms of private_key_jwt assertions (never `none`), and the HMACs
    // of client_secret_jwt ones.
    let assertion_algs: Vec<&str> = tessera_core::assertion::signing_algs();
    let auth_algs: Vec<&str> = assertion_algs
        .iter()
        .copied()
        .chain(tessera_core::assertion::HMAC_ALGS)
        .collect();
    json!({
        "issuer": issuer,
        "token_endpoint": format!("{issuer}/api/v1/oauth/token"),
        "jwks_uri": format!("{issuer}/api/v1/oauth/jwks"),
        "introspection_endpoint": format!("{issuer}/api/v1/oauth/introspect"),
        "revocation_endpoint": format!("{issuer}/api/v1/oauth/revoke"),
        "authorization_endpoint": format!("{issuer}/api/v1/oauth/authorize"),
        "userinfo_endpoint": format!("{issuer}/api/v1/oauth/userinfo"),
        "end_session_endpoint": format!("{issuer}/api/v1/oauth/end_session"),
        "device_authorization_endpoint": format!("{issuer}/api/v1/oauth/device_authorization"),
        "registration_endpoint": format!("{issuer}/api/v1/connect/register"),
        "grant_types_supported": TokenRequest::GRANT_TYPES,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "form_post"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": true,
        "scopes_supported": ["openid", "profile", "email", "address", "phone", "roles", "offline_access"],
        "claims_supported": [
            "sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "azp", "at_hash", "acr",
            "amr", "sid", "roles",
            "name", "given_name", "family_name", "middle_name", "nickname", "preferred_username",
            "profile", "picture", "website", "gender", "birthdate", "zoneinfo", "locale",
            "updated_at", "email", "email_verified", "address", "phone_number",
            "phone_number_verified",
        ],
        "prompt_values_supported": ["none", "login", "consent"],
        "acr_values_supported": [tessera_core::authorize::ACR_PASSWORD],
        "token_endpoint_auth_methods_supported": all_methods,
        "token_endpoint_auth_signing_alg_values_supported": auth_algs,
        "introspection_endpoint_auth_methods_supported": auth_methods,
        "introspection_endpoint_auth_signing_alg_values_supported": auth_algs,
        "revocation_endpoint_auth_methods_supported": all_methods,
        "revocation_endpoint_auth_signing_alg_values_supported": auth_algs,
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256", "ES256", "PS256", "EdDSA"],
        "userinfo_signing_alg_values_supported": ["RS256", "ES256", "PS256", "EdDSA"],
        "claims_parameter_supported": true,
        // Signed request objects by value and by reference (OIDC Core §6, RFC 9101), with
        // the algorithms of client assertions; `none` is not among them: unsigned objects
        // are refused.
        "request_parameter_supported": true,
        "request_uri_parameter_supported": true,
        "require_request_uri_registration": false,
        "request_object_signing_alg_values_supported": assertion_algs,
        // RFC 9126 §5; `require_pushed_authorization_requests` is the organization's.
        "pushed_authorization_request_endpoint": format!("{issuer}/api/v1/oauth/par"),
        // RFC 9449 §5.1.
        "dpop_signing_alg_values_supported": tessera_core::dpop::signing_algs(),
        // OpenID Connect Back-Channel Logout 1.0 §2.1.
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
    })
}

async fn discovery(state: &AppState, org: &str) -> ProtocolResult<Response> {
    let org = state.services.protocol_org(org).await?;
    let issuer = state.services.issuer(&org.slug);
    let mut doc = metadata(&issuer);
    // draft-ietf-oauth-client-id-metadata-document §4: advertised when the organization's
    // registration policy accepts such client ids.
    let (metadata_documents, require_par) = state.services.discovery_switches(org.id).await?;
    doc["client_id_metadata_document_supported"] = json!(metadata_documents);
    // RFC 9126 §5: true when the organization requires PAR of every client.
    doc["require_pushed_authorization_requests"] = json!(require_par);
    let mut res = Json(doc).into_response();
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    Ok(res)
}

/// `GET /orgs/{org}/.well-known/openid-configuration` (OIDC Discovery 1.0 §4).
pub(super) async fn openid_configuration(
    State(state): State<AppState>,
    Path(org): Path<String>,
) -> ProtocolResult<Response> {
    discovery(&state, &org).await
}

/// `GET /.well-known/oauth-authorization-server/orgs/{org}` (RFC 8414 §3) and the same under
/// the organization's own path.
pub(super) async fn as_metadata(
    State(state): State<AppState>,
    Path(org): Path<String>,
) -> ProtocolResult<Response> {
    discovery(&state, &org).await
}

/// `GET …/oauth/jwks`: the published keys (RFC 7517 §5).
pub(super) async fn jwks(
    State(state): State<AppState>,
    Path(org): Path<String>,
) -> ProtocolResult<Response> {
    let org = state.services.protocol_org(&org).await?;
    let keys = state.services.jwks(&org).await.map_err(OAuthError::from)?;
    let mut res = Json(keys).into_response();
    // Short, so that a rotation reaches relying parties soon.
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=60"),
    );
    Ok(res)
}
