//! Back-Channel Logout: a client with a `backchannel_logout_uri` gets a signed logout token
//! when its user's session ends at the IdP (RP-initiated logout) or the admin disables,
//! deletes or revokes the user; the delivery and the RP's answer are journaled.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mock_idp::BACKCHANNEL_LOGOUT_EVENT as EVENT;
use mock_idp::journal::Endpoint;
use serde_json::Value;

use crate::support::*;

/// A stand-in RP's back-channel endpoint: the logout tokens it received.
async fn receiver() -> (String, Arc<Mutex<Vec<String>>>) {
    use warp::Filter;
    let got: Arc<Mutex<Vec<String>>> = Arc::default();
    let keep = got.clone();
    let route = warp::path!("backchannel-logout")
        .and(warp::post())
        .and(warp::body::form())
        .map(move |f: std::collections::HashMap<String, String>| {
            keep.lock().unwrap().push(f["logout_token"].clone());
            warp::http::StatusCode::OK
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/backchannel-logout",
        listener.local_addr().unwrap()
    );
    tokio::spawn(warp::serve(route).incoming(listener).run());
    (url, got)
}

/// Waits, as long as the IdP's own delivery timeout at most, for `n` tokens.
async fn tokens(got: &Arc<Mutex<Vec<String>>>, n: usize) -> Vec<String> {
    let deadline = Instant::now() + mock_idp::BACKCHANNEL_DELIVERY_TIMEOUT;
    loop {
        let now = got.lock().unwrap().clone();
        if now.len() >= n || Instant::now() > deadline {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn deliveries(idp: &Idp, n: usize) -> Vec<mock_idp::journal::Entry> {
    let deadline = Instant::now() + mock_idp::BACKCHANNEL_DELIVERY_TIMEOUT + Duration::from_secs(1);
    loop {
        let d: Vec<_> = idp
            .tenant
            .journal(0)
            .into_iter()
            .filter(|e| e.endpoint == Endpoint::BackchannelLogout)
            .collect();
        if d.len() >= n || Instant::now() > deadline {
            return d;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The logout token's header and claims, its signature checked with the tenant's key.
fn verified(idp: &Idp, token: &str) -> (Value, Value) {
    let h = header(token);
    let key = idp
        .tenant
        .key_by_kid(h["kid"].as_str().unwrap())
        .expect("signed by a published key");
    let claims = key
        .verify::<Value>(token)
        .expect("a valid signature")
        .claims;
    (h, claims)
}

#[tokio::test]
async fn logging_out_at_the_idp_posts_a_logout_token_to_the_rp() {
    let (url, got) = receiver().await;
    let idp = idp_with(|c| c.clients[0].backchannel_logout_uri = Some(url.clone()));
    let (cookie, t) = idp.login_with_session("alice").await;
    let id = claims(t["id_token"].as_str().unwrap());
    let res = idp.get("/end_session", Some(&cookie)).await;
    assert_eq!(res.status(), 200);
    let received = tokens(&got, 1).await;
    assert_eq!(received.len(), 1, "one logout token");
    let (h, c) = verified(&idp, &received[0]);
    assert_eq!(h["typ"], "logout+jwt");
    assert_eq!(c["iss"], ISSUER);
    assert_eq!(c["aud"], "demo-rp");
    assert_eq!(c["sub"], id["sub"]);
    assert_eq!(c["sid"], id["sid"], "the session that ended");
    assert!(c["events"][EVENT].is_object(), "{c}");
    assert!(
        c.get("nonce").is_none(),
        "§2.4: a logout token has no nonce"
    );
    assert!(c["jti"].is_string() && c["exp"].as_i64() > c["iat"].as_i64());
    let d = deliveries(&idp, 1).await;
    assert_eq!(d.len(), 1);
    assert_eq!(
        (d[0].status, d[0].client_id.as_deref()),
        (200, Some("demo-rp"))
    );
    assert_eq!(d[0].user.as_deref(), Some("alice"));
}

#[tokio::test]
async fn the_admin_disabling_or_deleting_a_user_tells_the_rp() {
    let (url, got) = receiver().await;
    let idp = idp_with(|c| c.clients[0].backchannel_logout_uri = Some(url.clone()));
    let bob = claims(idp.tokens("bob").await["id_token"].as_str().unwrap());
    let carol = claims(idp.tokens("carol").await["id_token"].as_str().unwrap());
    let disable = mock_idp::UserPatch {
        disabled: Some(true),
        ..Default::default()
    };
    idp.tenant.patch_user("bob", disable).unwrap();
    idp.tenant.delete_user("carol").unwrap();
    let received = tokens(&got, 2).await;
    let subs: Vec<Value> = received
        .iter()
        .map(|t| verified(&idp, t).1["sub"].clone())
        .collect();
    assert_eq!(received.len(), 2, "{subs:?}");
    assert!(
        subs.contains(&bob["sub"]) && subs.contains(&carol["sub"]),
        "{subs:?}"
    );
    let d = deliveries(&idp, 2).await;
    assert!(d.iter().all(|e| e.status == 200), "{d:?}");
}

#[tokio::test]
async fn a_failed_delivery_is_journaled_with_its_reason() {
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/bc", closed.local_addr().unwrap());
    drop(closed);
    let idp = idp_with(|c| c.clients[0].backchannel_logout_uri = Some(url.clone()));
    idp.tokens("alice").await;
    idp.tenant.revoke_user("alice").unwrap();
    let d = deliveries(&idp, 1).await;
    assert_eq!(d.len(), 1);
    let error = d[0].error.as_deref().unwrap_or_default();
    assert!(error.starts_with("delivery failed"), "{error}");
}

#[test]
fn only_plain_http_uris_are_accepted() {
    let mut c = mock_idp::Config::builtin();
    c.clients[0].backchannel_logout_uri = Some("https://rp.example/bc".into());
    let e = c.check().unwrap_err().to_string();
    assert!(e.contains("backchannel_logout_uri"), "{e}");
}

#[tokio::test]
async fn armed_faults_break_one_property_of_the_logout_token() {
    use mock_idp::faults::{Fault, FaultScope};
    let (url, got) = receiver().await;
    let idp = idp_with(|c| c.clients[0].backchannel_logout_uri = Some(url.clone()));
    // Whether a token (header, claims, signature valid) shows the fault.
    type Shows = fn(&Value, &Value, bool) -> bool;
    let cases: &[(Fault, Shows)] = &[
        (Fault::LogoutTokenAlgNone, |h, _, _| h["alg"] == "none"),
        (Fault::LogoutTokenHs256PublicKey, |h, _, _| {
            h["alg"] == "HS256"
        }),
        (Fault::LogoutTokenBadSignature, |_, _, valid| !valid),
        (Fault::LogoutTokenWrongIss, |_, c, valid| {
            valid && c["iss"] != ISSUER
        }),
        (Fault::LogoutTokenWrongAud, |_, c, valid| {
            valid && c["aud"] == "another-client"
        }),
        (Fault::LogoutTokenNoEvents, |_, c, valid| {
            valid && c.get("events").is_none()
        }),
        (Fault::LogoutTokenWrongEvent, |_, c, valid| {
            valid && c["events"].is_object() && c["events"].get(EVENT).is_none()
        }),
        (Fault::LogoutTokenNonce, |_, c, valid| {
            valid && c["nonce"].is_string()
        }),
    ];
    for (i, (fault, broken)) in cases.iter().enumerate() {
        idp.tokens("alice").await;
        let scope = FaultScope {
            times: Some(1),
            ..Default::default()
        };
        idp.tenant.arm_fault(fault.clone(), scope);
        idp.tenant.revoke_user("alice").unwrap();
        let received = tokens(&got, i + 1).await;
        assert_eq!(received.len(), i + 1, "{fault:?}");
        let token = &received[i];
        let h = header(token);
        let c = claims(token);
        let key = idp.tenant.key_by_kid(h["kid"].as_str().unwrap_or("-"));
        let valid = key.is_some_and(|k| k.verify::<Value>(token).is_ok());
        assert!(broken(&h, &c, valid), "{fault:?}: {h} {c}");
        // Everything else as in a good token.
        assert_eq!(h["typ"], "logout+jwt", "{fault:?}");
        assert!(
            c["sub"].is_string() && c["jti"].is_string(),
            "{fault:?}: {c}"
        );
        let journaled = deliveries(&idp, i + 1).await;
        assert!(
            journaled.iter().any(|e| e.faults.contains(fault)),
            "{fault:?} journaled"
        );
    }
}

#[tokio::test]
async fn the_not_sent_fault_keeps_the_token_and_journals_why() {
    use mock_idp::faults::{Fault, FaultScope};
    let (url, got) = receiver().await;
    let idp = idp_with(|c| c.clients[0].backchannel_logout_uri = Some(url.clone()));
    idp.tokens("alice").await;
    idp.tokens("bob").await;
    let scope = FaultScope {
        user: Some("alice".into()),
        ..Default::default()
    };
    idp.tenant.arm_fault(Fault::LogoutTokenNotSent, scope);
    idp.tenant.revoke_user("alice").unwrap();
    // Control: bob, without the fault, is told.
    idp.tenant.revoke_user("bob").unwrap();
    let d = deliveries(&idp, 2).await;
    let of = |u: &str| d.iter().find(|e| e.user.as_deref() == Some(u)).unwrap();
    assert_eq!(of("alice").status, 0);
    assert_eq!(
        of("alice").error.as_deref(),
        Some("not sent: fault logout_token_not_sent")
    );
    assert_eq!(of("bob").status, 200);
    let received = tokens(&got, 1).await;
    assert_eq!(received.len(), 1, "only bob's token was sent");
    assert_eq!(
        claims(&received[0])["sub"],
        claims(idp.tokens("bob").await["id_token"].as_str().unwrap())["sub"]
    );
}
