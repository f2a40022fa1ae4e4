//! Provider profiles: per profile, a snapshot of the discovery document and of the demo
//! users' decoded tokens (fixed clock and seed); config files and the admin API apply them.

use std::sync::Arc;

use mock_idp::config::KeyFiles;
use mock_idp::profiles::PROFILES;
use mock_idp::{Clock, Config, Tenant};
use serde_json::{Value, json};

use crate::support::*;

pub fn shaped(profile: &str) -> Idp {
    let config = Config::builtin_with_profile(profile).unwrap();
    let issuer = config.issuer.clone();
    let tenant = Arc::new(
        Tenant::new(
            config,
            issuer,
            &KeyFiles::BuiltIn,
            Clock::fixed(T0),
            Some(1),
        )
        .unwrap(),
    );
    Idp {
        routes: mock_idp::routes(tenant.clone()),
        tenant,
    }
}

fn path(url: &Value) -> String {
    url::Url::parse(url.as_str().unwrap())
        .unwrap()
        .path()
        .to_owned()
}

/// A token as a snapshot shows it: a JWT decoded, an opaque one by its length.
fn decoded(token: &Value) -> Value {
    let t = token.as_str().unwrap();
    if t.split('.').count() == 3 {
        json!({ "header": header(t), "claims": claims(t) })
    } else {
        json!({ "opaque": true, "length": t.len() })
    }
}

async fn tokens(idp: &Idp, discovery: &Value, user: &str) -> Value {
    let t = code_tokens(idp, discovery, user).await;
    json!({
        "id_token": decoded(&t["id_token"]),
        "access_token": decoded(&t["access_token"]),
        "expires_in": t["expires_in"],
        "has_refresh_token": t["refresh_token"].is_string(),
    })
}

#[tokio::test]
async fn each_profile_shapes_discovery_and_tokens() {
    // fapi2 takes only pushed, PKCE-bound, DPoP-proved requests of private_key_jwt clients:
    // `fapi2::a_fapi2_tenant_takes_the_fapi_flow_and_refuses_each_shortcut` runs its flow.
    for p in PROFILES.iter().filter(|p| p.name != "fapi2") {
        let idp = shaped(&p.name);
        let discovery = discover(&idp).await;
        assert!(discovery["issuer"].is_string(), "{}", p.name);
        let shown = json!({
            "profile": p.name,
            "discovery": discovery,
            "alice": tokens(&idp, &discovery, "alice").await,
            "bob": tokens(&idp, &discovery, "bob").await,
        });
        insta::assert_json_snapshot!(format!("profile_{}", p.name), shown, {
            ".**.iat" => "[iat]",
            ".**.exp" => "[exp]",
            ".**.auth_time" => "[auth_time]",
            ".**.jti" => "[jti]",
            ".**.sid" => "[sid]",
            ".**.at_hash" => "[at_hash]",
        });
    }
}

#[test]
fn a_config_file_names_its_profile_and_wins_over_it() {
    let text = r#"
profile = "keycloak"
issuer = "http://idp.test/realms/acme"

[lifetimes]
access_token = 60

[[keys]]
kid = "k"
alg = "RS256"
pem_file = "k.pem"
"#;
    let c = Config::from_toml(text, "idp.toml").unwrap();
    assert_eq!(c.profile.as_deref(), Some("keycloak"));
    assert_eq!(c.lifetimes.access_token, 60, "the file's own key wins");
    assert_eq!(
        c.lifetimes.refresh_token, 36000,
        "the profile fills the rest"
    );
    assert_eq!(
        c.endpoints.token.as_deref(),
        Some("/realms/acme/protocol/openid-connect/token")
    );
    let e = Config::from_toml(&text.replace("keycloak", "okra"), "idp.toml")
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("idp.toml:2: field `profile`: unknown profile \"okra\"; known: okta"),
        "{e}"
    );
}

