//! The JWT bearer grant (RFC 7523 §2.1): a trusted issuer's signed assertion about a user
//! buys an access token for that user; each broken property is refused with its reason,
//! and an untrusted issuer's assertion is refused however it is signed.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use mock_idp::{AssertionIssuer, SigningAlg, SubjectMatch};
use serde_json::{Value, json};

use crate::support::*;

const GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const CI: &str = "https://ci.example.test";

fn signer(kid: &str) -> KeyPair {
    key_pair(kid, SigningAlg::RS256)
}

fn sign(s: &KeyPair, claims: &Value) -> String {
    let mut h = Header::new(Algorithm::RS256);
    h.kid = Some("ci-1".into());
    let k = EncodingKey::from_rsa_pem(s.pem.as_bytes()).expect("pem");
    jsonwebtoken::encode(&h, claims, &k).expect("sign")
}

fn claims(sub: &str, edit: impl FnOnce(&mut Value)) -> Value {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let mut c = json!({
        "iss": CI, "sub": sub, "aud": ISSUER, "exp": T0 + 300, "iat": T0,
        "jti": format!("ci-{}", N.fetch_add(1, Ordering::Relaxed)),
    });
    edit(&mut c);
    c
}

fn idp_trusting(s: &KeyPair, subject: SubjectMatch) -> Idp {
    let jwks = s.jwks.clone();
    idp_with(move |c| {
        c.assertion_issuers.push(AssertionIssuer {
            issuer: CI.into(),
            jwks: Some(jwks),
            jwks_uri: None,
            subject,
        });
        let demo = c.clients.iter_mut().find(|c| c.id == "demo-rp").unwrap();
        demo.grant_types.push(mock_idp::GrantType::JwtBearer);
    })
}

async fn grant(idp: &Idp, assertion: &str, scope: &str) -> warp::http::Response<bytes::Bytes> {
    idp.post(
        "/token",
        &[
            ("grant_type", GRANT),
            ("assertion", assertion),
            ("scope", scope),
            ("client_id", "demo-rp"),
            ("client_secret", "demo-secret"),
        ],
        &[],
    )
    .await
}

#[tokio::test]
async fn a_trusted_assertion_buys_an_access_token_for_its_user_once() {
    let s = signer("ci-1");
    let idp = idp_trusting(&s, SubjectMatch::Username);
    let a = sign(&s, &claims("alice", |_| {}));
    let res = grant(&idp, &a, "profile").await;
    assert_eq!(res.status(), 200, "{}", body(&res));
    let tokens: Value = serde_json::from_slice(res.body()).unwrap();
    assert!(tokens.get("refresh_token").is_none() && tokens.get("id_token").is_none());
    let info = idp
        .introspect(tokens["access_token"].as_str().unwrap())
        .await;
    assert_eq!(info["active"], true);
    assert_eq!(info["sub"], "a1b2c3d4-0000-4000-8000-000000000001");
    assert_eq!(info["client_id"], "demo-rp");
    let e = idp
        .tenant
        .journal(0)
        .into_iter()
        .rev()
        .find(|e| e.endpoint == mock_idp::journal::Endpoint::Token)
        .unwrap();
    assert_eq!(e.user.as_deref(), Some("alice"));
    // The same assertion again: its jti is spent.
    let res = grant(&idp, &a, "profile").await;
    assert!(assert_error(&res, 400, "invalid_grant").contains("already used"));
}

#[tokio::test]
async fn the_subject_may_be_matched_by_sub() {
    let s = signer("ci-1");
    let idp = idp_trusting(&s, SubjectMatch::Sub);
    let a = sign(&s, &claims("a1b2c3d4-0000-4000-8000-000000000002", |_| {}));
    let res = grant(&idp, &a, "").await;
    assert_eq!(res.status(), 200, "{}", body(&res));
    let a = sign(&s, &claims("bob", |_| {}));
    assert!(assert_error(&grant(&idp, &a, "").await, 400, "invalid_grant").contains("no user"));
}

