//! Every provider profile, over real sockets, through the `openidconnect` crate as the RP:
//! discovery at the profile's issuer path, a login whose ID token validates, the groups
//! where (and in the form) the provider puts them, and a refresh as the provider does it.

use mock_idp::MockIdp;
use openidconnect::{OAuth2TokenResponse, TokenResponse};
use serde_json::{Value, json};

use crate::support::{REDIRECT, hinted_login, http, payload, rp};

/// What one login and one refresh showed.
#[derive(Debug)]
struct Seen {
    issuer: String,
    issuer_path: String,
    token_path: String,
    id_claims: Value,
    /// The access token's claims when it is a JWT.
    access_claims: Option<Value>,
    access_len: usize,
    refresh_len: usize,
    /// Whether the refresh answered a new refresh token.
    rotated: bool,
}

async fn login_and_refresh(profile: &str, user: &str) -> Seen {
    let idp = MockIdp::builder().profile(profile).start().await.unwrap();
    let http = http();
    let client = rp(idp.issuer(), &http).await;
    let token_path = url::Url::parse(client.token_uri().unwrap().as_str())
        .unwrap()
        .path()
        .to_owned();
    let (tokens, nonce) = hinted_login(&client, &http, user).await;
    let id = tokens.id_token().unwrap();
    id.claims(&client.id_token_verifier(), &nonce)
        .unwrap_or_else(|e| panic!("{profile}: the ID token does not validate: {e}"));
    let rt = tokens.refresh_token().expect("a refresh token").clone();
    let refreshed = client
        .exchange_refresh_token(&rt)
        .unwrap()
        .request_async(&http)
        .await
        .unwrap_or_else(|e| panic!("{profile}: refresh: {e:?}"));
    Seen {
        issuer: idp.issuer().to_owned(),
        issuer_path: url::Url::parse(idp.issuer()).unwrap().path().to_owned(),
        token_path,
        id_claims: payload(&id.to_string()).unwrap(),
        access_claims: payload(tokens.access_token().secret()),
        access_len: tokens.access_token().secret().len(),
        refresh_len: rt.secret().len(),
        rotated: refreshed.refresh_token().is_some(),
    }
}

#[tokio::test]
async fn every_profile_logs_in_an_openidconnect_rp() {
    // fapi2 takes only FAPI clients (pushed requests, private_key_jwt, DPoP), which this
    // RP is not: the mock's own test runs its flow (mock-idp tests/it/fapi2.rs).
    for p in mock_idp::profiles::PROFILES
        .iter()
        .filter(|p| p.name != "fapi2")
    {
        let seen = login_and_refresh(&p.name, "bob").await;
        assert_eq!(seen.id_claims["iss"], seen.issuer.as_str(), "{}", p.name);
    }
}

#[tokio::test]
async fn okta_groups_in_both_tokens_rotation() {
    let s = login_and_refresh("okta", "bob").await;
    assert_eq!(s.issuer_path, "/oauth2/default");
    assert_eq!(s.token_path, "/oauth2/default/v1/token");
    assert_eq!(s.id_claims["groups"], json!(["admins", "analysts"]));
    assert_eq!(
        s.access_claims.unwrap()["groups"],
        json!(["admins", "analysts"])
    );
    assert!(s.rotated);
}

#[tokio::test]
async fn keycloak_roles_only_in_the_access_token() {
    let s = login_and_refresh("keycloak", "bob").await;
    assert_eq!(s.token_path, "/realms/demo/protocol/openid-connect/token");
    assert!(s.id_claims.get("groups").is_none() && s.id_claims.get("realm_access").is_none());
    let at = s.access_claims.unwrap();
    assert_eq!(at["realm_access"]["roles"], json!(["admins", "analysts"]));
    assert_eq!(
        at["resource_access"]["demo-rp"]["roles"],
        json!(["admins", "analysts"]),
        "client roles under the client id"
    );
    assert!(
        !s.rotated,
        "Keycloak keeps the refresh token unless told to revoke it"
    );
}

#[tokio::test]
async fn adfs_one_group_is_a_string_in_the_access_token() {
    let s = login_and_refresh("adfs", "alice").await;
    assert_eq!(s.token_path, "/adfs/oauth2/token/");
    assert_eq!(s.access_claims.unwrap()["group"], "analysts");
    assert!(s.id_claims.get("group").is_none());
    let s = login_and_refresh("adfs", "bob").await;
    assert_eq!(
        s.access_claims.unwrap()["group"],
        json!(["admins", "analysts"])
    );
}

