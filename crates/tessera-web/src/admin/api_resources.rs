//! `…/admin/api-resources`: the APIs an organization protects, over REST, and each one's
//! protected-resource metadata (RFC 9728) for its resource server to serve. Request bodies use
//! the resource object's camelCase names; unknown fields are refused.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use http::StatusCode;
use serde::Deserialize;
use tessera_domain::api_resource::{ApiResourceInput, ApiResourceObject};
use utoipa::IntoParams;

use crate::auth::Caller;
use crate::error::ApiResult;
use crate::json::{Json, Query};
use crate::{paths, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(paths::API_RESOURCES, get(list).post(create))
        .route(
            paths::API_RESOURCE,
            get(read).put(replace).patch(patch).delete(remove),
        )
        .route(paths::API_RESOURCE_METADATA, get(metadata))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListParams {
    /// Matches the identifier or the name, case-insensitively.
    q: Option<String>,
    /// Page size, 1 to 200 (default 50).
    limit: Option<u32>,
    /// Resources to skip (default 0).
    offset: Option<u32>,
}

/// `GET …/api-resources?q=&limit=&offset=`: the page as a JSON array, the total in
/// `X-Total-Count`.
#[utoipa::path(
    get,
    path = paths::API_RESOURCES,
    context_path = paths::ADMIN_BASE,
    tag = "api-resources",
    operation_id = "listApiResources",
    params(("org" = String, Path, description = "Organization slug"), ListParams),
    responses(
        (status = 200, description = "One page of resources, newest first", body = Vec<ApiResourceObject>,
            headers(("X-Total-Count" = i64, description = "How many resources match in all"))),
        (status = 400, description = "Bad query parameter", body = crate::openapi::ErrorSchema),
        (status = 401, description = "No or bad API key", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Missing permission (named)", body = crate::openapi::ErrorSchema),
        (status = 404, description = "No such organization", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    Path(org): Path<String>,
    Caller(ctx): Caller,
    Query(p): Query<ListParams>,
) -> ApiResult<Response> {
    let (items, total) = state
        .services
        .list_api_resources(
            &ctx,
            &org,
            p.q,
            p.limit.unwrap_or(50),
            p.offset.unwrap_or(0),
        )
        .await?;
    let objects: Vec<_> = items.iter().map(|r| r.object()).collect();
    Ok(super::clients::page(&objects, total))
}

/// `POST …/api-resources`: 201 with the resource.
#[utoipa::path(
    post,
    path = paths::API_RESOURCES,
    context_path = paths::ADMIN_BASE,
    tag = "api-resources",
    operation_id = "createApiResource",
    params(("org" = String, Path, description = "Organization slug")),
    request_body = ApiResourceInput,
    responses(
        (status = 201, description = "Created", body = ApiResourceObject),
        (status = 400, description = "A rule was broken; `details` names each field", body = crate::openapi::ErrorSchema),
        (status = 409, description = "The identifier is taken in this organization", body = crate::openapi::ErrorSchema),
        (status = 401, description = "No or bad API key", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Missing permission (named)", body = crate::openapi::ErrorSchema),
        (status = 404, description = "No such organization", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    Path(org): Path<String>,
    Caller(ctx): Caller,
    Json(input): Json<ApiResourceInput>,
) -> ApiResult<Response> {
    let r = state
        .services
        .create_api_resource(&ctx, &org, input)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(r.object())).into_response())
}

#[utoipa::path(
    get,
    path = paths::API_RESOURCE,
    context_path = paths::ADMIN_BASE,
    tag = "api-resources",
    operation_id = "getApiResource",
    params(("org" = String, Path, description = "Organization slug"), ("id" = String, Path, description = "The resource's id (a UUID)")),
    responses(
        (status = 200, description = "The resource", body = ApiResourceObject),
        (status = 401, description = "No or bad API key", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Missing permission (named)", body = crate::openapi::ErrorSchema),
        (status = 404, description = "No such organization or resource", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn read(
    State(state): State<AppState>,
    Path((org, id)): Path<(String, String)>,
    Caller(ctx): Caller,
) -> ApiResult<Response> {
    let r = state.services.get_api_resource(&ctx, &org, &id).await?;
    Ok(axum::Json(r.object()).into_response())
}

/// `PUT …/api-resources/{id}`: replace every setting.
#[utoipa::path(
    put,
    path = paths::API_RESOURCE,
    context_path = paths::ADMIN_BASE,
    tag = "api-resources",
    operation_id = "replaceApiResource",
    params(("org" = String, Path, description = "Organization slug"), ("id" = String, Path, description = "The resource's id (a UUID)")),
    request_body = ApiResourceInput,
    responses(
        (status = 200, description = "Replaced", body = ApiResourceObject),
        (status = 400, description = "A rule was broken; `details` names each field", body = crate::openapi::ErrorSchema),
        (status = 409, description = "The identifier is taken in this organization", body = crate::openapi::ErrorSchema),
        (status = 401, description = "No or bad API key", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Missing permission (named)", body = crate::openapi::ErrorSchema),
        (status = 404, description = "No such organization or resource", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn replace(
    State(state): State<AppState>,
    Path((org, id)): Path<(String, String)>,
    Caller(ctx): Caller,
    Json(input): Json<ApiResourceInput>,
) -> ApiResult<Response> {
    let r = state
        .services
        .replace_api_resource(&ctx, &org, &id, input)
        .await?;
    Ok(axum::Json(r.object()).into_response())
}

/// `PATCH …/api-resources/{id}`: a JSON merge patch (RFC 7396) of the resource object; a
/// member set to `null` clears an optional setting.
#[utoipa::path(
    patch,
    path = paths::API_RESOURCE,
    context_path = paths::ADMIN_BASE,
    tag = "api-resources",
    operation_id = "updateApiResource",
    params(("org" = String, Path, description = "Organization slug"), ("id" = String, Path, description = "The resource's id (a UUID)")),
    request_body(content = Object, description = "The members to change, named as in the resource object"),
    responses(
        (status = 200, description = "Updated", body = ApiResourceObject),
        (status = 400, description = "A rule was broken; `details` names each field", body = crate::openapi::ErrorSchema),
        (status = 409, description = "The identifier is taken in this organization", body = crate::openapi::ErrorSchema),
        (status = 401, description = "No or bad API key", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Missing permission (named)", body = crate::openapi::ErrorSchema),
        (status = 404, description = "No such organization or resource", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn patch(
    State(state): State<AppState>,
    Path((org, id)): Path<(String, String)>,
    Caller(ctx): Caller,
    Json(patch): Json<serde_json::Map<String, serde_json::Value>>,
) -> ApiResult<Response> {
    let r = state
        .services
        .patch_api_resource(&ctx, &org, &id, patch)
        .await?;
    Ok(axum::Json(r.object()).into_response())
}

/// `DELETE …/api-resources/{id}`: 204.
#[utoipa::path(
    delete,
    path = paths::API_RESOURCE,
    context_path = paths::ADMIN_BASE,
    tag = "api-resources",
    operation_id = "deleteApiResource",
    params(("org" = String, Path, description = "Organization slug"), ("id" = String, Path, description = "The resource's id (a UUID)")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No or bad API key", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Missing permission (named)", body = crate::openapi::ErrorSchema),
        (status = 404, description = "No such organization or resource", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn remove(
    State(state): State<AppState>,
    Path((org, id)): Path<(String, String)>,
    Caller(ctx): Caller,
) -> ApiResult<StatusCode> {
    state.services.delete_api_resource(&ctx, &org, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET …/api-resources/{id}/metadata`: the RFC 9728 document for the resource server to
/// serve at its `/.well-known/oauth-protected-resource`.
#[utoipa::path(
    get,
    path = paths::API_RESOURCE_METADATA,
    context_path = paths::ADMIN_BASE,
    tag = "api-resources",
    operation_id = "getApiResourceMetadata",
    params(("org" = String, Path, description = "Organization slug"), ("id" = String, Path, description = "The resource's id (a UUID)")),
    responses(
        (status = 200, description = "Protected-resource metadata (RFC 9728 §2): resource, authorization_servers, scopes_supported, bearer_methods_supported, resource_name", body = Object),
        (status = 401, description = "No or bad API key", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Missing permission (named)", body = crate::openapi::ErrorSchema),
        (status = 404, description = "No such organization or resource", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn metadata(
    State(state): State<AppState>,
    Path((org, id)): Path<(String, String)>,
    Caller(ctx): Caller,
) -> ApiResult<Response> {
    let doc = state
        .services
        .api_resource_metadata(&ctx, &org, &id)
        .await?;
    Ok(axum::Json(doc).into_response())
}
