//! The rules of a client registration: [`ClientSettings::validate`] applies them all at once
//! and reports every bad field.

use super::{
    parse_request_object_alg, parse_web_url, ClientId, ClientInput, ClientJwks, ClientSecurity,
    ClientSettings, CorsOrigin, GrantType, RedirectUri, Scope, SecurityProfile, SigningAlg,
    TokenAuthMethod, ACCESS_TOKEN_LIFETIME, MAX_DESCRIPTION_CHARS, MAX_NAME_CHARS,
    REFRESH_TOKEN_LIFETIME,
};
use crate::error::{Collector, FieldError, ValidationError};

/// Parses a list, naming each bad element `field[i]` and each duplicate.
fn parse_list<T: PartialEq>(
    c: &mut Collector,
    field: &str,
    items: &[String],
    parse: impl Fn(&str) -> Result<T, FieldError>,
) -> Vec<T> {
    let mut out: Vec<T> = Vec::with_capacity(items.len());
    for (i, raw) in items.iter().enumerate() {
        let at = format!("{field}[{i}]");
        match parse(raw) {
            Ok(v) => {
                if let Some(j) = out.iter().position(|o| *o == v) {
                    c.push(FieldError::new(
                        at,
                        format!("'{raw}' is listed twice (also {field}[{j}])"),
                    ));
                } else {
                    out.push(v);
                }
            }
            Err(e) => c.push(e.at(at)),
        }
    }
    out
}

