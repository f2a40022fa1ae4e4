//! Client authentication with a JWT (RFC 7523 §2.2, OIDC Core §9): `private_key_jwt`
//! against inline keys and a `jwks_uri`, `client_secret_jwt` with the client's secret;
//! each property of a good assertion broken alone is refused with its reason.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use mock_idp::{AuthMethod, ClientConfig, JWT_BEARER, SigningAlg};
use serde_json::{Value, json};

use crate::support::*;

const SECRET: &str = "a-client-secret-of-at-least-32-bytes!";

fn client_key(kid: &str, alg: SigningAlg) -> KeyPair {
    key_pair(kid, alg)
}

fn jwt_client(id: &str, method: AuthMethod, key: Option<&KeyPair>) -> ClientConfig {
    let mut c: ClientConfig = serde_json::from_value(json!({
        "id": id,
        "secret": SECRET,
        "redirect_uris": [REDIRECT],
        "auth_methods": [method],
        "grant_types": ["authorization_code", "refresh_token", "client_credentials"],
    }))
    .expect("client");
    c.jwks = key.map(|k| k.jwks.clone());
    c
}

fn idp_with_clients(clients: Vec<ClientConfig>) -> Idp {
    idp_with(|c| c.clients.extend(clients))
}

/// A good assertion's claims for `client`, with `edit` applied.
fn claims(client: &str, edit: impl FnOnce(&mut Value)) -> Value {
    let mut c = json!({
        "iss": client,
        "sub": client,
        "aud": ISSUER,
        "exp": T0 + 60,
        "iat": T0,
        "jti": format!("jti-{}", rand_suffix()),
    });
    edit(&mut c);
    c
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

fn signed_rs256(key: &KeyPair, kid: Option<&str>, claims: &Value) -> String {
    let mut h = Header::new(Algorithm::RS256);
    h.kid = kid.map(str::to_owned);
    let k = EncodingKey::from_rsa_pem(key.pem.as_bytes()).expect("pem");
    jsonwebtoken::encode(&h, claims, &k).expect("sign")
}

fn signed_hs256(secret: &str, claims: &Value) -> String {
    let k = EncodingKey::from_secret(secret.as_bytes());
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &k).expect("sign")
}

async fn client_credentials(idp: &Idp, assertion: &str) -> warp::http::Response<bytes::Bytes> {
    idp.post(
        "/token",
        &[
            ("grant_type", "client_credentials"),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", assertion),
        ],
        &[],
    )
    .await
}

fn last_entry(idp: &Idp) -> Value {
    let j = serde_json::to_value(idp.tenant.journal(0)).expect("journal");
    j.as_array().and_then(|a| a.last()).cloned().expect("entry")
}

#[tokio::test]
async fn private_key_jwt_with_inline_keys_authenticates_once_per_jti() {
    let key = client_key("k1", SigningAlg::RS256);
    let idp = idp_with_clients(vec![jwt_client(
        "pkj",
        AuthMethod::PrivateKeyJwt,
        Some(&key),
    )]);
    let assertion = signed_rs256(&key, Some("k1"), &claims("pkj", |_| {}));
    let res = client_credentials(&idp, &assertion).await;
    assert_eq!(res.status(), 200, "{}", body(&res));
    let e = last_entry(&idp);
    assert_eq!(e["auth_method"], "private_key_jwt");
    assert_eq!(e["client_id"], "pkj");
    assert_eq!(e["lints"], json!([]));
    // The same assertion again: its jti is spent.
    let res = client_credentials(&idp, &assertion).await;
    assert!(assert_error(&res, 401, "invalid_client").contains("already used"));
    // Without a kid, the one key that fits is tried.
    let res = client_credentials(&idp, &signed_rs256(&key, None, &claims("pkj", |_| {}))).await;
    assert_eq!(res.status(), 200, "{}", body(&res));
}

#[tokio::test]
async fn client_secret_jwt_uses_the_secret_and_a_wrong_secret_is_refused() {
    let idp = idp_with_clients(vec![jwt_client("csj", AuthMethod::ClientSecretJwt, None)]);
    let res = client_credentials(&idp, &signed_hs256(SECRET, &claims("csj", |_| {}))).await;
    assert_eq!(res.status(), 200, "{}", body(&res));
    assert_eq!(last_entry(&idp)["auth_method"], "client_secret_jwt");
    let res = client_credentials(
        &idp,
        &signed_hs256("not-the-secret", &claims("csj", |_| {})),
    )
    .await;
    assert!(assert_error(&res, 401, "invalid_client").contains("secret"));
}