#[tokio::test]
async fn the_admin_api_creates_a_tenant_with_a_profile() {
    let idp = mock_idp::MockIdp::start().await;
    let http = reqwest::Client::new();
    let res = http
        .post(format!("{}/admin/tenants", idp.issuer()))
        .json(&json!({ "name": "kc", "profile": "keycloak" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let issuer = res.json::<Value>().await.unwrap()["issuer"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(issuer.ends_with("/t/kc"), "{issuer}");
    let d: Value = http
        .get(format!("{issuer}/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        d["token_endpoint"]
            .as_str()
            .unwrap()
            .ends_with("/t/kc/protocol/openid-connect/token"),
        "{d}"
    );
    let res = http
        .post(format!("{}/admin/tenants", idp.issuer()))
        .json(&json!({ "name": "x", "profile": "nope" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
}

/// The tenant's discovery document.
async fn discover(idp: &Idp) -> Value {
    let issuer_path = url::Url::parse(&idp.tenant.issuer)
        .unwrap()
        .path()
        .to_owned();
    let well_known = format!(
        "{}/.well-known/openid-configuration",
        issuer_path.trim_end_matches('/')
    );
    json(&idp.get(&well_known, None).await)
}

/// A code grant for `user` (login_hint): the raw token response.
async fn code_tokens(idp: &Idp, d: &Value, user: &str) -> Value {
    let q = form(&[
        ("client_id", "demo-rp"),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("scope", "openid profile email offline_access"),
        ("state", "st"),
        ("nonce", "no"),
        ("login_hint", user),
    ]);
    let authorize = path(&d["authorization_endpoint"]);
    let code = param(
        &location(&idp.get(&format!("{authorize}?{q}"), None).await),
        "code",
    )
    .expect("a code");
    let res = idp
        .post(
            &path(&d["token_endpoint"]),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("client_id", "demo-rp"),
                ("client_secret", "demo-secret"),
            ],
            &[],
        )
        .await;
    assert_eq!(res.status(), 200, "{}", body(&res));
    json(&res)
}

/// A refresh with the demo client's credentials.
async fn refresh(idp: &Idp, d: &Value, rt: &str) -> warp::http::Response<bytes::Bytes> {
    idp.post(
        &path(&d["token_endpoint"]),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", rt),
            ("client_id", "demo-rp"),
            ("client_secret", "demo-secret"),
        ],
        &[],
    )
    .await
}

#[tokio::test]
async fn a_refused_refresh_is_worded_as_the_provider_words_it() {
    for (profile, words) in [
        ("okta", "The refresh token is invalid or expired."),
        ("keycloak", "Token is not active"),
        ("google", "Token has been expired or revoked."),
        ("auth0", "Unknown or invalid refresh token."),
        ("entra", "AADSTS700082: "),
    ] {
        let idp = shaped(profile);
        let d = discover(&idp).await;
        let t = code_tokens(&idp, &d, "bob").await;
        idp.tenant.delete_user("bob").unwrap();
        let res = refresh(&idp, &d, t["refresh_token"].as_str().unwrap()).await;
        assert_eq!(res.status(), 400, "{profile}");
        let e = json(&res);
        assert_eq!(e["error"], "invalid_grant", "{profile}");
        assert!(
            e["error_description"].as_str().unwrap().starts_with(words),
            "{profile}: {e}"
        );
    }
}

#[tokio::test]
async fn provider_quirks_of_errors_and_claims() {
    // Auth0: a blocked user's refresh is 403.
    let idp = shaped("auth0");
    let d = discover(&idp).await;
    let t = code_tokens(&idp, &d, "bob").await;
    let blocked = mock_idp::UserPatch {
        disabled: Some(true),
        ..Default::default()
    };
    idp.tenant.patch_user("bob", blocked).unwrap();
    let res = refresh(&idp, &d, t["refresh_token"].as_str().unwrap()).await;
    assert_eq!(res.status(), 403);
    assert_eq!(json(&res)["error_description"], "user is blocked");

    // Keycloak: a wrong secret is 401 unauthorized_client; ID tokens say typ ID.
    let idp = shaped("keycloak");
    let d = discover(&idp).await;
    let t = code_tokens(&idp, &d, "alice").await;
    assert_eq!(claims(t["id_token"].as_str().unwrap())["typ"], "ID");
    let res = idp
        .post(
            &path(&d["token_endpoint"]),
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", t["refresh_token"].as_str().unwrap()),
                ("client_id", "demo-rp"),
                ("client_secret", "wrong"),
            ],
            &[],
        )
        .await;
    assert_eq!(res.status(), 401);
    assert_eq!(json(&res)["error"], "unauthorized_client");

    // Google: hd, the email's domain.
    let idp = shaped("google");
    let t = code_tokens(&idp, &discover(&idp).await, "alice").await;
    assert_eq!(claims(t["id_token"].as_str().unwrap())["hd"], "example.com");

    // AD FS: userinfo answers sub only.
    let idp = shaped("adfs");
    let d = discover(&idp).await;
    let t = code_tokens(&idp, &d, "alice").await;
    let res = idp
        .post(
            &path(&d["userinfo_endpoint"]),
            &[("access_token", t["access_token"].as_str().unwrap())],
            &[],
        )
        .await;
    let info = json(&res);
    assert_eq!(info.as_object().unwrap().len(), 1, "{info}");
    assert!(info["sub"].is_string());
}

#[tokio::test]
async fn a_profile_over_a_config_built_in_code() {
    let idp = mock_idp::MockIdp::builder()
        .config(Config::builtin())
        .key_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures"))
        .profile("okta")
        .start()
        .await
        .unwrap();
    assert!(
        idp.issuer().ends_with("/oauth2/default"),
        "{}",
        idp.issuer()
    );
    let d: Value = reqwest::get(idp.discovery_url())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        d["token_endpoint"]
            .as_str()
            .unwrap()
            .ends_with("/oauth2/default/v1/token"),
        "{d}"
    );
    let unknown = mock_idp::MockIdp::builder()
        .config(Config::builtin())
        .profile("okra")
        .start()
        .await
        .unwrap_err()
        .to_string();
    assert!(unknown.contains("unknown profile \"okra\""), "{unknown}");
}
