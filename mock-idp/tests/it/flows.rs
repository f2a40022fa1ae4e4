//! The protocol's happy paths, through the routes without sockets.

use mock_idp::{AccessTokenFormat, Placement, RefreshPolicy, SigningAlg, TokenKind, UserConfig};
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn login_page_then_silent_login_with_the_session_cookie() {
    let idp = idp();
    let res = idp.authorize(&[], None).await;
    assert_eq!(res.status(), 200);
    let html = body(&res);
    for needle in [
        "name=\"username\"",
        "value=\"alice\"",
        "value=\"bob\"",
        "value=\"carol\"",
    ] {
        assert!(
            html.contains(needle),
            "{needle} missing from the login page"
        );
    }
    assert!(
        !html.contains("type=\"password\""),
        "no demo user has a password"
    );
    let res = idp
        .post(
            "/login",
            &[("request", &hidden_request_id(&html)), ("username", "bob")],
            &[],
        )
        .await;
    assert_eq!(res.status(), 302, "{}", body(&res));
    let loc = location(&res);
    assert!(
        loc.starts_with(REDIRECT) && param(&loc, "code").is_some(),
        "{loc}"
    );
    let cookie = session_cookie(&res);
    // A second login is silent, as with a real provider.
    let res = idp.authorize(&[("state", "two")], Some(&cookie)).await;
    assert_eq!(res.status(), 302);
    let loc = location(&res);
    assert_eq!(param(&loc, "state").as_deref(), Some("two"));
    let code = param(&loc, "code").unwrap();
    let t = json(&idp.exchange(&code, &[]).await);
    assert_eq!(
        claims(t["id_token"].as_str().unwrap())["preferred_username"],
        "bob"
    );
    // prompt=login and an exceeded max_age show the page again.
    assert_eq!(
        idp.authorize(&[("prompt", "login")], Some(&cookie))
            .await
            .status(),
        200
    );
    idp.tenant.clock.advance(10);
    assert_eq!(
        idp.authorize(&[("max_age", "5")], Some(&cookie))
            .await
            .status(),
        200
    );
    assert_eq!(
        idp.authorize(&[("max_age", "60")], Some(&cookie))
            .await
            .status(),
        302
    );
    assert_eq!(
        idp.authorize(&[("prompt", "none")], Some(&cookie))
            .await
            .status(),
        302
    );
    // A login form is single-use.
    let res = idp
        .post(
            "/login",
            &[("request", &hidden_request_id(&html)), ("username", "bob")],
            &[],
        )
        .await;
    assert_eq!(res.status(), 400);
}

#[tokio::test]
async fn passwords_and_cancel_on_the_login_page() {
    let idp = idp_with(|c| {
        c.users.push(UserConfig {
            username: "dave".into(),
            sub: "dave-sub".into(),
            email: Some("dave@example.com".into()),
            email_verified: None,
            name: None,
            preferred_username: None,
            groups: vec![],
            password: Some("pw".into()),
            claims: Default::default(),
            disabled: false,
        })
    });
    // login_hint does not bypass a password.
    let res = idp.authorize(&[("login_hint", "dave")], None).await;
    assert_eq!(res.status(), 200);
    let html = body(&res);
    assert!(html.contains("type=\"password\"") && html.contains("value=\"dave\""));
    let res = idp
        .post(
            "/login",
            &[
                ("request", &hidden_request_id(&html)),
                ("username", "dave"),
                ("password", "nope"),
            ],
            &[],
        )
        .await;
    assert_eq!(res.status(), 401);
    let html = body(&res);
    assert!(html.contains("Wrong password"));
    let res = idp
        .post(
            "/login",
            &[
                ("request", &hidden_request_id(&html)),
                ("username", "dave"),
                ("password", "pw"),
            ],
            &[],
        )
        .await;
    assert_eq!(res.status(), 302);
    let res = idp.authorize(&[], None).await;
    let res = idp
        .post(
            "/login",
            &[
                ("request", &hidden_request_id(&body(&res))),
                ("cancel", "1"),
            ],
            &[],
        )
        .await;
    assert_eq!(
        param(&location(&res), "error").as_deref(),
        Some("access_denied")
    );
}

