//! Tenants created at runtime, over real sockets: isolated from each other, resettable,
//! deletable, safe for parallel tests in one process.

use mock_idp::MockIdp;
use serde_json::{Value, json};

use crate::support::{REDIRECT, claims};

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Logs `user` in at `issuer`; the token response.
async fn login(http: &reqwest::Client, issuer: &str, user: &str) -> Value {
    let res = http
        .get(format!("{issuer}/authorize"))
        .query(&[
            ("client_id", "demo-rp"),
            ("redirect_uri", REDIRECT),
            ("response_type", "code"),
            ("scope", "openid profile email offline_access"),
            ("state", "s"),
            ("login_hint", user),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302, "{issuer}");
    let loc = url::Url::parse(res.headers()["location"].to_str().unwrap()).unwrap();
    let code = loc
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    http.post(format!("{issuer}/token"))
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
        .unwrap()
}

async fn get_json(http: &reqwest::Client, url: String) -> (u16, Value) {
    let res = http.get(url).send().await.unwrap();
    (
        res.status().as_u16(),
        res.json().await.unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn a_created_tenant_is_a_whole_isolated_provider() {
    let idp = MockIdp::start().await;
    let http = http();
    let (status, made) = create(&http, &idp, json!({"name": "acme"})).await;
    assert_eq!(status, 201);
    let issuer = made["issuer"].as_str().unwrap().to_owned();
    assert_eq!(issuer, format!("{}/t/acme", idp.issuer()));

    let (status, discovery) =
        get_json(&http, format!("{issuer}/.well-known/openid-configuration")).await;
    assert_eq!(
        (status, discovery["issuer"].as_str()),
        (200, Some(issuer.as_str()))
    );
    assert_eq!(discovery["token_endpoint"], format!("{issuer}/token"));
    let (_, own_jwks) = get_json(&http, format!("{issuer}/jwks")).await;
    let (_, default_jwks) = get_json(&http, format!("{}/jwks", idp.issuer())).await;
    assert_ne!(
        own_jwks["keys"][0]["n"], default_jwks["keys"][0]["n"],
        "its own keys"
    );

    // Its own directory and clock.
    let res = http
        .patch(format!("{issuer}/admin/users/alice"))
        .json(&json!({"groups": ["acme-admins"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    http.post(format!("{issuer}/admin/clock"))
        .json(&json!({"advance": 86400}))
        .send()
        .await
        .unwrap();
    let t = login(&http, &issuer, "alice").await;
    let id = claims(t["id_token"].as_str().unwrap());
    assert_eq!(id["groups"], json!(["acme-admins"]));
    assert_eq!(id["iss"], issuer.as_str());
    let d = claims(
        login(&http, idp.issuer(), "alice").await["id_token"]
            .as_str()
            .unwrap(),
    );
    assert_eq!(
        d["groups"],
        json!(["analysts"]),
        "the default tenant is untouched"
    );
    assert!(
        id["iat"].as_i64().unwrap() >= d["iat"].as_i64().unwrap() + 86_000,
        "its own clock"
    );

    // A token of one tenant means nothing to another.
    let res = http
        .get(format!("{}/userinfo", idp.issuer()))
        .bearer_auth(t["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);

    // Reset: back to how it was created; its tokens are gone.
    let res = http
        .post(format!("{}/admin/tenants/acme/reset", idp.issuer()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let (_, alice) = get_json(&http, format!("{issuer}/admin/users/alice")).await;
    assert_eq!(alice["groups"], json!(["analysts"]));
    let res = http
        .get(format!("{issuer}/userinfo"))
        .bearer_auth(t["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);

    // Delete.
    let res = http
        .delete(format!("{}/admin/tenants/acme", idp.issuer()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let (status, _) = get_json(&http, format!("{issuer}/.well-known/openid-configuration")).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn tenant_management_errors() {
    let idp = MockIdp::start().await;
    let http = http();
    let post = |body: Value| {
        http.post(format!("{}/admin/tenants", idp.issuer()))
            .json(&body)
            .send()
    };
    assert_eq!(
        post(json!({"name": "Bad Name"})).await.unwrap().status(),
        400
    );
    assert_eq!(post(json!({"name": "a"})).await.unwrap().status(), 201);
    assert_eq!(
        post(json!({"name": "a"})).await.unwrap().status(),
        409,
        "taken"
    );
    assert_eq!(
        post(json!({"name": "b", "config": {"issuer": "http://x"}}))
            .await
            .unwrap()
            .status(),
        400,
        "no keys: invalid config"
    );
    let res = http
        .delete(format!("{}/admin/tenants/nope", idp.issuer()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let res = http
        .get(format!("{}/t/a/admin/tenants", idp.issuer()))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        404,
        "tenants are managed from the default tenant only"
    );
    let (_, list) = get_json(&http, format!("{}/admin/tenants", idp.issuer())).await;
    assert_eq!(list.as_array().unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_tests_can_share_one_process() {
    let idp = MockIdp::start().await;
    let tenants: Vec<_> = (0..6)
        .map(|i| idp.create_tenant(&format!("p{i}"), None).unwrap())
        .collect();
    let runs = tenants.iter().map(|t| {
        let issuer = t.issuer.clone();
        tokio::spawn(async move {
            let http = http();
            let t = login(&http, &issuer, "bob").await;
            claims(t["id_token"].as_str().unwrap())["iss"].as_str() == Some(issuer.as_str())
        })
    });
    for r in runs {
        assert!(r.await.unwrap());
    }
    idp.delete_tenant("p0").unwrap();
    assert!(idp.delete_tenant("p0").is_err());
}

#[tokio::test]
async fn each_tenant_keeps_its_own_browser_session() {
    let idp = MockIdp::start().await;
    let acme = idp.create_tenant("acme", None).unwrap().issuer.clone();
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap();
    let authorize = |issuer: String, extra: (&'static str, &'static str)| {
        let browser = browser.clone();
        async move {
            let res = browser
                .get(format!("{issuer}/authorize"))
                .query(&[
                    ("client_id", "demo-rp"),
                    ("redirect_uri", REDIRECT),
                    ("response_type", "code"),
                    ("scope", "openid"),
                    extra,
                ])
                .send()
                .await
                .unwrap();
            let loc = url::Url::parse(res.headers()["location"].to_str().unwrap()).unwrap();
            loc.query_pairs()
                .find(|(k, _)| k == "code" || k == "error")
                .map(|(k, _)| k.into_owned())
        }
    };
    assert_eq!(
        authorize(idp.issuer().to_owned(), ("login_hint", "alice"))
            .await
            .as_deref(),
        Some("code")
    );
    assert_eq!(
        authorize(acme.clone(), ("login_hint", "bob"))
            .await
            .as_deref(),
        Some("code")
    );
    // Both sessions survive each other: silent logins at both.
    assert_eq!(
        authorize(idp.issuer().to_owned(), ("prompt", "none"))
            .await
            .as_deref(),
        Some("code")
    );
    assert_eq!(
        authorize(acme, ("prompt", "none")).await.as_deref(),
        Some("code")
    );
}

#[tokio::test]
async fn put_creates_then_rebuilds_a_tenant_keeping_its_issuer_and_keys() {
    let idp = MockIdp::start().await;
    let http = http();
    let put = |body: Value| {
        http.put(format!("{}/admin/tenants/ci", idp.issuer()))
            .json(&body)
            .send()
    };
    let res = put(json!({})).await.unwrap();
    assert_eq!(res.status(), 201, "created");
    let issuer = format!("{}/t/ci", idp.issuer());
    let rotated = http
        .post(format!("{issuer}/admin/keys/rotate"))
        .json(&json!({"remove_old": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(rotated.status(), 200);
    let (_, jwks_before) = get_json(&http, format!("{issuer}/jwks")).await;
    let tokens = login(&http, &issuer, "alice").await;
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();

    let res = put(json!({})).await.unwrap();
    assert_eq!(res.status(), 200, "rebuilt");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["issuer"], issuer);
    assert_eq!(body["created"], false);
    // The journal first: a JWKS fetch is journaled too.
    let (_, journal) = get_json(&http, format!("{issuer}/admin/journal")).await;
    assert_eq!(journal, json!([]), "the journal starts afresh");
    let (_, jwks_after) = get_json(&http, format!("{issuer}/jwks")).await;
    assert_eq!(
        jwks_after, jwks_before,
        "the signing keys (rotated one included) stay"
    );
    let res = http
        .post(format!("{issuer}/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh.as_str()),
            ("client_id", "demo-rp"),
            ("client_secret", "demo-secret"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400, "grants start afresh");
    let again = login(&http, &issuer, "alice").await;
    let kid = |jwt: &str| {
        let header = jwt.split('.').next().unwrap();
        let bytes =
            base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, header)
                .unwrap();
        serde_json::from_slice::<Value>(&bytes).unwrap()["kid"].clone()
    };
    assert_eq!(
        kid(again["id_token"].as_str().unwrap()),
        jwks_before["keys"][0]["kid"],
        "tokens are signed with the kept key"
    );

    let res = put(json!({"config": {"issuer": "x", "keys": []}}))
        .await
        .unwrap();
    assert_eq!(res.status(), 400, "a bad config is refused");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
}

/// The RSA moduli a tenant publishes, with their kids.
async fn rsa_keys(http: &reqwest::Client, issuer: &str) -> Vec<(String, String)> {
    let (_, jwks) = get_json(http, format!("{issuer}/jwks")).await;
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["kty"] == "RSA")
        .map(|k| {
            (
                k["kid"].as_str().unwrap().to_owned(),
                k["n"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn create(http: &reqwest::Client, idp: &MockIdp, body: Value) -> (u16, Value) {
    let res = http
        .post(format!("{}/admin/tenants", idp.issuer()))
        .json(&body)
        .send()
        .await
        .unwrap();
    (
        res.status().as_u16(),
        res.json().await.unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn tenants_sign_with_keys_of_their_own_unless_they_ask_to_share_the_servers() {
    let idp = MockIdp::start().await;
    let http = http();
    let mut moduli = Vec::new();
    for (name, keys) in [
        ("own-1", None),
        ("own-2", Some("own")),
        ("shared-1", Some("shared")),
        ("shared-2", Some("shared")),
    ] {
        let mut body = json!({ "name": name });
        if let Some(k) = keys {
            body["keys"] = json!(k);
        }
        let (status, made) = create(&http, &idp, body).await;
        assert_eq!(status, 201, "{name}: {made}");
        let issuer = made["issuer"].as_str().unwrap().to_owned();
        let tokens = login(&http, &issuer, "alice").await;
        assert!(tokens["id_token"].is_string(), "{name} signs: {tokens}");
        moduli.push(rsa_keys(&http, &issuer).await);
    }
    let n = |i: usize| moduli[i][0].1.clone();
    let (own1, own2, shared1, shared2) = (n(0), n(1), n(2), n(3));
    assert_ne!(own1, own2, "own keys are no other tenant's");
    assert_ne!(own1, shared1);
    assert_ne!(own2, shared1);
    assert_eq!(
        shared1, shared2,
        "shared tenants sign with the server's one RSA key"
    );
    let kids = |i: usize| moduli[i].iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
    assert_eq!(kids(0), kids(1), "own keys keep the config's kids");
    assert_eq!(kids(2), ["mock-rs256-1-shared-1", "mock-ps256-1-shared-1"]);
    assert_ne!(
        kids(2),
        kids(3),
        "shared key material under kids of each tenant's own"
    );
    // A rotation brings a key of the tenant's own.
    let rotated = http
        .post(format!("{}/t/shared-1/admin/keys/rotate", idp.issuer()))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert!(rotated.status().is_success(), "{}", rotated.status());
    let after = rsa_keys(&http, &format!("{}/t/shared-1", idp.issuer())).await;
    let fresh: Vec<_> = after.iter().filter(|(k, _)| !kids(2).contains(k)).collect();
    assert_eq!(fresh.len(), 1, "one new key: {after:?}");
    assert_ne!(fresh[0].1, shared1, "a rotated-in key is the tenant's own");

    let (status, refused) = create(&http, &idp, json!({"name": "x", "keys": "borrowed"})).await;
    assert_eq!(status, 400);
    assert_eq!(refused["error"], "invalid_request");
    assert!(
        refused["error_description"]
            .as_str()
            .unwrap()
            .contains("keys \"borrowed\""),
        "{refused}"
    );
}
