//! Dynamic client registration (RFC 7591): started with `REGISTRATION_TOKEN` and an empty
//! `CLIENT_ID`, the RP registers itself at start-up — its callback as the redirect URI,
//! its `CLIENT_AUTH` as the token endpoint authentication, its public key for
//! `private_key_jwt` — and logs users in with the credentials it gets.

use serde::Deserialize;
use serde_json::json;

use crate::defects::Defect;
use crate::settings::{ClientAuth, Settings};

/// The provider's answer to a registration (RFC 7591 §3.2.1).
#[derive(Debug, Deserialize)]
struct Registered {
    client_id: String,
    #[serde(default)]
    client_secret: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Discovery {
    #[serde(default)]
    registration_endpoint: Option<String>,
}

/// Registers the RP listening at `base_url` with the initial access token `token`, and
/// takes the client id and secret it gets into `settings`.
pub async fn register(settings: &mut Settings, token: &str, base_url: &str) -> Result<(), String> {
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs_f64(settings.idp_timeout_s))
        .build()
        .map_err(|e| e.to_string())?;
    let url = format!(
        "{}/.well-known/openid-configuration",
        settings.issuer.trim_end_matches('/')
    );
    let discovery: Discovery = http
        .get(&url)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|e| format!("GET {url}: {e}"))?
        .json()
        .await
        .map_err(|e| format!("GET {url}: {e}"))?;
    let endpoint = discovery.registration_endpoint.ok_or_else(|| {
        format!("REGISTRATION_TOKEN is set, but the discovery document at {url} names no registration_endpoint")
    })?;
    let callback = if settings.defects.has(Defect::DcrUnregisteredRedirect) {
        "/callback"
    } else {
        crate::http::CALLBACK
    };
    let method = match settings.client_auth {
        ClientAuth::ClientSecretPost => "client_secret_post",
        ClientAuth::ClientSecretBasic => "client_secret_basic",
        ClientAuth::ClientSecretJwt => "client_secret_jwt",
        ClientAuth::PrivateKeyJwt => "private_key_jwt",
    };
    let mut metadata = json!({
        "client_name": "reference-rp",
        "redirect_uris": [format!("{base_url}{callback}")],
        "token_endpoint_auth_method": method,
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "scope": settings.scopes,
    });
    if let Some(key) = &settings.client_key {
        let mut jwk =
            jsonwebtoken::jwk::Jwk::from_encoding_key(&key.key, jsonwebtoken::Algorithm::RS256)
                .map_err(|e| format!("the client key's public half: {e}"))?;
        jwk.common.key_id = Some(key.kid.clone());
        metadata["jwks"] = json!({ "keys": [jwk] });
    }
    let mut req = http.post(&endpoint).json(&metadata);
    if !settings.defects.has(Defect::DcrNoInitialToken) {
        req = req.bearer_auth(token);
    }
    let res = req
        .send()
        .await
        .map_err(|e| format!("POST {endpoint}: {e}"))?;
    let status = res.status();
    if status != reqwest::StatusCode::CREATED {
        let body = res.text().await.unwrap_or_default();
        return Err(format!(
            "the provider refused the registration at {endpoint}: {status} {body}"
        ));
    }
    let registered: Registered = res
        .json()
        .await
        .map_err(|e| format!("POST {endpoint}: the answer: {e}"))?;
    settings.client_id = registered.client_id;
    settings.client_secret = registered.client_secret.unwrap_or_default();
    Ok(())
}
