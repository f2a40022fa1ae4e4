//! `/.well-known/openid-configuration` (OpenID Connect Discovery 1.0 §3).

use std::sync::Arc;

use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use super::at;
use crate::registry::Registry;
use crate::tenant::Tenant;

/// GET the discovery document.
pub fn filter(reg: &Arc<Registry>) -> BoxedFilter<(Response,)> {
    at(reg, |p| &p.discovery)
        .and(warp::get())
        .map(|t: Arc<Tenant>| super::json_bytes(crate::published::discovery(&t)))
        .boxed()
}
