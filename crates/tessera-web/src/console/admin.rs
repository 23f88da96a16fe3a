//! The Audit Log, Members and API Keys pages.

use super::Query;
use crate::console::views::{ProfileField, PROFILE_LABELS};
use axum::body::Bytes;
use axum::extract::{Path, State};
use http::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tessera_core::api_keys::{KeyScope, NewApiKey};
use tessera_core::console::ConsoleCaller;
use tessera_core::users::{NewUser, UserPatch};
use tessera_core::AuditQuery;
use tessera_core::CoreError;
use tessera_domain::{AuditAction, Permission, PrincipalKind};

use super::forms::{FieldErrors, Form};
use super::views::{
    when, when_opt, ApiKeyForm, ApiKeyRow, ApiKeysPage, AuditPage, AuditRow, Choice, Layout,
    MemberForm, MemberRow, MembersPage, Revealed,
};
use super::{redirect, render, Console, PageResult};
use crate::AppState;

/// Events per page of the audit log.
const AUDIT_PAGE: u32 = 50;
/// The most events one export holds.
const MAX_AUDIT_EXPORT: usize = 100_000;

#[derive(Debug, Default, Deserialize)]
pub struct AuditParams {
    #[serde(default)]
    action: String,
    #[serde(default)]
    actor: String,
    before: Option<i64>,
    /// A day (`2026-12-06`, the date input's form) or an RFC 3339 time; inclusive.
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    /// `csv`, `xlsx` or `pdf`: the matching events as a file.
    format: Option<String>,
}

/// A date input's day as the start (`from`) or the end (`to`) of that day in UTC; anything
/// else as given (an RFC 3339 time).
fn day_bound(s: &str, end: bool) -> String {
    let s = s.trim();
    let is_day = s.len() == 10 && s.as_bytes().get(4) == Some(&b'-');
    match (is_day, end) {
        (true, false) => format!("{s}T00:00:00Z"),
        (true, true) => format!("{s}T23:59:59.999Z"),
        (false, _) => s.to_owned(),
    }
}

/// `GET /audit-log?action=&actor=&before=&from=&to=&format=`.
pub async fn audit_log(
    State(state): State<AppState>,
    Console(c): Console,
    Query(p): Query<AuditParams>,
) -> PageResult {
    let (from, to) = crate::admin::time_range(
        Some(day_bound(&p.from, false)).as_deref(),
        Some(day_bound(&p.to, true)).as_deref(),
    )
    .map_err(CoreError::from)?;
    let query = |limit: u32, before: Option<i64>| AuditQuery {
        limit,
        before,
        action: Some(p.action.clone()),
        actor: Some(p.actor.trim().to_owned()),
        from,
        to,
    };
    if let Some(f) = &p.format {
        let Some(format) = super::export::Format::parse(f) else {
            return Ok(super::views::message_page(
                StatusCode::BAD_REQUEST,
                "Unknown export format",
                &format!("'{f}' is not an export format: use csv, xlsx or pdf."),
            ));
        };
        // Every matching event, page after page, up to a bound that keeps a file sane.
        let mut rows = Vec::new();
        let mut before = None;
        loop {
            let page = state
                .services
                .list_audit(&c.ctx, c.org.slug.as_str(), query(500, before))
                .await?;
            rows.extend(page.iter().map(|e| {
                vec![
                    tessera_domain::clock::rfc3339_millis::format(e.created_at),
                    e.actor.name.clone(),
                    e.actor.kind.clone(),
                    e.action.clone(),
                    match &e.target_id {
                        Some(id) => format!("{} {id}", e.target_type),
                        None => e.target_type.clone(),
                    },
                    e.ip.clone().unwrap_or_default(),
                ]
            }));
            before = page.last().map(|e| e.id);
            if page.len() < 500 || rows.len() >= MAX_AUDIT_EXPORT {
                break;
            }
        }
        let title = format!("Audit Log — {}", c.org.slug.as_str());
        let table = super::export::Table {
            title: &title,
            headings: &["When", "Actor", "Actor Kind", "Action", "Target", "Address"],
            rows,
        };
        return super::export::download(
            &table,
            format,
            &format!("audit-log-{}", c.org.slug.as_str()),
        );
    }
    let events = state
        .services
        .list_audit(&c.ctx, c.org.slug.as_str(), query(AUDIT_PAGE, p.before))
        .await?;
    let older_href = (events.len() == AUDIT_PAGE as usize)
        .then(|| events.last().map(|e| e.id))
        .flatten()
        .map(|last| {
            let mut s =
                url::form_urlencoded::Serializer::for_suffix(String::from("/audit-log?"), 11);
            if !p.action.is_empty() {
                s.append_pair("action", &p.action);
            }
            if !p.actor.is_empty() {
                s.append_pair("actor", &p.actor);
            }
            if !p.from.is_empty() {
                s.append_pair("from", &p.from);
            }
            if !p.to.is_empty() {
                s.append_pair("to", &p.to);
            }
            s.append_pair("before", &last.to_string());
            s.finish()
        });
    let page = AuditPage {
        l: Layout::new(&c, "Audit Log", "/audit-log"),
        rows: events
            .iter()
            .map(|e| AuditRow {
                at: when(&e.created_at),
                actor: e.actor.name.clone(),
                actor_kind: e.actor.kind.clone(),
                action: e.action.clone(),
                target: match &e.target_id {
                    Some(id) => format!("{} {id}", e.target_type),
                    None => e.target_type.clone(),
                },
                ip: e.ip.clone().unwrap_or_default(),
            })
            .collect(),
        actions: AuditAction::ALL
            .iter()
            .map(|a| Choice {
                value: a.as_str().to_owned(),
                label: a.as_str().to_owned(),
                checked: a.as_str() == p.action,
            })
            .collect(),
        export_query: {
            let mut s = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in [
                ("action", &p.action),
                ("actor", &p.actor),
                ("from", &p.from),
                ("to", &p.to),
            ] {
                if !v.is_empty() {
                    s.append_pair(k, v);
                }
            }
            let q = s.finish();
            if q.is_empty() {
                q
            } else {
                format!("{q}&")
            }
        },
        from: p.from,
        to: p.to,
        action: p.action,
        actor: p.actor,
        older_href,
    };
    Ok(render(StatusCode::OK, &page))
}

