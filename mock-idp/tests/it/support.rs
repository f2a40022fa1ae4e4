//! Helpers: a tenant on a fixed clock, requests through `warp::test` (no sockets).

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use bytes::Bytes;
use mock_idp::config::KeyFiles;
use mock_idp::{Clock, Config, Tenant};
use serde_json::Value;
use warp::filters::BoxedFilter;
use warp::http::Response;
use warp::reply::Response as Reply;

pub const ISSUER: &str = "http://idp.test";
pub const REDIRECT: &str = "http://127.0.0.1:8081/login/oauth2/callback";
pub const T0: i64 = 1_800_000_000;

pub struct Idp {
    pub tenant: Arc<Tenant>,
    pub routes: BoxedFilter<(Reply,)>,
}

pub fn idp() -> Idp {
    idp_with(|_| {})
}

pub fn idp_with(edit: impl FnOnce(&mut Config)) -> Idp {
    let mut config = Config::builtin();
    edit(&mut config);
    let tenant = Arc::new(
        Tenant::new(
            config,
            ISSUER.into(),
            &KeyFiles::BuiltIn,
            Clock::fixed(T0),
            Some(7),
        )
        .expect("tenant"),
    );
    Idp {
        routes: mock_idp::routes(tenant.clone()),
        tenant,
    }
}

/// The built-in tenant with an admin token (the flag `--admin-token`).
pub fn idp_with_admin_token(token: &str) -> Idp {
    let mut tenant = Tenant::new(
        Config::builtin(),
        ISSUER.into(),
        &KeyFiles::BuiltIn,
        Clock::fixed(T0),
        None,
    )
    .expect("tenant");
    tenant.admin_token = Some(token.into());
    let tenant = Arc::new(tenant);
    Idp {
        routes: mock_idp::routes(tenant.clone()),
        tenant,
    }
}

pub fn form(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

impl Idp {
    pub async fn get(&self, path_and_query: &str, cookie: Option<&str>) -> Response<Bytes> {
        let mut r = warp::test::request().method("GET").path(path_and_query);
        if let Some(c) = cookie {
            r = r.header("cookie", c);
        }
        r.reply(&self.routes).await
    }

    pub async fn post(
        &self,
        path: &str,
        pairs: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Response<Bytes> {
        let mut r = warp::test::request()
            .method("POST")
            .path(path)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(pairs));
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        r.reply(&self.routes).await
    }

    /// An authorization request for `demo-rp`, with these extra parameters.
    pub async fn authorize(&self, extra: &[(&str, &str)], cookie: Option<&str>) -> Response<Bytes> {
        let p = overridden(
            vec![
                ("client_id", "demo-rp"),
                ("redirect_uri", REDIRECT),
                ("response_type", "code"),
                ("scope", "openid profile email offline_access"),
                ("state", "st"),
                ("nonce", "no"),
            ],
            extra,
        );
        self.get(&format!("/authorize?{}", form(&p)), cookie).await
    }

    /// A code for `user` via login_hint.
    pub async fn code(&self, user: &str, extra: &[(&str, &str)]) -> String {
        let mut e = vec![("login_hint", user)];
        e.extend_from_slice(extra);
        let res = self.authorize(&e, None).await;
        assert_eq!(res.status(), 302, "{}", body(&res));
        param(&location(&res), "code").expect("a code in the redirect")
    }

    /// Exchanges a code with client_secret_post.
    pub async fn exchange(&self, code: &str, extra: &[(&str, &str)]) -> Response<Bytes> {
        self.exchange_sending(code, extra, &[]).await
    }

    /// [`Idp::exchange`] with these headers too (a DPoP proof).
    pub async fn exchange_sending(
        &self,
        code: &str,
        extra: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Response<Bytes> {
        let mut p = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("client_id", "demo-rp"),
            ("client_secret", "demo-secret"),
        ];
        p.extend_from_slice(extra);
        self.post("/token", &p, headers).await
    }

    /// Introspects a token as demo-rp (client_secret_post); the JSON answer.
    pub async fn introspect(&self, token: &str) -> Value {
        let res = self
            .post(
                "/introspect",
                &[
                    ("token", token),
                    ("client_id", "demo-rp"),
                    ("client_secret", "demo-secret"),
                ],
                &[],
            )
            .await;
        json(&res)
    }

    /// A login of `user` via login_hint that keeps the IdP session: (cookie, token response).
    pub async fn login_with_session(&self, user: &str) -> (String, Value) {
        let res = self.authorize(&[("login_hint", user)], None).await;
        let cookie = session_cookie(&res);
        let code = param(&location(&res), "code").expect("a code in the redirect");
        let res = self.exchange(&code, &[]).await;
        assert_eq!(res.status(), 200, "{}", body(&res));
        (cookie, json(&res))
    }

    /// A refresh_token grant with client_secret_post.
    pub async fn refresh(&self, refresh_token: &str) -> Response<Bytes> {
        self.post(
            "/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
                ("client_id", "demo-rp"),
                ("client_secret", "demo-secret"),
            ],
            &[],
        )
        .await
    }

    /// A client_credentials grant for demo-rp (client_secret_basic), with `scope` if any.
    pub async fn client_credentials(&self, scope: Option<&str>) -> Response<Bytes> {
        let mut form = vec![("grant_type", "client_credentials")];
        form.extend(scope.map(|s| ("scope", s)));
        self.post(
            "/token",
            &form,
            &[("authorization", &basic("demo-rp", "demo-secret"))],
        )
        .await
    }

    /// A full login of `user`: the token response.
    pub async fn tokens(&self, user: &str) -> Value {
        let code = self.code(user, &[]).await;
        let res = self.exchange(&code, &[]).await;
        assert_eq!(res.status(), 200, "{}", body(&res));
        json(&res)
    }
}

