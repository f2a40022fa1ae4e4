//! Each ID-token fault, seen on the wire; scoping by count, client and user; the admin API.

use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, jwk::JwkSet};
use mock_idp::faults::{Fault, FaultScope};
use serde_json::{Value, json};

use crate::support::*;

fn once() -> FaultScope {
    FaultScope {
        times: Some(1),
        ..Default::default()
    }
}

/// The next ID token alice gets, with this fault armed once.
async fn id_token_with(idp: &Idp, fault: Fault) -> String {
    idp.tenant.arm_fault(fault, once());
    idp.tokens("alice").await["id_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Verifies the signature against the JWKS (and nothing else).
async fn signature_ok(idp: &Idp, jwt: &str) -> Result<(), String> {
    let jwks: JwkSet = serde_json::from_slice(idp.get("/jwks", None).await.body()).unwrap();
    let kid = header(jwt)["kid"].as_str().map(str::to_owned);
    let jwk = match kid {
        Some(k) => jwks.find(&k).ok_or("kid not in the JWKS")?,
        None => jwks
            .keys
            .iter()
            .find(|k| k.common.key_id.as_deref() == Some("mock-rs256-1"))
            .unwrap(),
    };
    let mut v = Validation::new(Algorithm::RS256);
    v.validate_exp = false;
    v.validate_aud = false;
    v.required_spec_claims.clear();
    decode::<Value>(jwt, &DecodingKey::from_jwk(jwk).unwrap(), &v)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[tokio::test]
async fn signature_and_header_faults() {
    let idp = idp();
    let t = id_token_with(&idp, Fault::IdTokenBadSignature).await;
    assert!(
        signature_ok(&idp, &t)
            .await
            .unwrap_err()
            .contains("InvalidSignature")
    );
    let next = idp.tokens("alice").await["id_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        signature_ok(&idp, &next).await,
        Ok(()),
        "times = 1: the next token is sound"
    );

    let t = id_token_with(&idp, Fault::IdTokenAlgNone).await;
    assert_eq!(header(&t)["alg"], "none");
    assert!(t.ends_with('.'), "no signature: {t}");

    let t = id_token_with(&idp, Fault::IdTokenHs256PublicKey).await;
    assert_eq!(header(&t)["alg"], "HS256");
    let pem = idp
        .tenant
        .key_for(mock_idp::SigningAlg::RS256)
        .unwrap()
        .public_key_pem()
        .unwrap();
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"));
    let mut v = Validation::new(Algorithm::HS256);
    v.validate_exp = false;
    v.validate_aud = false;
    decode::<Value>(&t, &DecodingKey::from_secret(pem.as_bytes()), &v)
        .expect("an RP that uses the public key as an HMAC secret accepts it");

    // HS256 keyed with the client's secret, as a client registered for it is sent.
    let t = id_token_with(&idp, Fault::IdTokenHs256ClientSecret).await;
    assert_eq!(header(&t)["alg"], "HS256");
    assert!(
        header(&t).get("kid").is_none(),
        "a secret is not in the JWKS"
    );
    decode::<Value>(&t, &DecodingKey::from_secret(b"demo-secret"), &v)
        .expect("verifies with demo-rp's secret");

    let t = id_token_with(&idp, Fault::IdTokenUnknownKid).await;
    assert_eq!(
        signature_ok(&idp, &t).await,
        Err("kid not in the JWKS".into())
    );

    let t = id_token_with(&idp, Fault::IdTokenNoKid).await;
    assert!(header(&t).get("kid").is_none());
    assert_eq!(
        signature_ok(&idp, &t).await,
        Ok(()),
        "validly signed, just without kid"
    );
}

#[tokio::test]
async fn claim_faults() {
    let idp = idp();
    let c = |t: String| claims(&t);
    let t = c(id_token_with(&idp, Fault::IdTokenWrongIss).await);
    assert_ne!(t["iss"], ISSUER);
    let t = c(id_token_with(&idp, Fault::IdTokenWrongAud).await);
    assert_eq!(t["aud"], "another-client");
    let tokens = {
        idp.tenant.arm_fault(Fault::IdTokenWrongAtHash, once());
        idp.tokens("alice").await
    };
    let t = c(tokens["id_token"].as_str().unwrap().to_owned());
    let real = mock_idp::at_hash(tokens["access_token"].as_str().unwrap());
    assert_ne!(t["at_hash"], real);
    assert_eq!(t["at_hash"].as_str().map(str::len), Some(real.len()));
    let t = c(id_token_with(&idp, Fault::IdTokenExtraAud).await);
    assert_eq!(t["aud"], json!(["demo-rp", "untrusted-audience"]));
    assert_eq!(t["azp"], "demo-rp");
    let t = c(id_token_with(&idp, Fault::IdTokenExpired).await);
    assert!(t["exp"].as_i64().unwrap() < T0);
    let t = c(id_token_with(&idp, Fault::IdTokenNoIat).await);
    assert!(t.get("iat").is_none());
    let t = c(id_token_with(&idp, Fault::IdTokenFutureIat).await);
    assert!(t["iat"].as_i64().unwrap() > T0);
    let t = c(id_token_with(&idp, Fault::IdTokenNonceMismatch).await);
    assert_ne!(t["nonce"], "no");
    assert!(t["nonce"].is_string());
    let t = c(id_token_with(
        &idp,
        Fault::RemoveClaim {
            claim: "email".into(),
        },
    )
    .await);
    assert!(t.get("email").is_none() && t.get("preferred_username").is_some());
    // sub changed on refresh (OIDC Core §12.2).
    let tokens = idp.tokens("alice").await;
    let sub = claims(tokens["id_token"].as_str().unwrap())["sub"].clone();
    idp.tenant.arm_fault(Fault::IdTokenSubChanged, once());
    let res = idp
        .post(
            "/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
                ("client_id", "demo-rp"),
                ("client_secret", "demo-secret"),
            ],
            &[],
        )
        .await;
    assert_ne!(claims(json(&res)["id_token"].as_str().unwrap())["sub"], sub);
}

#[tokio::test]
async fn faults_are_scoped_by_user_and_client_until_cleared() {
    let idp = idp();
    idp.tenant.arm_fault(
        Fault::IdTokenNoIat,
        FaultScope {
            user: Some("bob".into()),
            ..Default::default()
        },
    );
    idp.tenant.arm_fault(
        Fault::IdTokenWrongAud,
        FaultScope {
            client_id: Some("other".into()),
            ..Default::default()
        },
    );
    for _ in 0..2 {
        let bob = claims(idp.tokens("bob").await["id_token"].as_str().unwrap());
        assert!(bob.get("iat").is_none(), "bob's tokens break until cleared");
        assert_eq!(
            bob["aud"], "demo-rp",
            "the other client's fault does not apply"
        );
    }
    assert!(
        claims(idp.tokens("alice").await["id_token"].as_str().unwrap())
            .get("iat")
            .is_some()
    );
    assert_eq!(idp.tenant.clear_faults(None), 2);
    assert!(
        claims(idp.tokens("bob").await["id_token"].as_str().unwrap())
            .get("iat")
            .is_some()
    );
}

#[tokio::test]
async fn faults_through_the_admin_api() {
    let idp = idp();
    let post = |b: Value| {
        warp::test::request()
            .method("POST")
            .path("/admin/faults")
            .body(b.to_string())
            .reply(&idp.routes)
    };
    let res = post(
        json!({"fault": {"kind": "remove_claim", "claim": "email"}, "times": 1, "user": "alice"}),
    )
    .await;
    assert_eq!(res.status(), 201, "{}", body(&res));
    let id = json(&res)["id"].as_u64().unwrap();
    let list = json(&idp.get("/admin/faults", None).await);
    assert_eq!(
        list[0]["fault"],
        json!({"kind": "remove_claim", "claim": "email"})
    );
    assert_eq!(list[0]["scope"]["user"], "alice");
    let d = assert_error(
        &post(json!({"fault": {"kind": "id_token_bogus"}})).await,
        400,
        "invalid_request",
    );
    assert!(d.contains("id_token_bogus"), "{d}");
    assert_error(
        &post(json!({"fault": {"kind": "id_token_no_iat"}, "times": 0})).await,
        400,
        "invalid_request",
    );
    let del = |p: String| {
        warp::test::request()
            .method("DELETE")
            .path(&p)
            .reply(&idp.routes)
    };
    assert_eq!(del(format!("/admin/faults/{id}")).await.status(), 204);
    assert_error(&del(format!("/admin/faults/{id}")).await, 404, "not_found");
    assert_eq!(del("/admin/faults".into()).await.status(), 204);
}

#[tokio::test]
async fn token_endpoint_faults() {
    let idp = idp();
    let t = idp.tokens("alice").await;
    let rt = t["refresh_token"].as_str().unwrap();

    idp.tenant
        .arm_fault(Fault::HttpStatus { status: 503 }, once());
    let res = idp.refresh(rt).await;
    assert_error(&res, 503, "temporarily_unavailable");
    assert_eq!(
        idp.refresh(rt).await.status(),
        200,
        "an outage is not a revocation: the token still works"
    );

    idp.tenant.arm_fault(Fault::RefreshInvalidGrant, once());
    assert_error(&idp.refresh(rt).await, 400, "invalid_grant");
    assert_eq!(idp.refresh(rt).await.status(), 200);

    idp.tenant.arm_fault(Fault::MalformedJson, once());
    let res = idp.refresh(rt).await;
    assert_eq!(res.status(), 200);
    assert!(
        serde_json::from_slice::<Value>(res.body()).is_err(),
        "{}",
        body(&res)
    );

    idp.tenant.arm_fault(Fault::NoRefreshToken, once());
    let code = idp.code("alice", &[]).await;
    let res = json(&idp.exchange(&code, &[]).await);
    assert!(
        res.get("refresh_token").is_none() && res.get("id_token").is_some(),
        "{res}"
    );

    idp.tenant.arm_fault(Fault::Latency { ms: 150 }, once());
    let started = std::time::Instant::now();
    assert_eq!(idp.refresh(rt).await.status(), 200);
    assert!(started.elapsed() >= std::time::Duration::from_millis(150));

    let j = idp.tenant.journal(0);
    let fired: Vec<_> = j
        .iter()
        .filter(|e| !e.faults.is_empty())
        .map(|e| e.faults[0].clone())
        .collect();
    assert_eq!(
        fired,
        vec![
            Fault::HttpStatus { status: 503 },
            Fault::RefreshInvalidGrant,
            Fault::MalformedJson,
            Fault::NoRefreshToken,
            Fault::Latency { ms: 150 }
        ],
        "the journal says which faults fired"
    );

    idp.tenant.arm_fault(Fault::Latency { ms: 60_000 }, once());
    let gave_up = tokio::time::timeout(std::time::Duration::from_millis(50), idp.refresh(rt)).await;
    assert!(gave_up.is_err(), "the answer is held back");
    assert_eq!(
        idp.tenant.journal(0).last().unwrap().faults,
        vec![Fault::Latency { ms: 60_000 }],
        "journaled even though the client gave up waiting"
    );
}

#[tokio::test]
async fn authorize_faults() {
    let idp = idp();
    idp.tenant.arm_fault(Fault::StateAltered, once());
    let res = idp.authorize(&[("login_hint", "alice")], None).await;
    let loc = location(&res);
    assert_eq!(param(&loc, "state").as_deref(), Some("altered-st"));
    assert!(param(&loc, "code").is_some());

    idp.tenant.arm_fault(
        Fault::AccessDenied,
        FaultScope {
            user: Some("bob".into()),
            ..Default::default()
        },
    );
    let loc = location(&idp.authorize(&[("login_hint", "bob")], None).await);
    assert_eq!(param(&loc, "error").as_deref(), Some("access_denied"));
    assert_eq!(param(&loc, "state").as_deref(), Some("st"));
    let loc = location(&idp.authorize(&[("login_hint", "alice")], None).await);
    assert!(param(&loc, "code").is_some(), "only bob is refused");
}

#[tokio::test]
async fn userinfo_faults() {
    let idp = idp();
    let tokens = idp.tokens("alice").await;
    let at = tokens["access_token"].as_str().unwrap();
    let userinfo = || async { json(&idp.post("/userinfo", &[("access_token", at)], &[]).await) };
    idp.tenant.arm_fault(Fault::UserinfoSubChanged, once());
    idp.tenant.arm_fault(
        Fault::UserinfoRemoveClaim {
            claim: "email".into(),
        },
        once(),
    );
    let broken = userinfo().await;
    let sub = claims(tokens["id_token"].as_str().unwrap())["sub"].clone();
    assert_ne!(
        broken["sub"], sub,
        "the userinfo sub differs from the token's"
    );
    assert!(broken.get("email").is_none());
    assert_eq!(
        broken["name"], "Other than Alice Analyst",
        "another person's profile"
    );
    let next = userinfo().await;
    assert_eq!(next["sub"], sub, "armed once");
    assert_eq!(next["email"], "alice@example.com");
    let journal = idp.tenant.journal(0);
    let n = journal.len();
    assert_eq!(journal[n - 2].faults.len(), 2, "both faults are journaled");
    assert!(journal[n - 1].faults.is_empty());
}
