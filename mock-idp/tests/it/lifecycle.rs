//! The live directory and refresh-token lifecycles: every token reflects the directory at
//! issue time; deleted and disabled users lose access; rotation, reuse detection, idle and
//! absolute expiry, session-bound tokens.

use mock_idp::UserPatch;
use mock_idp::journal::Lint;
use serde_json::json;

use crate::support::*;

fn rt(v: &serde_json::Value) -> String {
    v["refresh_token"]
        .as_str()
        .expect("a refresh token")
        .to_owned()
}

#[tokio::test]
async fn new_tokens_carry_the_directory_as_it_is_now() {
    let idp = idp();
    let t = idp.tokens("alice").await;
    idp.tenant
        .patch_user(
            "alice",
            UserPatch {
                groups: Some(vec!["admins".into()]),
                name: Some("Alice Admin".into()),
                ..Default::default()
            },
        )
        .unwrap();
    let r = json(&idp.refresh(&rt(&t)).await);
    let id = claims(r["id_token"].as_str().unwrap());
    assert_eq!(id["groups"], json!(["admins"]));
    assert_eq!(id["name"], "Alice Admin");
    assert_eq!(
        claims(r["access_token"].as_str().unwrap())["groups"],
        json!(["admins"])
    );
    // The tokens issued before the change still say what was true then.
    assert_eq!(
        claims(t["id_token"].as_str().unwrap())["groups"],
        json!(["analysts"])
    );
}

#[tokio::test]
async fn a_deleted_user_loses_every_token() {
    let idp = idp();
    let t = idp.tokens("bob").await;
    idp.tenant.delete_user("bob").unwrap();
    let d = assert_error(&idp.refresh(&rt(&t)).await, 400, "invalid_grant");
    assert!(d.contains("no longer exists"), "{d}");
    let refused = idp.tenant.journal(0).pop().unwrap();
    assert_eq!(
        refused.user.as_deref(),
        Some("bob"),
        "a refused refresh is journaled under its user"
    );
    let res = idp
        .post(
            "/userinfo",
            &[("access_token", t["access_token"].as_str().unwrap())],
            &[],
        )
        .await;
    assert_error(&res, 401, "invalid_token");
    for token in [t["access_token"].as_str().unwrap(), &rt(&t)] {
        assert_eq!(idp.introspect(token).await["active"], false);
    }
}

#[tokio::test]
async fn a_disabled_user_cannot_refresh_or_log_in_until_enabled() {
    let idp = idp();
    let (cookie, t) = idp.login_with_session("alice").await;
    let disable = |d: bool| UserPatch {
        disabled: Some(d),
        ..Default::default()
    };
    idp.tenant.patch_user("alice", disable(true)).unwrap();
    let d = assert_error(&idp.refresh(&rt(&t)).await, 400, "invalid_grant");
    assert!(d.contains("disabled"), "{d}");
    // The session ended with the disabling; login_hint no longer bypasses the page.
    let res = idp.authorize(&[("prompt", "none")], Some(&cookie)).await;
    assert_eq!(
        param(&location(&res), "error").as_deref(),
        Some("login_required")
    );
    assert_eq!(
        idp.authorize(&[("login_hint", "alice")], None)
            .await
            .status(),
        200
    );
    idp.tenant.patch_user("alice", disable(false)).unwrap();
    assert_eq!(
        idp.refresh(&rt(&t)).await.status(),
        200,
        "an enabled user's tokens work again"
    );
}

#[tokio::test]
async fn revoking_a_user_ends_tokens_and_sessions() {
    let idp = idp();
    let a = idp.tokens("alice").await;
    let b = idp.tokens("bob").await;
    assert_eq!(idp.tenant.revoke_user("alice").unwrap(), 1, "one grant");
    assert_error(&idp.refresh(&rt(&a)).await, 400, "invalid_grant");
    let at = |t: &serde_json::Value| t["access_token"].as_str().unwrap().to_owned();
    assert_eq!(idp.introspect(&at(&a)).await["active"], false);
    assert_eq!(
        idp.refresh(&rt(&b)).await.status(),
        200,
        "others are unaffected"
    );
    assert_eq!(idp.introspect(&at(&b)).await["active"], true);
}

#[tokio::test]
async fn rotation_spends_the_old_token_and_reuse_revokes_the_family() {
    let idp = idp_with(|c| c.clients[0].refresh_policy.rotate = true);
    let t = idp.tokens("alice").await;
    let first = rt(&t);
    let r1 = json(&idp.refresh(&first).await);
    let second = rt(&r1);
    assert_ne!(first, second);
    let r2 = json(&idp.refresh(&second).await);
    let third = rt(&r2);
    // Replaying a spent token: refused, and the family (including the newest) dies.
    let d = assert_error(&idp.refresh(&first).await, 400, "invalid_grant");
    assert!(d.contains("reuse detected"), "{d}");
    assert!(assert_error(&idp.refresh(&third).await, 400, "invalid_grant").contains("revoked"));
    let res = idp
        .post(
            "/userinfo",
            &[("access_token", r2["access_token"].as_str().unwrap())],
            &[],
        )
        .await;
    assert_error(&res, 401, "invalid_token");
}

