//! The token endpoint (RFC 6749 §3.2): parses the form, authenticates the client, checks
//! that it may use the grant, fires the faults, and answers what
//! [`crate::token_endpoint::issue`] issued.

use std::sync::Arc;

use warp::filters::BoxedFilter;
use warp::http::HeaderMap;
use warp::http::StatusCode;
use warp::reply::{Reply, Response};

use super::client_auth::authenticate;
use super::errors::OAuthError;
use super::json_no_store;
use super::params::Params;
use crate::faults::{Fault, FaultPoint, Target};
use crate::journal::{Endpoint, Entry};
use crate::registry::Registry;
use crate::tenant::Tenant;
use crate::token_endpoint::{self, TokenError, TokenRequest};
use crate::types::GrantType;

/// POST a token request.
pub fn filter(reg: &Arc<Registry>) -> BoxedFilter<(Response,)> {
    super::client_post(reg, |p| &p.token, Endpoint::Token, token)
}

impl From<TokenError> for OAuthError {
    fn from(e: TokenError) -> OAuthError {
        OAuthError {
            status: StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST),
            ..OAuthError::bad_request(e.error, e.description)
        }
    }
}

/// The grants' parameters, each sent at most once (RFC 6749 §3.1).
fn request(form: &Params) -> Result<TokenRequest<'_>, OAuthError> {
    Ok(TokenRequest {
        code: form.get("code")?,
        redirect_uri: form.get("redirect_uri")?,
        code_verifier: form.get("code_verifier")?,
        refresh_token: form.get("refresh_token")?,
        scope: form.list("scope")?,
        assertion: form.get("assertion")?,
        device_code: form.get("device_code")?,
        subject_token: form.get("subject_token")?,
        subject_token_type: form.get("subject_token_type")?,
        actor_token: form.get("actor_token")?,
        actor_token_type: form.get("actor_token_type")?,
        audience: form.get("audience")?,
        resource: form.get("resource")?,
        requested_token_type: form.get("requested_token_type")?,
        dpop_jkt: None,
    })
}

fn token(
    t: &Tenant,
    headers: &HeaderMap,
    form: &Params,
    entry: &mut Entry,
) -> Result<Response, OAuthError> {
    let grant_type = form.require("grant_type")?;
    let Some(grant_type) = GrantType::parse(grant_type) else {
        return Err(OAuthError::bad_request(
            "unsupported_grant_type",
            format!("grant_type {grant_type:?} is not supported"),
        ));
    };
    let mut req = request(form)?;
    // Refused requests (a wrong secret, a spent client assertion, a deleted user, an
    // expired token) are journaled under the user of what they present too.
    let user = token_endpoint::presented_user(t, grant_type, &req);
    entry.user.clone_from(&user);
    let (client, _method) = authenticate(t, headers, form, entry)?;
    if !client.grant_types.contains(&grant_type) {
        return Err(OAuthError::bad_request(
            "unauthorized_client",
            format!(
                "client {:?} may not use the {} grant",
                client.id,
                grant_type.as_str()
            ),
        ));
    }
    entry.faults = t.fire_faults(
        Target {
            client_id: &client.id,
            user: user.as_deref(),
            grant_type: Some(grant_type.as_str()),
        },
        FaultPoint::TokenEndpoint,
    );
    let fault = |f: &Fault| entry.faults.contains(f);
    if let Some(status) = entry.faults.iter().find_map(|f| match f {
        Fault::HttpStatus { status } => StatusCode::from_u16(*status).ok(),
        _ => None,
    }) {
        return Err(OAuthError {
            status,
            ..OAuthError::bad_request(
                "temporarily_unavailable",
                "the server is unavailable (injected fault)",
            )
        });
    }
    // A DPoP proof (RFC 9449 §5): the tokens are bound to its key.
    let jkt = super::dpop::at_token_endpoint(t, headers, fault(&Fault::DpopNonce))?;
    entry.dpop.clone_from(&jkt);
    if client.dpop_bound_access_tokens && jkt.is_none() {
        return Err(OAuthError {
            dpop_nonce: super::dpop::nonce(t),
            ..OAuthError::invalid_request(format!(
                "client {:?} must send a DPoP proof with every token request (dpop_bound_access_tokens, RFC 9449 §5.2)",
                client.id
            ))
        });
    }
    if grant_type == GrantType::RefreshToken && fault(&Fault::RefreshInvalidGrant) {
        let detail = "the refresh token is invalid or expired".to_owned();
        return Err(token_endpoint::refused_refresh(t, detail).into());
    }
    // A provider that ignores DPoP answers with bearer tokens, proof or not.
    if !fault(&Fault::DpopUnbound) {
        req.dpop_jkt = jkt.as_deref();
    }
    let mut body = token_endpoint::issue(t, &client, grant_type, &req, entry)?;
    entry.faults.extend(body.faults.iter().cloned());
    if entry.faults.contains(&Fault::NoRefreshToken) {
        body.refresh_token = None;
    }
    if entry.faults.contains(&Fault::MalformedJson) {
        let json = serde_json::to_string(&body).unwrap_or_default();
        let cut = &json[..json.len() / 2];
        let mut res = warp::reply::with_header(cut.to_owned(), "content-type", "application/json")
            .into_response();
        res.headers_mut().insert(
            "cache-control",
            warp::http::HeaderValue::from_static("no-store"),
        );
        return Ok(res);
    }
    let mut res = json_no_store(&body);
    if let Some(n) = super::dpop::nonce(t).and_then(|n| n.parse().ok()) {
        res.headers_mut().insert("dpop-nonce", n);
    }
    Ok(res)
}
