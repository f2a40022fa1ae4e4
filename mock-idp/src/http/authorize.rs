//! The authorization endpoint (RFC 6749 §4.1, OIDC Core §3.1.2): code flow, state, nonce,
//! PKCE, prompt, max_age, login_hint, and the IdP's session cookie.

use std::sync::Arc;

use warp::Filter;
use warp::filters::BoxedFilter;
use warp::http::{HeaderMap, HeaderValue, StatusCode, header};
use warp::reply::Response;

use super::errors::{OAuthError, error_page};
use super::params::Params;
use super::{login_page, redirect};
use crate::config::ClientConfig;
use crate::faults::{Fault, FaultPoint, Target};
use crate::grants::valid_pkce_string;
use crate::grants::{CodeRecord, Grant, PendingLogin, Pkce, PkceMethod, Session};
use crate::journal::{Endpoint, Entry};
use crate::registry::Registry;
use crate::tenant::Tenant;
use crate::types::{AuthMethod, GrantType};

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
        .map(
            |t: Arc<Tenant>,
             params: Result<Params, OAuthError>,
             mut entry: Entry,
             headers: HeaderMap| {
                let res = match params {
                    Ok(p) => run(
                        &t,
                        &p,
                        Who::Cookie(session_cookie(&t, &headers)),
                        &mut entry,
                    ),
                    Err(e) => error_page(StatusCode::BAD_REQUEST, e.error, &e.description),
                };
                super::journaled(&t, entry, Ok(res))
            },
        )
        .boxed()
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

/// A validated authorization request.
struct Request<'a> {
    redirect_uri: &'a str,
    scope: Vec<String>,
    nonce: Option<&'a str>,
    pkce: Option<Pkce>,
    prompt: Vec<String>,
    max_age: Option<i64>,
    login_hint: Option<&'a str>,
}

/// Handles an authorization request (also replayed by the login form); notes the user in
/// the journal entry.
pub fn run(t: &Tenant, params: &Params, who: Who, entry: &mut Entry) -> Response {
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
        let mut p = vec![("error", error), ("error_description", description)];
        if let Some(s) = state {
            p.push(("state", s));
        }
        p.push(("iss", t.iss()));
        answer(&p)
    };
    if matches!(who, Who::Cancelled) {
        return back("access_denied", "the user cancelled the login");
    }
    let req = match validate(params, client, redirect_uri) {
        Ok(r) => r,
        Err(e) => return back(e.error, &e.description),
    };
    let now = t.clock.now();
    let (username, auth_time, sid, new_cookie) = match who {
        Who::Fresh(username) => {
            let (sid, cookie) = start_session(t, &username, now);
            (username, now, sid, Some(cookie))
        }
        Who::Cookie(cookie) => match current_session(t, cookie.as_deref(), &req, now) {
            Some((sid, s)) => (s.username, s.auth_time, sid, None),
            None if req.prompt.iter().any(|p| p == "none") => {
                return back(
                    "login_required",
                    "prompt=none, and there is no usable session",
                );
            }
            None => match hinted_user(t, req.login_hint) {
                Some(username) => {
                    let (sid, cookie) = start_session(t, &username, now);
                    (username, now, sid, Some(cookie))
                }
                None => return park(t, params, req.login_hint, now),
            },
        },
        Who::Cancelled => unreachable!("answered above"),
    };
    let sub = match t.directory().get(&username) {
        None => return back("access_denied", "the user no longer exists"),
        Some(u) if u.disabled => return back("access_denied", "the user is disabled"),
        Some(u) => u.sub.clone(),
    };
    entry.user = Some(username.clone());
    entry.faults = t.fire_faults(
        Target {
            client_id: &client.id,
            user: Some(&username),
            grant_type: None,
        },
        FaultPoint::Authorize,
    );
    if entry.faults.contains(&Fault::AccessDenied) {
        return back(
            "access_denied",
            "the user or the provider refused (injected fault)",
        );
    }
    let altered = entry
        .faults
        .contains(&Fault::StateAltered)
        .then(|| format!("altered-{}", state.unwrap_or("")));
    let state = altered.as_deref().or(state);
    let code = t.random_token(32);
    let record = CodeRecord {
        grant: std::sync::Arc::new(Grant {
            client_id: client.id.clone(),
            username: Some(username),
            sub,
            scope: req.scope,
            auth_time,
            sid: Some(sid),
        }),
        redirect_uri: req.redirect_uri.to_owned(),
        nonce: req.nonce.map(str::to_owned),
        pkce: req.pkce,
        expires_at: now + t.config.lifetimes.code as i64,
        lineage: None,
    };
    t.lock_grants().insert_code(&code, record, now);
    let mut p = vec![("code", code.as_str())];
    if let Some(s) = state {
        p.push(("state", s));
    }
    p.push(("iss", t.iss()));
    let mut res = answer(&p);
    if let Some(cookie) = new_cookie {
        res.headers_mut().append(header::SET_COOKIE, cookie);
    }
    res
}

