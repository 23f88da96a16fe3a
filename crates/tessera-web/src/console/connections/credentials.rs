//! The App Credentials page: a platform application's Client ID and Client Secret.

use axum::body::Bytes;
use axum::extract::{Path, State};
use http::StatusCode;
use secrecy::SecretString;
use tessera_core::console::ConsoleCaller;
use tessera_core::CoreError;

use super::views::{CredentialRow, CredentialsPage};
use super::{layout, PageQuery};
use crate::console::forms::{FieldErrors, Form};
use crate::console::views::when_opt;
use crate::console::{redirect, render, Console, PageResult, Query};
use crate::AppState;

/// `GET /dashboard/connections/credentials`.
pub async fn credentials(
    State(state): State<AppState>,
    Console(c): Console,
    Query(q): Query<PageQuery>,
) -> PageResult {
    credentials_page(&state, &c, &q, None, StatusCode::OK).await
}

async fn credentials_page(
    state: &AppState,
    c: &ConsoleCaller,
    q: &PageQuery,
    failed: Option<(&str, String, FieldErrors)>,
    status: StatusCode,
) -> PageResult {
    let creds = state
        .services
        .list_credentials(&c.ctx, c.org.slug.as_str())
        .await?;
    let page = CredentialsPage {
        l: layout(c, "App Credentials", q),
        rows: creds
            .iter()
            .map(|cr| CredentialRow {
                platform: cr.platform.as_str(),
                name: cr.name,
                configured: cr.configured,
                hint: cr
                    .client_id_hint
                    .as_ref()
                    .map(|h| format!("…{h}"))
                    .unwrap_or_default(),
                redirect_uri: cr.redirect_uri.clone(),
                updated: when_opt(cr.updated_at.as_ref()),
                client_id: failed
                    .as_ref()
                    .filter(|(p, _, _)| *p == cr.platform.as_str())
                    .map(|(_, id, _)| id.clone())
                    .unwrap_or_default(),
                errors: failed
                    .as_ref()
                    .filter(|(p, _, _)| *p == cr.platform.as_str())
                    .map(|(_, _, e)| e.clone())
                    .unwrap_or_default(),
            })
            .collect(),
    };
    Ok(render(status, &page))
}

/// `POST /dashboard/connections/credentials/{platform}`: Client ID and Client Secret.
pub async fn save_credentials(
    State(state): State<AppState>,
    Console(c): Console,
    Path(platform): Path<String>,
    body: Bytes,
) -> PageResult {
    let f = Form::parse(&body);
    let secret = SecretString::from(f.get("clientSecret").unwrap_or("").to_owned());
    match state
        .services
        .put_credentials(
            &c.ctx,
            c.org.slug.as_str(),
            &platform,
            &f.text("clientId"),
            &secret,
        )
        .await
    {
        Ok(_) => Ok(redirect("/dashboard/connections/credentials?done=saved")),
        Err(e @ CoreError::Validation(_)) => {
            let errors = FieldErrors::from_error(&e, &["clientId", "clientSecret"]);
            credentials_page(
                &state,
                &c,
                &PageQuery::default(),
                Some((platform.as_str(), f.text("clientId"), errors)),
                StatusCode::BAD_REQUEST,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /dashboard/connections/credentials/{platform}/delete`.
pub async fn delete_credentials(
    State(state): State<AppState>,
    Console(c): Console,
    Path(platform): Path<String>,
) -> PageResult {
    state
        .services
        .delete_credentials(&c.ctx, c.org.slug.as_str(), &platform)
        .await?;
    Ok(redirect("/dashboard/connections/credentials?done=deleted"))
}
