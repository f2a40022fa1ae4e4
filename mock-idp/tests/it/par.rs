//! Pushed authorization requests (RFC 9126): a client pushes its request, the browser
//! carries only `client_id` and the `request_uri`; single use, short-lived, bound to the
//! client that pushed it; required where the tenant or the client says so.

use serde_json::Value;
use warp::http::Response;

use crate::support::*;

fn par_idp(edit: impl FnOnce(&mut mock_idp::Config)) -> Idp {
    idp_with(|c| {
        c.par.enabled = true;
        edit(c);
    })
}

/// demo-rp pushes an authorization request with these parameters over the usual ones.
async fn push(idp: &Idp, extra: &[(&str, &str)]) -> Response<bytes::Bytes> {
    let mut p = overridden(
        vec![
            ("client_id", "demo-rp"),
            ("client_secret", "demo-secret"),
            ("redirect_uri", REDIRECT),
            ("response_type", "code"),
            ("scope", "openid profile email offline_access"),
            ("state", "pushed-state"),
            ("nonce", "pushed-nonce"),
            ("login_hint", "alice"),
        ],
        extra,
    );
    // An empty value leaves the parameter out.
    p.retain(|(_, v)| !v.is_empty());
    idp.post("/par", &p, &[]).await
}

fn request_uri(res: &Response<bytes::Bytes>) -> String {
    assert_eq!(res.status(), 201, "{}", body(res));
    let v: Value = json(res);
    assert_eq!(v["expires_in"], 60);
    v["request_uri"].as_str().unwrap().to_owned()
}

async fn authorize_with(idp: &Idp, client_id: &str, uri: &str) -> Response<bytes::Bytes> {
    idp.get(
        &format!(
            "/authorize?{}",
            form(&[("client_id", client_id), ("request_uri", uri)])
        ),
        None,
    )
    .await
}

#[tokio::test]
async fn a_pushed_request_is_carried_by_its_request_uri_once() {
    let idp = par_idp(|_| {});
    let uri = request_uri(&push(&idp, &[]).await);
    assert!(
        uri.starts_with("urn:ietf:params:oauth:request_uri:"),
        "{uri}"
    );
    let res = authorize_with(&idp, "demo-rp", &uri).await;
    assert_eq!(res.status(), 302, "{}", body(&res));
    let loc = location(&res);
    assert!(loc.starts_with(REDIRECT), "{loc}");
    assert_eq!(
        param(&loc, "state").as_deref(),
        Some("pushed-state"),
        "the pushed state"
    );
    let code = param(&loc, "code").expect("a code");
    let tokens = idp.exchange(&code, &[]).await;
    assert_eq!(tokens.status(), 200, "{}", body(&tokens));
    assert_eq!(
        claims(json(&tokens)["id_token"].as_str().unwrap())["nonce"],
        "pushed-nonce"
    );
    // One use.
    let again = authorize_with(&idp, "demo-rp", &uri).await;
    assert_eq!(again.status(), 400);
    assert!(body(&again).contains("already used"), "{}", body(&again));
    // The journal names the push, with its client and how it authenticated.
    let journal = idp.tenant.journal(0);
    let pushed = journal
        .iter()
        .find(|e| format!("{:?}", e.endpoint) == "Par")
        .expect("the push is journaled");
    assert_eq!(pushed.client_id.as_deref(), Some("demo-rp"));
    assert_eq!(pushed.status, 201);
    // Asked by its request_uri, the journal gives the push (what was pushed, the secret
    // left out) and the authorization requests that presented it, which it describes by
    // the pushed parameters, not by the two the browser carried.
    let j = json(
        &idp.get(
            &format!("/admin/journal?{}", form(&[("request_uri", &uri)])),
            None,
        )
        .await,
    );
    let entries = j.as_array().unwrap();
    let endpoints: Vec<_> = entries.iter().map(|e| e["endpoint"].clone()).collect();
    assert_eq!(
        endpoints,
        vec!["par", "authorize", "authorize"],
        "the push, its use, the refused reuse: {j:#}"
    );
    let params = &entries[0]["parameters"];
    assert_eq!(params["state"], "pushed-state");
    assert_eq!(params["scope"], "openid profile email offline_access");
    assert_eq!(params["client_id"], "demo-rp");
    assert!(params.get("client_secret").is_none(), "{params}");
    let used = &entries[1];
    assert_eq!(used["pushed"], true);
    assert_eq!(used["state"], true);
    assert_eq!(used["nonce"], true);
    assert_eq!(used["scope"], "openid profile email offline_access");
    assert_eq!(used["redirect_uri"], REDIRECT);
    assert_eq!(used["user"], "alice");
    // No PKCE was pushed: the lint is the pushed request's; no state or nonce lint.
    assert_eq!(used["lints"], serde_json::json!(["no_pkce"]));
    assert_eq!(entries[2]["status"], 400);
}