#[tokio::test]
async fn google_has_no_groups_and_never_rotates() {
    let s = login_and_refresh("google", "bob").await;
    assert_eq!(s.issuer_path, "/");
    assert!(s.id_claims.get("groups").is_none());
    assert!(s.access_claims.unwrap().get("groups").is_none());
    assert!(!s.rotated);
}

#[tokio::test]
async fn auth0_roles_in_a_namespaced_claim() {
    let s = login_and_refresh("auth0", "bob").await;
    assert_eq!(s.token_path, "/oauth/token");
    assert_eq!(
        s.id_claims["https://example.com/roles"],
        json!(["admins", "analysts"])
    );
    assert!(s.rotated);
}

#[tokio::test]
async fn pingfederate_paths_outside_the_issuer() {
    let s = login_and_refresh("pingfederate", "bob").await;
    assert_eq!(s.token_path, "/as/token.oauth2");
}

#[tokio::test]
async fn entra_identity_and_group_ids() {
    let s = login_and_refresh("entra", "alice").await;
    assert_eq!(s.issuer_path, "/00000000-0000-0000-0000-0000000000e1/v2.0");
    assert_eq!(
        s.token_path,
        "/00000000-0000-0000-0000-0000000000e1/oauth2/v2.0/token"
    );
    let alice = "a1b2c3d4-0000-4000-8000-000000000001";
    let c = &s.id_claims;
    assert_ne!(c["sub"], alice, "sub is pairwise");
    assert_eq!(c["oid"], alice, "oid is the user's own id");
    assert_eq!(c["tid"], "00000000-0000-0000-0000-0000000000e1");
    assert!(c.get("email").is_none(), "no email claim");
    let quirks = mock_idp::config::Quirks {
        group_ids: true,
        ..Default::default()
    };
    let ids = mock_idp::group_names(&quirks, &["analysts".to_owned()]);
    assert_eq!(c["groups"], json!(ids));
    assert!(
        ids[0].len() == 36 && ids[0].matches('-').count() == 4,
        "{ids:?}"
    );
}

#[tokio::test]
async fn entra_groups_overage_points_at_the_groups_endpoint() {
    let mut groups: Vec<String> = (0..201).map(|i| format!("g{i:03}")).collect();
    groups.sort();
    let idp = MockIdp::builder()
        .profile("entra")
        .user(mock_idp::UserConfig {
            username: "many".into(),
            sub: "sub-many".into(),
            email: None,
            email_verified: None,
            name: None,
            preferred_username: None,
            groups: groups.clone(),
            password: None,
            claims: Default::default(),
            disabled: false,
        })
        .start()
        .await
        .unwrap();
    let http = http();
    let d: Value = http
        .get(idp.discovery_url())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let q = [
        ("client_id", "demo-rp"),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("scope", "openid profile"),
        ("state", "s"),
        ("nonce", "n"),
        ("login_hint", "many"),
    ];
    let res = http
        .get(d["authorization_endpoint"].as_str().unwrap())
        .query(&q)
        .send()
        .await
        .unwrap();
    let loc = url::Url::parse(res.headers()["location"].to_str().unwrap()).unwrap();
    let code = loc
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let t: Value = http
        .post(d["token_endpoint"].as_str().unwrap())
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("client_id", "demo-rp"),
            ("client_secret", "demo-secret"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = payload(t["id_token"].as_str().unwrap()).unwrap();
    assert!(
        id.get("groups").is_none(),
        "over 200 groups: no groups claim"
    );
    assert_eq!(id["_claim_names"]["groups"], "src1");
    let endpoint = id["_claim_sources"]["src1"]["endpoint"].as_str().unwrap();
    let listed: Value = http
        .get(endpoint)
        .bearer_auth(t["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let quirks = mock_idp::config::Quirks {
        group_ids: true,
        ..Default::default()
    };
    assert_eq!(
        listed["value"],
        json!(mock_idp::group_names(&quirks, &groups))
    );
    let refused = http.get(endpoint).send().await.unwrap();
    assert_eq!(refused.status(), 401, "the groups need the access token");
}

#[tokio::test]
async fn opaque_tokens_are_opaque_and_short() {
    let s = login_and_refresh("opaque-tokens", "alice").await;
    assert!(s.access_claims.is_none(), "opaque, not a JWT");
    assert!(s.access_len <= 400 && s.refresh_len <= 400, "{s:?}");
}
