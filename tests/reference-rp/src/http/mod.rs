//! The RP's endpoints (the contract's defaults): `/login`, `/login/oauth2/callback`,
//! `/me`, `/logout` (RP-initiated: through the IdP's end_session, back to `/logged-out`),
//! `/grant`, `/healthz`, `/backchannel-logout` and `/frontchannel-logout`.

mod backchannel;
mod callback;
mod frontchannel;
mod grant;
mod login;
mod logout;
mod me;

use std::sync::Arc;

use serde_json::Value;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::http::{HeaderValue, StatusCode, header};
use warp::reply::{Reply, Response};

use crate::App;

/// The session cookie.
const SESSION: &str = "rp_session";
/// The cookie naming a login in progress.
const LOGIN: &str = "rp_login";
/// The callback path (the registered redirect URI).
pub const CALLBACK: &str = "/login/oauth2/callback";
/// Where request objects are published by reference (`JAR_BY_REFERENCE`).
pub const OBJECTS: &str = "/request-objects";

/// Every route.
pub fn routes(app: Arc<App>) -> BoxedFilter<(Response,)> {
    let health = warp::path!("healthz")
        .and(warp::get())
        .map(|| json(StatusCode::OK, &serde_json::json!({"ok": true})));
    // An RP gone down (`EXIT_AFTER_LOGINS`) answers nothing useful on a connection that
    // was still open: 503 to everything, as a proxy in front of a dead process does.
    let down = with_app(app.clone()).and_then(|app: Arc<App>| async move {
        if app.is_down() {
            Ok(json(
                StatusCode::SERVICE_UNAVAILABLE,
                &serde_json::json!({"error": "the RP is down"}),
            ))
        } else {
            Err(warp::reject::not_found())
        }
    });
    down.or(login::filter(app.clone()))
        .unify()
        .or(callback::filter(app.clone()))
        .unify()
        .or(me::filter(app.clone()))
        .unify()
        .or(logout::filter(app.clone()))
        .unify()
        .or(grant::filter(app.clone()))
        .unify()
        .or(backchannel::filter(app.clone()))
        .unify()
        .or(frontchannel::filter(app))
        .unify()
        .or(health)
        .unify()
        .boxed()
}

/// The app, for a filter chain.
fn with_app(
    app: Arc<App>,
) -> impl Filter<Extract = (Arc<App>,), Error = std::convert::Infallible> + Clone {
    warp::any().map(move || app.clone())
}

/// The `Cookie` header.
fn cookies() -> impl Filter<Extract = (Option<String>,), Error = warp::Rejection> + Clone {
    warp::header::optional::<String>("cookie")
}

/// One cookie's value.
fn cookie(header: &Option<String>, name: &str) -> Option<String> {
    header.as_deref()?.split(';').find_map(|c| {
        let (k, v) = c.trim().split_once('=')?;
        (k == name).then(|| v.to_owned())
    })
}

fn random() -> String {
    crate::random_token()
}

fn set_cookie(name: &str, value: &str, max_age: Option<u32>) -> String {
    let age = max_age
        .map(|a| format!("; Max-Age={a}"))
        .unwrap_or_default();
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax{age}")
}

fn json(status: StatusCode, v: &Value) -> Response {
    warp::reply::with_status(warp::reply::json(v), status).into_response()
}

/// A JSON error page: `{"error": code, "error_description": why}`.
fn error(status: StatusCode, code: &str, why: &str) -> Response {
    json(
        status,
        &serde_json::json!({ "error": code, "error_description": why }),
    )
}

fn redirect(location: &str, cookies: &[String]) -> Response {
    let mut res = StatusCode::FOUND.into_response();
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(location) {
        h.insert(header::LOCATION, v);
    }
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(c) {
            h.append(header::SET_COOKIE, v);
        }
    }
    res
}