#[derive(Debug, Default, Deserialize)]
pub struct AccessParams {
    done: Option<String>,
}

/// `GET /members/{id}/access`: the apps a member authorized and their sign-in sessions.
pub async fn member_access(
    State(state): State<AppState>,
    Console(c): Console,
    Path(id): Path<String>,
    Query(p): Query<AccessParams>,
) -> PageResult {
    let org = c.org.slug.as_str();
    let consents = state.services.user_consents(&c.ctx, org, &id).await?;
    let sessions = state.services.user_sessions(&c.ctx, org, &id).await?;
    let second = state.services.user_second_factor(&c.ctx, org, &id).await?;
    let notice = match p.done.as_deref() {
        Some("revoked") => Some("The app's authorization is revoked.".to_owned()),
        Some("signed-out") => Some("The member is signed out everywhere.".to_owned()),
        Some("second-factor-reset") => Some(
            "Two-step verification is reset: the member signs in with the password and may set it up again."
                .to_owned(),
        ),
        _ => None,
    };
    let page = super::views::MemberAccessPage {
        l: Layout::new(&c, "Apps and Sessions", "/members").with_notice(notice),
        id,
        consents: consents
            .into_iter()
            .map(|a| super::views::ConsentRow {
                name: a.client_name.unwrap_or_else(|| "(deleted client)".into()),
                client_id: a.client_id,
                scopes: a.scopes,
                granted: when(&a.granted_at),
            })
            .collect(),
        sessions: sessions
            .into_iter()
            .map(|s| super::views::SessionRow {
                id: s.id,
                signed_in: when(&s.auth_time),
                expires: when(&s.expires_at),
            })
            .collect(),
        can_edit: c.can(Permission::UsersEdit),
        second_factor: second.enabled,
        recovery_left: second.recovery_codes_left,
    };
    Ok(super::render(StatusCode::OK, &page))
}

