//! `quirks.advertised_issuer`: a tenant whose discovery document, tokens and authorization
//! responses all name another issuer than the URL it is served at (what an RP must refuse,
//! OIDC Discovery §4.3), consistently, so that only that one property is wrong.

use mock_idp::Config;

use crate::support::*;

const OTHER: &str = "http://idp.test/elsewhere";

#[tokio::test]
async fn discovery_tokens_and_the_redirect_name_the_advertised_issuer() {
    let idp = idp_with(|c| c.quirks.advertised_issuer = Some(OTHER.into()));
    let d = json(&idp.get("/.well-known/openid-configuration", None).await);
    assert_eq!(d["issuer"], OTHER);
    // Everything is still served where the tenant lives.
    assert_eq!(d["token_endpoint"], format!("{ISSUER}/token"));
    assert_eq!(d["jwks_uri"], format!("{ISSUER}/jwks"));

    let res = idp.authorize(&[("login_hint", "alice")], None).await;
    assert_eq!(param(&location(&res), "iss").as_deref(), Some(OTHER));

    let t = idp.tokens("alice").await;
    let id = claims(t["id_token"].as_str().unwrap());
    assert_eq!(id["iss"], OTHER);
    let access = t["access_token"].as_str().unwrap();
    assert_eq!(claims(access)["iss"], OTHER);
    // The IdP takes its own tokens back: userinfo, introspection, refresh.
    let bearer = format!("Bearer {access}");
    let res = idp
        .post("/userinfo", &[], &[("authorization", &bearer)])
        .await;
    assert_eq!(res.status(), 200, "{}", body(&res));
    let i = idp.introspect(access).await;
    assert_eq!(
        (i["active"].clone(), i["iss"].clone()),
        (true.into(), OTHER.into())
    );
    let res = idp.refresh(t["refresh_token"].as_str().unwrap()).await;
    assert_eq!(
        claims(json(&res)["id_token"].as_str().unwrap())["iss"],
        OTHER
    );
}

#[tokio::test]
async fn without_it_the_issuer_is_the_tenant_url() {
    let idp = idp();
    let d = json(&idp.get("/.well-known/openid-configuration", None).await);
    assert_eq!(d["issuer"], ISSUER);
    let t = idp.tokens("alice").await;
    assert_eq!(claims(t["id_token"].as_str().unwrap())["iss"], ISSUER);
}

#[test]
fn a_bad_advertised_issuer_is_named() {
    let e = Config::from_toml(
        "issuer = \"http://x\"\n[[keys]]\nkid = \"k\"\nalg = \"RS256\"\npem_file = \"keys/rsa-1.pem\"\n[quirks]\nadvertised_issuer = \"http://y?q=1\"\n",
        "t.toml",
    )
    .expect_err("must be refused");
    assert!(e.to_string().contains("advertised_issuer"), "{e}");
    assert!(e.to_string().contains("query or fragment"), "{e}");
}
