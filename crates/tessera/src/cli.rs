//! The command line. Management commands work directly on the database (no server needed,
//! and safe while one runs on the same data dir) and print machine-readable output on stdout:
//! JSON, or a bare secret where noted. Errors are one line on stderr and a non-zero exit.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use secrecy::{ExposeSecret, SecretString};
use tessera_core::api_keys::{KeyScope, NewApiKey};
use tessera_core::users::NewUser;
use tessera_core::{Context, CoreError};
use tessera_domain::client::ClientInput;

use crate::config::{self, Overrides};

/// Tessera: a multi-tenant OAuth 2.0 / OpenID Connect authorization server.
///
/// With no command, `tessera` runs the server (`tessera serve`) on SQLite in ./tessera-data.
/// The first start on an empty database creates the organization `default` and the system
/// administrator `admin`, and prints the password once on stderr.
#[derive(Debug, Parser)]
#[command(name = "tessera", version, about, long_about)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Directory for the SQLite database and the master key file.
    #[arg(long, global = true, env = "TESSERA_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Database URL: sqlite://PATH (default <data-dir>/tessera.db) or postgres://USER:PASS@HOST/DB.
    #[arg(
        long,
        global = true,
        env = "TESSERA_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,
    /// TOML configuration file (precedence: defaults < file < environment < flags).
    #[arg(long, global = true, env = "TESSERA_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Log format: text or json.
    #[arg(long, global = true, env = "TESSERA_LOG_FORMAT", value_name = "FORMAT")]
    pub log_format: Option<String>,
    /// Address the server listens on [default: 127.0.0.1:8700].
    #[arg(long, global = true, env = "TESSERA_LISTEN", value_name = "ADDR")]
    pub listen: Option<String>,
    /// Externally visible base URL; issuers derive from it [default: http://<listen>].
    #[arg(long, global = true, env = "TESSERA_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default command).
    Serve,
    /// Apply database migrations and exit (serve also migrates on start).
    Migrate,
    /// Organizations (tenants).
    #[command(subcommand)]
    Org(OrgCommand),
    /// API keys for the admin API.
    #[command(subcommand, name = "api-key")]
    ApiKey(ApiKeyCommand),
    /// Users (members of an organization).
    #[command(subcommand)]
    User(UserCommand),
    /// OAuth clients (applications registered with an organization).
    #[command(subcommand)]
    Client(ClientCommand),
    /// API resources: the APIs an organization protects (RFC 8707 resource indicators).
    #[command(subcommand, name = "api-resource")]
    ApiResource(ApiResourceCommand),
    /// Apply a configuration file (YAML, TOML or JSON: organizations, clients, API
    /// resources, roles, registration policy, webhooks): prints the plan, then makes it so.
    /// Idempotent; docs/automation.md describes the file (JSON Schema: docs/tessera-config.schema.json).
    Apply {
        /// The file (`-` reads YAML or JSON from stdin).
        #[arg(short = 'f', long = "file", value_name = "FILE")]
        file: std::path::PathBuf,
        /// Print the plan and change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Also delete the clients, API resources and webhooks of the listed organizations
        /// that the file does not name (never the default clients).
        #[arg(long)]
        prune: bool,
    },
    /// Write an organization in the configuration file's format (no secrets) to stdout.
    Export {
        #[arg(long)]
        org: String,
        /// yaml (default), toml or json.
        #[arg(long, default_value = "yaml", value_name = "FORMAT")]
        format: String,
    },
    /// Webhook subscriptions: an organization's events, delivered signed (Standard Webhooks).
    #[command(subcommand)]
    Webhook(WebhookCommand),
    /// Signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Roles: the built-in owner, admin and viewer, and custom ones.
    #[command(subcommand)]
    Role(RoleCommand),
    /// Run only the platform token refresh worker (for deployments that run it apart from
    /// the HTTP nodes; `serve` runs it too unless `[connections] worker = false`).
    Worker,
    /// The vault that encrypts credentials, tokens and signing keys at rest.
    #[command(subcommand)]
    Vault(VaultCommand),
    /// Copy the SQLite database, consistently, while the server runs (PostgreSQL: pg_dump).
    /// Keep the master key with the copy.
    Backup {
        /// The new file to write (never overwritten).
        #[arg(long, value_name = "FILE")]
        to: std::path::PathBuf,
    },
}

