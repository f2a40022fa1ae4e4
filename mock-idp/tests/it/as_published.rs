//! The shapes a captured profile states beyond the built-in providers' (what preflight
//! found on real providers): a discovery document as the provider publishes it, a JWKS of
//! its algorithms only, PKCE refused, no `scope` in the token response, no ID token on
//! refresh, no `email_verified`, groups joined into one string. Each is checked against
//! the same tenant without it.

use mock_idp::{Config, Placement, TokenKind};

use crate::support::*;

const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

#[tokio::test]
async fn the_discovery_document_says_what_the_provider_publishes() {
    let plain = json(&idp().get("/.well-known/openid-configuration", None).await);
    assert!(
        plain.get("scopes_supported").is_some() && plain.get("introspection_endpoint").is_some()
    );
    let idp = idp_with(|c| {
        c.discovery.omit = vec!["scopes_supported".into(), "introspection_endpoint".into()];
        c.discovery.values.insert(
            "grant_types_supported".into(),
            serde_json::json!(["authorization_code", "implicit"]),
        );
        c.discovery.values.insert(
            "request_parameter_supported".into(),
            serde_json::json!(true),
        );
    });
    let d = json(&idp.get("/.well-known/openid-configuration", None).await);
    assert!(d.get("scopes_supported").is_none(), "{d}");
    assert!(d.get("introspection_endpoint").is_none(), "{d}");
    assert_eq!(
        d["grant_types_supported"],
        serde_json::json!(["authorization_code", "implicit"])
    );
    assert_eq!(d["request_parameter_supported"], true);
    // The rest is the mock's own.
    assert_eq!(d["token_endpoint"], plain["token_endpoint"]);
    assert_eq!(d["claims_supported"], plain["claims_supported"]);
    // It changes the document only: the refresh grant still works.
    let t = idp.tokens("alice").await;
    let res = idp.refresh(t["refresh_token"].as_str().unwrap()).await;
    assert_eq!(res.status(), 200, "{}", body(&res));
}

