//! Configuration as code: a document describing organizations and, in each, its clients, API
//! resources, custom roles, registration policy and webhook subscriptions, planned against
//! what is stored and applied through the same services as every other face (so every change
//! is checked, audited and announced as if made by hand).
//!
//! The document is checked whole before anything is planned: every bad item is named by its
//! path in the file (`organizations[0].clients[1].redirectUris[0]`) and nothing is applied.
//! Applying is idempotent: an item equal to what is stored is left alone, so a second run
//! changes nothing. `prune` deletes the clients, API resources and webhooks of the listed
//! organizations that the document no longer names (never the default clients Tessera makes
//! itself). Secrets are never in the document: a client's secret comes from `secretFrom` (an
//! environment variable or a file, read by the command line only) or is generated and returned
//! once; a webhook's is always generated.

use std::collections::{BTreeMap, BTreeSet};

use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde_json::{Map, Value};
use tessera_domain::api_resource::{ApiResource, ApiResourceInput, ApiResourceSettings};
use tessera_domain::client::{ClientInput, ClientSettings, OAuthClient};
use tessera_domain::error::Collector;
use tessera_domain::registration::RegistrationPolicy;
use tessera_domain::webhook::{Webhook, WebhookInput, WebhookSettings};
use tessera_domain::{
    AuditAction, FieldError, OrgSlug, Permission, PermissionSet, RoleName, ValidationError,
};

use crate::audit::AuditEntry;
use crate::{Context, CoreError, CoreResult, Services};

/// The clients Tessera makes itself in every organization: never pruned, never exported.
pub const DEFAULT_CLIENTS: &[&str] = &[
    crate::orgs::DEFAULT_CLI_CLIENT,
    crate::orgs::DEFAULT_CONSOLE_CLIENT,
    crate::account::DEFAULT_ACCOUNT_CLIENT,
    crate::account::DEFAULT_EXPLORER_CLIENT,
];

/// Reads a client's `secretFrom` (`{"env": NAME}` or `{"file": PATH}`) at `path`. The command
/// line reads its own environment and files; the REST face refuses it.
pub type SecretResolver<'a> = &'a (dyn Fn(&Value, &str) -> Result<String, FieldError> + Sync);

/// One change of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannedChange {
    /// `create`, `update` or `delete`.
    pub action: &'static str,
    /// `organization`, `client`, `apiResource`, `role`, `registrationPolicy` or `webhook`.
    pub kind: &'static str,
    pub organization: String,
    /// What names the item in its organization: client id, identifier, role name, URL.
    pub key: String,
    /// For an update, the fields that change.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
}

impl std::fmt::Display for PlannedChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sign = match self.action {
            "create" => '+',
            "delete" => '-',
            _ => '~',
        };
        write!(f, "{sign} {} {}", self.kind, self.organization)?;
        if !self.key.is_empty() {
            write!(f, "/{}", self.key)?;
        }
        if !self.fields.is_empty() {
            write!(f, " ({})", self.fields.join(", "))?;
        }
        Ok(())
    }
}

/// A secret made while applying, shown once.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppliedSecret {
    pub kind: &'static str,
    pub organization: String,
    pub key: String,
    #[serde(serialize_with = "expose")]
    pub secret: SecretString,
}

fn expose<S: serde::Serializer>(s: &SecretString, ser: S) -> Result<S::Ok, S::Error> {
    ser.serialize_str(s.expose_secret())
}

/// What `apply` did, or (dry run) would do.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplyOutcome {
    pub dry_run: bool,
    pub changes: Vec<PlannedChange>,
    /// How many items were already as the document says.
    pub unchanged: usize,
    pub secrets: Vec<AppliedSecret>,
}

/// One client of the document, checked.
struct DesiredClient {
    key: String,
    input: ClientInput,
    settings: ClientSettings,
}

struct DesiredResource {
    input: ApiResourceInput,
    settings: ApiResourceSettings,
}

struct DesiredRole {
    name: RoleName,
    raw: Vec<String>,
    permissions: PermissionSet,
}

struct DesiredWebhook {
    input: WebhookInput,
    settings: WebhookSettings,
}

/// One organization of the document, checked.
struct DesiredOrg {
    slug: String,
    name: Option<String>,
    clients: Vec<DesiredClient>,
    resources: Vec<DesiredResource>,
    roles: Vec<DesiredRole>,
    policy: Option<RegistrationPolicy>,
    webhooks: Vec<DesiredWebhook>,
}