/// Rotating the vault key: generate a key, put it first in TESSERA_VAULT_KEYS (keeping the
/// old ones after it) on every node, run `reencrypt`, and drop the old keys once `status`
/// shows nothing pending.
#[derive(Debug, Subcommand)]
pub enum VaultCommand {
    /// Print a new random 32-byte vault key (base64url) for TESSERA_VAULT_KEYS.
    GenerateKey,
    /// How many sealed values each key holds, per table and column, as JSON.
    Status,
    /// Re-encrypt every sealed value under the current key (the first of TESSERA_VAULT_KEYS).
    /// Safe to interrupt and to run again, and beside a running server; progress on stderr,
    /// the summary as JSON on stdout.
    Reencrypt,
}

#[derive(Debug, Subcommand)]
pub enum RoleCommand {
    /// Define a custom role; prints it as JSON.
    Create {
        #[arg(long)]
        org: String,
        /// 1 to 63 of a-z 0-9 - _ . (not owner, admin or viewer).
        #[arg(long)]
        name: String,
        /// Permission the role grants (e.g. oauth-clients:read, users:*); repeatable.
        #[arg(long = "permission", value_name = "PERM", required = true)]
        permissions: Vec<String>,
    },
    /// List the built-in and custom roles as JSON.
    List {
        #[arg(long)]
        org: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ApiResourceCommand {
    /// Define an API resource; prints it as JSON.
    Create {
        #[arg(long)]
        org: String,
        /// The resource indicator: an absolute URI without a fragment, the `aud` of its
        /// tokens (e.g. https://mcp.example.com/mcp).
        #[arg(long)]
        identifier: String,
        /// Display name, shown on consent screens.
        #[arg(long)]
        name: String,
        #[arg(long)]
        description: Option<String>,
        /// A scope the resource defines, as NAME or NAME=DESCRIPTION; repeatable.
        #[arg(long = "scope", value_name = "SCOPE")]
        scopes: Vec<String>,
        /// Access-token lifetime in seconds (default: each client's own).
        #[arg(long, value_name = "SECONDS")]
        access_token_lifetime: Option<i64>,
        /// How its access tokens are signed: ES256, RS256 or EdDSA (default: each client's).
        #[arg(long, value_name = "ALG")]
        access_token_alg: Option<String>,
        /// A client allowed to ask for it; repeatable (default: every client).
        #[arg(long = "allowed-client", value_name = "CLIENT_ID")]
        allowed_clients: Vec<String>,
    },
    /// List the API resources as JSON.
    List {
        #[arg(long)]
        org: String,
    },
    /// Delete an API resource.
    Delete {
        #[arg(long)]
        org: String,
        /// The resource's id (a UUID, as `list` shows it).
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// Subscribe a URL; prints it as JSON with its signing secret (`whsec_…`, shown once).
    Create {
        #[arg(long)]
        org: String,
        /// https://… (http://127.0.0.1… on a development deployment).
        #[arg(long)]
        url: String,
        /// An event type to deliver (e.g. oauth_client.created); repeatable; none: all.
        #[arg(long = "event", value_name = "TYPE")]
        events: Vec<String>,
    },
    /// List the subscriptions as JSON.
    List {
        #[arg(long)]
        org: String,
    },
    /// Delete a subscription and its delivery log.
    Delete {
        #[arg(long)]
        org: String,
        /// The subscription's id (a UUID, as `list` shows it).
        id: String,
    },
    /// A subscription's delivery log as JSON, newest first.
    Deliveries {
        #[arg(long)]
        org: String,
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Make new signing keys (ES256, RS256, EdDSA) active for an organization; the old ones
    /// stay published in the JWKS until their tokens expire. Prints the new key ids as JSON.
    Rotate {
        #[arg(long)]
        org: String,
    },
}

// Parsed once per process: the size of the largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Register a client; prints it as JSON, with its `secret` (shown only this once) when it
    /// is confidential.
    Create {
        #[arg(long)]
        org: String,
        /// Display name, shown on consent screens.
        #[arg(long)]
        name: String,
        /// The client id to register (default: a generated UUID).
        #[arg(long)]
        client_id: Option<String>,
        /// A public client (no secret; PKCE required) instead of a confidential one.
        #[arg(long)]
        public: bool,
        /// Redirect URI, matched exactly; repeatable.
        #[arg(long = "redirect-uri", value_name = "URI")]
        redirect_uris: Vec<String>,
        /// Grant type; repeatable [default: authorization_code and refresh_token].
        #[arg(long = "grant-type", value_name = "GRANT")]
        grant_types: Vec<String>,
        /// Scope the client may request; repeatable.
        #[arg(long = "scope", value_name = "SCOPE")]
        scopes: Vec<String>,
        /// How the client's id_tokens are signed: RS256 (default), ES256, PS256 or EdDSA.
        #[arg(long, value_name = "ALG")]
        id_token_alg: Option<String>,
        /// How the client's access tokens are signed: ES256 (default), RS256 or EdDSA.
        #[arg(long, value_name = "ALG")]
        access_token_alg: Option<String>,
        /// Answer the client at userinfo with a JWT signed with RS256, ES256, PS256 or EdDSA
        /// (default: plain JSON).
        #[arg(long, value_name = "ALG")]
        userinfo_alg: Option<String>,
        /// The one algorithm the client's request objects must be signed with (RS256,
        /// RS384, RS512, PS256, PS384, PS512, ES256, ES384 or EdDSA; default: any its keys
        /// allow).
        #[arg(long, value_name = "ALG")]
        request_object_alg: Option<String>,
        /// How a confidential client authenticates: client_secret_basic (default),
        /// client_secret_post, or private_key_jwt (no secret; needs --jwks-file).
        #[arg(
            long = "auth-method",
            alias = "token-endpoint-auth-method",
            value_name = "METHOD"
        )]
        token_endpoint_auth_method: Option<String>,
        /// A file with the client's public keys as a JWK Set ({"keys": [...]}).
        #[arg(long, value_name = "PATH", conflicts_with = "jwks_uri")]
        jwks_file: Option<std::path::PathBuf>,
        /// Where the client publishes its public keys (https), instead of --jwks-file.
        #[arg(long, value_name = "URL")]
        jwks_uri: Option<String>,
        /// Follow a security profile: fapi2 (FAPI 2.0: PAR, PKCE, DPoP, private_key_jwt,
        /// ES256, PS256 or EdDSA).
        #[arg(long, value_name = "PROFILE")]
        security_profile: Option<String>,
        /// Accept authorization requests only through the PAR endpoint (RFC 9126).
        #[arg(long)]
        require_par: bool,
        /// Issue only DPoP-bound access tokens (RFC 9449): token requests need a proof.
        #[arg(long)]
        dpop: bool,
        /// Accept authorization requests only as signed request objects (RFC 9101).
        #[arg(long)]
        require_signed_request_object: bool,
        /// Where logout tokens are posted when a user's session ends (Back-Channel Logout).
        #[arg(long, value_name = "URL")]
        backchannel_logout_uri: Option<String>,
        /// Read the client's secret from standard input (one line) instead of generating one:
        /// 16 to 512 characters without white space; it is not printed.
        #[arg(long)]
        secret_stdin: bool,
    },
    /// List an organization's clients as JSON (never their secrets).
    List {
        #[arg(long)]
        org: String,
        /// Match the client id or name.
        #[arg(long)]
        q: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Create an organization; prints it as JSON.
    Create {
        /// URL name: [a-z0-9][a-z0-9-]{1,62}, e.g. acme-corp.
        slug: String,
        /// Display name (defaults to the slug).
        #[arg(long)]
        name: Option<String>,
    },
    /// List organizations as JSON.
    List,
}

#[derive(Debug, Subcommand)]
pub enum ApiKeyCommand {
    /// Create a key; prints the key (sk_live_…) alone on one line. It is shown only once.
    Create {
        /// Organization slug the key acts in.
        #[arg(long, required_unless_present = "system", conflicts_with = "system")]
        org: Option<String>,
        /// A system-wide key, acting as a system administrator in every organization.
        #[arg(long)]
        system: bool,
        /// A label for the key.
        #[arg(long)]
        name: String,
        /// Role to grant (owner, admin, viewer or a custom role); repeatable.
        #[arg(long = "role", value_name = "ROLE")]
        roles: Vec<String>,
        /// Permission to grant directly (e.g. audit-log:read, users:*); repeatable.
        #[arg(long = "permission", value_name = "PERM")]
        permissions: Vec<String>,
    },
    /// List an organization's keys as JSON (never the keys themselves).
    List {
        #[arg(long)]
        org: String,
    },
    /// Revoke a key by id; it stops working at once.
    Revoke {
        #[arg(long)]
        org: String,
        /// The key's id (from `api-key list`).
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; prints it as JSON.
    Create {
        #[arg(long)]
        org: String,
        #[arg(long)]
        username: String,
        #[arg(long)]
        email: Option<String>,
        /// Display name.
        #[arg(long)]
        name: Option<String>,
        /// Read the password from standard input (one line).
        #[arg(long)]
        password_stdin: bool,
        /// Role to grant; repeatable.
        #[arg(long = "role", value_name = "ROLE")]
        roles: Vec<String>,
        /// A standard claim, NAME=VALUE with the API's camelCase name: givenName=Alice,
        /// birthdate=1990-01-31, emailVerified=true, address.locality=Oxford; repeatable.
        #[arg(long = "claim", value_name = "NAME=VALUE")]
        claims: Vec<String>,
    },
    /// List an organization's users as JSON.
    List {
        #[arg(long)]
        org: String,
    },
}

/// Parses the command line, runs the command, and turns any error into one line on stderr.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(execute(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", describe(&e));
            ExitCode::FAILURE
        }
    }
}

