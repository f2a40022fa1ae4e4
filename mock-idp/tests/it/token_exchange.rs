//! Token exchange (RFC 8693): a user's token traded for an access token of the same user
//! for another audience, with `act` when someone acts for them; refused with its reason
//! when a token is not this IdP's, expired, or its `may_act` names someone else.

use serde_json::{Value, json};

use crate::support::*;

const GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const AT: &str = "urn:ietf:params:oauth:token-type:access_token";
const IT: &str = "urn:ietf:params:oauth:token-type:id_token";

/// The demo tenant with `demo-rp` allowed the exchange and a second client, `orders-api`,
/// to be the audience; carol's ID tokens say only `agent-sub` may act for her.
fn idp() -> Idp {
    idp_with(|c| {
        let demo = c.clients.iter_mut().find(|c| c.id == "demo-rp").unwrap();
        demo.grant_types.push(mock_idp::GrantType::TokenExchange);
        demo.grant_types
            .push(mock_idp::GrantType::ClientCredentials);
        let mut api = demo.clone();
        api.id = "orders-api".into();
        api.grant_types = vec![mock_idp::GrantType::ClientCredentials];
        api.redirect_uris.clear();
        c.clients.push(api);
        let carol = c.users.iter_mut().find(|u| u.username == "carol").unwrap();
        carol
            .claims
            .insert("may_act".into(), json!({ "sub": "agent-sub" }));
    })
}

async fn exchange(idp: &Idp, pairs: &[(&str, &str)]) -> warp::http::Response<bytes::Bytes> {
    let mut form = vec![
        ("grant_type", GRANT),
        ("client_id", "demo-rp"),
        ("client_secret", "demo-secret"),
    ];
    form.extend_from_slice(pairs);
    idp.post("/token", &form, &[]).await
}

fn claims(jwt: &str) -> Value {
    jsonwebtoken::dangerous::insecure_decode_claims(jwt).expect("a JWT")
}

#[tokio::test]
async fn an_access_token_is_exchanged_for_another_audience_keeping_its_user() {
    let idp = idp();
    let alice = idp.tokens("alice").await;
    let at = alice["access_token"].as_str().unwrap();
    let res = exchange(
        &idp,
        &[
            ("subject_token", at),
            ("subject_token_type", AT),
            ("audience", "orders-api"),
            ("scope", "profile"),
        ],
    )
    .await;
    assert_eq!(res.status(), 200, "{}", body(&res));
    let got = json(&res);
    assert_eq!(got["issued_token_type"], AT);
    assert!(got.get("refresh_token").is_none() && got.get("id_token").is_none());
    let c = claims(got["access_token"].as_str().unwrap());
    assert_eq!(c["aud"], "orders-api");
    assert_eq!(c["sub"], claims(at)["sub"]);
    assert_eq!(c["scope"], "profile");
    assert!(c.get("act").is_none());
    let info = idp.introspect(got["access_token"].as_str().unwrap()).await;
    assert_eq!(
        (info["active"].clone(), info["username"].clone()),
        (json!(true), json!("alice"))
    );
    // Beyond the subject token's scope, or an ID token's worth: refused.
    for (scope, why) in [
        ("admin", "not in the subject token's scope"),
        ("openid", "access token only"),
    ] {
        let res = exchange(
            &idp,
            &[
                ("subject_token", at),
                ("subject_token_type", AT),
                ("scope", scope),
            ],
        )
        .await;
        assert!(
            assert_error(&res, 400, "invalid_scope").contains(why),
            "{scope}"
        );
    }
}

#[tokio::test]
async fn an_actor_is_named_in_act_and_may_act_is_enforced() {
    let idp = idp();
    let bob = idp.tokens("bob").await;
    let alice = idp.tokens("alice").await;
    let res = exchange(
        &idp,
        &[
            ("subject_token", bob["id_token"].as_str().unwrap()),
            ("subject_token_type", IT),
            ("actor_token", alice["access_token"].as_str().unwrap()),
            ("actor_token_type", AT),
        ],
    )
    .await;
    assert_eq!(res.status(), 200, "{}", body(&res));
    let c = claims(json(&res)["access_token"].as_str().unwrap());
    assert_eq!(c["sub"], claims(bob["id_token"].as_str().unwrap())["sub"]);
    assert_eq!(
        c["act"],
        json!({ "sub": claims(alice["id_token"].as_str().unwrap())["sub"] })
    );
    // carol's token says only agent-sub may act for her: alice may not.
    let carol = idp.tokens("carol").await;
    let res = exchange(
        &idp,
        &[
            ("subject_token", carol["id_token"].as_str().unwrap()),
            ("subject_token_type", IT),
            ("actor_token", alice["access_token"].as_str().unwrap()),
            ("actor_token_type", AT),
        ],
    )
    .await;
    assert!(assert_error(&res, 400, "invalid_request").contains("may_act names \"agent-sub\""));
    // Control: without an actor, carol's exchange goes through.
    let res = exchange(
        &idp,
        &[
            ("subject_token", carol["id_token"].as_str().unwrap()),
            ("subject_token_type", IT),
        ],
    )
    .await;
    assert_eq!(res.status(), 200, "{}", body(&res));
}

