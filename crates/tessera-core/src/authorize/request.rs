//! [`AuthorizationRequest`]: the parameters of an authorization request by name (RFC 6749
//! §4.1.1, OIDC Core §3.1.2.1 and §6), read once from the query or form, with a request
//! object's parameters already merged over them. What they must be is checked by
//! `Services::authorize` against the client; this type only names them, so that no rule reads
//! a parameter by a string.

use crate::params;

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
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
