//! Dynamic client registration (RFC 7591) and its management (RFC 7592): a client
//! registers with the initial access token, logs a user in and refreshes with the
//! credentials it got; its registration is read, replaced and deleted with the
//! registration access token; bad metadata and wrong tokens are refused with RFC 7591's
//! errors.

use serde_json::{Value, json};
use warp::http::Response;

use crate::support::*;

const INITIAL: &str = "initial-access-token-1";

fn dcr_idp(edit: impl FnOnce(&mut mock_idp::Config)) -> Idp {
    idp_with(|c| {
        c.registration.enabled = true;
        c.registration.initial_access_token = Some(INITIAL.into());
        edit(c);
    })
}

/// A JSON request to `path` with a bearer token.
async fn send(
    idp: &Idp,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> Response<bytes::Bytes> {
    let mut r = warp::test::request().method(method).path(path);
    if let Some(t) = token {
        r = r.header("authorization", format!("Bearer {t}"));
    }
    if let Some(b) = body {
        r = r
            .header("content-type", "application/json")
            .body(b.to_string());
    }
    r.reply(&idp.routes).await
}

fn web_client() -> Value {
    json!({
        "redirect_uris": [REDIRECT],
        "token_endpoint_auth_method": "client_secret_post",
        "grant_types": ["authorization_code", "refresh_token"],
        "client_name": "Registered RP",
        "scope": "openid profile email offline_access",
        "x-unknown-extension": 1,
    })
}

async fn register(idp: &Idp, metadata: &Value) -> Value {
    let res = send(idp, "POST", "/register", Some(INITIAL), Some(metadata)).await;
    assert_eq!(res.status(), 201, "{}", body(&res));
    assert_eq!(
        res.headers()["cache-control"],
        "no-store",
        "credentials are not cached"
    );
    json(&res)
}

/// Redeems `code` as a registered client, with client_secret_post.
async fn exchange_as(
    idp: &Idp,
    (id, secret): (&str, &str),
    code: &str,
    redirect_uri: &str,
) -> Response<bytes::Bytes> {
    idp.post(
        "/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("client_id", id),
            ("client_secret", secret),
        ],
        &[],
    )
    .await
}

/// The registration's client id, secret and its management path.
fn credentials(reg: &Value) -> (String, String, String) {
    let uri = reg["registration_client_uri"].as_str().unwrap();
    let path = uri.strip_prefix(ISSUER).unwrap().to_owned();
    (
        reg["client_id"].as_str().unwrap().to_owned(),
        reg["client_secret"].as_str().unwrap_or("").to_owned(),
        path,
    )
}

#[tokio::test]
async fn discovery_names_the_registration_endpoint_only_where_enabled() {
    let off = json(&idp().get("/.well-known/openid-configuration", None).await);
    assert!(off.get("registration_endpoint").is_none(), "{off}");
    let res = send(&idp(), "POST", "/register", None, Some(&web_client())).await;
    assert_error(&res, 404, "invalid_request");

    let on = json(
        &dcr_idp(|_| {})
            .get("/.well-known/openid-configuration", None)
            .await,
    );
    assert_eq!(on["registration_endpoint"], format!("{ISSUER}/register"));
    // A registered client may choose any method, so discovery lists them all.
    let methods = on["token_endpoint_auth_methods_supported"]
        .as_array()
        .unwrap();
    for m in ["client_secret_basic", "private_key_jwt", "none"] {
        assert!(methods.iter().any(|x| x == m), "{m} in {methods:?}");
    }
}

