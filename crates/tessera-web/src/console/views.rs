//! The view models of the console's pages, one struct per template (`templates/console/`).
//! They hold display-ready text only: the handlers fill them from service results, and
//! [`tests`] renders every one of them with sample data.

use askama::Template;
use axum::response::Response;
use http::StatusCode;
use tessera_core::console::ConsoleCaller;
use tessera_domain::{Permission, Timestamp};

use super::forms::FieldErrors;

/// An entry of the sidebar.
#[derive(Debug, Clone)]
pub struct NavLink {
    pub href: &'static str,
    pub label: &'static str,
    pub active: bool,
}

/// What every signed-in page shows around its content.
#[derive(Debug, Clone)]
pub struct Layout {
    pub title: String,
    pub user: String,
    pub org_slug: String,
    /// (slug, name) of the organizations the switcher offers.
    pub orgs: Vec<(String, String)>,
    pub csrf: String,
    pub links: Vec<NavLink>,
    pub notice: Option<String>,
    pub error: Option<String>,
}

/// The sidebar: each page only for who may read it.
const NAV: &[(&str, &str, Permission)] = &[
    (
        "/oauth-clients",
        "OAuth Clients",
        Permission::OauthClientsRead,
    ),
    (
        "/dashboard/connections",
        "Connections",
        Permission::ConnectionsRead,
    ),
    (
        "/api-resources",
        "API Resources",
        Permission::ApiResourcesRead,
    ),
    ("/webhooks", "Webhooks", Permission::WebhooksRead),
    ("/audit-log", "Audit Log", Permission::AuditLogRead),
    ("/members", "Members", Permission::UsersRead),
    ("/api-keys", "API Keys", Permission::ApiKeysRead),
];

impl Layout {
    pub fn new(c: &ConsoleCaller, title: &str, active: &str) -> Self {
        Self {
            title: title.to_owned(),
            user: c.user.username.as_str().to_owned(),
            org_slug: c.org.slug.as_str().to_owned(),
            orgs: c
                .orgs
                .iter()
                .map(|o| (o.slug.as_str().to_owned(), o.name.as_str().to_owned()))
                .collect(),
            csrf: c.csrf.clone(),
            links: NAV
                .iter()
                .filter(|(_, _, p)| c.can(*p))
                .map(|(href, label, _)| NavLink {
                    href,
                    label,
                    active: *href == active,
                })
                .collect(),
            notice: None,
            error: None,
        }
    }

    pub fn with_notice(mut self, n: Option<String>) -> Self {
        self.notice = n;
        self
    }
}

/// A date and time as the console shows it: `2026-01-15 12:00 UTC`.
pub fn when(t: &Timestamp) -> String {
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}

/// The same, or a dash.
pub fn when_opt(t: Option<&Timestamp>) -> String {
    t.map_or_else(|| "—".to_owned(), when)
}

/// A page with a title and a sentence: errors, and the sign-out page.
#[derive(Template)]
#[template(path = "console/message.html")]
pub struct MessagePage<'a> {
    pub title: &'a str,
    pub message: &'a str,
}

pub fn message_page(status: StatusCode, title: &str, message: &str) -> Response {
    super::render(status, &MessagePage { title, message })
}

/// The console's sign-in page: which organization to sign in to.
#[derive(Template)]
#[template(path = "console/login.html")]
pub struct LoginPage {
    pub org: String,
    pub return_to: String,
    pub error: Option<String>,
}

/// A checkbox of a group.
#[derive(Debug, Clone)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub checked: bool,
}

/// The grant types offered on the client forms.
pub fn grant_choices(selected: &[String]) -> Vec<Choice> {
    tessera_domain::client::GrantType::ALL
        .iter()
        .map(|g| Choice {
            value: g.as_str().to_owned(),
            label: g.as_str().to_owned(),
            checked: selected.iter().any(|s| s == g.as_str()),
        })
        .collect()
}

