//! An independent RP library, the `openidconnect` crate, against the mock IdP on a socket:
//! discovery, code flow with and without PKCE, ID-token validation, userinfo and refresh,
//! with client_secret_post and client_secret_basic.

use mock_idp::MockIdp;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreProviderMetadata, CoreUserInfoClaims,
};
use openidconnect::reqwest;
use openidconnect::{
    AccessTokenHash, AuthType, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl,
    Nonce, OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
};

const REDIRECT: &str = "http://127.0.0.1:8081/login/oauth2/callback";

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .expect("client")
}

/// Follows the authorization URL like a browser: the login page, then the form.
async fn browser_login(browser: &reqwest::Client, auth_url: &str, username: &str) -> String {
    let page = browser.get(auth_url).send().await.expect("authorize");
    assert_eq!(page.status(), 200, "the login page");
    let html = page.text().await.unwrap();
    let at = html
        .find("name=\"request\" value=\"")
        .expect("the form's request field")
        + 22;
    let request = &html[at..at + html[at..].find('"').unwrap()];
    let action = {
        let at = html.find("action=\"").unwrap() + 8;
        html[at..at + html[at..].find('"').unwrap()].to_owned()
    };
    let origin = url::Url::parse(auth_url)
        .unwrap()
        .origin()
        .ascii_serialization();
    let res = browser
        .post(format!("{origin}{action}"))
        .form(&[("request", request), ("username", username)])
        .send()
        .await
        .expect("login");
    assert_eq!(
        res.status(),
        302,
        "{}",
        res.text().await.unwrap_or_default()
    );
    res.headers()["location"].to_str().unwrap().to_owned()
}

async fn full_flow(idp: &MockIdp, auth: AuthType, pkce: bool, interactive: bool) {
    let http = http();
    let metadata = CoreProviderMetadata::discover_async(
        IssuerUrl::new(idp.issuer().to_owned()).unwrap(),
        &http,
    )
    .await
    .expect("discovery");
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new("demo-rp".into()),
        Some(ClientSecret::new("demo-secret".into())),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap())
    .set_auth_type(auth);

    let mut req = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("offline_access".into()));
    let verifier = if pkce {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        req = req.set_pkce_challenge(challenge);
        Some(verifier)
    } else {
        None
    };
    if !interactive {
        req = req.add_extra_param("login_hint", "bob");
    }
    let (url, csrf, nonce) = req.url();
    let location = if interactive {
        browser_login(&http, url.as_str(), "bob").await
    } else {
        let res = http.get(url.as_str()).send().await.unwrap();
        assert_eq!(res.status(), 302);
        res.headers()["location"].to_str().unwrap().to_owned()
    };
    let callback = url::Url::parse(&location).unwrap();
    assert!(location.starts_with(REDIRECT), "{location}");
    let q = |name: &str| {
        callback
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    assert_eq!(q("state").as_deref(), Some(csrf.secret().as_str()));
    let mut exchange = client
        .exchange_code(AuthorizationCode::new(q("code").expect("code")))
        .unwrap();
    if let Some(v) = verifier {
        exchange = exchange.set_pkce_verifier(v);
    }
    let tokens = exchange.request_async(&http).await.expect("token exchange");

    let id_token = tokens.id_token().expect("an ID token");
    let verifier = client.id_token_verifier();
    let claims = id_token
        .claims(&verifier, &nonce)
        .expect("a valid ID token");
    assert_eq!(claims.issuer().as_str(), idp.issuer());
    assert_eq!(claims.preferred_username().map(|u| u.as_str()), Some("bob"));
    assert_eq!(claims.email().map(|e| e.as_str()), Some("bob@example.com"));
    let expected_hash = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(claims.access_token_hash(), Some(&expected_hash));
    // A nonce other than the one sent must fail validation.
    assert!(
        id_token
            .claims(&verifier, &Nonce::new("other".into()))
            .is_err()
    );

    let info: CoreUserInfoClaims = client
        .user_info(
            tokens.access_token().clone(),
            Some(claims.subject().clone()),
        )
        .unwrap()
        .request_async(&http)
        .await
        .expect("userinfo");
    assert_eq!(info.email().map(|e| e.as_str()), Some("bob@example.com"));

    let refresh = tokens
        .refresh_token()
        .expect("a refresh token with offline_access");
    let refreshed = client
        .exchange_refresh_token(refresh)
        .unwrap()
        .request_async(&http)
        .await
        .expect("refresh");
    let new_id = refreshed.id_token().expect("an ID token on refresh");
    let new_claims = new_id
        .claims(&verifier, |_: Option<&Nonce>| Ok(()))
        .expect("a valid refreshed ID token");
    assert_eq!(new_claims.subject(), claims.subject());
}

#[tokio::test]
async fn client_secret_post_with_pkce() {
    full_flow(&MockIdp::start().await, AuthType::RequestBody, true, false).await;
}

#[tokio::test]
async fn client_secret_post_without_pkce() {
    full_flow(&MockIdp::start().await, AuthType::RequestBody, false, false).await;
}

#[tokio::test]
async fn client_secret_basic_with_pkce_through_the_login_page() {
    full_flow(&MockIdp::start().await, AuthType::BasicAuth, true, true).await;
}

#[tokio::test]
async fn client_secret_basic_without_pkce() {
    full_flow(&MockIdp::start().await, AuthType::BasicAuth, false, false).await;
}

#[tokio::test]
async fn parallel_idps_do_not_share_state() {
    let a = MockIdp::start().await;
    let b = MockIdp::start().await;
    assert_ne!(a.issuer(), b.issuer());
    a.clock().advance(60);
    assert!(b.clock().now() < a.clock().now());
    tokio::join!(
        full_flow(&a, AuthType::RequestBody, true, false),
        full_flow(&b, AuthType::BasicAuth, true, true)
    );
}
