//! Signed request objects (RFC 9101): a `request` JWT signed by the client (HS256 with its
//! secret, or its registered key) stands for the whole authorization request, its front
//! channel's parameters ignored; by value at `/authorize` and inside a pushed request;
//! every broken object refused with `invalid_request_object`, naming what is wrong; a
//! client or tenant that requires them refuses a plain request.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::support::*;

fn jar_idp(edit: impl FnOnce(&mut mock_idp::Config)) -> Idp {
    idp_with(|c| {
        c.jar.enabled = true;
        edit(c);
    })
}

/// The request demo-rp means, as request object claims.
fn claims(edit: impl FnOnce(&mut Value)) -> Value {
    let mut c = json!({
        "iss": "demo-rp",
        "aud": ISSUER,
        "exp": T0 + 300,
        "client_id": "demo-rp",
        "response_type": "code",
        "redirect_uri": REDIRECT,
        "scope": "openid profile email offline_access",
        "state": "signed-state",
        "nonce": "signed-nonce",
        "login_hint": "alice",
    });
    edit(&mut c);
    c
}

fn hs256(claims: &Value) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(b"demo-secret"),
    )
    .unwrap()
}

async fn authorize_signed(
    idp: &Idp,
    jwt: &str,
    extra: &[(&str, &str)],
) -> warp::http::Response<bytes::Bytes> {
    let mut q = vec![("client_id", "demo-rp"), ("request", jwt)];
    q.extend_from_slice(extra);
    idp.get(&format!("/authorize?{}", form(&q)), None).await
}

#[tokio::test]
async fn a_signed_request_object_stands_for_the_whole_request() {
    let idp = jar_idp(|_| {});
    let d = json(&idp.get("/.well-known/openid-configuration", None).await);
    assert_eq!(d["request_parameter_supported"], true);
    assert_eq!(d["require_signed_request_object"], false);
    assert!(
        d["request_object_signing_alg_values_supported"]
            .to_string()
            .contains("HS256")
    );
    // The front channel's own state is ignored: only the object's parameters count.
    let res = authorize_signed(&idp, &hs256(&claims(|_| {})), &[("state", "front")]).await;
    assert_eq!(res.status(), 302, "{}", body(&res));
    let back = location(&res);
    assert_eq!(
        param(&back, "state").as_deref(),
        Some("signed-state"),
        "{back}"
    );
    let code = param(&back, "code").unwrap();
    let tokens = json(&idp.exchange(&code, &[]).await);
    assert_eq!(
        crate::support::claims(tokens["id_token"].as_str().unwrap())["nonce"],
        "signed-nonce"
    );
    let journal = idp.tenant.journal(0);
    let used = journal
        .iter()
        .find(|e| e.request_object)
        .expect("journaled as a request object");
    assert!(
        used.state && used.nonce,
        "described by the object's parameters"
    );

    // An ES256 object, checked with the client's registered key.
    let pem = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/keys/client-ec-p256.pem"
    ))
    .unwrap();
    let jwks: mock_idp::config::ClientConfig = serde_json::from_value(json!({
        "id": "signer",
        "secret": "s",
        "redirect_uris": [REDIRECT],
        "jwks": { "keys": [{ "kty": "EC", "crv": "P-256", "kid": "k1", "alg": "ES256",
            "x": "wCkdPfPQgT2nbVVJQ8slkA0XHJwxPgt49cddpxD5ctY",
            "y": "gpOEvtFWe25FoJuOgVHU8wrFl6rTjZFzc-ybfeA6erU" }] },
    }))
    .unwrap();
    let idp = jar_idp(|c| c.clients.push(jwks));
    let mut h = Header::new(Algorithm::ES256);
    h.kid = Some("k1".into());
    let object = claims(|c| {
        c["iss"] = json!("signer");
        c["client_id"] = json!("signer");
    });
    let jwt = jsonwebtoken::encode(&h, &object, &EncodingKey::from_ec_pem(&pem).unwrap()).unwrap();
    let res = idp
        .get(
            &format!(
                "/authorize?{}",
                form(&[("client_id", "signer"), ("request", &jwt)])
            ),
            None,
        )
        .await;
    assert_eq!(res.status(), 302, "{}", body(&res));
    assert!(
        param(&location(&res), "code").is_some(),
        "{}",
        location(&res)
    );
}

