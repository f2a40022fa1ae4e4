//! DPoP (RFC 9449): a token request with a proof gets tokens bound to the proof's key;
//! userinfo takes a bound token only as `Authorization: DPoP` with a fresh proof by that
//! key for that request and token; a public client's refresh token is bound too; a nonce
//! is asked for where the tenant wants one; every malformed proof is refused with
//! `invalid_dpop_proof`, and a good one is taken (the control).

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use mock_idp::config::ClientConfig;
use serde_json::{Value, json};
use warp::http::Response;

use crate::support::*;

/// A client's P-256 key: what it signs proofs with, its public JWK and thumbprint.
pub struct Key {
    signing: EncodingKey,
    jwk: Value,
    jkt: String,
}

impl Key {
    pub fn new() -> Key {
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
                .unwrap();
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).unwrap();
        let point = pair.public_key().as_ref();
        let (x, y) = (
            URL_SAFE_NO_PAD.encode(&point[1..33]),
            URL_SAFE_NO_PAD.encode(&point[33..65]),
        );
        // RFC 7638 §3: the required members, in lexicographic order, no whitespace.
        let thumb = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
        Key {
            signing: EncodingKey::from_ec_der(pkcs8.as_ref()),
            jwk: json!({ "kty": "EC", "crv": "P-256", "x": x, "y": y }),
            jkt: URL_SAFE_NO_PAD.encode(digest(&SHA256, thumb.as_bytes())),
        }
    }

    /// A proof for `htm` `htu`, with `extra` claims over the usual ones.
    pub fn proof_with(
        &self,
        htm: &str,
        htu: &str,
        extra: Value,
        header: impl FnOnce(&mut Header),
    ) -> String {
        let mut h = Header::new(Algorithm::ES256);
        h.typ = Some("dpop+jwt".into());
        h.jwk = Some(serde_json::from_value(self.jwk.clone()).unwrap());
        header(&mut h);
        let mut claims = json!({
            "jti": URL_SAFE_NO_PAD.encode(rand::random::<[u8; 12]>()),
            "htm": htm,
            "htu": htu,
            "iat": T0,
        });
        for (k, v) in extra.as_object().unwrap() {
            claims[k] = v.clone();
        }
        jsonwebtoken::encode(&h, &claims, &self.signing).unwrap()
    }

    pub fn proof(&self, htm: &str, path: &str, token: Option<&str>) -> String {
        let extra = match token {
            Some(t) => json!({ "ath": URL_SAFE_NO_PAD.encode(digest(&SHA256, t.as_bytes())) }),
            None => json!({}),
        };
        self.proof_with(htm, &format!("{ISSUER}{path}"), extra, |_| {})
    }
}

const KEYS: &str = "[[keys]]\nkid = \"k\"\nalg = \"RS256\"\npem_file = \"keys/rsa-1.pem\"\n";

fn dpop_idp(edit: impl FnOnce(&mut mock_idp::Config)) -> Idp {
    idp_with(|c| {
        c.dpop.enabled = true;
        edit(c);
    })
}

/// demo-rp trades a code for `user` with these headers.
async fn exchange(idp: &Idp, user: &str, headers: &[(&str, &str)]) -> Response<bytes::Bytes> {
    let code = idp.code(user, &[]).await;
    idp.exchange_sending(&code, &[], headers).await
}

/// demo-rp trades a code for `user` with a proof by `key`.
async fn proved(idp: &Idp, user: &str, key: &Key) -> Response<bytes::Bytes> {
    exchange(idp, user, &[("dpop", &key.proof("POST", "/token", None))]).await
}

async fn userinfo(idp: &Idp, authorization: &str, proof: Option<&str>) -> Response<bytes::Bytes> {
    let mut r = warp::test::request()
        .method("GET")
        .path("/userinfo")
        .header("authorization", authorization);
    if let Some(p) = proof {
        r = r.header("dpop", p);
    }
    r.reply(&idp.routes).await
}

