//! DPoP at the HTTP edge (RFC 9449): the `DPoP` header read and checked by
//! [`crate::dpop`], refusals as OAuth errors (400 at the token endpoint, 401 with a `DPoP`
//! challenge at a resource), each carrying the server's current nonce where it wants one.

use warp::http::{HeaderMap, StatusCode};

use super::errors::OAuthError;
use crate::dpop::{DpopError, Expect};
use crate::journal::Endpoint;
use crate::tenant::Tenant;

/// The request's one `DPoP` header, if any (RFC 9449 §4.3: not more than one).
fn proof(headers: &HeaderMap) -> Result<Option<&str>, OAuthError> {
    let mut all = headers.get_all("dpop").iter();
    let Some(first) = all.next() else {
        return Ok(None);
    };
    if all.next().is_some() {
        return Err(OAuthError::bad_request(
            "invalid_dpop_proof",
            "more than one DPoP header (RFC 9449 §4.3)",
        ));
    }
    first
        .to_str()
        .map(Some)
        .map_err(|_| OAuthError::bad_request("invalid_dpop_proof", "the DPoP header is not ASCII"))
}

/// The nonce to hand out with an answer, when the tenant wants nonces.
pub fn nonce(t: &Tenant) -> Option<String> {
    t.config.dpop.nonce.then(|| crate::dpop::nonce(t))
}

/// At the token endpoint: the key thumbprint of the request's proof, checked, or none
/// (no proof, or a tenant that does not take DPoP and ignores the header). `want_nonce`:
/// the proof must carry the server's nonce though the tenant does not always ask (a
/// `dpop_nonce` fault), and a refusal hands it out.
pub fn at_token_endpoint(
    t: &Tenant,
    headers: &HeaderMap,
    want_nonce: bool,
) -> Result<Option<String>, OAuthError> {
    if !t.config.dpop.enabled {
        return Ok(None);
    }
    let Some(p) = proof(headers)? else {
        return Ok(None);
    };
    let url = t.url_of(&t.paths.token);
    let nonce = t.config.dpop.nonce || want_nonce;
    let expect = Expect {
        method: "POST",
        url: &url,
        access_token: None,
        jkt: None,
        nonce,
    };
    crate::dpop::check(t, p, &expect)
        .map(Some)
        .map_err(|e| OAuthError {
            dpop_nonce: nonce.then(|| crate::dpop::nonce(t)),
            ..OAuthError::bad_request(e.code(), e.description())
        })
}

/// At a resource endpoint: an access token bound to `jkt` must come as `Authorization:
/// DPoP` with a proof by that key for this request and token (RFC 9449 §7); an unbound one
/// as a bearer token.
pub fn at_resource(
    t: &Tenant,
    headers: &HeaderMap,
    (endpoint, method): (Endpoint, &str),
    (token, dpop_scheme): (&str, bool),
    jkt: Option<&str>,
) -> Result<(), OAuthError> {
    let Some(jkt) = jkt else {
        if dpop_scheme {
            return Err(unauthorized(
                t,
                "invalid_token",
                "this access token is not DPoP-bound: send it as Authorization: Bearer (RFC 9449 §7.2)".into(),
            ));
        }
        return Ok(());
    };
    if !dpop_scheme {
        return Err(unauthorized(
            t,
            "invalid_token",
            "this access token is DPoP-bound: send it as Authorization: DPoP, with a DPoP proof (RFC 9449 §7.1)".into(),
        ));
    }
    let Some(p) = proof(headers)? else {
        return Err(unauthorized(
            t,
            "invalid_dpop_proof",
            "a DPoP-bound access token came without a DPoP proof (RFC 9449 §7.1)".into(),
        ));
    };
    let path = match endpoint {
        Endpoint::Groups => &t.paths.groups,
        Endpoint::Claims => &t.paths.claims,
        _ => &t.paths.userinfo,
    };
    let url = t.url_of(path);
    let expect = Expect {
        method,
        url: &url,
        access_token: Some(token),
        jkt: Some(jkt),
        nonce: t.config.dpop.nonce,
    };
    crate::dpop::check(t, p, &expect)
        .map(drop)
        .map_err(|e: DpopError| unauthorized(t, e.code(), e.description().to_owned()))
}

/// A 401 with the DPoP challenge (RFC 9449 §7.1) and, where wanted, the next nonce.
fn unauthorized(t: &Tenant, error: &'static str, description: String) -> OAuthError {
    OAuthError {
        status: StatusCode::UNAUTHORIZED,
        error,
        challenge: Some(format!(
            "DPoP algs=\"{}\", error=\"{error}\", error_description=\"{}\"",
            crate::dpop::ALGS.join(" "),
            // A header value is ASCII: the section sign spelled out.
            description
                .replace('§', "section ")
                .replace(['"', '\\'], "'")
                .replace(|c: char| !c.is_ascii(), "?")
        )),
        description,
        dpop_nonce: nonce(t),
    }
}