#[tokio::test]
async fn every_broken_request_object_is_refused_naming_what_is_wrong() {
    let idp = jar_idp(|_| {});
    let wrong_key = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims(|_| {}),
        &EncodingKey::from_secret(b"not-the-secret"),
    )
    .unwrap();
    let unsigned = {
        use base64::Engine;
        let b = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        format!("{}.{}.", b(json!({"alg": "none"})), b(claims(|_| {})))
    };
    let cases = [
        (
            "aud",
            hs256(&claims(|c| c["aud"] = json!("http://other.test"))),
            "aud",
        ),
        (
            "iss",
            hs256(&claims(|c| c["iss"] = json!("someone-else"))),
            "iss",
        ),
        (
            "expired",
            hs256(&claims(|c| c["exp"] = json!(T0 - 600))),
            "expired",
        ),
        (
            "client_id",
            hs256(&claims(|c| c["client_id"] = json!("demo-service"))),
            "must match",
        ),
        ("signature", wrong_key, "signature"),
        ("unsigned", unsigned, "not signed"),
        ("encrypted", "a.b.c.d.e".to_owned(), "encrypted"),
    ];
    for (what, jwt, says) in cases {
        let res = authorize_signed(&idp, &jwt, &[]).await;
        assert_eq!(res.status(), 400, "{what}: {}", body(&res));
        let b = body(&res);
        assert!(
            b.contains("invalid_request_object") && b.contains(says),
            "{what}: {b}"
        );
    }
    // Without [jar] enabled a request object is refused as before (not silently ignored).
    let off = idp_with(|_| {});
    let res = authorize_signed(
        &off,
        &hs256(&claims(|_| {})),
        &[("redirect_uri", REDIRECT), ("response_type", "code")],
    )
    .await;
    assert!(
        location(&res).contains("request_not_supported"),
        "{}",
        location(&res)
    );
}

#[tokio::test]
async fn a_client_that_requires_request_objects_refuses_a_plain_request_and_takes_one_pushed() {
    let idp = jar_idp(|c| {
        c.clients[0].require_signed_request_object = true;
        c.par.enabled = true;
    });
    let d = json(&idp.get("/.well-known/openid-configuration", None).await);
    assert_eq!(d["request_parameter_supported"], true);
    let res = idp.authorize(&[("login_hint", "alice")], None).await;
    assert!(
        location(&res).contains("require_signed_request_object"),
        "{}",
        location(&res)
    );
    // Pushed (RFC 9126 §3): the push carries the object; the browser the request_uri.
    let push = |extra: Vec<(&'static str, String)>| {
        let idp = &idp;
        async move {
            let mut p = vec![
                ("client_id", "demo-rp".to_owned()),
                ("client_secret", "demo-secret".to_owned()),
            ];
            p.extend(extra);
            let p: Vec<(&str, &str)> = p.iter().map(|(k, v)| (*k, v.as_str())).collect();
            idp.post("/par", &p, &[]).await
        }
    };
    let res = push(vec![
        ("response_type", "code".into()),
        ("redirect_uri", REDIRECT.into()),
        ("scope", "openid".into()),
    ])
    .await;
    assert_eq!(res.status(), 400, "a plain push: {}", body(&res));
    assert!(
        body(&res).contains("require_signed_request_object"),
        "{}",
        body(&res)
    );
    let res = push(vec![("request", hs256(&claims(|_| {})))]).await;
    assert_eq!(res.status(), 201, "{}", body(&res));
    let uri = json(&res)["request_uri"].as_str().unwrap().to_owned();
    let res = idp
        .get(
            &format!(
                "/authorize?{}",
                form(&[("client_id", "demo-rp"), ("request_uri", &uri)])
            ),
            None,
        )
        .await;
    assert_eq!(
        param(&location(&res), "state").as_deref(),
        Some("signed-state")
    );
    let push_entry = idp
        .tenant
        .journal(0)
        .into_iter()
        .find(|e| e.request_uri.is_some())
        .unwrap();
    assert!(push_entry.request_object);
    assert_eq!(
        push_entry
            .parameters
            .unwrap()
            .get("nonce")
            .map(String::as_str),
        Some("signed-nonce")
    );
}

