//! Step 2, for an app that pushes its authorization requests (rp.toml `par = true`): the
//! request pushed to the provider's pushed_authorization_request_endpoint (RFC 9126 §2)
//! with the app's client authentication, as the app would push it.

use serde_json::Value;

use super::Findings;
use super::discovery::Discovery;
use super::http::{Client, excerpt};
use super::options::LoginPlan;

const STEP: &str = "login";

/// Pushes `params` (the authorization request but `client_id`, which the client
/// authentication carries); the `request_uri` the browser is to carry, or none when the
/// provider did not take it (a problem among the findings).
pub async fn push(
    client: &Client,
    plan: &LoginPlan<'_>,
    d: &Discovery,
    params: &[(&str, &str)],
    f: &mut Findings,
) -> Option<String> {
    let Some(endpoint) = d.get("pushed_authorization_request_endpoint") else {
        f.problem(
            "login.par",
            STEP,
            "the app pushes its authorization requests (rp.toml par = true), and the provider's discovery document names no pushed_authorization_request_endpoint (RFC 9126 §5): every login of the app would fail before the provider's login page",
            Some("Turn on pushed authorization requests at the provider for this client, or set par = false in the app's rp.toml if it can send its requests through the browser".into()),
        );
        return None;
    };
    let answer = client
        .token_request(
            endpoint,
            plan.app.rp.client_auth,
            plan.app.client_id,
            plan.app.secret,
            plan.app.key,
            params,
        )
        .await;
    let method = plan.app.rp.client_auth.as_str();
    let refused = |why: String, f: &mut Findings| {
        f.problem(
            "login.par",
            STEP,
            format!("POST {endpoint} ({method}): {why}"),
            None,
        );
        None
    };
    let a = match answer {
        Ok(a) => a,
        Err(e) => return refused(e, f),
    };
    if a.status != 201 {
        return refused(
            format!(
                "HTTP {} (a pushed request is answered 201, RFC 9126 §2.2): {}",
                a.status,
                excerpt(&a.body)
            ),
            f,
        );
    }
    let uri = a
        .json()
        .ok()
        .and_then(|v: Value| v["request_uri"].as_str().map(str::to_owned));
    match uri {
        Some(uri) => {
            f.ok(
                "login.par",
                STEP,
                format!("POST {endpoint} ({method}): 201 with a request_uri; the browser carries client_id and request_uri alone"),
            );
            Some(uri)
        }
        None => refused(
            format!("201 without a request_uri: {}", excerpt(&a.body)),
            f,
        ),
    }
}
