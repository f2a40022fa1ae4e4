//! A stateful fuzzer: generated sequences of what RPs, admins and attackers do to one
//! server — logins, code exchanges, refreshes (tampered or replayed), userinfo,
//! introspection, revocation, logout, the groups endpoint and claims source, the debug page, admin patches
//! and deletes, faults armed, the clock moved, keys rotated, tenants created (some shaped
//! like a provider, so their paths are the provider's), rebuilt, reset and deleted — and
//! random parameters sprinkled with the live codes and tokens, at every endpoint of every
//! tenant, the admin API included. After each request: no 5xx but the one a fault asked
//! for, and every JSON error RFC 6749-shaped. Proptest shrinks a failing sequence.
//!
//! `STATEFUL_FUZZ_CASES` sets the number of sequences (default 200, about 5,000
//! requests: the CI smoke); `mock-idp/fuzz.sh` runs a million requests.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use proptest::prelude::*;
use serde_json::{Value, json};
use warp::filters::BoxedFilter;
use warp::http::Response;
use warp::reply::Response as Reply;

use crate::fuzz::NAMES;
use crate::support::*;

/// Requests sent, and sequences run, by this test binary (reported on a volume run).
static SENT: AtomicU64 = AtomicU64::new(0);
static RUNS: AtomicU64 = AtomicU64::new(0);
/// Answers by class: 2xx, 3xx, 4xx, 5xx (the faults').
static CLASSES: [AtomicU64; 4] = [const { AtomicU64::new(0) }; 4];

const USERS: &[&str] = &["alice", "bob", "carol", "dave"];
const PROFILES: &[Option<&str>] = &[None, Some("okta"), Some("keycloak"), Some("entra")];
const TENANTS: &[&str] = &["fz-a", "fz-b"];

/// How a live value is damaged before it is sent.
#[derive(Debug, Clone, Copy)]
enum Mangle {
    Intact,
    Truncated,
    FlippedLast,
    Empty,
}

fn mangle(v: &str, m: Mangle) -> String {
    match m {
        Mangle::Intact => v.to_owned(),
        Mangle::Truncated => v[..v.len() / 2].to_owned(),
        Mangle::FlippedLast => {
            let mut s = v.to_owned();
            let last = s.pop().map_or('A', |c| if c == 'A' { 'B' } else { 'A' });
            s.push(last);
            s
        }
        Mangle::Empty => String::new(),
    }
}

#[derive(Debug, Clone)]
enum Action {
    Login {
        tenant: usize,
        user: usize,
    },
    Exchange {
        tenant: usize,
        code: usize,
        m: Mangle,
        basic: bool,
    },
    Refresh {
        tenant: usize,
        token: usize,
        m: Mangle,
    },
    Bearer {
        tenant: usize,
        endpoint: usize,
        token: usize,
        m: Mangle,
    },
    Introspect {
        tenant: usize,
        token: usize,
        revoke: bool,
    },
    EndSession {
        tenant: usize,
        token: usize,
    },
    Debug {
        tenant: usize,
        token: usize,
    },
    PatchUser {
        tenant: usize,
        user: usize,
        groups: Vec<String>,
        disabled: bool,
    },
    DeleteUser {
        tenant: usize,
        user: usize,
    },
    PutUser {
        tenant: usize,
        user: usize,
    },
    Fault {
        tenant: usize,
        kind: usize,
    },
    ClearFaults {
        tenant: usize,
    },
    Advance {
        tenant: usize,
        secs: u64,
    },
    Rotate {
        tenant: usize,
    },
    CreateTenant {
        t: usize,
        profile: usize,
    },
    PutTenant {
        t: usize,
        profile: usize,
    },
    ResetTenant {
        t: usize,
    },
    DeleteTenant {
        t: usize,
    },
    Random {
        tenant: usize,
        method: usize,
        path: usize,
        params: Vec<(usize, usize)>,
        json: bool,
    },
}

