//! `GET /logout`: ends the session, then the IdP's (OpenID Connect RP-Initiated Logout
//! 1.0): the browser goes to the provider's `end_session_endpoint` with `id_token_hint`,
//! `post_logout_redirect_uri` (`/logged-out`) and `state`, and comes back to
//! `GET /logged-out`, which answers 400 when the `state` that comes back is not the one
//! sent (kept in a cookie meanwhile). A provider without an end-session endpoint gets a
//! local logout.

use std::sync::Arc;

use serde_json::json;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::http::{HeaderValue, StatusCode, header};
use warp::reply::Response;

use super::{SESSION, cookie, cookies, error, json, redirect, set_cookie, with_app};
use crate::App;
use crate::defects::Defect;

/// Where the provider sends the browser back.
pub const LOGGED_OUT: &str = "/logged-out";

/// The cookie that holds the logout request's `state` until the browser comes back.
const LOGOUT_STATE: &str = "rp_logout_state";

pub fn filter(app: Arc<App>) -> BoxedFilter<(Response,)> {
    let app_for_return = app.clone();
    let logout = warp::path!("logout")
        .and(warp::get())
        .and(with_app(app))
        .and(cookies())
        .then(|app: Arc<App>, c: Option<String>| async move {
            let session = cookie(&c, SESSION).and_then(|s| {
                if app.settings.defects.has(Defect::LogoutClearsCookieOnly) {
                    // The mistake: the cookie goes, the session it names stays.
                    app.store().session(&s).cloned()
                } else {
                    app.store().log_out_session(&s, &app.settings.defects)
                }
            });
            let state = crate::random_token();
            let mut res = match end_session_url(&app, session.as_ref(), &state).await {
                Some(url) => redirect(&url, &[set_cookie(LOGOUT_STATE, &state, Some(600))]),
                None => json(StatusCode::OK, &json!({ "logged_out": session.is_some() })),
            };
            if let Ok(v) = HeaderValue::from_str(&set_cookie(SESSION, "", Some(0))) {
                res.headers_mut().append(header::SET_COOKIE, v);
            }
            res
        });
    let logged_out = warp::path!("logged-out")
        .and(warp::get())
        .and(warp::query::<std::collections::HashMap<String, String>>())
        .and(with_app(app_for_return))
        .and(cookies())
        .map(
            |q: std::collections::HashMap<String, String>, app: Arc<App>, c: Option<String>| {
                let sent = cookie(&c, LOGOUT_STATE);
                let checked = !app.settings.defects.has(Defect::LogoutStateUnchecked);
                if checked && q.get("state") != sent.as_ref() {
                    return error(
                        StatusCode::BAD_REQUEST,
                        "invalid_state",
                        "the state that came back is not the one this logout sent",
                    );
                }
                let mut res = json(StatusCode::OK, &json!({ "logged_out": true }));
                if let Ok(v) = HeaderValue::from_str(&set_cookie(LOGOUT_STATE, "", Some(0))) {
                    res.headers_mut().insert(header::SET_COOKIE, v);
                }
                res
            },
        );
    logout.or(logged_out).unify().boxed()
}

/// The provider's end-session URL for this session, when the provider has one.
async fn end_session_url(
    app: &App,
    session: Option<&crate::store::Session>,
    state: &str,
) -> Option<String> {
    let d = &app.settings.defects;
    if d.has(Defect::LogoutLocalOnly) {
        return None;
    }
    let end = app.provider.metadata().await.ok()?.end_session_endpoint?;
    let mut url = url::Url::parse(&end).ok()?;
    {
        let mut q = url.query_pairs_mut();
        match session.and_then(|s| s.id_token.as_deref()) {
            Some(hint) if !d.has(Defect::LogoutNoIdTokenHint) => {
                q.append_pair("id_token_hint", hint);
            }
            _ => {
                q.append_pair("client_id", &app.settings.client_id);
            }
        }
        q.append_pair(
            "post_logout_redirect_uri",
            &format!("{}{LOGGED_OUT}", app.base_url),
        );
        q.append_pair("state", state);
    }
    Some(url.into())
}
