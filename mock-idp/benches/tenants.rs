//! `cargo bench -p mock-idp --bench tenants`: what a tenant per test costs, measured side by
//! side with a discovery GET from the same keep-alive client to the same release server,
//! in one run (the machine is shared and noisy: the ratio is the figure, not the
//! milliseconds). Three workloads:
//!
//! - **per test**: what a test suite does around each test — create a tenant, read its
//!   discovery, log a user in (authorize with `login_hint`, code exchange), delete the
//!   tenant — `TESTS` times; the creation's median and 90th percentile against a
//!   discovery GET's median (goal ≤ 3x);
//! - **burst**: 1,000 tenants created back to back (the cap), faster than keys can be
//!   made: the rate the key pool sustains once drained;
//! - **memory**: the server's RSS before and with the 1,000 tenants live, per idle tenant
//!   (goal ≤ 64 KB).
//!
//! Run three ways: keys of each tenant's own without a pool (`--key-pool 0`, every key made
//! in the request: the cost before the pool), own keys from the built-in pool (8 ready,
//! made on a thread of their own), and `"keys": "shared"` (the process's RSA key under
//! kids of the tenant's own). Prints a Markdown table for the book.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{code_in, exchange, rss_kb, spawn};

mod support;

const TESTS: usize = 300;
const BURST: usize = 1000;
const DISCOVERY_GETS: usize = 3000;
const CALLBACK: &str = "http://127.0.0.1:8081/login/oauth2/callback";

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    println!(
        "\n| server | discovery GET, median | tenant creation per test, median (p90) | ratio to discovery | burst of {BURST}: tenants/s (median, p90) | RSS per idle tenant |"
    );
    println!("|---|---|---|---|---|---|");
    for (label, extra, keys) in [
        (
            "own keys, no pool (`--key-pool 0`: as before the pool)",
            &["--key-pool", "0"][..],
            "own",
        ),
        ("own keys from the pool (the default)", &[][..], "own"),
        ("`\"keys\": \"shared\"`", &[][..], "shared"),
    ] {
        let row = rt.block_on(measure(extra, keys));
        println!(
            "| {label} | {:.3} ms | {:.3} ms ({:.3} ms) | {:.1}x | {:.0} ({:.2} ms, {:.1} ms) | {:.1} KB |",
            ms(row.discovery),
            ms(row.create.median),
            ms(row.create.p90),
            row.create.median.as_secs_f64() / row.discovery.as_secs_f64(),
            row.burst_rate,
            ms(row.burst.median),
            ms(row.burst.p90),
            row.kb_per_tenant,
        );
    }
}

struct Spread {
    median: Duration,
    p90: Duration,
}

impl Spread {
    fn of(mut times: Vec<Duration>) -> Spread {
        times.sort();
        Spread {
            median: times[times.len() / 2],
            p90: times[times.len() * 9 / 10],
        }
    }
}

struct Row {
    discovery: Duration,
    create: Spread,
    burst: Spread,
    burst_rate: f64,
    kb_per_tenant: f64,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

async fn measure(extra: &[&str], keys: &str) -> Row {
    let (mut child, addr, _) = spawn(None, extra);
    let base = format!("http://{addr}");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client");

    // A discovery GET: the floor a tenant's creation is held to.
    let discovery_url = format!("{base}/.well-known/openid-configuration");
    for _ in 0..DISCOVERY_GETS / 3 {
        get_ok(&http, &discovery_url).await;
    }
    let mut gets = Vec::with_capacity(DISCOVERY_GETS);
    for _ in 0..DISCOVERY_GETS {
        let started = Instant::now();
        get_ok(&http, &discovery_url).await;
        gets.push(started.elapsed());
    }
    let discovery = Spread::of(gets).median;

    // Per test: create, discovery, a login, delete.
    let mut creations = Vec::with_capacity(TESTS);
    for i in 0..TESTS {
        let name = format!("test-{i}");
        let started = Instant::now();
        let issuer = create(&http, &base, &name, keys).await;
        creations.push(started.elapsed());
        get_ok(&http, &format!("{issuer}/.well-known/openid-configuration")).await;
        login(&http, &issuer).await;
        let gone = http
            .delete(format!("{base}/admin/tenants/{name}"))
            .send()
            .await
            .expect("delete");
        assert!(
            gone.status().is_success(),
            "delete {name}: {}",
            gone.status()
        );
    }

    // A burst up to the cap, and the memory it holds.
    let before = rss_kb(child.id(), "VmRSS:");
    let mut burst = Vec::with_capacity(BURST);
    let started = Instant::now();
    for i in 0..BURST {
        let one = Instant::now();
        create(&http, &base, &format!("burst-{i}"), keys).await;
        burst.push(one.elapsed());
    }
    let burst_rate = BURST as f64 / started.elapsed().as_secs_f64();
    let after = rss_kb(child.id(), "VmRSS:");
    child.kill().ok();
    child.wait().ok();
    Row {
        discovery,
        create: Spread::of(creations),
        burst: Spread::of(burst),
        burst_rate,
        kb_per_tenant: after.saturating_sub(before) as f64 / BURST as f64,
    }
}

async fn get_ok(http: &reqwest::Client, url: &str) {
    let res = http.get(url).send().await.expect("GET");
    assert!(res.status().is_success(), "{url}: {}", res.status());
    res.bytes().await.expect("a body");
}

/// Creates tenant `name` on the built-in config with these `keys`; its issuer.
async fn create(http: &reqwest::Client, base: &str, name: &str, keys: &str) -> String {
    let res = http
        .post(format!("{base}/admin/tenants"))
        .json(&json!({ "name": name, "keys": keys }))
        .send()
        .await
        .expect("POST /admin/tenants");
    assert_eq!(res.status(), 201, "create {name}");
    let body: Value = res.json().await.expect("JSON");
    body["issuer"].as_str().expect("an issuer").to_owned()
}

/// alice logs in without a browser (login_hint) and the code is exchanged.
async fn login(http: &reqwest::Client, issuer: &str) {
    let res = http
        .get(format!("{issuer}/authorize"))
        .query(&[
            ("client_id", "demo-rp"),
            ("response_type", "code"),
            ("scope", "openid profile email offline_access"),
            ("state", "s"),
            ("nonce", "n"),
            ("login_hint", "alice"),
            ("redirect_uri", CALLBACK),
        ])
        .send()
        .await
        .expect("authorize");
    let location = res
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .expect("a redirect")
        .to_owned();
    exchange(http, issuer, &code_in(&location), CALLBACK).await;
}
