//! The admin API over HTTP (through the routes, no sockets).

use serde_json::json;

use crate::support::*;

async fn admin(
    idp: &Idp,
    method: &str,
    path: &str,
    body: Option<serde_json::Value>,
) -> warp::http::Response<bytes::Bytes> {
    let mut r = warp::test::request()
        .method(method)
        .path(&format!("/admin{path}"));
    if let Some(b) = body {
        r = r
            .header("content-type", "application/json")
            .body(b.to_string());
    }
    r.reply(&idp.routes).await
}

#[tokio::test]
async fn users_can_be_listed_created_changed_and_deleted() {
    let idp = idp();
    let res = admin(&idp, "GET", "/users", None).await;
    let names: Vec<_> = json(&res)
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].clone())
        .collect();
    assert_eq!(names, vec![json!("alice"), json!("bob"), json!("carol")]);

    let res = admin(
        &idp,
        "PUT",
        "/users/dave%40corp",
        Some(json!({"sub": "d-1", "email": "dave@corp.example", "groups": ["ops"]})),
    )
    .await;
    assert_eq!(res.status(), 201, "{}", body(&res));
    let t = idp.tokens("dave@corp").await;
    assert_eq!(
        claims(t["id_token"].as_str().unwrap())["groups"],
        json!(["ops"])
    );

    let res = admin(
        &idp,
        "PATCH",
        "/users/dave%40corp",
        Some(json!({"groups": ["ops", "admins"], "claims": {"locale": "fr"}})),
    )
    .await;
    assert_eq!(json(&res)["groups"], json!(["ops", "admins"]));
    let res = admin(&idp, "GET", "/users/dave%40corp", None).await;
    assert_eq!(json(&res)["claims"]["locale"], "fr");

    let res = admin(&idp, "POST", "/users/dave%40corp/revoke", None).await;
    assert_eq!(json(&res)["revoked"], 1, "one login, one grant");
    let res = admin(&idp, "DELETE", "/users/dave%40corp", None).await;
    assert_eq!(res.status(), 204);
    assert_error(
        &admin(&idp, "DELETE", "/users/dave%40corp", None).await,
        404,
        "not_found",
    );
}

#[tokio::test]
async fn bad_admin_requests_get_clear_errors() {
    let idp = idp();
    let d = assert_error(
        &admin(&idp, "PATCH", "/users/alice", Some(json!({"groupz": []}))).await,
        400,
        "invalid_request",
    );
    assert!(d.contains("groupz"), "{d}");
    let res = warp::test::request()
        .method("PUT")
        .path("/admin/users/x")
        .body("{not json")
        .reply(&idp.routes)
        .await;
    assert!(assert_error(&res, 400, "invalid_request").contains("line 1"));
    let d = assert_error(
        &admin(
            &idp,
            "PUT",
            "/users/x",
            Some(json!({"sub": "a1b2c3d4-0000-4000-8000-000000000001"})),
        )
        .await,
        409,
        "invalid_request",
    );
    assert!(d.contains("alice"), "a sub belongs to one user: {d}");
    assert_error(
        &admin(
            &idp,
            "PUT",
            "/users/x",
            Some(json!({"username": "y", "sub": "s"})),
        )
        .await,
        400,
        "invalid_request",
    );
    assert_error(
        &admin(&idp, "PATCH", "/users/nobody", Some(json!({}))).await,
        404,
        "not_found",
    );
    assert_error(&admin(&idp, "GET", "/nope", None).await, 404, "not_found");
    assert_error(
        &admin(&idp, "DELETE", "/clock", None).await,
        405,
        "invalid_request",
    );
}

#[tokio::test]
async fn the_clock_can_be_read_advanced_and_set() {
    let idp = idp();
    assert_eq!(
        json(&admin(&idp, "GET", "/clock", None).await),
        json!({"now": T0, "fixed": true})
    );
    let res = admin(&idp, "POST", "/clock", Some(json!({"advance": 90}))).await;
    assert_eq!(json(&res)["now"], T0 + 90);
    let res = admin(&idp, "POST", "/clock", Some(json!({"set": 5}))).await;
    assert_eq!(json(&res)["now"], 5);
    assert_error(
        &admin(
            &idp,
            "POST",
            "/clock",
            Some(json!({"advance": 1, "set": 2})),
        )
        .await,
        400,
        "invalid_request",
    );
}