#[tokio::test]
async fn tokens_that_are_not_good_subjects_are_refused_with_their_reason() {
    let idp = idp();
    let alice = idp.tokens("alice").await;
    let at = alice["access_token"].as_str().unwrap().to_owned();
    // One signature byte changed (in the middle: a last base64 character may be padding).
    let mid = at.len() - 40;
    let flipped = if &at[mid..=mid] == "A" { "B" } else { "A" };
    let tampered = format!("{}{flipped}{}", &at[..mid], &at[mid + 1..]);
    let machine = json(&idp.client_credentials(None).await)["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    // (form, status, error, what the description says)
    type Case<'a> = (Vec<(&'a str, &'a str)>, u16, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        (
            vec![("subject_token", &tampered), ("subject_token_type", AT)],
            400,
            "invalid_request",
            "subject_token",
        ),
        (
            vec![("subject_token", &at), ("subject_token_type", IT)],
            400,
            "invalid_request",
            "subject_token",
        ),
        (
            vec![("subject_token", &machine), ("subject_token_type", AT)],
            400,
            "invalid_request",
            "no user",
        ),
        (
            vec![("subject_token", &at), ("subject_token_type", "urn:x:saml")],
            400,
            "invalid_request",
            "not read here",
        ),
        (
            vec![
                ("subject_token", &at),
                ("subject_token_type", AT),
                ("audience", "nobody"),
            ],
            400,
            "invalid_target",
            "not a client",
        ),
        (
            vec![
                ("subject_token", &at),
                ("subject_token_type", AT),
                ("requested_token_type", IT),
            ],
            400,
            "invalid_request",
            "issues access tokens",
        ),
        (
            vec![
                ("subject_token", &at),
                ("subject_token_type", AT),
                ("actor_token", &at),
            ],
            400,
            "invalid_request",
            "actor_token_type",
        ),
    ];
    for (pairs, status, error, why) in cases {
        let d = assert_error(&exchange(&idp, &pairs).await, status, error);
        assert!(d.contains(why), "{pairs:?}: {d:?} lacks {why:?}");
    }
    // The user deleted: their tokens are no subject any more.
    idp.tenant.delete_user("alice").unwrap();
    let d = assert_error(
        &exchange(&idp, &[("subject_token", &at), ("subject_token_type", AT)]).await,
        400,
        "invalid_request",
    );
    assert!(d.contains("subject_token"), "{d}");
}

#[tokio::test]
async fn a_client_not_allowed_the_grant_is_refused_and_discovery_lists_it_when_one_is() {
    let idp = idp();
    let alice = idp.tokens("alice").await;
    let res = idp
        .post(
            "/token",
            &[
                ("grant_type", GRANT),
                ("client_id", "orders-api"),
                ("client_secret", "demo-secret"),
                ("subject_token", alice["access_token"].as_str().unwrap()),
                ("subject_token_type", AT),
            ],
            &[],
        )
        .await;
    assert_error(&res, 400, "unauthorized_client");
    let d = json(&idp.get("/.well-known/openid-configuration", None).await);
    assert!(
        d["grant_types_supported"]
            .as_array()
            .unwrap()
            .contains(&json!(GRANT))
    );
    let plain = json(
        &crate::support::idp()
            .get("/.well-known/openid-configuration", None)
            .await,
    );
    assert!(
        !plain["grant_types_supported"]
            .as_array()
            .unwrap()
            .contains(&json!(GRANT))
    );
}

#[tokio::test]
async fn a_trusted_issuer_s_jwt_is_a_subject_once() {
    use jsonwebtoken::{Algorithm, EncodingKey, Header};
    let KeyPair { pem, jwks } = key_pair("gw", mock_idp::SigningAlg::RS256);
    let idp = idp_with(move |c| {
        c.assertion_issuers.push(mock_idp::AssertionIssuer {
            issuer: "https://gateway.test".into(),
            jwks: Some(jwks),
            jwks_uri: None,
            subject: mock_idp::SubjectMatch::Username,
        });
        let demo = c.clients.iter_mut().find(|c| c.id == "demo-rp").unwrap();
        demo.grant_types.push(mock_idp::GrantType::TokenExchange);
    });
    let jwt = jsonwebtoken::encode(
        &Header::new(Algorithm::RS256),
        &json!({"iss": "https://gateway.test", "sub": "bob", "aud": ISSUER, "exp": T0 + 60, "jti": "gw-1"}),
        &EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
    )
    .unwrap();
    let pairs = [
        ("subject_token", jwt.as_str()),
        ("subject_token_type", "urn:ietf:params:oauth:token-type:jwt"),
        ("scope", "profile"),
    ];
    let res = exchange(&idp, &pairs).await;
    assert_eq!(res.status(), 200, "{}", body(&res));
    let c = claims(json(&res)["access_token"].as_str().unwrap());
    assert_eq!(c["sub"], "a1b2c3d4-0000-4000-8000-000000000002");
    let again = assert_error(&exchange(&idp, &pairs).await, 400, "invalid_request");
    assert!(again.contains("already used"), "{again}");
}