/// The secrets `secretFrom` named, by organization slug and client id.
type ChosenSecrets = BTreeMap<(String, String), SecretString>;

/// Errors of one item, re-rooted at its path in the document.
fn push_at(c: &mut Collector, path: &str, e: ValidationError) {
    for fe in e.errors {
        let field = if fe.field.is_empty() {
            path.to_owned()
        } else if fe.field.starts_with('[') {
            format!("{path}{}", fe.field)
        } else {
            format!("{path}.{}", fe.field)
        };
        c.push(FieldError::new(field, fe.message));
    }
}

/// A typed item of the document, with serde's error named at its path.
fn typed<T: serde::de::DeserializeOwned>(c: &mut Collector, path: &str, v: &Value) -> Option<T> {
    match serde_path_to_error::deserialize::<_, T>(v) {
        Ok(t) => Some(t),
        Err(e) => {
            let inner = e.path().to_string();
            let field = if inner == "." || inner.is_empty() {
                path.to_owned()
            } else {
                format!("{path}.{inner}")
            };
            c.push(FieldError::new(field, e.into_inner().to_string()));
            None
        }
    }
}

/// The array at `key` of `obj` (absent: empty), each element with its path.
fn array<'v>(
    c: &mut Collector,
    obj: &'v Map<String, Value>,
    key: &str,
    path: &str,
) -> Vec<(String, &'v Value)> {
    match obj.get(key) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| (format!("{path}.{key}[{i}]"), v))
            .collect(),
        Some(_) => {
            c.push(FieldError::new(format!("{path}.{key}"), "must be a list"));
            Vec::new()
        }
    }
}

fn object<'v>(c: &mut Collector, v: &'v Value, path: &str) -> Option<&'v Map<String, Value>> {
    match v {
        Value::Object(m) => Some(m),
        _ => {
            c.push(FieldError::new(path, "must be a mapping"));
            None
        }
    }
}

fn duplicate(c: &mut Collector, seen: &mut BTreeSet<String>, key: &str, path: &str, what: &str) {
    if !seen.insert(key.to_owned()) {
        c.push(FieldError::new(
            path,
            format!("{what} '{key}' is listed twice in this organization"),
        ));
    }
}

