//! GraphiQL on `GET …/admin/graphql`, with every asset embedded and served by Tessera (see
//! `assets/graphiql/README.md`): nothing is loaded from the internet. The page itself holds no
//! data; the explorer sends the API key the user types into its headers editor.

use axum::extract::Path;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use http::{header, HeaderValue, StatusCode};

use crate::AppState;

/// Where the assets are served.
pub const ASSETS: &str = "/assets/graphiql/{file}";

/// (name, content type, gzipped?, bytes)
const FILES: &[(&str, &str, bool, &[u8])] = &[
    (
        "graphiql.min.js",
        "text/javascript; charset=utf-8",
        true,
        include_bytes!("../assets/graphiql/graphiql.min.js.gz"),
    ),
    (
        "graphiql.min.css",
        "text/css; charset=utf-8",
        true,
        include_bytes!("../assets/graphiql/graphiql.min.css.gz"),
    ),
    (
        "react.production.min.js",
        "text/javascript; charset=utf-8",
        true,
        include_bytes!("../assets/graphiql/react.production.min.js.gz"),
    ),
    (
        "react-dom.production.min.js",
        "text/javascript; charset=utf-8",
        true,
        include_bytes!("../assets/graphiql/react-dom.production.min.js.gz"),
    ),
    (
        "init.js",
        "text/javascript; charset=utf-8",
        false,
        include_bytes!("../assets/graphiql/init.js"),
    ),
];

pub fn router() -> Router<AppState> {
    Router::new().route(ASSETS, get(asset))
}

async fn asset(Path(file): Path<String>) -> Response {
    let Some((_, ctype, gz, bytes)) = FILES.iter().find(|(n, ..)| *n == file) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut res = (*bytes).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    if *gz {
        // Every browser GraphiQL runs in accepts gzip.
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    res
}

#[derive(askama::Template)]
#[template(path = "graphiql.html")]
struct ExplorerPage<'a> {
    org: &'a str,
    endpoint: &'a str,
}

/// `GET /orgs/{org}/api/v1/admin/graphql` (and under `/t/{org}`): the explorer.
pub(crate) async fn page(Path(org): Path<String>) -> Response {
    use askama::Template;
    // The explorer posts to the canonical path; the `/t/{org}` alias serves the same API.
    let endpoint = format!("/orgs/{org}/api/v1/admin/graphql");
    let html = match (ExplorerPage {
        org: &org,
        endpoint: &endpoint,
    })
    .render()
    {
        Ok(html) => html,
        Err(e) => {
            tracing::error!(error = %e, "the GraphiQL page failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let mut res = Html(html).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
             font-src 'self' data:; img-src 'self' data:; connect-src 'self'; \
             frame-ancestors 'none'",
        ),
    );
    res
}
