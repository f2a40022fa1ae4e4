//! What the e2e tests share: an `openidconnect` client for a mock IdP, a login by
//! `login_hint`, a JWT's claims.

use base64::Engine;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreProviderMetadata, CoreTokenResponse,
};
use openidconnect::reqwest;
use openidconnect::{
    AuthType, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, RedirectUrl,
    Scope,
};
use serde_json::Value;

pub const REDIRECT: &str = "http://127.0.0.1:8081/login/oauth2/callback";

/// A client built from discovery.
pub type Client = CoreClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

/// HTTP without following redirects (the RP reads the Location itself).
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The demo client (`client_secret_post`) of the provider at `issuer`, from discovery.
pub async fn rp(issuer: &str, http: &reqwest::Client) -> Client {
    let md = CoreProviderMetadata::discover_async(IssuerUrl::new(issuer.into()).unwrap(), http)
        .await
        .unwrap_or_else(|e| panic!("discovery at {issuer}: {e:?}"));
    CoreClient::from_provider_metadata(
        md,
        ClientId::new("demo-rp".into()),
        Some(ClientSecret::new("demo-secret".into())),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap())
    .set_auth_type(AuthType::RequestBody)
}

/// Logs `user` in by `login_hint` (scopes openid profile email offline_access): the token
/// response and the nonce its ID token must carry.
pub async fn hinted_login(
    client: &Client,
    http: &reqwest::Client,
    user: &str,
) -> (CoreTokenResponse, Nonce) {
    let (url, _, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("offline_access".into()))
        .add_extra_param("login_hint", user)
        .url();
    let res = http.get(url.as_str()).send().await.unwrap();
    let loc = url::Url::parse(res.headers()["location"].to_str().unwrap()).unwrap();
    let code = loc
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .request_async(http)
        .await
        .unwrap_or_else(|e| panic!("code exchange for {user}: {e:?}"));
    (tokens, nonce)
}

/// A JWT's claims, unverified (none when it is not a JWT).
pub fn payload(jwt: &str) -> Option<Value> {
    let p = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(p)
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// `tests/rps/<rp>`, its pinned libraries installed by its own `install.sh`.
pub fn installed_rp(rp: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("rps")
        .join(rp);
    let out = std::process::Command::new("bash")
        .arg(dir.join("install.sh"))
        .output()
        .expect("install.sh runs");
    assert!(
        out.status.success(),
        "{rp}/install.sh: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}
