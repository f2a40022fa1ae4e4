//! Front-Channel Logout: the signed-out page of end_session loads, in an iframe, the
//! `frontchannel_logout_uri` (with `iss` and `sid`) of each client that holds a grant of
//! the session that ended, and of no other.

use crate::support::*;

const FRONT: &str = "http://127.0.0.1:8081/frontchannel-logout?app=1";

/// The iframes' `src` of a page (our own markup: one attribute per iframe).
fn frames(html: &str) -> Vec<String> {
    html.split("<iframe src=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(|s| s.replace("&amp;", "&"))
        .collect()
}

fn with_front_channel() -> Idp {
    idp_with(|c| c.clients[0].frontchannel_logout_uri = Some(FRONT.into()))
}

#[tokio::test]
async fn the_signed_out_page_loads_the_clients_uri_with_iss_and_sid() {
    let idp = with_front_channel();
    let (cookie, t) = idp.login_with_session("alice").await;
    let sid = claims(t["id_token"].as_str().unwrap())["sid"].clone();
    let res = idp.get("/end_session", Some(&cookie)).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let f = frames(&body(&res));
    assert_eq!(f.len(), 1, "{}", body(&res));
    assert!(f[0].starts_with(FRONT), "{f:?}");
    assert_eq!(param(&f[0], "iss").as_deref(), Some(ISSUER));
    assert_eq!(param(&f[0], "sid").as_deref(), sid.as_str());
    assert_eq!(
        param(&f[0], "app").as_deref(),
        Some("1"),
        "its own query kept"
    );
    let d = json(&idp.get("/.well-known/openid-configuration", None).await);
    assert_eq!(d["frontchannel_logout_supported"], true);
    assert_eq!(d["frontchannel_logout_session_supported"], true);
}

#[tokio::test]
async fn with_a_post_logout_redirect_the_page_loads_the_frames_then_links_back() {
    let idp = with_front_channel();
    let (cookie, t) = idp.login_with_session("alice").await;
    let hint = t["id_token"].as_str().unwrap();
    let q = form(&[
        ("id_token_hint", hint),
        ("post_logout_redirect_uri", "http://127.0.0.1/"),
        ("state", "s1"),
    ]);
    let res = idp.get(&format!("/end_session?{q}"), Some(&cookie)).await;
    assert_eq!(
        res.status(),
        200,
        "the frames must load before the browser leaves"
    );
    let html = body(&res);
    assert_eq!(frames(&html).len(), 1);
    assert!(
        html.contains("href=\"http://127.0.0.1/?state=s1\""),
        "{html}"
    );
}

#[tokio::test]
async fn no_frame_without_a_session_a_registration_or_a_grant_of_that_session() {
    // No IdP session cookie: nothing ended, nothing to tell.
    let idp = with_front_channel();
    idp.login_with_session("alice").await;
    let res = idp.get("/end_session", None).await;
    assert!(frames(&body(&res)).is_empty());
    // Another session of the same user is not told.
    let (cookie_a, _) = idp.login_with_session("alice").await;
    let (cookie_b, _) = idp.login_with_session("alice").await;
    let res = idp.get("/end_session", Some(&cookie_a)).await;
    assert_eq!(frames(&body(&res)).len(), 1);
    let res = idp.get("/end_session", Some(&cookie_a)).await;
    assert!(frames(&body(&res)).is_empty(), "that session has ended");
    let res = idp.get("/end_session", Some(&cookie_b)).await;
    assert_eq!(frames(&body(&res)).len(), 1);
    // A client that registered none: the plain page, or the redirect.
    let plain = crate::support::idp();
    let (cookie, _) = plain.login_with_session("alice").await;
    let res = plain.get("/end_session", Some(&cookie)).await;
    assert!(frames(&body(&res)).is_empty());
}

#[test]
fn a_bad_frontchannel_logout_uri_is_named() {
    let mut c = mock_idp::Config::builtin();
    c.clients[0].frontchannel_logout_uri = Some("http://x/#frag".into());
    let e = c.check().expect_err("must be refused");
    assert!(e.to_string().contains("frontchannel_logout_uri"), "{e}");
}