#[tokio::test]
async fn a_registered_client_logs_a_user_in_and_refreshes_with_its_credentials() {
    let idp = dcr_idp(|_| {});
    let reg = register(&idp, &web_client()).await;
    let (id, secret, _) = credentials(&reg);
    assert!(id.starts_with("dcr-"), "{id}");
    assert!(secret.len() >= 32, "{secret}");
    assert_eq!(reg["client_secret_expires_at"], 0, "never expires");
    assert_eq!(reg["client_id_issued_at"], T0);
    assert_eq!(reg["token_endpoint_auth_method"], "client_secret_post");
    assert_eq!(reg["response_types"], json!(["code"]), "the default");
    assert_eq!(reg["application_type"], "web", "the default");
    assert_eq!(reg["client_name"], "Registered RP");
    assert!(
        reg.get("x-unknown-extension").is_none(),
        "unknown metadata is ignored (RFC 7591 §2)"
    );

    let res = idp
        .authorize(&[("client_id", &id), ("login_hint", "alice")], None)
        .await;
    assert_eq!(res.status(), 302, "{}", body(&res));
    let code = param(&location(&res), "code").unwrap();
    let res = exchange_as(&idp, (&id, &secret), &code, REDIRECT).await;
    assert_eq!(res.status(), 200, "{}", body(&res));
    let tokens = json(&res);
    assert_eq!(claims(tokens["id_token"].as_str().unwrap())["aud"], id);
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let res = idp
        .post(
            "/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh),
                ("client_id", &id),
                ("client_secret", &secret),
            ],
            &[],
        )
        .await;
    assert_eq!(res.status(), 200, "{}", body(&res));

    // Only the method it registered.
    let code = idp.code("alice", &[("client_id", &id)]).await;
    let res = idp
        .post(
            "/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
            ],
            &[("authorization", &basic(&id, &secret))],
        )
        .await;
    assert_error(&res, 401, "invalid_client");

    let entry = idp
        .tenant
        .journal(0)
        .into_iter()
        .find(|e| e.endpoint == mock_idp::journal::Endpoint::Register)
        .unwrap();
    assert_eq!(entry.status, 201);
    assert_eq!(entry.client_id.as_deref(), Some(id.as_str()));
    assert_eq!(entry.redirect_uri.as_deref(), Some(REDIRECT));
    assert_eq!(
        entry.metadata.as_ref().unwrap()["client_name"],
        "Registered RP"
    );
}

#[tokio::test]
async fn registration_needs_the_initial_access_token() {
    let idp = dcr_idp(|_| {});
    let res = send(&idp, "POST", "/register", None, Some(&web_client())).await;
    let why = assert_error(&res, 401, "invalid_token");
    assert!(why.contains("initial access token"), "{why}");
    assert_eq!(
        res.headers()["www-authenticate"],
        "Bearer realm=\"mock-idp\""
    );
    let res = send(
        &idp,
        "POST",
        "/register",
        Some("guess"),
        Some(&web_client()),
    )
    .await;
    assert_error(&res, 401, "invalid_token");
    assert!(
        res.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("error=\"invalid_token\"")
    );
    assert_eq!(idp.tenant.registered_clients(), 0);

    // Without one configured, registration is open.
    let open = idp_with(|c| c.registration.enabled = true);
    let res = send(&open, "POST", "/register", None, Some(&web_client())).await;
    assert_eq!(res.status(), 201, "{}", body(&res));
}

