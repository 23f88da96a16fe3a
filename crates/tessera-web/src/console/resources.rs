//! The API Resources page: the APIs the organization protects (RFC 8707), listed with their
//! scopes, created in a dialog, deleted with a confirmation. The same services as REST.

use axum::body::Bytes;
use axum::extract::{Path, State};
use http::StatusCode;
use tessera_core::console::ConsoleCaller;
use tessera_core::CoreError;
use tessera_domain::api_resource::{
    AllowedClients, AllowedClientsInput, ApiResourceInput, ScopeInput,
};
use tessera_domain::Permission;

use super::forms::{FieldErrors, Form};
use super::views::{when, ApiResourceForm, ApiResourceRow, ApiResourcesPage, Layout};
use super::{redirect, render, Console, PageResult};
use crate::AppState;

/// The dialog's fields, as the service names them.
const FIELDS: &[&str] = &[
    "identifier",
    "name",
    "description",
    "scopes",
    "accessTokenLifetime",
    "accessTokenSignedResponseAlg",
    "allowedClients",
];

#[derive(Debug, Default, serde::Deserialize)]
pub struct PageQuery {
    create: Option<String>,
    done: Option<String>,
    /// The resource whose dialog opens, filled in.
    edit: Option<String>,
}

/// `GET /api-resources` (`?create=1` or `?edit={id}` opens the dialog).
pub async fn list(
    State(state): State<AppState>,
    Console(c): Console,
    super::Query(q): super::Query<PageQuery>,
) -> PageResult {
    let form = match &q.edit {
        Some(id) => {
            let r = state
                .services
                .get_api_resource(&c.ctx, c.org.slug.as_str(), id)
                .await?;
            let s = &r.settings;
            ApiResourceForm {
                open: true,
                editing: Some(r.id.to_string()),
                identifier: s.identifier.as_str().to_owned(),
                name: s.name.clone(),
                description: s.description.clone().unwrap_or_default(),
                scopes: s
                    .scopes
                    .iter()
                    .map(|sc| match &sc.description {
                        Some(d) => format!("{}: {d}", sc.name.as_str()),
                        None => sc.name.as_str().to_owned(),
                    })
                    .collect::<Vec<_>>()
                    .join("\n"),
                lifetime: s
                    .access_token_lifetime
                    .map(|l| l.to_string())
                    .unwrap_or_default(),
                alg: s
                    .access_token_signed_response_alg
                    .map(|a| a.as_str().to_owned())
                    .unwrap_or_default(),
                clients: match &s.allowed_clients {
                    AllowedClients::All => String::new(),
                    AllowedClients::Only(ids) => {
                        ids.iter().map(|i| i.as_str()).collect::<Vec<_>>().join(" ")
                    }
                },
                errors: FieldErrors::default(),
            }
        }
        None => ApiResourceForm {
            open: q.create.is_some(),
            ..ApiResourceForm::default()
        },
    };
    let notice = match q.done.as_deref() {
        Some("created") => Some("The API resource is created.".to_owned()),
        Some("saved") => Some("The API resource is saved.".to_owned()),
        Some("deleted") => Some("The API resource is deleted.".to_owned()),
        _ => None,
    };
    page(&state, &c, form, notice, StatusCode::OK).await
}

async fn page(
    state: &AppState,
    c: &ConsoleCaller,
    form: ApiResourceForm,
    notice: Option<String>,
    status: StatusCode,
) -> PageResult {
    let items = state
        .services
        .all_api_resources(&c.ctx, c.org.slug.as_str())
        .await?;
    let rows = items
        .iter()
        .map(|r| {
            let s = &r.settings;
            ApiResourceRow {
                id: r.id.to_string(),
                name: s.name.clone(),
                identifier: s.identifier.as_str().to_owned(),
                scopes: s
                    .scopes
                    .iter()
                    .map(|sc| match &sc.description {
                        Some(d) => format!("{}: {d}", sc.name.as_str()),
                        None => sc.name.as_str().to_owned(),
                    })
                    .collect(),
                token: format!(
                    "{} · {}",
                    s.access_token_lifetime
                        .map_or("client's lifetime".to_owned(), |l| format!("{l} s")),
                    s.access_token_signed_response_alg
                        .map_or("client's algorithm", |a| a.as_str())
                ),
                clients: match &s.allowed_clients {
                    AllowedClients::All => "every client".to_owned(),
                    AllowedClients::Only(ids) => ids
                        .iter()
                        .map(|i| i.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                },
                created: when(&r.created_at),
            }
        })
        .collect();
    let page = ApiResourcesPage {
        l: Layout::new(c, "API Resources", "/api-resources").with_notice(notice),
        rows,
        can_create: c.can(Permission::ApiResourcesCreate),
        can_edit: c.can(Permission::ApiResourcesEdit),
        can_delete: c.can(Permission::ApiResourcesDelete),
        create: form,
    };
    Ok(render(status, &page))
}

/// The dialog's scopes box: one scope a line, `name` or `name: description`.
fn scopes(text: &str) -> Vec<ScopeInput> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| match l.split_once(':') {
            Some((n, d)) => ScopeInput {
                name: n.trim().to_owned(),
                description: Some(d.trim().to_owned()).filter(|d| !d.is_empty()),
            },
            None => ScopeInput {
                name: l.to_owned(),
                description: None,
            },
        })
        .collect()
}

