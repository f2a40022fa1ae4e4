//! The pushed authorization request endpoint (RFC 9126 §2): the client, authenticated as
//! at the token endpoint, POSTs its authorization request; it is checked as the
//! authorization endpoint would check it, held by [`crate::par`], and answered with the
//! `request_uri` the browser then carries (201, RFC 9126 §2.2). Served with `[par] enabled`.

use std::sync::Arc;

use serde::Serialize;
use warp::filters::BoxedFilter;
use warp::http::{HeaderMap, StatusCode};
use warp::reply::Response;

use super::authorize::parameters;
use super::client_auth::authenticate;
use super::errors::OAuthError;
use super::params::Params;
use super::{json_no_store, redirect};
use crate::journal::{Endpoint, Entry};
use crate::registry::Registry;
use crate::tenant::Tenant;
use crate::types::GrantType;

/// The answer (RFC 9126 §2.2).
#[derive(Debug, Serialize)]
struct Pushed {
    request_uri: String,
    expires_in: u64,
}

/// POST a pushed authorization request.
pub fn filter(reg: &Arc<Registry>) -> BoxedFilter<(Response,)> {
    super::client_post(reg, |p| &p.par, Endpoint::Par, push)
}

fn push(
    t: &Tenant,
    headers: &HeaderMap,
    form: &Params,
    entry: &mut Entry,
) -> Result<Response, OAuthError> {
    if !t.config.par.enabled {
        return Err(OAuthError {
            status: StatusCode::NOT_FOUND,
            ..OAuthError::invalid_request(
                "this provider takes no pushed authorization requests ([par] enabled = false)",
            )
        });
    }
    let (client, _method) = authenticate(t, headers, form, entry)?;
    if form.has("request_uri") {
        return Err(OAuthError::invalid_request(
            "a pushed authorization request must not carry request_uri (RFC 9126 §2.1)",
        ));
    }
    // A signed request object pushed (RFC 9126 §3): the request is what it carries.
    let resolved;
    let form = match form.get("request")? {
        Some(jwt) if t.config.jar.enabled => {
            resolved = Params(
                crate::jar::resolve(t, &client, jwt)
                    .map_err(|why| OAuthError::bad_request("invalid_request_object", why))?,
            );
            entry.request_object = true;
            &resolved
        }
        _ if crate::jar::required(t, &client) => {
            return Err(OAuthError::invalid_request(format!(
                "client {:?} must push its authorization requests as signed request objects (require_signed_request_object, RFC 9101 §10.5)",
                client.id
            )));
        }
        _ => form,
    };
    if !client.grant_types.contains(&GrantType::AuthorizationCode) {
        return Err(OAuthError::bad_request(
            "unauthorized_client",
            format!(
                "client {:?} may not use the authorization_code grant",
                client.id
            ),
        ));
    }
    let redirect_uri = form.require("redirect_uri")?;
    if !redirect::allowed(&client.redirect_uris, redirect_uri) {
        return Err(OAuthError::invalid_request(format!(
            "redirect_uri {redirect_uri:?} is not registered for client {:?}",
            client.id
        )));
    }
    entry.redirect_uri = Some(redirect_uri.to_owned());
    // Checked now as the authorization endpoint checks it (RFC 9126 §2.1): a request that
    // would be refused there is refused here, to the client that can read why.
    crate::authorization::validate(&parameters(form)?, &client, redirect_uri, &t.config.quirks)
        .map_err(|e| OAuthError::bad_request(e.error, e.description))?;
    let kept = crate::par::kept(&client.id, &form.0);
    entry.parameters = Some(kept.iter().cloned().collect());
    let (request_uri, expires_in) = crate::par::push(t, kept);
    entry.request_uri = Some(request_uri.clone());
    let mut res = json_no_store(&Pushed {
        request_uri,
        expires_in,
    });
    *res.status_mut() = StatusCode::CREATED;
    Ok(res)
}
