//! The integrations (Streamer.bot, OBS) on the Connections page: add, enable, disable,
//! remove and test.

use axum::body::Bytes;
use axum::extract::{Path, State};
use http::StatusCode;
use secrecy::SecretString;
use tessera_core::connections::IntegrationPatch;
use tessera_core::CoreError;
use tessera_domain::connection::IntegrationInput;

use super::page::connections_page;
use super::views::ConnectionsForms;
use super::PageQuery;
use crate::console::forms::{FieldErrors, Form};
use crate::console::{redirect, Console, PageResult};
use crate::AppState;

/// `POST /dashboard/connections/integrations`: the Add Integration dialog.
pub async fn add_integration(
    State(state): State<AppState>,
    Console(c): Console,
    body: Bytes,
) -> PageResult {
    let f = Form::parse(&body);
    let password = f
        .get("password")
        .filter(|p| !p.is_empty())
        .map(|p| SecretString::from(p.to_owned()));
    // The form's text becomes the number the service checks; text that is no number at all
    // is the same kind of field error.
    let result = match f.optional("port").map(|p| p.parse::<i64>().map_err(|_| p)) {
        Some(Err(raw)) => Err(CoreError::Validation(
            tessera_domain::error::ValidationError::single(
                "port",
                format!("'{raw}' is not a port: use a whole number from 1 to 65535"),
            ),
        )),
        port => {
            let input = IntegrationInput {
                kind: f.text("type"),
                label: f.optional("label"),
                host: f.optional("host"),
                port: port.and_then(Result::ok),
                endpoint: f.optional("endpoint"),
                remote_access: Some(f.checked("remoteAccess")),
                enabled: Some(true),
            };
            state
                .services
                .create_integration(&c.ctx, c.org.slug.as_str(), input, password)
                .await
                .map(|_| ())
        }
    };
    match result {
        Ok(()) => Ok(redirect("/dashboard/connections?done=integration-added")),
        Err(e @ CoreError::Validation(_)) => {
            let errors = FieldErrors::from_error(
                &e,
                &[
                    "type",
                    "label",
                    "host",
                    "port",
                    "endpoint",
                    "password",
                    "remoteAccess",
                ],
            );
            let forms = ConnectionsForms {
                integration_open: true,
                integration_errors: errors,
                kind: f.text("type"),
                label: f.text("label"),
                host: f.text("host"),
                port: f.text("port"),
                endpoint: f.text("endpoint"),
                remote_access: f.checked("remoteAccess"),
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

/// `POST /dashboard/connections/integrations/{id}` with `op=enable|disable|remove|test`.
pub async fn change_integration(
    State(state): State<AppState>,
    Console(c): Console,
    Path(id): Path<String>,
    body: Bytes,
) -> PageResult {
    let f = Form::parse(&body);
    let org = c.org.slug.as_str();
    let s = &state.services;
    let result = match f.get("op") {
        Some("test") => {
            let outcome = s.test_integration(&c.ctx, org, &id).await?;
            let tested = Some((
                id.clone(),
                outcome.is_success(),
                outcome.message().to_owned(),
            ));
            return connections_page(
                &state,
                &c,
                &PageQuery::default(),
                ConnectionsForms::default(),
                tested,
                StatusCode::OK,
            )
            .await;
        }
        Some("remove") => s
            .delete_integration(&c.ctx, org, &id)
            .await
            .map(|()| "integration-removed"),
        Some(op @ ("enable" | "disable")) => s
            .update_integration(
                &c.ctx,
                org,
                &id,
                IntegrationPatch {
                    enabled: Some(op == "enable"),
                    ..IntegrationPatch::default()
                },
            )
            .await
            .map(|_| "integration-updated"),
        other => Err(CoreError::invalid(
            "op",
            format!(
                "unknown change '{}': use enable, disable, remove or test",
                other.unwrap_or("")
            ),
        )),
    };
    let done = result?;
    Ok(redirect(&format!("/dashboard/connections?done={done}")))
}
