//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): ends the IdP session and
//! returns to a registered `post_logout_redirect_uri` with `state`.

use std::sync::Arc;

use warp::Filter;
use warp::filters::BoxedFilter;
use warp::http::{HeaderMap, HeaderValue, StatusCode, header};
use warp::reply::{Reply, Response};

use super::authorize::{cookie_name, session_cookie};
use super::errors::{OAuthError, error_page};
use super::html::{escape, page};
use super::params::Params;
use super::{at, redirect};
use crate::journal::{Endpoint, Entry};
use crate::registry::Registry;
use crate::tenant::Tenant;

/// GET or POST end_session.
pub fn filter(reg: &Arc<Registry>) -> BoxedFilter<(Response,)> {
    at(reg, |p| &p.end_session)
        .and(super::query_or_form(Endpoint::EndSession))
        .and(warp::header::headers_cloned())
        .map(
            |t: Arc<Tenant>,
             params: Result<Params, OAuthError>,
             mut entry: Entry,
             headers: HeaderMap| {
                let res = match params.and_then(|p| end_session(&t, &p, &headers, &mut entry)) {
                    Ok(res) => res,
                    Err(e) => error_page(StatusCode::BAD_REQUEST, e.error, &e.description),
                };
                super::journaled(&t, entry, Ok(res))
            },
        )
        .boxed()
}

/// The signed-out page: each front-channel logout URL in an (invisible) iframe, then the
/// way back to the application if one was asked for. The iframes have loaded by the time
/// the page's `load` event fires; with scripts on the page then follows the link itself.
fn signed_out(frames: &[String], target: Option<&str>) -> Response {
    let mut body = String::from("<main><h1>You are signed out</h1>\n");
    if frames.is_empty() {
        body.push_str("<p>You can close this window.</p>\n");
    } else {
        body.push_str(&format!(
            "<p>Signing you out of {} application{} too.</p>\n",
            frames.len(),
            if frames.len() == 1 { "" } else { "s" }
        ));
        for f in frames {
            body.push_str(&format!(
                "<iframe src=\"{}\" title=\"front-channel logout\" width=\"0\" height=\"0\" hidden></iframe>\n",
                escape(f)
            ));
        }
    }
    if let Some(t) = target {
        body.push_str(&format!(
            "<p><a id=\"continue\" href=\"{}\">Continue to the application</a></p>\n\
             <script>addEventListener('load', () => location.replace(document.getElementById('continue').href));</script>\n",
            escape(t)
        ));
    }
    body.push_str("</main>");
    let mut res = page("Signed out", &body).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// The `aud` of an ID token this tenant signed, expired or not.
fn hinted_client(t: &Tenant, id_token: &str) -> Result<String, OAuthError> {
    let bad = |why: String| OAuthError::invalid_request(format!("id_token_hint: {why}"));
    let claims =
        crate::tokens::own_id_token(t, id_token, crate::keys::KeySet::by_kid).map_err(bad)?;
    crate::tokens::first_aud(&claims).map_err(bad)
}

/// Ends the session; the journal entry gets the client (the hint's audience, or
/// `client_id`) and the user of the session ended.
fn end_session(
    t: &Tenant,
    params: &Params,
    headers: &HeaderMap,
    entry: &mut Entry,
) -> Result<Response, OAuthError> {
    let from_hint = params
        .get("id_token_hint")?
        .map(|h| hinted_client(t, h))
        .transpose()?;
    let client_id = match (from_hint, params.get("client_id")?) {
        (Some(h), Some(c)) if h != c => {
            return Err(OAuthError::invalid_request(
                "client_id differs from the id_token_hint's audience",
            ));
        }
        (Some(h), _) => Some(h),
        (None, c) => c.map(str::to_owned),
    };
    entry.client_id.clone_from(&client_id);
    let target = match params.get("post_logout_redirect_uri")? {
        None => None,
        Some(uri) => {
            let client = client_id
                .as_deref()
                .and_then(|id| t.client(id))
                .ok_or_else(|| {
                    OAuthError::invalid_request(
                        "post_logout_redirect_uri needs a known client: send id_token_hint or client_id",
                    )
                })?;
            if !redirect::allowed(&client.post_logout_redirect_uris, uri) {
                return Err(OAuthError::invalid_request(format!(
                    "post_logout_redirect_uri {uri:?} is not registered for client {:?}",
                    client.id
                )));
            }
            let mut p = Vec::new();
            if let Some(s) = params.get("state")? {
                p.push(("state", s));
            }
            Some(redirect::with_params(uri, &p))
        }
    };
    let mut frames = Vec::new();
    if let Some(sid) = session_cookie(t, headers) {
        // Only a live session's clients are told (a stale cookie told them already, or
        // its session ran out on its own).
        let user = t
            .lock_grants()
            .session(&sid, t.clock.now())
            .map(|s| s.username.clone());
        let live = user.is_some();
        entry.user = user;
        if live {
            frames = crate::frontchannel::logout_urls(t, &sid);
            crate::backchannel::notify(t, crate::backchannel::Ended::Session(&sid));
        }
        let mut grants = t.lock_grants();
        grants.end_session(&sid);
        grants.revoke_session_tokens(&sid, |client| {
            t.client(client)
                .is_some_and(|c| c.refresh_policy.session_bound)
        });
    }
    let mut res = match (target, frames.is_empty()) {
        (Some(location), true) => redirect::found(&location),
        (target, _) => signed_out(&frames, target.as_deref()),
    };
    let clear = format!(
        "{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0",
        cookie_name(t)
    );
    if let Ok(v) = HeaderValue::from_str(&clear) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    // The browser state changes with the session (Session Management §3.3).
    if t.config.session_management.enabled {
        let clear = format!(
            "{}=; Path=/; SameSite=Lax; Max-Age=0",
            super::authorize::opbs_cookie_name(t)
        );
        if let Ok(v) = HeaderValue::from_str(&clear) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    Ok(res)
}
