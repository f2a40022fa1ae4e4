//! The `fapi2` profile: a tenant shaped as the FAPI 2.0 Security Profile requires. The
//! whole FAPI flow of the demo client (a pushed request with PKCE S256, private_key_jwt with
//! the test client key, a DPoP proof at the token endpoint) gets DPoP-bound tokens signed
//! PS256; each shortcut a non-FAPI client takes is refused, naming what it lacks.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::dpop::Key;
use crate::profiles::shaped;
use crate::support::*;

/// The demo clients' test key (fixtures/keys/client-ec-p256.pem, in the profile's jwks).
fn client_key() -> EncodingKey {
    let pem = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/keys/client-ec-p256.pem"
    ))
    .unwrap();
    EncodingKey::from_ec_pem(&pem).unwrap()
}

/// A private_key_jwt client assertion of demo-rp for `issuer`, good once.
fn assertion(issuer: &str) -> String {
    let mut h = Header::new(Algorithm::ES256);
    h.kid = Some("demo-client-es256".into());
    let claims = json!({
        "iss": "demo-rp", "sub": "demo-rp", "aud": issuer,
        "iat": T0, "exp": T0 + 60,
        "jti": format!("a-{}", rand::random::<u64>()),
    });
    jsonwebtoken::encode(&h, &claims, &client_key()).unwrap()
}

fn path(url: &Value) -> String {
    url::Url::parse(url.as_str().unwrap())
        .unwrap()
        .path()
        .to_owned()
}

const VERIFIER: &str = "fapi-verifier-0123456789-0123456789-0123456789";

fn challenge() -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        VERIFIER.as_bytes(),
    ))
}

#[tokio::test]
async fn a_fapi2_tenant_takes_the_fapi_flow_and_refuses_each_shortcut() {
    let idp = shaped("fapi2");
    let issuer = idp.tenant.issuer.clone();
    let d = json(&idp.get("/.well-known/openid-configuration", None).await);
    assert_eq!(d["require_pushed_authorization_requests"], true);
    assert_eq!(
        d["token_endpoint_auth_methods_supported"],
        json!(["private_key_jwt"])
    );
    assert_eq!(d["dpop_signing_alg_values_supported"][0], "ES256");
    let algs = d["id_token_signing_alg_values_supported"].to_string();
    assert!(algs.contains("PS256") && !algs.contains("RS256"), "{algs}");

    let request = |pkce: bool| {
        let mut p = vec![
            ("redirect_uri".to_owned(), REDIRECT.to_owned()),
            ("response_type".into(), "code".into()),
            ("scope".into(), "openid profile email offline_access".into()),
            ("state".into(), "st".into()),
            ("nonce".into(), "no".into()),
            ("login_hint".into(), "alice".into()),
        ];
        if pkce {
            p.push(("code_challenge".into(), challenge()));
            p.push(("code_challenge_method".into(), "S256".into()));
        }
        p
    };
    let push = |params: Vec<(String, String)>, auth: Vec<(&'static str, String)>| {
        let idp = &idp;
        let par = path(&d["pushed_authorization_request_endpoint"]);
        async move {
            let mut all: Vec<(&str, &str)> = params
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            all.extend(auth.iter().map(|(k, v)| (*k, v.as_str())));
            idp.post(&par, &all, &[]).await
        }
    };
    let jwt_auth = || {
        vec![
            ("client_id", "demo-rp".to_owned()),
            ("client_assertion_type", mock_idp::JWT_BEARER.to_owned()),
            ("client_assertion", assertion(&issuer)),
        ]
    };

    // Shortcuts, each refused for what it lacks.
    let authorize = path(&d["authorization_endpoint"]);
    let plain = form(&[
        ("client_id", "demo-rp"),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("scope", "openid"),
    ]);
    let res = idp.get(&format!("{authorize}?{plain}"), None).await;
    assert!(
        location(&res).contains("error=invalid_request"),
        "a plain request: {}",
        location(&res)
    );
    let res = push(request(false), jwt_auth()).await;
    assert_eq!(res.status(), 400, "no PKCE: {}", body(&res));
    assert!(body(&res).contains("require_pkce"), "{}", body(&res));
    let secret = vec![
        ("client_id", "demo-rp".to_owned()),
        ("client_secret", "demo-secret".to_owned()),
    ];
    let res = push(request(true), secret).await;
    assert_eq!(res.status(), 401, "client_secret_post: {}", body(&res));

    // The FAPI flow.
    let res = push(request(true), jwt_auth()).await;
    assert_eq!(res.status(), 201, "{}", body(&res));
    let uri = json(&res)["request_uri"].as_str().unwrap().to_owned();
    let res = idp
        .get(
            &format!(
                "{authorize}?{}",
                form(&[("client_id", "demo-rp"), ("request_uri", &uri)])
            ),
            None,
        )
        .await;
    let back = location(&res);
    assert_eq!(
        param(&back, "iss").as_deref(),
        Some(issuer.as_str()),
        "RFC 9207"
    );
    let code = param(&back, "code").expect("a code");
    let token = path(&d["token_endpoint"]);
    let htu = d["token_endpoint"].as_str().unwrap();
    let exchange = |proof: Option<String>| {
        let idp = &idp;
        let (code, token, issuer) = (code.clone(), token.clone(), issuer.clone());
        async move {
            let a = assertion(&issuer);
            let form = [
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
                ("client_id", "demo-rp"),
                ("client_assertion_type", mock_idp::JWT_BEARER),
                ("client_assertion", a.as_str()),
            ];
            match proof {
                Some(p) => idp.post(&token, &form, &[("dpop", &p)]).await,
                None => idp.post(&token, &form, &[]).await,
            }
        }
    };
    let res = exchange(None).await;
    assert_eq!(res.status(), 400, "no DPoP proof: {}", body(&res));
    assert!(
        body(&res).contains("dpop_bound_access_tokens"),
        "{}",
        body(&res)
    );
    let key = Key::new();
    let res = exchange(Some(key.proof_with("POST", htu, json!({}), |_| {}))).await;
    assert_eq!(res.status(), 200, "{}", body(&res));
    let tokens = json(&res);
    assert_eq!(tokens["token_type"], "DPoP");
    let id_token = tokens["id_token"].as_str().unwrap();
    assert_eq!(
        jsonwebtoken::decode_header(id_token).unwrap().alg,
        Algorithm::PS256
    );
    assert_eq!(claims(id_token)["preferred_username"], "alice");
}
