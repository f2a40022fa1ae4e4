//! The groups by reference (OIDC Core §5.6.2): the `groups_aggregated` and
//! `groups_distributed` faults on the wire, and the claims source they point at.

use bytes::Bytes;
use mock_idp::config::{Placement, TokenKind};
use mock_idp::faults::{Fault, FaultScope};
use mock_idp::journal::Endpoint;
use serde_json::{Value, json};
use warp::http::Response;

use crate::support::*;

fn once() -> FaultScope {
    FaultScope {
        times: Some(1),
        ..Default::default()
    }
}

/// The claims of a JWT the tenant signed, its signature checked with the tenant's key.
fn verified(idp: &Idp, jwt: &str) -> Value {
    let kid = header(jwt)["kid"].as_str().unwrap().to_owned();
    let key = idp.tenant.key_by_kid(&kid).expect("a published key");
    key.verify::<Value>(jwt).expect("a valid signature").claims
}

async fn bearer_get(idp: &Idp, path: &str, token: Option<&str>) -> Response<Bytes> {
    let mut r = warp::test::request().method("GET").path(path);
    if let Some(t) = token {
        r = r.header("authorization", format!("Bearer {t}"));
    }
    r.reply(&idp.routes).await
}

#[tokio::test]
async fn aggregated_groups_travel_in_a_signed_jwt() {
    let idp = idp();
    idp.tenant.arm_fault(Fault::GroupsAggregated, once());
    let t = idp.tokens("alice").await;
    let id = claims(t["id_token"].as_str().unwrap());
    // Every other claim as in a normal token; the groups moved.
    assert_eq!(id["preferred_username"], "alice");
    assert!(id.get("groups").is_none(), "{id}");
    assert_eq!(id["_claim_names"], json!({ "groups": "src1" }));
    let inner = verified(&idp, id["_claim_sources"]["src1"]["JWT"].as_str().unwrap());
    assert_eq!(inner["groups"], json!(["analysts"]));
    assert_eq!(inner["iss"], id["iss"]);
    assert_eq!(inner["sub"], id["sub"]);
    assert_eq!(inner["aud"], "demo-rp");
    // The access token carries them the same way (the built-in tenant places them there too).
    let at = claims(t["access_token"].as_str().unwrap());
    assert!(at.get("groups").is_none(), "{at}");
    assert_eq!(at["_claim_names"], json!({ "groups": "src1" }));
    let entry = idp
        .tenant
        .journal(0)
        .into_iter()
        .rfind(|e| e.endpoint == Endpoint::Token)
        .unwrap();
    assert_eq!(entry.faults, [Fault::GroupsAggregated]);
    // Armed once: the next login's groups are inline again.
    let next = claims(idp.tokens("alice").await["id_token"].as_str().unwrap());
    assert_eq!(next["groups"], json!(["analysts"]));
    assert!(next.get("_claim_names").is_none());
}

#[tokio::test]
async fn distributed_groups_are_served_by_the_claims_source() {
    let idp = idp();
    idp.tenant.arm_fault(Fault::GroupsDistributed, once());
    let t = idp.tokens("alice").await;
    let access = t["access_token"].as_str().unwrap();
    let id = claims(t["id_token"].as_str().unwrap());
    let source = &id["_claim_sources"]["src1"];
    let endpoint = format!("{}/claims", idp.tenant.issuer);
    assert_eq!(
        *source,
        json!({ "endpoint": endpoint, "access_token": access })
    );
    assert_eq!(id["_claim_names"], json!({ "groups": "src1" }));
    // An access token cannot name itself: its source has the endpoint alone.
    let at = claims(access);
    assert_eq!(
        at["_claim_sources"]["src1"],
        json!({ "endpoint": endpoint })
    );

    let res = bearer_get(&idp, "/claims", Some(access)).await;
    assert_eq!(res.status(), 200, "{}", body(&res));
    assert_eq!(res.headers()["content-type"], "application/jwt");
    assert_eq!(res.headers()["cache-control"], "no-store");
    let inner = verified(&idp, &body(&res));
    assert_eq!(inner["groups"], json!(["analysts"]));
    assert_eq!(inner["sub"], id["sub"]);
    let served = idp.tenant.journal(0);
    let e = served.last().unwrap();
    assert_eq!(
        (e.endpoint, e.user.as_deref(), e.status),
        (Endpoint::Claims, Some("alice"), 200)
    );

    // No token, a forged one, a deleted user: refused as a resource server does.
    for token in [None, Some("not-a-token")] {
        let res = bearer_get(&idp, "/claims", token).await;
        assert_eq!(res.status(), 401, "{token:?}: {}", body(&res));
    }
    idp.tenant.delete_user("alice").unwrap();
    let res = bearer_get(&idp, "/claims", Some(access)).await;
    assert_error(&res, 401, "invalid_token");
}

/// `_claim_names` names top-level claims: a nested placement stays inline, a single
/// string stays a single string in the source's JWT.
#[tokio::test]
async fn only_top_level_claims_go_by_reference() {
    let idp = idp_with(|c| {
        c.groups.placements = vec![
            Placement {
                token: TokenKind::AccessToken,
                pointer: "/resource_access/reinfer.io/roles".into(),
                single_as_string: false,
                omit_when_empty: false,
                joined: None,
            },
            Placement {
                token: TokenKind::IdToken,
                pointer: "/group".into(),
                single_as_string: true,
                omit_when_empty: false,
                joined: None,
            },
        ]
    });
    idp.tenant.arm_fault(Fault::GroupsAggregated, once());
    let t = idp.tokens("alice").await;
    let at = claims(t["access_token"].as_str().unwrap());
    assert_eq!(
        at["resource_access"]["reinfer.io"]["roles"],
        json!(["analysts"])
    );
    assert!(at.get("_claim_names").is_none(), "{at}");
    let id = claims(t["id_token"].as_str().unwrap());
    assert!(id.get("group").is_none());
    assert_eq!(id["_claim_names"], json!({ "group": "src1" }));
    let inner = verified(&idp, id["_claim_sources"]["src1"]["JWT"].as_str().unwrap());
    assert_eq!(inner["group"], "analysts");
    assert!(inner.get("resource_access").is_none(), "{inner}");
}