/// A row of the clients table.
#[derive(Debug, Clone)]
pub struct ClientRow {
    pub id: String,
    pub name: String,
    pub client_type: &'static str,
    /// Empty when the client has none.
    pub client_uri: String,
    pub redirect_uris: Vec<String>,
    pub scopes: Vec<String>,
    pub grant_types: Vec<String>,
    pub is_active: bool,
}

/// The Create Client dialog: what was typed, and what was wrong with it.
#[derive(Debug, Clone)]
pub struct CreateClientForm {
    pub open: bool,
    pub name: String,
    pub client_id: String,
    pub confidential: bool,
    pub redirect_uris: String,
    pub scopes: String,
    pub grants: Vec<Choice>,
    pub client_uri: String,
    pub errors: FieldErrors,
}

impl Default for CreateClientForm {
    fn default() -> Self {
        Self {
            open: false,
            name: String::new(),
            client_id: String::new(),
            confidential: true,
            redirect_uris: String::new(),
            scopes: String::new(),
            client_uri: String::new(),
            grants: grant_choices(&["authorization_code".into(), "refresh_token".into()]),
            errors: FieldErrors::default(),
        }
    }
}

/// A secret shown once, in the warning dialog. Its `Debug` leaves the secret out, so that no
/// log line can carry it.
#[derive(Clone)]
pub struct Revealed {
    pub title: String,
    pub body: String,
    /// What the secret belongs to (client id or key name).
    pub subject: String,
    pub secret: String,
    pub copy_label: String,
    /// Where Dismiss leads: the same page, without the secret.
    pub dismiss_href: String,
}

impl std::fmt::Debug for Revealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Revealed")
            .field("title", &self.title)
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

impl Revealed {
    /// The seed's words for a client secret.
    pub fn client_secret(client_id: &str, secret: String, dismiss_href: String) -> Self {
        Self {
            title: "Client Created — Save Your Credentials".into(),
            body: "The client secret will only be shown once. Copy it now and store it securely."
                .into(),
            subject: client_id.to_owned(),
            secret,
            copy_label: "Copy Secret".into(),
            dismiss_href,
        }
    }
}

/// `/oauth-clients`.
#[derive(Template)]
#[template(path = "console/clients.html")]
pub struct ClientsPage {
    pub l: Layout,
    pub rows: Vec<ClientRow>,
    pub q: String,
    /// The order and filters as the address bar has them (empty: none).
    pub sort: String,
    pub is_active: String,
    pub client_type: String,
    pub total: i64,
    pub first: i64,
    pub last: i64,
    pub prev_href: Option<String>,
    pub next_href: Option<String>,
    /// `?q=…` for the export links.
    pub export_query: String,
    pub can_create: bool,
    pub can_edit: bool,
    pub can_delete: bool,
    pub create: CreateClientForm,
    pub revealed: Option<Revealed>,
}

/// A secret of a client, on its page.
#[derive(Debug, Clone)]
pub struct SecretRow {
    pub hint: String,
    pub created: String,
    pub expires: String,
    pub last_used: String,
}

/// Every field of a client, as the edit form shows it.
#[derive(Debug, Clone, Default)]
pub struct ClientForm {
    pub name: String,
    pub description: String,
    pub confidential: bool,
    pub redirect_uris: String,
    pub post_logout_redirect_uris: String,
    pub allowed_cors_origins: String,
    pub allowed_scopes: String,
    pub grants: Vec<Choice>,
    pub is_active: bool,
    pub require_pkce: bool,
    pub require_consent: bool,
    pub client_uri: String,
    pub logo_uri: String,
    pub access_token_lifetime: String,
    pub refresh_token_lifetime: String,
    /// The signing algorithms, the client's one checked.
    pub id_token_algs: Vec<Choice>,
    pub access_token_algs: Vec<Choice>,
    /// Userinfo's answer: JSON or a signing algorithm.
    pub userinfo_algs: Vec<Choice>,
    /// The algorithm request objects must be signed with: any, or one.
    pub request_object_algs: Vec<Choice>,
    /// How a confidential client authenticates.
    pub auth_methods: Vec<Choice>,
    /// The client's JWK Set, as JSON text.
    pub jwks: String,
    pub jwks_uri: String,
    pub subject_clients: String,
    pub allow_impersonation: bool,
    /// `fapi2` or empty.
    pub security_profile: String,
    pub require_par: bool,
    pub dpop_bound: bool,
    pub require_signed_request_object: bool,
    pub backchannel_logout_uri: String,
    pub backchannel_logout_session_required: bool,
    pub errors: FieldErrors,
}