#[tokio::test]
async fn id_and_access_tokens_carry_the_required_claims() {
    let idp = idp();
    let t = idp.tokens("bob").await;
    assert_eq!(t["token_type"], "Bearer");
    assert_eq!(t["expires_in"], 3600);
    assert!(
        t["refresh_token"].is_string(),
        "offline_access gives a refresh token"
    );
    let id = claims(t["id_token"].as_str().unwrap());
    for c in [
        "iss",
        "sub",
        "aud",
        "exp",
        "iat",
        "auth_time",
        "nonce",
        "azp",
        "at_hash",
        "sid",
        "preferred_username",
        "name",
        "email",
        "email_verified",
    ] {
        assert!(id.get(c).is_some(), "ID token lacks {c}: {id}");
    }
    assert_eq!(id["nonce"], "no");
    assert_eq!(
        id["at_hash"],
        mock_idp::at_hash(t["access_token"].as_str().unwrap())
    );
    assert_eq!(id["groups"], json!(["admins", "analysts"]));
    let at = t["access_token"].as_str().unwrap();
    assert_eq!(header(at)["typ"], "at+jwt");
    let ac = claims(at);
    assert_eq!(ac["client_id"], "demo-rp");
    assert_eq!(ac["groups"], json!(["admins", "analysts"]));
}

#[tokio::test]
async fn scopes_decide_claims_and_refresh_tokens() {
    let idp = idp();
    let code = idp.code("alice", &[("scope", "openid")]).await;
    let t = json(&idp.exchange(&code, &[]).await);
    assert!(
        t.get("refresh_token").is_none(),
        "no offline_access, no refresh token"
    );
    let id = claims(t["id_token"].as_str().unwrap());
    assert!(
        id.get("email").is_none() && id.get("preferred_username").is_none(),
        "{id}"
    );
    let idp = idp_with(|c| c.clients[0].refresh_tokens = RefreshPolicy::Always);
    let code = idp.code("alice", &[("scope", "openid")]).await;
    assert!(json(&idp.exchange(&code, &[]).await)["refresh_token"].is_string());
    let idp = idp_with(|c| c.clients[0].refresh_tokens = RefreshPolicy::Never);
    assert!(idp.tokens("alice").await.get("refresh_token").is_none());
}

#[tokio::test]
async fn userinfo_get_and_post_and_refresh() {
    let idp = idp();
    let t = idp.tokens("alice").await;
    let at = t["access_token"].as_str().unwrap();
    let res = warp::test::request()
        .path("/userinfo")
        .header("authorization", format!("Bearer {at}"))
        .reply(&idp.routes)
        .await;
    let u = json(&res);
    assert_eq!(u["sub"], "a1b2c3d4-0000-4000-8000-000000000001");
    assert_eq!(u["email"], "alice@example.com");
    assert_eq!(u["preferred_username"], "alice");
    let res = idp.post("/userinfo", &[("access_token", at)], &[]).await;
    assert_eq!(json(&res)["sub"], u["sub"]);
    let res = idp
        .post(
            "/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", t["refresh_token"].as_str().unwrap()),
            ],
            &[("authorization", &basic("demo-rp", "demo-secret"))],
        )
        .await;
    let r = json(&res);
    assert_eq!(claims(r["id_token"].as_str().unwrap())["sub"], u["sub"]);
    assert!(
        r.get("refresh_token").is_none(),
        "not rotated: the RP keeps its token"
    );
}

#[tokio::test]
async fn client_credentials_has_no_user() {
    let idp = idp_with(|c| {
        c.clients[0]
            .grant_types
            .push(mock_idp::GrantType::ClientCredentials)
    });
    let res = idp.client_credentials(Some("api")).await;
    let t = json(&res);
    assert!(
        t.get("id_token").is_none() && t.get("refresh_token").is_none(),
        "{t}"
    );
    assert_eq!(
        claims(t["access_token"].as_str().unwrap())["sub"],
        "demo-rp"
    );
    let res = idp.client_credentials(Some("openid")).await;
    assert_error(&res, 400, "invalid_scope");
    let res = crate::support::idp().client_credentials(None).await;
    assert_error(&res, 400, "unauthorized_client");
}

