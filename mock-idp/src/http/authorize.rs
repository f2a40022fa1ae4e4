//! The authorization endpoint (RFC 6749 §4.1, OIDC Core §3.1.2): reads the parameters,
//! the IdP's session cookie and the login form's outcome, and answers: the code (or an
//! error) back to the client by redirect or form_post, the login page, or an error page
//! when the client or redirect URI cannot be trusted. The rules are
//! [`crate::authorization`]'s.

use std::sync::Arc;

use warp::Filter;
use warp::filters::BoxedFilter;
use warp::http::{HeaderMap, HeaderValue, StatusCode, header};
use warp::reply::Response;

use super::errors::{OAuthError, error_page};
use super::params::Params;
use super::{login_page, redirect};
use crate::authorization::{self, AuthError, SignedIn};
use crate::grants::PendingLogin;
use crate::journal::{Endpoint, Entry};
use crate::registry::Registry;
use crate::tenant::Tenant;

/// The name of a tenant's session cookie: `mockidp_session`, suffixed by the issuer path
/// (`/t/acme` → `mockidp_session_t_acme`) so tenants on one host keep their own sessions.
pub fn cookie_name(t: &Tenant) -> String {
    let path = url::Url::parse(&t.issuer)
        .map(|u| {
            u.path()
                .trim_end_matches('/')
                .replace(|c: char| !c.is_ascii_alphanumeric(), "_")
        })
        .unwrap_or_default();
    format!("mockidp_session{path}")
}

/// Who the browser is, as far as this request knows.
#[derive(Debug)]
pub enum Who {
    /// Whatever the session cookie says (its value, if any).
    Cookie(Option<String>),
    /// Just logged in at the login page.
    Fresh(String),
    /// Pressed "Cancel" at the login page.
    Cancelled,
}

/// GET (query) and POST (form) authorization requests, journaled.
pub fn filter(reg: &Arc<Registry>) -> BoxedFilter<(Response,)> {
    super::at(reg, |p| &p.authorization)
        .and(super::query_or_form(Endpoint::Authorize))
        .and(warp::header::headers_cloned())
        .then(
            |t: Arc<Tenant>,
             params: Result<Params, OAuthError>,
             mut entry: Entry,
             headers: HeaderMap| async move {
                let res = match params {
                    Ok(p) => match by_reference(&t, &p).await {
                        Err((uri, why)) => {
                            entry.request_uri = Some(uri);
                            error_page(StatusCode::BAD_REQUEST, "invalid_request_uri", &why)
                        }
                        Ok(fetched) => {
                            let (p, uri) = match fetched {
                                Some((p, uri)) => (p, Some(uri)),
                                None => (p, None),
                            };
                            request_object_keys(&t, &p).await;
                            let res = run(
                                &t,
                                &p,
                                Who::Cookie(session_cookie(&t, &headers)),
                                &mut entry,
                            );
                            if uri.is_some() {
                                entry.request_uri = uri;
                            }
                            res
                        }
                    },
                    Err(e) => error_page(StatusCode::BAD_REQUEST, e.error, &e.description),
                };
                super::journaled(&t, entry, Ok(res))
            },
        )
        .boxed()
}

/// A request object by reference (RFC 9101 §5.2): with `[jar] enabled`, a `request_uri`
/// that no push handed out is fetched from where the client registered it, and the request
/// is then the object, as if sent by value (`request`). `Ok(None)`: nothing to fetch (no
/// such `request_uri`, or an unknown client, which the request's own checks refuse);
/// `Err`: the `request_uri` and why it cannot be used (`invalid_request_uri`).
async fn by_reference(
    t: &Tenant,
    p: &Params,
) -> Result<Option<(Params, String)>, (String, String)> {
    if !t.config.jar.enabled {
        return Ok(None);
    }
    let (Ok(Some(uri)), Ok(Some(id))) = (p.get("request_uri"), p.get("client_id")) else {
        return Ok(None);
    };
    if uri.starts_with(crate::par::URI_PREFIX) {
        return Ok(None);
    }
    let Some(client) = t.client(id) else {
        return Ok(None);
    };
    let refuse = |why: String| Err((uri.to_owned(), why));
    if p.has("request") {
        return refuse(
            "the request carries both request and request_uri: send one (RFC 9101 §5)".into(),
        );
    }
    if let Err(why) = crate::jar::registered_request_uri(&client, uri) {
        return refuse(why);
    }
    let jwt = match crate::jar::fetch(uri).await {
        Ok(jwt) => jwt,
        Err(why) => return refuse(why),
    };
    let mut params: Vec<(String, String)> =
        p.0.iter()
            .filter(|(k, _)| k != "request_uri")
            .cloned()
            .collect();
    params.push(("request".into(), jwt));
    Ok(Some((Params(params), uri.to_owned())))
}