#[tokio::test]
async fn a_grace_period_tolerates_a_retry() {
    let idp = idp_with(|c| {
        c.clients[0].refresh_policy.rotate = true;
        c.clients[0].refresh_policy.reuse_grace = 30;
    });
    let first = rt(&idp.tokens("alice").await);
    let second = rt(&json(&idp.refresh(&first).await));
    idp.tenant.clock.advance(10);
    assert_eq!(
        idp.refresh(&first).await.status(),
        200,
        "within the grace period"
    );
    let lints: Vec<Vec<Lint>> = idp
        .tenant
        .journal(0)
        .iter()
        .filter(|e| e.grant_type.as_deref() == Some("refresh_token"))
        .map(|e| e.lints.clone())
        .collect();
    assert_eq!(
        lints,
        [vec![], vec![Lint::RefreshTokenReused]],
        "the journal says the spent token came back"
    );
    idp.tenant.clock.advance(30);
    assert_error(&idp.refresh(&first).await, 400, "invalid_grant");
    assert_error(&idp.refresh(&second).await, 400, "invalid_grant");
}

#[tokio::test]
async fn idle_and_absolute_lifetimes() {
    let idp = idp_with(|c| {
        c.clients[0].refresh_policy.idle = Some(100);
        c.clients[0].refresh_policy.absolute = Some(250);
    });
    let token = rt(&idp.tokens("alice").await);
    for _ in 0..2 {
        idp.tenant.clock.advance(99);
        assert_eq!(
            idp.refresh(&token).await.status(),
            200,
            "each use pushes the idle expiry back"
        );
    }
    idp.tenant.clock.advance(99);
    assert!(assert_error(&idp.refresh(&token).await, 400, "invalid_grant").contains("expired"));
    let token = rt(&idp.tokens("bob").await);
    idp.tenant.clock.advance(100);
    assert!(assert_error(&idp.refresh(&token).await, 400, "invalid_grant").contains("idle"));
}

#[tokio::test]
async fn rotation_does_not_extend_the_absolute_lifetime() {
    let idp = idp_with(|c| {
        c.clients[0].refresh_policy.rotate = true;
        c.clients[0].refresh_policy.absolute = Some(100);
    });
    let mut token = rt(&idp.tokens("alice").await);
    idp.tenant.clock.advance(60);
    token = rt(&json(&idp.refresh(&token).await));
    idp.tenant.clock.advance(40);
    assert!(assert_error(&idp.refresh(&token).await, 400, "invalid_grant").contains("expired"));
}

#[tokio::test]
async fn session_bound_tokens_die_at_logout_offline_ones_do_not() {
    for bound in [true, false] {
        let idp = idp_with(|c| c.clients[0].refresh_policy.session_bound = bound);
        let (cookie, t) = idp.login_with_session("alice").await;
        let res = idp.get("/end_session", Some(&cookie)).await;
        assert_eq!(res.status(), 200);
        let status = idp.refresh(&rt(&t)).await.status();
        assert_eq!(status == 200, !bound, "session_bound = {bound}: {status}");
    }
}

#[tokio::test]
async fn a_refused_refresh_does_not_spend_a_rotating_token() {
    let idp = idp_with(|c| c.clients[0].refresh_policy.rotate = true);
    let token = rt(&idp.tokens("alice").await);
    let disable = |d: bool| UserPatch {
        disabled: Some(d),
        ..Default::default()
    };
    idp.tenant.patch_user("alice", disable(true)).unwrap();
    assert_error(&idp.refresh(&token).await, 400, "invalid_grant");
    idp.tenant.patch_user("alice", disable(false)).unwrap();
    assert_eq!(
        idp.refresh(&token).await.status(),
        200,
        "the token was not spent by the refusal"
    );
}

#[tokio::test]
async fn a_narrower_scope_narrows_the_access_token_and_the_rotated_refresh_token_keeps_the_original()
 {
    let idp = idp_with(|c| c.clients[0].refresh_policy.rotate = true);
    let first = rt(&idp.tokens("alice").await);
    let narrow = |token: String| {
        let idp = &idp;
        async move {
            idp.post(
                "/token",
                &[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", &token),
                    ("scope", "openid email"),
                    ("client_id", "demo-rp"),
                    ("client_secret", "demo-secret"),
                ],
                &[],
            )
            .await
        }
    };
    let narrowed = json(&narrow(first).await);
    assert_eq!(narrowed["scope"], "openid email", "{narrowed}");
    assert_eq!(
        claims(narrowed["access_token"].as_str().unwrap())["scope"],
        "openid email"
    );
    // RFC 6749 §6: the new refresh token's scope is the presented one's, so the next
    // refresh may ask for the whole of it again (and gets it without asking).
    let whole = json(&idp.refresh(&rt(&narrowed)).await);
    assert_eq!(
        whole["scope"], "openid profile email offline_access",
        "{whole}"
    );
    let again = json(&narrow(rt(&whole)).await);
    assert_eq!(again["scope"], "openid email");
    // Wider than the grant: refused.
    let res = idp
        .post(
            "/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &rt(&again)),
                ("scope", "openid admin"),
                ("client_id", "demo-rp"),
                ("client_secret", "demo-secret"),
            ],
            &[],
        )
        .await;
    assert!(assert_error(&res, 400, "invalid_scope").contains("\"admin\""));
}