/// `POST /api-resources`: the Create API Resource dialog.
pub async fn create(State(state): State<AppState>, Console(c): Console, body: Bytes) -> PageResult {
    save(&state, &c, None, &body).await
}

/// `POST /api-resources/{id}`: the Edit API Resource dialog (every setting replaced).
pub async fn update(
    State(state): State<AppState>,
    Console(c): Console,
    Path(id): Path<String>,
    body: Bytes,
) -> PageResult {
    save(&state, &c, Some(id), &body).await
}

/// The dialog's fields as the resource input, created or (with `editing`) replaced; a bad
/// field is named under it and what was typed stays.
async fn save(
    state: &AppState,
    c: &ConsoleCaller,
    editing: Option<String>,
    body: &[u8],
) -> PageResult {
    let f = Form::parse(body);
    let lifetime = f.text("lifetime");
    let mut errors = FieldErrors::default();
    let access_token_lifetime = match lifetime.trim() {
        "" => None,
        l => match l.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                errors.add(
                    "accessTokenLifetime",
                    "Give a number of seconds.".to_owned(),
                );
                None
            }
        },
    };
    let clients = f.words("clients");
    let input = ApiResourceInput {
        identifier: f.text("identifier"),
        name: f.text("name"),
        description: f.optional("description"),
        scopes: scopes(&f.text("scopes")),
        access_token_lifetime,
        access_token_signed_response_alg: f.optional("alg"),
        allowed_clients: (!clients.is_empty() && clients != ["*"])
            .then_some(AllowedClientsInput::Only(clients)),
        ..ApiResourceInput::default()
    };
    let org = c.org.slug.as_str();
    let outcome = if !errors.is_empty() {
        Err(CoreError::invalid("accessTokenLifetime", "not a number"))
    } else if let Some(id) = &editing {
        state
            .services
            .replace_api_resource(&c.ctx, org, id, input)
            .await
            .map(|_| ())
    } else {
        state
            .services
            .create_api_resource(&c.ctx, org, input)
            .await
            .map(|_| ())
    };
    match outcome {
        Ok(()) if editing.is_some() => Ok(redirect("/api-resources?done=saved")),
        Ok(()) => Ok(redirect("/api-resources?done=created")),
        Err(e @ (CoreError::Validation(_) | CoreError::Conflict(_))) => {
            if errors.is_empty() {
                errors = FieldErrors::from_error(&e, FIELDS);
                if let CoreError::Conflict(m) = &e {
                    errors.general.clear();
                    errors.add("identifier", m.clone());
                }
            }
            let form = ApiResourceForm {
                open: true,
                editing,
                identifier: f.text("identifier"),
                name: f.text("name"),
                description: f.text("description"),
                scopes: f.text("scopes"),
                lifetime,
                alg: f.text("alg"),
                clients: f.text("clients"),
                errors,
            };
            page(state, c, form, None, StatusCode::BAD_REQUEST).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /api-resources/{id}/delete`.
pub async fn delete(
    State(state): State<AppState>,
    Console(c): Console,
    Path(id): Path<String>,
) -> PageResult {
    state
        .services
        .delete_api_resource(&c.ctx, c.org.slug.as_str(), &id)
        .await?;
    Ok(redirect("/api-resources?done=deleted"))
}
