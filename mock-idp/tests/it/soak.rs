//! The soak: `mock-idp serve` (this build's binary) under a mixed load, as fast as the
//! machine allows, against a model of what every user should be. Logins through the login
//! form, refreshes with rotation, client_credentials, userinfo, introspection, admin
//! patches, deletes and re-creations of users, key rotations. It fails on any 5xx, any
//! transport error, and any answer the model contradicts (a lost update: groups in a fresh
//! token, in userinfo or in the directory that are not the last ones set; a deleted user's
//! token still working). Prints requests, p50/p99 latency and the server's RSS per interval.
//!
//! CI runs a few seconds (`SOAK_SECONDS`, default 4); `mock-idp/soak.sh` runs ten minutes
//! in release mode.

use std::process::Child;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

const WORKERS: usize = 16;
const USERS_PER_WORKER: usize = 4;
const GROUPS: &[&str] = &["analysts", "admins", "ops", "finance", "support"];
const REDIRECT: &str = "http://127.0.0.1:9/login/oauth2/callback";
const CLIENT: (&str, &str) = ("soak-rp", "soak-secret");

fn seconds() -> u64 {
    std::env::var("SOAK_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(4)
}

/// What the soak believes of one user.
#[derive(Debug, Clone)]
struct Model {
    name: String,
    generation: u32,
    groups: Vec<String>,
    deleted: bool,
    refresh: Option<String>,
    access: Option<String>,
}

impl Model {
    fn sub(&self) -> String {
        format!("{}-g{}", self.name, self.generation)
    }
}

/// Latencies (µs) of one interval, and its 5xx count.
#[derive(Default)]
struct Interval {
    latencies: Vec<u32>,
}

#[derive(Default)]
struct Findings {
    five_xx: u64,
    transport: u64,
    contradictions: Vec<String>,
    requests: u64,
}

struct Shared {
    tenant: String,
    http: reqwest::Client,
    interval: Mutex<Interval>,
    findings: Mutex<Findings>,
}

impl Shared {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.tenant)
    }

    fn contradiction(&self, what: String) {
        let mut f = self.findings.lock().unwrap();
        if f.contradictions.len() < 20 {
            f.contradictions.push(what);
        } else {
            f.contradictions[19] = format!("… and more; the last: {what}");
        }
    }

    /// Sends, times and screens a request: a 5xx or a transport error is a finding.
    async fn send(&self, req: reqwest::RequestBuilder) -> Option<(u16, String, Option<String>)> {
        let start = Instant::now();
        let res = req.send().await;
        let res = match res {
            Ok(r) => r,
            Err(e) => {
                let mut f = self.findings.lock().unwrap();
                f.transport += 1;
                f.requests += 1;
                drop(f);
                self.contradiction(format!("transport error: {e}"));
                return None;
            }
        };
        let status = res.status().as_u16();
        let location = res
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .map(str::to_owned);
        let body = res.text().await.unwrap_or_default();
        let micros = start.elapsed().as_micros().min(u32::MAX as u128) as u32;
        self.interval.lock().unwrap().latencies.push(micros);
        let mut f = self.findings.lock().unwrap();
        f.requests += 1;
        if status >= 500 {
            f.five_xx += 1;
            drop(f);
            self.contradiction(format!("{status}: {}", truncate(&body)));
        }
        Some((status, body, location))
    }

    fn form(&self, path: &str, pairs: &[(&str, &str)]) -> reqwest::RequestBuilder {
        self.http.post(self.url(path)).form(pairs)
    }

    fn admin(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}/admin{path}", self.tenant))
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(200).collect()
}

fn claims(jwt: &str) -> Value {
    jwt.split('.')
        .nth(1)
        .and_then(|p| URL_SAFE_NO_PAD.decode(p).ok())
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null)
}

