//! [`AuthorizationRequest`]: the parameters of an authorization request by name (RFC 6749
//! §4.1.1, OIDC Core §3.1.2.1 and §6), read once from the query or form, with a request
//! object's parameters already merged over them, so that no rule reads a parameter by a
//! string; and [`AuthorizationRequest::check`], the rules they must follow once the client and
//! where to answer are known (pure, so each rule has its unit test here).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use tessera_domain::client::{GrantType, OAuthClient};

use super::{AuthRequest, ResponseMode};
use crate::params;

/// Why a request is refused, sent back to the client's redirect URI (RFC 6749 §4.1.2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub error: &'static str,
    pub description: String,
}

fn refuse<T>(error: &'static str, description: impl Into<String>) -> Result<T, Refusal> {
    Err(Refusal {
        error,
        description: description.into(),
    })
}

/// The parameters of an authorization request, each present and not empty or `None`
/// (RFC 6749 §3.1: a parameter without a value is omitted).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct AuthorizationRequest<'a> {
    pub client_id: Option<&'a str>,
    pub redirect_uri: Option<&'a str>,
    pub response_type: Option<&'a str>,
    pub response_mode: Option<&'a str>,
    pub state: Option<&'a str>,
    pub scope: Option<&'a str>,
    pub nonce: Option<&'a str>,
    pub code_challenge: Option<&'a str>,
    pub code_challenge_method: Option<&'a str>,
    pub prompt: Option<&'a str>,
    pub max_age: Option<&'a str>,
    pub login_hint: Option<&'a str>,
    pub claims: Option<&'a str>,
    /// A request object by value (OIDC Core §6.1); by then already merged, kept for the
    /// `response_mode` of a refused one.
    pub request: Option<&'a str>,
    /// The DPoP key the code is to be bound to (RFC 9449 §10).
    pub dpop_jkt: Option<&'a str>,
}

impl<'a> AuthorizationRequest<'a> {
    /// Reads the parameters of a list whose names are unique (`params::check_unique`).
    pub(crate) fn from_params(p: &'a [(String, String)]) -> Self {
        let get = |k: &str| params::get(p, k);
        Self {
            client_id: get("client_id"),
            redirect_uri: get("redirect_uri"),
            response_type: get("response_type"),
            response_mode: get("response_mode"),
            state: get("state"),
            scope: get("scope"),
            nonce: get("nonce"),
            code_challenge: get("code_challenge"),
            code_challenge_method: get("code_challenge_method"),
            prompt: get("prompt"),
            max_age: get("max_age"),
            login_hint: get("login_hint"),
            claims: get("claims"),
            request: get("request"),
            dpop_jkt: get("dpop_jkt"),
        }
    }