pub fn body(res: &Response<Bytes>) -> String {
    String::from_utf8_lossy(res.body()).into_owned()
}

pub fn json(res: &Response<Bytes>) -> Value {
    serde_json::from_slice(res.body()).unwrap_or_else(|e| panic!("not JSON ({e}): {}", body(res)))
}

pub fn location(res: &Response<Bytes>) -> String {
    res.headers()
        .get("location")
        .unwrap_or_else(|| panic!("no Location; status {} body {}", res.status(), body(res)))
        .to_str()
        .unwrap()
        .to_owned()
}

pub fn param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The `mockidp_session=...` pair of a response's Set-Cookie.
pub fn session_cookie(res: &Response<Bytes>) -> String {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
        .find(|c| c.starts_with("mockidp_session="))
        .expect("a session cookie")
}

/// The decoded payload of a JWT (no verification).
pub fn claims(jwt: &str) -> Value {
    let part = jwt.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

/// The decoded header of a JWT.
pub fn header(jwt: &str) -> Value {
    let part = jwt.split('.').next().unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

pub fn basic(id: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
}

/// Asserts an RFC 6749 error body with a description.
pub fn assert_error(res: &Response<Bytes>, status: u16, error: &str) -> String {
    assert_eq!(res.status(), status, "{}", body(res));
    let v = json(res);
    assert_eq!(v["error"], error, "{v}");
    let d = v["error_description"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(!d.is_empty(), "no error_description: {v}");
    d
}

/// The ready line `mock-idp serve` prints: `mock-idp ready issuer=… addr=… [ca=…]`.
pub struct Ready(pub String);

impl Ready {
    /// The value of `key=` in it.
    pub fn get(&self, key: &str) -> Option<String> {
        let prefix = format!("{key}=");
        self.0
            .split_whitespace()
            .find_map(|w| w.strip_prefix(prefix.as_str()))
            .map(str::to_owned)
    }

    /// The issuer it serves.
    pub fn issuer(&self) -> String {
        self.get("issuer")
            .unwrap_or_else(|| panic!("no ready line: {:?}", self.0))
    }
}

/// `mock-idp serve` (this build's binary) on a random loopback port with `args` added,
/// once it said it is ready.
pub fn spawn_serve(args: &[&str]) -> (std::process::Child, Ready) {
    use std::io::{BufRead, BufReader};
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_mock-idp"))
        .args(["serve", "--addr", "127.0.0.1:0"])
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("mock-idp starts");
    let mut ready = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut ready)
        .expect("a ready line");
    (child, Ready(ready))
}

/// Held by the tests that time a process against its own deadlines (the shutdown grace)
/// and by the soak, whose load on a 2-core machine could otherwise starve them past those
/// deadlines: they never overlap.
pub static TIMING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Takes [`TIMING`] (a test that failed while holding it does not block the others).
pub fn timing() -> std::sync::MutexGuard<'static, ()> {
    TIMING.lock().unwrap_or_else(|e| e.into_inner())
}

/// A signer's key pair (a client's, an assertion issuer's): its private key as PEM and
/// its public keys as a JWK Set, as it would register them.
pub struct KeyPair {
    pub pem: String,
    pub jwks: jsonwebtoken::jwk::JwkSet,
}

pub fn key_pair(kid: &str, alg: mock_idp::SigningAlg) -> KeyPair {
    let (pem, public) = mock_idp::generate_pair(kid, alg).expect("a key pair");
    KeyPair {
        pem,
        jwks: jsonwebtoken::jwk::JwkSet { keys: vec![public] },
    }
}

/// The login page's hidden `request` field: the parked authorization request's id.
pub fn hidden_request_id(html: &str) -> String {
    let at = html
        .find("name=\"request\" value=\"")
        .expect("a request field")
        + 22;
    html[at..at + html[at..].find('"').unwrap()].to_owned()
}

/// `base` with each parameter of `extra` put in place of the one of the same name.
pub fn overridden<'a>(
    mut base: Vec<(&'a str, &'a str)>,
    extra: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    for (k, v) in extra {
        base.retain(|(bk, _)| bk != k);
        base.push((k, v));
    }
    base
}
