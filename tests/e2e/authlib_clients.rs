//! Authlib (Python), an independent OAuth client, against the mock IdP's newer grants and
//! client authentication: its `AssertionSession` (the jwt-bearer grant, RFC 7523 §2.1) and
//! `ClientSecretJWT` (§2.2), each signing with its own JOSE code, its `OAuth2Session`
//! doing a token exchange (RFC 8693), and fetching and verifying groups sent as distributed
//! claims (OIDC Core §5.6.2).

use std::path::PathBuf;
use std::process::Command;

use mock_idp::generate_pair;
use mock_idp::{AssertionIssuer, GrantType, MockIdp, SigningAlg, SubjectMatch};
use serde_json::Value;

/// The pinned Authlib of `tests/rps/python-authlib`, installed (its venv's python).
fn python() -> PathBuf {
    crate::support::installed_rp("python-authlib").join(".venv/bin/python")
}

/// Runs `script` with these variables; its stdout as JSON.
fn run(script: &str, vars: &[(&str, &str)]) -> Value {
    let out = Command::new(python())
        .arg("-c")
        .arg(script)
        .envs(vars.iter().copied())
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the script prints JSON")
}

const ASSERTION_SESSION: &str = r#"
import json, os
from authlib.integrations.requests_client import AssertionSession
s = AssertionSession(
    token_endpoint=os.environ["TOKEN_ENDPOINT"],
    issuer=os.environ["ASSERTION_ISS"],
    subject="alice",
    audience=os.environ["ISSUER"],
    key=os.environ["KEY_PEM"],
    header={"alg": "RS256", "kid": "ci-1"},
    claims={},
)
s.auth = ("demo-rp", "demo-secret")  # client_secret_basic beside the grant
print(json.dumps(s.refresh_token()))  # Authlib's name for "get a token with a fresh assertion"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authlib_s_assertion_session_gets_a_token_with_the_jwt_bearer_grant() {
    let (pem, public) = generate_pair("ci-1", SigningAlg::RS256).unwrap();
    let idp = MockIdp::builder()
        .edit_config(move |c| {
            c.assertion_issuers = vec![AssertionIssuer {
                issuer: "https://ci.example.test".into(),
                jwks: Some(jsonwebtoken_set(public.clone())),
                jwks_uri: None,
                subject: SubjectMatch::Username,
            }];
            let demo = c.clients.iter_mut().find(|c| c.id == "demo-rp").unwrap();
            demo.grant_types.push(GrantType::JwtBearer);
        })
        .start()
        .await
        .unwrap();
    let issuer = idp.issuer().to_owned();
    let token_endpoint = format!("{issuer}/token");
    let vars = [
        ("TOKEN_ENDPOINT", token_endpoint),
        ("ASSERTION_ISS", "https://ci.example.test".to_owned()),
        ("ISSUER", issuer.clone()),
        ("KEY_PEM", pem),
    ];
    let tokens = tokio::task::spawn_blocking(move || {
        let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
        run(ASSERTION_SESSION, &vars)
    })
    .await
    .unwrap();
    let access = tokens["access_token"].as_str().expect("an access token");
    let info: Value = reqwest::Client::new()
        .post(format!("{issuer}/introspect"))
        .form(&[
            ("token", access),
            ("client_id", "demo-rp"),
            ("client_secret", "demo-secret"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["active"], true, "{info}");
    assert_eq!(info["username"], "alice");
    let grant = idp
        .journal()
        .into_iter()
        .find(|e| e.grant_type.as_deref() == Some("urn:ietf:params:oauth:grant-type:jwt-bearer"))
        .expect("the grant is journaled");
    assert_eq!((grant.status, grant.user.as_deref()), (200, Some("alice")));
}

fn jsonwebtoken_set(k: jsonwebtoken::jwk::Jwk) -> jsonwebtoken::jwk::JwkSet {
    jsonwebtoken::jwk::JwkSet { keys: vec![k] }
}

const CLIENT_SECRET_JWT: &str = r#"
import json, os
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import ClientSecretJWT
s = OAuth2Session("demo-service", os.environ["SECRET"], token_endpoint_auth_method="client_secret_jwt")
s.register_client_auth_method(ClientSecretJWT(os.environ["TOKEN_ENDPOINT"]))
print(json.dumps(s.fetch_token(os.environ["TOKEN_ENDPOINT"], grant_type="client_credentials")))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authlib_s_client_secret_jwt_authenticates_the_built_in_service_client() {
    let idp = MockIdp::start().await;
    let token_endpoint = format!("{}/token", idp.issuer());
    let vars = [
        ("TOKEN_ENDPOINT", token_endpoint.clone()),
        ("SECRET", "demo-service-secret-0123456789abcdef".to_owned()),
    ];
    let tokens = tokio::task::spawn_blocking(move || {
        let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
        run(CLIENT_SECRET_JWT, &vars)
    })
    .await
    .unwrap();
    assert!(tokens["access_token"].is_string(), "{tokens}");
    let e = idp
        .journal()
        .into_iter()
        .find(|e| e.endpoint == mock_idp::journal::Endpoint::Token)
        .expect("journaled");
    assert_eq!(
        (e.status, e.auth_method),
        (200, Some(mock_idp::AuthMethod::ClientSecretJwt))
    );
    // Authlib names the token endpoint as the audience: accepted, and linted.
    assert_eq!(e.lints, [mock_idp::journal::Lint::ClientAssertionAudience]);
}

const TOKEN_EXCHANGE: &str = r#"
import json, os
from authlib.integrations.requests_client import OAuth2Session
s = OAuth2Session("demo-rp", "demo-secret", token_endpoint_auth_method="client_secret_basic")
print(json.dumps(s.fetch_token(
    os.environ["TOKEN_ENDPOINT"],
    grant_type="urn:ietf:params:oauth:grant-type:token-exchange",
    subject_token=os.environ["SUBJECT"],
    subject_token_type="urn:ietf:params:oauth:token-type:access_token",
    audience="orders-api",
)))
"#;

/// Token exchange (RFC 8693) with Authlib's generic OAuth 2 session (Authlib has no
/// token-exchange client of its own): its client authentication and response parsing
/// against the mock's answer; the subject token comes from the `openidconnect` crate's
/// login.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authlib_s_oauth2_session_exchanges_a_user_s_token_for_another_audience() {
    let idp = MockIdp::builder()
        .edit_config(|c| {
            let demo = c.clients.iter_mut().find(|c| c.id == "demo-rp").unwrap();
            demo.grant_types.push(GrantType::TokenExchange);
            let mut api = demo.clone();
            api.id = "orders-api".into();
            c.clients.push(api);
        })
        .start()
        .await
        .unwrap();
    let http = crate::support::http();
    let client = crate::support::rp(idp.issuer(), &http).await;
    let (tokens, _) = crate::support::hinted_login(&client, &http, "alice").await;
    use openidconnect::OAuth2TokenResponse;
    let subject = tokens.access_token().secret().clone();
    let vars = [
        ("TOKEN_ENDPOINT", format!("{}/token", idp.issuer())),
        ("SUBJECT", subject.clone()),
    ];
    let got = tokio::task::spawn_blocking(move || {
        let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
        run(TOKEN_EXCHANGE, &vars)
    })
    .await
    .unwrap();
    assert_eq!(
        got["issued_token_type"],
        "urn:ietf:params:oauth:token-type:access_token"
    );
    let exchanged = crate::support::payload(got["access_token"].as_str().unwrap()).unwrap();
    let original = crate::support::payload(&subject).unwrap();
    assert_eq!(exchanged["aud"], "orders-api");
    assert_eq!(exchanged["sub"], original["sub"]);
}