/// One line naming the problem.
fn describe(e: &anyhow::Error) -> String {
    if let Some(core) = e.downcast_ref::<CoreError>() {
        return match core {
            CoreError::Validation(v) => format!("invalid input: {v}"),
            CoreError::Store(s) => format!("database: {s}"),
            other => other.to_string(),
        };
    }
    format!("{e:#}").replace('\n', " ")
}

async fn execute(cli: Cli) -> anyhow::Result<()> {
    // Needs no configuration: it must work while TESSERA_VAULT_KEYS is being put together.
    if matches!(cli.command, Some(Command::Vault(VaultCommand::GenerateKey))) {
        println!(
            "{}",
            tessera_crypto::MasterKey::generate_encoded(&tessera_crypto::SystemRng::new())?
        );
        return Ok(());
    }
    let overrides = Overrides {
        config: cli.global.config.clone(),
        data_dir: cli.global.data_dir.clone(),
        database_url: cli.global.database_url.clone(),
        listen: cli.global.listen.clone(),
        public_url: cli.global.public_url.clone(),
        log_format: cli.global.log_format.clone(),
        log_level: None,
    };
    let config = config::load(&overrides)?;
    let is_server = matches!(cli.command, None | Some(Command::Serve));
    crate::telemetry::init(
        config.log_format,
        config.log_level.as_deref(),
        if is_server { "info" } else { "warn" },
        config.telemetry.as_ref(),
    )?;

    let command = match cli.command {
        None | Some(Command::Serve) => {
            let served = crate::app::serve(&config).await;
            crate::telemetry::shutdown();
            return served;
        }
        Some(Command::Worker) => {
            let worked = crate::app::worker(&config).await;
            crate::telemetry::shutdown();
            return worked;
        }
        Some(c) => c,
    };
    let app = crate::app::open(&config).await?;
    let s = &app.services;
    let ctx = Context::cli();
    let result = match command {
        Command::Serve | Command::Worker | Command::Vault(VaultCommand::GenerateKey) => Ok(()),
        Command::Vault(VaultCommand::Status) => print_json(&s.vault_status(&ctx).await?),
        Command::Vault(VaultCommand::Reencrypt) => {
            let bar = crate::progress::Bar::new("re-encrypting");
            let report = s
                .reencrypt_vault(&ctx, &|done, total| bar.set(done, total))
                .await;
            bar.finish();
            print_json(&report?)
        }
        Command::Migrate => {
            eprintln!("database is up to date");
            Ok(())
        }
        Command::Backup { to: output } => {
            app.store.backup(&output).await?;
            eprintln!(
                "backed up to {}; keep the master key (TESSERA_MASTER_KEY or master.key) with it",
                output.display()
            );
            Ok(())
        }
        Command::Org(OrgCommand::Create { slug, name }) => {
            let org = s.create_org(&ctx, &slug, name.as_deref()).await?;
            print_json(&org)
        }
        Command::Org(OrgCommand::List) => print_json(&s.list_orgs(&ctx).await?),
        Command::ApiKey(ApiKeyCommand::Create {
            org,
            system,
            name,
            roles,
            permissions,
        }) => {
            let scope = match (org, system) {
                (_, true) => KeyScope::System,
                (Some(o), false) => KeyScope::Org(o),
                (None, false) => anyhow::bail!("give --org SLUG or --system"),
            };
            let created = s
                .create_api_key(
                    &ctx,
                    NewApiKey {
                        scope,
                        name,
                        roles,
                        permissions,
                    },
                )
                .await?;
            println!("{}", created.secret.expose_secret());
            Ok(())
        }
        Command::ApiKey(ApiKeyCommand::List { org }) => {
            print_json(&s.list_api_keys(&ctx, &org).await?)
        }
        Command::ApiKey(ApiKeyCommand::Revoke { org, id }) => {
            print_json(&s.revoke_api_key(&ctx, &org, &id).await?)
        }
        Command::User(UserCommand::Create {
            org,
            username,
            email,
            name,
            password_stdin,
            roles,
            claims,
        }) => {
            let profile = claims_map(&claims)?;
            let password = if password_stdin {
                Some(read_password()?)
            } else {
                None
            };
            let user = s
                .create_user(
                    &ctx,
                    &org,
                    NewUser {
                        username,
                        email,
                        name,
                        password,
                        roles,
                        profile,
                    },
                )
                .await?;
            print_json(&user)
        }
        Command::User(UserCommand::List { org }) => print_json(&s.list_users(&ctx, &org).await?),
        Command::Client(ClientCommand::Create {
            org,
            name,
            client_id,
            public,
            redirect_uris,
            grant_types,
            scopes,
            id_token_alg,
            access_token_alg,
            userinfo_alg,
            request_object_alg,
            token_endpoint_auth_method,
            jwks_file,
            jwks_uri,
            security_profile,
            require_par,
            dpop,
            require_signed_request_object,
            backchannel_logout_uri,
            secret_stdin,
        }) => {
            let secret = if secret_stdin {
                Some(tessera_domain::client::ChosenSecret::new(
                    read_password()?.expose_secret().to_owned(),
                ))
            } else {
                None
            };
            let jwks = match jwks_file {
                Some(path) => {
                    let text = std::fs::read_to_string(&path)
                        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
                    Some(serde_json::from_str(&text).map_err(|e| {
                        anyhow::anyhow!(
                            "{} is not JSON (a JWK Set is expected): {e}",
                            path.display()
                        )
                    })?)
                }
                None => None,
            };
            let defaults = ClientInput::default();
            let grant_types = if grant_types.is_empty() {
                defaults.grant_types.clone()
            } else {
                grant_types
            };
            let input = ClientInput {
                client_id,
                name,
                is_confidential: Some(!public),
                redirect_uris,
                // `--scope` never given: the default for the grant types.
                allowed_scopes: (!scopes.is_empty()).then_some(scopes),
                grant_types,
                id_token_signed_response_alg: id_token_alg
                    .unwrap_or_else(|| defaults.id_token_signed_response_alg.clone()),
                access_token_signed_response_alg: access_token_alg
                    .unwrap_or_else(|| defaults.access_token_signed_response_alg.clone()),
                userinfo_signed_response_alg: userinfo_alg,
                request_object_signing_alg: request_object_alg,
                token_endpoint_auth_method,
                jwks,
                jwks_uri,
                security_profile,
                require_pushed_authorization_requests: require_par,
                dpop_bound_access_tokens: dpop,
                require_signed_request_object,
                backchannel_logout_session_required: backchannel_logout_uri.is_some(),
                backchannel_logout_uri,
                secret,
                ..defaults
            };
            let created = s.create_client(&ctx, &org, input).await?;
            let mut v = serde_json::to_value(&created.client)?;
            if let Some(secret) = &created.secret {
                v["secret"] = serde_json::Value::String(secret.expose_secret().to_owned());
            }
            print_json(&v)
        }
        Command::ApiResource(ApiResourceCommand::Create {
            org,
            identifier,
            name,
            description,
            scopes,
            access_token_lifetime,
            access_token_alg,
            allowed_clients,
        }) => {
            use tessera_domain::api_resource::{AllowedClientsInput, ApiResourceInput, ScopeInput};
            let input = ApiResourceInput {
                identifier,
                name,
                description,
                scopes: scopes
                    .iter()
                    .map(|s| match s.split_once('=') {
                        Some((n, d)) => ScopeInput {
                            name: n.to_owned(),
                            description: Some(d.to_owned()),
                        },
                        None => ScopeInput {
                            name: s.clone(),
                            description: None,
                        },
                    })
                    .collect(),
                access_token_lifetime,
                access_token_signed_response_alg: access_token_alg,
                allowed_clients: (!allowed_clients.is_empty())
                    .then_some(AllowedClientsInput::Only(allowed_clients)),
                ..ApiResourceInput::default()
            };
            let r = s.create_api_resource(&ctx, &org, input).await?;
            print_json(&r.object())
        }
        Command::ApiResource(ApiResourceCommand::List { org }) => {
            let all = s.all_api_resources(&ctx, &org).await?;
            let objects: Vec<_> = all.iter().map(|r| r.object()).collect();
            print_json(&objects)
        }
        Command::ApiResource(ApiResourceCommand::Delete { org, id }) => {
            s.delete_api_resource(&ctx, &org, &id).await?;
            print_json(&serde_json::json!({ "deleted": id }))
        }
        Command::Apply {
            file,
            dry_run,
            prune,
        } => crate::automation::apply(s, &ctx, &file, dry_run, prune).await,
        Command::Export { org, format } => {
            let doc = s.export_configuration(&ctx, &org).await?;
            print!("{}", crate::automation::render(&doc, &format)?);
            Ok(())
        }
        Command::Webhook(WebhookCommand::Create { org, url, events }) => {
            let input = tessera_domain::webhook::WebhookInput {
                url: Some(url),
                events: Some(events),
                is_active: None,
            };
            let made = s.create_webhook(&ctx, &org, input).await?;
            let mut v = serde_json::to_value(made.webhook.object())?;
            v["secret"] = serde_json::Value::String(made.secret.expose_secret().to_owned());
            print_json(&v)
        }
        Command::Webhook(WebhookCommand::List { org }) => {
            let all = s.list_webhooks(&ctx, &org).await?;
            let objects: Vec<_> = all.iter().map(|w| w.object()).collect();
            print_json(&objects)
        }
        Command::Webhook(WebhookCommand::Delete { org, id }) => {
            s.delete_webhook(&ctx, &org, &id).await?;
            print_json(&serde_json::json!({ "deleted": id }))
        }
        Command::Webhook(WebhookCommand::Deliveries { org, id }) => {
            let all = s.list_webhook_deliveries(&ctx, &org, &id, 200, 0).await?;
            let objects: Vec<_> = all.iter().map(|d| d.object()).collect();
            print_json(&objects)
        }
        Command::Role(RoleCommand::Create {
            org,
            name,
            permissions,
        }) => print_json(&s.create_role(&ctx, &org, &name, &permissions).await?),
        Command::Role(RoleCommand::List { org }) => print_json(&s.list_roles(&ctx, &org).await?),
        Command::Keys(KeysCommand::Rotate { org }) => {
            let kids = s.rotate_keys(&ctx, &org).await?;
            print_json(&serde_json::json!({ "kids": kids }))
        }
        Command::Client(ClientCommand::List { org, q }) => {
            let mut all = vec![];
            let mut offset = 0;
            loop {
                let (page, total) = s
                    .list_clients(
                        &ctx,
                        &org,
                        q.clone(),
                        tessera_core::clients::MAX_CLIENT_PAGE,
                        offset,
                        Default::default(),
                    )
                    .await?;
                offset += tessera_core::clients::MAX_CLIENT_PAGE;
                all.extend(page);
                if i64::from(offset) >= total {
                    break;
                }
            }
            print_json(&all)
        }
    };
    app.store.close().await;
    result
}