/// A stand-in client's request objects by reference: `/req/<name>` answers the object
/// named, with RFC 9101's media type; anything else 404. Its origin.
async fn object_server(objects: Vec<(&'static str, String)>) -> String {
    use warp::Filter;
    let objects = std::sync::Arc::new(objects);
    let route = warp::path!("req" / String).map(move |name: String| {
        match objects.iter().find(|(n, _)| *n == name) {
            Some((_, jwt)) => warp::http::Response::builder()
                .header("content-type", "application/oauth-authz-req+jwt")
                .body(jwt.clone())
                .unwrap(),
            None => warp::http::Response::builder()
                .status(404)
                .body(String::new())
                .unwrap(),
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(warp::serve(route).incoming(listener).run());
    format!("http://{addr}")
}

/// Through the socketed server: the fetch of a request object needs the tenant's own
/// runtime, which `warp::test` gives as well.
async fn authorize_by_reference(idp: &Idp, uri: &str) -> warp::http::Response<bytes::Bytes> {
    idp.get(
        &format!(
            "/authorize?{}",
            form(&[("client_id", "demo-rp"), ("request_uri", uri)])
        ),
        None,
    )
    .await
}

#[tokio::test]
async fn a_request_object_by_reference_is_fetched_from_where_the_client_registered_it() {
    let origin = object_server(vec![
        ("good", hs256(&claims(|_| {}))),
        ("unsigned", {
            let c = claims(|_| {});
            format!(
                "eyJhbGciOiJub25lIn0.{}.",
                base64::Engine::encode(
                    &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                    c.to_string()
                )
            )
        }),
    ])
    .await;
    let registered = format!("{origin}/req/*");
    let idp = jar_idp(|c| c.clients[0].request_uris = vec![registered.clone()]);
    let d = json(&idp.get("/.well-known/openid-configuration", None).await);
    assert_eq!(d["request_uri_parameter_supported"], true);
    assert_eq!(d["require_request_uri_registration"], true);

    let uri = format!("{origin}/req/good");
    let res = authorize_by_reference(&idp, &uri).await;
    assert_eq!(res.status(), 302, "{}", body(&res));
    let back = location(&res);
    assert_eq!(param(&back, "state").as_deref(), Some("signed-state"));
    let code = param(&back, "code").unwrap();
    let tokens = json(&idp.exchange(&code, &[]).await);
    assert_eq!(
        crate::support::claims(tokens["id_token"].as_str().unwrap())["nonce"],
        "signed-nonce"
    );
    let entry = idp
        .tenant
        .journal(0)
        .into_iter()
        .find(|e| e.endpoint == mock_idp::journal::Endpoint::Authorize)
        .unwrap();
    assert_eq!(entry.request_uri.as_deref(), Some(uri.as_str()));
    assert!(entry.request_object && !entry.pushed, "{entry:?}");
    assert_eq!(entry.parameters.as_ref().unwrap()["state"], "signed-state");

    // Each refusal names the request_uri's problem on an error page.
    let not_registered = "http://127.0.0.1:9/elsewhere".to_owned();
    for (uri, error, says) in [
        (not_registered, "invalid_request_uri", "request_uris"),
        (
            format!("{origin}/req/missing"),
            "invalid_request_uri",
            "answered 404",
        ),
        (
            format!("{origin}/req/unsigned"),
            "invalid_request_object",
            "not signed",
        ),
    ] {
        let res = authorize_by_reference(&idp, &uri).await;
        assert_eq!(res.status(), 400, "{uri}: {}", body(&res));
        let page = body(&res);
        assert!(page.contains(error) && page.contains(says), "{uri}: {page}");
    }
    let both = idp
        .get(
            &format!(
                "/authorize?{}",
                form(&[
                    ("client_id", "demo-rp"),
                    ("request_uri", &format!("{origin}/req/good")),
                    ("request", &hs256(&claims(|_| {}))),
                ])
            ),
            None,
        )
        .await;
    assert!(
        body(&both).contains("both request and request_uri"),
        "{}",
        body(&both)
    );

    // Registered without a wildcard: that URI alone.
    let exact = jar_idp(|c| c.clients[0].request_uris = vec![format!("{origin}/req/good")]);
    let res = authorize_by_reference(&exact, &format!("{origin}/req/good#v1")).await;
    assert_eq!(
        res.status(),
        302,
        "a fragment is not compared: {}",
        body(&res)
    );
    let res = authorize_by_reference(&exact, &format!("{origin}/req/unsigned")).await;
    assert_eq!(res.status(), 400);
}