#[tokio::test]
async fn each_broken_property_is_refused_with_its_reason() {
    let s = signer("ci-1");
    let forger = signer("ci-1");
    let idp = idp_trusting(&s, SubjectMatch::Username);
    idp.tenant
        .patch_user(
            "carol",
            mock_idp::UserPatch {
                disabled: Some(true),
                ..Default::default()
            },
        )
        .unwrap();
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "signed by another key",
            sign(&forger, &claims("alice", |_| {})),
            "does not verify",
        ),
        (
            "an untrusted issuer",
            sign(
                &s,
                &claims("alice", |c| c["iss"] = json!("https://evil.test")),
            ),
            "not trusted",
        ),
        (
            "no sub",
            sign(
                &s,
                &claims("alice", |c| {
                    c.as_object_mut().map(|o| o.remove("sub"));
                }),
            ),
            "no sub",
        ),
        (
            "an unknown user",
            sign(&s, &claims("mallory", |_| {})),
            "no user",
        ),
        (
            "a disabled user",
            sign(&s, &claims("carol", |_| {})),
            "disabled",
        ),
        (
            "another audience",
            sign(
                &s,
                &claims("alice", |c| c["aud"] = json!("https://other.test")),
            ),
            "does not name this IdP",
        ),
        (
            "expired",
            sign(&s, &claims("alice", |c| c["exp"] = json!(T0 - 1))),
            "expired",
        ),
        (
            "no exp",
            sign(
                &s,
                &claims("alice", |c| {
                    c.as_object_mut().map(|o| o.remove("exp"));
                }),
            ),
            "no exp",
        ),
        (
            "an HMAC",
            {
                let k = EncodingKey::from_secret(b"demo-secret");
                jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims("alice", |_| {}), &k)
                    .unwrap()
            },
            "HMAC",
        ),
    ];
    for (what, a, reason) in cases {
        let description = assert_error(&grant(&idp, &a, "").await, 400, "invalid_grant");
        assert!(
            description.contains(reason),
            "{what}: {description:?} lacks {reason:?}"
        );
    }
    // Control: the same shape, unbroken.
    let ok = grant(&idp, &sign(&s, &claims("alice", |_| {})), "").await;
    assert_eq!(ok.status(), 200, "{}", body(&ok));
    // No refresh token and no ID token from this grant.
    let a = sign(&s, &claims("alice", |_| {}));
    assert!(
        assert_error(&grant(&idp, &a, "openid").await, 400, "invalid_scope")
            .contains("access token only")
    );
}

#[tokio::test]
async fn a_client_not_allowed_the_grant_is_unauthorized_client_and_discovery_lists_it() {
    let s = signer("ci-1");
    let jwks = s.jwks.clone();
    let idp = idp_with(move |c| {
        c.assertion_issuers.push(AssertionIssuer {
            issuer: CI.into(),
            jwks: Some(jwks),
            jwks_uri: None,
            subject: SubjectMatch::Username,
        })
    });
    let a = sign(&s, &claims("alice", |_| {}));
    assert_error(&grant(&idp, &a, "").await, 400, "unauthorized_client");
    let d: Value = serde_json::from_slice(
        idp.get("/.well-known/openid-configuration", None)
            .await
            .body(),
    )
    .unwrap();
    assert!(
        d["grant_types_supported"]
            .as_array()
            .unwrap()
            .contains(&json!(GRANT))
    );
    let plain: Value = serde_json::from_slice(
        idp_with(|_| {})
            .get("/.well-known/openid-configuration", None)
            .await
            .body(),
    )
    .unwrap();
    assert!(
        !plain["grant_types_supported"]
            .as_array()
            .unwrap()
            .contains(&json!(GRANT))
    );
}

#[test]
fn an_issuer_without_keys_or_twice_is_a_config_error() {
    let check = |a: Vec<AssertionIssuer>| {
        let mut config = mock_idp::Config::builtin();
        config.assertion_issuers = a;
        config.check().map(|_| ()).map_err(|e| e.to_string())
    };
    let bare = AssertionIssuer {
        issuer: CI.into(),
        jwks: None,
        jwks_uri: None,
        subject: SubjectMatch::Username,
    };
    let e = check(vec![bare.clone()]).unwrap_err();
    assert!(
        e.contains("assertion_issuers[0].jwks") && e.contains("public keys"),
        "{e}"
    );
    let with = AssertionIssuer {
        jwks: Some(signer("k").jwks),
        ..bare
    };
    let e = check(vec![with.clone(), with.clone()]).unwrap_err();
    assert!(
        e.contains("assertion_issuers[1].issuer") && e.contains("twice"),
        "{e}"
    );
    check(vec![with]).expect("valid");
}