#[tokio::test]
async fn each_broken_property_is_refused_with_its_reason() {
    let key = client_key("k1", SigningAlg::RS256);
    let other = client_key("k1", SigningAlg::RS256);
    let idp = idp_with_clients(vec![
        jwt_client("pkj", AuthMethod::PrivateKeyJwt, Some(&key)),
        jwt_client("csj", AuthMethod::ClientSecretJwt, None),
    ]);
    // Control: the same shape, unbroken, is accepted.
    let ok = signed_rs256(&key, Some("k1"), &claims("pkj", |_| {}));
    assert_eq!(client_credentials(&idp, &ok).await.status(), 200);
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "signed by another key",
            signed_rs256(&other, Some("k1"), &claims("pkj", |_| {})),
            "does not verify",
        ),
        (
            "unknown kid",
            signed_rs256(&key, Some("k9"), &claims("pkj", |_| {})),
            "no key with kid",
        ),
        (
            "sub of another client",
            signed_rs256(
                &key,
                Some("k1"),
                &claims("pkj", |c| c["iss"] = json!("csj")),
            ),
            "iss is \"csj\"",
        ),
        (
            "aud of another server",
            signed_rs256(
                &key,
                Some("k1"),
                &claims("pkj", |c| c["aud"] = json!("http://other.test")),
            ),
            "does not name this IdP",
        ),
        (
            "expired",
            signed_rs256(
                &key,
                Some("k1"),
                &claims("pkj", |c| c["exp"] = json!(T0 - 1)),
            ),
            "expired",
        ),
        (
            "exp too far ahead",
            signed_rs256(
                &key,
                Some("k1"),
                &claims("pkj", |c| c["exp"] = json!(T0 + 7200)),
            ),
            "at most 3600",
        ),
        (
            "no exp",
            signed_rs256(
                &key,
                Some("k1"),
                &claims("pkj", |c| {
                    c.as_object_mut().map(|o| o.remove("exp"));
                }),
            ),
            "no exp",
        ),
        (
            "no jti",
            signed_rs256(
                &key,
                Some("k1"),
                &claims("pkj", |c| {
                    c.as_object_mut().map(|o| o.remove("jti"));
                }),
            ),
            "no jti",
        ),
        (
            "issued in the future",
            signed_rs256(
                &key,
                Some("k1"),
                &claims("pkj", |c| c["iat"] = json!(T0 + 600)),
            ),
            "in the future",
        ),
        (
            // An attacker who knows the client's public key signs HS256 with it.
            "HMAC for a private_key_jwt client",
            signed_hs256(SECRET, &claims("pkj", |_| {})),
            "registered for private_key_jwt",
        ),
        ("alg none", unsigned(&claims("pkj", |_| {})), "alg \"none\""),
    ];
    for (what, assertion, reason) in cases {
        let res = client_credentials(&idp, &assertion).await;
        let description = assert_error(&res, 401, "invalid_client");
        assert!(
            description.contains(reason),
            "{what}: {description:?} does not say {reason:?}"
        );
    }
}

fn unsigned(claims: &Value) -> String {
    use base64::Engine;
    let b64 = |v: &Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
    };
    format!("{}.{}.", b64(&json!({"alg": "none"})), b64(claims))
}

#[tokio::test]
async fn an_audience_other_than_the_issuer_alone_is_accepted_and_linted() {
    let idp = idp_with_clients(vec![jwt_client("csj", AuthMethod::ClientSecretJwt, None)]);
    for aud in [
        json!(format!("{ISSUER}/token")),
        json!([ISSUER, "http://other.test"]),
    ] {
        let a = signed_hs256(SECRET, &claims("csj", |c| c["aud"] = aud.clone()));
        let res = client_credentials(&idp, &a).await;
        assert_eq!(res.status(), 200, "{aud}: {}", body(&res));
        assert_eq!(
            last_entry(&idp)["lints"],
            json!(["client_assertion_audience"])
        );
    }
    let a = signed_hs256(SECRET, &claims("csj", |c| c["aud"] = json!([ISSUER])));
    assert_eq!(client_credentials(&idp, &a).await.status(), 200);
    assert_eq!(last_entry(&idp)["lints"], json!([]));
}

