//! `cargo bench -p mock-idp`: start-up time and RSS of the release binary, RS256 signing
//! against `openssl speed rsa2048` measured in the same run, and the token endpoint's
//! throughput over loopback. Prints a table for the book (docs/src/built/benchmarks.md).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use mock_idp::SigningAlg;
use mock_idp::SigningKey;
use support::{code_in, exchange, rss_kb, spawn};

mod support;

const RUNS: usize = 20;
const SECONDS: f64 = 3.0;

fn main() {
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures");
    let pem = std::fs::read_to_string(format!("{fixtures}/keys/rsa-1.pem")).expect("fixture key");

    let (startup, rss_idle) = startup(fixtures);
    let openssl = openssl_sign_per_s();
    let held = per_second(|| {
        let key = KEY.get_or_init(|| SigningKey::from_pem("k", SigningAlg::RS256, &pem).unwrap());
        key.sign_jwt("JWT", &serde_json::json!({"sub": "bench", "iat": 1}))
            .unwrap();
    });
    let naive = per_second(|| {
        let key = jsonwebtoken::EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap();
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
            &serde_json::json!({"sub": "bench", "iat": 1}),
            &key,
        )
        .unwrap();
    });
    let (tokens, rss_peak) = token_endpoint(fixtures);
    let (embedded, logins) = embedded();

    println!("\n| measure | value |");
    println!("|---|---|");
    println!(
        "| start-up, spawn → first discovery answer (median of {RUNS}) | {:.1} ms |",
        startup.as_secs_f64() * 1e3
    );
    println!(
        "| embedded: `MockIdp::start()` → listening, in-process (median of {RUNS}) | {:.2} ms |",
        embedded.as_secs_f64() * 1e3
    );
    println!(
        "| logins/s through the HTML form (authorize → login page → form post → code exchange), one client, sequential | {logins:.0} |"
    );
    println!(
        "| RSS after the first answer | {:.1} MB |",
        rss_idle as f64 / 1024.0
    );
    println!(
        "| RSS peak after the token-endpoint run | {:.1} MB |",
        rss_peak as f64 / 1024.0
    );
    match openssl {
        Some(o) => {
            println!("| `openssl speed rsa2048` sign/s, 1 core | {o:.0} |");
            println!(
                "| mock-idp RS256 JWT/s, held key, 1 core | {held:.0} ({:.0}% of openssl) |",
                100.0 * held / o
            );
            println!(
                "| jsonwebtoken::encode/s, key parsed per call, 1 core | {naive:.0} ({:.0}% of openssl) |",
                100.0 * naive / o
            );
        }
        None => {
            println!("| `openssl speed rsa2048` | openssl not found |");
            println!("| mock-idp RS256 JWT/s, held key, 1 core | {held:.0} |");
            println!("| jsonwebtoken::encode/s, key parsed per call | {naive:.0} |");
        }
    }
    println!(
        "| token endpoint (client_credentials, RS256 JWT) over loopback, 8 connections | {tokens:.0} tokens/s |"
    );
}

/// `MockIdp::start()` in-process (what a test suite pays per IdP), and then sequential
/// logins through the HTML form over loopback by one client.
fn embedded() -> (Duration, f64) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut times = Vec::new();
        for _ in 0..RUNS {
            let started = Instant::now();
            let idp = mock_idp::MockIdp::start().await;
            times.push(started.elapsed());
            idp.shutdown().await;
        }
        times.sort();
        let idp = mock_idp::MockIdp::start().await;
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let issuer = idp.issuer().to_owned();
        let redirect = "http://127.0.0.1/login/oauth2/callback";
        let start = Instant::now();
        let mut n = 0u64;
        while start.elapsed().as_secs_f64() < SECONDS {
            let page = client
                .get(format!("{issuer}/authorize"))
                .query(&[
                    ("response_type", "code"),
                    ("client_id", "demo-rp"),
                    ("redirect_uri", redirect),
                    ("scope", "openid profile email"),
                    ("state", "s"),
                    ("nonce", "n"),
                ])
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let pending = page
                .split("name=\"request\" value=\"")
                .nth(1)
                .and_then(|r| r.split('"').next())
                .expect("a login page")
                .to_owned();
            let res = client
                .post(format!("{issuer}/login"))
                .form(&[("request", pending.as_str()), ("username", "alice")])
                .send()
                .await
                .unwrap();
            let location = res.headers()["location"].to_str().unwrap().to_owned();
            let res = exchange(&client, &issuer, &code_in(&location), redirect).await;
            assert_eq!(res.status(), 200);
            res.bytes().await.unwrap();
            n += 1;
        }
        let logins = n as f64 / start.elapsed().as_secs_f64();
        idp.shutdown().await;
        (times[RUNS / 2], logins)
    })
}

