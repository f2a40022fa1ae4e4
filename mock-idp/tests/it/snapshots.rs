//! Snapshots of the discovery document and the demo users' decoded tokens, on a fixed clock.

use std::sync::Arc;

use mock_idp::config::KeyFiles;
use mock_idp::{Clock, Config, Tenant};

use crate::support::*;

fn demo() -> Idp {
    let tenant = Arc::new(
        Tenant::new(
            Config::builtin(),
            "http://127.0.0.1:9400".into(),
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

#[tokio::test]
async fn discovery_document() {
    let res = demo().get("/.well-known/openid-configuration", None).await;
    insta::assert_json_snapshot!("discovery", json(&res));
}

#[tokio::test]
async fn jwks() {
    let res = demo().get("/jwks", None).await;
    insta::assert_json_snapshot!("jwks", json(&res));
}

#[tokio::test]
async fn demo_users_tokens() {
    let idp = demo();
    for user in ["alice", "bob", "carol"] {
        let t = idp.tokens(user).await;
        let id = t["id_token"].as_str().unwrap();
        let at = t["access_token"].as_str().unwrap();
        let decoded = serde_json::json!({
            "id_token": { "header": header(id), "claims": claims(id) },
            "access_token": { "header": header(at), "claims": claims(at) },
            "expires_in": t["expires_in"],
            "scope": t["scope"],
            "has_refresh_token": t["refresh_token"].is_string(),
        });
        insta::assert_json_snapshot!(format!("tokens_{user}"), decoded, {
            ".**.iat" => "[iat]",
            ".**.exp" => "[exp]",
            ".**.auth_time" => "[auth_time]",
            ".**.jti" => "[jti]",
            ".**.sid" => "[sid]",
            ".**.at_hash" => "[at_hash]",
        });
    }
}