fn www_authenticate(res: &Response<bytes::Bytes>) -> String {
    res.headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_proof_binds_the_tokens_and_userinfo_takes_them_only_with_a_fresh_proof_by_that_key() {
    let idp = dpop_idp(|_| {});
    let key = Key::new();
    let res = proved(&idp, "alice", &key).await;
    assert_eq!(res.status(), 200, "{}", body(&res));
    let tokens = json(&res);
    assert_eq!(tokens["token_type"], "DPoP");
    let at = tokens["access_token"].as_str().unwrap();
    assert_eq!(
        claims(at)["cnf"]["jkt"],
        key.jkt,
        "bound to the proof's key"
    );

    // As a bearer token: refused, with the DPoP challenge.
    let res = userinfo(&idp, &format!("Bearer {at}"), None).await;
    assert_eq!(res.status(), 401);
    assert!(
        www_authenticate(&res).starts_with("DPoP "),
        "{}",
        www_authenticate(&res)
    );
    assert!(body(&res).contains("DPoP-bound"), "{}", body(&res));
    // With the DPoP scheme and a proof for this request and token: taken (the control).
    let proof = key.proof("GET", "/userinfo", Some(at));
    let res = userinfo(&idp, &format!("DPoP {at}"), Some(&proof)).await;
    assert_eq!(res.status(), 200, "{}", body(&res));
    assert_eq!(json(&res)["preferred_username"], "alice");
    // The same proof again: a replay.
    let res = userinfo(&idp, &format!("DPoP {at}"), Some(&proof)).await;
    assert_eq!(res.status(), 401);
    assert!(body(&res).contains("already used"), "{}", body(&res));
    // A proof by another key, a proof without the token's hash, none at all.
    let other = Key::new().proof("GET", "/userinfo", Some(at));
    let no_ath = key.proof("GET", "/userinfo", None);
    for (proof, why) in [
        (Some(other.as_str()), "another key"),
        (Some(no_ath.as_str()), "no ath"),
        (None, "without a DPoP proof"),
    ] {
        let res = userinfo(&idp, &format!("DPoP {at}"), proof).await;
        assert_eq!(res.status(), 401, "{why}");
        assert_eq!(
            json(&res)["error"],
            "invalid_dpop_proof",
            "{why}: {}",
            body(&res)
        );
    }
    // Introspection says the binding (RFC 9449 §6.2).
    let seen = idp.introspect(at).await;
    assert_eq!(seen["token_type"], "DPoP");
    assert_eq!(seen["cnf"]["jkt"], key.jkt);
    // The journal names the key of each accepted proof.
    let journal = idp.tenant.journal(0);
    let token = journal.iter().find(|e| e.status == 200 && e.dpop.is_some());
    assert_eq!(token.and_then(|e| e.dpop.clone()), Some(key.jkt.clone()));
}

#[tokio::test]
async fn every_broken_proof_is_refused_and_a_good_one_taken() {
    let idp = dpop_idp(|_| {});
    let key = Key::new();
    let htu = format!("{ISSUER}/token");
    let cases: Vec<(&str, String)> = vec![
        ("htm", key.proof_with("GET", &htu, json!({}), |_| {})),
        (
            "htu",
            key.proof_with("POST", &format!("{ISSUER}/userinfo"), json!({}), |_| {}),
        ),
        (
            "iat",
            key.proof_with("POST", &htu, json!({ "iat": T0 - 3600 }), |_| {}),
        ),
        (
            "typ",
            key.proof_with("POST", &htu, json!({}), |h| h.typ = Some("JWT".into())),
        ),
        (
            "no jwk",
            key.proof_with("POST", &htu, json!({}), |h| h.jwk = None),
        ),
        (
            "no jti",
            key.proof_with("POST", &htu, json!({ "jti": "" }), |_| {}),
        ),
    ];
    for (what, proof) in cases {
        let res = exchange(&idp, "alice", &[("dpop", &proof)]).await;
        assert_eq!(res.status(), 400, "{what}: {}", body(&res));
        assert_eq!(
            json(&res)["error"],
            "invalid_dpop_proof",
            "{what}: {}",
            body(&res)
        );
    }
    // A symmetric algorithm, and a jwk carrying its private half.
    let mut h = Header::new(Algorithm::HS256);
    h.typ = Some("dpop+jwt".into());
    let hs = jsonwebtoken::encode(
        &h,
        &json!({ "jti": "x", "htm": "POST", "htu": htu, "iat": T0 }),
        &EncodingKey::from_secret(b"secret"),
    )
    .unwrap();
    let res = exchange(&idp, "alice", &[("dpop", &hs)]).await;
    assert!(body(&res).contains("asymmetric only"), "{}", body(&res));
    let good = key.proof_with("POST", &htu, json!({}), |_| {});
    let [header, payload, signature]: [&str; 3] =
        good.split('.').collect::<Vec<_>>().try_into().unwrap();
    let mut hv: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    hv["jwk"]["d"] = json!("AAAA");
    let leaky = format!(
        "{}.{payload}.{signature}",
        URL_SAFE_NO_PAD.encode(hv.to_string())
    );
    let res = exchange(&idp, "alice", &[("dpop", &leaky)]).await;
    assert!(body(&res).contains("private member"), "{}", body(&res));
    // The control: a good proof, its query string ignored in htu.
    let good = key.proof_with("POST", &format!("{htu}?x=1"), json!({}), |_| {});
    let res = exchange(&idp, "alice", &[("dpop", &good)]).await;
    assert_eq!(res.status(), 200, "{}", body(&res));
}

#[tokio::test]
async fn a_public_clients_refresh_token_is_bound_a_confidential_ones_is_not() {
    let idp = dpop_idp(|c| {
        let mut spa: ClientConfig = c.clients[0].clone();
        spa.id = "spa".into();
        spa.secret = None;
        spa.auth_methods = vec![mock_idp::AuthMethod::None];
        c.clients.push(spa);
    });
    let key = Key::new();
    let verifier = "v".repeat(43);
    let challenge = URL_SAFE_NO_PAD.encode(digest(&SHA256, verifier.as_bytes()));
    let res = idp
        .authorize(
            &[
                ("client_id", "spa"),
                ("login_hint", "alice"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ],
            None,
        )
        .await;
    let code = param(&location(&res), "code").expect("a code");
    let res = idp
        .post(
            "/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("client_id", "spa"),
                ("code_verifier", &verifier),
            ],
            &[("dpop", &key.proof("POST", "/token", None))],
        )
        .await;
    assert_eq!(res.status(), 200, "{}", body(&res));
    let rt = json(&res)["refresh_token"].as_str().unwrap().to_owned();
    let refresh = |headers: Vec<(&'static str, String)>| {
        let rt = rt.clone();
        let idp = &idp;
        async move {
            let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            idp.post(
                "/token",
                &[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", &rt),
                    ("client_id", "spa"),
                ],
                &h,
            )
            .await
        }
    };
    let res = refresh(vec![]).await;
    assert_eq!(res.status(), 400);
    assert!(body(&res).contains("bound to a DPoP key"), "{}", body(&res));
    let res = refresh(vec![("dpop", Key::new().proof("POST", "/token", None))]).await;
    assert!(body(&res).contains("another DPoP key"), "{}", body(&res));
    let res = refresh(vec![("dpop", key.proof("POST", "/token", None))]).await;
    assert_eq!(
        res.status(),
        200,
        "the same key (the control): {}",
        body(&res)
    );
    assert_eq!(json(&res)["token_type"], "DPoP");

    // demo-rp, confidential: its refresh token is not bound; a refresh without a proof
    // gets a bearer token.
    let res = proved(&idp, "bob", &key).await;
    let rt = json(&res)["refresh_token"].as_str().unwrap().to_owned();
    let res = idp.refresh(&rt).await;
    assert_eq!(res.status(), 200, "{}", body(&res));
    assert_eq!(json(&res)["token_type"], "Bearer");
}

#[tokio::test]
async fn a_tenant_that_wants_nonces_hands_one_out_and_takes_it() {
    let idp = dpop_idp(|c| c.dpop.nonce = true);
    let key = Key::new();
    let res = proved(&idp, "alice", &key).await;
    assert_eq!(res.status(), 400);
    assert_eq!(json(&res)["error"], "use_dpop_nonce");
    let nonce = res.headers()["dpop-nonce"].to_str().unwrap().to_owned();
    let htu = format!("{ISSUER}/token");
    let with_nonce = key.proof_with("POST", &htu, json!({ "nonce": nonce }), |_| {});
    let res = exchange(&idp, "alice", &[("dpop", &with_nonce)]).await;
    assert_eq!(res.status(), 200, "{}", body(&res));
    assert!(res.headers().contains_key("dpop-nonce"));
    let wrong = key.proof_with("POST", &htu, json!({ "nonce": "not-ours" }), |_| {});
    let res = exchange(&idp, "alice", &[("dpop", &wrong)]).await;
    assert_eq!(json(&res)["error"], "use_dpop_nonce");
}

#[tokio::test]
async fn dpop_is_off_unless_enabled_required_where_configured_and_a_fault_unbinds() {
    // Off: the header is ignored, as at a provider without DPoP; discovery says nothing.
    let off = idp();
    let key = Key::new();
    let res = proved(&off, "alice", &key).await;
    assert_eq!(json(&res)["token_type"], "Bearer");
    let doc = json(&off.get("/.well-known/openid-configuration", None).await);
    assert!(doc.get("dpop_signing_alg_values_supported").is_none());

    let on = dpop_idp(|c| c.clients[0].dpop_bound_access_tokens = true);
    let doc = json(&on.get("/.well-known/openid-configuration", None).await);
    assert_eq!(doc["dpop_signing_alg_values_supported"][0], "ES256");
    let res = exchange(&on, "alice", &[]).await;
    assert_eq!(res.status(), 400);
    assert!(
        body(&res).contains("dpop_bound_access_tokens"),
        "{}",
        body(&res)
    );

    // The fault: a good proof, and still a bearer token back.
    on.tenant
        .arm_fault(mock_idp::faults::Fault::DpopUnbound, Default::default());
    let res = proved(&on, "alice", &key).await;
    let tokens = json(&res);
    assert_eq!(tokens["token_type"], "Bearer");
    assert!(
        claims(tokens["access_token"].as_str().unwrap())
            .get("cnf")
            .is_none()
    );

    let invalid = mock_idp::Config::from_toml(
        &format!("issuer = \"http://x\"\n{KEYS}[dpop]\nnonce = true\n"),
        "idp.toml",
    );
    let e = invalid.expect_err("nonce without enabled");
    assert_eq!(e.line, Some(7), "{e}");
    assert!(e.to_string().contains("needs enabled = true"), "{e}");
}

/// The `dpop_nonce` fault: a tenant that does not always want nonces asks one request of a
/// user for one; the same code traded again with a proof carrying it is taken (the code was
/// not spent by the refusal), while another user's requests are untouched.
#[tokio::test]
async fn the_dpop_nonce_fault_asks_one_users_request_for_a_nonce() {
    let idp = dpop_idp(|_| {});
    idp.tenant.arm_fault(
        mock_idp::faults::Fault::DpopNonce,
        mock_idp::faults::FaultScope {
            user: Some("alice".into()),
            ..Default::default()
        },
    );
    let key = Key::new();
    let res = proved(&idp, "bob", &key).await;
    assert_eq!(res.status(), 200, "another user: {}", body(&res));
    let code = idp.code("alice", &[]).await;
    let trade = |proof: String| {
        let (idp, code) = (&idp, code.clone());
        async move { idp.exchange_sending(&code, &[], &[("dpop", &proof)]).await }
    };
    let res = trade(key.proof("POST", "/token", None)).await;
    assert_eq!(res.status(), 400);
    assert_eq!(json(&res)["error"], "use_dpop_nonce");
    let nonce = res.headers()["dpop-nonce"].to_str().unwrap().to_owned();
    let htu = format!("{ISSUER}/token");
    let res = trade(key.proof_with("POST", &htu, json!({ "nonce": nonce }), |_| {})).await;
    assert_eq!(
        res.status(),
        200,
        "the retry with the nonce: {}",
        body(&res)
    );
}
