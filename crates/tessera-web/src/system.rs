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

async fn list_orgs(State(state): State<AppState>, Caller(ctx): Caller) -> ApiResult<Response> {
    Ok(axum::Json(state.services.list_orgs(&ctx).await?).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateOrg {
    slug: String,
    name: Option<String>,
}

async fn create_org(
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