fn mangles() -> impl Strategy<Value = Mangle> {
    prop_oneof![
        4 => Just(Mangle::Intact),
        1 => Just(Mangle::Truncated),
        1 => Just(Mangle::FlippedLast),
        1 => Just(Mangle::Empty),
    ]
}

fn action() -> impl Strategy<Value = Action> {
    let t = 0..3usize;
    let i = 0..8usize;
    prop_oneof![
        6 => (t.clone(), 0..USERS.len()).prop_map(|(tenant, user)| Action::Login { tenant, user }),
        6 => (t.clone(), i.clone(), mangles(), any::<bool>()).prop_map(|(tenant, code, m, basic)| Action::Exchange { tenant, code, m, basic }),
        4 => (t.clone(), i.clone(), mangles()).prop_map(|(tenant, token, m)| Action::Refresh { tenant, token, m }),
        4 => (t.clone(), 0..4usize, i.clone(), mangles()).prop_map(|(tenant, endpoint, token, m)| Action::Bearer { tenant, endpoint, token, m }),
        2 => (t.clone(), i.clone(), any::<bool>()).prop_map(|(tenant, token, revoke)| Action::Introspect { tenant, token, revoke }),
        1 => (t.clone(), i.clone()).prop_map(|(tenant, token)| Action::EndSession { tenant, token }),
        1 => (t.clone(), i.clone()).prop_map(|(tenant, token)| Action::Debug { tenant, token }),
        2 => (t.clone(), 0..USERS.len(), prop::collection::vec("[a-z]{1,8}", 0..4), any::<bool>()).prop_map(|(tenant, user, groups, disabled)| Action::PatchUser { tenant, user, groups, disabled }),
        1 => (t.clone(), 0..USERS.len()).prop_map(|(tenant, user)| Action::DeleteUser { tenant, user }),
        1 => (t.clone(), 0..USERS.len()).prop_map(|(tenant, user)| Action::PutUser { tenant, user }),
        1 => (t.clone(), 0..FAULTS.len()).prop_map(|(tenant, kind)| Action::Fault { tenant, kind }),
        1 => t.clone().prop_map(|tenant| Action::ClearFaults { tenant }),
        1 => (t.clone(), prop_oneof![Just(1u64), Just(61), Just(3601), Just(90 * 86_400)]).prop_map(|(tenant, secs)| Action::Advance { tenant, secs }),
        1 => t.clone().prop_map(|tenant| Action::Rotate { tenant }),
        1 => (0..TENANTS.len(), 0..PROFILES.len()).prop_map(|(t, profile)| Action::CreateTenant { t, profile }),
        1 => (0..TENANTS.len(), 0..PROFILES.len()).prop_map(|(t, profile)| Action::PutTenant { t, profile }),
        1 => (0..TENANTS.len()).prop_map(|t| Action::ResetTenant { t }),
        1 => (0..TENANTS.len()).prop_map(|t| Action::DeleteTenant { t }),
        6 => (t, 0..METHODS.len(), 0..PATHS.len(), prop::collection::vec((0..NAMES.len(), 0..32usize), 0..8), any::<bool>())
            .prop_map(|(tenant, method, path, params, json)| Action::Random { tenant, method, path, params, json }),
    ]
}

/// Faults an admin may arm; only `http_status` asks for a 5xx.
const FAULTS: &[&str] = &[
    r#"{"kind": "http_status", "status": 503}"#,
    r#"{"kind": "id_token_bad_signature"}"#,
    r#"{"kind": "id_token_alg_none"}"#,
    r#"{"kind": "malformed_json"}"#,
    r#"{"kind": "refresh_invalid_grant"}"#,
    r#"{"kind": "state_altered"}"#,
    r#"{"kind": "access_denied"}"#,
    r#"{"kind": "no_refresh_token"}"#,
    r#"{"kind": "userinfo_sub_changed"}"#,
    r#"{"kind": "remove_claim", "claim": "sub"}"#,
    r#"{"kind": "groups_aggregated"}"#,
    r#"{"kind": "groups_distributed"}"#,
];

const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE"];