#[test]
fn a_discovery_member_a_profile_cannot_state_is_named() {
    let base = "issuer = \"http://x\"\n[[keys]]\nkid = \"k\"\nalg = \"RS256\"\npem_file = \"keys/rsa-1.pem\"\n";
    for (tail, want) in [
        (
            "[discovery]\nomit = [\"token_endpoint\"]\n",
            "discovery.omit",
        ),
        (
            "[discovery.values]\nscopes_supported = \"openid\"\n",
            "must be a list of strings",
        ),
        (
            "[discovery.values]\nbackchannel_logout_supported = [\"x\"]\n",
            "must be true or false",
        ),
        (
            "[discovery.values]\nissuer = [\"x\"]\n",
            "not a discovery member",
        ),
        (
            "[discovery]\nomit = [\"scopes_supported\"]\n[discovery.values]\nscopes_supported = []\n",
            "both given and left out",
        ),
    ] {
        let e = Config::from_toml(&format!("{base}{tail}"), "t.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains(want), "{tail}: {e}");
        assert!(e.contains("t.toml"), "{e}");
    }
}

#[test]
fn key_algs_keep_only_the_providers_keys() {
    let all = Config::builtin();
    assert!(all.keys.len() > 1);
    let dir = std::env::temp_dir().join(format!("key-algs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("p.toml");
    std::fs::write(&file, "key_algs = [\"RS256\"]\n").unwrap();
    let c = Config::builtin_with_profile(&file.display().to_string()).unwrap();
    let algs: Vec<&str> = c.keys.iter().map(|k| k.alg.as_str()).collect();
    assert_eq!(algs, ["RS256"]);
    std::fs::write(&file, "key_algs = \"RS256\"\n").unwrap();
    let e = Config::builtin_with_profile(&file.display().to_string())
        .unwrap_err()
        .to_string();
    assert!(e.contains("key_algs must be a list"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn pkce_refused_answers_the_error_alone_and_takes_the_same_request_without_it() {
    let pkce = [
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
        ("login_hint", "alice"),
    ];
    let taken = idp().authorize(&pkce, None).await;
    assert!(param(&location(&taken), "code").is_some());
    let idp = idp_with(|c| c.quirks.pkce_refused = true);
    let res = idp.authorize(&pkce, None).await;
    let to = location(&res);
    assert_eq!(
        param(&to, "error").as_deref(),
        Some("invalid_request"),
        "{to}"
    );
    assert_eq!(param(&to, "error_description"), None, "{to}");
    assert_eq!(param(&to, "state").as_deref(), Some("st"));
    // The control: the same request without PKCE gets its code.
    idp.code("alice", &[]).await;
}

#[tokio::test]
async fn the_token_response_may_name_no_scope() {
    assert!(idp().tokens("alice").await.get("scope").is_some());
    let idp = idp_with(|c| c.quirks.omit_token_scope = true);
    let t = idp.tokens("alice").await;
    assert!(t.get("scope").is_none(), "{t}");
    assert!(t.get("refresh_token").is_some(), "{t}");
}

#[tokio::test]
async fn a_refresh_may_return_no_id_token() {
    let plain = idp();
    let t = plain.tokens("alice").await;
    let res = plain.refresh(t["refresh_token"].as_str().unwrap()).await;
    assert!(json(&res).get("id_token").is_some());
    let idp = idp_with(|c| c.quirks.refresh_without_id_token = true);
    let t = idp.tokens("alice").await;
    assert!(t.get("id_token").is_some(), "the login's still has one");
    let res = idp.refresh(t["refresh_token"].as_str().unwrap()).await;
    let r = json(&res);
    assert_eq!(res.status(), 200, "{r}");
    assert!(
        r.get("id_token").is_none() && r.get("access_token").is_some(),
        "{r}"
    );
}

#[tokio::test]
async fn email_verified_may_be_left_out() {
    let id = |t: &serde_json::Value| claims(t["id_token"].as_str().unwrap());
    assert_eq!(id(&idp().tokens("alice").await)["email_verified"], true);
    let idp = idp_with(|c| c.quirks.omit_email_verified = true);
    let c = id(&idp.tokens("alice").await);
    assert!(
        c.get("email").is_some() && c.get("email_verified").is_none(),
        "{c}"
    );
}

#[tokio::test]
async fn groups_may_be_joined_into_one_string() {
    let idp = idp_with(|c| {
        c.groups.placements = vec![Placement {
            token: TokenKind::AccessToken,
            pointer: "/groups".into(),
            single_as_string: false,
            omit_when_empty: false,
            joined: Some(",".into()),
        }];
    });
    let t = idp.tokens("bob").await;
    let groups = claims(t["access_token"].as_str().unwrap())["groups"].clone();
    assert_eq!(groups, "admins,analysts");
}

#[tokio::test]
async fn the_id_token_is_shaped_like_the_providers() {
    let plain = idp();
    let t = plain.tokens("alice").await;
    let jwt = t["id_token"].as_str().unwrap();
    assert_eq!(header(jwt)["typ"], "JWT");
    let c = claims(jwt);
    for k in ["auth_time", "azp", "at_hash", "sid"] {
        assert!(c.get(k).is_some(), "{k} in {c}");
    }
    assert!(c.get("c_hash").is_none() && c.get("amr").is_none(), "{c}");
    let res = plain.refresh(t["refresh_token"].as_str().unwrap()).await;
    assert!(
        claims(json(&res)["id_token"].as_str().unwrap())
            .get("nonce")
            .is_none()
    );

    let idp = idp_with(|c| {
        c.quirks.id_token_omit = vec!["azp".into(), "sid".into()];
        c.quirks.omit_id_token_header_typ = true;
        c.quirks.id_token_c_hash = true;
        c.quirks.id_token_amr = vec!["pwd".into()];
        c.quirks.refresh_keeps_nonce = true;
    });
    let code = idp.code("alice", &[]).await;
    let res = idp.exchange(&code, &[]).await;
    let t = json(&res);
    let jwt = t["id_token"].as_str().unwrap();
    assert!(header(jwt).get("typ").is_none(), "{}", header(jwt));
    let c = claims(jwt);
    assert!(c.get("azp").is_none() && c.get("sid").is_none(), "{c}");
    assert!(
        c.get("auth_time").is_some() && c.get("at_hash").is_some(),
        "{c}"
    );
    assert_eq!(c["amr"], serde_json::json!(["pwd"]));
    // c_hash is computed as at_hash is, over the code (OIDC Core §3.3.2.11).
    assert_eq!(c["c_hash"], left_half_sha256(&code));
    assert_eq!(c["nonce"], "no");
    let res = idp.refresh(t["refresh_token"].as_str().unwrap()).await;
    let refreshed = claims(json(&res)["id_token"].as_str().unwrap());
    assert_eq!(refreshed["nonce"], "no", "{refreshed}");
    assert!(
        refreshed.get("c_hash").is_none(),
        "no code on refresh: {refreshed}"
    );
}

#[test]
fn only_optional_claims_may_be_left_out_of_id_tokens() {
    let e = Config::from_toml(
        "issuer = \"http://x\"\n[[keys]]\nkid = \"k\"\nalg = \"RS256\"\npem_file = \"keys/rsa-1.pem\"\n[quirks]\nid_token_omit = [\"nonce\"]\n",
        "t.toml",
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("quirks.id_token_omit") && e.contains("\"nonce\""),
        "{e}"
    );
}

/// OIDC Core §3.3.2.11: base64url of the left half of the SHA-256 of the value.
fn left_half_sha256(value: &str) -> String {
    use base64::Engine;
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, value.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&d.as_ref()[..16])
}