/// `/oauth-clients/{client_id}`.
#[derive(Template)]
#[template(path = "console/client_edit.html")]
pub struct ClientEditPage {
    pub l: Layout,
    pub id: String,
    pub client_type: &'static str,
    pub created: String,
    pub updated: String,
    pub f: ClientForm,
    pub secrets: Vec<SecretRow>,
    pub can_edit: bool,
    pub can_delete: bool,
    pub revealed: Option<Revealed>,
    /// The Set New Secret dialog open (again, with its error).
    pub set_secret_open: bool,
    pub secret_error: String,
    /// The delete confirmation open (the page form of it, without the script).
    pub confirm_delete: bool,
}

/// A row of the audit log.
#[derive(Debug, Clone)]
pub struct AuditRow {
    pub at: String,
    pub actor: String,
    pub actor_kind: String,
    pub action: String,
    pub target: String,
    pub ip: String,
}

/// `/audit-log`.
#[derive(Template)]
#[template(path = "console/audit_log.html")]
pub struct AuditPage {
    pub l: Layout,
    pub rows: Vec<AuditRow>,
    /// Every audit action, the one filtered on checked.
    pub actions: Vec<Choice>,
    pub action: String,
    pub actor: String,
    /// The date range as typed (empty: none).
    pub from: String,
    pub to: String,
    /// The filters as a query string ending in `&` (or empty), for the export links.
    pub export_query: String,
    pub older_href: Option<String>,
}

/// A member in the table.
#[derive(Debug, Clone)]
pub struct MemberRow {
    pub id: String,
    pub username: String,
    pub name: String,
    pub email: String,
    /// The standard claims (OIDC Core §5.1), as the profile form shows them.
    pub profile: Vec<ProfileField>,
    pub roles: Vec<Choice>,
    pub role_names: String,
    pub is_active: bool,
    pub is_self: bool,
    pub created: String,
}

/// One standard claim in a member's profile form.
#[derive(Debug, Clone, Default)]
pub struct ProfileField {
    /// The form field: the API's name (`givenName`, `address.locality`).
    pub name: String,
    pub label: &'static str,
    pub value: String,
    /// A yes/no claim (`emailVerified`), shown as a checkbox.
    pub checkbox: bool,
}

/// The profile form's fields: the API's names and the console's labels.
pub const PROFILE_LABELS: &[(&str, &str)] = &[
    ("givenName", "Given name"),
    ("familyName", "Family name"),
    ("middleName", "Middle name"),
    ("nickname", "Nickname"),
    ("profile", "Profile page URL"),
    ("picture", "Picture URL"),
    ("website", "Website"),
    ("gender", "Gender"),
    ("birthdate", "Birthdate (YYYY-MM-DD)"),
    ("zoneinfo", "Time zone (e.g. Europe/Paris)"),
    ("locale", "Locale (e.g. en-US)"),
    ("emailVerified", "Email verified"),
    ("phoneNumber", "Phone number"),
    ("phoneNumberVerified", "Phone number verified"),
    ("address.formatted", "Address (as printed)"),
    ("address.streetAddress", "Street address"),
    ("address.locality", "City"),
    ("address.region", "Region"),
    ("address.postalCode", "Postal code"),
    ("address.country", "Country"),
];

/// The Add Member dialog.
#[derive(Debug, Clone, Default)]
pub struct MemberForm {
    pub open: bool,
    pub username: String,
    pub name: String,
    pub email: String,
    pub roles: Vec<Choice>,
    pub errors: FieldErrors,
}

