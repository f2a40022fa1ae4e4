//! Random forms, query strings and headers at every endpoint: never a 5xx, never a panic,
//! and every JSON endpoint's error is RFC 6749-shaped.

use proptest::prelude::*;

use crate::support::*;

/// Parameter names the endpoints read (and the admin journal's query), for generators.
pub const NAMES: &[&str] = &[
    "client_id",
    "redirect_uri",
    "response_type",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "prompt",
    "max_age",
    "login_hint",
    "grant_type",
    "code",
    "refresh_token",
    "code_verifier",
    "client_secret",
    "client_assertion",
    "client_assertion_type",
    "assertion",
    "subject_token",
    "subject_token_type",
    "actor_token",
    "actor_token_type",
    "audience",
    "requested_token_type",
    "resource",
    "device_code",
    "user_code",
    "deny",
    "token",
    "token_type_hint",
    "access_token",
    "id_token_hint",
    "post_logout_redirect_uri",
    "request",
    "username",
    "password",
    "cancel",
    "since",
    "user",
];

const VALUES: &[&str] = &[
    "demo-rp",
    REDIRECT,
    "code",
    "openid profile email offline_access",
    "S256",
    "plain",
    "none",
    "login",
    "0",
    "-1",
    "alice",
    "authorization_code",
    "refresh_token",
    "client_credentials",
    "demo-secret",
    mock_idp::JWT_BEARER,
    "urn:ietf:params:oauth:grant-type:jwt-bearer",
    "urn:ietf:params:oauth:grant-type:token-exchange",
    "urn:ietf:params:oauth:grant-type:device_code",
    "demo-cli",
    "BCDF-GHJK",
    "urn:ietf:params:oauth:token-type:access_token",
    "urn:ietf:params:oauth:token-type:id_token",
    // Client assertions naming demo-rp: alg none, and HS256 with a bad signature.
    "eyJhbGciOiJub25lIn0.eyJzdWIiOiJkZW1vLXJwIn0.",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJkZW1vLXJwIiwiaXNzIjoiZGVtby1ycCJ9.x",
    "http://127.0.0.1:8081/",
    "",
    "%",
    "\u{0}",
    "🙂",
];

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(VALUES).prop_map(str::to_owned),
        any::<String>(),
        "[a-zA-Z0-9._~-]{43,130}",
    ]
}

fn params() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec(
        (
            prop_oneof![
                proptest::sample::select(NAMES).prop_map(str::to_owned),
                "[a-z_]{1,12}"
            ],
            value(),
        ),
        0..10,
    )
}

fn header() -> impl Strategy<Value = Option<(&'static str, String)>> {
    prop_oneof![
        Just(None),
        "[ -~]{0,60}".prop_map(|v| Some(("authorization", v))),
        "[A-Za-z0-9+/=]{0,40}".prop_map(|v| Some(("authorization", format!("Basic {v}")))),
        "[ -~]{0,40}".prop_map(|v| Some(("authorization", format!("Bearer {v}")))),
        "[ -~]{0,60}".prop_map(|v| Some(("cookie", v))),
        "[ -~]{0,40}".prop_map(|v| Some(("content-type", v))),
    ]
}

const ENDPOINTS: &[(&str, &str, bool)] = &[
    // (method, path, answers JSON errors)
    ("GET", "/authorize", false),
    ("POST", "/authorize", false),
    ("POST", "/login", false),
    ("POST", "/token", true),
    ("GET", "/userinfo", true),
    ("POST", "/userinfo", true),
    ("POST", "/introspect", true),
    ("POST", "/revoke", true),
    ("GET", "/end_session", false),
    ("POST", "/end_session", false),
    ("POST", "/device_authorization", true),
    ("GET", "/device", false),
    ("POST", "/device", false),
    ("GET", "/.well-known/openid-configuration", true),
    ("GET", "/jwks", true),
    ("DELETE", "/token", true),
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn no_request_makes_the_idp_fail(
        endpoint in proptest::sample::select(ENDPOINTS),
        query in params(),
        body in prop_oneof![params().prop_map(|p| form(&p.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect::<Vec<_>>()).into_bytes()), prop::collection::vec(any::<u8>(), 0..200)],
        headers in prop::collection::vec(header(), 0..3),
    ) {
        let (method, path, json_errors) = endpoint;
        let idp = every_grant_idp();
        let q = form(&query.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect::<Vec<_>>());
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let res = rt.block_on(async {
            let mut r = warp::test::request().method(method).path(&format!("{path}?{q}")).body(body);
            for (k, v) in headers.into_iter().flatten() {
                r = r.header(k, v);
            }
            r.reply(&idp.routes).await
        });
        prop_assert!(res.status().as_u16() < 500, "{} {} → {}: {}", method, path, res.status(), body_text(&res));
        if json_errors && res.status().as_u16() >= 400 {
            let v: serde_json::Value = serde_json::from_slice(res.body())
                .map_err(|e| TestCaseError::fail(format!("not JSON: {e}")))?;
            prop_assert!(v["error"].is_string() && v["error_description"].is_string(), "{}", v);
        }
    }
}

/// The demo tenant with every grant open to demo-rp, and an assertion issuer (its key
/// made once), so that the token endpoint's every path is reachable.
fn every_grant_idp() -> Idp {
    static KEYS: std::sync::OnceLock<jsonwebtoken::jwk::JwkSet> = std::sync::OnceLock::new();
    let keys = KEYS.get_or_init(|| key_pair("ci", mock_idp::SigningAlg::ES256).jwks);
    idp_with(|c| {
        c.assertion_issuers.push(mock_idp::AssertionIssuer {
            issuer: "https://ci.example.test".into(),
            jwks: Some(keys.clone()),
            jwks_uri: None,
            subject: mock_idp::SubjectMatch::Username,
        });
        let demo = c.clients.iter_mut().find(|c| c.id == "demo-rp").unwrap();
        demo.grant_types.extend([
            mock_idp::GrantType::ClientCredentials,
            mock_idp::GrantType::JwtBearer,
            mock_idp::GrantType::TokenExchange,
            mock_idp::GrantType::DeviceCode,
        ]);
    })
}

fn body_text(res: &warp::http::Response<bytes::Bytes>) -> String {
    body(res)
}