fn groups_of(v: &Value) -> Vec<String> {
    let mut g: Vec<String> = v["groups"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    g.sort();
    g
}

fn sorted(mut g: Vec<String>) -> Vec<String> {
    g.sort();
    g
}

/// One login through the form: authorization request, login page, form post, code
/// exchange. The token answer.
async fn login(s: &Shared, user: &Model) -> Option<Value> {
    let query = [
        ("response_type", "code"),
        ("client_id", CLIENT.0),
        ("redirect_uri", REDIRECT),
        ("scope", "openid profile email offline_access"),
        ("state", "soak-state"),
        ("nonce", "soak-nonce"),
    ];
    let (status, page, _) = s
        .send(s.http.get(s.url("/authorize")).query(&query))
        .await?;
    let pending = page
        .split("name=\"request\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next());
    let Some(pending) = pending.filter(|_| status == 200) else {
        s.contradiction(format!("no login page ({status}): {}", truncate(&page)));
        return None;
    };
    let (status, _, location) = s
        .send(s.form(
            "/login",
            &[("request", pending), ("username", user.name.as_str())],
        ))
        .await?;
    let code = location
        .as_deref()
        .and_then(|l| url::Url::parse(l).ok())
        .and_then(|u| {
            u.query_pairs()
                .find(|(k, _)| k == "code")
                .map(|(_, v)| v.into_owned())
        });
    let Some(code) = code else {
        s.contradiction(format!("login of {} gave {status} {location:?}", user.name));
        return None;
    };
    let (status, body, _) = s
        .send(s.form(
            "/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("client_id", CLIENT.0),
                ("client_secret", CLIENT.1),
            ],
        ))
        .await?;
    if status != 200 {
        s.contradiction(format!("code exchange {status}: {}", truncate(&body)));
        return None;
    }
    serde_json::from_str(&body).ok()
}

/// The groups of fresh tokens must be the last ones set.
fn check_tokens(s: &Shared, user: &Model, tokens: &Value, what: &str) {
    for key in ["id_token", "access_token"] {
        let Some(jwt) = tokens[key].as_str() else {
            if key == "access_token" {
                s.contradiction(format!("{what}: no access token"));
            }
            continue;
        };
        let c = claims(jwt);
        if groups_of(&c) != sorted(user.groups.clone()) {
            s.contradiction(format!(
                "{what} of {}: {key} groups {:?}, last set {:?}",
                user.name,
                groups_of(&c),
                user.groups
            ));
        }
        if c["sub"] != user.sub().as_str() {
            s.contradiction(format!("{what} of {}: sub {}", user.name, c["sub"]));
        }
    }
}

async fn put_user(s: &Shared, user: &Model) -> bool {
    let body = json!({
        "sub": user.sub(),
        "email": format!("{}@soak.example", user.name),
        "groups": user.groups,
    });
    let req = s
        .admin(reqwest::Method::PUT, &format!("/users/{}", user.name))
        .json(&body);
    matches!(s.send(req).await, Some((200 | 201, ..)))
}

async fn act(s: &Shared, rng: &mut StdRng, user: &mut Model) {
    let roll = rng.random_range(0..100);
    match roll {
        // Log in (re-creating a deleted user first).
        0..20 => {
            if user.deleted {
                user.generation += 1;
                user.deleted = false;
                if !put_user(s, user).await {
                    s.contradiction(format!("re-creating {} failed", user.name));
                }
            }
            if let Some(t) = login(s, user).await {
                check_tokens(s, user, &t, "login");
                user.refresh = t["refresh_token"].as_str().map(str::to_owned);
                user.access = t["access_token"].as_str().map(str::to_owned);
                if user.refresh.is_none() {
                    s.contradiction(format!("login of {}: no refresh token", user.name));
                }
            }
        }
        // Refresh, with rotation: the new token replaces the old one.
        20..45 => {
            let Some(rt) = user.refresh.clone() else {
                return;
            };
            let pairs = [
                ("grant_type", "refresh_token"),
                ("refresh_token", rt.as_str()),
                ("client_id", CLIENT.0),
                ("client_secret", CLIENT.1),
            ];
            let Some((status, body, _)) = s.send(s.form("/token", &pairs)).await else {
                return;
            };
            match (user.deleted, status) {
                (false, 200) => {
                    let t: Value = serde_json::from_str(&body).unwrap_or_default();
                    check_tokens(s, user, &t, "refresh");
                    user.refresh = t["refresh_token"].as_str().map(str::to_owned);
                    user.access = t["access_token"].as_str().map(str::to_owned);
                    if user.refresh.is_none() {
                        s.contradiction("a rotating refresh without a new token".into());
                    }
                }
                (true, 400) => user.refresh = None,
                (deleted, status) => s.contradiction(format!(
                    "refresh of {} (deleted: {deleted}): {status} {}",
                    user.name,
                    truncate(&body)
                )),
            }
        }
        // Userinfo with the newest access token.
        45..60 => {
            let Some(at) = user.access.clone() else {
                return;
            };
            let req = s.http.get(s.url("/userinfo")).bearer_auth(&at);
            let Some((status, body, _)) = s.send(req).await else {
                return;
            };
            match (user.deleted, status) {
                (false, 200) => {
                    let v: Value = serde_json::from_str(&body).unwrap_or_default();
                    if v["sub"] != user.sub().as_str()
                        || groups_of(&v) != sorted(user.groups.clone())
                    {
                        s.contradiction(format!(
                            "userinfo of {}: {}, model {:?}",
                            user.name,
                            truncate(&body),
                            user.groups
                        ));
                    }
                }
                (true, 401) => {}
                (deleted, status) => s.contradiction(format!(
                    "userinfo of {} (deleted: {deleted}): {status}",
                    user.name
                )),
            }
        }
        // Introspection: active exactly while the user exists.
        60..70 => {
            let Some(at) = user.access.clone() else {
                return;
            };
            let pairs = [
                ("token", at.as_str()),
                ("client_id", CLIENT.0),
                ("client_secret", CLIENT.1),
            ];
            if let Some((200, body, _)) = s.send(s.form("/introspect", &pairs)).await {
                let v: Value = serde_json::from_str(&body).unwrap_or_default();
                if v["active"] != !user.deleted {
                    s.contradiction(format!(
                        "introspection of {}'s token: {body} (deleted: {})",
                        user.name, user.deleted
                    ));
                }
            }
        }
        // A machine token.
        70..82 => {
            let pairs = [
                ("grant_type", "client_credentials"),
                ("scope", "api"),
                ("client_id", CLIENT.0),
                ("client_secret", CLIENT.1),
            ];
            match s.send(s.form("/token", &pairs)).await {
                Some((200, ..)) | None => {}
                Some((status, body, _)) => {
                    s.contradiction(format!("client_credentials: {status} {}", truncate(&body)))
                }
            }
        }
        // The admin changes the user's groups.
        82..96 => {
            if user.deleted {
                return;
            }
            let groups: Vec<String> = GROUPS
                .iter()
                .filter(|_| rng.random_bool(0.4))
                .map(|g| (*g).to_owned())
                .collect();
            let req = s
                .admin(reqwest::Method::PATCH, &format!("/users/{}", user.name))
                .json(&json!({ "groups": groups }));
            match s.send(req).await {
                Some((200, ..)) => user.groups = groups,
                Some((status, body, _)) => {
                    s.contradiction(format!("PATCH {}: {status} {}", user.name, truncate(&body)))
                }
                None => {}
            }
        }
        // The admin deletes the user.
        _ => {
            if user.deleted {
                return;
            }
            let req = s.admin(reqwest::Method::DELETE, &format!("/users/{}", user.name));
            match s.send(req).await {
                Some((204, ..)) => user.deleted = true,
                Some((status, ..)) => s.contradiction(format!("DELETE {}: {status}", user.name)),
                None => {}
            }
        }
    }
}

fn tenant_config() -> Value {
    json!({
        "issuer": "http://soak.invalid",
        "keys": [{ "kid": "soak-rs256", "alg": "RS256", "pem_file": "soak-rs256.pem" }],
        "groups": { "placements": [
            { "token": "id_token", "pointer": "/groups" },
            { "token": "access_token", "pointer": "/groups" },
            { "token": "userinfo", "pointer": "/groups" },
        ]},
        "clients": [{
            "id": CLIENT.0,
            "secret": CLIENT.1,
            "redirect_uris": [REDIRECT],
            "auth_methods": ["client_secret_post"],
            "grant_types": ["authorization_code", "refresh_token", "client_credentials"],
            "refresh_tokens": "always",
            "refresh_policy": { "rotate": true },
        }],
    })
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start() -> (Server, String) {
    let (child, ready) = crate::support::spawn_serve(&[]);
    (Server(child), ready.issuer())
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    f64::from(sorted[i]) / 1000.0
}

async fn setup(http: &reqwest::Client, base: &str) -> String {
    let res = http
        .post(format!("{base}/admin/tenants"))
        .json(&json!({ "name": "soak", "config": tenant_config() }))
        .send()
        .await
        .expect("tenant");
    assert_eq!(
        res.status(),
        201,
        "{}",
        res.text().await.unwrap_or_default()
    );
    let v: Value = res.json().await.expect("json");
    v["issuer"].as_str().expect("issuer").to_owned()
}

#[test]
fn mixed_load_against_a_model_of_every_user() {
    let _alone = crate::support::timing();
    let total = Duration::from_secs(seconds());
    let interval = if total >= Duration::from_secs(120) {
        Duration::from_secs(60)
    } else {
        (total / 4).max(Duration::from_secs(1))
    };
    let (server, base) = start();
    let pid = server.0.id();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(WORKERS * 2)
            .build()
            .unwrap();
        let tenant = setup(&http, &base).await;
        let shared = Arc::new(Shared {
            tenant,
            http,
            interval: Mutex::default(),
            findings: Mutex::default(),
        });
        let deadline = Instant::now() + total;
        let mut workers = Vec::new();
        for w in 0..WORKERS {
            let s = shared.clone();
            workers.push(tokio::spawn(async move {
                let mut rng = StdRng::seed_from_u64(w as u64);
                let mut users: Vec<Model> = (0..USERS_PER_WORKER)
                    .map(|k| Model {
                        name: format!("w{w}u{k}"),
                        generation: 0,
                        groups: vec!["analysts".into()],
                        deleted: false,
                        refresh: None,
                        access: None,
                    })
                    .collect();
                for u in &users {
                    assert!(put_user(&s, u).await, "creating {}", u.name);
                }
                while Instant::now() < deadline {
                    let k = rng.random_range(0..users.len());
                    act(&s, &mut rng, &mut users[k]).await;
                }
                users
            }));
        }
        // Key rotations now and then, from the side, as an admin would.
        let rotator = {
            let s = shared.clone();
            tokio::spawn(async move {
                let mut rotations = 0u32;
                while Instant::now() + Duration::from_secs(3) < deadline {
                    tokio::time::sleep(Duration::from_secs(2)).await;
                    let req = s
                        .admin(reqwest::Method::POST, "/keys/rotate")
                        .json(&json!({ "grace": 30 }));
                    if let Some((200, ..)) = s.send(req).await {
                        rotations += 1;
                    }
                }
                rotations
            })
        };
        println!("\n| time | requests | req/s | p50 ms | p99 ms | server RSS MB |");
        println!("|---|---|---|---|---|---|");
        let start = Instant::now();
        let mut rss = vec![rss_kib(pid)];
        let mut last_requests = 0;
        let mut last_tick = start;
        while Instant::now() < deadline {
            tokio::time::sleep(interval.min(deadline - Instant::now())).await;
            let span = last_tick.elapsed().as_secs_f64();
            last_tick = Instant::now();
            let mut lat = std::mem::take(&mut shared.interval.lock().unwrap().latencies);
            lat.sort_unstable();
            let requests = shared.findings.lock().unwrap().requests;
            let kib = rss_kib(pid);
            rss.push(kib);
            println!(
                "| {:.0} s | {} | {:.0} | {:.2} | {:.2} | {:.1} |",
                start.elapsed().as_secs_f64(),
                requests - last_requests,
                (requests - last_requests) as f64 / span,
                percentile(&lat, 0.5),
                percentile(&lat, 0.99),
                kib as f64 / 1024.0
            );
            last_requests = requests;
        }
        let mut models = Vec::new();
        for w in workers {
            models.extend(w.await.expect("worker"));
        }
        let rotations = rotator.await.expect("rotator");
        // The directory must be exactly what the model says.
        for m in &models {
            let req = shared.admin(reqwest::Method::GET, &format!("/users/{}", m.name));
            match shared.send(req).await {
                Some((404, ..)) if m.deleted => {}
                Some((200, body, _)) if !m.deleted => {
                    let v: Value = serde_json::from_str(&body).unwrap_or_default();
                    if groups_of(&v) != sorted(m.groups.clone()) || v["sub"] != m.sub().as_str() {
                        shared.contradiction(format!("directory: {body}, model {m:?}"));
                    }
                }
                other => shared.contradiction(format!(
                    "directory entry of {} (deleted: {}): {:?}",
                    m.name,
                    m.deleted,
                    other.map(|o| o.0)
                )),
            }
        }
        let f = shared.findings.lock().unwrap();
        let warm = rss.get(2).copied().unwrap_or(rss[0]);
        let end = *rss.last().unwrap_or(&0);
        println!(
            "\n{} requests in {:.0} s ({} users, {rotations} key rotations): {} 5xx, {} transport errors, {} contradictions; RSS start {:.1} MB, after two intervals {:.1} MB, end {:.1} MB ({:+.1}%)",
            f.requests,
            total.as_secs_f64(),
            models.len(),
            f.five_xx,
            f.transport,
            f.contradictions.len(),
            rss[0] as f64 / 1024.0,
            warm as f64 / 1024.0,
            end as f64 / 1024.0,
            100.0 * (end as f64 - warm as f64) / warm.max(1) as f64
        );
        assert!(
            f.five_xx == 0 && f.transport == 0 && f.contradictions.is_empty(),
            "{:#?}",
            f.contradictions
        );
        assert!(f.requests > 100, "the soak hardly ran: {} requests", f.requests);
    });
    drop(server);
}
