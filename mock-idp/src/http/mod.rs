//! warp filters: one file per endpoint, one `recover` for rejections.

mod admin;
mod authorize;
mod check_session;
mod claims;
mod client_auth;
mod debug;
mod debug_page;
mod device;
mod device_authorization;
mod device_page;
mod discovery;
mod dpop;
mod end_session;
mod errors;
mod form_post;
mod groups;
mod html;
mod introspect;
mod jwks;
mod login;
mod login_page;
mod par;
mod params;
mod redirect;
mod register;
mod revoke;
mod token;
mod userinfo;

pub(crate) use crate::types::origin;
pub use errors::OAuthError;
pub use params::Params;

use std::convert::Infallible;
use std::sync::Arc;

use warp::filters::BoxedFilter;
use warp::http::{HeaderMap, StatusCode};
use warp::path::FullPath;
use warp::reply::{Reply, Response};
use warp::{Filter, Rejection};

use crate::journal::{Endpoint, Entry};
use crate::registry::Registry;
use crate::tenant::Tenant;

/// Largest accepted form body.
const BODY_LIMIT: u64 = 64 * 1024;

/// Every endpoint of a tenant, with request logging and error recovery.
pub fn routes(tenant: Arc<Tenant>) -> BoxedFilter<(Response,)> {
    routes_for(Arc::new(Registry::new(tenant)))
}

/// Every endpoint of every tenant of a registry: each request finds its tenant by path.
pub fn routes_for(reg: Arc<Registry>) -> BoxedFilter<(Response,)> {
    discovery::filter(&reg)
        .or(jwks::filter(&reg))
        .unify()
        .or(authorize::filter(&reg))
        .unify()
        .or(login::filter(&reg))
        .unify()
        .or(token::filter(&reg))
        .unify()
        .or(userinfo::filter(&reg))
        .unify()
        .or(introspect::filter(&reg))
        .unify()
        .or(revoke::filter(&reg))
        .unify()
        .or(end_session::filter(&reg))
        .unify()
        .or(device_authorization::filter(&reg))
        .unify()
        .or(par::filter(&reg))
        .unify()
        .or(register::filter(&reg))
        .unify()
        .or(check_session::filter(&reg))
        .unify()
        .or(device::filter(&reg))
        .unify()
        .or(groups::filter(&reg))
        .unify()
        .or(claims::filter(&reg))
        .unify()
        .or(debug::filter(&reg))
        .unify()
        .or(admin::filter(&reg))
        .unify()
        .recover(recover)
        .unify()
        .with(warp::log::custom(|info| {
            tracing::info!(
                target: "mock_idp::http",
                method = %info.method(),
                path = info.path(),
                status = info.status().as_u16(),
                elapsed_us = info.elapsed().as_micros() as u64,
                "request"
            );
        }))
        .map(Reply::into_response)
        .boxed()
}

/// Matches the tenant whose `select`ed endpoint path is exactly the request's path
/// (endpoint paths are configurable and tenants come and go, so paths are data).
fn at(
    reg: &Arc<Registry>,
    select: fn(&crate::tenant::Paths) -> &String,
) -> impl Filter<Extract = (Arc<Tenant>,), Error = Rejection> + Clone + use<> {
    let reg = reg.clone();
    warp::path::full().and_then(move |full: FullPath| {
        let tenant = reg.at(full.as_str(), select);
        async move { tenant.ok_or_else(warp::reject::not_found) }
    })
}

/// The query string's parameters (none when there is no query).
fn query() -> impl Filter<Extract = (Result<Params, OAuthError>,), Error = Infallible> + Clone {
    warp::query::raw()
        .or(warp::any().map(String::new))
        .unify()
        .map(|q: String| Params::parse(q.as_bytes()))
}

/// The request body, up to [`BODY_LIMIT`] bytes, with or without Content-Length (chunked
/// bodies too). A larger body is an `invalid_request` (413), not a rejection.
fn bounded_body()
-> impl Filter<Extract = (Result<bytes::Bytes, OAuthError>,), Error = Rejection> + Clone {
    warp::body::stream().then(collect_body)
}

