//! Token revocation (RFC 7009).

use std::sync::Arc;

use warp::filters::BoxedFilter;
use warp::http::HeaderMap;
use warp::reply::{Reply, Response};

use super::client_auth::authenticate;
use super::errors::OAuthError;
use super::params::Params;

use crate::grants::RevokeError;
use crate::journal::{Endpoint, Entry};
use crate::registry::Registry;
use crate::tenant::Tenant;

/// POST a revocation request.
pub fn filter(reg: &Arc<Registry>) -> BoxedFilter<(Response,)> {
    super::client_post(reg, |p| &p.revocation, Endpoint::Revoke, revoke)
}

fn revoke(
    t: &Tenant,
    headers: &HeaderMap,
    form: &Params,
    entry: &mut Entry,
) -> Result<Response, OAuthError> {
    let (client, _) = authenticate(t, headers, form, entry)?;
    let token = form.require("token")?;
    // token_type_hint is only a hint (RFC 7009 §2.1): both kinds are searched.
    crate::tokens::revoke_token(t, token, &client.id).map_err(|e| match e {
        RevokeError::NotYours => OAuthError::bad_request("unauthorized_client", e.to_string()),
        RevokeError::Full => OAuthError {
            status: warp::http::StatusCode::SERVICE_UNAVAILABLE,
            ..OAuthError::bad_request("temporarily_unavailable", e.to_string())
        },
    })?;
    // RFC 7009 §2.2: 200 whether or not the token was known.
    Ok(warp::reply().into_response())
}