/// `POST /members/{id}/access`: `op=revoke-consent` (with `client_id`) or `op=end-sessions`.
pub async fn change_member_access(
    State(state): State<AppState>,
    Console(c): Console,
    Path(id): Path<String>,
    body: Bytes,
) -> PageResult {
    let f = Form::parse(&body);
    let org = c.org.slug.as_str();
    let done = match f.get("op") {
        Some("revoke-consent") => {
            let client = f.get("client_id").unwrap_or_default();
            state
                .services
                .withdraw_consent(&c.ctx, org, &id, client)
                .await?;
            "revoked"
        }
        Some("end-sessions") => {
            state.services.end_user_sessions(&c.ctx, org, &id).await?;
            "signed-out"
        }
        Some("reset-second-factor") => {
            state.services.reset_second_factor(&c.ctx, org, &id).await?;
            "second-factor-reset"
        }
        _ => {
            return Ok(super::views::message_page(
                StatusCode::BAD_REQUEST,
                "Unknown action",
                "Use Revoke or Sign Out Everywhere.",
            ))
        }
    };
    Ok(redirect(&format!("/members/{id}/access?done={done}")))
}

/// The organization's roles as checkboxes, `checked` ticked.
async fn role_choices(
    state: &AppState,
    c: &ConsoleCaller,
    checked: &[String],
) -> Result<Vec<Choice>, CoreError> {
    Ok(state
        .services
        .list_roles(&c.ctx, c.org.slug.as_str())
        .await?
        .into_iter()
        .map(|r| Choice {
            checked: checked.contains(&r.name),
            label: if r.built_in {
                r.name.clone()
            } else {
                format!("{} (custom)", r.name)
            },
            value: r.name,
        })
        .collect())
}

#[derive(Debug, Default, Deserialize)]
pub struct DialogQuery {
    pub(super) create: Option<String>,
    pub(super) done: Option<String>,
}

/// `GET /members`.
pub async fn members(
    State(state): State<AppState>,
    Console(c): Console,
    Query(q): Query<DialogQuery>,
) -> PageResult {
    let notice = match q.done.as_deref() {
        Some("added") => Some("The member is added.".to_owned()),
        Some("updated") => Some("The member is updated.".to_owned()),
        Some("policy") => Some("The sign-in rules are saved.".to_owned()),
        _ => None,
    };
    let form = MemberForm {
        open: q.create.is_some(),
        roles: Vec::new(),
        ..MemberForm::default()
    };
    members_page(&state, &c, form, notice, StatusCode::OK).await
}

async fn members_page(
    state: &AppState,
    c: &ConsoleCaller,
    mut form: MemberForm,
    notice: Option<String>,
    status: StatusCode,
) -> PageResult {
    let users = state
        .services
        .list_users(&c.ctx, c.org.slug.as_str())
        .await?;
    let all_roles = role_choices(state, c, &[]).await?;
    if form.roles.is_empty() {
        form.roles = all_roles.clone();
    }
    let me = match &c.ctx.principal.kind {
        PrincipalKind::User(id) => Some(*id),
        _ => None,
    };
    let rows = users
        .iter()
        .map(|u| {
            let names: Vec<String> = u.roles.iter().map(|r| r.as_str().to_owned()).collect();
            MemberRow {
                id: u.id.to_string(),
                username: u.username.as_str().to_owned(),
                profile: profile_fields(u),
                name: u.name.clone().unwrap_or_default(),
                email: u
                    .email
                    .as_ref()
                    .map(|e| e.as_str().to_owned())
                    .unwrap_or_default(),
                roles: all_roles
                    .iter()
                    .map(|r| Choice {
                        checked: names.contains(&r.value),
                        ..r.clone()
                    })
                    .collect(),
                role_names: if u.is_system_admin {
                    format!("{} (system administrator)", names.join(", "))
                } else {
                    names.join(", ")
                },
                is_active: u.is_active,
                is_self: me == Some(u.id),
                created: when(&u.created_at),
            }
        })
        .collect();
    let page = MembersPage {
        l: Layout::new(c, "Members", "/members").with_notice(notice),
        rows,
        can_create: c.can(Permission::UsersCreate),
        can_edit: c.can(Permission::UsersEdit),
        can_deactivate: c.can(Permission::UsersDelete),
        create: form,
        require_second_factor: state
            .services
            .get_security_policy(&c.ctx, c.org.slug.as_str())
            .await?
            .require_second_factor_for_admins,
    };
    Ok(render(status, &page))
}

/// `POST /security-policy`: the Members page's sign-in rules (`require_second_factor`).
pub async fn set_security_policy(
    State(state): State<AppState>,
    Console(c): Console,
    body: Bytes,
) -> PageResult {
    let f = Form::parse(&body);
    let policy = tessera_core::mfa::SecurityPolicy {
        require_second_factor_for_admins: f.get("require_second_factor").is_some(),
    };
    state
        .services
        .set_security_policy(&c.ctx, c.org.slug.as_str(), policy)
        .await?;
    Ok(redirect("/members?done=policy"))
}

