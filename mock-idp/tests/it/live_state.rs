//! Memory follows live state: JWT access tokens are not stored, a login is one grant
//! however often it refreshes, every kind of record is capped (the oldest evicted and
//! journaled), and revocations are never evicted.

use mock_idp::LiveRecord as Record;
use serde_json::{Value, json};

use crate::support::*;

fn held(idp: &Idp, kind: Record) -> usize {
    let counts = idp.tenant.live_records();
    counts
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or(0, |(_, n)| *n)
}

fn machine_client(c: &mut mock_idp::Config) {
    c.clients[0]
        .grant_types
        .push(mock_idp::GrantType::ClientCredentials);
}

async fn client_token(idp: &Idp) -> String {
    let res = idp.client_credentials(Some("api")).await;
    assert_eq!(res.status(), 200, "{}", body(&res));
    json(&res)["access_token"].as_str().unwrap().to_owned()
}

async fn revoke(idp: &Idp, token: &str) -> warp::http::Response<bytes::Bytes> {
    idp.post(
        "/revoke",
        &[
            ("token", token),
            ("client_id", "demo-rp"),
            ("client_secret", "demo-secret"),
        ],
        &[],
    )
    .await
}

async fn userinfo(idp: &Idp, token: &str) -> warp::http::Response<bytes::Bytes> {
    let bearer = format!("Bearer {token}");
    idp.post("/userinfo", &[], &[("authorization", &bearer)])
        .await
}

fn b64url(v: &Value) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

