//! The JWKS: every signing key's public half, each with its `kid`.

use std::sync::Arc;

use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use super::at;
use super::params::Params;
use crate::journal::{Endpoint, Entry};
use crate::registry::Registry;
use crate::tenant::Tenant;

/// GET the JWKS.
pub fn filter(reg: &Arc<Registry>) -> BoxedFilter<(Response,)> {
    at(reg, |p| &p.jwks)
        .and(warp::get())
        .map(|t: Arc<Tenant>| {
            let none = Params::default();
            let mut entry = Entry::new(Endpoint::Jwks, "GET", &none, &none);
            entry.status = 200;
            t.record(entry);
            super::json_bytes(crate::published::jwks(&t))
        })
        .boxed()
}
