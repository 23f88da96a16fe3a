//! The StreamElements tokens on the Connections page: add and delete.

use axum::body::Bytes;
use axum::extract::{Path, State};
use http::StatusCode;
use secrecy::SecretString;
use tessera_core::CoreError;

use super::page::connections_page;
use super::views::ConnectionsForms;
use super::PageQuery;
use crate::console::forms::{FieldErrors, Form};
use crate::console::{redirect, Console, PageResult};
use crate::AppState;

/// `POST /dashboard/connections/streamelements`: the Add StreamElements Token dialog.
pub async fn add_se_token(
    State(state): State<AppState>,
    Console(c): Console,
    body: Bytes,
) -> PageResult {
    let f = Form::parse(&body);
    let token = SecretString::from(f.text("token"));
    let label = f.optional("label");
    match state
        .services
        .add_se_token(
            &c.ctx,
            c.org.slug.as_str(),
            &f.text("platform"),
            &token,
            label.as_deref(),
        )
        .await
    {
        Ok(_) => Ok(redirect("/dashboard/connections?done=token-added")),
        Err(e @ CoreError::Validation(_)) => {
            let forms = ConnectionsForms {
                se_open: true,
                se_errors: FieldErrors::from_error(&e, &["platform", "token", "label"]),
                se_platform: f.text("platform"),
                se_label: f.text("label"),
                ..ConnectionsForms::default()
            };
            connections_page(
                &state,
                &c,
                &PageQuery::default(),
                forms,
                None,
                StatusCode::BAD_REQUEST,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /dashboard/connections/streamelements/{id}/delete`.
pub async fn delete_se_token(
    State(state): State<AppState>,
    Console(c): Console,
    Path(id): Path<String>,
) -> PageResult {
    state
        .services
        .delete_se_token(&c.ctx, c.org.slug.as_str(), &id)
        .await?;
    Ok(redirect("/dashboard/connections?done=token-removed"))
}