/// `/members`.
#[derive(Template)]
#[template(path = "console/members.html")]
pub struct MembersPage {
    pub l: Layout,
    pub rows: Vec<MemberRow>,
    pub can_create: bool,
    pub can_edit: bool,
    pub can_deactivate: bool,
    pub create: MemberForm,
    /// The organization's rule: administrators need two-step verification.
    pub require_second_factor: bool,
}

/// An API key in the table.
#[derive(Debug, Clone)]
pub struct ApiKeyRow {
    pub id: String,
    pub name: String,
    pub hint: String,
    pub grants: String,
    pub created: String,
    pub last_used: String,
    pub revoked: Option<String>,
}

/// The Create API Key dialog.
#[derive(Debug, Clone, Default)]
pub struct ApiKeyForm {
    pub open: bool,
    pub name: String,
    pub roles: Vec<Choice>,
    pub permissions: String,
    pub errors: FieldErrors,
}

/// An API resource in the table.
#[derive(Debug, Clone)]
pub struct ApiResourceRow {
    pub id: String,
    pub name: String,
    pub identifier: String,
    /// `name: description` for each scope.
    pub scopes: Vec<String>,
    pub token: String,
    pub clients: String,
    pub created: String,
}

/// The Create (or Edit) API Resource dialog.
#[derive(Debug, Clone, Default)]
pub struct ApiResourceForm {
    pub open: bool,
    /// The id of the resource being edited; `None`: a new one.
    pub editing: Option<String>,
    pub identifier: String,
    pub name: String,
    pub description: String,
    /// One scope a line, `name` or `name: description`.
    pub scopes: String,
    pub lifetime: String,
    pub alg: String,
    /// Client ids separated by spaces; empty: every client.
    pub clients: String,
    pub errors: FieldErrors,
}

/// `/api-resources`.
#[derive(Template)]
#[template(path = "console/api_resources.html")]
pub struct ApiResourcesPage {
    pub l: Layout,
    pub rows: Vec<ApiResourceRow>,
    pub can_create: bool,
    pub can_edit: bool,
    pub can_delete: bool,
    pub create: ApiResourceForm,
}

/// The Create Webhook dialog.
#[derive(Debug, Default)]
pub struct WebhookForm {
    pub open: bool,
    pub url: String,
    /// Event types separated by spaces; empty: all.
    pub events: String,
    pub errors: FieldErrors,
}

/// A subscription on the Webhooks page.
#[derive(Debug, Clone)]
pub struct WebhookRow {
    pub id: String,
    pub url: String,
    pub events: String,
    pub active: bool,
    pub created: String,
}

/// `/webhooks`.
#[derive(Template)]
#[template(path = "console/webhooks.html")]
pub struct WebhooksPage {
    pub l: Layout,
    pub rows: Vec<WebhookRow>,
    pub can_edit: bool,
    pub create: WebhookForm,
    pub revealed: Option<Revealed>,
}

/// One delivery in a subscription's log.
#[derive(Debug, Clone)]
pub struct WebhookDeliveryRow {
    pub id: String,
    pub event_id: String,
    pub event_type: String,
    pub status: &'static str,
    pub attempts: i32,
    pub response: String,
    pub duration: String,
    pub error: String,
    pub last_attempt: String,
    pub next_attempt: String,
}

/// `/webhooks/{id}`.
#[derive(Template)]
#[template(path = "console/webhook_deliveries.html")]
pub struct WebhookDeliveriesPage {
    pub l: Layout,
    pub id: String,
    pub url: String,
    pub rows: Vec<WebhookDeliveryRow>,
    pub can_edit: bool,
}

/// An app a member authorized, on their Apps and Sessions page.
#[derive(Debug, Clone)]
pub struct ConsentRow {
    pub client_id: String,
    pub name: String,
    pub scopes: Vec<String>,
    pub granted: String,
}

/// A member's live sign-in session, on their Apps and Sessions page.
#[derive(Debug, Clone)]
pub struct SessionRow {
    pub id: String,
    pub signed_in: String,
    pub expires: String,
}

