//! The lifecycle over real sockets: an `openidconnect` RP sees new groups after a refresh
//! and `invalid_grant` after delete / disable / expiry / revocation, all driven through
//! the admin API; concurrent refreshes of a rotating token.

use mock_idp::MockIdp;
use openidconnect::reqwest;
use openidconnect::{Nonce, OAuth2TokenResponse, RefreshToken, RequestTokenError, TokenResponse};
use serde_json::{Value, json};

use crate::support::{Client, hinted_login, http, payload, rp};

/// Logs `user` in; the refresh token.
async fn login(client: &Client, http: &reqwest::Client, user: &str) -> RefreshToken {
    try_login(client, http, user)
        .await
        .expect("a valid ID token")
}

/// Logs `user` in; the refresh token, or why the ID token failed validation.
async fn try_login(
    client: &Client,
    http: &reqwest::Client,
    user: &str,
) -> Result<RefreshToken, String> {
    let (tokens, nonce) = hinted_login(client, http, user).await;
    tokens
        .id_token()
        .unwrap()
        .claims(&client.id_token_verifier(), &nonce)
        .map_err(|e| e.to_string())?;
    Ok(tokens.refresh_token().unwrap().clone())
}

/// Refreshes; the groups in the new ID token, or the OAuth error code.
async fn refresh(
    client: &Client,
    http: &reqwest::Client,
    rt: &RefreshToken,
) -> Result<Value, String> {
    match client
        .exchange_refresh_token(rt)
        .unwrap()
        .request_async(http)
        .await
    {
        Ok(t) => {
            let id = t.id_token().unwrap();
            id.claims(&client.id_token_verifier(), |_: Option<&Nonce>| Ok(()))
                .expect("a valid ID token");
            // The core claims type drops unknown claims: read `groups` from the validated JWT.
            let claims = payload(&id.to_string()).unwrap();
            Ok(claims["groups"].clone())
        }
        Err(RequestTokenError::ServerResponse(e)) => Err(e.error().to_string()),
        Err(e) => panic!("unexpected: {e:?}"),
    }
}

async fn admin(
    http: &reqwest::Client,
    idp: &MockIdp,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> u16 {
    http.request(method, format!("{}/admin{path}", idp.issuer()))
        .json(&body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn an_rp_sees_group_changes_and_loses_access_when_the_idp_says_so() {
    let idp = MockIdp::start().await;
    let http = http();
    let client = rp(idp.issuer(), &http).await;

    let alice = login(&client, &http, "alice").await;
    assert_eq!(
        refresh(&client, &http, &alice).await,
        Ok(json!(["analysts"]))
    );
    assert_eq!(
        admin(
            &http,
            &idp,
            reqwest::Method::PATCH,
            "/users/alice",
            json!({"groups": ["admins"]})
        )
        .await,
        200
    );
    assert_eq!(refresh(&client, &http, &alice).await, Ok(json!(["admins"])));

    assert_eq!(
        admin(
            &http,
            &idp,
            reqwest::Method::PATCH,
            "/users/alice",
            json!({"disabled": true})
        )
        .await,
        200
    );
    assert_eq!(
        refresh(&client, &http, &alice).await,
        Err("invalid_grant".into())
    );
    assert_eq!(
        admin(
            &http,
            &idp,
            reqwest::Method::PATCH,
            "/users/alice",
            json!({"disabled": false})
        )
        .await,
        200
    );
    assert!(refresh(&client, &http, &alice).await.is_ok());

    let bob = login(&client, &http, "bob").await;
    assert_eq!(
        admin(
            &http,
            &idp,
            reqwest::Method::DELETE,
            "/users/bob",
            Value::Null
        )
        .await,
        204
    );
    assert_eq!(
        refresh(&client, &http, &bob).await,
        Err("invalid_grant".into())
    );

    let carol = login(&client, &http, "carol").await;
    assert_eq!(
        admin(
            &http,
            &idp,
            reqwest::Method::POST,
            "/users/carol/revoke",
            Value::Null
        )
        .await,
        200
    );
    assert_eq!(
        refresh(&client, &http, &carol).await,
        Err("invalid_grant".into())
    );

    // Expiry: the IdP's clock passes the refresh token's 30-day lifetime.
    assert_eq!(
        admin(
            &http,
            &idp,
            reqwest::Method::POST,
            "/clock",
            json!({"advance": 30 * 24 * 3600})
        )
        .await,
        200
    );
    assert_eq!(
        refresh(&client, &http, &alice).await,
        Err("invalid_grant".into())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_64_concurrent_refreshes_of_a_rotating_token_exactly_one_succeeds() {
    let idp = MockIdp::builder()
        .edit_config(|c| c.clients[0].refresh_policy.rotate = true)
        .start()
        .await
        .unwrap();
    let http = http();
    let client = rp(idp.issuer(), &http).await;
    let token = login(&client, &http, "bob").await;
    let url = format!("{}/token", idp.issuer());
    let attempts = (0..64).map(|_| {
        let (http, url, rt) = (http.clone(), url.clone(), token.secret().clone());
        tokio::spawn(async move {
            http.post(url)
                .form(&[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", rt.as_str()),
                    ("client_id", "demo-rp"),
                    ("client_secret", "demo-secret"),
                ])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        })
    });
    let mut statuses = Vec::new();
    for a in attempts {
        statuses.push(a.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 400).count(),
        63,
        "{statuses:?}"
    );
}

#[tokio::test]
async fn an_rp_logs_in_again_after_a_key_rotation() {
    let idp = MockIdp::start().await;
    let http = http();
    let client = rp(idp.issuer(), &http).await;
    login(&client, &http, "alice").await;
    let res = http
        .post(format!("{}/admin/keys/rotate", idp.issuer()))
        .json(&json!({"remove_old": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // The RP's cached JWKS no longer knows the signing key…
    let stale = try_login(&client, &http, "alice").await;
    assert!(stale.is_err(), "a stale JWKS must fail validation");
    // …and after refetching it (what an RP does on an unknown kid), the login works.
    let client = rp(idp.issuer(), &http).await;
    login(&client, &http, "alice").await;
}