    /// The request as the rest of the flow keeps it, once every rule holds for `client`:
    /// `response_type=code` (RFC 6749 §4.1.1), a client allowed the code grant, PKCE S256 only
    /// and required of public clients and those that ask for it (RFC 7636, RFC 9700 §2.1.1),
    /// scopes within the client's (RFC 6749 §3.3; no scope asks for none), `prompt=none`
    /// alone, a non-negative `max_age` and a well-formed `claims` (OIDC Core §3.1.2.1, §5.5).
    /// `redirect_uri`, `state` and `mode` are where an answer goes, decided before.
    pub(crate) fn check(
        &self,
        client: &OAuthClient,
        targets: &crate::oauth::resources::Targets,
        redirect_uri: String,
        state: Option<String>,
        mode: ResponseMode,
    ) -> Result<AuthRequest, Refusal> {
        match self.response_type {
            Some("code") => {}
            Some(_) => {
                return refuse(
                    "unsupported_response_type",
                    "only response_type=code is supported",
                )
            }
            None => return refuse("invalid_request", "response_type is required"),
        }
        if !client
            .settings
            .grant_types
            .contains(&GrantType::AuthorizationCode)
        {
            return refuse(
                "unauthorized_client",
                "the client may not use the authorization code grant",
            );
        }
        let code_challenge = match (self.code_challenge, self.code_challenge_method) {
            (Some(c), Some("S256")) => {
                if c.len() != 43 || URL_SAFE_NO_PAD.decode(c).is_err() {
                    return refuse(
                        "invalid_request",
                        "code_challenge must be a base64url SHA-256 (43 characters)",
                    );
                }
                Some(c.to_owned())
            }
            (Some(_), _) => return refuse("invalid_request", "code_challenge_method must be S256"),
            (None, Some(_)) => {
                return refuse(
                    "invalid_request",
                    "code_challenge is required with code_challenge_method",
                )
            }
            (None, None) => None,
        };
        if code_challenge.is_none()
            && (client.settings.require_pkce || !client.settings.is_confidential)
        {
            return refuse(
                "invalid_request",
                "PKCE is required: send code_challenge with code_challenge_method=S256",
            );
        }
        // The token endpoint's rule (RFC 6749 §3.3), except that here no scope asks for none
        // (but for the scopes of the API resources asked for, RFC 8707).
        let scopes: Vec<String> = match self.scope.filter(|s| !s.trim().is_empty()) {
            None if targets.is_empty() => vec![],
            requested => match targets.scope(client, requested) {
                Ok(s) => s
                    .split(' ')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
                Err(e) => return refuse("invalid_scope", e.to_string()),
            },
        };
        let prompt: Vec<String> = self
            .prompt
            .unwrap_or("")
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        if prompt.iter().any(|p| p == "none") && prompt.len() > 1 {
            return refuse(
                "invalid_request",
                "prompt=none cannot be combined with other values",
            );
        }
        let max_age = match self.max_age {
            Some(m) => match m.parse::<i64>().ok().filter(|m| *m >= 0) {
                Some(m) => Some(m),
                None => return refuse("invalid_request", "max_age must be a non-negative integer"),
            },
            None => None,
        };
        let claims = match self.claims {
            Some(raw) => match tessera_domain::claims::ClaimsRequest::parse(raw) {
                Ok(c) => (!c.is_empty()).then_some(c),
                Err(e) => return refuse("invalid_request", format!("{} {}", e.field, e.message)),
            },
            None => None,
        };
        let dpop_jkt = super::par::check_dpop_jkt(self.dpop_jkt)?;
        Ok(AuthRequest {
            dpop_jkt,
            pushed: None,
            password_ok: None,
            client_id: client.id.to_string(),
            redirect_uri,
            scopes,
            state,
            nonce: self.nonce.map(str::to_owned),
            code_challenge,
            prompt,
            max_age,
            login_hint: self.login_hint.map(str::to_owned),
            device_user_code: None,
            claims,
            response_mode: mode,
            resources: targets.identifiers(),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use tessera_domain::client::{ClientId, ClientInput, ClientSettings};

    fn client(input: ClientInput) -> OAuthClient {
        OAuthClient {
            org_id: tessera_domain::OrgId(uuid::Uuid::nil()),
            id: ClientId::parse("app").unwrap(),
            settings: ClientSettings::validate(&ClientInput {
                name: "App".into(),
                redirect_uris: vec!["https://app.example/cb".into()],
                allowed_scopes: Some(vec!["openid".into(), "profile".into()]),
                ..input
            })
            .unwrap(),
            secrets: vec![],
            created_at: tessera_domain::clock::from_millis(0),
            updated_at: tessera_domain::clock::from_millis(0),
            tokens_revoked_at: None,
        }
    }

    fn public() -> OAuthClient {
        client(ClientInput {
            is_confidential: Some(false),
            ..ClientInput::default()
        })
    }

    /// 43 base64url characters: a well-formed S256 challenge.
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn good() -> AuthorizationRequest<'static> {
        AuthorizationRequest {
            client_id: Some("app"),
            response_type: Some("code"),
            code_challenge: Some(CHALLENGE),
            code_challenge_method: Some("S256"),
            ..AuthorizationRequest::default()
        }
    }

    fn check(r: AuthorizationRequest<'_>, c: &OAuthClient) -> Result<AuthRequest, Refusal> {
        r.check(
            c,
            &crate::oauth::resources::Targets::default(),
            "https://app.example/cb".into(),
            Some("s".into()),
            ResponseMode::Query,
        )
    }

    fn error(r: AuthorizationRequest<'_>, c: &OAuthClient) -> &'static str {
        check(r, c).unwrap_err().error
    }

    #[test]
    fn a_good_request_is_kept_as_asked() {
        let r = AuthorizationRequest {
            scope: Some("profile openid profile"),
            nonce: Some("n"),
            prompt: Some("login consent"),
            max_age: Some("0"),
            login_hint: Some("alice"),
            ..good()
        };
        let a = check(r, &public()).unwrap();
        assert_eq!(a.client_id, "app");
        assert_eq!(a.scopes, ["profile", "openid"]);
        assert_eq!(a.prompt, ["login", "consent"]);
        assert_eq!(a.max_age, Some(0));
        assert_eq!(a.code_challenge.as_deref(), Some(CHALLENGE));
        assert_eq!(a.state.as_deref(), Some("s"));
        assert_eq!(a.nonce.as_deref(), Some("n"));
        // No scope asks for none (not for the client's whole list).
        let a = check(good(), &public()).unwrap();
        assert!(a.scopes.is_empty());
    }

    #[test]
    fn only_the_code_response_type() {
        let c = public();
        let r = |t| AuthorizationRequest {
            response_type: t,
            ..good()
        };
        assert_eq!(error(r(Some("token")), &c), "unsupported_response_type");
        assert_eq!(
            error(r(Some("code id_token")), &c),
            "unsupported_response_type"
        );
        assert_eq!(error(r(None), &c), "invalid_request");
    }

    #[test]
    fn only_clients_with_the_code_grant() {
        let m2m = client(ClientInput {
            grant_types: vec!["client_credentials".into()],
            ..ClientInput::default()
        });
        assert_eq!(error(good(), &m2m), "unauthorized_client");
    }

    #[test]
    fn pkce_is_s256_and_required_of_public_clients() {
        let c = public();
        let with = |ch, m| AuthorizationRequest {
            code_challenge: ch,
            code_challenge_method: m,
            ..good()
        };
        assert_eq!(
            error(with(Some(CHALLENGE), Some("plain")), &c),
            "invalid_request"
        );
        assert_eq!(error(with(Some(CHALLENGE), None), &c), "invalid_request");
        assert_eq!(error(with(None, Some("S256")), &c), "invalid_request");
        assert_eq!(
            error(with(Some("short"), Some("S256")), &c),
            "invalid_request"
        );
        let e = check(with(None, None), &c).unwrap_err();
        assert!(e.description.contains("PKCE is required"), "{e:?}");
        // A confidential client that does not ask for PKCE may go without.
        let conf = client(ClientInput {
            require_pkce: false,
            ..ClientInput::default()
        });
        assert!(check(with(None, None), &conf)
            .unwrap()
            .code_challenge
            .is_none());
    }

    #[test]
    fn scopes_beyond_the_clients_are_invalid_scope() {
        let r = AuthorizationRequest {
            scope: Some("openid email"),
            ..good()
        };
        let e = check(r, &public()).unwrap_err();
        assert_eq!(e.error, "invalid_scope");
        assert!(e.description.contains("email"), "{e:?}");
    }

    #[test]
    fn prompt_max_age_and_claims_are_checked() {
        let c = public();
        let none_and_login = AuthorizationRequest {
            prompt: Some("none login"),
            ..good()
        };
        assert_eq!(error(none_and_login, &c), "invalid_request");
        for bad in ["-1", "soon", "1.5"] {
            let r = AuthorizationRequest {
                max_age: Some(bad),
                ..good()
            };
            assert_eq!(error(r, &c), "invalid_request", "max_age={bad}");
        }
        let r = AuthorizationRequest {
            claims: Some("not json"),
            ..good()
        };
        assert_eq!(error(r, &c), "invalid_request");
        let r = AuthorizationRequest {
            claims: Some(r#"{"userinfo": {"email": null}}"#),
            ..good()
        };
        assert!(check(r, &c).unwrap().claims.is_some());
    }

    #[test]
    fn parameters_are_read_by_name_and_empty_ones_are_absent() {
        let p: Vec<(String, String)> = [
            ("client_id", "app"),
            ("response_type", "code"),
            ("state", ""),
            ("scope", "openid profile"),
            ("unknown", "ignored"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        let r = AuthorizationRequest::from_params(&p);
        assert_eq!(r.client_id, Some("app"));
        assert_eq!(r.response_type, Some("code"));
        assert_eq!(r.scope, Some("openid profile"));
        assert_eq!(r.state, None);
        assert_eq!(r.redirect_uri, None);
    }
}