/// `/members/{id}/access`.
#[derive(Template)]
#[template(path = "console/member_access.html")]
pub struct MemberAccessPage {
    pub l: Layout,
    pub id: String,
    pub consents: Vec<ConsentRow>,
    pub sessions: Vec<SessionRow>,
    pub can_edit: bool,
    /// Two-step verification: on, and the recovery codes left.
    pub second_factor: bool,
    pub recovery_left: usize,
}

/// `/api-keys`.
#[derive(Template)]
#[template(path = "console/api_keys.html")]
pub struct ApiKeysPage {
    pub l: Layout,
    pub rows: Vec<ApiKeyRow>,
    pub can_create: bool,
    pub can_revoke: bool,
    pub create: ApiKeyForm,
    pub revealed: Option<Revealed>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    //! Every template rendered with sample data, escaping checked on the way.

    use super::*;

    pub const EVIL: &str = "<script>alert(1)</script>";

    pub fn layout() -> Layout {
        Layout {
            title: "T".into(),
            user: EVIL.into(),
            org_slug: "acme".into(),
            orgs: vec![
                ("acme".into(), "Acme".into()),
                ("other".into(), EVIL.into()),
            ],
            csrf: "csrf-123".into(),
            links: vec![NavLink {
                href: "/oauth-clients",
                label: "OAuth Clients",
                active: true,
            }],
            notice: Some(EVIL.into()),
            error: Some("bad".into()),
        }
    }

    pub fn check(html: &str, needles: &[&str]) {
        assert!(!html.contains(EVIL), "unescaped text in: {html}");
        for n in needles {
            assert!(html.contains(n), "missing {n:?} in: {html}");
        }
    }

    fn revealed() -> Revealed {
        Revealed::client_secret("c-1", "cs_live_SECRET".into(), "/oauth-clients".into())
    }

