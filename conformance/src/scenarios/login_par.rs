//! `login.par`: an RP that declares pushed authorization requests (RFC 9126) pushes each
//! one, authenticated as at the token endpoint, and the browser carries only `client_id`
//! and the `request_uri`.

use super::support::login_ok;
use crate::scenario::Ctx;
use crate::verdict::{DOES_NOT_APPLY, Judged, Verdict};

/// What the browser carries to the authorization endpoint for a pushed request.
const CARRIED: [&str; 2] = ["client_id", "request_uri"];

pub(super) async fn par(cx: &Ctx) -> Judged {
    let rp = &cx.shared.rp;
    if !rp.par {
        return Ok(Verdict::skip(format!(
            "{DOES_NOT_APPLY} the RP does not declare pushed authorization requests (rp.toml par = true)"
        )));
    }
    let u = cx.user("u", &[]).await?;
    let (_, login, _) = login_ok(cx, &u).await?;
    let asked = cx.authorization_request(&login).await?;
    let Some(push) = &asked.push else {
        let carried: Vec<&str> = login.front_channel.keys().map(String::as_str).collect();
        return Ok(Verdict::fail(format!(
            "the RP declares pushed authorization requests, yet pushed nothing to the provider's pushed_authorization_request_endpoint: the browser carried the whole request ({}), so what pushing keeps out of the browser — scope, redirect_uri, state, nonce, the PKCE challenge — is in a URL that can be read and altered (RFC 9126 §1, §4)",
            carried.join(", ")
        )));
    };
    cx.cite(push);
    let declared = rp.client_auth.as_str();
    let used = push.auth_method.as_deref().unwrap_or("none");
    if used != declared {
        return Ok(Verdict::fail(format!(
            "the RP pushed its authorization request authenticating with {used}, not its declared {declared}: the pushed authorization request endpoint takes the client authentication of the token endpoint (RFC 9126 §2)"
        )));
    }
    let extra: Vec<&str> = login
        .front_channel
        .keys()
        .map(String::as_str)
        .filter(|k| !CARRIED.contains(k))
        .collect();
    if !extra.is_empty() {
        return Ok(Verdict::warn(format!(
            "the RP pushed its authorization request ({declared}, 201 with a request_uri) and the browser carried {} besides client_id and request_uri: the provider uses only the pushed parameters (RFC 9126 §4), but the browser, its history and the provider's logs see them again — send only client_id and request_uri",
            extra.join(", ")
        )));
    }
    Ok(Verdict::pass(format!(
        "pushed its authorization request ({declared}; 201 with a request_uri), the browser carried only client_id and request_uri, and the login completed"
    )))
}
