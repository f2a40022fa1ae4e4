//! The groups of an overage: where `_claim_sources` points when a user is in more groups
//! than a token carries (Entra ID's Graph `getMemberObjects`, OIDC Core §5.6.2). GET or
//! POST with the access token as a bearer; answers `{"value": [group ids…]}`.

use std::sync::Arc;

use serde_json::json;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::http::HeaderMap;
use warp::reply::Response;

use super::errors::OAuthError;
use super::params::Params;
use super::userinfo::bearer;
use super::{at, form, json_no_store};
use crate::journal::{Endpoint, Entry};
use crate::registry::Registry;
use crate::tenant::Tenant;
use crate::tokens::group_names;

/// GET or POST the groups.
pub fn filter(reg: &Arc<Registry>) -> BoxedFilter<(Response,)> {
    let get = warp::get().map(|| ("GET", Ok(Params::default())));
    let post = warp::post().and(form()).map(|p| ("POST", p));
    at(reg, |p| &p.groups)
        .and(get.or(post).unify())
        .and(warp::header::headers_cloned())
        .map(
            |t: Arc<Tenant>,
             (method, form): (&'static str, Result<Params, OAuthError>),
             headers: HeaderMap| {
                let none = Params::default();
                let mut entry = Entry::new(
                    Endpoint::Groups,
                    method,
                    &none,
                    form.as_ref().unwrap_or(&none),
                );
                let result = form.and_then(|f| groups(&t, &headers, &f, &mut entry));
                super::journaled(&t, entry, result)
            },
        )
        .boxed()
}

fn groups(
    t: &Tenant,
    headers: &HeaderMap,
    form: &Params,
    entry: &mut Entry,
) -> Result<Response, OAuthError> {
    let token = bearer(headers, form)?;
    let grant = t
        .lock_grants()
        .check_access(&token, t.clock.now())
        .map_err(|r| OAuthError::invalid_token(r.0))?
        .grant
        .clone();
    entry.client_id = Some(grant.client_id.clone());
    entry.user = grant.username.clone();
    let user = t
        .active_user(&grant)
        .map_err(|r| OAuthError::invalid_token(r.0))?;
    let value = group_names(&t.config.quirks, &user.groups);
    Ok(json_no_store(&json!({ "value": value })))
}
