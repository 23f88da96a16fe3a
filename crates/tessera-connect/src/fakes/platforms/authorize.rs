//! The authorize endpoint: checks the app, the redirect and (YouTube, Kick) the PKCE challenge,
//! then sends the user back with a code, or with `access_denied` when told to deny.

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use tessera_domain::Platform;

use super::state::{Code, Shared};
use super::wire::{not_found, pairs, param, platform_of};

pub(super) async fn authorize(
    State(st): State<Shared>,
    Path(platform): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let Some(p) = platform_of(&platform) else {
        return not_found();
    };
    let ps = pairs(q.unwrap_or_default().as_bytes());
    let mut g = st.lock().unwrap();
    let n = g.next();
    let s = g.plat(p);
    s.last_authorize = Some(ps.clone());
    let bad = |m: &str| (StatusCode::BAD_REQUEST, Html(format!("<h1>{m}</h1>"))).into_response();
    let Some(client_id) = param(&ps, "client_id").filter(|c| s.apps.contains_key(*c)) else {
        return bad("invalid client");
    };
    let (Some(redirect_uri), Some(state)) = (param(&ps, "redirect_uri"), param(&ps, "state"))
    else {
        return bad("missing redirect_uri or state");
    };
    let Ok(mut back) = url::Url::parse(redirect_uri) else {
        return bad("invalid redirect_uri");
    };
    if param(&ps, "response_type") != Some("code") {
        return bad("unsupported response_type");
    }
    let challenge = match p {
        Platform::Kick | Platform::Youtube => {
            match (
                param(&ps, "code_challenge"),
                param(&ps, "code_challenge_method"),
            ) {
                (Some(c), Some("S256")) => Some(c.to_owned()),
                (Some(_), _) => return bad("code_challenge_method must be S256"),
                (None, _) if p == Platform::Kick => return bad("code_challenge is required"),
                (None, _) => None,
            }
        }
        Platform::Twitch | Platform::Trovo => None,
    };
    if std::mem::take(&mut s.deny_next) {
        back.query_pairs_mut()
            .append_pair("error", "access_denied")
            .append_pair("error_description", "The user denied the request")
            .append_pair("state", state);
    } else {
        let code = format!("code-{}-{n}", p.as_str());
        s.codes.insert(
            code.clone(),
            Code {
                client_id: client_id.to_owned(),
                redirect_uri: redirect_uri.to_owned(),
                challenge,
                scopes: param(&ps, "scope")
                    .unwrap_or("")
                    .split_whitespace()
                    .map(str::to_owned)
                    .collect(),
            },
        );
        back.query_pairs_mut()
            .append_pair("code", &code)
            .append_pair("state", state);
    }
    (StatusCode::FOUND, [(header::LOCATION, back.to_string())]).into_response()
}