fn access(t: &Value) -> String {
    t["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn jwt_access_tokens_are_not_stored_yet_introspect_and_revoke_one_by_one() {
    let idp = idp_with(machine_client);
    let mut tokens = Vec::new();
    for _ in 0..300 {
        tokens.push(client_token(&idp).await);
    }
    let total: usize = idp.tenant.live_records().iter().map(|(_, n)| n).sum();
    assert_eq!(total, 0, "{:?}", idp.tenant.live_records());
    assert_eq!(idp.introspect(&tokens[7]).await["active"], true);
    assert_eq!(revoke(&idp, &tokens[7]).await.status(), 200);
    assert_eq!(idp.introspect(&tokens[7]).await["active"], false);
    assert_eq!(idp.introspect(&tokens[8]).await["active"], true);
    assert_eq!(held(&idp, Record::RevokedJwt), 1);
    // The revocation is kept until the token expires, then dropped.
    idp.tenant.clock.advance(3600 + 600);
    let fresh = client_token(&idp).await;
    assert_eq!(revoke(&idp, &fresh).await.status(), 200);
    assert_eq!(
        held(&idp, Record::RevokedJwt),
        1,
        "the old one purged after exp"
    );
}

#[tokio::test]
async fn a_login_is_one_grant_however_often_it_refreshes() {
    let idp = idp();
    let t = idp.tokens("alice").await;
    let rt = t["refresh_token"].as_str().unwrap().to_owned();
    for _ in 0..50 {
        assert_eq!(idp.refresh(&rt).await.status(), 200);
    }
    assert_eq!(held(&idp, Record::Grant), 1);
    assert_eq!(held(&idp, Record::RefreshToken), 1);
    assert_eq!(held(&idp, Record::OpaqueAccessToken), 0);
}

#[tokio::test]
async fn revoking_the_refresh_token_ends_every_access_token_of_the_grant() {
    let idp = idp();
    let t = idp.tokens("alice").await;
    let r = json(&idp.refresh(t["refresh_token"].as_str().unwrap()).await);
    let other = idp.tokens("alice").await;
    assert_eq!(
        revoke(&idp, t["refresh_token"].as_str().unwrap())
            .await
            .status(),
        200
    );
    // RFC 7009 §2.1: access tokens "based on the same authorization grant" go too,
    // the code's own as well as the refreshed one.
    for token in [access(&t), access(&r)] {
        assert_eq!(idp.introspect(&token).await["active"], false);
        assert_error(&userinfo(&idp, &token).await, 401, "invalid_token");
    }
    assert_eq!(idp.introspect(&access(&other)).await["active"], true);
}

#[tokio::test]
async fn only_this_idps_access_tokens_are_accepted() {
    let idp = idp();
    let t = idp.tokens("alice").await;
    assert_eq!(userinfo(&idp, &access(&t)).await.status(), 200);
    let id_token = t["id_token"].as_str().unwrap();
    let d = assert_error(&userinfo(&idp, id_token).await, 401, "invalid_token");
    assert!(d.contains("at+jwt"), "{d}");
    // The same token with one claim changed: the signature no longer holds.
    let mut parts: Vec<String> = access(&t).split('.').map(str::to_owned).collect();
    let mut claims = claims(&access(&t));
    claims["scope"] = json!("openid profile email admin");
    parts[1] = b64url(&claims);
    let d = assert_error(
        &userinfo(&idp, &parts.join(".")).await,
        401,
        "invalid_token",
    );
    assert!(d.contains("not an access token of this IdP"), "{d}");
    assert_eq!(idp.introspect(&parts.join(".")).await["active"], false);
    // Another issuer's token, signed with the very same key (the built-in test keys).
    let tenant = mock_idp::Tenant::new(
        mock_idp::Config::builtin(),
        "http://other.test".into(),
        &mock_idp::config::KeyFiles::BuiltIn,
        mock_idp::Clock::fixed(T0),
        Some(7),
    )
    .unwrap();
    let tenant = std::sync::Arc::new(tenant);
    let other = Idp {
        routes: mock_idp::routes(tenant.clone()),
        tenant,
    };
    let foreign = access(&other.tokens("alice").await);
    let d = assert_error(&userinfo(&idp, &foreign).await, 401, "invalid_token");
    assert!(d.contains("another issuer"), "{d}");
}

#[tokio::test]
async fn access_tokens_outlive_a_rotation_of_their_key() {
    let idp = idp();
    let t = idp.tokens("alice").await;
    idp.tenant
        .rotate_key(mock_idp::SigningAlg::RS256, 0)
        .expect("rotated");
    assert_eq!(
        userinfo(&idp, &access(&t)).await.status(),
        200,
        "signed by a key no longer published, still valid until its exp"
    );
}

#[tokio::test]
async fn past_the_cap_the_oldest_record_is_evicted_and_journaled() {
    let idp = idp_with(|c| c.limits.live_records = 3);
    let first = idp.tokens("alice").await;
    for user in ["bob", "carol", "alice"] {
        idp.tokens(user).await;
    }
    let d = assert_error(
        &idp.refresh(first["refresh_token"].as_str().unwrap()).await,
        400,
        "invalid_grant",
    );
    assert!(d.contains("unknown refresh token"), "{d}");
    let d = assert_error(&userinfo(&idp, &access(&first)).await, 401, "invalid_token");
    assert!(d.contains("live_records"), "{d}");
    for kind in [Record::Code, Record::Grant, Record::RefreshToken] {
        assert_eq!(held(&idp, kind), 3, "{kind:?}");
    }
    let evicted: Vec<Value> = idp
        .tenant
        .journal(0)
        .iter()
        .flat_map(|e| e.evicted.iter().map(|r| json!(r)))
        .collect();
    for kind in ["code", "grant", "refresh_token"] {
        assert!(evicted.contains(&json!(kind)), "{kind}: {evicted:?}");
    }
}

#[tokio::test]
async fn revocations_are_refused_past_the_cap_rather_than_evicted() {
    let idp = idp_with(|c| {
        machine_client(c);
        c.limits.live_records = 2;
    });
    let tokens = [
        client_token(&idp).await,
        client_token(&idp).await,
        client_token(&idp).await,
    ];
    assert_eq!(revoke(&idp, &tokens[0]).await.status(), 200);
    assert_eq!(revoke(&idp, &tokens[1]).await.status(), 200);
    assert_error(
        &revoke(&idp, &tokens[2]).await,
        503,
        "temporarily_unavailable",
    );
    for t in &tokens[..2] {
        assert_eq!(idp.introspect(t).await["active"], false, "still revoked");
    }
    assert_eq!(idp.introspect(&tokens[2]).await["active"], true);
    // Once the revoked ones expire, their records make room.
    idp.tenant.clock.advance(3600);
    let fresh = client_token(&idp).await;
    assert_eq!(revoke(&idp, &fresh).await.status(), 200);
    assert_eq!(idp.introspect(&fresh).await["active"], false);
}
