//! The signing ceiling of `bench/ceiling.sh`: how many access tokens the JWS code Tessera
//! uses (`SigningKey::sign_jwt`, ES256 by default) signs per second on one thread, with
//! claims shaped like a `client_credentials` token's.
//!
//! `cargo run --release -p tessera-crypto --example sign_rate -- [SECONDS] [ALG]`
// A measuring tool: a key that cannot be made ends the run with its reason.
#![allow(clippy::expect_used)]

use std::time::{Duration, Instant};

use serde_json::json;
use tessera_crypto::jws::{verify, Alg, SigningKey};

fn main() {
    let mut args = std::env::args().skip(1);
    let secs: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(5);
    let alg = args
        .next()
        .and_then(|a| Alg::parse(&a))
        .unwrap_or(Alg::ES256);
    let (key, _) = SigningKey::generate(alg, "bench".into()).expect("a key");
    let claims = json!({
        "iss": "http://127.0.0.1:8700/orgs/bench",
        "sub": "bench",
        "aud": "http://127.0.0.1:8700/orgs/bench",
        "client_id": "bench",
        "client_created_at": 1_765_015_653_930_i64,
        "jti": "0b6f4c1e-7a51-4c5e-9d8e-6b1f9a3c2d10",
        "iat": 1_765_015_653,
        "exp": 1_765_019_253,
        "scope": "api.read api.write",
    });
    let token = key.sign_jwt("at+jwt", &claims).expect("a token");
    let vk = key.verifying_key();
    assert!(verify(&token, &vk).is_ok(), "the token verifies");
    let run = |what: &str, f: &dyn Fn()| {
        let end = Instant::now() + Duration::from_secs(secs);
        let mut n: u64 = 0;
        let start = Instant::now();
        while Instant::now() < end {
            for _ in 0..64 {
                f();
            }
            n += 64;
        }
        let rate = n as f64 / start.elapsed().as_secs_f64();
        println!(
            "{what} {}: {:.0}/s on one thread ({:.1} µs each)",
            alg.as_str(),
            rate,
            1e6 / rate
        );
    };
    run("sign", &|| {
        std::hint::black_box(key.sign_jwt("at+jwt", std::hint::black_box(&claims)).ok());
    });
    run("verify", &|| {
        std::hint::black_box(verify(std::hint::black_box(&token), &vk).ok());
    });
}
