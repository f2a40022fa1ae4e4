//! The distributed claims source (OIDC Core §5.6.2): where `_claim_sources.src1.endpoint`
//! points when a fault sends a user's groups as distributed claims. GET or POST with the
//! access token as a bearer; answers the groups as a JWT the tenant signs
//! (`application/jwt`).

use std::sync::Arc;

use warp::filters::BoxedFilter;
use warp::http::HeaderMap;
use warp::reply::{Reply, Response};

use super::errors::OAuthError;
use super::params::Params;
use super::userinfo::bearer_user;
use crate::journal::{Endpoint, Entry};
use crate::registry::Registry;
use crate::tenant::Tenant;
use crate::tokens::sources::claims_jwt;

/// GET or POST the claims.
pub fn filter(reg: &Arc<Registry>) -> BoxedFilter<(Response,)> {
    super::bearer_get_post(reg, |p| &p.claims, Endpoint::Claims, claims)
}

fn claims(
    t: &Tenant,
    headers: &HeaderMap,
    form: &Params,
    entry: &mut Entry,
) -> Result<Response, OAuthError> {
    let (grant, user) = bearer_user(t, headers, form, entry)?;
    let client = t
        .client(&grant.client_id)
        .ok_or_else(|| OAuthError::invalid_token("the token's client no longer exists"))?;
    let jwt = claims_jwt(t, &client, &grant, &user).map_err(OAuthError::server_error)?;
    let mut res = warp::reply::with_header(jwt, "content-type", "application/jwt").into_response();
    res.headers_mut().insert(
        "cache-control",
        warp::http::HeaderValue::from_static("no-store"),
    );
    Ok(res)
}