#[tokio::test]
async fn introspection_and_revocation() {
    let idp = idp();
    let t = idp.tokens("bob").await;
    let creds = [("client_id", "demo-rp"), ("client_secret", "demo-secret")];
    let at = t["access_token"].as_str().unwrap().to_owned();
    let rt = t["refresh_token"].as_str().unwrap().to_owned();
    let i = idp.introspect(&at).await;
    assert_eq!(i["active"], true);
    assert_eq!(i["username"], "bob");
    assert_eq!(i["scope"], "openid profile email offline_access");
    assert_eq!(idp.introspect(&rt).await["token_type"], "refresh_token");
    assert_eq!(idp.introspect("garbage").await, json!({"active": false}));
    let mut p = vec![("token", rt.as_str())];
    p.extend_from_slice(&creds);
    assert_eq!(idp.post("/revoke", &p, &[]).await.status(), 200);
    assert_eq!(idp.introspect(&rt).await["active"], false);
    let mut p = vec![("token", "unknown")];
    p.extend_from_slice(&creds);
    assert_eq!(
        idp.post("/revoke", &p, &[]).await.status(),
        200,
        "RFC 7009 §2.2"
    );
    // Expiry by the clock.
    let t = idp.tokens("alice").await;
    let at = t["access_token"].as_str().unwrap().to_owned();
    idp.tenant.clock.advance(3600);
    assert_eq!(idp.introspect(&at).await["active"], false);
}

#[tokio::test]
async fn end_session_returns_to_the_client_and_ends_the_session() {
    let idp = idp();
    let (cookie, t) = idp.login_with_session("alice").await;
    let q = form(&[
        ("id_token_hint", t["id_token"].as_str().unwrap()),
        ("post_logout_redirect_uri", "http://127.0.0.1:8081/"),
        ("state", "bye"),
    ]);
    let res = idp.get(&format!("/end_session?{q}"), Some(&cookie)).await;
    assert_eq!(res.status(), 302, "{}", body(&res));
    assert_eq!(location(&res), "http://127.0.0.1:8081/?state=bye");
    assert!(session_cookie(&res).ends_with('='), "the cookie is cleared");
    // The journal says whose session ended, for which client, with what.
    let e = idp.tenant.journal(0).pop().unwrap();
    assert_eq!(
        (
            e.user.as_deref(),
            e.client_id.as_deref(),
            e.redirect_uri.as_deref()
        ),
        (
            Some("alice"),
            Some("demo-rp"),
            Some("http://127.0.0.1:8081/")
        )
    );
    assert!(e.id_token_hint && e.state, "{e:?}");
    let res = idp.authorize(&[("prompt", "none")], Some(&cookie)).await;
    assert_eq!(
        param(&location(&res), "error").as_deref(),
        Some("login_required")
    );
    let q = form(&[
        ("client_id", "demo-rp"),
        ("post_logout_redirect_uri", "http://evil.example/"),
    ]);
    let res = idp.get(&format!("/end_session?{q}"), None).await;
    assert_eq!(res.status(), 400);
    assert!(res.headers().get("location").is_none());
    let e = idp.tenant.journal(0).pop().unwrap();
    assert!(
        !e.id_token_hint && e.user.is_none(),
        "no hint, no session: {e:?}"
    );
    assert!(
        e.error_description
            .as_deref()
            .unwrap_or("")
            .contains("not registered"),
        "{e:?}"
    );
}

