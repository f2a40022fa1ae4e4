//! The groups of an overage: where `_claim_sources` points when a user is in more groups
//! than a token carries (Entra ID's Graph `getMemberObjects`, OIDC Core §5.6.2). GET or
//! POST with the access token as a bearer; answers `{"value": [group ids…]}`.

use std::sync::Arc;

use serde_json::json;
use warp::filters::BoxedFilter;
use warp::http::HeaderMap;
use warp::reply::Response;

use super::errors::OAuthError;
use super::json_no_store;
use super::params::Params;
use super::userinfo::bearer_user;
use crate::journal::{Endpoint, Entry};
use crate::registry::Registry;
use crate::tenant::Tenant;
use crate::tokens::group_names;

/// GET or POST the groups.
pub fn filter(reg: &Arc<Registry>) -> BoxedFilter<(Response,)> {
    super::bearer_get_post(reg, |p| &p.groups, Endpoint::Groups, groups)
}

fn groups(
    t: &Tenant,
    headers: &HeaderMap,
    form: &Params,
    entry: &mut Entry,
) -> Result<Response, OAuthError> {
    let (_, user) = bearer_user(t, headers, form, entry)?;
    let value = group_names(&t.config.quirks, &user.groups);
    Ok(json_no_store(&json!({ "value": value })))
}