fn validate<'a>(
    params: &'a Params,
    client: &'a ClientConfig,
    redirect_uri: &'a str,
) -> Result<Request<'a>, OAuthError> {
    let bad = |error, description: &str| Err(OAuthError::bad_request(error, description));
    match params.get("response_type")? {
        None => return bad("invalid_request", "missing parameter response_type"),
        Some("code") => {}
        Some(other) => {
            return bad(
                "unsupported_response_type",
                &format!("response_type {other:?} is not supported; use code"),
            );
        }
    }
    if !client.grant_types.contains(&GrantType::AuthorizationCode) {
        return bad(
            "unauthorized_client",
            "this client may not use the authorization code grant",
        );
    }
    if params.has("request") {
        return bad("request_not_supported", "request objects are not supported");
    }
    if params.has("request_uri") {
        return bad("request_uri_not_supported", "request_uri is not supported");
    }
    if let Some(mode) = params.get("response_mode")?
        && !matches!(mode, "query" | "form_post")
    {
        return bad(
            "invalid_request",
            &format!("response_mode {mode:?} is not supported; use query or form_post"),
        );
    }
    let scope = params.list("scope")?;
    if scope.is_empty() {
        return bad(
            "invalid_scope",
            "missing scope (OpenID Connect requests need at least `openid`)",
        );
    }
    let pkce = pkce(params, client)?;
    let prompt = params.list("prompt")?;
    if let Some(p) = prompt
        .iter()
        .find(|p| !matches!(p.as_str(), "none" | "login" | "consent" | "select_account"))
    {
        return bad("invalid_request", &format!("unknown prompt value {p:?}"));
    }
    if prompt.len() > 1 && prompt.iter().any(|p| p == "none") {
        return bad(
            "invalid_request",
            "prompt=none cannot be combined with other values",
        );
    }
    let max_age = match params.get("max_age")? {
        None => None,
        Some(s) => match s.parse::<i64>() {
            Ok(v) if v >= 0 => Some(v),
            _ => {
                return bad(
                    "invalid_request",
                    &format!("max_age {s:?} is not a number of seconds"),
                );
            }
        },
    };
    Ok(Request {
        redirect_uri,
        scope,
        nonce: params.get("nonce")?,
        pkce,
        prompt,
        max_age,
        login_hint: params.get("login_hint")?,
    })
}

fn pkce(params: &Params, client: &ClientConfig) -> Result<Option<Pkce>, OAuthError> {
    let method = params.get("code_challenge_method")?;
    let Some(challenge) = params.get("code_challenge")? else {
        if method.is_some() {
            return Err(OAuthError::invalid_request(
                "code_challenge_method without code_challenge",
            ));
        }
        let public = client.auth_methods.iter().all(|m| *m == AuthMethod::None);
        if public {
            return Err(OAuthError::invalid_request(
                "PKCE is required for public clients: send code_challenge (RFC 9700 §2.1.1)",
            ));
        }
        return Ok(None);
    };
    let method = PkceMethod::parse(method).ok_or_else(|| {
        OAuthError::invalid_request("code_challenge_method must be S256 or plain")
    })?;
    if !valid_pkce_string(challenge) {
        return Err(OAuthError::invalid_request(
            "code_challenge must be 43 to 128 characters of [A-Za-z0-9-._~] (RFC 7636 §4.2)",
        ));
    }
    Ok(Some(Pkce {
        method,
        challenge: challenge.to_owned(),
    }))
}

/// The cookie's session, if it exists, its user still does, and the request accepts it.
fn current_session(
    t: &Tenant,
    sid: Option<&str>,
    req: &Request<'_>,
    now: i64,
) -> Option<(String, Session)> {
    let sid = sid?;
    let session = t.lock_grants().session(sid, now)?.clone();
    if req
        .prompt
        .iter()
        .any(|p| p == "login" || p == "select_account")
    {
        return None;
    }
    if req.max_age.is_some_and(|m| now - session.auth_time > m) {
        return None;
    }
    t.directory()
        .get(&session.username)
        .filter(|u| !u.disabled)?;
    Some((sid.to_owned(), session))
}

/// `login_hint` naming a user without a password logs in without the page.
fn hinted_user(t: &Tenant, hint: Option<&str>) -> Option<String> {
    let dir = t.directory();
    let user = dir.get(hint?)?;
    (user.password.is_none() && !user.disabled).then(|| user.username.clone())
}

fn start_session(t: &Tenant, username: &str, now: i64) -> (String, HeaderValue) {
    let sid = t.random_token(16);
    let life = t.config.lifetimes.session;
    t.lock_grants().insert_session(
        &sid,
        Session {
            username: username.to_owned(),
            auth_time: now,
            expires_at: now + life as i64,
        },
        now,
    );
    let cookie = format!(
        "{}={sid}; Path=/; HttpOnly; SameSite=Lax; Max-Age={life}",
        cookie_name(t)
    );
    // The sid is base64url, always a valid header value.
    let value = HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""));
    (sid, value)
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