#[tokio::test]
async fn an_assertion_with_a_secret_or_without_its_type_is_invalid_request() {
    let idp = idp_with_clients(vec![jwt_client("csj", AuthMethod::ClientSecretJwt, None)]);
    let a = signed_hs256(SECRET, &claims("csj", |_| {}));
    let res = idp
        .post(
            "/token",
            &[
                ("grant_type", "client_credentials"),
                ("client_assertion_type", JWT_BEARER),
                ("client_assertion", &a),
                ("client_secret", SECRET),
            ],
            &[],
        )
        .await;
    assert!(assert_error(&res, 400, "invalid_request").contains("one method"));
    let res = idp
        .post(
            "/token",
            &[
                ("grant_type", "client_credentials"),
                ("client_assertion", &a),
            ],
            &[],
        )
        .await;
    assert!(assert_error(&res, 400, "invalid_request").contains("client_assertion_type"));
    let res = idp
        .post(
            "/token",
            &[
                ("grant_type", "client_credentials"),
                ("client_assertion_type", "urn:example:saml"),
                ("client_assertion", &a),
            ],
            &[],
        )
        .await;
    assert!(assert_error(&res, 401, "invalid_client").contains("not supported"));
}

#[tokio::test]
async fn the_code_flow_and_refresh_accept_assertions_and_introspection_too() {
    let key = client_key("k1", SigningAlg::RS256);
    let idp = idp_with_clients(vec![jwt_client(
        "pkj",
        AuthMethod::PrivateKeyJwt,
        Some(&key),
    )]);
    let code = idp
        .code("alice", &[("client_id", "pkj"), ("redirect_uri", REDIRECT)])
        .await;
    let auth =
        |aud: &str| signed_rs256(&key, Some("k1"), &claims("pkj", |c| c["aud"] = json!(aud)));
    let a = auth(ISSUER);
    let res = idp
        .post(
            "/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("client_assertion_type", JWT_BEARER),
                ("client_assertion", &a),
            ],
            &[],
        )
        .await;
    assert_eq!(res.status(), 200, "{}", body(&res));
    let tokens: Value = serde_json::from_slice(res.body()).expect("json");
    let refresh = tokens["refresh_token"].as_str().expect("refresh token");
    let a = auth(ISSUER);
    let res = idp
        .post(
            "/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh),
                ("client_assertion_type", JWT_BEARER),
                ("client_assertion", &a),
            ],
            &[],
        )
        .await;
    assert_eq!(res.status(), 200, "{}", body(&res));
    // At introspection, the endpoint's own URL is an accepted audience.
    let a = auth(&format!("{ISSUER}/introspect"));
    let res = idp
        .post(
            "/introspect",
            &[
                ("token", tokens["access_token"].as_str().unwrap()),
                ("client_assertion_type", JWT_BEARER),
                ("client_assertion", &a),
            ],
            &[],
        )
        .await;
    assert_eq!(res.status(), 200, "{}", body(&res));
}

#[test]
fn a_private_key_jwt_client_without_keys_or_with_both_is_a_config_error() {
    let key = client_key("k1", SigningAlg::RS256);
    let check = |c: ClientConfig| {
        let mut config = mock_idp::Config::builtin();
        config.clients.push(c);
        config.check().map(|_| ()).map_err(|e| e.to_string())
    };
    let err = check(jwt_client("pkj", AuthMethod::PrivateKeyJwt, None)).unwrap_err();
    assert!(
        err.contains("jwks") && err.contains("private_key_jwt"),
        "{err}"
    );
    let mut both = jwt_client("pkj", AuthMethod::PrivateKeyJwt, Some(&key));
    both.jwks_uri = Some("http://127.0.0.1:9/jwks".into());
    assert!(check(both).unwrap_err().contains("not both"));
    let mut no_secret = jwt_client("csj", AuthMethod::ClientSecretJwt, None);
    no_secret.secret = None;
    assert!(
        check(no_secret)
            .unwrap_err()
            .contains("client_secret_jwt needs a secret")
    );
    check(jwt_client("pkj", AuthMethod::PrivateKeyJwt, Some(&key))).expect("valid");
}

