//! The admin REST API's explorer, Swagger UI on `GET …/admin/explorer`, with every asset
//! embedded and served by Tessera (see `assets/swagger-ui/README.md`). The member signs in
//! with the organization's own `tessera-explorer` client (authorization code with PKCE), made
//! the first time the page is opened, and the explorer calls the API with that access token
//! (`crate::auth`): it acts as the member, with their permissions.

use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use http::{header, HeaderValue, StatusCode};

use crate::{paths, AppState};

/// Where the assets are served.
pub const ASSETS: &str = "/assets/swagger-ui/{file}";
/// The page the sign-in returns to (Swagger UI's, with its script as a file).
pub const REDIRECT_PAGE: &str = "/assets/swagger-ui/oauth2-redirect.html";

/// (name, content type, gzipped?, bytes)
const FILES: &[(&str, &str, bool, &[u8])] = &[
    (
        "swagger-ui-bundle.js",
        "text/javascript; charset=utf-8",
        true,
        include_bytes!("../assets/swagger-ui/swagger-ui-bundle.js.gz"),
    ),
    (
        "swagger-ui.css",
        "text/css; charset=utf-8",
        true,
        include_bytes!("../assets/swagger-ui/swagger-ui.css.gz"),
    ),
    (
        "oauth2-redirect.js",
        "text/javascript; charset=utf-8",
        false,
        include_bytes!("../assets/swagger-ui/oauth2-redirect.js"),
    ),
    (
        "init.js",
        "text/javascript; charset=utf-8",
        false,
        include_bytes!("../assets/swagger-ui/init.js"),
    ),
];

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     font-src 'self' data:; img-src 'self' data:; connect-src 'self'; form-action 'self'; \
     frame-ancestors 'none'";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(REDIRECT_PAGE, get(redirect_page))
        .route(ASSETS, get(asset))
}

async fn asset(Path(file): Path<String>) -> Response {
    let Some((_, ctype, gz, bytes)) = FILES.iter().find(|(n, ..)| *n == file) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut res = (*bytes).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    if *gz {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    res
}

fn with_csp(mut res: Response) -> Response {
    res.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    res
}

/// The sign-in's return page: hands the code to the explorer that opened it.
async fn redirect_page() -> Response {
    with_csp(
        Html(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Signing in…</title></head>\n<body><script src=\"/assets/swagger-ui/oauth2-redirect.js\"></script></body></html>\n",
        )
        .into_response(),
    )
}

#[derive(askama::Template)]
#[template(path = "explorer.html")]
struct ExplorerPage<'a> {
    org: &'a str,
    issuer: &'a str,
    spec: &'a str,
    client: &'a str,
    redirect: &'a str,
}

/// `GET /orgs/{org}/api/v1/admin/explorer` (and under `/t/{org}`).
pub(crate) async fn page(State(state): State<AppState>, Path(org): Path<String>) -> Response {
    use askama::Template;
    let services = &state.services;
    let issuer = match services.explorer_client(&org).await {
        Ok(issuer) => issuer,
        Err(tessera_core::CoreError::NotFound { .. }) => {
            return crate::pages::error_with(
                StatusCode::NOT_FOUND,
                &format!("There is no organization '{org}'."),
            )
        }
        Err(e) => {
            tracing::error!(error = %e, "the explorer's client could not be made");
            return crate::pages::error_with(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The explorer could not be opened. Try again.",
            );
        }
    };
    let redirect = services.explorer_redirect_uri();
    let html = match (ExplorerPage {
        org: &org,
        issuer: &issuer,
        spec: paths::OPENAPI,
        client: tessera_core::account::DEFAULT_EXPLORER_CLIENT,
        redirect: &redirect,
    })
    .render()
    {
        Ok(html) => html,
        Err(e) => {
            tracing::error!(error = %e, "the explorer page failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    with_csp(Html(html).into_response())
}
