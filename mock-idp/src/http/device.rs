//! The verification page (RFC 8628 §3.3): GET shows the code field (or, with
//! `user_code`, the request it names); POST signs a user in and allows the device, or
//! denies it.

use std::sync::Arc;

use warp::Filter;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::Response;

use super::device_page::{confirm, decided, enter_code};
use super::errors::{OAuthError, PageError, error_page};
use super::login::credentials_refused;
use super::params::Params;
use super::{at, form, query};
use crate::grants::{Grant, UnknownUserCode, normalize_user_code};
use crate::journal::{Endpoint, Entry};
use crate::registry::Registry;
use crate::tenant::Tenant;

/// GET and POST the verification page, journaled.
pub fn filter(reg: &Arc<Registry>) -> BoxedFilter<(Response,)> {
    let get = warp::get().and(query()).map(|q| ("GET", q));
    let post = warp::post().and(form()).map(|f| ("POST", f));
    at(reg, |p| &p.device)
        .and(get.or(post).unify())
        .map(
            |t: Arc<Tenant>, (method, params): (&'static str, Result<Params, OAuthError>)| {
                let none = Params::default();
                let (query, body) = match method {
                    "GET" => (params.as_ref().unwrap_or(&none), &none),
                    _ => (&none, params.as_ref().unwrap_or(&none)),
                };
                let mut entry = Entry::new(Endpoint::Device, method, query, body);
                let res = match params {
                    // A page, not JSON, even for a malformed form (as the login form).
                    Err(e) => error_page(StatusCode::BAD_REQUEST, e.error, &e.description),
                    Ok(p) if method == "GET" => show(&t, &p, &mut entry),
                    Ok(p) => decide(&t, &p, &mut entry),
                };
                super::journaled(&t, entry, Ok(res))
            },
        )
        .boxed()
}

/// The typed code, and the request it names if it is pending.
fn typed(
    t: &Tenant,
    params: &Params,
    entry: &mut Entry,
) -> (String, Option<crate::grants::DeviceRecord>) {
    let typed = params
        .get("user_code")
        .ok()
        .flatten()
        .unwrap_or("")
        .to_owned();
    let now = t.clock.now();
    let device = t
        .lock_grants()
        .pending_device(&normalize_user_code(&typed), now)
        .cloned();
    entry.client_id = device.as_ref().map(|d| d.client_id.clone());
    (typed, device)
}

fn unknown(t: &Tenant, typed: &str) -> Response {
    let mut res = enter_code(t, Some(typed), Some(&UnknownUserCode.to_string()));
    res.extensions_mut().insert(PageError(
        "invalid_grant".to_owned(),
        Some(UnknownUserCode.to_string()),
    ));
    res
}

/// Past five wrong codes in a minute (the grants' `GUESSES`), every code is refused until
/// the oldest of them is a minute old (RFC 8628 §5.1): 429, with `Retry-After`.
fn guessing_blocked(t: &Tenant, typed: &str) -> Option<Response> {
    let wait = t.lock_grants().guessing_blocked(t.clock.now())?;
    let message = format!(
        "Too many wrong codes were typed here lately. Wait {wait} s, then type the code again."
    );
    let mut res = enter_code(t, Some(typed), Some(&message));
    *res.status_mut() = StatusCode::TOO_MANY_REQUESTS;
    res.headers_mut()
        .insert(warp::http::header::RETRY_AFTER, wait.into());
    res.extensions_mut().insert(PageError(
        "slow_down".to_owned(),
        Some(format!(
            "too many wrong user codes: retry after {wait} s (RFC 8628 §5.1)"
        )),
    ));
    Some(res)
}

/// The answer to a code that names no pending request, counted as a guess.
fn wrong(t: &Tenant, typed: &str) -> Response {
    t.lock_grants().wrong_user_code(t.clock.now());
    unknown(t, typed)
}

fn show(t: &Tenant, params: &Params, entry: &mut Entry) -> Response {
    if !params.has("user_code") {
        return enter_code(t, None, None);
    }
    let said = params.get("user_code").ok().flatten().unwrap_or("");
    if let Some(blocked) = guessing_blocked(t, said) {
        return blocked;
    }
    match typed(t, params, entry) {
        (_, Some(device)) => confirm(t, &device, None, None),
        (typed, None) => wrong(t, &typed),
    }
}

fn decide(t: &Tenant, params: &Params, entry: &mut Entry) -> Response {
    let said = params.get("user_code").ok().flatten().unwrap_or("");
    if let Some(blocked) = guessing_blocked(t, said) {
        return blocked;
    }
    let (typed, Some(device)) = typed(t, params, entry) else {
        return wrong(t, said);
    };
    let now = t.clock.now();
    if params.has("deny") {
        return match t.lock_grants().decide_device(&device.user_code, None, now) {
            Ok(()) => {
                let mut res = decided(&device.client_id, None);
                res.extensions_mut().insert(PageError(
                    "access_denied".to_owned(),
                    Some("the user denied the device".to_owned()),
                ));
                res
            }
            Err(_) => unknown(t, &typed),
        };
    }
    let username = params.get("username").ok().flatten().unwrap_or("");
    let password = params.get("password").ok().flatten().unwrap_or("");
    if let Some(message) = credentials_refused(t, username, password) {
        let hint = Some(username).filter(|u| !u.is_empty());
        return confirm(t, &device, hint, Some(&message));
    }
    let Some(user) = t.directory().get(username).cloned() else {
        return confirm(
            t,
            &device,
            None,
            Some("The user was removed; pick another."),
        );
    };
    entry.user = Some(user.username.clone());
    let grant = Arc::new(Grant::without_login(
        &device.client_id,
        Some(&user),
        device.scope.clone(),
        now,
    ));
    match t
        .lock_grants()
        .decide_device(&device.user_code, Some(grant), now)
    {
        Ok(()) => decided(&device.client_id, Some(&user.username)),
        Err(_) => unknown(t, &typed),
    }
}