/// A stand-in client's `jwks_uri`: serves whatever key set is current, counting fetches.
async fn jwks_server(
    set: std::sync::Arc<std::sync::Mutex<JwkSet>>,
    fetches: std::sync::Arc<std::sync::atomic::AtomicUsize>,
) -> String {
    use warp::Filter;
    let route = warp::path!("jwks").and(warp::get()).map(move || {
        fetches.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        warp::reply::json(&*set.lock().unwrap())
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/jwks", listener.local_addr().unwrap());
    tokio::spawn(warp::serve(route).incoming(listener).run());
    url
}

#[tokio::test]
async fn a_jwks_uri_is_fetched_once_and_again_when_the_client_rotates_its_key() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};
    let k1 = client_key("k1", SigningAlg::RS256);
    let k2 = client_key("k2", SigningAlg::RS256);
    let set = Arc::new(Mutex::new(k1.jwks.clone()));
    let fetches = Arc::new(AtomicUsize::new(0));
    let uri = jwks_server(set.clone(), fetches.clone()).await;
    let mut client = jwt_client("pkj", AuthMethod::PrivateKeyJwt, None);
    client.jwks_uri = Some(uri);
    let idp = idp_with_clients(vec![client]);
    for _ in 0..3 {
        let a = signed_rs256(&k1, Some("k1"), &claims("pkj", |_| {}));
        let res = client_credentials(&idp, &a).await;
        assert_eq!(res.status(), 200, "{}", body(&res));
    }
    assert_eq!(fetches.load(Ordering::SeqCst), 1, "the key set is cached");
    // The client rotates: an assertion naming the new kid makes the IdP fetch again.
    *set.lock().unwrap() = k2.jwks.clone();
    // The IdP refetches for an unknown kid at most once a second.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let a = signed_rs256(&k2, Some("k2"), &claims("pkj", |_| {}));
        let res = client_credentials(&idp, &a).await;
        if res.status() == 200 {
            break;
        }
        // A refetch within REFETCH_AFTER of the last one waits for the next assertion.
        assert!(std::time::Instant::now() < deadline, "{}", body(&res));
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(fetches.load(Ordering::SeqCst), 2);
    // Made-up kids do not make the IdP fetch in a loop.
    for _ in 0..5 {
        let a = signed_rs256(&k2, Some("made-up"), &claims("pkj", |_| {}));
        assert_error(&client_credentials(&idp, &a).await, 401, "invalid_client");
    }
    assert!(fetches.load(Ordering::SeqCst) <= 3);
}

#[tokio::test]
async fn an_unreachable_jwks_uri_is_named_in_the_refusal() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let key = client_key("k1", SigningAlg::RS256);
    let mut client = jwt_client("pkj", AuthMethod::PrivateKeyJwt, None);
    client.jwks_uri = Some(format!("http://127.0.0.1:{port}/jwks"));
    let idp = idp_with_clients(vec![client]);
    let a = signed_rs256(&key, Some("k1"), &claims("pkj", |_| {}));
    let description = assert_error(&client_credentials(&idp, &a).await, 401, "invalid_client");
    assert!(
        description.contains("could not be read") && description.contains("/jwks"),
        "{description}"
    );
}

#[tokio::test]
async fn assertions_are_judged_by_the_client_s_clock_when_the_idp_s_time_was_moved() {
    use std::sync::Arc;
    let mut config = mock_idp::Config::builtin();
    config
        .clients
        .push(jwt_client("csj", AuthMethod::ClientSecretJwt, None));
    let clock = mock_idp::Clock::system();
    let tenant = Arc::new(
        mock_idp::Tenant::new(
            config,
            ISSUER.into(),
            &mock_idp::config::KeyFiles::BuiltIn,
            clock.clone(),
            None,
        )
        .expect("tenant"),
    );
    let idp = Idp {
        routes: mock_idp::routes(tenant.clone()),
        tenant,
    };
    let wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    // A test ages the IdP's records by a day; the client's clock did not move.
    clock.advance(86_400);
    let fresh = |exp: i64| {
        signed_hs256(
            SECRET,
            &claims("csj", |c| {
                c["iat"] = json!(wall);
                c["exp"] = json!(exp);
            }),
        )
    };
    let res = client_credentials(&idp, &fresh(wall + 60)).await;
    assert_eq!(res.status(), 200, "{}", body(&res));
    let res = client_credentials(&idp, &fresh(wall - 1)).await;
    assert!(assert_error(&res, 401, "invalid_client").contains("expired"));
}
