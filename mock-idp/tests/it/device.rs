//! The device authorization grant (RFC 8628): a device gets a user code, its user allows
//! or denies it at the verification page, and the device's polls are answered
//! `authorization_pending`, `slow_down`, `access_denied`, `expired_token` or tokens.

use serde_json::Value;
use warp::http::Response;

use crate::support::*;

const GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
const SCOPE: &str = "openid profile email offline_access";

/// A device authorization for the built-in public client `demo-cli`.
async fn start(idp: &Idp) -> Value {
    let res = idp
        .post(
            "/device_authorization",
            &[("client_id", "demo-cli"), ("scope", SCOPE)],
            &[],
        )
        .await;
    assert_eq!(res.status(), 200, "{}", body(&res));
    assert_eq!(res.headers()["cache-control"], "no-store");
    json(&res)
}

async fn poll(idp: &Idp, device_code: &str) -> Response<bytes::Bytes> {
    idp.post(
        "/token",
        &[
            ("grant_type", GRANT),
            ("device_code", device_code),
            ("client_id", "demo-cli"),
        ],
        &[],
    )
    .await
}

/// The verification page's path and query for a URI it gave.
fn path(uri: &str) -> String {
    uri.strip_prefix(ISSUER).expect(uri).to_owned()
}

async fn decide(idp: &Idp, user_code: &str, pairs: &[(&str, &str)]) -> Response<bytes::Bytes> {
    let mut form = vec![("user_code", user_code)];
    form.extend_from_slice(pairs);
    idp.post("/device", &form, &[]).await
}