#[tokio::test]
async fn groups_go_where_the_placements_say() {
    let idp = idp_with(|c| {
        c.groups.placements = vec![
            Placement {
                token: TokenKind::AccessToken,
                pointer: "/resource_access/reinfer.io/roles".into(),
                single_as_string: false,
                omit_when_empty: false,
                joined: None,
            },
            Placement {
                token: TokenKind::IdToken,
                pointer: "/group".into(),
                single_as_string: true,
                omit_when_empty: false,
                joined: None,
            },
            Placement {
                token: TokenKind::Userinfo,
                pointer: "/groups".into(),
                single_as_string: false,
                omit_when_empty: false,
                joined: None,
            },
        ]
    });
    let t = idp.tokens("alice").await;
    let at = claims(t["access_token"].as_str().unwrap());
    assert_eq!(
        at["resource_access"]["reinfer.io"]["roles"],
        json!(["analysts"])
    );
    assert!(at.get("groups").is_none());
    let id = claims(t["id_token"].as_str().unwrap());
    assert_eq!(
        id["group"], "analysts",
        "a single group as a string, as AD FS does"
    );
    let bob = claims(idp.tokens("bob").await["id_token"].as_str().unwrap());
    assert_eq!(bob["group"], json!(["admins", "analysts"]));
    let res = idp
        .post(
            "/userinfo",
            &[("access_token", t["access_token"].as_str().unwrap())],
            &[],
        )
        .await;
    assert_eq!(json(&res)["groups"], json!(["analysts"]));
}

#[tokio::test]
async fn opaque_access_tokens_and_other_algorithms() {
    let idp = idp_with(|c| {
        c.clients[0].access_token_format = AccessTokenFormat::Opaque;
        c.clients[0].signing_alg = Some(SigningAlg::ES256);
    });
    let t = idp.tokens("alice").await;
    let at = t["access_token"].as_str().unwrap();
    assert!(!at.contains('.') && at.len() <= 64, "{at}");
    let res = idp.post("/userinfo", &[("access_token", at)], &[]).await;
    assert_eq!(json(&res)["email"], "alice@example.com");
    let id = t["id_token"].as_str().unwrap();
    assert_eq!(header(id)["alg"], "ES256");
    assert_eq!(header(id)["kid"], "mock-es256-1");
    // Verify with the published JWKS, as an RP would.
    for (alg, kid) in [
        (SigningAlg::ES256, "mock-es256-1"),
        (SigningAlg::PS256, "mock-ps256-1"),
        (SigningAlg::RS256, "mock-rs256-1"),
    ] {
        let idp = idp_with(|c| c.clients[0].signing_alg = Some(alg));
        let id = idp.tokens("bob").await["id_token"]
            .as_str()
            .unwrap()
            .to_owned();
        let jwks: jsonwebtoken::jwk::JwkSet =
            serde_json::from_slice(idp.get("/jwks", None).await.body()).unwrap();
        let jwk = jwks.find(kid).expect("kid published");
        let key = jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap();
        let mut v = jsonwebtoken::Validation::new(alg.jwt());
        v.set_audience(&["demo-rp"]);
        v.set_issuer(&[ISSUER]);
        v.validate_exp = false; // the tenant's clock is fixed in 2027
        jsonwebtoken::decode::<serde_json::Value>(&id, &key, &v)
            .unwrap_or_else(|e| panic!("{alg}: {e}"));
    }
}

#[tokio::test]
async fn an_access_token_is_no_id_token_hint() {
    let idp = idp();
    let (cookie, t) = idp.login_with_session("alice").await;
    let q = form(&[
        ("id_token_hint", t["access_token"].as_str().unwrap()),
        ("post_logout_redirect_uri", "http://127.0.0.1:8081/"),
    ]);
    let res = idp.get(&format!("/end_session?{q}"), Some(&cookie)).await;
    assert_eq!(res.status(), 400, "{}", body(&res));
    assert!(body(&res).contains("not an ID token"), "{}", body(&res));
    // Control: the ID token of the same login is taken.
    let q = form(&[("id_token_hint", t["id_token"].as_str().unwrap())]);
    let res = idp.get(&format!("/end_session?{q}"), Some(&cookie)).await;
    assert!(
        res.status().is_success() || res.status().is_redirection(),
        "{}",
        body(&res)
    );
}