/// Checks the whole document; every error named by its path.
fn parse_document(
    doc: &Value,
    secrets: Option<SecretResolver<'_>>,
    allow_http_loopback: bool,
    only_org: Option<&str>,
) -> Result<(Vec<DesiredOrg>, ChosenSecrets), ValidationError> {
    let mut c = Collector::new();
    let mut out = Vec::new();
    let mut chosen = BTreeMap::new();
    let Some(root) = object(&mut c, doc, "document") else {
        return Err(c
            .finish()
            .err()
            .unwrap_or_else(|| ValidationError::single("document", "must be a mapping")));
    };
    for k in root.keys() {
        if !matches!(k.as_str(), "version" | "organizations") {
            c.push(FieldError::new(
                k.clone(),
                "unknown field (expected version, organizations)",
            ));
        }
    }
    if let Some(v) = root.get("version") {
        if v != &Value::from(1) {
            c.push(FieldError::new("version", "must be 1"));
        }
    }
    let mut slugs = BTreeSet::new();
    for (opath, ov) in array(&mut c, root, "organizations", "") {
        let opath = opath.trim_start_matches('.').to_owned();
        let Some(o) = object(&mut c, ov, &opath) else {
            continue;
        };
        for k in o.keys() {
            if !matches!(
                k.as_str(),
                "slug"
                    | "name"
                    | "clients"
                    | "apiResources"
                    | "roles"
                    | "registrationPolicy"
                    | "webhooks"
            ) {
                c.push(FieldError::new(
                    format!("{opath}.{k}"),
                    "unknown field (expected slug, name, clients, apiResources, roles, registrationPolicy, webhooks)",
                ));
            }
        }
        let slug = match o.get("slug").and_then(Value::as_str) {
            Some(s) => match OrgSlug::parse(s) {
                Ok(_) => s.to_owned(),
                Err(e) => {
                    c.push(FieldError::new(format!("{opath}.slug"), e.message));
                    continue;
                }
            },
            None => {
                c.push(FieldError::new(format!("{opath}.slug"), "is required"));
                continue;
            }
        };
        if let Some(only) = only_org.filter(|o| *o != slug) {
            c.push(FieldError::new(
                format!("{opath}.slug"),
                format!("this endpoint applies organization '{only}' only"),
            ));
        }
        if !slugs.insert(slug.clone()) {
            c.push(FieldError::new(
                format!("{opath}.slug"),
                format!("organization '{slug}' is listed twice"),
            ));
        }
        let name = match o.get("name") {
            None | Some(Value::Null) => None,
            Some(Value::String(n)) => Some(n.clone()),
            Some(_) => {
                c.push(FieldError::new(format!("{opath}.name"), "must be a string"));
                None
            }
        };
        let mut org = DesiredOrg {
            slug: slug.clone(),
            name,
            clients: Vec::new(),
            resources: Vec::new(),
            roles: Vec::new(),
            policy: None,
            webhooks: Vec::new(),
        };

        let mut seen = BTreeSet::new();
        for (path, v) in array(&mut c, o, "clients", &opath) {
            let Some(m) = object(&mut c, v, &path) else {
                continue;
            };
            let mut m = m.clone();
            if m.contains_key("secret") {
                c.push(FieldError::new(
                    format!("{path}.secret"),
                    "secrets are never kept in the file: use secretFrom ({env: NAME} or {file: PATH}), or leave it out to have one generated",
                ));
                continue;
            }
            let from = m.remove("secretFrom");
            let Some(key) = m.get("clientId").and_then(Value::as_str).map(str::to_owned) else {
                c.push(FieldError::new(
                    format!("{path}.clientId"),
                    "is required: it names the client from one run to the next",
                ));
                continue;
            };
            duplicate(
                &mut c,
                &mut seen,
                &key,
                &format!("{path}.clientId"),
                "client",
            );
            let Some(input) = typed::<ClientInput>(&mut c, &path, &Value::Object(m)) else {
                continue;
            };
            let settings = match ClientSettings::validate(&input) {
                Ok(s) => s,
                Err(e) => {
                    push_at(&mut c, &path, e);
                    continue;
                }
            };
            if let Some(from) = from {
                let fpath = format!("{path}.secretFrom");
                match secrets {
                    None => c.push(FieldError::new(
                        fpath,
                        "is read by the command line only (tessera apply); over the API, leave it out and a secret is generated and returned once",
                    )),
                    Some(resolve) => match resolve(&from, &fpath) {
                        Ok(s) => {
                            chosen.insert((slug.clone(), key.clone()), SecretString::from(s));
                        }
                        Err(e) => c.push(e),
                    },
                }
            }
            org.clients.push(DesiredClient {
                key,
                input,
                settings,
            });
        }

        let mut seen = BTreeSet::new();
        for (path, v) in array(&mut c, o, "apiResources", &opath) {
            let Some(input) = typed::<ApiResourceInput>(&mut c, &path, v) else {
                continue;
            };
            duplicate(
                &mut c,
                &mut seen,
                input.identifier.trim(),
                &format!("{path}.identifier"),
                "API resource",
            );
            match ApiResourceSettings::validate(&input) {
                Ok(settings) => org.resources.push(DesiredResource { input, settings }),
                Err(e) => push_at(&mut c, &path, e),
            }
        }

        let mut seen = BTreeSet::new();
        for (path, v) in array(&mut c, o, "roles", &opath) {
            #[derive(serde::Deserialize)]
            #[serde(deny_unknown_fields)]
            struct RoleItem {
                name: String,
                permissions: Vec<String>,
            }
            let Some(item) = typed::<RoleItem>(&mut c, &path, v) else {
                continue;
            };
            let name = match RoleName::parse(&item.name) {
                Ok(n) if n.builtin().is_some() => {
                    c.push(FieldError::new(
                        format!("{path}.name"),
                        format!("'{n}' is a built-in role; choose another name"),
                    ));
                    continue;
                }
                Ok(n) => n,
                Err(e) => {
                    c.push(FieldError::new(format!("{path}.name"), e.message));
                    continue;
                }
            };
            duplicate(
                &mut c,
                &mut seen,
                name.as_str(),
                &format!("{path}.name"),
                "role",
            );
            let mut set = PermissionSet::EMPTY;
            for (i, p) in item.permissions.iter().enumerate() {
                match PermissionSet::parse_item(p) {
                    Ok(s) => set = set.union(s),
                    Err(e) => c.push(FieldError::new(
                        format!("{path}.permissions[{i}]"),
                        e.message,
                    )),
                }
            }
            if item.permissions.is_empty() {
                c.push(FieldError::new(
                    format!("{path}.permissions"),
                    "give the role at least one permission",
                ));
            }
            org.roles.push(DesiredRole {
                name,
                raw: item.permissions,
                permissions: set,
            });
        }

        if let Some(v) = o.get("registrationPolicy").filter(|v| !v.is_null()) {
            let path = format!("{opath}.registrationPolicy");
            if let Some(p) = typed::<RegistrationPolicy>(&mut c, &path, v) {
                match p.validate() {
                    Ok(()) => org.policy = Some(p),
                    Err(e) => push_at(&mut c, &path, e),
                }
            }
        }

        let mut seen = BTreeSet::new();
        for (path, v) in array(&mut c, o, "webhooks", &opath) {
            let Some(input) = typed::<WebhookInput>(&mut c, &path, v) else {
                continue;
            };
            match WebhookSettings::validate(&input, None, allow_http_loopback) {
                Ok(settings) => {
                    duplicate(
                        &mut c,
                        &mut seen,
                        settings.url.as_str(),
                        &format!("{path}.url"),
                        "webhook",
                    );
                    org.webhooks.push(DesiredWebhook { input, settings });
                }
                Err(e) => push_at(&mut c, &path, e),
            }
        }
        out.push(org);
    }
    if !root.contains_key("organizations") {
        c.push(FieldError::new(
            "organizations",
            "is required: a list of organizations",
        ));
    }
    c.finish()?;
    Ok((out, chosen))
}