async fn collect_body<S, B>(stream: S) -> Result<bytes::Bytes, OAuthError>
where
    S: futures_util::Stream<Item = Result<B, warp::Error>>,
    B: bytes::Buf,
{
    use futures_util::TryStreamExt;
    let mut stream = std::pin::pin!(stream);
    let mut body = Vec::new();
    while let Some(mut chunk) = stream
        .try_next()
        .await
        .map_err(|e| OAuthError::invalid_request(format!("cannot read the body: {e}")))?
    {
        if body.len() + chunk.remaining() > BODY_LIMIT as usize {
            return Err(OAuthError {
                status: StatusCode::PAYLOAD_TOO_LARGE,
                ..OAuthError::invalid_request(format!("the body is larger than {BODY_LIMIT} bytes"))
            });
        }
        while chunk.has_remaining() {
            let n = chunk.chunk().len();
            body.extend_from_slice(chunk.chunk());
            chunk.advance(n);
        }
    }
    Ok(bytes::Bytes::from(body))
}

/// The parameters of a request that may come as GET (query) or POST (form), with a
/// journal entry for it (so a secret in the URL is told from one in the body).
fn query_or_form(
    endpoint: Endpoint,
) -> impl Filter<Extract = (Result<Params, OAuthError>, Entry), Error = Rejection> + Clone {
    let get = warp::get()
        .and(query())
        .map(move |p: Result<Params, OAuthError>| {
            let entry = Entry::new(
                endpoint,
                "GET",
                p.as_ref().unwrap_or(&Params::default()),
                &Params::default(),
            );
            (p, entry)
        });
    let post = warp::post()
        .and(form())
        .map(move |p: Result<Params, OAuthError>| {
            let entry = Entry::new(
                endpoint,
                "POST",
                &Params::default(),
                p.as_ref().unwrap_or(&Params::default()),
            );
            (p, entry)
        });
    get.or(post).unify().untuple_one()
}

/// The media type of the request's `Content-Type`, its parameters left out (none when it
/// sent none, or one that is not text).
fn media_type(headers: &HeaderMap) -> Option<&str> {
    let ct = headers
        .get(warp::http::header::CONTENT_TYPE)?
        .to_str()
        .ok()?;
    Some(ct.split(';').next().unwrap_or("").trim())
}

/// A form body's parameters; another content type is an `invalid_request`.
fn form() -> impl Filter<Extract = (Result<Params, OAuthError>,), Error = Rejection> + Clone {
    warp::header::headers_cloned().and(bounded_body()).map(
        |headers: HeaderMap, body: Result<bytes::Bytes, OAuthError>| {
            let body = body?;
            let form = media_type(&headers)
                .is_none_or(|t| t.eq_ignore_ascii_case("application/x-www-form-urlencoded"));
            if !form {
                return Err(OAuthError::invalid_request(
                    "the body must be application/x-www-form-urlencoded",
                ));
            }
            Params::parse(&body)
        },
    )
}

/// A handler that fills in its journal entry.
type Handler = fn(&Tenant, &HeaderMap, &Params, &mut Entry) -> Result<Response, OAuthError>;

