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

fn show(t: &Tenant, params: &Params, entry: &mut Entry) -> Response {
    if !params.has("user_code") {
        return enter_code(t, None, None);
    }
    match typed(t, params, entry) {
        (_, Some(device)) => confirm(t, &device, None, None),
        (typed, None) => unknown(t, &typed),
    }
}

fn decide(t: &Tenant, params: &Params, entry: &mut Entry) -> Response {
    let (typed, Some(device)) = typed(t, params, entry) else {
        let typed = params.get("user_code").ok().flatten().unwrap_or("");
        return unknown(t, typed);
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
