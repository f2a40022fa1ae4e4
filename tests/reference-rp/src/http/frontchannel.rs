//! `GET /frontchannel-logout?iss=…&sid=…` (OpenID Connect Front-Channel Logout 1.0): the
//! IdP's signed-out page loads it in an iframe. The session is found by `iss` and `sid`
//! (§2, §4), not by the RP's cookie, which a cross-site iframe does not carry.

use std::collections::HashMap;
use std::sync::Arc;

use warp::Filter;
use warp::filters::BoxedFilter;
use warp::http::{HeaderValue, StatusCode, header};
use warp::reply::{Reply, Response};

use super::{SESSION, cookie, cookies, with_app};
use crate::App;
use crate::defects::Defect;

pub fn filter(app: Arc<App>) -> BoxedFilter<(Response,)> {
    warp::path!("frontchannel-logout")
        .and(warp::get())
        .and(with_app(app))
        .and(warp::query::<HashMap<String, String>>())
        .and(cookies())
        .map(
            |app: Arc<App>, q: HashMap<String, String>, header: Option<String>| {
                let ended = if app.settings.defects.has(Defect::FrontchannelNeedsCookie) {
                    // The mistake: the session is the cookie's, whatever iss and sid say.
                    cookie(&header, SESSION).is_some_and(|c| app.store().close(&c).is_some())
                } else {
                    log_out(&app, &q)
                };
                let mut res = warp::reply::html(if ended {
                    "<!doctype html><title>Signed out</title>"
                } else {
                    "<!doctype html><title>No session</title>"
                })
                .into_response();
                // §4: the response must not be cached.
                res.headers_mut()
                    .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                *res.status_mut() = StatusCode::OK;
                res
            },
        )
        .boxed()
}

/// Ends the sessions of this `sid` when `iss` is the provider's (§4: both are checked
/// when present); whether any ended.
fn log_out(app: &App, q: &HashMap<String, String>) -> bool {
    let d = &app.settings.defects;
    if d.has(Defect::FrontchannelEndsAll) {
        return app.store().log_out_everyone() > 0;
    }
    let (Some(iss), Some(sid)) = (q.get("iss"), q.get("sid")) else {
        return false;
    };
    let issuer_ok = *iss == app.settings.issuer || d.has(Defect::FrontchannelIgnoresIss);
    issuer_ok && app.store().log_out(None, Some(sid)) > 0
}
