//! `…/admin/webhooks`: an organization's webhook subscriptions over REST, their delivery log
//! and manual redelivery (the secret, `whsec_…`, is in the answer of the create only); and
//! `…/admin/apply`, the configuration document applied over REST.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use http::StatusCode;
use serde::{Deserialize, Serialize};
use tessera_domain::webhook::{DeliveryObject, WebhookInput, WebhookObject};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::error::ApiResult;
use crate::json::{Json, Query};
use crate::{paths, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(paths::WEBHOOKS, get(list).post(create))
        .route(paths::WEBHOOK, get(read).patch(update).delete(remove))
        .route(paths::WEBHOOK_DELIVERIES, get(deliveries))
        .route(paths::WEBHOOK_REDELIVER, post(redeliver))
        .route(paths::APPLY, post(apply))
}

/// The webhook object plus, in the answer of the create, its signing secret.
#[derive(Serialize, ToSchema)]
#[schema(as = WebhookWithSecret)]
pub(crate) struct WithSecret<'a> {
    #[serde(flatten)]
    webhook: WebhookObject<'a>,
    /// `whsec_` + base64 of 32 random bytes: the Standard Webhooks signing key. Shown only
    /// once.
    secret: &'a str,
}

/// `GET …/webhooks`: every subscription, oldest first.
#[utoipa::path(
    get,
    path = paths::WEBHOOKS,
    context_path = paths::ADMIN_BASE,
    tag = "webhooks",
    operation_id = "listWebhooks",
    params(("org" = String, Path, description = "Organization slug")),
    responses(
        (status = 200, description = "The subscriptions", body = Vec<WebhookObject>),
        (status = 401, description = "No or bad API key", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Missing permission (named)", body = crate::openapi::ErrorSchema),
        (status = 404, description = "No such organization", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    Path(org): Path<String>,
    Caller(ctx): Caller,
) -> ApiResult<Response> {
    let hooks = state.services.list_webhooks(&ctx, &org).await?;
    let objects: Vec<_> = hooks.iter().map(|w| w.object()).collect();
    Ok(axum::Json(objects).into_response())
}

/// `POST …/webhooks`: 201 with the subscription and its secret.
#[utoipa::path(
    post,
    path = paths::WEBHOOKS,
    context_path = paths::ADMIN_BASE,
    tag = "webhooks",
    operation_id = "createWebhook",
    params(("org" = String, Path, description = "Organization slug")),
    request_body = WebhookInput,
    responses(
        (status = 201, description = "Created; `secret` is shown only here", body = WithSecret),
        (status = 400, description = "A rule was broken; `details` names each field", body = crate::openapi::ErrorSchema),
        (status = 401, description = "No or bad API key", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Missing permission (named)", body = crate::openapi::ErrorSchema),
        (status = 404, description = "No such organization", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    Path(org): Path<String>,
    Caller(ctx): Caller,
    Json(input): Json<WebhookInput>,
) -> ApiResult<Response> {
    use secrecy::ExposeSecret as _;
    let made = state.services.create_webhook(&ctx, &org, input).await?;
    let body = WithSecret {
        webhook: made.webhook.object(),
        secret: made.secret.expose_secret(),
    };
    Ok((StatusCode::CREATED, axum::Json(body)).into_response())
}

#[utoipa::path(
    get,
    path = paths::WEBHOOK,
    context_path = paths::ADMIN_BASE,
    tag = "webhooks",
    operation_id = "getWebhook",
    params(("org" = String, Path, description = "Organization slug"), ("id" = String, Path, description = "The subscription's id (a UUID)")),
    responses(
        (status = 200, description = "The subscription", body = WebhookObject),
        (status = 401, description = "No or bad API key", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Missing permission (named)", body = crate::openapi::ErrorSchema),
        (status = 404, description = "No such organization or webhook", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn read(
    State(state): State<AppState>,
    Path((org, id)): Path<(String, String)>,
    Caller(ctx): Caller,
) -> ApiResult<Response> {
    let w = state.services.get_webhook(&ctx, &org, &id).await?;
    Ok(axum::Json(w.object()).into_response())
}

/// `PATCH …/webhooks/{id}`: the members sent change (`url`, `events`, `isActive`).
#[utoipa::path(
    patch,
    path = paths::WEBHOOK,
    context_path = paths::ADMIN_BASE,
    tag = "webhooks",
    operation_id = "updateWebhook",
    params(("org" = String, Path, description = "Organization slug"), ("id" = String, Path, description = "The subscription's id (a UUID)")),
    request_body = WebhookInput,
    responses(
        (status = 200, description = "Updated", body = WebhookObject),
        (status = 400, description = "A rule was broken; `details` names each field", body = crate::openapi::ErrorSchema),
        (status = 401, description = "No or bad API key", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Missing permission (named)", body = crate::openapi::ErrorSchema),
        (status = 404, description = "No such organization or webhook", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn update(
    State(state): State<AppState>,
    Path((org, id)): Path<(String, String)>,
    Caller(ctx): Caller,
    Json(input): Json<WebhookInput>,
) -> ApiResult<Response> {
    let w = state
        .services
        .update_webhook(&ctx, &org, &id, input)
        .await?;
    Ok(axum::Json(w.object()).into_response())
}

/// `DELETE …/webhooks/{id}`: 204; its delivery log goes with it.
#[utoipa::path(
    delete,
    path = paths::WEBHOOK,
    context_path = paths::ADMIN_BASE,
    tag = "webhooks",
    operation_id = "deleteWebhook",
    params(("org" = String, Path, description = "Organization slug"), ("id" = String, Path, description = "The subscription's id (a UUID)")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No or bad API key", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Missing permission (named)", body = crate::openapi::ErrorSchema),
        (status = 404, description = "No such organization or webhook", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn remove(
    State(state): State<AppState>,
    Path((org, id)): Path<(String, String)>,
    Caller(ctx): Caller,
) -> ApiResult<StatusCode> {
    state.services.delete_webhook(&ctx, &org, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct PageParams {
    /// Page size, 1 to 200 (default 50).
    limit: Option<u32>,
    /// Deliveries to skip (default 0).
    offset: Option<u32>,
}

/// `GET …/webhooks/{id}/deliveries`: the delivery log, newest first.
#[utoipa::path(
    get,
    path = paths::WEBHOOK_DELIVERIES,
    context_path = paths::ADMIN_BASE,
    tag = "webhooks",
    operation_id = "listWebhookDeliveries",
    params(("org" = String, Path, description = "Organization slug"), ("id" = String, Path, description = "The subscription's id (a UUID)"), PageParams),
    responses(
        (status = 200, description = "One page of deliveries, newest first", body = Vec<DeliveryObject>),
        (status = 400, description = "Bad query parameter", body = crate::openapi::ErrorSchema),
        (status = 401, description = "No or bad API key", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Missing permission (named)", body = crate::openapi::ErrorSchema),
        (status = 404, description = "No such organization or webhook", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn deliveries(
    State(state): State<AppState>,
    Path((org, id)): Path<(String, String)>,
    Caller(ctx): Caller,
    Query(p): Query<PageParams>,
) -> ApiResult<Response> {
    let items = state
        .services
        .list_webhook_deliveries(
            &ctx,
            &org,
            &id,
            p.limit.unwrap_or(50),
            p.offset.unwrap_or(0),
        )
        .await?;
    let objects: Vec<_> = items.iter().map(|d| d.object()).collect();
    Ok(axum::Json(objects).into_response())
}

/// `POST …/webhooks/{id}/deliveries/{delivery_id}/redeliver`: 202; sent again at once with
/// the same `webhook-id`.
#[utoipa::path(
    post,
    path = paths::WEBHOOK_REDELIVER,
    context_path = paths::ADMIN_BASE,
    tag = "webhooks",
    operation_id = "redeliverWebhookDelivery",
    params(("org" = String, Path, description = "Organization slug"), ("id" = String, Path, description = "The subscription's id (a UUID)"), ("delivery_id" = String, Path, description = "The delivery's id (a UUID)")),
    responses(
        (status = 202, description = "Queued; the delivery as it stands", body = DeliveryObject),
        (status = 401, description = "No or bad API key", body = crate::openapi::ErrorSchema),
        (status = 403, description = "Missing permission (named)", body = crate::openapi::ErrorSchema),
        (status = 404, description = "No such organization, webhook or delivery", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn redeliver(
    State(state): State<AppState>,
    Path((org, id, delivery)): Path<(String, String, String)>,
    Caller(ctx): Caller,
) -> ApiResult<Response> {
    let d = state
        .services
        .redeliver_webhook_delivery(&ctx, &org, &id, &delivery)
        .await?;
    Ok((StatusCode::ACCEPTED, axum::Json(d.object())).into_response())
}

/// The body of `POST …/apply`: the configuration document (as `tessera apply` reads it, in
/// JSON) with two switches.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ApplyBody {
    /// Plan only: answer the changes and make none.
    #[serde(default)]
    dry_run: bool,
    /// Also delete the clients, API resources and webhooks the document no longer names.
    #[serde(default)]
    prune: bool,
    /// The document: `version` (1) and `organizations` (this organization only).
    #[serde(flatten)]
    #[schema(value_type = Object)]
    document: serde_json::Map<String, serde_json::Value>,
}

/// `POST …/apply`: configuration as code for pipelines without a shell on the server. Every
/// bad item is named by its path and nothing is applied; every permission the plan needs is
/// checked before the first change.
#[utoipa::path(
    post,
    path = paths::APPLY,
    context_path = paths::ADMIN_BASE,
    tag = "automation",
    operation_id = "applyConfiguration",
    params(("org" = String, Path, description = "Organization slug")),
    request_body = ApplyBody,
    responses(
        (status = 200, description = "The plan (`dryRun`) or what was done: `changes`, `unchanged`, and the `secrets` of what was created (shown once)", body = Object),
        (status = 400, description = "The document is refused; `details` names each bad item by its path", body = crate::openapi::ErrorSchema),
        (status = 401, description = "No or bad API key", body = crate::openapi::ErrorSchema),
        (status = 403, description = "A permission the plan needs is missing (named)", body = crate::openapi::ErrorSchema),
        (status = 404, description = "No such organization", body = crate::openapi::ErrorSchema)
    )
)]
pub(crate) async fn apply(
    State(state): State<AppState>,
    Path(org): Path<String>,
    Caller(ctx): Caller,
    Json(body): Json<ApplyBody>,
) -> ApiResult<Response> {
    // The organization must exist and be the caller's before the document is even read.
    state.services.get_org(&ctx, &org, None).await?;
    let doc = serde_json::Value::Object(body.document);
    let outcome = state
        .services
        .apply_configuration(&ctx, &doc, body.dry_run, body.prune, Some(&org), None)
        .await?;
    Ok(axum::Json(outcome).into_response())
}