    #[test]
    fn every_page_renders_with_sample_data() {
        let row = ClientRow {
            id: "c-1".into(),
            name: EVIL.into(),
            client_type: "confidential",
            client_uri: EVIL.into(),
            redirect_uris: vec!["https://a.example/cb".into()],
            scopes: vec!["openid".into()],
            grant_types: vec!["client_credentials".into()],
            is_active: false,
        };
        let mut create = CreateClientForm {
            open: true,
            ..CreateClientForm::default()
        };
        create.errors.add("redirectUris", "Line 1: must use https");
        let html = ClientsPage {
            l: layout(),
            rows: vec![row],
            q: EVIL.into(),
            sort: EVIL.into(),
            is_active: String::new(),
            client_type: String::new(),
            total: 1,
            first: 1,
            last: 1,
            prev_href: None,
            next_href: Some("/oauth-clients?offset=20".into()),
            export_query: "q=x".into(),
            can_create: true,
            can_edit: true,
            can_delete: true,
            create,
            revealed: Some(revealed()),
        }
        .render()
        .unwrap();
        check(
            &html,
            &[
                "Client Created — Save Your Credentials",
                "The client secret will only be shown once. Copy it now and store it securely.",
                "Copy Secret",
                "Dismiss",
                "placeholder=\"My Application\"",
                "Line 1: must use https",
                "Disabled",
                "csrf-123",
                "cs_live_SECRET",
                "format=xlsx",
            ],
        );

        let f = ClientForm {
            name: EVIL.into(),
            grants: grant_choices(&[]),
            id_token_algs: vec![Choice {
                value: "RS256".into(),
                label: "RS256".into(),
                checked: true,
            }],
            ..ClientForm::default()
        };
        let html = ClientEditPage {
            l: layout(),
            id: "c-1".into(),
            client_type: "confidential",
            created: "x".into(),
            updated: "y".into(),
            f,
            secrets: vec![SecretRow {
                hint: "…abcd".into(),
                created: "c".into(),
                expires: "—".into(),
                last_used: "—".into(),
            }],
            can_edit: true,
            can_delete: true,
            revealed: Some(revealed()),
            set_secret_open: true,
            secret_error: "too short".into(),
            confirm_delete: true,
        }
        .render()
        .unwrap();
        check(
            &html,
            &[
                "Regenerate Secret",
                "Set New Secret",
                "…abcd",
                "cannot be undone",
                "too short",
                "readonly",
            ],
        );

        let html = AuditPage {
            l: layout(),
            rows: vec![AuditRow {
                at: "t".into(),
                actor: EVIL.into(),
                actor_kind: "user".into(),
                action: "oauth_client.created".into(),
                target: "c-1".into(),
                ip: "127.0.0.1".into(),
            }],
            actions: vec![Choice {
                value: "oauth_client.created".into(),
                label: "oauth_client.created".into(),
                checked: false,
            }],
            action: String::new(),
            actor: String::new(),
            from: EVIL.into(),
            to: String::new(),
            export_query: String::new(),
            older_href: Some("/audit-log?before=3".into()),
        }
        .render()
        .unwrap();
        check(&html, &["oauth_client.created", "before=3"]);

        let roles = vec![Choice {
            value: "viewer".into(),
            label: "viewer".into(),
            checked: true,
        }];
        let html = MembersPage {
            l: layout(),
            rows: vec![MemberRow {
                id: "u-1".into(),
                username: EVIL.into(),
                name: String::new(),
                email: String::new(),
                profile: vec![ProfileField {
                    name: "givenName".into(),
                    label: "Given name",
                    value: EVIL.into(),
                    checkbox: false,
                }],
                roles: roles.clone(),
                role_names: "viewer".into(),
                is_active: true,
                is_self: false,
                created: "c".into(),
            }],
            can_create: true,
            can_edit: true,
            can_deactivate: true,
            create: MemberForm {
                open: true,
                roles: roles.clone(),
                ..MemberForm::default()
            },
            require_second_factor: true,
        }
        .render()
        .unwrap();
        check(
            &html,
            &[
                "Add Member",
                "Deactivate",
                "viewer",
                "require_second_factor",
            ],
        );

        let html = ApiKeysPage {
            l: layout(),
            rows: vec![ApiKeyRow {
                id: "k-1".into(),
                name: EVIL.into(),
                hint: "…wxyz".into(),
                grants: "admin".into(),
                created: "c".into(),
                last_used: "—".into(),
                revoked: None,
            }],
            can_create: true,
            can_revoke: true,
            create: ApiKeyForm {
                open: true,
                roles,
                ..ApiKeyForm::default()
            },
            revealed: Some(Revealed {
                title: "API Key Created — Save Your Key".into(),
                body: "b".into(),
                subject: "k".into(),
                secret: "sk_live_X".into(),
                copy_label: "Copy Key".into(),
                dismiss_href: "/api-keys".into(),
            }),
        }
        .render()
        .unwrap();
        check(&html, &["Create API Key", "Revoke", "…wxyz", "sk_live_X"]);

        let html = ApiResourcesPage {
            l: layout(),
            rows: vec![ApiResourceRow {
                id: "r-1".into(),
                name: EVIL.into(),
                identifier: "https://mcp.example.com/mcp".into(),
                scopes: vec![EVIL.into()],
                token: "600 s · ES256".into(),
                clients: EVIL.into(),
                created: "c".into(),
            }],
            can_create: true,
            can_edit: true,
            can_delete: true,
            create: ApiResourceForm {
                open: true,
                alg: "RS256".into(),
                ..ApiResourceForm::default()
            },
        }
        .render()
        .unwrap();
        check(
            &html,
            &[
                "Create API Resource",
                "Delete",
                "https://mcp.example.com/mcp",
                "value=\"RS256\" selected",
            ],
        );

        let html = MessagePage {
            title: EVIL,
            message: EVIL,
        }
        .render()
        .unwrap();
        check(&html, &[]);
        let html = LoginPage {
            org: EVIL.into(),
            return_to: "/members".into(),
            error: Some(EVIL.into()),
        }
        .render()
        .unwrap();
        check(&html, &["name=\"org\"", "/members"]);
    }
}
