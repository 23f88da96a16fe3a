//! Load generator for form POSTs whose URL and body belong together (a token and the
//! organization that issued it), used by `bench/scale.sh`. oha draws the URL and the body
//! independently; this draws whole lines.
//!
//! `pairbench run FILE SECONDS CONNECTIONS`: for SECONDS, CONNECTIONS workers POST random lines
//! of FILE (`URL<TAB>FORM BODY`); prints requests/s, p50, p99 and the share of 2xx answers.
//!
//! `pairbench each FILE CONNECTIONS FIELD`: POSTs every line once and prints, for each 2xx
//! answer, the line, a tab, and the JSON string FIELD of its answer (an `access_token`, say);
//! the rate goes to stderr.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn lines(path: &str) -> Vec<(String, String)> {
    std::fs::read_to_string(path)
        .expect("the lines file")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let (u, b) = l.split_once('\t').expect("URL<TAB>BODY");
            (u.to_owned(), b.to_owned())
        })
        .collect()
}

fn http() -> reqwest::Client {
    tessera_connect::oauth::install_crypto_provider();
    reqwest::Client::builder()
        .pool_max_idle_per_host(1024)
        .build()
        .unwrap()
}

async fn post(http: &reqwest::Client, url: &str, body: &str) -> (bool, String) {
    match http
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_owned())
        .send()
        .await
    {
        Ok(r) => {
            let ok = r.status().is_success();
            (ok, r.text().await.unwrap_or_default())
        }
        Err(_) => (false, String::new()),
    }
}

/// xorshift64*: enough to spread requests, and no dependency.
fn next(state: &mut u64) -> u64 {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    state.wrapping_mul(0x2545_f491_4f6c_dd1d)
}

async fn run(file: &str, seconds: u64, conns: usize) {
    let lines = Arc::new(lines(file));
    let http = http();
    let end = Instant::now() + Duration::from_secs(seconds);
    let mut workers = Vec::new();
    for w in 0..conns {
        let (lines, http) = (Arc::clone(&lines), http.clone());
        workers.push(tokio::spawn(async move {
            let mut rng = 0x9e37_79b9_7f4a_7c15_u64 ^ (w as u64 + 1).wrapping_mul(0x1000_0001);
            let (mut times, mut ok) = (Vec::new(), 0_u64);
            while Instant::now() < end {
                let (u, b) = &lines[(next(&mut rng) % lines.len() as u64) as usize];
                let t = Instant::now();
                if post(&http, u, b).await.0 {
                    ok += 1;
                }
                times.push(t.elapsed());
            }
            (times, ok)
        }));
    }
    let (mut times, mut ok) = (Vec::new(), 0);
    for w in workers {
        let (t, o) = w.await.unwrap();
        times.extend(t);
        ok += o;
    }
    times.sort();
    let n = times.len().max(1);
    let ms = |q: usize| times.get(q).map_or(0.0, |d| d.as_secs_f64() * 1000.0);
    println!(
        "{:.0} req/s   p50 {:.2} ms   p99 {:.2} ms   2xx {:.1}%",
        times.len() as f64 / seconds as f64,
        ms(n / 2),
        ms(n * 99 / 100),
        100.0 * ok as f64 / n as f64
    );
}

async fn each(file: &str, conns: usize, field: &str) {
    let lines = Arc::new(lines(file));
    let http = http();
    let at = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..conns {
        let (lines, http, at) = (Arc::clone(&lines), http.clone(), Arc::clone(&at));
        let field = field.to_owned();
        workers.push(tokio::spawn(async move {
            let mut out = Vec::new();
            while let Some((u, b)) = lines.get(at.fetch_add(1, Ordering::Relaxed)) {
                let (ok, text) = post(&http, u, b).await;
                let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
                if let (true, Some(f)) = (ok, v[&field].as_str()) {
                    out.push(format!("{u}\t{b}\t{f}"));
                }
            }
            out
        }));
    }
    let mut got = 0;
    for w in workers {
        for line in w.await.unwrap() {
            println!("{line}");
            got += 1;
        }
    }
    eprintln!(
        "{} requests, {got} answered with {field}, {:.0} req/s",
        lines.len(),
        lines.len() as f64 / start.elapsed().as_secs_f64()
    );
}

#[tokio::main]
async fn main() {
    let a: Vec<String> = std::env::args().collect();
    match a.get(1).map(String::as_str) {
        Some("run") => run(&a[2], a[3].parse().unwrap(), a[4].parse().unwrap()).await,
        Some("each") => each(&a[2], a[3].parse().unwrap(), &a[4]).await,
        _ => panic!("usage: pairbench run FILE SECONDS CONNECTIONS | each FILE CONNECTIONS FIELD"),
    }
}
