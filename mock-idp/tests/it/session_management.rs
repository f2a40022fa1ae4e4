//! OpenID Connect Session Management 1.0: with `[session_management] enabled`, each
//! authorization response carries a `session_state` that the check-session iframe can
//! recompute from the OP browser state cookie (checked here by the formula of §3, computed
//! independently), the logout clears that cookie, and discovery names the iframe; off, none
//! of it. (The iframe's script runs in a real browser in `tests/browser`.)

use aws_lc_rs::digest::{SHA256, digest};

use crate::support::*;

fn cookies(res: &warp::http::Response<bytes::Bytes>) -> Vec<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[tokio::test]
async fn session_state_is_what_the_iframe_recomputes_from_the_browser_state() {
    let idp = idp_with(|c| c.session_management.enabled = true);
    let d = json(&idp.get("/.well-known/openid-configuration", None).await);
    assert_eq!(d["check_session_iframe"], format!("{ISSUER}/check_session"));

    let res = idp.authorize(&[("login_hint", "alice")], None).await;
    let back = location(&res);
    let state = param(&back, "session_state").expect("session_state");
    let (hash, salt) = state.split_once('.').expect("hash.salt");
    let opbs = cookies(&res)
        .iter()
        .find_map(|c| c.strip_prefix("mockidp_session_opbs="))
        .map(|c| c.split(';').next().unwrap().to_owned())
        .expect("the OP browser state cookie");
    assert!(
        !cookies(&res)
            .iter()
            .any(|c| c.starts_with("mockidp_session_opbs=") && c.contains("HttpOnly")),
        "the iframe's script reads it"
    );
    let want = digest(
        &SHA256,
        format!("demo-rp http://127.0.0.1:8081 {opbs} {salt}").as_bytes(),
    );
    assert_eq!(hash, hex(want.as_ref()), "Session Management §3");

    let page = idp.get("/check_session", None).await;
    assert_eq!(page.status(), 200);
    assert!(
        body(&page).contains("mockidp_session_opbs"),
        "{}",
        body(&page)
    );

    // The logout clears the browser state: the iframe's answer becomes "changed".
    let session = session_cookie(&res);
    let out = idp.get("/end_session", Some(&session)).await;
    assert!(
        cookies(&out)
            .iter()
            .any(|c| c.starts_with("mockidp_session_opbs=;") && c.contains("Max-Age=0")),
        "{:?}",
        cookies(&out)
    );
}

#[tokio::test]
async fn without_session_management_there_is_no_session_state_nor_iframe() {
    let idp = idp();
    let d = json(&idp.get("/.well-known/openid-configuration", None).await);
    assert!(d.get("check_session_iframe").is_none());
    let res = idp.authorize(&[("login_hint", "alice")], None).await;
    assert!(param(&location(&res), "session_state").is_none());
    assert!(!cookies(&res).iter().any(|c| c.contains("_opbs")));
    assert_eq!(idp.get("/check_session", None).await.status(), 404);
}