/// Endpoint names resolved through the tenant's discovery, or paths under its base.
const PATHS: &[&str] = &[
    "@authorization_endpoint",
    "@token_endpoint",
    "@userinfo_endpoint",
    "@introspection_endpoint",
    "@revocation_endpoint",
    "@end_session_endpoint",
    "@jwks_uri",
    "/login",
    "/groups",
    "/claims",
    "/debug",
    "/debug/journal",
    "/.well-known/openid-configuration",
    "/admin/users",
    "/admin/users/alice",
    "/admin/users/alice/revoke",
    "/admin/clock",
    "/admin/keys/rotate",
    "/admin/faults",
    "/admin/journal",
    "/admin/tenants",
    "/admin/tenants/fz-a",
    "/admin/tenants/fz-a/reset",
    "/admin/nope",
    "/t/",
    "/t/%00/x",
];

/// What one server's run has seen: each tenant's base path and endpoint paths, and the
/// live values to reuse.
#[derive(Default)]
struct World {
    tenants: BTreeMap<usize, (String, BTreeMap<String, String>)>,
    codes: Vec<(usize, String)>,
    access: Vec<(usize, String)>,
    refresh: Vec<(usize, String)>,
    ids: Vec<(usize, String)>,
    five_xx_allowed: BTreeMap<usize, u32>,
}

struct Server {
    routes: BoxedFilter<(Reply,)>,
}

impl Server {
    async fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<(&str, String)>,
        auth: Option<String>,
    ) -> Response<Bytes> {
        SENT.fetch_add(1, Ordering::Relaxed);
        let mut r = warp::test::request().method(method).path(path);
        if let Some((ct, b)) = body {
            r = r.header("content-type", ct).body(b);
        }
        if let Some(a) = auth {
            r = r.header("authorization", a);
        }
        r.reply(&self.routes).await
    }
}

fn path_of(url: &str) -> String {
    url::Url::parse(url)
        .map(|u| u.path().to_owned())
        .unwrap_or_else(|_| url.to_owned())
}

impl World {
    /// Tenant `i` (0: the default one, 1 and 2: created ones) when it exists.
    fn tenant(&self, i: usize) -> Option<&(String, BTreeMap<String, String>)> {
        self.tenants.get(&i)
    }

    async fn learn(&mut self, s: &Server, i: usize, base: String) {
        let res = s
            .send(
                "GET",
                &format!("{base}/.well-known/openid-configuration"),
                None,
                None,
            )
            .await;
        let mut paths = BTreeMap::new();
        if let Ok(Value::Object(d)) = serde_json::from_slice::<Value>(res.body()) {
            for (k, v) in d {
                if let Some(u) = v
                    .as_str()
                    .filter(|_| k.ends_with("_endpoint") || k == "jwks_uri")
                {
                    paths.insert(k, path_of(u));
                }
            }
        }
        self.tenants.insert(i, (base, paths));
    }

    fn pick(list: &[(usize, String)], tenant: usize, n: usize) -> Option<&str> {
        let own: Vec<&str> = list
            .iter()
            .filter(|(t, _)| *t == tenant)
            .map(|(_, v)| v.as_str())
            .collect();
        (!own.is_empty()).then(|| own[n % own.len()])
    }
}

/// Checks one answer; `json` when the endpoint answers errors as JSON.
fn check(
    w: &mut World,
    tenant: usize,
    what: &str,
    res: &Response<Bytes>,
    json: bool,
) -> Result<(), TestCaseError> {
    let status = res.status().as_u16();
    if (200..600).contains(&status) {
        CLASSES[usize::from(status / 100 - 2)].fetch_add(1, Ordering::Relaxed);
    }
    if status >= 500 {
        let allowed = w.five_xx_allowed.entry(tenant).or_default();
        prop_assert!(
            *allowed > 0 && status == 503,
            "{what} → {status}: {}",
            body(res)
        );
        *allowed -= 1;
        return Ok(());
    }
    if json && status >= 400 && status != 404 {
        let v: Value = serde_json::from_slice(res.body()).map_err(|e| {
            TestCaseError::fail(format!("{what} → {status}, not JSON: {e}: {}", body(res)))
        })?;
        prop_assert!(
            v["error"].is_string() && v["error_description"].is_string(),
            "{what} → {status}: {v}"
        );
    }
    Ok(())
}