/// A GET or POST endpoint (a form body for POST) whose handler reads a bearer access token
/// (userinfo, the groups of an overage), journaled.
fn bearer_get_post(
    reg: &Arc<Registry>,
    select: fn(&crate::tenant::Paths) -> &String,
    endpoint: Endpoint,
    handler: Handler,
) -> BoxedFilter<(Response,)> {
    let get = warp::get().map(|| ("GET", Ok(Params::default())));
    let post = warp::post().and(form()).map(|p| ("POST", p));
    at(reg, select)
        .and(get.or(post).unify())
        .and(warp::header::headers_cloned())
        .map(
            move |t: Arc<Tenant>,
                  (method, form): (&'static str, Result<Params, OAuthError>),
                  headers: HeaderMap| {
                let none = Params::default();
                let mut entry = Entry::new(endpoint, method, &none, form.as_ref().unwrap_or(&none));
                let result = form.and_then(|f| handler(&t, &headers, &f, &mut entry));
                journaled(&t, entry, result)
            },
        )
        .boxed()
}

/// A form POST endpoint whose handler authenticates a client from the headers and form
/// (token, introspection, revocation), journaled.
fn client_post(
    reg: &Arc<Registry>,
    select: fn(&crate::tenant::Paths) -> &String,
    endpoint: Endpoint,
    handler: Handler,
) -> BoxedFilter<(Response,)> {
    at(reg, select)
        .and(warp::post())
        .and(query())
        .and(warp::header::headers_cloned())
        .and(form())
        .then(
            move |t: Arc<Tenant>,
                  query: Result<Params, OAuthError>,
                  headers: HeaderMap,
                  form: Result<Params, OAuthError>| async move {
                let query = query.unwrap_or_default();
                let (entry, result): (Entry, Result<Response, OAuthError>) = match form {
                    Ok(f) => {
                        client_auth::fetch_signer_keys(&t, &f).await;
                        authorize::request_object_keys(&t, &f).await;
                        let mut entry = Entry::new(endpoint, "POST", &query, &f);
                        let result = handler(&t, &headers, &f, &mut entry);
                        (entry, result)
                    }
                    Err(e) => (
                        Entry::new(endpoint, "POST", &query, &Params::default()),
                        Err(e),
                    ),
                };
                let latency = entry.faults.iter().find_map(|f| match f {
                    crate::faults::Fault::Latency { ms } => Some(*ms),
                    _ => None,
                });
                // Journaled before the delay: a client that gives up waiting still shows.
                let res = journaled(&t, entry, result);
                if let Some(ms) = latency {
                    tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
                }
                res
            },
        )
        .boxed()
}

/// Completes a journal entry with the outcome, records it, and answers.
fn journaled(t: &Tenant, mut entry: Entry, result: Result<Response, OAuthError>) -> Response {
    (entry.error, entry.error_description) = match &result {
        Err(e) => (Some(e.error.to_owned()), Some(e.description.clone())),
        Ok(res) => match res.extensions().get::<errors::PageError>() {
            Some(e) => (Some(e.0.clone()), e.1.clone()),
            None => redirect_error(res),
        },
    };
    let res = reply(result);
    entry.status = res.status().as_u16();
    t.record(entry);
    res
}

/// The `error` and `error_description` parameters of a redirect's Location.
fn redirect_error(res: &Response) -> (Option<String>, Option<String>) {
    let location = res
        .headers()
        .get(warp::http::header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .and_then(|l| url::Url::parse(l).ok());
    let param = |name: &str| {
        location.as_ref().and_then(|u| {
            u.query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        })
    };
    match param("error") {
        Some(e) => (Some(e), param("error_description")),
        None => (None, None),
    }
}

/// Turns a handler's result into a response.
fn reply(result: Result<Response, OAuthError>) -> Response {
    result.unwrap_or_else(Reply::into_response)
}

/// A JSON answer from ready bytes.
fn json_bytes(body: bytes::Bytes) -> Response {
    let mut res = Response::new(body.into());
    res.headers_mut().insert(
        warp::http::header::CONTENT_TYPE,
        warp::http::HeaderValue::from_static("application/json"),
    );
    res
}

/// JSON with `Cache-Control: no-store` (RFC 6749 §5.1).
fn json_no_store<T: serde::Serialize>(value: &T) -> Response {
    let mut res = warp::reply::json(value).into_response();
    let h = res.headers_mut();
    h.insert(
        warp::http::header::CACHE_CONTROL,
        warp::http::HeaderValue::from_static("no-store"),
    );
    h.insert(
        warp::http::header::PRAGMA,
        warp::http::HeaderValue::from_static("no-cache"),
    );
    res
}

async fn recover(r: Rejection) -> Result<Response, Infallible> {
    use warp::reject::MethodNotAllowed;
    let err = if r.is_not_found() {
        OAuthError {
            status: StatusCode::NOT_FOUND,
            ..OAuthError::invalid_request("no endpoint at this path")
        }
    } else if r.find::<MethodNotAllowed>().is_some() {
        OAuthError {
            status: StatusCode::METHOD_NOT_ALLOWED,
            ..OAuthError::invalid_request("this endpoint does not accept that HTTP method")
        }
    } else {
        tracing::warn!(target: "mock_idp::http", rejection = ?r, "unhandled rejection");
        OAuthError::invalid_request(format!("malformed request: {r:?}"))
    };
    Ok(err.into_response())
}