static KEY: std::sync::OnceLock<SigningKey> = std::sync::OnceLock::new();

/// Calls per second of `f` over about `SECONDS`.
fn per_second(mut f: impl FnMut()) -> f64 {
    f(); // warm up (and parse the held key once)
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed().as_secs_f64() < SECONDS {
        f();
        n += 1;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn get(addr: &str, path: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

fn startup(_fixtures: &str) -> (Duration, u64) {
    let mut times = Vec::new();
    let mut rss = 0;
    for _ in 0..RUNS {
        let (mut child, addr, started) = spawn(None, &[]);
        let answer = get(&addr, "/.well-known/openid-configuration");
        times.push(started.elapsed());
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        rss = rss_kb(child.id(), "VmRSS:");
        child.kill().ok();
        child.wait().ok();
    }
    times.sort();
    (times[RUNS / 2], rss)
}

fn openssl_sign_per_s() -> Option<f64> {
    let out = Command::new("openssl")
        .args(["speed", "-seconds", "3", "rsa2048"])
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    // "rsa 2048 bits 0.000283s 0.000008s   3531.4 119714.9"
    let line = text.lines().find(|l| l.starts_with("rsa 2048 bits"))?;
    line.split_whitespace().nth(5)?.parse().ok()
}

fn token_endpoint(fixtures: &str) -> (f64, u64) {
    let config = std::fs::read_to_string(format!("{fixtures}/idp.toml"))
        .unwrap()
        .replace(
            "pem_file = \"keys/",
            &format!("pem_file = \"{fixtures}/keys/"),
        )
        .replace(
            "grant_types = [\"authorization_code\", \"refresh_token\"]",
            "grant_types = [\"authorization_code\", \"refresh_token\", \"client_credentials\"]",
        );
    let path = std::env::temp_dir().join(format!("mock-idp-bench-{}.toml", std::process::id()));
    std::fs::write(&path, config).unwrap();
    let (mut child, addr, _) = spawn(path.to_str(), &[]);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let count = Arc::new(AtomicU64::new(0));
    let elapsed = rt.block_on(async {
        let client = reqwest::Client::new();
        let url = format!("http://{addr}/token");
        let start = Instant::now();
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (client, url, count) = (client.clone(), url.clone(), count.clone());
                tokio::spawn(async move {
                    while start.elapsed().as_secs_f64() < SECONDS {
                        let res = client
                            .post(&url)
                            .basic_auth("demo-rp", Some("demo-secret"))
                            .header("content-type", "application/x-www-form-urlencoded")
                            .body("grant_type=client_credentials&scope=api")
                            .send()
                            .await
                            .unwrap();
                        assert_eq!(res.status(), 200);
                        res.bytes().await.unwrap();
                        count.fetch_add(1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        start.elapsed()
    });
    let peak = rss_kb(child.id(), "VmHWM:");
    child.kill().ok();
    child.wait().ok();
    std::fs::remove_file(path).ok();
    (
        count.load(Ordering::Relaxed) as f64 / elapsed.as_secs_f64(),
        peak,
    )
}