impl ClientSettings {
    /// Applies every rule at once, reporting every bad field.
    pub fn validate(input: &ClientInput) -> Result<Self, ValidationError> {
        let mut c = Collector::new();
        let is_confidential = input.confidential();
        let name = input.name.trim();
        if name.is_empty() {
            c.push(FieldError::new("name", "is required"));
        } else if name.chars().count() > MAX_NAME_CHARS {
            c.push(FieldError::new(
                "name",
                format!("must be at most {MAX_NAME_CHARS} characters"),
            ));
        } else if let Err(e) = crate::text::check_display_text(name, "name") {
            // The name is shown on the login and consent pages: it must look like itself.
            c.push(e);
        }
        let description = input
            .description
            .as_deref()
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(str::to_owned);
        if description
            .as_ref()
            .is_some_and(|d| d.chars().count() > MAX_DESCRIPTION_CHARS)
        {
            c.push(FieldError::new(
                "description",
                format!("must be at most {MAX_DESCRIPTION_CHARS} characters"),
            ));
        } else if let Some(d) = &description {
            // Several lines are fine; the rest of the rule of shown names holds.
            let one_line: String = d.replace(['\n', '\r', '\t'], " ");
            if let Err(e) = crate::text::check_display_text(&one_line, "description") {
                c.push(e);
            }
        }
        let redirect_uris = parse_list(
            &mut c,
            "redirectUris",
            &input.redirect_uris,
            RedirectUri::parse,
        );
        let post_logout_redirect_uris = parse_list(
            &mut c,
            "postLogoutRedirectUris",
            &input.post_logout_redirect_uris,
            RedirectUri::parse,
        );
        let allowed_cors_origins = parse_list(
            &mut c,
            "allowedCorsOrigins",
            &input.allowed_cors_origins,
            CorsOrigin::parse,
        );
        let scopes = match &input.allowed_scopes {
            Some(s) => s.clone(),
            None => ClientInput::default_scopes_for(&input.grant_types),
        };
        let allowed_scopes = parse_list(&mut c, "allowedScopes", &scopes, Scope::parse);
        let grant_types = parse_list(&mut c, "grantTypes", &input.grant_types, GrantType::parse);
        if input.grant_types.is_empty() {
            c.push(FieldError::new(
                "grantTypes",
                "give at least one grant type",
            ));
        }
        if !is_confidential {
            for (i, g) in input.grant_types.iter().enumerate() {
                if let Ok(g) = GrantType::parse(g) {
                    if g.needs_confidential_client() {
                        c.push(FieldError::new(
                            format!("grantTypes[{i}]"),
                            format!("a public client cannot use {}: it has no secret to authenticate with", g.as_str()),
                        ));
                    }
                }
            }
        }
        let interactive = grant_types.contains(&GrantType::AuthorizationCode);
        if interactive && input.redirect_uris.is_empty() {
            c.push(FieldError::new(
                "redirectUris",
                "give at least one redirect URI for the authorization_code grant",
            ));
        }
        let client_uri = input
            .client_uri
            .as_deref()
            .filter(|u| !u.is_empty())
            .and_then(|u| c.take(parse_web_url(u, "clientUri")));
        let logo_uri = input
            .logo_uri
            .as_deref()
            .filter(|u| !u.is_empty())
            .and_then(|u| c.take(parse_web_url(u, "logoUri")));
        if !ACCESS_TOKEN_LIFETIME.contains(&input.access_token_lifetime) {
            c.push(FieldError::new(
                "accessTokenLifetime",
                format!(
                    "must be between {} and {} seconds",
                    ACCESS_TOKEN_LIFETIME.start(),
                    ACCESS_TOKEN_LIFETIME.end()
                ),
            ));
        }
        if !REFRESH_TOKEN_LIFETIME.contains(&input.refresh_token_lifetime) {
            c.push(FieldError::new(
                "refreshTokenLifetime",
                format!(
                    "must be between {} and {} seconds",
                    REFRESH_TOKEN_LIFETIME.start(),
                    REFRESH_TOKEN_LIFETIME.end()
                ),
            ));
        }
        let id_token_alg = c.take(SigningAlg::parse(&input.id_token_signed_response_alg));
        let access_token_alg = c.take(SigningAlg::parse_for(
            &input.access_token_signed_response_alg,
            "accessTokenSignedResponseAlg",
        ));
        let userinfo_alg = input
            .userinfo_signed_response_alg
            .as_deref()
            .filter(|a| !a.is_empty())
            .and_then(|a| c.take(SigningAlg::parse_for(a, "userinfoSignedResponseAlg")));
        let request_object_alg = input
            .request_object_signing_alg
            .as_deref()
            .filter(|a| !a.is_empty())
            .and_then(|a| c.take(parse_request_object_alg(a)));
        let auth_method = match input.token_endpoint_auth_method.as_deref() {
            None | Some("") => TokenAuthMethod::default_for(is_confidential),
            Some(m) => match c.take(TokenAuthMethod::parse(m)) {
                Some(m) if m.is_confidential() != is_confidential => {
                    c.push(FieldError::new(
                        "tokenEndpointAuthMethod",
                        if is_confidential {
                            "'none' is for public clients: a confidential client authenticates with its secret (client_secret_basic or client_secret_post) or its keys (private_key_jwt)".to_owned()
                        } else {
                            format!("'{}' needs a secret, which a public client does not have: use none", m.as_str())
                        },
                    ));
                    TokenAuthMethod::default_for(is_confidential)
                }
                Some(m) => m,
                None => TokenAuthMethod::default_for(is_confidential),
            },
        };
        let jwks = input
            .jwks
            .as_ref()
            .filter(|v| !v.is_null())
            .and_then(|v| c.take(ClientJwks::parse(v)));
        let jwks_given = input.jwks.as_ref().is_some_and(|v| !v.is_null());
        let jwks_uri = input
            .jwks_uri
            .as_deref()
            .filter(|u| !u.is_empty())
            .and_then(|u| c.take(parse_web_url(u, "jwksUri")));
        let jwks_uri_given = input.jwks_uri.as_deref().is_some_and(|u| !u.is_empty());
        if jwks_given && jwks_uri_given {
            c.push(FieldError::new(
                "jwksUri",
                "give the keys in jwks or at jwksUri, not both",
            ));
        }
        if auth_method == TokenAuthMethod::PrivateKeyJwt && !jwks_given && !jwks_uri_given {
            c.push(FieldError::new(
                "jwks",
                "private_key_jwt needs the client's public keys: give a JWK Set in jwks, or its URL in jwksUri",
            ));
        }
        // `clientType` is derived; sent, it must say the same as `isConfidential`.
        match (input.client_type.as_deref(), is_confidential) {
            (None, _) | (Some("public"), false) | (Some("confidential"), true) => {}
            (Some(t @ ("public" | "confidential")), conf) => c.push(FieldError::new(
                "clientType",
                format!("'{t}' contradicts isConfidential: {conf}"),
            )),
            (Some(t), _) => c.push(FieldError::new(
                "clientType",
                format!("unknown client type '{t}': use public or confidential"),
            )),
        }
        for (i, subject) in input.token_exchange.subject_clients.iter().enumerate() {
            if let Some(j) = input.token_exchange.subject_clients[..i]
                .iter()
                .position(|s| s == subject)
            {
                c.push(FieldError::new(
                    format!("tokenExchange.subjectClients[{i}]"),
                    format!("'{subject}' is listed twice (also tokenExchange.subjectClients[{j}])"),
                ));
            } else if subject != "*" {
                if let Err(e) = ClientId::parse(subject) {
                    c.push(FieldError::new(
                        format!("tokenExchange.subjectClients[{i}]"),
                        format!("must be '*' or a client id: {}", e.message),
                    ));
                }
            }
        }
        let exchanges = !input.token_exchange.subject_clients.is_empty()
            || input.token_exchange.allow_impersonation;
        if exchanges
            && !input
                .grant_types
                .iter()
                .any(|g| g == GrantType::TokenExchange.as_str())
        {
            c.push(FieldError::new(
                "tokenExchange",
                "needs the urn:ietf:params:oauth:grant-type:token-exchange grant type",
            ));
        }
        let backchannel_logout_uri = input
            .backchannel_logout_uri
            .as_deref()
            .filter(|u| !u.is_empty())
            .and_then(|u| {
                if u.contains('#') {
                    c.push(FieldError::new(
                        "backchannelLogoutUri",
                        "must not have a fragment (Back-Channel Logout §2.2)",
                    ));
                    return None;
                }
                c.take(parse_web_url(u, "backchannelLogoutUri"))
            });
        let security_profile = input
            .security_profile
            .as_deref()
            .filter(|p| !p.is_empty())
            .and_then(|p| c.take(SecurityProfile::parse(p)));
        if security_profile == Some(SecurityProfile::Fapi2) {
            fapi2_rules(&mut c, input, auth_method, &grant_types);
        }
        c.finish()?;
        Ok(Self {
            name: name.to_owned(),
            description,
            is_confidential,
            redirect_uris,
            post_logout_redirect_uris,
            allowed_cors_origins,
            allowed_scopes,
            grant_types,
            is_active: input.is_active,
            // PKCE is always required of public clients (RFC 9700 §2.1.1) and under FAPI 2.0
            // (§5.3.2.2 item 5).
            require_pkce: input.require_pkce
                || !is_confidential
                || security_profile == Some(SecurityProfile::Fapi2),
            require_consent: input.require_consent,
            client_uri,
            logo_uri,
            access_token_lifetime: input.access_token_lifetime,
            refresh_token_lifetime: input.refresh_token_lifetime,
            id_token_signed_response_alg: id_token_alg.unwrap_or(SigningAlg::ID_TOKEN_DEFAULT),
            access_token_signed_response_alg: access_token_alg
                .unwrap_or(SigningAlg::ACCESS_TOKEN_DEFAULT),
            userinfo_signed_response_alg: userinfo_alg,
            request_object_signing_alg: request_object_alg,
            token_endpoint_auth_method: auth_method,
            jwks,
            jwks_uri,
            token_exchange: input.token_exchange.clone(),
            security: ClientSecurity {
                require_pushed_authorization_requests: input.require_pushed_authorization_requests,
                dpop_bound_access_tokens: input.dpop_bound_access_tokens,
                require_signed_request_object: input.require_signed_request_object,
                backchannel_logout_uri,
                backchannel_logout_session_required: input.backchannel_logout_session_required,
                security_profile,
            },
        })
    }
}

