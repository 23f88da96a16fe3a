//! The OAuth Clients pages: the list with search, pages, export and the Create Client dialog;
//! the edit page with every field, the secrets and their rotation; enable, disable, delete.
//! Each action is one service call, the same the REST API makes.

use super::Query;
use axum::body::Bytes;
use axum::extract::{Path, State};
use http::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tessera_core::clients::{ClientPatch, SecretChange, MAX_CLIENT_PAGE};
use tessera_core::console::ConsoleCaller;
use tessera_core::CoreError;
use tessera_domain::client::{
    ClientInput, ClientListOptions, OAuthClient, SigningAlg, TokenAuthMethod, TokenExchangePolicy,
};
use tessera_domain::Permission;

use super::export::{self, Format, Table};
use super::forms::{FieldErrors, Form};
use super::views::{
    grant_choices, when, when_opt, Choice, ClientEditPage, ClientForm, ClientRow, ClientsPage,
    CreateClientForm, Layout, Revealed, SecretRow,
};
use super::{redirect, render, Console, PageResult};
use crate::AppState;

/// Rows per page of the list.
const PAGE: u32 = 20;

/// The fields of the create dialog, as the service names them.
const CREATE_FIELDS: &[&str] = &[
    "name",
    "clientId",
    "redirectUris",
    "grantTypes",
    "allowedScopes",
    "isConfidential",
    "clientUri",
    "secret",
];

/// Every field of the edit form, as the service names them.
pub(crate) const EDIT_FIELDS: &[&str] = &[
    "name",
    "description",
    "isConfidential",
    "redirectUris",
    "postLogoutRedirectUris",
    "allowedCorsOrigins",
    "allowedScopes",
    "grantTypes",
    "requirePkce",
    "requireConsent",
    "clientUri",
    "logoUri",
    "accessTokenLifetime",
    "refreshTokenLifetime",
    "idTokenSignedResponseAlg",
    "accessTokenSignedResponseAlg",
    "userinfoSignedResponseAlg",
    "requestObjectSigningAlg",
    "tokenEndpointAuthMethod",
    "jwks",
    "jwksUri",
    "tokenExchange",
    "securityProfile",
    "requirePushedAuthorizationRequests",
    "dpopBoundAccessTokens",
    "requireSignedRequestObject",
    "backchannelLogoutUri",
    "backchannelLogoutSessionRequired",
];

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    offset: u32,
    create: Option<String>,
    format: Option<String>,
    done: Option<String>,
    /// The REST list's order and filters, by the same names.
    #[serde(default)]
    sort: String,
    #[serde(default, rename = "isActive")]
    is_active: String,
    #[serde(default, rename = "clientType")]
    client_type: String,
    #[serde(default, rename = "grantType")]
    grant_type: String,
}

impl ListQuery {
    fn options(&self) -> Result<ClientListOptions, tessera_domain::ValidationError> {
        let given = |s: &str| Some(s.to_owned()).filter(|s| !s.is_empty());
        ClientListOptions::parse(
            given(&self.sort).as_deref(),
            given(&self.is_active).as_deref(),
            given(&self.client_type).as_deref(),
            given(&self.grant_type).as_deref(),
        )
    }

