//! The Webhooks page: the organization's subscriptions (URL, events, status), created in a
//! dialog whose secret is shown once, turned on and off, deleted with a confirmation; and each
//! one's delivery log with Redeliver. The same services as REST.

use axum::body::Bytes;
use axum::extract::{Path, State};
use http::StatusCode;
use secrecy::ExposeSecret as _;
use tessera_core::console::ConsoleCaller;
use tessera_core::CoreError;
use tessera_domain::webhook::WebhookInput;
use tessera_domain::Permission;

use super::forms::{FieldErrors, Form};
use super::views::{
    when, when_opt, Layout, Revealed, WebhookDeliveriesPage, WebhookDeliveryRow, WebhookForm,
    WebhookRow, WebhooksPage,
};
use super::{redirect, render, Console, PageResult};
use crate::AppState;

#[derive(Debug, Default, serde::Deserialize)]
pub struct PageQuery {
    create: Option<String>,
    done: Option<String>,
}

/// `GET /webhooks` (`?create=1` opens the dialog).
pub async fn list(
    State(state): State<AppState>,
    Console(c): Console,
    super::Query(q): super::Query<PageQuery>,
) -> PageResult {
    let form = WebhookForm {
        open: q.create.is_some(),
        ..WebhookForm::default()
    };
    let notice = match q.done.as_deref() {
        Some("deleted") => Some("The webhook is deleted.".to_owned()),
        Some("enabled") => Some("The webhook is enabled.".to_owned()),
        Some("disabled") => Some("The webhook is disabled.".to_owned()),
        _ => None,
    };
    page(&state, &c, form, None, notice, StatusCode::OK).await
}

async fn page(
    state: &AppState,
    c: &ConsoleCaller,
    form: WebhookForm,
    revealed: Option<Revealed>,
    notice: Option<String>,
    status: StatusCode,
) -> PageResult {
    let hooks = state
        .services
        .list_webhooks(&c.ctx, c.org.slug.as_str())
        .await?;
    let rows = hooks
        .iter()
        .map(|w| WebhookRow {
            id: w.id.to_string(),
            url: w.url.as_str().to_owned(),
            events: if w.events.is_empty() {
                "All events".to_owned()
            } else {
                w.events
                    .iter()
                    .map(|e| e.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            },
            active: w.is_active,
            created: when(&w.created_at),
        })
        .collect();
    let page = WebhooksPage {
        l: Layout::new(c, "Webhooks", "/webhooks").with_notice(notice),
        rows,
        can_edit: c.can(Permission::WebhooksEdit),
        create: form,
        revealed,
    };
    Ok(render(status, &page))
}

/// `POST /webhooks`: the Create Webhook dialog; the secret is shown once.
pub async fn create(State(state): State<AppState>, Console(c): Console, body: Bytes) -> PageResult {
    let f = Form::parse(&body);
    let input = WebhookInput {
        url: Some(f.text("url")),
        events: Some(f.words("events")),
        is_active: None,
    };
    match state
        .services
        .create_webhook(&c.ctx, c.org.slug.as_str(), input)
        .await
    {
        Ok(made) => {
            let revealed = Revealed {
                title: "Webhook Created — Save Your Signing Secret".into(),
                body: "The signing secret will only be shown once. Copy it now and give it to the receiver, which checks every delivery's webhook-signature with it.".into(),
                subject: made.webhook.url.as_str().to_owned(),
                secret: made.secret.expose_secret().to_owned(),
                copy_label: "Copy Secret".into(),
                dismiss_href: "/webhooks".into(),
            };
            page(
                &state,
                &c,
                WebhookForm::default(),
                Some(revealed),
                None,
                StatusCode::CREATED,
            )
            .await
        }
        Err(e @ CoreError::Validation(_)) => {
            let errors = FieldErrors::from_error(&e, &["url", "events"]);
            let form = WebhookForm {
                open: true,
                url: f.text("url"),
                events: f.text("events"),
                errors,
            };
            page(&state, &c, form, None, None, StatusCode::BAD_REQUEST).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /webhooks/{id}/enable` and `/disable`.
pub async fn set_active(
    State(state): State<AppState>,
    Console(c): Console,
    Path((id, action)): Path<(String, String)>,
) -> PageResult {
    let on = match action.as_str() {
        "enable" => true,
        "disable" => false,
        _ => return Err(CoreError::not_found("page", &action).into()),
    };
    let input = WebhookInput {
        is_active: Some(on),
        ..WebhookInput::default()
    };
    state
        .services
        .update_webhook(&c.ctx, c.org.slug.as_str(), &id, input)
        .await?;
    Ok(redirect(if on {
        "/webhooks?done=enabled"
    } else {
        "/webhooks?done=disabled"
    }))
}

/// `POST /webhooks/{id}/delete`.
pub async fn delete(
    State(state): State<AppState>,
    Console(c): Console,
    Path(id): Path<String>,
) -> PageResult {
    state
        .services
        .delete_webhook(&c.ctx, c.org.slug.as_str(), &id)
        .await?;
    Ok(redirect("/webhooks?done=deleted"))
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct LogQuery {
    done: Option<String>,
}

/// `GET /webhooks/{id}`: the delivery log, newest first (the last 100).
pub async fn deliveries(
    State(state): State<AppState>,
    Console(c): Console,
    Path(id): Path<String>,
    super::Query(q): super::Query<LogQuery>,
) -> PageResult {
    let org = c.org.slug.as_str();
    let w = state.services.get_webhook(&c.ctx, org, &id).await?;
    let items = state
        .services
        .list_webhook_deliveries(&c.ctx, org, &id, 100, 0)
        .await?;
    let rows = items
        .iter()
        .map(|d| WebhookDeliveryRow {
            id: d.id.to_string(),
            event_id: d.event_id.clone(),
            event_type: d.event_type.clone(),
            status: d.status.as_str(),
            attempts: d.attempts,
            response: d
                .response_status
                .map_or_else(|| "—".to_owned(), |s| s.to_string()),
            duration: d
                .duration_ms
                .map_or_else(String::new, |ms| format!("{ms} ms")),
            error: d.error.clone().unwrap_or_default(),
            last_attempt: when_opt(d.last_attempt_at.as_ref()),
            next_attempt: when_opt(d.next_attempt_at.as_ref()),
        })
        .collect();
    let notice = (q.done.as_deref() == Some("redelivered"))
        .then(|| "The delivery is queued and goes out within seconds.".to_owned());
    let page = WebhookDeliveriesPage {
        l: Layout::new(&c, "Webhook Deliveries", "/webhooks").with_notice(notice),
        id: w.id.to_string(),
        url: w.url.as_str().to_owned(),
        rows,
        can_edit: c.can(Permission::WebhooksEdit),
    };
    Ok(render(StatusCode::OK, &page))
}

/// `POST /webhooks/{id}/deliveries/{delivery}/redeliver`.
pub async fn redeliver(
    State(state): State<AppState>,
    Console(c): Console,
    Path((id, delivery)): Path<(String, String)>,
) -> PageResult {
    state
        .services
        .redeliver_webhook_delivery(&c.ctx, c.org.slug.as_str(), &id, &delivery)
        .await?;
    Ok(redirect(&format!("/webhooks/{id}?done=redelivered")))
}
