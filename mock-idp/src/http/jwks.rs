//! The JWKS: every signing key's public half, each with its `kid`.

use std::sync::Arc;

use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::{Reply, Response};

use super::{at, with};
use crate::tenant::Tenant;

/// GET the JWKS.
pub fn filter(tenant: Arc<Tenant>) -> BoxedFilter<(Response,)> {
    at(&tenant.paths.jwks)
        .and(warp::get())
        .and(with(tenant))
        .map(|t: Arc<Tenant>| warp::reply::json(&t.keys().jwks(t.clock.now())).into_response())
        .boxed()
}