#[tokio::test]
async fn a_device_allowed_at_the_page_gets_its_tokens_once() {
    let idp = idp();
    let auth = start(&idp).await;
    let user_code = auth["user_code"].as_str().unwrap();
    let device_code = auth["device_code"].as_str().unwrap();
    assert!(
        regex_like_user_code(user_code),
        "RFC 8628 §6.1 shape: {user_code}"
    );
    assert_eq!(auth["verification_uri"], format!("{ISSUER}/device"));
    assert_eq!(
        auth["verification_uri_complete"],
        format!("{ISSUER}/device?user_code={user_code}")
    );
    assert_eq!(
        (auth["expires_in"].as_u64(), auth["interval"].as_u64()),
        (Some(600), Some(5))
    );

    assert_error(&poll(&idp, device_code).await, 400, "authorization_pending");

    // The page asks for the code, then shows what the device asks for.
    let page = idp.get("/device", None).await;
    assert_eq!(page.status(), 200);
    assert!(
        body(&page).contains("name=\"user_code\""),
        "{}",
        body(&page)
    );
    let page = idp
        .get(
            &path(auth["verification_uri_complete"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(page.status(), 200, "{}", body(&page));
    let html = body(&page);
    for want in ["demo-cli", SCOPE, user_code, "Deny", ">alice</button>"] {
        assert!(html.contains(want), "{want} in {html}");
    }

    // Typed loosely: lower case, a space instead of the dash.
    let typed = user_code.to_lowercase().replace('-', " ");
    let allowed = decide(&idp, &typed, &[("username", "alice")]).await;
    assert_eq!(allowed.status(), 200, "{}", body(&allowed));
    assert!(
        body(&allowed).contains("Device allowed"),
        "{}",
        body(&allowed)
    );

    idp.tenant.clock.advance(5);
    let res = poll(&idp, device_code).await;
    assert_eq!(res.status(), 200, "{}", body(&res));
    let tokens = json(&res);
    let id = claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(id["aud"], "demo-cli");
    assert_eq!(id["preferred_username"], "alice");
    assert_eq!(id["auth_time"], T0);
    assert!(id.get("nonce").is_none(), "{id}");
    assert_eq!(tokens["scope"], SCOPE);

    // The refresh token works for the public client, and the code is spent.
    let refreshed = idp
        .post(
            "/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
                ("client_id", "demo-cli"),
            ],
            &[],
        )
        .await;
    assert_eq!(refreshed.status(), 200, "{}", body(&refreshed));
    idp.tenant.clock.advance(5);
    let again = assert_error(&poll(&idp, device_code).await, 400, "invalid_grant");
    assert!(again.contains("already redeemed"), "{again}");

    // The journal names the device's user at the page and at the token endpoint.
    let journal = idp.tenant.journal(0);
    let users = |endpoint: &str| -> Vec<Option<String>> {
        journal
            .iter()
            .filter(|e| serde_json::to_value(e.endpoint).unwrap() == endpoint)
            .map(|e| e.user.clone())
            .collect()
    };
    assert!(users("device").contains(&Some("alice".into())));
    assert!(users("token").contains(&Some("alice".into())));
}

fn regex_like_user_code(code: &str) -> bool {
    let (a, b) = code.split_once('-').unwrap_or(("", ""));
    [a, b]
        .iter()
        .all(|h| h.len() == 4 && h.bytes().all(|c| b"BCDFGHJKLMNPQRSTVWXZ".contains(&c)))
}

#[tokio::test]
async fn polling_faster_than_the_interval_is_slow_down_and_the_interval_grows() {
    let idp = idp();
    let auth = start(&idp).await;
    let device_code = auth["device_code"].as_str().unwrap();
    assert_error(&poll(&idp, device_code).await, 400, "authorization_pending");
    let slow = assert_error(&poll(&idp, device_code).await, 400, "slow_down");
    assert!(slow.contains("wait 10 s"), "{slow}");
    // Five seconds are no longer enough; ten are.
    idp.tenant.clock.advance(5);
    assert_error(&poll(&idp, device_code).await, 400, "slow_down");
    idp.tenant.clock.advance(15);
    assert_error(&poll(&idp, device_code).await, 400, "authorization_pending");
}

#[tokio::test]
async fn a_denied_device_is_told_access_denied() {
    let idp = idp();
    let auth = start(&idp).await;
    let res = decide(&idp, auth["user_code"].as_str().unwrap(), &[("deny", "1")]).await;
    assert_eq!(res.status(), 200);
    assert!(body(&res).contains("Device denied"), "{}", body(&res));
    assert_error(
        &poll(&idp, auth["device_code"].as_str().unwrap()).await,
        400,
        "access_denied",
    );
    // A decided code cannot be decided again.
    let again = decide(
        &idp,
        auth["user_code"].as_str().unwrap(),
        &[("username", "bob")],
    )
    .await;
    assert_eq!(again.status(), 400);
    assert!(body(&again).contains("not valid"), "{}", body(&again));
    let entry = idp.tenant.journal(0).into_iter().rev().nth(2).unwrap();
    assert_eq!(entry.error.as_deref(), Some("access_denied"), "{entry:?}");
}

#[tokio::test]
async fn a_code_nobody_allows_in_time_expires() {
    let idp = idp();
    let auth = start(&idp).await;
    idp.tenant.clock.advance(600);
    assert_error(
        &poll(&idp, auth["device_code"].as_str().unwrap()).await,
        400,
        "expired_token",
    );
    let page = idp
        .get(
            &path(auth["verification_uri_complete"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(page.status(), 400);
    assert!(body(&page).contains("has expired"), "{}", body(&page));
}

#[tokio::test]
async fn a_user_deleted_after_allowing_gets_no_tokens() {
    let idp = idp();
    let auth = start(&idp).await;
    decide(
        &idp,
        auth["user_code"].as_str().unwrap(),
        &[("username", "bob")],
    )
    .await;
    idp.tenant.delete_user("bob").unwrap();
    let why = assert_error(
        &poll(&idp, auth["device_code"].as_str().unwrap()).await,
        400,
        "invalid_grant",
    );
    assert!(why.contains("no longer exists"), "{why}");
}

#[tokio::test]
async fn the_page_signs_in_with_a_password_and_says_why_it_refuses() {
    let idp = idp_with(|c| {
        let alice = c.users.iter_mut().find(|u| u.username == "alice").unwrap();
        alice.password = Some("s3cret".into());
    });
    let auth = start(&idp).await;
    let code = auth["user_code"].as_str().unwrap();
    let wrong = decide(&idp, code, &[("username", "alice"), ("password", "nope")]).await;
    assert_eq!(wrong.status(), 401);
    assert!(body(&wrong).contains("Wrong password."), "{}", body(&wrong));
    let nobody = decide(&idp, code, &[("username", "mallory")]).await;
    assert!(
        body(&nobody).contains("There is no user"),
        "{}",
        body(&nobody)
    );
    assert_error(
        &poll(&idp, auth["device_code"].as_str().unwrap()).await,
        400,
        "authorization_pending",
    );
    let right = decide(&idp, code, &[("username", "alice"), ("password", "s3cret")]).await;
    assert_eq!(right.status(), 200, "{}", body(&right));
    let unknown = idp.get("/device?user_code=BBBB-BBBB", None).await;
    assert_eq!(unknown.status(), 400);
}

#[tokio::test]
async fn clients_and_device_codes_that_do_not_belong_are_refused() {
    let idp = idp_with(|c| {
        let demo = c.clients.iter_mut().find(|c| c.id == "demo-rp").unwrap();
        demo.grant_types.push(mock_idp::GrantType::DeviceCode);
    });
    // demo-service may not use the grant; an unknown client is not a client.
    let res = idp
        .post(
            "/device_authorization",
            &[("client_id", "demo-service")],
            &[],
        )
        .await;
    assert_eq!(res.status().as_u16() / 100, 4, "{}", body(&res));
    let unknown = idp
        .post("/device_authorization", &[("client_id", "nobody")], &[])
        .await;
    assert_error(&unknown, 401, "invalid_client");
    let wrong_secret = idp
        .post(
            "/device_authorization",
            &[("client_id", "demo-rp"), ("client_secret", "wrong")],
            &[],
        )
        .await;
    assert_error(&wrong_secret, 401, "invalid_client");

    // demo-cli's device code presented by demo-rp, and no device code at all.
    let auth = start(&idp).await;
    decide(
        &idp,
        auth["user_code"].as_str().unwrap(),
        &[("username", "alice")],
    )
    .await;
    let foreign = idp
        .post(
            "/token",
            &[
                ("grant_type", GRANT),
                ("device_code", auth["device_code"].as_str().unwrap()),
                ("client_id", "demo-rp"),
                ("client_secret", "demo-secret"),
            ],
            &[],
        )
        .await;
    assert_error(&foreign, 400, "invalid_grant");
    let missing = idp
        .post(
            "/token",
            &[("grant_type", GRANT), ("client_id", "demo-cli")],
            &[],
        )
        .await;
    assert_error(&missing, 400, "invalid_request");
    // The rightful device still gets its tokens.
    assert_eq!(
        poll(&idp, auth["device_code"].as_str().unwrap())
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn discovery_lists_the_endpoint_and_grant_only_where_a_client_may_use_them() {
    let with = json(&idp().get("/.well-known/openid-configuration", None).await);
    assert_eq!(
        with["device_authorization_endpoint"],
        format!("{ISSUER}/device_authorization")
    );
    assert!(
        with["grant_types_supported"]
            .as_array()
            .unwrap()
            .contains(&GRANT.into())
    );
    let without = idp_with(|c| c.clients.retain(|c| c.id != "demo-cli"));
    let doc = json(&without.get("/.well-known/openid-configuration", None).await);
    assert!(doc.get("device_authorization_endpoint").is_none(), "{doc}");
    assert!(
        !doc["grant_types_supported"]
            .as_array()
            .unwrap()
            .contains(&GRANT.into())
    );
}

#[tokio::test]
async fn the_page_slows_user_code_guessing_to_five_wrong_codes_a_minute() {
    let idp = idp();
    let auth = start(&idp).await;
    let user_code = auth["user_code"].as_str().unwrap();
    // Control: the right code is shown its request.
    let res = idp
        .get(&format!("/device?user_code={user_code}"), None)
        .await;
    assert_eq!(res.status(), 200, "{}", body(&res));
    // Five wrong codes (typed on GET or POST) are each told the code is not valid...
    for (i, wrong) in [
        "BBBB-BBBB",
        "CCCC-CCCC",
        "DDDD-DDDD",
        "FFFF-FFFF",
        "GGGG-GGGG",
    ]
    .iter()
    .enumerate()
    {
        let res = if i % 2 == 0 {
            decide(&idp, wrong, &[("username", "alice")]).await
        } else {
            idp.get(&format!("/device?user_code={wrong}"), None).await
        };
        assert_ne!(
            res.status(),
            429,
            "wrong code {} of 5 is not yet limited",
            i + 1
        );
        assert!(body(&res).contains("not valid"), "{}", body(&res));
        idp.tenant.clock.advance(1);
    }
    // ...then every code, the right one too, waits for the oldest to be a minute old.
    let res = decide(&idp, user_code, &[("username", "alice")]).await;
    assert_eq!(res.status(), 429, "{}", body(&res));
    assert_eq!(res.headers()["retry-after"], "55");
    assert!(
        body(&res).contains("Too many wrong codes"),
        "{}",
        body(&res)
    );
    let pending = poll(&idp, auth["device_code"].as_str().unwrap()).await;
    assert_error(&pending, 400, "authorization_pending");
    idp.tenant.clock.advance(55);
    let res = decide(&idp, user_code, &[("username", "alice")]).await;
    assert_eq!(res.status(), 200, "{}", body(&res));
    let tokens = poll(&idp, auth["device_code"].as_str().unwrap()).await;
    assert_eq!(tokens.status(), 200, "{}", body(&tokens));
}