/// Fetches the keys of the client whose signed request object a request carries, when
/// they are published at a `jwks_uri` (the one step that waits on the network).
pub(super) async fn request_object_keys(t: &Tenant, p: &Params) {
    if !t.config.jar.enabled {
        return;
    }
    if let (Ok(Some(jwt)), Ok(Some(id))) = (p.get("request"), p.get("client_id"))
        && let Some(client) = t.client(id)
    {
        t.remote_keys
            .refresh(
                &crate::client_keys::KeySource::client(&client),
                crate::jar::kid(jwt).as_deref(),
            )
            .await;
    }
}

/// The tenant's session id in the request's cookies.
pub fn session_cookie(t: &Tenant, headers: &HeaderMap) -> Option<String> {
    let name = cookie_name(t);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// The authorization parameters, each sent at most once.
pub(super) fn parameters(params: &Params) -> Result<authorization::Params<'_>, OAuthError> {
    Ok(authorization::Params {
        response_type: params.get("response_type")?,
        response_mode: params.get("response_mode")?,
        scope: params.list("scope")?,
        nonce: params.get("nonce")?,
        code_challenge: params.get("code_challenge")?,
        code_challenge_method: params.get("code_challenge_method")?,
        prompt: params.list("prompt")?,
        max_age: params.get("max_age")?,
        login_hint: params.get("login_hint")?,
        request: params.has("request"),
        request_uri: params.has("request_uri"),
    })
}

/// Handles an authorization request (also replayed by the login form); notes the user in
/// the journal entry.
pub fn run(t: &Tenant, params: &Params, who: Who, entry: &mut Entry) -> Response {
    // A pushed request (RFC 9126 §4): its parameters are the pushed ones, whatever else the
    // browser carries; the login form replays them as they were resolved here.
    let from_browser = matches!(who, Who::Cookie(_));
    let pushed_params;
    let mut pushed = false;
    let params = match params.get("request_uri") {
        Ok(Some(uri)) if from_browser && t.config.par.enabled => {
            let client_id = match params.require("client_id") {
                Ok(id) => id,
                Err(e) => return error_page(StatusCode::BAD_REQUEST, e.error, &e.description),
            };
            entry.request_uri = Some(uri.to_owned());
            match crate::par::take(t, uri, client_id) {
                Ok(p) => {
                    pushed_params = Params(p);
                    pushed = true;
                    let mut e = resolved_entry(entry, &pushed_params);
                    e.request_uri = Some(uri.to_owned());
                    e.pushed = true;
                    *entry = e;
                    &pushed_params
                }
                Err(why) => {
                    return error_page(StatusCode::BAD_REQUEST, "invalid_request_uri", &why);
                }
            }
        }
        _ => params,
    };
    let client_id = match params.require("client_id") {
        Ok(id) => id,
        Err(e) => return error_page(StatusCode::BAD_REQUEST, e.error, &e.description),
    };
    let Some(client) = t.client(client_id) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            &format!("unknown client_id {client_id:?}"),
        );
    };
    // A signed request object (RFC 9101): its parameters, and only its (§6.3).
    let signed_params;
    let mut signed = false;
    let params = match params.get("request") {
        Ok(Some(jwt)) if t.config.jar.enabled => match crate::jar::resolve(t, &client, jwt) {
            Ok(p) => {
                signed_params = Params(p);
                signed = true;
                let mut e = resolved_entry(entry, &signed_params);
                e.request_object = true;
                e.parameters = Some(signed_params.0.iter().cloned().collect());
                *entry = e;
                &signed_params
            }
            // The redirect_uri is inside what could not be trusted: an error page.
            Err(why) => {
                return error_page(StatusCode::BAD_REQUEST, "invalid_request_object", &why);
            }
        },
        _ => params,
    };
    let redirect_uri = match params.require("redirect_uri") {
        Ok(uri) if redirect::allowed(&client.redirect_uris, uri) => uri,
        Ok(uri) => {
            return error_page(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                &format!("redirect_uri {uri:?} is not registered for client {client_id:?}"),
            );
        }
        Err(e) => return error_page(StatusCode::BAD_REQUEST, e.error, &e.description),
    };
    // From here on, errors go back to the client (RFC 6749 §4.1.2.1), in the response
    // mode asked for when it is one the IdP speaks.
    let state = params.get("state").ok().flatten();
    let form_post = params.get("response_mode").ok().flatten() == Some("form_post");
    let answer = |p: &[(&str, &str)]| {
        if form_post {
            super::form_post::respond(redirect_uri, p)
        } else {
            redirect::found(&redirect::with_params(redirect_uri, p))
        }
    };
    let back = |error: &str, description: &str| {
        let mut p = vec![("error", error)];
        if !description.is_empty() {
            p.push(("error_description", description));
        }
        if let Some(s) = state {
            p.push(("state", s));
        }
        p.push(("iss", t.iss()));
        answer(&p)
    };
    if matches!(who, Who::Cancelled) {
        return back("access_denied", "the user cancelled the login");
    }
    if from_browser && !pushed && !signed && crate::jar::required(t, &client) {
        return back(
            "invalid_request",
            &format!(
                "client {client_id:?} must send its authorization requests as signed request objects (require_signed_request_object, RFC 9101 §10.5)"
            ),
        );
    }
    if from_browser && !pushed && crate::par::required(t, &client) {
        return back(
            "invalid_request",
            &format!(
                "client {client_id:?} must push its authorization requests to {} first and send only client_id and request_uri here (RFC 9126 §5)",
                t.url_of(&t.paths.par)
            ),
        );
    }
    let req = match parameters(params)
        .map_err(|e| AuthError::new(e.error, e.description))
        .and_then(|p| authorization::validate(&p, &client, redirect_uri, &t.config.quirks))
    {
        Ok(r) => r,
        Err(e) => return back(e.error, &e.description),
    };
    let now = t.clock.now();
    let (signed_in, fresh) = match who {
        Who::Fresh(username) => (fresh_session(t, username, now), true),
        Who::Cookie(cookie) => {
            match authorization::current_session(t, cookie.as_deref(), &req, now) {
                Some((sid, s)) => (
                    SignedIn {
                        username: s.username,
                        auth_time: s.auth_time,
                        sid,
                    },
                    false,
                ),
                None if req.prompt.iter().any(|p| p == "none") => {
                    return back(
                        "login_required",
                        "prompt=none, and there is no usable session",
                    );
                }
                None => match authorization::hinted_user(t, req.login_hint) {
                    Some(username) => (fresh_session(t, username, now), true),
                    None => return park(t, params, req.login_hint, now),
                },
            }
        }
        Who::Cancelled => unreachable!("answered above"),
    };
    let cookie = fresh.then(|| session_cookie_header(t, &signed_in.sid));
    // Session Management (§3): the browser state the check-session iframe reads, and the
    // session_state this response gives the RP at its redirect URI's origin.
    let managed = t.config.session_management.enabled.then(|| {
        let opbs = crate::session_state::browser_state(t, &signed_in.sid);
        let salt = t.random_token(8);
        let origin = crate::types::origin(redirect_uri);
        let state = crate::session_state::session_state(&client.id, &origin, &opbs, &salt);
        (opbs_cookie_header(t, &opbs), state)
    });
    match authorization::issue_code(t, &client, req, signed_in, state, entry) {
        Err(e) => back(e.error, &e.description),
        Ok(issued) => {
            let mut p = vec![("code", issued.code.as_str())];
            if let Some(s) = &issued.state {
                p.push(("state", s));
            }
            p.push(("iss", t.iss()));
            if let Some((_, session_state)) = &managed {
                p.push(("session_state", session_state));
            }
            let mut res = answer(&p);
            if let Some(cookie) = cookie {
                res.headers_mut().append(header::SET_COOKIE, cookie);
            }
            if let Some((opbs, _)) = managed {
                res.headers_mut().append(header::SET_COOKIE, opbs);
            }
            res
        }
    }
}