#[tokio::test]
async fn an_admin_token_is_required_when_set() {
    let idp = idp_with_admin_token("s3cret");
    assert_error(
        &admin(&idp, "GET", "/users", None).await,
        401,
        "invalid_token",
    );
    let res = warp::test::request()
        .path("/admin/users")
        .header("authorization", "Bearer s3cret")
        .reply(&idp.routes)
        .await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn a_non_loopback_admin_api_needs_a_token() {
    let e = mock_idp::MockIdp::builder()
        .addr("0.0.0.0:0".parse().unwrap())
        .start()
        .await
        .unwrap_err();
    assert!(e.to_string().contains("--admin-token"), "{e}");
    let idp = mock_idp::MockIdp::builder()
        .addr("0.0.0.0:0".parse().unwrap())
        .admin_token("t")
        .start()
        .await
        .unwrap();
    assert!(idp.issuer().starts_with("http://127.0.0.1:"));
}

#[tokio::test]
async fn key_rotation_publishes_the_new_kid_and_retires_the_old() {
    let idp = idp();
    async fn kids(idp: &Idp) -> Vec<String> {
        let j = json(&idp.get("/jwks", None).await);
        j["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_owned())
            .collect()
    }
    let res = admin(&idp, "POST", "/keys/rotate", Some(json!({"grace": 60}))).await;
    assert_eq!(res.status(), 200, "{}", body(&res));
    let new = json(&res)["kid"].as_str().unwrap().to_owned();
    let published = kids(&idp).await;
    assert!(
        published.contains(&new) && published.contains(&"mock-rs256-1".to_owned()),
        "{published:?}"
    );
    let t = idp.tokens("alice").await;
    assert_eq!(header(t["id_token"].as_str().unwrap())["kid"], new.as_str());
    idp.tenant.clock.advance(60);
    assert!(
        !kids(&idp).await.contains(&"mock-rs256-1".to_owned()),
        "the grace period is over"
    );
    // The JWKS is served from bytes built once per key change: a clock set back into
    // the grace period shows the retiring key again.
    idp.tenant.clock.set(T0 + 59);
    assert!(kids(&idp).await.contains(&"mock-rs256-1".to_owned()));
    idp.tenant.clock.set(T0 + 60);

    let res = admin(
        &idp,
        "POST",
        "/keys/rotate",
        Some(json!({"remove_old": true})),
    )
    .await;
    let newer = json(&res)["kid"].as_str().unwrap().to_owned();
    let published = kids(&idp).await;
    assert!(
        published.contains(&newer) && !published.contains(&new),
        "{published:?}"
    );
    assert_error(
        &admin(&idp, "POST", "/keys/rotate", Some(json!({"alg": "HS256"}))).await,
        400,
        "invalid_request",
    );
}

#[tokio::test]
async fn a_wrong_admin_token_is_journaled_as_a_lint_without_its_value() {
    let idp = idp_with_admin_token("s3cret");
    let (tenant, routes) = (&idp.tenant, &idp.routes);
    let res = warp::test::request()
        .method("DELETE")
        .path("/admin/users/alice")
        .header("authorization", "Bearer guess-0f9a")
        .reply(routes)
        .await;
    assert_eq!(res.status(), 401);
    let journal = tenant.journal(0);
    let entry = journal.last().unwrap();
    assert_eq!(entry.endpoint, mock_idp::journal::Endpoint::Admin);
    assert_eq!(entry.lints, [mock_idp::journal::Lint::WrongAdminToken]);
    let shown = serde_json::to_string(&journal).unwrap();
    assert!(
        !shown.contains("guess-0f9a") && !shown.contains("s3cret"),
        "{shown}"
    );
    assert!(
        tenant.directory().get("alice").is_some(),
        "nothing was done"
    );
}

#[tokio::test]
async fn tenants_past_the_cap_are_refused_with_429() {
    let idp = idp();
    let reg = std::sync::Arc::new(mock_idp::Registry::new(idp.tenant.clone()).with_max_tenants(2));
    let routes = mock_idp::routes_for(reg);
    let create = |name: &'static str| {
        warp::test::request()
            .method("POST")
            .path("/admin/tenants")
            .header("content-type", "application/json")
            .body(format!("{{\"name\":\"{name}\"}}"))
            .reply(&routes)
    };
    assert_eq!(create("one").await.status(), 201);
    assert_eq!(create("two").await.status(), 201);
    let refused = create("three").await;
    assert_eq!(refused.status(), 429);
    let body: serde_json::Value = serde_json::from_slice(refused.body()).unwrap();
    assert_eq!(body["error"], "temporarily_unavailable");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("delete one first")
    );
    let deleted = warp::test::request()
        .method("DELETE")
        .path("/admin/tenants/one")
        .reply(&routes)
        .await;
    assert_eq!(deleted.status(), 204);
    assert_eq!(
        create("three").await.status(),
        201,
        "room again after a delete"
    );
}

#[tokio::test]
async fn the_admin_api_reads_no_file_its_caller_names() {
    let idp = idp();
    let reg = std::sync::Arc::new(mock_idp::Registry::new(idp.tenant.clone()));
    let routes = mock_idp::routes_for(reg);
    let put = |body: serde_json::Value| {
        warp::test::request()
            .method("PUT")
            .path("/admin/tenants/acme")
            .header("content-type", "application/json")
            .body(body.to_string())
            .reply(&routes)
    };
    for body in [
        serde_json::json!({"profile": "/etc/passwd"}),
        serde_json::json!({"config": {"profile": "./x.toml"}}),
    ] {
        let res = put(body).await;
        let text = assert_error(&res, 400, "invalid_request");
        assert!(
            text.contains("send a profile file's text as profile_toml"),
            "{text}"
        );
    }
    // A profile file's text is taken, and shapes the tenant.
    let res = put(serde_json::json!({
        "profile_toml": "name = \"acme\"\nissuer_path = \"/ignored\"\n[endpoints]\ntoken = \"{issuer_path}/oauth/token\"\n"
    }))
    .await;
    assert_eq!(res.status(), 201, "{}", body(&res));
    let disco = warp::test::request()
        .path("/t/acme/.well-known/openid-configuration")
        .reply(&routes)
        .await;
    assert!(
        json(&disco)["token_endpoint"]
            .as_str()
            .unwrap()
            .ends_with("/t/acme/oauth/token")
    );
    let res = put(serde_json::json!({"profile": "okta", "profile_toml": "x = 1"})).await;
    assert_error(&res, 400, "invalid_request");
}