/// The names of the top-level members that differ between two JSON objects.
fn changed_fields(before: &Value, after: &Value) -> Vec<String> {
    let empty = Map::new();
    let (b, a) = (
        before.as_object().unwrap_or(&empty),
        after.as_object().unwrap_or(&empty),
    );
    let keys: BTreeSet<&String> = b.keys().chain(a.keys()).collect();
    keys.into_iter()
        .filter(|k| b.get(*k) != a.get(*k))
        .filter(|k| {
            !matches!(
                k.as_str(),
                "updatedAt" | "createdAt" | "lastUsedAt" | "secrets"
            )
        })
        .cloned()
        .collect()
}

fn drop_nulls(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|_, v| !v.is_null());
            m.values_mut().for_each(drop_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

/// What is stored of one organization.
struct Current {
    exists: bool,
    clients: Vec<OAuthClient>,
    resources: Vec<ApiResource>,
    roles: BTreeMap<String, PermissionSet>,
    policy: Option<RegistrationPolicy>,
    webhooks: Vec<Webhook>,
}

/// One step of the plan, with what it needs to be carried out.
enum Step<'d> {
    CreateOrg(&'d DesiredOrg),
    CreateClient(&'d DesiredOrg, &'d DesiredClient),
    ReplaceClient(&'d DesiredOrg, &'d DesiredClient),
    DeleteClient(&'d DesiredOrg, String),
    CreateResource(&'d DesiredOrg, &'d DesiredResource),
    ReplaceResource(&'d DesiredOrg, &'d DesiredResource, String),
    DeleteResource(&'d DesiredOrg, String),
    CreateRole(&'d DesiredOrg, &'d DesiredRole),
    PutPolicy(&'d DesiredOrg, &'d RegistrationPolicy),
    CreateWebhook(&'d DesiredOrg, &'d DesiredWebhook),
    UpdateWebhook(&'d DesiredOrg, &'d DesiredWebhook, String),
    DeleteWebhook(&'d DesiredOrg, String),
}

impl Services {
    /// All of one organization's clients (the list pages through them).
    async fn every_client(&self, ctx: &Context, org: &str) -> CoreResult<Vec<OAuthClient>> {
        let mut all = Vec::new();
        loop {
            let (page, total) = self
                .list_clients(ctx, org, None, 200, all.len() as u32, Default::default())
                .await?;
            let n = page.len();
            all.extend(page);
            if n == 0 || all.len() as i64 >= total {
                return Ok(all);
            }
        }
    }

    async fn current(&self, ctx: &Context, slug: &str) -> CoreResult<Current> {
        match self.get_org(ctx, slug, None).await {
            Ok(_) => {}
            Err(CoreError::NotFound { .. }) => {
                return Ok(Current {
                    exists: false,
                    clients: Vec::new(),
                    resources: Vec::new(),
                    roles: BTreeMap::new(),
                    policy: None,
                    webhooks: Vec::new(),
                })
            }
            Err(e) => return Err(e),
        }
        Ok(Current {
            exists: true,
            clients: self.every_client(ctx, slug).await?,
            resources: self.all_api_resources(ctx, slug).await?,
            roles: self
                .list_roles(ctx, slug)
                .await?
                .into_iter()
                .filter(|r| !r.built_in)
                .map(|r| (r.name, r.permissions))
                .collect(),
            policy: Some(self.get_registration_policy(ctx, slug).await?),
            webhooks: self.list_webhooks(ctx, slug).await?,
        })
    }

    /// Plans (and unless `dry_run`, applies) `doc`. `only_org`: the REST face's organization,
    /// the only one the document may name. `secrets`: how `secretFrom` is read (`None`:
    /// refused).
    pub async fn apply_configuration(
        &self,
        ctx: &Context,
        doc: &Value,
        dry_run: bool,
        prune: bool,
        only_org: Option<&str>,
        secrets: Option<SecretResolver<'_>>,
    ) -> CoreResult<ApplyOutcome> {
        let (orgs, mut chosen) =
            parse_document(doc, secrets, self.webhook_http_loopback(), only_org)?;
        let mut steps: Vec<(PlannedChange, Step<'_>)> = Vec::new();
        let mut unchanged = 0usize;
        let mut conflicts = Collector::new();
        for (oi, o) in orgs.iter().enumerate() {
            let cur = self.current(ctx, &o.slug).await?;
            let change = |action, kind, key: &str, fields: Vec<String>| PlannedChange {
                action,
                kind,
                organization: o.slug.clone(),
                key: key.to_owned(),
                fields,
            };
            if !cur.exists {
                steps.push((
                    change("create", "organization", "", vec![]),
                    Step::CreateOrg(o),
                ));
            }
            for d in &o.clients {
                match cur.clients.iter().find(|c| c.id.as_str() == d.key) {
                    None => steps.push((
                        change("create", "client", &d.key, vec![]),
                        Step::CreateClient(o, d),
                    )),
                    Some(c) if c.settings == d.settings => unchanged += 1,
                    Some(c) => {
                        let before = serde_json::to_value(c.object()).unwrap_or_default();
                        let mut after_client = c.clone();
                        after_client.settings = d.settings.clone();
                        let after = serde_json::to_value(after_client.object()).unwrap_or_default();
                        let fields = changed_fields(&before, &after);
                        steps.push((
                            change("update", "client", &d.key, fields),
                            Step::ReplaceClient(o, d),
                        ));
                    }
                }
            }
            for d in &o.resources {
                let key = d.settings.identifier.as_str();
                match cur
                    .resources
                    .iter()
                    .find(|r| r.settings.identifier.as_str() == key)
                {
                    None => steps.push((
                        change("create", "apiResource", key, vec![]),
                        Step::CreateResource(o, d),
                    )),
                    Some(r) if r.settings == d.settings => unchanged += 1,
                    Some(r) => {
                        let before = serde_json::to_value(r.object()).unwrap_or_default();
                        let mut after_r = r.clone();
                        after_r.settings = d.settings.clone();
                        let after = serde_json::to_value(after_r.object()).unwrap_or_default();
                        steps.push((
                            change(
                                "update",
                                "apiResource",
                                key,
                                changed_fields(&before, &after),
                            ),
                            Step::ReplaceResource(o, d, r.id.to_string()),
                        ));
                    }
                }
            }
            for (ri, d) in o.roles.iter().enumerate() {
                match cur.roles.get(d.name.as_str()) {
                    None => steps.push((change("create", "role", d.name.as_str(), vec![]), Step::CreateRole(o, d))),
                    Some(p) if *p == d.permissions => unchanged += 1,
                    Some(_) => conflicts.push(FieldError::new(
                        format!("organizations[{oi}].roles[{ri}].permissions"),
                        format!(
                            "role '{}' is already defined with other permissions; a role's permissions are fixed once defined (choose a new name)",
                            d.name
                        ),
                    )),
                }
            }
            if let Some(p) = &o.policy {
                if cur.policy.as_ref() == Some(p) {
                    unchanged += 1;
                } else {
                    let before = cur
                        .policy
                        .as_ref()
                        .map(|p| serde_json::to_value(p).unwrap_or_default())
                        .unwrap_or_default();
                    let after = serde_json::to_value(p).unwrap_or_default();
                    steps.push((
                        change(
                            "update",
                            "registrationPolicy",
                            "",
                            changed_fields(&before, &after),
                        ),
                        Step::PutPolicy(o, p),
                    ));
                }
            }
            for d in &o.webhooks {
                let key = d.settings.url.as_str();
                match cur.webhooks.iter().find(|w| w.url.as_str() == key) {
                    None => steps.push((
                        change("create", "webhook", key, vec![]),
                        Step::CreateWebhook(o, d),
                    )),
                    Some(w)
                        if w.events == d.settings.events && w.is_active == d.settings.is_active =>
                    {
                        unchanged += 1
                    }
                    Some(w) => {
                        let mut fields = Vec::new();
                        if w.events != d.settings.events {
                            fields.push("events".to_owned());
                        }
                        if w.is_active != d.settings.is_active {
                            fields.push("isActive".to_owned());
                        }
                        steps.push((
                            change("update", "webhook", key, fields),
                            Step::UpdateWebhook(o, d, w.id.to_string()),
                        ));
                    }
                }
            }
            if prune {
                for c in &cur.clients {
                    let id = c.id.as_str();
                    if !DEFAULT_CLIENTS.contains(&id) && !o.clients.iter().any(|d| d.key == id) {
                        steps.push((
                            change("delete", "client", id, vec![]),
                            Step::DeleteClient(o, id.to_owned()),
                        ));
                    }
                }
                for r in &cur.resources {
                    let key = r.settings.identifier.as_str();
                    if !o
                        .resources
                        .iter()
                        .any(|d| d.settings.identifier.as_str() == key)
                    {
                        steps.push((
                            change("delete", "apiResource", key, vec![]),
                            Step::DeleteResource(o, r.id.to_string()),
                        ));
                    }
                }
                for w in &cur.webhooks {
                    let key = w.url.as_str();
                    if !o.webhooks.iter().any(|d| d.settings.url.as_str() == key) {
                        steps.push((
                            change("delete", "webhook", key, vec![]),
                            Step::DeleteWebhook(o, w.id.to_string()),
                        ));
                    }
                }
            }
        }
        conflicts.finish()?;
        self.check_plan_permissions(ctx, &steps).await?;

        let changes: Vec<PlannedChange> = steps.iter().map(|(c, _)| c.clone()).collect();
        let mut outcome = ApplyOutcome {
            dry_run,
            changes,
            unchanged,
            secrets: Vec::new(),
        };
        if dry_run {
            return Ok(outcome);
        }
        let mut touched: BTreeMap<String, usize> = BTreeMap::new();
        for (change, step) in &steps {
            *touched.entry(change.organization.clone()).or_default() += 1;
            self.carry_out(ctx, step, &mut chosen, &mut outcome.secrets)
                .await?;
        }
        for (slug, n) in touched {
            self.audit_applied(ctx, &slug, n).await?;
        }
        Ok(outcome)
    }

    /// Every permission the plan needs, checked before the first change.
    async fn check_plan_permissions(
        &self,
        ctx: &Context,
        steps: &[(PlannedChange, Step<'_>)],
    ) -> CoreResult<()> {
        let mut orgs = BTreeMap::new();
        for (change, step) in steps {
            let perm = match step {
                Step::CreateOrg(_) => {
                    if !ctx.principal.is_system_admin {
                        return Err(CoreError::invalid(
                            "organizations",
                            format!("organization '{}' does not exist, and only a system administrator creates organizations", change.organization),
                        ));
                    }
                    continue;
                }
                Step::CreateClient(..) => Permission::OauthClientsCreate,
                Step::ReplaceClient(..) | Step::PutPolicy(..) => Permission::OauthClientsEdit,
                Step::DeleteClient(..) => Permission::OauthClientsDelete,
                Step::CreateResource(..) => Permission::ApiResourcesCreate,
                Step::ReplaceResource(..) => Permission::ApiResourcesEdit,
                Step::DeleteResource(..) => Permission::ApiResourcesDelete,
                Step::CreateRole(..) => Permission::UsersEdit,
                Step::CreateWebhook(..) | Step::UpdateWebhook(..) | Step::DeleteWebhook(..) => {
                    Permission::WebhooksEdit
                }
            };
            if ctx.principal.is_system_admin {
                continue;
            }
            let org = match orgs.get(&change.organization) {
                Some(o) => *o,
                None => {
                    let o = self.get_org(ctx, &change.organization, None).await?.id;
                    orgs.insert(change.organization.clone(), o);
                    o
                }
            };
            if !ctx.principal.has(org, perm) {
                return Err(CoreError::Forbidden(perm));
            }
        }
        Ok(())
    }

    async fn carry_out(
        &self,
        ctx: &Context,
        step: &Step<'_>,
        chosen: &mut ChosenSecrets,
        secrets: &mut Vec<AppliedSecret>,
    ) -> CoreResult<()> {
        match step {
            Step::CreateOrg(o) => {
                self.create_org(ctx, &o.slug, o.name.as_deref()).await?;
            }
            Step::CreateClient(o, d) => {
                let mut input = d.input.clone();
                if let Some(s) = chosen.remove(&(o.slug.clone(), d.key.clone())) {
                    input.secret = Some(tessera_domain::client::ChosenSecret::new(
                        s.expose_secret().to_owned(),
                    ));
                }
                let made = self.create_client(ctx, &o.slug, input).await?;
                if let Some(secret) = made.secret {
                    secrets.push(AppliedSecret {
                        kind: "client",
                        organization: o.slug.clone(),
                        key: d.key.clone(),
                        secret,
                    });
                }
            }
            Step::ReplaceClient(o, d) => {
                let mut input = d.input.clone();
                input.secret = None;
                self.replace_client(ctx, &o.slug, &d.key, input).await?;
            }
            Step::DeleteClient(o, id) => self.delete_client(ctx, &o.slug, id).await?,
            Step::CreateResource(o, d) => {
                self.create_api_resource(ctx, &o.slug, d.input.clone())
                    .await?;
            }
            Step::ReplaceResource(o, d, id) => {
                let mut input = d.input.clone();
                input.id = None;
                self.replace_api_resource(ctx, &o.slug, id, input).await?;
            }
            Step::DeleteResource(o, id) => self.delete_api_resource(ctx, &o.slug, id).await?,
            Step::CreateRole(o, d) => {
                self.create_role(ctx, &o.slug, d.name.as_str(), &d.raw)
                    .await?;
            }
            Step::PutPolicy(o, p) => {
                self.put_registration_policy(ctx, &o.slug, (*p).clone())
                    .await?;
            }
            Step::CreateWebhook(o, d) => {
                let made = self.create_webhook(ctx, &o.slug, d.input.clone()).await?;
                secrets.push(AppliedSecret {
                    kind: "webhook",
                    organization: o.slug.clone(),
                    key: made.webhook.url.as_str().to_owned(),
                    secret: made.secret,
                });
            }
            Step::UpdateWebhook(o, d, id) => {
                let input = WebhookInput {
                    url: None,
                    events: Some(
                        d.settings
                            .events
                            .iter()
                            .map(|e| e.as_str().to_owned())
                            .collect(),
                    ),
                    is_active: Some(d.settings.is_active),
                };
                self.update_webhook(ctx, &o.slug, id, input).await?;
            }
            Step::DeleteWebhook(o, id) => self.delete_webhook(ctx, &o.slug, id).await?,
        }
        Ok(())
    }

    /// One audit entry per organization an apply changed, beside each change's own.
    async fn audit_applied(&self, ctx: &Context, slug: &str, changes: usize) -> CoreResult<()> {
        let mut tx = self.store.begin().await?;
        let org = self.org_for(tx.as_mut(), ctx, slug, None).await?;
        self.audit(
            tx.as_mut(),
            ctx,
            AuditEntry::new(AuditAction::ConfigurationApplied, "organization")
                .org(org.id)
                .target(slug.to_owned())
                .after(Some(serde_json::json!({ "changes": changes }))),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The organization in the document's format, without secrets and without the default
    /// clients: applying it to an empty database makes the same organization.
    pub async fn export_configuration(&self, ctx: &Context, slug: &str) -> CoreResult<Value> {
        let org = self.get_org(ctx, slug, None).await?;
        let mut cur = self.current(ctx, slug).await?;
        // A stable order, so that two exports of the same organization are the same text.
        cur.clients.sort_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
        cur.resources.sort_by(|a, b| {
            a.settings
                .identifier
                .as_str()
                .cmp(b.settings.identifier.as_str())
        });
        cur.webhooks
            .sort_by(|a, b| a.url.as_str().cmp(b.url.as_str()));
        let clients: Vec<Value> = cur
            .clients
            .iter()
            .filter(|c| !DEFAULT_CLIENTS.contains(&c.id.as_str()))
            .map(|c| {
                let mut v = serde_json::to_value(c.object()).unwrap_or_default();
                if let Some(m) = v.as_object_mut() {
                    let id = m.remove("id");
                    for k in [
                        "secrets",
                        "createdAt",
                        "updatedAt",
                        "lastUsedAt",
                        "tokensRevokedAt",
                        "clientType",
                    ] {
                        m.remove(k);
                    }
                    m.retain(|_, v| !v.is_null());
                    let mut out = Map::new();
                    out.insert("clientId".into(), id.unwrap_or_default());
                    out.extend(std::mem::take(m));
                    *m = out;
                }
                v
            })
            .collect();
        let resources: Vec<Value> = cur
            .resources
            .iter()
            .map(|r| {
                let mut v = serde_json::to_value(r.object()).unwrap_or_default();
                if let Some(m) = v.as_object_mut() {
                    for k in ["id", "createdAt", "updatedAt"] {
                        m.remove(k);
                    }
                    m.retain(|_, v| !v.is_null());
                }
                v
            })
            .collect();
        let roles: Vec<Value> = cur
            .roles
            .iter()
            .map(|(name, p)| serde_json::json!({ "name": name, "permissions": p.names() }))
            .collect();
        let webhooks: Vec<Value> = cur
            .webhooks
            .iter()
            .map(|w| serde_json::json!({ "url": w.url.as_str(), "events": w.events.iter().map(|e| e.as_str()).collect::<Vec<_>>(), "isActive": w.is_active }))
            .collect();
        let mut doc = serde_json::json!({
            "version": 1,
            "organizations": [{
                "slug": org.slug.as_str(),
                "name": org.name.as_str(),
                "clients": clients,
                "apiResources": resources,
                "roles": roles,
                "registrationPolicy": cur.policy,
                "webhooks": webhooks,
            }]
        });
        // Absent is the same as null everywhere in the document, and TOML has no null.
        drop_nulls(&mut doc);
        Ok(doc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_error_is_named_by_its_path() {
        let doc = json!({
            "organizations": [{
                "slug": "acme",
                "clients": [
                    {"clientId": "a", "name": "A", "redirectUris": ["not a url"]},
                    {"name": "no id"},
                    {"clientId": "b", "name": "B", "secret": "x"},
                    {"clientId": "a", "name": "A again", "colour": "red"}
                ],
                "roles": [{"name": "owner", "permissions": ["users:read"]}],
                "webhooks": [{"url": "ftp://x"}],
                "extra": 1
            }]
        });
        let err = parse_document(&doc, None, false, None).err().unwrap();
        let fields: Vec<&str> = err.errors.iter().map(|e| e.field.as_str()).collect();
        for f in [
            "organizations[0].extra",
            "organizations[0].clients[0].redirectUris[0]",
            "organizations[0].clients[1].clientId",
            "organizations[0].clients[2].secret",
            "organizations[0].clients[3].clientId",
            "organizations[0].clients[3].colour",
            "organizations[0].roles[0].name",
            "organizations[0].webhooks[0].url",
        ] {
            assert!(fields.contains(&f), "{f} missing from {fields:?}");
        }
    }

    #[test]
    fn secret_from_is_refused_without_a_resolver() {
        let doc = json!({"organizations": [{"slug": "acme", "clients": [
            {"clientId": "a", "name": "A", "redirectUris": [], "grantTypes": ["client_credentials"], "secretFrom": {"env": "X"}}
        ]}]});
        let err = parse_document(&doc, None, false, None).err().unwrap();
        assert_eq!(
            err.errors[0].field,
            "organizations[0].clients[0].secretFrom"
        );
    }
}
