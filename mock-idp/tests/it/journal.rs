//! The journal records every protocol request, typed, bounded, with lints.

use mock_idp::AuthMethod;
use mock_idp::journal::{Endpoint, Lint};
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn a_login_refresh_and_userinfo_are_recorded() {
    let idp = idp();
    let t = idp.tokens("bob").await;
    idp.post(
        "/userinfo",
        &[("access_token", t["access_token"].as_str().unwrap())],
        &[],
    )
    .await;
    idp.post(
        "/token",
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", t["refresh_token"].as_str().unwrap()),
        ],
        &[("authorization", &basic("demo-rp", "demo-secret"))],
    )
    .await;
    let j = idp.tenant.journal(0);
    let endpoints: Vec<_> = j.iter().map(|e| e.endpoint).collect();
    assert_eq!(
        endpoints,
        vec![
            Endpoint::Authorize,
            Endpoint::Token,
            Endpoint::Userinfo,
            Endpoint::Token
        ]
    );
    let (authorize, code, info, refresh) = (&j[0], &j[1], &j[2], &j[3]);
    assert_eq!(authorize.user.as_deref(), Some("bob"));
    assert_eq!(authorize.redirect_uri.as_deref(), Some(REDIRECT));
    assert!(authorize.state && authorize.nonce);
    assert_eq!(authorize.lints, vec![Lint::NoPkce]);
    assert_eq!(authorize.status, 302);
    assert_eq!(code.auth_method, Some(AuthMethod::ClientSecretPost));
    assert_eq!(code.grant_type.as_deref(), Some("authorization_code"));
    assert_eq!(code.user.as_deref(), Some("bob"));
    assert_eq!((code.status, code.error.as_deref()), (200, None));
    assert_eq!(info.user.as_deref(), Some("bob"));
    assert_eq!(refresh.auth_method, Some(AuthMethod::ClientSecretBasic));
    assert_eq!(refresh.grant_type.as_deref(), Some("refresh_token"));
    let seqs: Vec<_> = j.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, vec![1, 2, 3, 4]);
    assert!(j.iter().all(|e| e.time == T0));
}

#[tokio::test]
async fn failures_and_lints_are_recorded() {
    let idp = idp_with(|c| c.clients[0].auth_methods = vec![AuthMethod::ClientSecretPost]);
    idp.get(
        &format!(
            "/authorize?{}",
            form(&[
                ("client_id", "demo-rp"),
                ("client_secret", "demo-secret"),
                ("redirect_uri", REDIRECT),
                ("response_type", "token"),
                ("scope", "openid")
            ])
        ),
        None,
    )
    .await;
    idp.authorize(&[("client_id", "nobody")], None).await;
    idp.post(
        "/token",
        &[("grant_type", "refresh_token"), ("refresh_token", "x")],
        &[("authorization", &basic("demo-rp", "demo-secret"))],
    )
    .await;
    let j = idp.tenant.journal(0);
    assert_eq!(j[0].error.as_deref(), Some("unsupported_response_type"));
    assert_eq!(
        j[0].lints,
        vec![
            Lint::ClientSecretInUrl,
            Lint::NoState,
            Lint::NoNonce,
            Lint::NoPkce
        ]
    );
    assert_eq!(
        (j[1].status, j[1].error.as_deref()),
        (400, Some("invalid_client"))
    );
    assert_eq!(
        (j[2].status, j[2].error.as_deref()),
        (401, Some("invalid_client"))
    );
    assert_eq!(j[2].lints, vec![Lint::UndeclaredAuthMethod]);
}

#[tokio::test]
async fn the_journal_is_bounded_and_served_by_the_admin_api() {
    let idp = idp_with(|c| c.journal_capacity = 5);
    for _ in 0..10 {
        idp.get("/userinfo", None).await;
    }
    let seqs: Vec<_> = idp.tenant.journal(0).iter().map(|e| e.seq).collect();
    assert_eq!(seqs, vec![6, 7, 8, 9, 10]);
    assert_eq!(idp.tenant.journal(8).len(), 2);
    let res = idp.get("/admin/journal", None).await;
    let j = json(&res);
    assert_eq!(j.as_array().unwrap().len(), 5);
    assert_eq!(j[0]["endpoint"], "userinfo");
    assert_eq!(j[0]["error"], "invalid_token");
    assert_eq!(j[0]["lints"], json!([]));
    let res = warp::test::request()
        .method("DELETE")
        .path("/admin/journal")
        .reply(&idp.routes)
        .await;
    assert_eq!(res.status(), 204);
    assert!(idp.tenant.journal(0).is_empty());
}

#[tokio::test]
async fn the_admin_journal_filters_by_user_and_sequence() {
    let idp = idp();
    idp.tokens("alice").await;
    idp.tokens("bob").await;
    let j = json(&idp.get("/admin/journal?user=bob", None).await);
    let entries = j.as_array().unwrap();
    assert!(!entries.is_empty());
    assert!(entries.iter().all(|e| e["user"] == "bob"));
    let last = entries.last().unwrap()["seq"].as_u64().unwrap();
    let after = json(
        &idp.get(&format!("/admin/journal?since={}", last - 1), None)
            .await,
    );
    assert_eq!(after.as_array().unwrap().len(), 1);
    let res = idp.get("/admin/journal?since=soon", None).await;
    assert_error(&res, 400, "invalid_request");
}