fn secret_post(extra: &[(&str, &str)]) -> String {
    let mut p = vec![("client_id", "demo-rp"), ("client_secret", "demo-secret")];
    p.extend_from_slice(extra);
    form(&p)
}

const FORM: &str = "application/x-www-form-urlencoded";

async fn act(s: &Server, w: &mut World, a: &Action) -> Result<(), TestCaseError> {
    let tenant_of = |w: &World, t: usize| w.tenant(t).cloned();
    match a {
        Action::Login { tenant, user } => {
            let Some((_, p)) = tenant_of(w, *tenant) else {
                return Ok(());
            };
            let q = form(&[
                ("client_id", "demo-rp"),
                ("redirect_uri", REDIRECT),
                ("response_type", "code"),
                ("scope", "openid profile email offline_access"),
                ("state", "s"),
                ("nonce", "n"),
                ("login_hint", USERS[*user]),
            ]);
            let res = s
                .send(
                    "GET",
                    &format!("{}?{q}", p["authorization_endpoint"]),
                    None,
                    None,
                )
                .await;
            check(w, *tenant, "authorize", &res, false)?;
            if let Some(code) = res
                .headers()
                .get("location")
                .and_then(|l| l.to_str().ok())
                .and_then(|l| param(l, "code"))
            {
                w.codes.push((*tenant, code));
            }
        }
        Action::Exchange {
            tenant,
            code,
            m,
            basic,
        } => {
            let Some((_, p)) = tenant_of(w, *tenant) else {
                return Ok(());
            };
            let code = mangle(World::pick(&w.codes, *tenant, *code).unwrap_or("none"), *m);
            let fields = [
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", REDIRECT),
            ];
            let (body, auth) = if *basic {
                (form(&fields), Some(basic_auth()))
            } else {
                (secret_post(&fields), None)
            };
            let res = s
                .send("POST", &p["token_endpoint"], Some((FORM, body)), auth)
                .await;
            check(w, *tenant, "token (code)", &res, true)?;
            remember(w, *tenant, &res);
        }
        Action::Refresh { tenant, token, m } => {
            let Some((_, p)) = tenant_of(w, *tenant) else {
                return Ok(());
            };
            let rt = mangle(
                World::pick(&w.refresh, *tenant, *token).unwrap_or("none"),
                *m,
            );
            let body = secret_post(&[("grant_type", "refresh_token"), ("refresh_token", &rt)]);
            let res = s
                .send("POST", &p["token_endpoint"], Some((FORM, body)), None)
                .await;
            check(w, *tenant, "token (refresh)", &res, true)?;
            remember(w, *tenant, &res);
        }
        Action::Bearer {
            tenant,
            endpoint,
            token,
            m,
        } => {
            let Some((base, p)) = tenant_of(w, *tenant) else {
                return Ok(());
            };
            let at = mangle(
                World::pick(&w.access, *tenant, *token).unwrap_or("none"),
                *m,
            );
            let path = match endpoint {
                0 => p["userinfo_endpoint"].clone(),
                1 => format!("{base}/groups"),
                3 => format!("{base}/claims"),
                _ => p["userinfo_endpoint"].clone(),
            };
            let method = if *endpoint == 2 { "POST" } else { "GET" };
            let res = s
                .send(method, &path, None, Some(format!("Bearer {at}")))
                .await;
            check(w, *tenant, "bearer endpoint", &res, true)?;
        }
        Action::Introspect {
            tenant,
            token,
            revoke,
        } => {
            let Some((_, p)) = tenant_of(w, *tenant) else {
                return Ok(());
            };
            let tok = World::pick(&w.refresh, *tenant, *token)
                .or_else(|| World::pick(&w.access, *tenant, *token))
                .unwrap_or("none")
                .to_owned();
            let key = if *revoke {
                "revocation_endpoint"
            } else {
                "introspection_endpoint"
            };
            let Some(path) = p.get(key) else {
                return Ok(());
            };
            let res = s
                .send(
                    "POST",
                    path,
                    Some((FORM, secret_post(&[("token", &tok)]))),
                    None,
                )
                .await;
            check(w, *tenant, key, &res, true)?;
        }
        Action::EndSession { tenant, token } => {
            let Some((_, p)) = tenant_of(w, *tenant) else {
                return Ok(());
            };
            let Some(path) = p.get("end_session_endpoint") else {
                return Ok(());
            };
            let hint = World::pick(&w.ids, *tenant, *token)
                .unwrap_or("x.y.z")
                .to_owned();
            let q = form(&[
                ("id_token_hint", &hint),
                ("post_logout_redirect_uri", "http://127.0.0.1/"),
                ("state", "s"),
            ]);
            let res = s.send("GET", &format!("{path}?{q}"), None, None).await;
            check(w, *tenant, "end_session", &res, false)?;
        }
        Action::Debug { tenant, token } => {
            let Some((base, _)) = tenant_of(w, *tenant) else {
                return Ok(());
            };
            let tok = World::pick(&w.ids, *tenant, *token)
                .unwrap_or("junk")
                .to_owned();
            let res = s
                .send(
                    "POST",
                    &format!("{base}/debug"),
                    Some((FORM, form(&[("token", &tok)]))),
                    None,
                )
                .await;
            check(w, *tenant, "debug", &res, false)?;
        }
        Action::PatchUser {
            tenant,
            user,
            groups,
            disabled,
        } => {
            let Some((base, _)) = tenant_of(w, *tenant) else {
                return Ok(());
            };
            let body = json!({"groups": groups, "disabled": disabled}).to_string();
            let res = s
                .send(
                    "PATCH",
                    &format!("{base}/admin/users/{}", USERS[*user]),
                    Some(("application/json", body)),
                    None,
                )
                .await;
            check(w, *tenant, "admin patch", &res, true)?;
        }
        Action::DeleteUser { tenant, user } => {
            let Some((base, _)) = tenant_of(w, *tenant) else {
                return Ok(());
            };
            let res = s
                .send(
                    "DELETE",
                    &format!("{base}/admin/users/{}", USERS[*user]),
                    None,
                    None,
                )
                .await;
            check(w, *tenant, "admin delete", &res, true)?;
        }
        Action::PutUser { tenant, user } => {
            let Some((base, _)) = tenant_of(w, *tenant) else {
                return Ok(());
            };
            let name = USERS[*user];
            let body = json!({"sub": format!("sub-{name}"), "email": format!("{name}@example.com"), "groups": ["analysts"]}).to_string();
            let res = s
                .send(
                    "PUT",
                    &format!("{base}/admin/users/{name}"),
                    Some(("application/json", body)),
                    None,
                )
                .await;
            check(w, *tenant, "admin put", &res, true)?;
        }
        Action::Fault { tenant, kind } => {
            let Some((base, _)) = tenant_of(w, *tenant) else {
                return Ok(());
            };
            let body = format!(r#"{{"fault": {}, "times": 1}}"#, FAULTS[*kind]);
            let res = s
                .send(
                    "POST",
                    &format!("{base}/admin/faults"),
                    Some(("application/json", body)),
                    None,
                )
                .await;
            check(w, *tenant, "admin fault", &res, true)?;
            if *kind == 0 && res.status() == 201 {
                *w.five_xx_allowed.entry(*tenant).or_default() += 1;
            }
        }
        Action::ClearFaults { tenant } => {
            let Some((base, _)) = tenant_of(w, *tenant) else {
                return Ok(());
            };
            let res = s
                .send("DELETE", &format!("{base}/admin/faults"), None, None)
                .await;
            check(w, *tenant, "admin clear faults", &res, true)?;
            w.five_xx_allowed.insert(*tenant, 0);
        }
        Action::Advance { tenant, secs } => {
            let Some((base, _)) = tenant_of(w, *tenant) else {
                return Ok(());
            };
            let body = json!({"advance": secs}).to_string();
            let res = s
                .send(
                    "POST",
                    &format!("{base}/admin/clock"),
                    Some(("application/json", body)),
                    None,
                )
                .await;
            check(w, *tenant, "admin clock", &res, true)?;
        }
        Action::Rotate { tenant } => {
            let Some((base, _)) = tenant_of(w, *tenant) else {
                return Ok(());
            };
            let res = s
                .send(
                    "POST",
                    &format!("{base}/admin/keys/rotate"),
                    Some(("application/json", "{}".into())),
                    None,
                )
                .await;
            check(w, *tenant, "admin rotate", &res, true)?;
        }
        Action::CreateTenant { t, profile } | Action::PutTenant { t, profile } => {
            let name = TENANTS[*t];
            let mut req = json!({ "config": tenant_config() });
            if let Some(p) = PROFILES[*profile] {
                req["profile"] = json!(p);
            }
            let res = if matches!(a, Action::CreateTenant { .. }) {
                req["name"] = json!(name);
                s.send(
                    "POST",
                    "/admin/tenants",
                    Some(("application/json", req.to_string())),
                    None,
                )
                .await
            } else {
                s.send(
                    "PUT",
                    &format!("/admin/tenants/{name}"),
                    Some(("application/json", req.to_string())),
                    None,
                )
                .await
            };
            check(w, 0, "admin tenant", &res, true)?;
            // The fuzzer's own config must be valid: only an existing name may refuse it.
            prop_assert!(res.status() != 400, "tenant config refused: {}", body(&res));
            if res.status().is_success() {
                forget(w, t + 1);
                w.learn(s, t + 1, format!("/t/{name}")).await;
            }
        }
        Action::ResetTenant { t } => {
            let res = s
                .send(
                    "POST",
                    &format!("/admin/tenants/{}/reset", TENANTS[*t]),
                    None,
                    None,
                )
                .await;
            check(w, 0, "admin reset", &res, true)?;
            if res.status().is_success() {
                forget(w, t + 1);
                w.learn(s, t + 1, format!("/t/{}", TENANTS[*t])).await;
            }
        }
        Action::DeleteTenant { t } => {
            let res = s
                .send(
                    "DELETE",
                    &format!("/admin/tenants/{}", TENANTS[*t]),
                    None,
                    None,
                )
                .await;
            check(w, 0, "admin delete tenant", &res, true)?;
            forget(w, t + 1);
            w.tenants.remove(&(t + 1));
        }
        Action::Random {
            tenant,
            method,
            path,
            params,
            json: as_json,
        } => {
            let Some((base, p)) = tenant_of(w, *tenant) else {
                return Ok(());
            };
            let path = match PATHS[*path] {
                at if at.starts_with('@') => match p.get(&at[1..]) {
                    Some(x) => x.clone(),
                    None => return Ok(()),
                },
                rel => format!("{base}{rel}"),
            };
            let live: Vec<String> = [&w.codes, &w.access, &w.refresh, &w.ids]
                .iter()
                .flat_map(|l| {
                    l.iter()
                        .filter(|(t, _)| t == tenant)
                        .map(|(_, v)| v.clone())
                })
                .chain(
                    [
                        "demo-rp",
                        "demo-secret",
                        REDIRECT,
                        "alice",
                        "S256",
                        "none",
                        "%",
                        "\u{0}",
                        "🙂",
                    ]
                    .map(str::to_owned),
                )
                .collect();
            let pairs: Vec<(&str, &str)> = params
                .iter()
                .map(|(n, v)| (NAMES[*n], live[*v % live.len()].as_str()))
                .collect();
            let m = METHODS[*method];
            let res = if m == "GET" || m == "DELETE" {
                s.send(m, &format!("{path}?{}", form(&pairs)), None, None)
                    .await
            } else if *as_json {
                let obj: serde_json::Map<String, Value> = pairs
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), json!(v)))
                    .collect();
                s.send(
                    m,
                    &path,
                    Some(("application/json", Value::Object(obj).to_string())),
                    None,
                )
                .await
            } else {
                s.send(m, &path, Some((FORM, form(&pairs))), None).await
            };
            let json_errors = !path.ends_with("/authorize")
                && !path.contains("/debug")
                && !path.ends_with("/login")
                && p.get("end_session_endpoint").is_none_or(|e| *e != path)
                && p.get("authorization_endpoint").is_none_or(|e| *e != path);
            check(w, *tenant, &format!("{m} {path}"), &res, json_errors)?;
        }
    }
    Ok(())
}