/// One line of standard input (a password, a client secret), never echoed.
fn read_password() -> anyhow::Result<SecretString> {
    let mut buf = String::new();
    std::io::stdin()
        .read_to_string(&mut buf)
        .map_err(|e| anyhow::anyhow!("cannot read standard input: {e}"))?;
    let line = buf.lines().next().unwrap_or("").to_owned();
    Ok(SecretString::from(line))
}

fn print_json<T: serde::Serialize>(v: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

/// `--claim NAME=VALUE` options as the API's JSON object of standard claims: `true` and
/// `false` are booleans, `address.PART` goes into `address`.
fn claims_map(claims: &[String]) -> anyhow::Result<serde_json::Map<String, serde_json::Value>> {
    use serde_json::Value;
    let mut m = serde_json::Map::new();
    for c in claims {
        let (name, value) = c.split_once('=').ok_or_else(|| {
            anyhow::anyhow!("invalid --claim '{c}': use NAME=VALUE, such as givenName=Alice")
        })?;
        let value = match value {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            v => Value::String(v.to_owned()),
        };
        match name.strip_prefix("address.") {
            Some(part) => {
                let a = m
                    .entry("address")
                    .or_insert_with(|| Value::Object(serde_json::Map::new()));
                if let Value::Object(a) = a {
                    a.insert(part.to_owned(), value);
                }
            }
            None => {
                m.insert(name.to_owned(), value);
            }
        }
    }
    Ok(m)
}
