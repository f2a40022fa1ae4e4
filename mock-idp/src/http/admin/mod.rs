//! The admin API, JSON under `<issuer path>/admin`: the test's hand on the IdP.
//! Loopback-only unless the server was started with an admin token (then: bearer).

mod clock;
mod faults;
mod journal;
mod keys;
mod tenants;
mod users;

use std::sync::Arc;

use aws_lc_rs::constant_time::verify_slices_are_equal;
use bytes::Bytes;
use serde::de::DeserializeOwned;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::http::{HeaderMap, Method, StatusCode};
use warp::path::FullPath;
use warp::reply::{Reply, Response};

use super::bounded_body;
use super::errors::OAuthError;
use crate::http::params::Params;
use crate::journal::{Endpoint, Entry, Lint};
use crate::registry::Registry;
use crate::tenant::Tenant;

/// Every admin route of every tenant (`<issuer path>/admin/...`).
pub fn filter(reg: &Arc<Registry>) -> BoxedFilter<(Response,)> {
    let lookup = reg.clone();
    // The tenant and path are matched before the body is read.
    let under_admin = warp::path::full().and_then(move |path: FullPath| {
        let found = lookup.admin(path.as_str());
        async move { found.ok_or_else(warp::reject::not_found) }
    });
    let reg = reg.clone();
    let query = warp::query::raw().or(warp::any().map(String::new)).unify();
    under_admin
        .and(warp::method())
        .and(query)
        .and(warp::header::headers_cloned())
        .and(bounded_body())
        .then(
            move |(t, rest): (Arc<Tenant>, String),
                  method: Method,
                  query: String,
                  headers: HeaderMap,
                  body: Result<Bytes, OAuthError>| {
                let reg = reg.clone();
                let blocks = makes_keys(&method, &rest);
                let answer = move || {
                    let req = Request {
                        method: &method,
                        rest: &rest,
                        query: &query,
                    };
                    authorize(&t, &method, &headers)
                        .and_then(|()| route(&reg, &t, &req, &body?))
                        .unwrap_or_else(Reply::into_response)
                };
                async move {
                    if !blocks {
                        return answer();
                    }
                    // Off the runtime's workers: an RSA key the pool did not have takes
                    // tens of milliseconds to make, and the other requests go on meanwhile.
                    tokio::task::spawn_blocking(answer)
                        .await
                        .unwrap_or_else(|e| {
                            status(
                                StatusCode::INTERNAL_SERVER_ERROR,
                                "server_error",
                                format!("the admin request failed: {e}"),
                            )
                            .into_response()
                        })
                }
            },
        )
        .boxed()
}

/// Whether an admin request may make a key: a tenant created, rebuilt or reset, a
/// signing key rotated.
fn makes_keys(method: &Method, rest: &str) -> bool {
    (method == Method::POST || method == Method::PUT)
        && (rest.starts_with("/tenants") || rest == "/keys/rotate")
}

fn authorize(t: &Tenant, method: &Method, headers: &HeaderMap) -> Result<(), OAuthError> {
    let Some(expected) = &t.admin_token else {
        return Ok(());
    };
    let given = headers
        .get(warp::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    verify_slices_are_equal(given.as_bytes(), expected.as_bytes()).map_err(|_| {
        // Journaled for whoever watches the tenant, without the value that was tried.
        let mut entry = Entry::new(
            Endpoint::Admin,
            method.as_str(),
            &Params::default(),
            &Params::default(),
        );
        entry.status = 401;
        entry.error = Some("invalid_token".into());
        entry.lints.push(Lint::WrongAdminToken);
        t.record(entry);
        OAuthError::invalid_token("the admin API needs Authorization: Bearer <admin token>")
    })
}

/// An admin request: method, path below `/admin`, raw query.
struct Request<'a> {
    method: &'a Method,
    rest: &'a str,
    query: &'a str,
}

fn route(
    reg: &Arc<Registry>,
    t: &Tenant,
    req: &Request<'_>,
    body: &[u8],
) -> Result<Response, OAuthError> {
    let Request { method, rest, .. } = *req;
    let segs: Vec<String> = rest
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    match (method.as_str(), segs.as_slice()) {
        ("GET", ["users"]) => users::list(t),
        ("GET", ["users", u]) => users::get(t, u),
        ("PUT", ["users", u]) => users::put(t, u, body),
        ("PATCH", ["users", u]) => users::patch(t, u, body),
        ("DELETE", ["users", u]) => users::delete(t, u),
        ("POST", ["users", u, "revoke"]) => users::revoke(t, u),
        ("GET", ["journal"]) => journal::get(t, req.query),
        ("DELETE", ["journal"]) => {
            t.clear_journal();
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        ("GET", ["keys"]) => Ok(keys::published(t)),
        ("POST", ["keys", "rotate"]) => keys::rotate(t, body),
        ("GET", ["faults"]) => faults::list(t),
        ("POST", ["faults"]) => faults::arm(t, body),
        ("DELETE", ["faults"]) => faults::clear(t, None),
        ("DELETE", ["faults", id]) => faults::clear(t, Some(id)),
        ("GET", ["tenants"]) if is_default(reg, t) => tenants::list(reg),
        ("POST", ["tenants"]) if is_default(reg, t) => tenants::create(reg, body),
        ("PUT", ["tenants", name]) if is_default(reg, t) => tenants::put(reg, name, body),
        ("DELETE", ["tenants", name]) if is_default(reg, t) => tenants::delete(reg, name),
        ("POST", ["tenants", name, "reset"]) if is_default(reg, t) => tenants::reset(reg, name),
        ("GET", ["clock"]) => clock::get(t),
        ("POST", ["clock"]) => clock::post(t, body),
        (
            _,
            ["users"]
            | ["users", _]
            | ["users", _, "revoke"]
            | ["clock"]
            | ["journal"]
            | ["keys"]
            | ["keys", "rotate"]
            | ["faults"]
            | ["faults", _],
        ) => Err(status(
            StatusCode::METHOD_NOT_ALLOWED,
            "invalid_request",
            format!("{method} is not allowed on {}{rest}", t.paths.admin),
        )),
        _ => Err(status(
            StatusCode::NOT_FOUND,
            "not_found",
            format!(
                "no admin route {rest:?}: see the admin API reference (docs/src/mock/admin-api.md)"
            ),
        )),
    }
}

/// Tenants are managed from the default tenant's admin API only.
fn is_default(reg: &Registry, t: &Tenant) -> bool {
    reg.list().first().is_some_and(|d| d.issuer == t.issuer)
}

/// An error with any status.
fn status(status: StatusCode, error: &'static str, description: impl Into<String>) -> OAuthError {
    OAuthError {
        status,
        ..OAuthError::bad_request(error, description)
    }
}

/// Parses a JSON body; the error names the line, column and field serde saw.
fn json_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, OAuthError> {
    serde_json::from_slice(body)
        .map_err(|e| OAuthError::invalid_request(format!("invalid JSON body: {e}")))
}

fn json_status<T: serde::Serialize>(value: &T, code: StatusCode) -> Response {
    warp::reply::with_status(warp::reply::json(value), code).into_response()
}