/// A created tenant's config: the demo's client and users, signing with ES256 (a fresh
/// P-256 key costs a millisecond where an RSA one costs a hundred; the default tenant
/// covers RSA).
fn tenant_config() -> Value {
    json!({
        "issuer": "http://idp.test",
        "signing_alg": "ES256",
        "keys": [{ "kid": "fz-es256", "alg": "ES256", "pem_file": "fz-ec.pem" }],
        "clients": [{
            "id": "demo-rp",
            "secret": "demo-secret",
            "redirect_uris": [REDIRECT],
            "post_logout_redirect_uris": ["http://127.0.0.1/"],
            "auth_methods": ["client_secret_post", "client_secret_basic"],
            "refresh_tokens": "always",
        }],
        "users": [
            { "username": "alice", "sub": "fz-alice", "email": "alice@example.com", "groups": ["analysts"] },
            { "username": "bob", "sub": "fz-bob", "email": "bob@example.com", "groups": ["admins", "analysts"] },
        ],
    })
}

fn basic_auth() -> String {
    basic("demo-rp", "demo-secret")
}

/// Keeps the tokens of a token answer.
fn remember(w: &mut World, tenant: usize, res: &Response<Bytes>) {
    if res.status() != 200 {
        return;
    }
    let Ok(v) = serde_json::from_slice::<Value>(res.body()) else {
        return;
    };
    for (key, list) in [
        ("access_token", &mut w.access),
        ("refresh_token", &mut w.refresh),
        ("id_token", &mut w.ids),
    ] {
        if let Some(t) = v[key].as_str() {
            list.push((tenant, t.to_owned()));
            if list.len() > 16 {
                list.remove(0);
            }
        }
    }
}