#[tokio::test]
async fn bad_metadata_is_refused_naming_the_member() {
    let idp = dcr_idp(|_| {});
    let cases: &[(Value, &str, &str)] = &[
        (json!({}), "invalid_redirect_uri", "redirect_uris"),
        (
            json!({"redirect_uris": ["/relative"]}),
            "invalid_redirect_uri",
            "not an absolute URI",
        ),
        (
            json!({"redirect_uris": ["https://rp.example/cb#frag"]}),
            "invalid_redirect_uri",
            "fragment",
        ),
        (
            json!({"redirect_uris": "https://rp.example/cb"}),
            "invalid_client_metadata",
            "redirect_uris",
        ),
        (
            json!({"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "tls_client_auth"}),
            "invalid_client_metadata",
            "token_endpoint_auth_method",
        ),
        (
            json!({"redirect_uris": [REDIRECT], "grant_types": ["implicit"]}),
            "invalid_client_metadata",
            "grant_types",
        ),
        (
            json!({"redirect_uris": [REDIRECT], "response_types": ["code id_token"]}),
            "invalid_client_metadata",
            "response_types",
        ),
        (
            json!({"redirect_uris": [REDIRECT], "grant_types": ["client_credentials"], "response_types": ["code"]}),
            "invalid_client_metadata",
            "disagree",
        ),
        (
            json!({"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "private_key_jwt"}),
            "invalid_client_metadata",
            "jwks",
        ),
        (
            json!({"redirect_uris": [REDIRECT], "jwks": {"keys": []}, "jwks_uri": "https://rp.example/jwks"}),
            "invalid_client_metadata",
            "both",
        ),
        (
            json!({"redirect_uris": [REDIRECT], "id_token_signed_response_alg": "none"}),
            "invalid_client_metadata",
            "id_token_signed_response_alg",
        ),
        (
            json!({"redirect_uris": [REDIRECT], "dpop_bound_access_tokens": true}),
            "invalid_client_metadata",
            "[dpop]",
        ),
        (
            json!({"redirect_uris": [REDIRECT], "client_id_issued_at": 1}),
            "invalid_client_metadata",
            "client_id_issued_at",
        ),
        (
            json!({"redirect_uris": [REDIRECT], "application_type": "desktop"}),
            "invalid_client_metadata",
            "application_type",
        ),
    ];
    for (metadata, error, names) in cases {
        let res = send(&idp, "POST", "/register", Some(INITIAL), Some(metadata)).await;
        let why = assert_error(&res, 400, error);
        assert!(why.contains(names), "{metadata}: {why}");
    }
    // Not JSON, or not an object.
    let res = warp::test::request()
        .method("POST")
        .path("/register")
        .header("authorization", format!("Bearer {INITIAL}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("redirect_uris=x")
        .reply(&idp.routes)
        .await;
    assert_error(&res, 400, "invalid_client_metadata");
    let res = send(&idp, "POST", "/register", Some(INITIAL), Some(&json!([1]))).await;
    assert_error(&res, 400, "invalid_client_metadata");
    assert_eq!(idp.tenant.registered_clients(), 0, "nothing was kept");
}

#[tokio::test]
async fn a_client_of_the_client_credentials_grant_needs_no_redirect_uri() {
    let idp = dcr_idp(|_| {});
    let reg = register(
        &idp,
        &json!({"grant_types": ["client_credentials"], "token_endpoint_auth_method": "client_secret_basic"}),
    )
    .await;
    assert_eq!(reg["response_types"], json!([]));
    let (id, secret, _) = credentials(&reg);
    let res = idp
        .post(
            "/token",
            &[("grant_type", "client_credentials")],
            &[("authorization", &basic(&id, &secret))],
        )
        .await;
    assert_eq!(res.status(), 200, "{}", body(&res));
}

#[tokio::test]
async fn a_registration_is_read_replaced_and_deleted_with_its_access_token() {
    let idp = dcr_idp(|_| {});
    let reg = register(&idp, &web_client()).await;
    let (id, secret, path) = credentials(&reg);
    assert_eq!(path, format!("/register/{id}"));
    let token = reg["registration_access_token"].as_str().unwrap();

    let res = send(&idp, "GET", &path, Some(token), None).await;
    assert_eq!(res.status(), 200, "{}", body(&res));
    assert_eq!(json(&res), reg, "a read answers the registration");
    for wrong in [None, Some("guess"), Some(INITIAL)] {
        let res = send(&idp, "GET", &path, wrong, None).await;
        assert_error(&res, 401, "invalid_token");
    }
    // Another client's path with this token: told as an unknown client.
    let other = register(&idp, &web_client()).await;
    let res = send(
        &idp,
        "GET",
        &format!("/register/{}", other["client_id"].as_str().unwrap()),
        Some(token),
        None,
    )
    .await;
    assert_error(&res, 401, "invalid_token");

    // An update replaces: the new redirect URI alone, the name gone.
    let moved = "http://127.0.0.1:9999/cb";
    let update = json!({
        "client_id": id,
        "client_secret": secret,
        "redirect_uris": [moved],
        "token_endpoint_auth_method": "client_secret_post",
    });
    let res = send(&idp, "PUT", &path, Some(token), Some(&update)).await;
    assert_eq!(res.status(), 200, "{}", body(&res));
    let updated = json(&res);
    assert_eq!(updated["redirect_uris"], json!([moved]));
    assert!(updated.get("client_name").is_none(), "{updated}");
    assert_eq!(updated["client_secret"], secret, "the secret stays");
    assert_eq!(updated["grant_types"], json!(["authorization_code"]));
    let res = idp
        .authorize(&[("client_id", &id), ("login_hint", "alice")], None)
        .await;
    assert_eq!(res.status(), 400, "the old redirect URI is gone");
    // An update that names another client, or a wrong secret, is refused.
    for (k, v) in [("client_id", "dcr-other"), ("client_secret", "guess")] {
        let mut bad = update.clone();
        bad[k] = json!(v);
        let res = send(&idp, "PUT", &path, Some(token), Some(&bad)).await;
        let why = assert_error(&res, 400, "invalid_client_metadata");
        assert!(why.contains(k), "{why}");
    }

    // A login of the client before it is deleted: its tokens die with it.
    let code = idp
        .code("alice", &[("client_id", &id), ("redirect_uri", moved)])
        .await;
    let res = exchange_as(&idp, (&id, &secret), &code, moved).await;
    assert_eq!(res.status(), 200, "{}", body(&res));
    let access = json(&res)["access_token"].as_str().unwrap().to_owned();
    let userinfo = |access: String| {
        let idp = &idp;
        async move {
            warp::test::request()
                .method("GET")
                .path("/userinfo")
                .header("authorization", format!("Bearer {access}"))
                .reply(&idp.routes)
                .await
        }
    };
    assert_eq!(userinfo(access.clone()).await.status(), 200);

    let res = send(&idp, "DELETE", &path, Some(token), None).await;
    assert_eq!(res.status(), 204, "{}", body(&res));
    assert_error(&userinfo(access).await, 401, "invalid_token");
    let res = send(&idp, "GET", &path, Some(token), None).await;
    assert_error(&res, 401, "invalid_token");
    let res = idp
        .post(
            "/token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &id),
                ("client_secret", &secret),
            ],
            &[],
        )
        .await;
    let why = assert_error(&res, 401, "invalid_client");
    assert!(why.contains("unknown client"), "{why}");
    let res = send(&idp, "PATCH", &path, Some(token), None).await;
    assert_error(&res, 405, "invalid_request");
}

#[tokio::test]
async fn a_secret_past_its_expiry_is_refused_and_the_template_shapes_registered_clients() {
    let idp = dcr_idp(|c| {
        c.registration.secret_lifetime = 3600;
        c.registration.template = Some("demo-rp".into());
        c.clients[0].refresh_tokens = mock_idp::config::RefreshPolicy::Always;
    });
    let mut metadata = web_client();
    metadata["scope"] = json!("openid");
    let reg = register(&idp, &metadata).await;
    assert_eq!(reg["client_secret_expires_at"], T0 + 3600);
    let (id, secret, _) = credentials(&reg);
    // The template's refresh policy: a refresh token without offline_access.
    let code = idp
        .code("alice", &[("client_id", &id), ("scope", "openid")])
        .await;
    let res = exchange_as(&idp, (&id, &secret), &code, REDIRECT).await;
    assert_eq!(res.status(), 200, "{}", body(&res));
    assert!(json(&res)["refresh_token"].is_string(), "{}", body(&res));

    idp.tenant.clock.advance(3600);
    let code = idp.code("alice", &[("client_id", &id)]).await;
    let res = exchange_as(&idp, (&id, &secret), &code, REDIRECT).await;
    let why = assert_error(&res, 401, "invalid_client");
    assert!(why.contains("expired"), "{why}");
}

#[test]
fn a_config_says_which_registration_field_is_wrong_and_where() {
    // Lines 1-9: the issuer, a key and a client; the section from line 10.
    let load = |section: &str| {
        let text = format!(
            "issuer = \"http://idp.test\"\n[[keys]]\nkid = \"k\"\nalg = \"RS256\"\npem_file = \"keys/rsa-1.pem\"\n[[clients]]\nid = \"a\"\nsecret = \"s\"\nredirect_uris = [\"http://127.0.0.1/cb\"]\n[registration]\n{section}"
        );
        mock_idp::Config::from_toml(&text, "idp.toml").err()
    };
    assert!(load("enabled = true\ntemplate = \"a\"\n").is_none());
    for (section, field, line, says) in [
        (
            "initial_access_token = \"x\"\n",
            "initial_access_token",
            11,
            "enabled",
        ),
        (
            "enabled = true\ntemplate = \"nobody\"\n",
            "template",
            12,
            "nobody",
        ),
        (
            "enabled = true\ninitial_access_token = \"\"\n",
            "initial_access_token",
            12,
            "open",
        ),
        (
            "enabled = true\nsecret_lifetim = 5\n",
            "secret_lifetim",
            12,
            "unknown",
        ),
    ] {
        let e = load(section).expect("refused");
        assert_eq!(e.line, Some(line), "{e}");
        let text = e.to_string();
        assert!(text.contains(field) && text.contains(says), "{text}");
    }
}