/// `POST /members`: the Add Member dialog.
pub async fn create_member(
    State(state): State<AppState>,
    Console(c): Console,
    body: Bytes,
) -> PageResult {
    let f = Form::parse(&body);
    let roles = f.all("roles");
    let input = NewUser {
        username: f.text("username"),
        email: f.optional("email"),
        name: f.optional("name"),
        password: f
            .get("password")
            .filter(|p| !p.is_empty())
            .map(|p| SecretString::from(p.to_owned())),
        roles: roles.clone(),
        profile: Default::default(),
    };
    match state
        .services
        .create_user(&c.ctx, c.org.slug.as_str(), input)
        .await
    {
        Ok(_) => Ok(redirect("/members?done=added")),
        Err(e @ (CoreError::Validation(_) | CoreError::Conflict(_))) => {
            let mut errors =
                FieldErrors::from_error(&e, &["username", "name", "email", "password", "roles"]);
            if let CoreError::Conflict(m) = &e {
                errors.general.clear();
                errors.add("username", m.clone());
            }
            let form = MemberForm {
                open: true,
                username: f.text("username"),
                name: f.text("name"),
                email: f.text("email"),
                roles: role_choices(&state, &c, &roles).await?,
                errors,
            };
            members_page(&state, &c, form, None, StatusCode::BAD_REQUEST).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /members/{id}` with `op=roles|deactivate|reactivate`.
pub async fn update_member(
    State(state): State<AppState>,
    Console(c): Console,
    Path(id): Path<String>,
    body: Bytes,
) -> PageResult {
    let f = Form::parse(&body);
    let patch = match f.get("op") {
        Some("roles") => UserPatch {
            roles: Some(f.all("roles")),
            ..UserPatch::default()
        },
        Some("deactivate") => UserPatch {
            is_active: Some(false),
            ..UserPatch::default()
        },
        Some("reactivate") => UserPatch {
            is_active: Some(true),
            ..UserPatch::default()
        },
        Some("profile") => profile_patch(&f),
        other => {
            return Err(CoreError::invalid(
                "op",
                format!(
                    "unknown change '{}': use roles, profile, deactivate or reactivate",
                    other.unwrap_or("")
                ),
            )
            .into())
        }
    };
    state
        .services
        .update_user(&c.ctx, c.org.slug.as_str(), &id, patch)
        .await?;
    Ok(redirect("/members?done=updated"))
}

/// A member's standard claims as the profile form shows them, read from the user object the
/// API shows (one mapping of names, the API's).
fn profile_fields(u: &tessera_domain::User) -> Vec<ProfileField> {
    let v = serde_json::to_value(u).unwrap_or_default();
    PROFILE_LABELS
        .iter()
        .map(|(name, label)| {
            let value = match name.split_once('.') {
                Some((outer, inner)) => &v[outer][inner],
                None => &v[*name],
            };
            ProfileField {
                name: (*name).to_owned(),
                label,
                checkbox: value.is_boolean(),
                value: match value {
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Bool(true) => "true".into(),
                    _ => String::new(),
                },
            }
        })
        .collect()
}

/// The profile form as a change: name, e-mail and every standard claim (an empty field
/// clears it, an unticked box is `false`).
fn profile_patch(f: &Form) -> UserPatch {
    use serde_json::{Map, Value};
    let mut profile = Map::new();
    let mut address = Map::new();
    for (name, _) in PROFILE_LABELS {
        let value = match *name {
            "emailVerified" | "phoneNumberVerified" => Value::Bool(f.checked(name)),
            _ => Value::String(f.text(name)),
        };
        match name.strip_prefix("address.") {
            Some(part) => {
                address.insert(part.to_owned(), value);
            }
            None => {
                profile.insert((*name).to_owned(), value);
            }
        }
    }
    profile.insert("address".into(), Value::Object(address));
    UserPatch {
        name: Some(f.optional("name")),
        email: Some(f.optional("email")),
        profile,
        ..UserPatch::default()
    }
}

/// `GET /api-keys`.
pub async fn api_keys(
    State(state): State<AppState>,
    Console(c): Console,
    Query(q): Query<DialogQuery>,
) -> PageResult {
    let form = ApiKeyForm {
        open: q.create.is_some(),
        ..ApiKeyForm::default()
    };
    let notice = (q.done.as_deref() == Some("revoked"))
        .then(|| "The key is revoked: whatever uses it stops working now.".to_owned());
    api_keys_page(&state, &c, form, None, notice, StatusCode::OK).await
}

async fn api_keys_page(
    state: &AppState,
    c: &ConsoleCaller,
    mut form: ApiKeyForm,
    revealed: Option<Revealed>,
    notice: Option<String>,
    status: StatusCode,
) -> PageResult {
    let keys = state
        .services
        .list_api_keys(&c.ctx, c.org.slug.as_str())
        .await?;
    // The role list needs users:read; without it a key gets permissions only.
    if form.roles.is_empty() && c.can(Permission::ApiKeysCreate) {
        form.roles = match role_choices(state, c, &[]).await {
            Ok(r) => r,
            Err(CoreError::Forbidden(_)) => Vec::new(),
            Err(e) => return Err(e.into()),
        };
    }
    let rows = keys
        .iter()
        .map(|k| {
            let mut grants: Vec<String> = k.roles.iter().map(|r| r.as_str().to_owned()).collect();
            grants.extend(k.permissions.iter().map(|p| p.as_str().to_owned()));
            ApiKeyRow {
                id: k.id.to_string(),
                name: k.name.as_str().to_owned(),
                hint: k.hint.clone(),
                grants: grants.join(", "),
                created: when(&k.created_at),
                last_used: when_opt(k.last_used_at.as_ref()),
                revoked: k.revoked_at.as_ref().map(when),
            }
        })
        .collect();
    let page = ApiKeysPage {
        l: Layout::new(c, "API Keys", "/api-keys").with_notice(notice),
        rows,
        can_create: c.can(Permission::ApiKeysCreate),
        can_revoke: c.can(Permission::ApiKeysDelete),
        create: form,
        revealed,
    };
    Ok(render(status, &page))
}

/// `POST /api-keys`: the key is shown once, in the warning dialog.
pub async fn create_api_key(
    State(state): State<AppState>,
    Console(c): Console,
    body: Bytes,
) -> PageResult {
    let f = Form::parse(&body);
    let roles = f.all("roles");
    let input = NewApiKey {
        scope: KeyScope::Org(c.org.slug.as_str().to_owned()),
        name: f.text("name"),
        roles: roles.clone(),
        permissions: f.words("permissions"),
    };
    match state.services.create_api_key(&c.ctx, input).await {
        Ok(made) => {
            let revealed = Revealed {
                title: "API Key Created — Save Your Key".into(),
                body: "The key will only be shown once. Copy it now and store it securely.".into(),
                subject: made.key.name.as_str().to_owned(),
                secret: made.secret.expose_secret().to_owned(),
                copy_label: "Copy Key".into(),
                dismiss_href: "/api-keys".into(),
            };
            api_keys_page(
                &state,
                &c,
                ApiKeyForm::default(),
                Some(revealed),
                None,
                StatusCode::CREATED,
            )
            .await
        }
        Err(e @ (CoreError::Validation(_) | CoreError::Conflict(_) | CoreError::Forbidden(_))) => {
            let mut errors = FieldErrors::from_error(&e, &["name", "roles", "permissions"]);
            if let CoreError::Forbidden(p) = &e {
                errors.general.clear();
                errors.add(
                    "permissions",
                    format!("You cannot grant {p}: you do not hold it yourself."),
                );
            }
            let form = ApiKeyForm {
                open: true,
                name: f.text("name"),
                roles: match role_choices(&state, &c, &roles).await {
                    Ok(r) => r,
                    Err(CoreError::Forbidden(_)) => Vec::new(),
                    Err(e) => return Err(e.into()),
                },
                permissions: f.text("permissions"),
                errors,
            };
            api_keys_page(&state, &c, form, None, None, StatusCode::BAD_REQUEST).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /api-keys/{id}/revoke`.
pub async fn revoke_api_key(
    State(state): State<AppState>,
    Console(c): Console,
    Path(id): Path<String>,
) -> PageResult {
    state
        .services
        .revoke_api_key(&c.ctx, c.org.slug.as_str(), &id)
        .await?;
    Ok(redirect("/api-keys?done=revoked"))
}
