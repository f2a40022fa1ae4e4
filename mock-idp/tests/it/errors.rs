//! Bad input gets the RFC 6749 / RFC 6750 error, with a description.

use mock_idp::{AuthMethod, ClientConfig, GrantType};

use crate::support::*;

fn post_only_client() -> ClientConfig {
    ClientConfig {
        secret: Some("s3cret".into()),
        redirect_uris: vec![REDIRECT.into()],
        auth_methods: vec![AuthMethod::ClientSecretPost],
        grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
        ..ClientConfig::new("post-only")
    }
}

#[tokio::test]
async fn malformed_forms_are_invalid_request() {
    let idp = idp();
    let res = warp::test::request()
        .method("POST")
        .path("/token")
        .header("content-type", "application/json")
        .body(r#"{"grant_type":"authorization_code"}"#)
        .reply(&idp.routes)
        .await;
    assert_error(&res, 400, "invalid_request");
    let res = idp.post("/token", &[("client_id", "demo-rp")], &[]).await;
    assert!(assert_error(&res, 400, "invalid_request").contains("grant_type"));
    let res = idp
        .post(
            "/token",
            &[("grant_type", "password"), ("grant_type", "password")],
            &[],
        )
        .await;
    assert!(assert_error(&res, 400, "invalid_request").contains("more than once"));
    let res = warp::test::request()
        .method("POST")
        .path("/token")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(vec![b'a', b'=', 0xff, 0xfe])
        .reply(&idp.routes)
        .await;
    assert!(assert_error(&res, 400, "invalid_request").contains("UTF-8"));
}

#[tokio::test]
async fn unsupported_grant_type() {
    let res = idp()
        .post(
            "/token",
            &[("grant_type", "password"), ("client_id", "demo-rp")],
            &[],
        )
        .await;
    assert_error(&res, 400, "unsupported_grant_type");
}

#[tokio::test]
async fn unknown_client_and_wrong_secret_are_invalid_client() {
    let idp = idp();
    let code = idp.code("alice", &[]).await;
    let res = idp
        .post(
            "/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("client_id", "nobody"),
                ("client_secret", "x"),
            ],
            &[],
        )
        .await;
    assert!(assert_error(&res, 401, "invalid_client").contains("unknown client"));
    let res = idp
        .post(
            "/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
            ],
            &[("authorization", &basic("demo-rp", "wrong"))],
        )
        .await;
    assert!(assert_error(&res, 401, "invalid_client").contains("wrong client_secret"));
    let challenge = res
        .headers()
        .get("www-authenticate")
        .expect("a Basic challenge");
    assert!(challenge.to_str().unwrap().starts_with("Basic"));
    // The code was not spent by the failed attempts.
    assert_eq!(idp.exchange(&code, &[]).await.status(), 200);
}

#[tokio::test]
async fn an_undeclared_auth_method_is_refused() {
    let idp = idp_with(|c| c.clients.push(post_only_client()));
    let res = idp
        .post(
            "/token",
            &[("grant_type", "refresh_token"), ("refresh_token", "x")],
            &[("authorization", &basic("post-only", "s3cret"))],
        )
        .await;
    let d = assert_error(&res, 401, "invalid_client");
    assert!(
        d.contains("client_secret_post") && d.contains("client_secret_basic"),
        "{d}"
    );
    let res = idp
        .post(
            "/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", "x"),
                ("client_id", "post-only"),
            ],
            &[],
        )
        .await;
    assert!(assert_error(&res, 401, "invalid_client").contains("none"));
}

#[tokio::test]
async fn two_auth_methods_at_once_are_refused() {
    let res = idp()
        .post(
            "/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", "x"),
                ("client_secret", "demo-secret"),
            ],
            &[("authorization", &basic("demo-rp", "demo-secret"))],
        )
        .await;
    assert_error(&res, 400, "invalid_request");
}

#[tokio::test]
async fn unregistered_redirect_uri_gets_a_page_not_a_redirect() {
    let idp = idp();
    for uri in [
        "http://evil.example/login/oauth2/callback",
        "http://127.0.0.1:8081/other",
    ] {
        let res = idp.authorize(&[("redirect_uri", uri)], None).await;
        assert_eq!(res.status(), 400);
        assert!(res.headers().get("location").is_none());
        assert!(body(&res).contains("is not registered"), "{}", body(&res));
    }
    let res = idp.authorize(&[("client_id", "nobody")], None).await;
    assert_eq!(res.status(), 400);
    assert!(res.headers().get("location").is_none());
    assert!(body(&res).contains("unknown client_id"));
}

#[tokio::test]
async fn authorize_errors_go_back_to_the_client_with_state() {
    let idp = idp();
    for (extra, error) in [
        (
            vec![("response_type", "token")],
            "unsupported_response_type",
        ),
        (vec![("scope", "")], "invalid_scope"),
        (vec![("prompt", "none")], "login_required"),
        (vec![("prompt", "none login")], "invalid_request"),
        (vec![("prompt", "sometimes")], "invalid_request"),
        (vec![("max_age", "soon")], "invalid_request"),
        (vec![("code_challenge", "short")], "invalid_request"),
        (vec![("code_challenge_method", "S256")], "invalid_request"),
        (vec![("request", "eyJ...")], "request_not_supported"),
        (vec![("response_mode", "fragment")], "invalid_request"),
    ] {
        let res = idp.authorize(&extra, None).await;
        assert_eq!(res.status(), 302, "{extra:?}: {}", body(&res));
        let loc = location(&res);
        assert!(loc.starts_with(REDIRECT), "{loc}");
        assert_eq!(
            param(&loc, "error").as_deref(),
            Some(error),
            "{extra:?}: {loc}"
        );
        assert_eq!(param(&loc, "state").as_deref(), Some("st"));
        assert_eq!(param(&loc, "iss").as_deref(), Some(ISSUER));
        assert!(param(&loc, "error_description").is_some());
    }
}