/// What the FAPI 2.0 Security Profile asks of a client's registration (§5.3.2.1 item 1:
/// `private_key_jwt` among its methods, here the one; §5.3.1.2 item 3: no resource owner
/// password grant; §5.4.1: PS256, ES256 or EdDSA).
/// PKCE, PAR and DPoP it turns on by itself.
fn fapi2_rules(
    c: &mut Collector,
    input: &ClientInput,
    auth_method: TokenAuthMethod,
    grant_types: &[GrantType],
) {
    if auth_method != TokenAuthMethod::PrivateKeyJwt {
        c.push(FieldError::new(
            "tokenEndpointAuthMethod",
            "the fapi2 security profile needs private_key_jwt (a confidential client with keys)",
        ));
    }
    if grant_types.contains(&GrantType::Password) {
        c.push(FieldError::new(
            "grantTypes",
            "the fapi2 security profile does not allow the password grant",
        ));
    }
    for (field, alg) in [
        (
            "idTokenSignedResponseAlg",
            &input.id_token_signed_response_alg,
        ),
        (
            "accessTokenSignedResponseAlg",
            &input.access_token_signed_response_alg,
        ),
    ] {
        if !FAPI2_ALGS.contains(&alg.as_str()) {
            c.push(FieldError::new(
                field,
                format!("the fapi2 security profile needs ES256, PS256 or EdDSA, not '{alg}'"),
            ));
        }
    }
}

/// The signing algorithms of the FAPI 2.0 Security Profile (§5.4.1) Tessera signs with.
const FAPI2_ALGS: [&str; 3] = ["ES256", "PS256", "EdDSA"];
