//! The HTTP stack without the network: requests through the whole router (every middleware,
//! the handler, the response body) in a loop on one thread, for the CPU a request costs in
//! the process itself, apart from the kernel's loopback. `bench/ceiling.sh` reports it beside
//! the rates over TCP.
//!
//! Usage: `inproc DATA_DIR CLIENT_ID SECRET [ITERATIONS [CASE]]` (CASE: only that one, e.g.
//! under a profiler; an organization `bench` with that
//! `client_credentials` client must exist in the data dir, or in the database of
//! `TESSERA_DATABASE_URL`).

// A bench tool: the requests it builds are fixed and valid.
#![allow(clippy::unwrap_used)]

use std::time::Instant;

use axum::body::Body;
use base64::Engine as _;
use tower::ServiceExt as _;

type MakeRequest<'a> = Box<dyn Fn() -> http::Request<Body> + 'a>;

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, dir, client, secret, rest @ ..] = args.as_slice() else {
        anyhow::bail!("usage: inproc DATA_DIR CLIENT_ID SECRET [ITERATIONS [CASE]]");
    };
    let n: u32 = rest.first().map_or(Ok(20_000), |s| s.parse())?;
    let only = rest.get(1);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let config = tessera::config::load(&tessera::config::Overrides {
            data_dir: Some(dir.into()),
            // As the binary takes them (PostgreSQL, with TESSERA_MASTER_KEY).
            database_url: std::env::var("TESSERA_DATABASE_URL").ok(),
            ..Default::default()
        })?;
        let app = tessera::app::open(&config).await?;
        let state = tessera_web::AppState::new(
            app.services.clone(),
            tessera_web::WebConfig {
                public_url: config.public_url.clone(),
                request_timeout: config.request_timeout,
                body_limit: config.body_limit,
            },
        );
        let router = tessera_web::router(state);
        let basic = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{client}:{secret}"))
        );
        let token_req = || {
            http::Request::post("/orgs/bench/api/v1/oauth/token")
                .header("host", "127.0.0.1")
                .header("authorization", &basic)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from("grant_type=client_credentials"))
                .unwrap()
        };
        let res = router.clone().oneshot(token_req()).await?;
        let body = axum::body::to_bytes(res.into_body(), 1 << 20).await?;
        let token = serde_json::from_slice::<serde_json::Value>(&body)?["access_token"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("no token: {}", String::from_utf8_lossy(&body)))?
            .to_owned();
        let intro_body = format!("token={token}");
        let get = |path: &'static str| {
            move || {
                http::Request::get(path)
                    .header("host", "127.0.0.1")
                    .body(Body::empty())
                    .unwrap()
            }
        };
        let cases: [(&str, MakeRequest); 5] = [
            ("healthz", Box::new(get("/healthz"))),
            (
                "discovery",
                Box::new(get("/orgs/bench/.well-known/openid-configuration")),
            ),
            ("jwks", Box::new(get("/orgs/bench/api/v1/oauth/jwks"))),
            ("client_credentials", Box::new(token_req)),
            (
                "introspection",
                Box::new(|| {
                    http::Request::post("/orgs/bench/api/v1/oauth/introspect")
                        .header("host", "127.0.0.1")
                        .header("authorization", &basic)
                        .header("content-type", "application/x-www-form-urlencoded")
                        .body(Body::from(intro_body.clone()))
                        .unwrap()
                }),
            ),
        ];
        for (name, make) in &cases {
            if only.is_some_and(|o| o != name) {
                continue;
            }
            for round in 0..2 {
                let start = Instant::now();
                for _ in 0..n {
                    let res = router.clone().oneshot(make()).await?;
                    let status = res.status();
                    let body = axum::body::to_bytes(res.into_body(), 1 << 20).await?;
                    anyhow::ensure!(status.is_success(), "{name}: {status} {body:?}");
                }
                let us = start.elapsed().as_secs_f64() * 1e6 / f64::from(n);
                if round == 1 {
                    println!("{name:<20} {us:7.2} µs/request  {:8.0} /s", 1e6 / us);
                }
            }
        }
        anyhow::Ok(())
    })
}
