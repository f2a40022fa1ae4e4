//! openid-client 6 (Node), an independent client library, through pushed authorization
//! requests (RFC 9126) against a tenant that requires them: it reads the endpoint from
//! discovery, pushes its request (client_secret_post), sends the browser with only
//! `client_id` and `request_uri`, and trades the code. The control: the same library's
//! plain authorization URL is refused by the same tenant.

use std::process::Command;

use mock_idp::{Config, MockIdp};
use serde_json::Value;

const SCRIPT: &str = r#"
import * as client from 'openid-client';
const config = await client.discovery(new URL(process.env.ISSUER), 'demo-rp', 'demo-secret',
  client.ClientSecretPost('demo-secret'), { execute: [client.allowInsecureRequests] });
const params = { redirect_uri: 'http://127.0.0.1:8081/login/oauth2/callback',
  scope: 'openid profile email offline_access', state: 's1', login_hint: 'bob' };
const verifier = client.randomPKCECodeVerifier();
const pushed = await client.buildAuthorizationUrlWithPAR(config, { ...params,
  code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' });
const res = await fetch(pushed, { redirect: 'manual' });
const callback = new URL(res.headers.get('location'));
const tokens = await client.authorizationCodeGrant(config, callback,
  { pkceCodeVerifier: verifier, expectedState: 's1' });
const plain = await fetch(client.buildAuthorizationUrl(config, params), { redirect: 'manual' });
console.log(JSON.stringify({
  par_endpoint: config.serverMetadata().pushed_authorization_request_endpoint,
  authorize_params: [...pushed.searchParams.keys()].sort(),
  user: tokens.claims().preferred_username,
  plain_error: new URL(plain.headers.get('location')).searchParams.get('error'),
}));
"#;

#[tokio::test]
async fn openid_client_pushes_its_request_and_a_plain_one_is_refused() {
    let rp = crate::support::installed_rp("node-openid-client-v6");
    let idp = MockIdp::builder()
        .edit_config(|c: &mut Config| {
            c.par.enabled = true;
            c.par.required = true;
        })
        .start()
        .await
        .expect("starts");
    let issuer = idp.issuer().to_owned();
    // `-e` resolves imports from the working directory: the RP's pinned openid-client.
    let out = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .args(["--input-type=module", "-e", SCRIPT])
            .current_dir(&rp)
            .env("ISSUER", issuer)
            .output()
            .expect("node runs")
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(got["par_endpoint"], format!("{}/par", idp.issuer()));
    assert_eq!(
        got["authorize_params"],
        serde_json::json!(["client_id", "request_uri"])
    );
    assert_eq!(got["user"], "bob");
    assert_eq!(
        got["plain_error"], "invalid_request",
        "the control is refused"
    );
    let journal = idp.tenant().journal(0);
    let push = journal
        .iter()
        .find(|e| e.status == 201)
        .expect("the push is journaled");
    assert_eq!(push.client_id.as_deref(), Some("demo-rp"));
    assert_eq!(
        push.auth_method.map(|m| m.as_str()),
        Some("client_secret_post")
    );
}