/// A rebuilt or deleted tenant's values are gone with it.
fn forget(w: &mut World, tenant: usize) {
    for list in [&mut w.codes, &mut w.access, &mut w.refresh, &mut w.ids] {
        list.retain(|(t, _)| *t != tenant);
    }
    w.five_xx_allowed.insert(tenant, 0);
}

fn cases() -> u32 {
    std::env::var("STATEFUL_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), max_shrink_iters: 2000, ..ProptestConfig::default() })]

    #[test]
    fn sequences_of_what_rps_admins_and_attackers_do(actions in prop::collection::vec(action(), 1..80)) {
        let idp = idp();
        let reg = Arc::new(mock_idp::Registry::new(idp.tenant.clone()));
        let server = Server { routes: mock_idp::routes_for(reg) };
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let mut w = World::default();
            w.learn(&server, 0, String::new()).await;
            for a in &actions {
                act(&server, &mut w, a).await?;
            }
            Ok::<(), TestCaseError>(())
        })?;
        let runs = RUNS.fetch_add(1, Ordering::Relaxed) + 1;
        if runs.is_multiple_of(1000) || u64::from(cases()) == runs {
            let c: Vec<u64> = CLASSES.iter().map(|c| c.load(Ordering::Relaxed)).collect();
            eprintln!(
                "stateful fuzz: {runs} sequences, {} requests: {} 2xx, {} 3xx, {} 4xx, {} 5xx asked for by a fault",
                SENT.load(Ordering::Relaxed),
                c[0], c[1], c[2], c[3]
            );
        }
    }
}