/// A new IdP session for a user who just signed in.
fn fresh_session(t: &Tenant, username: String, now: i64) -> SignedIn {
    SignedIn {
        sid: authorization::start_session(t, &username, now),
        username,
        auth_time: now,
    }
}

/// The `Set-Cookie` of a new IdP session.
fn session_cookie_header(t: &Tenant, sid: &str) -> HeaderValue {
    let cookie = format!(
        "{}={sid}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}",
        cookie_name(t),
        t.config.lifetimes.session
    );
    // The sid is base64url, always a valid header value.
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The journal entry of an authorization request described by what it resolved to (a
/// pushed request, a request object), not by the parameters the browser carried.
fn resolved_entry(entry: &Entry, params: &Params) -> Entry {
    Entry::new(
        Endpoint::Authorize,
        &entry.method,
        &Params::default(),
        params,
    )
}

/// The name of the cookie holding the OP browser state the check-session iframe reads
/// (Session Management §3.3; readable by its script, so not HttpOnly).
pub fn opbs_cookie_name(t: &Tenant) -> String {
    format!("{}_opbs", cookie_name(t))
}

/// The `Set-Cookie` of the OP browser state.
fn opbs_cookie_header(t: &Tenant, opbs: &str) -> HeaderValue {
    let cookie = format!(
        "{}={opbs}; Path=/; SameSite=Lax; Max-Age={}",
        opbs_cookie_name(t),
        t.config.lifetimes.session
    );
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Parks the request and shows the login page.
fn park(t: &Tenant, params: &Params, hint: Option<&str>, now: i64) -> Response {
    let id = t.random_token(16);
    t.lock_grants().insert_pending(
        &id,
        PendingLogin {
            params: params.0.clone(),
            expires_at: now + 600,
        },
        now,
    );
    login_page::render(t, &id, params, hint, None)
}