#[tokio::test]
async fn the_login_page_replays_a_pushed_request() {
    let idp = par_idp(|_| {});
    let uri = request_uri(&push(&idp, &[("login_hint", "")]).await);
    let page = authorize_with(&idp, "demo-rp", &uri).await;
    assert_eq!(page.status(), 200, "the login page");
    let res = idp
        .post(
            "/login",
            &[
                ("request", &hidden_request_id(&body(&page))),
                ("username", "bob"),
            ],
            &[],
        )
        .await;
    assert_eq!(res.status(), 302, "{}", body(&res));
    assert_eq!(
        param(&location(&res), "state").as_deref(),
        Some("pushed-state")
    );
    // The request_uri itself is not a login form's request.
    let uri = request_uri(&push(&idp, &[("login_hint", "")]).await);
    let res = idp
        .post("/login", &[("request", &uri), ("username", "bob")], &[])
        .await;
    assert_eq!(res.status(), 400, "{}", body(&res));
}

#[tokio::test]
async fn a_request_uri_is_bound_to_its_client_and_short_lived() {
    let idp = par_idp(|c| {
        let mut other = c.clients[0].clone();
        other.id = "other-rp".into();
        c.clients.push(other);
    });
    let uri = request_uri(&push(&idp, &[]).await);
    let res = authorize_with(&idp, "other-rp", &uri).await;
    assert_eq!(res.status(), 400);
    assert!(body(&res).contains("another client"), "{}", body(&res));
    // Not spent by the attempt: its own client still uses it.
    assert_eq!(authorize_with(&idp, "demo-rp", &uri).await.status(), 302);
    let uri = request_uri(&push(&idp, &[]).await);
    idp.tenant.clock.advance(61);
    let res = authorize_with(&idp, "demo-rp", &uri).await;
    assert_eq!(res.status(), 400, "expired after 60 s");
    let res = authorize_with(&idp, "demo-rp", "urn:example:not-ours").await;
    assert_eq!(res.status(), 400);
}

#[tokio::test]
async fn a_push_is_checked_as_the_authorization_endpoint_would_check_it() {
    let idp = par_idp(|_| {});
    assert_error(
        &push(&idp, &[("client_secret", "wrong")]).await,
        401,
        "invalid_client",
    );
    let d = assert_error(
        &push(&idp, &[("request_uri", "urn:x")]).await,
        400,
        "invalid_request",
    );
    assert!(d.contains("RFC 9126"), "{d}");
    let d = assert_error(
        &push(&idp, &[("redirect_uri", "https://attacker.example/cb")]).await,
        400,
        "invalid_request",
    );
    assert!(d.contains("not registered"), "{d}");
    assert_error(
        &push(&idp, &[("response_type", "token")]).await,
        400,
        "unsupported_response_type",
    );
    // Control: the same push with nothing wrong is taken.
    request_uri(&push(&idp, &[]).await);
    // Without [par] enabled there is no such endpoint.
    assert_eq!(push(&idp_with(|_| {}), &[]).await.status(), 404);
}

#[tokio::test]
async fn a_tenant_or_client_that_requires_pushing_refuses_a_plain_request() {
    for (tenant_wide, label) in [(true, "[par] required"), (false, "the client's flag")] {
        let idp = par_idp(|c| {
            c.par.required = tenant_wide;
            c.clients[0].require_pushed_authorization_requests = !tenant_wide;
        });
        let res = idp.authorize(&[("login_hint", "alice")], None).await;
        assert_eq!(res.status(), 302, "{label}: {}", body(&res));
        let loc = location(&res);
        assert_eq!(
            param(&loc, "error").as_deref(),
            Some("invalid_request"),
            "{label}: {loc}"
        );
        assert!(
            param(&loc, "error_description")
                .unwrap()
                .contains("RFC 9126"),
            "{loc}"
        );
        let uri = request_uri(&push(&idp, &[]).await);
        assert_eq!(
            authorize_with(&idp, "demo-rp", &uri).await.status(),
            302,
            "{label}"
        );
    }
}

#[tokio::test]
async fn discovery_lists_pushed_requests_only_where_the_tenant_takes_them() {
    let off = json(&idp().get("/.well-known/openid-configuration", None).await);
    assert!(
        off.get("pushed_authorization_request_endpoint").is_none(),
        "{off}"
    );
    assert!(off.get("require_pushed_authorization_requests").is_none());
    let on = json(
        &par_idp(|c| c.par.required = true)
            .get("/.well-known/openid-configuration", None)
            .await,
    );
    assert_eq!(
        on["pushed_authorization_request_endpoint"],
        format!("{ISSUER}/par")
    );
    assert_eq!(on["require_pushed_authorization_requests"], true);
}

#[test]
fn a_requirement_without_the_endpoint_is_a_config_error_naming_the_field() {
    let toml = |extra: &str| {
        format!(
            "issuer = \"http://idp.test\"\nsigning_alg = \"ES256\"\n{extra}\n[[keys]]\nkid = \"k\"\nalg = \"ES256\"\npem_file = \"k.pem\"\n"
        )
    };
    let e = mock_idp::Config::from_toml(&toml("[par]\nrequired = true"), "idp.toml")
        .and_then(|c| c.check().map(|()| c))
        .unwrap_err()
        .to_string();
    assert!(e.contains("par.required") && e.contains("enabled"), "{e}");
    assert!(e.contains("idp.toml:4:"), "the line of [par] required: {e}");
}
