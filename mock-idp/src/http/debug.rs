//! The debug pages a person opens: `<issuer path>/debug` (token inspector, the tenant's
//! users with their groups, the newest journal lines) and `<issuer path>/debug/journal`
//! (the journal, reloading itself every few seconds, without JavaScript). With an admin
//! token, the browser asks for it (HTTP Basic, any user name, the token as password): these
//! pages show what the admin API shows.

use std::sync::Arc;

use aws_lc_rs::constant_time::verify_slices_are_equal;
use base64::Engine;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::http::{HeaderMap, HeaderValue, StatusCode, header};
use warp::reply::{Reply, Response};

use super::debug_page;
use super::errors::OAuthError;
use super::params::Params;
use super::{at, form, query};
use crate::inspect::inspect;
use crate::registry::Registry;
use crate::tenant::Tenant;

/// GET shows the page; POST (a form with `token`) inspects a token.
pub fn filter(reg: &Arc<Registry>) -> BoxedFilter<(Response,)> {
    let get = at(reg, |p| &p.debug)
        .and(warp::get())
        .and(warp::header::headers_cloned())
        .and(query())
        .map(
            |t: Arc<Tenant>, h: HeaderMap, q: Result<Params, OAuthError>| {
                guarded(&t, &h, || {
                    let token = q
                        .ok()
                        .and_then(|p| p.get("token").ok().flatten().map(str::to_owned));
                    page(&t, token.as_deref())
                })
            },
        );
    let post = at(reg, |p| &p.debug)
        .and(warp::post())
        .and(warp::header::headers_cloned())
        .and(form())
        .map(
            |t: Arc<Tenant>, h: HeaderMap, f: Result<Params, OAuthError>| {
                guarded(&t, &h, || {
                    let token = f
                        .ok()
                        .and_then(|p| p.get("token").ok().flatten().map(str::to_owned));
                    page(&t, Some(token.as_deref().unwrap_or("")))
                })
            },
        );
    let journal = at(reg, |p| &p.debug_journal)
        .and(warp::get())
        .and(warp::header::headers_cloned())
        .map(|t: Arc<Tenant>, h: HeaderMap| guarded(&t, &h, || debug_page::journal(&t)));
    get.or(post).unify().or(journal).unify().boxed()
}

fn page(t: &Tenant, token: Option<&str>) -> Response {
    let inspected = token.map(|tok| (tok.to_owned(), inspect(t, tok)));
    debug_page::render(t, inspected.as_ref())
}

/// The page, or 401 asking for the admin token when one is set and not given.
fn guarded(t: &Tenant, headers: &HeaderMap, show: impl FnOnce() -> Response) -> Response {
    if let Some(expected) = &t.admin_token {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Basic "))
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| s.split_once(':').map(|(_, pw)| pw.to_owned()))
            .unwrap_or_default();
        if verify_slices_are_equal(given.as_bytes(), expected.as_bytes()).is_err() {
            let mut res = warp::reply::with_status(
                super::html::page(
                    "Admin token needed",
                    "<main><h1>Admin token needed</h1><p>These pages show what the admin API shows: give the admin token as the password (any user name).</p></main>",
                ),
                StatusCode::UNAUTHORIZED,
            )
            .into_response();
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"mock-idp admin\", charset=\"UTF-8\""),
            );
            return res;
        }
    }
    let mut res = show();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}