    /// The search, order and filters as query pairs, for the pages' and exports' links.
    fn pairs(&self) -> Vec<(&'static str, &str)> {
        [
            ("q", self.q.as_str()),
            ("sort", self.sort.as_str()),
            ("isActive", self.is_active.as_str()),
            ("clientType", self.client_type.as_str()),
            ("grantType", self.grant_type.as_str()),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .collect()
    }
}

/// The fixed sentences of the banner after an action (never text from the address bar).
fn notice(done: Option<&str>) -> Option<String> {
    Some(
        match done? {
            "created" => "The client is created.",
            "enabled" => "The client is enabled.",
            "disabled" => "The client is disabled: it can no longer obtain tokens.",
            "deleted" => "The client is deleted.",
            "saved" => "The client is saved.",
            "secret-set" => "The new secret is set. The previous one no longer works.",
            "tokens-revoked" => {
                "Every token of the client is revoked. It can obtain new ones at once."
            }
            _ => return None,
        }
        .to_owned(),
    )
}

fn row(c: &OAuthClient) -> ClientRow {
    ClientRow {
        id: c.id.as_str().to_owned(),
        name: c.settings.name.clone(),
        client_type: c.client_type(),
        client_uri: c.settings.client_uri.clone().unwrap_or_default(),
        redirect_uris: c
            .settings
            .redirect_uris
            .iter()
            .map(|u| u.as_str().to_owned())
            .collect(),
        scopes: c
            .settings
            .allowed_scopes
            .iter()
            .map(|s| s.as_str().to_owned())
            .collect(),
        grant_types: c
            .settings
            .grant_types
            .iter()
            .map(|g| g.as_str().to_owned())
            .collect(),
        is_active: c.settings.is_active,
    }
}

/// `GET /oauth-clients`: the list, or (with `format=`) its export.
pub async fn list(
    State(state): State<AppState>,
    Console(c): Console,
    Query(q): Query<ListQuery>,
) -> PageResult {
    if let Err(e) = q.options() {
        return Ok(super::views::message_page(
            StatusCode::BAD_REQUEST,
            "Bad list parameters",
            &e.to_string(),
        ));
    }
    if let Some(f) = &q.format {
        return export_list(&state, &c, &q, f).await;
    }
    let create = CreateClientForm {
        open: q.create.is_some(),
        ..CreateClientForm::default()
    };
    list_page(&state, &c, &q, create, None, StatusCode::OK).await
}

async fn list_page(
    state: &AppState,
    c: &ConsoleCaller,
    q: &ListQuery,
    create: CreateClientForm,
    revealed: Option<Revealed>,
    status: StatusCode,
) -> PageResult {
    let org = c.org.slug.as_str();
    let search = Some(q.q.clone()).filter(|s| !s.trim().is_empty());
    let (clients, total) = state
        .services
        .list_clients(
            &c.ctx,
            org,
            search,
            PAGE,
            q.offset,
            q.options().map_err(CoreError::from)?,
        )
        .await?;
    let query_with = |offset: u32| {
        let mut s =
            url::form_urlencoded::Serializer::for_suffix(String::from("/oauth-clients?"), 15);
        s.extend_pairs(q.pairs());
        s.append_pair("offset", &offset.to_string());
        s.finish()
    };
    let shown = clients.len() as i64;
    let export_query = if q.pairs().is_empty() {
        String::new()
    } else {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        s.extend_pairs(q.pairs());
        format!("{}&", s.finish())
    };
    let page = ClientsPage {
        l: Layout::new(c, "OAuth Clients", "/oauth-clients").with_notice(notice(q.done.as_deref())),
        rows: clients.iter().map(row).collect(),
        q: q.q.clone(),
        sort: q.sort.clone(),
        is_active: q.is_active.clone(),
        client_type: q.client_type.clone(),
        total,
        first: if shown == 0 {
            0
        } else {
            i64::from(q.offset) + 1
        },
        last: if shown == 0 {
            0
        } else {
            i64::from(q.offset) + shown
        },
        prev_href: (q.offset > 0).then(|| query_with(q.offset.saturating_sub(PAGE))),
        next_href: (i64::from(q.offset) + shown < total).then(|| query_with(q.offset + PAGE)),
        export_query,
        can_create: c.can(Permission::OauthClientsCreate),
        can_edit: c.can(Permission::OauthClientsEdit),
        can_delete: c.can(Permission::OauthClientsDelete),
        create,
        revealed,
    };
    Ok(render(status, &page))
}

/// The whole matching list (not only the page on screen) as a file.
async fn export_list(
    state: &AppState,
    c: &ConsoleCaller,
    query: &ListQuery,
    format: &str,
) -> PageResult {
    let q = query.q.as_str();
    let Some(format) = Format::parse(format) else {
        return Ok(super::views::message_page(
            StatusCode::BAD_REQUEST,
            "Unknown export format",
            &format!("'{format}' is not an export format: use csv, xlsx or pdf."),
        ));
    };
    let search = Some(q.to_owned()).filter(|s| !s.trim().is_empty());
    let mut rows = Vec::new();
    let mut offset = 0;
    loop {
        let (page, total) = state
            .services
            .list_clients(
                &c.ctx,
                c.org.slug.as_str(),
                search.clone(),
                MAX_CLIENT_PAGE,
                offset,
                query.options().map_err(CoreError::from)?,
            )
            .await?;
        let n = page.len() as u32;
        rows.extend(page.iter().map(|cl| {
            let r = row(cl);
            vec![
                r.name,
                r.id,
                r.client_type.to_owned(),
                r.client_uri,
                r.redirect_uris.join("\n"),
                r.scopes.join(" "),
                r.grant_types.join(" "),
                if r.is_active { "Enabled" } else { "Disabled" }.to_owned(),
            ]
        }));
        offset += n;
        if n == 0 || i64::from(offset) >= total {
            break;
        }
    }
    let title = format!("OAuth Clients — {}", c.org.slug.as_str());
    let table = Table {
        title: &title,
        headings: &[
            "Name",
            "Client ID",
            "Client Type",
            "Client URI",
            "Redirect URIs",
            "Scopes",
            "Grant Types",
            "Status",
        ],
        rows,
    };
    export::download(
        &table,
        format,
        &format!("oauth-clients-{}", c.org.slug.as_str()),
    )
}

/// `POST /oauth-clients`: the Create Client dialog. On success the list shows the secret,
/// once, in the warning dialog; on a mistake the dialog comes back with the errors.
pub async fn create(State(state): State<AppState>, Console(c): Console, body: Bytes) -> PageResult {
    let f = Form::parse(&body);
    let confidential = f.get("clientType") != Some("public");
    let grant_types = f.all("grantTypes");
    let scopes = f.words("allowedScopes");
    let d = ClientInput::default();
    let input = ClientInput {
        client_id: f.optional("clientId"),
        name: f.text("name"),
        is_confidential: Some(confidential),
        redirect_uris: f.lines("redirectUris"),
        // The form cannot say "no scope": empty is the default for the grant types.
        allowed_scopes: (!scopes.is_empty()).then_some(scopes),
        grant_types: grant_types.clone(),
        client_uri: f.optional("clientUri"),
        // A public client has no secret: the field is a confidential client's.
        secret: confidential
            .then(|| f.optional("secret"))
            .flatten()
            .map(tessera_domain::client::ChosenSecret::new),
        ..d
    };
    match state
        .services
        .create_client(&c.ctx, c.org.slug.as_str(), input)
        .await
    {
        Ok(made) => {
            let id = made.client.id.as_str().to_owned();
            let revealed = made.secret.map(|s| {
                Revealed::client_secret(&id, s.expose_secret().to_owned(), "/oauth-clients".into())
            });
            if revealed.is_none() {
                // A public client has no secret to show, and a chosen one is known already.
                return Ok(redirect("/oauth-clients?done=created"));
            }
            list_page(
                &state,
                &c,
                &ListQuery::default(),
                CreateClientForm::default(),
                revealed,
                StatusCode::CREATED,
            )
            .await
        }
        Err(e @ (CoreError::Validation(_) | CoreError::Conflict(_))) => {
            let form = CreateClientForm {
                open: true,
                name: f.text("name"),
                client_id: f.text("clientId"),
                confidential,
                redirect_uris: f.get("redirectUris").unwrap_or("").to_owned(),
                scopes: f.text("allowedScopes"),
                grants: grant_choices(&grant_types),
                // The secret is never put back into the page.
                client_uri: f.text("clientUri"),
                errors: FieldErrors::from_error(&e, CREATE_FIELDS),
            };
            list_page(
                &state,
                &c,
                &ListQuery::default(),
                form,
                None,
                StatusCode::BAD_REQUEST,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct EditQuery {
    done: Option<String>,
}

fn client_form(cl: &OAuthClient) -> ClientForm {
    let i = cl.to_input();
    ClientForm {
        name: i.name,
        description: i.description.unwrap_or_default(),
        confidential: cl.settings.is_confidential,
        redirect_uris: i.redirect_uris.join("\n"),
        post_logout_redirect_uris: i.post_logout_redirect_uris.join("\n"),
        allowed_cors_origins: i.allowed_cors_origins.join("\n"),
        allowed_scopes: i.allowed_scopes.unwrap_or_default().join(" "),
        grants: grant_choices(&i.grant_types),
        is_active: i.is_active,
        require_pkce: i.require_pkce,
        require_consent: i.require_consent,
        client_uri: i.client_uri.unwrap_or_default(),
        logo_uri: i.logo_uri.unwrap_or_default(),
        access_token_lifetime: i.access_token_lifetime.to_string(),
        refresh_token_lifetime: i.refresh_token_lifetime.to_string(),
        id_token_algs: alg_choices(&i.id_token_signed_response_alg),
        access_token_algs: alg_choices(&i.access_token_signed_response_alg),
        userinfo_algs: userinfo_choices(i.userinfo_signed_response_alg.as_deref().unwrap_or("")),
        request_object_algs: request_object_choices(
            i.request_object_signing_alg.as_deref().unwrap_or(""),
        ),
        auth_methods: auth_method_choices(cl.settings.token_endpoint_auth_method.as_str()),
        jwks: i
            .jwks
            .as_ref()
            .map(|j| serde_json::to_string_pretty(j).unwrap_or_default())
            .unwrap_or_default(),
        jwks_uri: i.jwks_uri.unwrap_or_default(),
        subject_clients: i.token_exchange.subject_clients.join("\n"),
        allow_impersonation: i.token_exchange.allow_impersonation,
        security_profile: i.security_profile.unwrap_or_default(),
        require_par: i.require_pushed_authorization_requests,
        dpop_bound: i.dpop_bound_access_tokens,
        require_signed_request_object: i.require_signed_request_object,
        backchannel_logout_uri: i.backchannel_logout_uri.unwrap_or_default(),
        backchannel_logout_session_required: i.backchannel_logout_session_required,
        errors: FieldErrors::default(),
    }
}

fn alg_choices(selected: &str) -> Vec<Choice> {
    SigningAlg::ALL
        .iter()
        .map(|a| Choice {
            value: a.as_str().to_owned(),
            label: a.as_str().to_owned(),
            checked: a.as_str() == selected,
        })
        .collect()
}

/// Userinfo's answer: plain JSON (the empty value) or a JWT signed with one of the algorithms.
fn userinfo_choices(selected: &str) -> Vec<Choice> {
    let mut out = vec![Choice {
        value: String::new(),
        label: "JSON (not signed)".into(),
        checked: selected.is_empty(),
    }];
    out.extend(alg_choices(selected));
    out
}

/// The algorithm request objects must be signed with: any the keys allow (the empty value),
/// or one.
fn request_object_choices(selected: &str) -> Vec<Choice> {
    let mut out = vec![Choice {
        value: String::new(),
        label: "Any algorithm of the keys".into(),
        checked: selected.is_empty(),
    }];
    out.extend(
        tessera_domain::client::ClientAlg::ALL
            .iter()
            .map(|a| Choice {
                value: a.as_str().to_owned(),
                label: a.as_str().to_owned(),
                checked: a.as_str() == selected,
            }),
    );
    out
}

/// How a confidential client authenticates (a public client sends nothing).
fn auth_method_choices(selected: &str) -> Vec<Choice> {
    [
        (
            TokenAuthMethod::ClientSecretBasic,
            "Secret in the Authorization header (client_secret_basic)",
        ),
        (
            TokenAuthMethod::ClientSecretPost,
            "Secret in the form body (client_secret_post)",
        ),
        (
            TokenAuthMethod::PrivateKeyJwt,
            "Assertion signed with a key (private_key_jwt)",
        ),
    ]
    .into_iter()
    .map(|(m, label)| Choice {
        value: m.as_str().to_owned(),
        label: label.into(),
        checked: m.as_str() == selected,
    })
    .collect()
}

struct EditExtras {
    form: Option<ClientForm>,
    revealed: Option<Revealed>,
    set_secret_open: bool,
    secret_error: String,
    confirm_delete: bool,
    notice: Option<String>,
}

impl EditExtras {
    fn none() -> Self {
        Self {
            form: None,
            revealed: None,
            set_secret_open: false,
            secret_error: String::new(),
            confirm_delete: false,
            notice: None,
        }
    }
}

async fn edit_page(
    state: &AppState,
    c: &ConsoleCaller,
    id: &str,
    extras: EditExtras,
    status: StatusCode,
) -> PageResult {
    let cl = state
        .services
        .get_client(&c.ctx, c.org.slug.as_str(), id)
        .await?;
    let page = ClientEditPage {
        l: Layout::new(c, &cl.settings.name, "/oauth-clients").with_notice(extras.notice),
        id: cl.id.as_str().to_owned(),
        client_type: cl.client_type(),
        created: when(&cl.created_at),
        updated: when(&cl.updated_at),
        f: extras.form.unwrap_or_else(|| client_form(&cl)),
        secrets: cl
            .secrets
            .iter()
            .map(|s| SecretRow {
                hint: s.hint.clone(),
                created: when(&s.created_at),
                expires: when_opt(s.expires_at.as_ref()),
                last_used: when_opt(s.last_used_at.as_ref()),
            })
            .collect(),
        can_edit: c.can(Permission::OauthClientsEdit),
        can_delete: c.can(Permission::OauthClientsDelete),
        revealed: extras.revealed,
        set_secret_open: extras.set_secret_open,
        secret_error: extras.secret_error,
        confirm_delete: extras.confirm_delete,
    };
    Ok(render(status, &page))
}

/// `GET /oauth-clients/{client_id}`.
pub async fn edit(
    State(state): State<AppState>,
    Console(c): Console,
    Path(id): Path<String>,
    Query(q): Query<EditQuery>,
) -> PageResult {
    let extras = EditExtras {
        notice: notice(q.done.as_deref()),
        ..EditExtras::none()
    };
    edit_page(&state, &c, &id, extras, StatusCode::OK).await
}

/// `GET /oauth-clients/{client_id}/delete`: the confirmation, as a page (without the script).
pub async fn confirm_delete(
    State(state): State<AppState>,
    Console(c): Console,
    Path(id): Path<String>,
) -> PageResult {
    let extras = EditExtras {
        confirm_delete: true,
        ..EditExtras::none()
    };
    edit_page(&state, &c, &id, extras, StatusCode::OK).await
}

/// A whole number of seconds from a form field, or the field's error.
fn seconds(f: &Form, field: &str, errors: &mut FieldErrors) -> i64 {
    let raw = f.text(field);
    match raw.parse::<i64>() {
        Ok(n) => n,
        Err(_) => {
            errors.add(field, format!("'{raw}' is not a whole number of seconds"));
            0
        }
    }
}

/// `POST /oauth-clients/{client_id}`: saves every field (the REST API's PUT).
pub async fn save(
    State(state): State<AppState>,
    Console(c): Console,
    Path(id): Path<String>,
    body: Bytes,
) -> PageResult {
    let f = Form::parse(&body);
    let mut local = FieldErrors::default();
    let input = ClientInput {
        name: f.text("name"),
        description: f.optional("description"),
        is_confidential: Some(f.get("clientType") != Some("public")),
        redirect_uris: f.lines("redirectUris"),
        post_logout_redirect_uris: f.lines("postLogoutRedirectUris"),
        allowed_cors_origins: f.lines("allowedCorsOrigins"),
        allowed_scopes: Some(f.words("allowedScopes")),
        grant_types: f.all("grantTypes"),
        is_active: f.checked("isActive"),
        require_pkce: f.checked("requirePkce"),
        require_consent: f.checked("requireConsent"),
        client_uri: f.optional("clientUri"),
        logo_uri: f.optional("logoUri"),
        access_token_lifetime: seconds(&f, "accessTokenLifetime", &mut local),
        refresh_token_lifetime: seconds(&f, "refreshTokenLifetime", &mut local),
        id_token_signed_response_alg: f.text("idTokenSignedResponseAlg"),
        access_token_signed_response_alg: f.text("accessTokenSignedResponseAlg"),
        userinfo_signed_response_alg: f.optional("userinfoSignedResponseAlg"),
        request_object_signing_alg: f.optional("requestObjectSigningAlg"),
        // A public client authenticates with nothing: the choice is a confidential client's.
        token_endpoint_auth_method: (f.get("clientType") != Some("public"))
            .then(|| f.optional("tokenEndpointAuthMethod"))
            .flatten(),
        jwks: match f.optional("jwks") {
            None => None,
            Some(text) => match serde_json::from_str(&text) {
                Ok(v) => Some(v),
                Err(e) => {
                    local.add("jwks", format!("not JSON: {e}"));
                    None
                }
            },
        },
        jwks_uri: f.optional("jwksUri"),
        token_exchange: TokenExchangePolicy {
            subject_clients: f.lines("subjectClients"),
            allow_impersonation: f.checked("allowImpersonation"),
        },
        security_profile: f.optional("securityProfile"),
        require_pushed_authorization_requests: f.checked("requirePushedAuthorizationRequests"),
        dpop_bound_access_tokens: f.checked("dpopBoundAccessTokens"),
        require_signed_request_object: f.checked("requireSignedRequestObject"),
        backchannel_logout_uri: f.optional("backchannelLogoutUri"),
        backchannel_logout_session_required: f.checked("backchannelLogoutSessionRequired"),
        ..ClientInput::default()
    };
    let typed = |errors: FieldErrors| ClientForm {
        name: f.text("name"),
        description: f.text("description"),
        confidential: f.get("clientType") != Some("public"),
        redirect_uris: f.get("redirectUris").unwrap_or("").to_owned(),
        post_logout_redirect_uris: f.get("postLogoutRedirectUris").unwrap_or("").to_owned(),
        allowed_cors_origins: f.get("allowedCorsOrigins").unwrap_or("").to_owned(),
        allowed_scopes: f.text("allowedScopes"),
        grants: grant_choices(&f.all("grantTypes")),
        is_active: f.checked("isActive"),
        require_pkce: f.checked("requirePkce"),
        require_consent: f.checked("requireConsent"),
        client_uri: f.text("clientUri"),
        logo_uri: f.text("logoUri"),
        access_token_lifetime: f.text("accessTokenLifetime"),
        refresh_token_lifetime: f.text("refreshTokenLifetime"),
        id_token_algs: alg_choices(&f.text("idTokenSignedResponseAlg")),
        access_token_algs: alg_choices(&f.text("accessTokenSignedResponseAlg")),
        userinfo_algs: userinfo_choices(&f.text("userinfoSignedResponseAlg")),
        request_object_algs: request_object_choices(&f.text("requestObjectSigningAlg")),
        auth_methods: auth_method_choices(&f.text("tokenEndpointAuthMethod")),
        jwks: f.get("jwks").unwrap_or("").to_owned(),
        jwks_uri: f.text("jwksUri"),
        subject_clients: f.get("subjectClients").unwrap_or("").to_owned(),
        allow_impersonation: f.checked("allowImpersonation"),
        security_profile: f.text("securityProfile"),
        require_par: f.checked("requirePushedAuthorizationRequests"),
        dpop_bound: f.checked("dpopBoundAccessTokens"),
        require_signed_request_object: f.checked("requireSignedRequestObject"),
        backchannel_logout_uri: f.text("backchannelLogoutUri"),
        backchannel_logout_session_required: f.checked("backchannelLogoutSessionRequired"),
        errors,
    };
    let back_with = |errors: FieldErrors| EditExtras {
        form: Some(typed(errors)),
        ..EditExtras::none()
    };
    if !local.is_empty() {
        return edit_page(&state, &c, &id, back_with(local), StatusCode::BAD_REQUEST).await;
    }
    match state
        .services
        .replace_client(&c.ctx, c.org.slug.as_str(), &id, input)
        .await
    {
        // Turning a public client confidential makes its first secret: shown once, here.
        Ok(r) => match r.secret {
            Some(s) => {
                let mut revealed = Revealed::client_secret(
                    &id,
                    s.expose_secret().to_owned(),
                    format!("/oauth-clients/{id}"),
                );
                revealed.title = "Client Secret Created — Save Your Credentials".into();
                let extras = EditExtras {
                    revealed: Some(revealed),
                    ..EditExtras::none()
                };
                edit_page(&state, &c, &id, extras, StatusCode::OK).await
            }
            None => Ok(redirect(&format!("/oauth-clients/{id}?done=saved"))),
        },
        Err(e @ CoreError::Validation(_)) => {
            let errors = FieldErrors::from_error(&e, EDIT_FIELDS);
            edit_page(&state, &c, &id, back_with(errors), StatusCode::BAD_REQUEST).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /oauth-clients/{client_id}/active` with `active=true|false`: Enable / Disable.
pub async fn set_active(
    State(state): State<AppState>,
    Console(c): Console,
    Path(id): Path<String>,
    body: Bytes,
) -> PageResult {
    let f = Form::parse(&body);
    let active = f.get("active") == Some("true");
    let patch = ClientPatch {
        is_active: Some(active),
        ..ClientPatch::default()
    };
    state
        .services
        .patch_client(&c.ctx, c.org.slug.as_str(), &id, patch)
        .await?;
    Ok(redirect(if active {
        "/oauth-clients?done=enabled"
    } else {
        "/oauth-clients?done=disabled"
    }))
}

/// `POST /oauth-clients/{client_id}/delete`: after the confirmation.
pub async fn delete(
    State(state): State<AppState>,
    Console(c): Console,
    Path(id): Path<String>,
) -> PageResult {
    state
        .services
        .delete_client(&c.ctx, c.org.slug.as_str(), &id)
        .await?;
    Ok(redirect("/oauth-clients?done=deleted"))
}

/// `POST /oauth-clients/{client_id}/secret`: Regenerate Secret (`mode=generate`, shown once)
/// or Set New Secret (`mode=set`, typed twice, never shown).
/// `POST /oauth-clients/{client_id}/revoke-tokens`: every token of the client revoked; the
/// client stays.
pub async fn revoke_tokens(
    State(state): State<AppState>,
    Console(c): Console,
    Path(id): Path<String>,
) -> PageResult {
    state
        .services
        .revoke_client_tokens(&c.ctx, c.org.slug.as_str(), &id)
        .await?;
    Ok(redirect(&format!(
        "/oauth-clients/{id}?done=tokens-revoked"
    )))
}

pub async fn secret(
    State(state): State<AppState>,
    Console(c): Console,
    Path(id): Path<String>,
    body: Bytes,
) -> PageResult {
    let f = Form::parse(&body);
    let set = f.get("mode") == Some("set");
    let change = if set {
        let chosen = f.get("secret").unwrap_or("");
        if chosen != f.get("secretConfirm").unwrap_or("") {
            let extras = EditExtras {
                set_secret_open: true,
                secret_error: "The two secrets differ. Type the same secret twice.".into(),
                ..EditExtras::none()
            };
            return edit_page(&state, &c, &id, extras, StatusCode::BAD_REQUEST).await;
        }
        SecretChange {
            previous_secret_valid_for: None,
            secret: Some(SecretString::from(chosen.to_owned())),
        }
    } else {
        SecretChange {
            previous_secret_valid_for: f
                .text("previousSecretValidFor")
                .parse::<i64>()
                .ok()
                .filter(|s| *s > 0),
            secret: None,
        }
    };
    match state
        .services
        .change_client_secret(&c.ctx, c.org.slug.as_str(), &id, change)
        .await
    {
        Ok(r) => match r.secret {
            Some(s) if !set => {
                let mut revealed = Revealed::client_secret(
                    &id,
                    s.expose_secret().to_owned(),
                    format!("/oauth-clients/{id}"),
                );
                revealed.title = "New Secret — Save Your Credentials".into();
                let extras = EditExtras {
                    revealed: Some(revealed),
                    ..EditExtras::none()
                };
                edit_page(&state, &c, &id, extras, StatusCode::OK).await
            }
            _ => Ok(redirect(&format!("/oauth-clients/{id}?done=secret-set"))),
        },
        Err(e @ CoreError::Validation(_)) if set => {
            let message = match &e {
                CoreError::Validation(v) => v
                    .errors
                    .iter()
                    .map(|fe| fe.message.clone())
                    .collect::<Vec<_>>()
                    .join(" "),
                _ => e.to_string(),
            };
            let extras = EditExtras {
                set_secret_open: true,
                secret_error: message,
                ..EditExtras::none()
            };
            edit_page(&state, &c, &id, extras, StatusCode::BAD_REQUEST).await
        }
        Err(e) => Err(e.into()),
    }
}
