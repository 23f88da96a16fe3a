//! Load generator for complete authorization-code flows, used by `bench/flows.sh`.
//!
//! `flowbench BASE ORG CLIENT_ID REDIRECT USERNAME PASSWORD VERIFIER CHALLENGE MODE SECONDS WORKERS`
//!
//! MODE `session`: each worker signs in once, then loops authorize → code → token with its
//! session cookie (consent remembered). MODE `login`: every flow signs in afresh with the
//! password (argon2id is the cost). Prints flows/s and p50/p99 of a whole flow.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

struct Args {
    base: String,
    org: String,
    client_id: String,
    redirect: String,
    username: String,
    password: String,
    verifier: String,
    challenge: String,
    login_every_time: bool,
    seconds: u64,
    workers: usize,
}

fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).expect("form field") + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

fn code_of(res: &reqwest::Response) -> Option<String> {
    let loc = res.headers().get("location")?.to_str().ok()?;
    let u = url::Url::parse(loc).ok()?;
    u.query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
}

/// The `name=value` of the response's `Set-Cookie` named `name`.
fn set_cookie(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or_default().to_owned())
        .find(|kv| kv.starts_with(&format!("{name}=")))
}

/// Authorize; sign in (and consent) if asked; the code and the cookies (the browser binding
/// and the session).
async fn authorize(http: &reqwest::Client, a: &Args, cookie: Option<&str>) -> (String, String) {
    let url = format!(
        "{}/orgs/{}/api/v1/oauth/authorize?response_type=code&client_id={}&redirect_uri={}&scope=openid%20profile&state=s&code_challenge={}&code_challenge_method=S256",
        a.base, a.org, a.client_id, a.redirect, a.challenge
    );
    let mut req = http.get(&url);
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    let res = req.send().await.unwrap();
    if let Some(code) = code_of(&res) {
        return (code, cookie.unwrap_or_default().to_owned());
    }
    // The browser binding that the forms' tokens are bound to, kept as a browser keeps it.
    let binding = set_cookie(&res, "tessera_browser")
        .or_else(|| cookie.map(str::to_owned))
        .unwrap_or_default();
    let html = res.text().await.unwrap();
    let (request, csrf) = (hidden(&html, "request"), hidden(&html, "csrf_token"));
    let res = http
        .post(format!("{}/orgs/{}/login", a.base, a.org))
        .header("cookie", &binding)
        .form(&[
            ("request", request.as_str()),
            ("csrf_token", &csrf),
            ("username", &a.username),
            ("password", &a.password),
        ])
        .send()
        .await
        .unwrap();
    let session = set_cookie(&res, "tessera_session").expect("signed in");
    let cookie = format!("{binding}; {session}");
    if let Some(code) = code_of(&res) {
        return (code, cookie);
    }
    let res = http
        .post(format!("{}/orgs/{}/consent", a.base, a.org))
        .header("cookie", &cookie)
        .form(&[
            ("request", request.as_str()),
            ("csrf_token", &csrf),
            ("decision", "allow"),
        ])
        .send()
        .await
        .unwrap();
    (code_of(&res).expect("a code after consent"), cookie)
}

async fn redeem(http: &reqwest::Client, a: &Args, code: &str) -> bool {
    http.post(format!("{}/orgs/{}/api/v1/oauth/token", a.base, a.org))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &a.redirect),
            ("client_id", &a.client_id),
            ("code_verifier", &a.verifier),
        ])
        .send()
        .await
        .map(|r| r.status().is_success())
        .unwrap_or(false)
}

#[tokio::main]
async fn main() {
    let v: Vec<String> = std::env::args().skip(1).collect();
    assert_eq!(v.len(), 11, "usage: flowbench BASE ORG CLIENT_ID REDIRECT USERNAME PASSWORD VERIFIER CHALLENGE session|login SECONDS WORKERS");
    let a = std::sync::Arc::new(Args {
        base: v[0].clone(),
        org: v[1].clone(),
        client_id: v[2].clone(),
        redirect: v[3].clone(),
        username: v[4].clone(),
        password: v[5].clone(),
        verifier: v[6].clone(),
        challenge: v[7].clone(),
        login_every_time: v[8] == "login",
        seconds: v[9].parse().unwrap(),
        workers: v[10].parse().unwrap(),
    });
    // reqwest's TLS backend is built without a crypto provider: install one first.
    tessera_connect::oauth::install_crypto_provider();
    // Sign in and consent once, so that consent is remembered for everyone.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let (code, _) = authorize(&http, &a, None).await;
    assert!(redeem(&http, &a, &code).await, "a first flow");

    let deadline = Instant::now() + Duration::from_secs(a.seconds);
    let mut tasks = vec![];
    for _ in 0..a.workers {
        let a = a.clone();
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap();
            let mut cookie = if a.login_every_time {
                None
            } else {
                Some(authorize(&http, &a, None).await.1)
            };
            let (mut lat, mut errors) = (vec![], 0u64);
            while Instant::now() < deadline {
                let t = Instant::now();
                let (code, c) = authorize(&http, &a, cookie.as_deref()).await;
                if !a.login_every_time {
                    cookie = Some(c);
                }
                if redeem(&http, &a, &code).await {
                    lat.push(t.elapsed());
                } else {
                    errors += 1;
                }
            }
            (lat, errors)
        }));
    }
    let start = Instant::now();
    let (mut lat, mut errors) = (vec![], 0);
    for t in tasks {
        let (l, e) = t.await.unwrap();
        lat.extend(l);
        errors += e;
    }
    let secs = start.elapsed().as_secs_f64().max(a.seconds as f64);
    lat.sort();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "{:<20} {:9.0} flows/s   p50 {:6.2} ms   p99 {:6.2} ms   flows {}   errors {}",
        if a.login_every_time {
            "fresh login"
        } else {
            "existing session"
        },
        lat.len() as f64 / secs,
        pct(0.50),
        pct(0.99),
        lat.len(),
        errors
    );
}
