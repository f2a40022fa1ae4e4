//! The debug pages: the token inspector's verdicts on real and forged tokens, the login
//! page's request table, the users and journal, and the admin token guarding them.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use mock_idp::{Signature, inspect};

use crate::support::*;

/// A token with its payload changed, header and signature kept: a forgery.
fn tampered(jwt: &str) -> String {
    let parts: Vec<&str> = jwt.split('.').collect();
    let mut claims = claims(jwt);
    claims["sub"] = "someone-else".into();
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
    format!("{}.{payload}.{}", parts[0], parts[2])
}

/// The same claims under another header, unsigned.
fn with_header(jwt: &str, header: serde_json::Value) -> String {
    let parts: Vec<&str> = jwt.split('.').collect();
    let h = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).unwrap());
    format!("{h}.{}.", parts[1])
}

#[tokio::test]
async fn the_inspector_tells_a_real_token_from_forgeries() {
    let idp = idp();
    let tokens = idp.tokens("bob").await;
    let id = tokens["id_token"].as_str().unwrap();
    let access = tokens["access_token"].as_str().unwrap();

    let i = inspect(&idp.tenant, id).unwrap();
    assert!(
        matches!(&i.signature, Signature::Valid { kid, alg } if kid == "mock-rs256-1" && alg == "RS256")
    );
    assert_eq!(i.kind, Some(mock_idp::TokenKind::IdToken));
    assert!(i.this_issuer && !i.expired);
    assert_eq!(
        i.groups,
        [(
            "/groups".to_owned(),
            serde_json::json!(["admins", "analysts"])
        )]
    );
    let exp = i.claims.iter().find(|c| c.name == "exp").unwrap();
    assert_eq!(
        exp.when.as_deref(),
        Some("2027-01-15T09:00:00Z (in 60 min)")
    );
    assert!(i.claims.iter().find(|c| c.name == "groups").unwrap().groups);

    let a = inspect(&idp.tenant, access).unwrap();
    assert_eq!(a.kind, Some(mock_idp::TokenKind::AccessToken));
    assert!(matches!(a.signature, Signature::Valid { .. }));

    let bad = |t: &str| match inspect(&idp.tenant, t).unwrap().signature {
        Signature::Invalid(why) => why,
        other => panic!("{other:?}"),
    };
    assert!(bad(&tampered(id)).contains("does not verify"));
    let h = header(id);
    let mut unknown = h.clone();
    unknown["kid"] = "someone-elses-key".into();
    assert!(bad(&with_header(id, unknown)).contains("not one of this tenant's published keys"));
    let mut hs = h.clone();
    hs["alg"] = "HS256".into();
    assert!(bad(&with_header(id, hs)).contains("a forged header"));
    let mut none = h.clone();
    none["alg"] = "none".into();
    assert_eq!(
        inspect(&idp.tenant, &with_header(id, none))
            .unwrap()
            .signature,
        Signature::Unsigned
    );

    idp.tenant.clock.advance(3601);
    assert!(inspect(&idp.tenant, id).unwrap().expired);
    for junk in ["", "abc", "a.b", "a.b.c", &"x".repeat(70_000)] {
        assert!(inspect(&idp.tenant, junk).is_err(), "{junk:.20}");
    }
}

#[tokio::test]
async fn the_debug_page_inspects_picks_and_lists() {
    let idp = idp();
    let id = idp.tokens("alice").await["id_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let page = body(&idp.get("/debug", None).await);
    assert!(
        page.contains("<td>analysts</td>") || page.contains("analysts"),
        "users with groups"
    );
    assert!(
        page.contains("alice&#x27;s ID token for demo-rp")
            || page.contains("alice's ID token for demo-rp")
            || page.contains("alice&#39;s ID token for demo-rp"),
        "{page}"
    );
    let res = idp.post("/debug", &[("token", &id)], &[]).await;
    assert_eq!(res.status(), 200);
    let html = body(&res);
    assert!(html.contains("valid: RS256"), "{html}");
    assert!(html.contains("class=\"groups\""));
    let res = idp.post("/debug", &[("token", "nope")], &[]).await;
    assert!(body(&res).contains("Not a token to decode"));
    let journal = idp.get("/debug/journal", None).await;
    assert_eq!(journal.headers()["refresh"], "5");
    assert!(
        body(&journal).contains("POST token"),
        "the login's token request"
    );
    assert_eq!(journal.headers()["cache-control"], "no-store");
}

#[tokio::test]
async fn the_login_page_shows_the_request_plainly() {
    let idp = idp();
    let res = idp
        .authorize(
            &[
                (
                    "code_challenge",
                    "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
                ),
                ("code_challenge_method", "S256"),
            ],
            None,
        )
        .await;
    let html = body(&res);
    for want in [
        "The request being made",
        "demo-rp",
        REDIRECT,
        "S256",
        "(groups: admins, analysts)",
    ] {
        assert!(
            html.contains(&want.replace('/', "&#x2F;")) || html.contains(want),
            "{want}: {html}"
        );
    }
}

#[tokio::test]
async fn with_an_admin_token_the_pages_ask_for_it() {
    let idp = idp_with_admin_token("s3cret");
    for path in ["/debug", "/debug/journal"] {
        let res = idp.get(path, None).await;
        assert_eq!(res.status(), 401, "{path}");
        assert!(
            res.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .starts_with("Basic")
        );
        assert!(
            !body(&res).contains("alice"),
            "{path} shows nothing without the token"
        );
        let wrong = format!("Basic {}", STANDARD.encode("admin:guess"));
        let res = warp::test::request()
            .path(path)
            .header("authorization", wrong)
            .reply(&idp.routes)
            .await;
        assert_eq!(res.status(), 401);
        let right = format!("Basic {}", STANDARD.encode("any-name:s3cret"));
        let res = warp::test::request()
            .path(path)
            .header("authorization", right)
            .reply(&idp.routes)
            .await;
        assert_eq!(res.status(), 200, "{path}");
    }
}