#[tokio::test]
async fn public_clients_must_use_pkce() {
    let idp = idp_with(|c| {
        let mut public = post_only_client();
        public.id = "spa".into();
        public.secret = None;
        public.auth_methods = vec![AuthMethod::None];
        c.clients.push(public);
    });
    let res = idp
        .authorize(&[("client_id", "spa"), ("login_hint", "alice")], None)
        .await;
    let loc = location(&res);
    assert_eq!(param(&loc, "error").as_deref(), Some("invalid_request"));
    assert!(param(&loc, "error_description").unwrap().contains("PKCE"));
}

#[tokio::test]
async fn a_code_works_once() {
    let idp = idp();
    let code = idp.code("alice", &[]).await;
    let first = json(&idp.exchange(&code, &[]).await);
    let res = idp.exchange(&code, &[]).await;
    assert!(assert_error(&res, 400, "invalid_grant").contains("already used"));
    // RFC 6749 §4.1.2: what the first redemption issued is revoked.
    let info = idp
        .introspect(first["access_token"].as_str().unwrap())
        .await;
    assert_eq!(info["active"], false);
}

#[tokio::test]
async fn an_expired_code_is_refused() {
    let idp = idp();
    let code = idp.code("alice", &[]).await;
    idp.tenant.clock.advance(61);
    let res = idp.exchange(&code, &[]).await;
    assert!(assert_error(&res, 400, "invalid_grant").contains("expired"));
}

#[tokio::test]
async fn codes_are_bound_to_redirect_uri_and_client() {
    let idp = idp_with(|c| c.clients.push(post_only_client()));
    let code = idp.code("alice", &[]).await;
    let res = idp.exchange(&code, &[]).await;
    assert_eq!(res.status(), 200);
    let code = idp.code("alice", &[]).await;
    let res = idp
        .post(
            "/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                (
                    "redirect_uri",
                    "http://127.0.0.1:9999/login/oauth2/callback",
                ),
                ("client_id", "demo-rp"),
                ("client_secret", "demo-secret"),
            ],
            &[],
        )
        .await;
    assert!(assert_error(&res, 400, "invalid_grant").contains("redirect_uri"));
    let res = idp
        .post(
            "/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("client_id", "post-only"),
                ("client_secret", "s3cret"),
            ],
            &[],
        )
        .await;
    assert!(assert_error(&res, 400, "invalid_grant").contains("another client"));
}

#[tokio::test]
async fn a_wrong_or_missing_pkce_verifier_is_refused() {
    let idp = idp();
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let challenge = [
        (
            "code_challenge",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        ),
        ("code_challenge_method", "S256"),
    ];
    let code = idp.code("alice", &challenge).await;
    let res = idp
        .exchange(&code, &[("code_verifier", &"x".repeat(43))])
        .await;
    assert!(assert_error(&res, 400, "invalid_grant").contains("code_verifier"));
    let code = idp.code("alice", &challenge).await;
    let res = idp.exchange(&code, &[]).await;
    assert!(assert_error(&res, 400, "invalid_grant").contains("code_verifier is required"));
    let code = idp.code("alice", &[]).await;
    let res = idp.exchange(&code, &[("code_verifier", verifier)]).await;
    assert!(assert_error(&res, 400, "invalid_grant").contains("no code_challenge"));
    let code = idp.code("alice", &challenge).await;
    assert_eq!(
        idp.exchange(&code, &[("code_verifier", verifier)])
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn bad_bearer_tokens_get_rfc6750_challenges() {
    let idp = idp();
    let res = idp.get("/userinfo", None).await;
    assert_error(&res, 401, "invalid_token");
    assert_eq!(
        res.headers()["www-authenticate"],
        "Bearer realm=\"mock-idp\""
    );
    for auth in ["Bearer nonsense", "Basic abc", "Bearer"] {
        let res = warp::test::request()
            .path("/userinfo")
            .header("authorization", auth)
            .reply(&idp.routes)
            .await;
        assert_error(&res, 401, "invalid_token");
        let challenge = res.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
    }
}

#[tokio::test]
async fn refresh_tokens_are_checked() {
    let idp = idp_with(|c| c.clients.push(post_only_client()));
    let t = idp.tokens("alice").await;
    let rt = t["refresh_token"].as_str().unwrap();
    let refresh =
        |client: &'static str, secret: &'static str, extra: Vec<(&'static str, &'static str)>| {
            let mut p = vec![
                ("grant_type", "refresh_token"),
                ("refresh_token", rt),
                ("client_id", client),
                ("client_secret", secret),
            ];
            p.extend(extra);
            let idp = &idp;
            async move { idp.post("/token", &p, &[]).await }
        };
    let res = refresh("post-only", "s3cret", vec![]).await;
    assert!(assert_error(&res, 400, "invalid_grant").contains("another client"));
    let res = refresh("demo-rp", "demo-secret", vec![("scope", "openid admin")]).await;
    assert_error(&res, 400, "invalid_scope");
    let res = refresh("demo-rp", "demo-secret", vec![]).await;
    assert_eq!(res.status(), 200);
    idp.tenant.clock.advance(30 * 24 * 3600);
    let res = refresh("demo-rp", "demo-secret", vec![]).await;
    assert!(assert_error(&res, 400, "invalid_grant").contains("expired"));
}

#[tokio::test]
async fn unknown_paths_and_methods_answer_json() {
    let idp = idp();
    let res = idp.get("/nope", None).await;
    assert_error(&res, 404, "invalid_request");
    let res = idp.get("/token", None).await;
    assert_error(&res, 405, "invalid_request");
}
