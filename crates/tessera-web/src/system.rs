//! System-wide administration under `/api/v1/system`: organizations. Only system
//! administrators (system-wide API keys) may use it; the service layer enforces that.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use http::StatusCode;
use serde::Deserialize;

use crate::auth::Caller;
use crate::error::ApiResult;
use crate::json::Json;
use crate::{paths, AppState};

pub fn router() -> Router<AppState> {
    Router::new().route(paths::ORGANIZATIONS, get(list_orgs).post(create_org))
}

#[utoipa::path(
    get,
    path = paths::ORGANIZATIONS,
    context_path = paths::SYSTEM_BASE,
    tag = "system",
    operation_id = "listOrganizations",
    responses(
        (status = 200, description = "Every organization for a system administrator; otherwise the caller's own", body = Vec<crate::openapi::OrganizationSchema>),
        (status = 401, description = "No or bad API key", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn list_orgs(
    State(state): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Response> {
    Ok(axum::Json(state.services.list_orgs(&ctx).await?).into_response())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateOrg {
    /// `[a-z0-9][a-z0-9-]{1,62}`, e.g. `acme-corp`.
    slug: String,
    /// Display name (defaults to the slug).
    name: Option<String>,
}

#[utoipa::path(
    post,
    path = paths::ORGANIZATIONS,
    context_path = paths::SYSTEM_BASE,
    tag = "system",
    operation_id = "createOrganization",
    request_body = CreateOrg,
    responses(
        (status = 201, description = "Created", body = crate::openapi::OrganizationSchema),
        (status = 400, description = "Bad slug or name", body = crate::openapi::ErrorSchema),
        (status = 401, description = "No or bad API key", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Not a system administrator", body = crate::openapi::ErrorSchema),
        (status = 409, description = "The slug exists", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn create_org(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Json(body): Json<CreateOrg>,
) -> ApiResult<Response> {
    let org = state
        .services
        .create_org(&ctx, &body.slug, body.name.as_deref())
        .await?;
    Ok((StatusCode::CREATED, axum::Json(org)).into_response())
}