const CLAIMS_SOURCE: &str = r#"
import json, os, requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, jwt
s = OAuth2Session(token={"access_token": os.environ["ACCESS"], "token_type": "Bearer"})
r = s.get(os.environ["ENDPOINT"])
r.raise_for_status()
keys = JsonWebKey.import_key_set(requests.get(os.environ["JWKS"]).json())
claims = jwt.decode(r.text, keys)
claims.validate()
print(json.dumps({"content_type": r.headers["content-type"], "claims": dict(claims)}))
"#;

/// Groups sent as distributed claims: the `openidconnect` crate verifies an ID token that
/// names them in `_claim_names` (unknown claims do not break it), and Authlib fetches them
/// from the claims source with the access token the source names, then verifies the JWT
/// it gets with the provider's JWKS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authlib_fetches_and_verifies_groups_sent_as_distributed_claims() {
    use mock_idp::faults::{Fault, FaultScope};
    use openidconnect::{OAuth2TokenResponse, TokenResponse};
    let idp = MockIdp::start().await;
    idp.tenant().arm_fault(
        Fault::GroupsDistributed,
        FaultScope {
            times: Some(1),
            ..Default::default()
        },
    );
    let http = crate::support::http();
    let client = crate::support::rp(idp.issuer(), &http).await;
    let (tokens, nonce) = crate::support::hinted_login(&client, &http, "alice").await;
    let id_token = tokens.id_token().expect("an ID token");
    let verified = id_token
        .claims(&client.id_token_verifier(), &nonce)
        .expect("the crate verifies an ID token with claims by reference");
    let sub = verified.subject().as_str().to_owned();
    let raw = crate::support::payload(&id_token.to_string()).unwrap();
    assert_eq!(raw["_claim_names"]["groups"], "src1", "{raw}");
    let source = &raw["_claim_sources"]["src1"];
    assert_eq!(
        source["access_token"].as_str(),
        Some(tokens.access_token().secret().as_str())
    );
    let vars = [
        (
            "ACCESS",
            source["access_token"].as_str().unwrap().to_owned(),
        ),
        ("ENDPOINT", source["endpoint"].as_str().unwrap().to_owned()),
        ("JWKS", format!("{}/jwks", idp.issuer())),
    ];
    let got = tokio::task::spawn_blocking(move || {
        let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
        run(CLAIMS_SOURCE, &vars)
    })
    .await
    .unwrap();
    assert_eq!(got["content_type"], "application/jwt");
    assert_eq!(got["claims"]["groups"], serde_json::json!(["analysts"]));
    assert_eq!(got["claims"]["sub"], sub.as_str());
    assert_eq!(got["claims"]["iss"], idp.issuer());
}
