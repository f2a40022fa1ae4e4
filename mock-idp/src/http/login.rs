//! POST of the login form: checks the user (and password), then completes the parked
//! authorization request.

use std::sync::Arc;

use aws_lc_rs::constant_time::verify_slices_are_equal;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::Response;

use super::authorize::{Who, run};
use super::errors::{OAuthError, error_page};
use super::params::Params;
use super::{at, form, login_page};
use crate::grants::PendingLogin;
use crate::journal::{Endpoint, Entry};
use crate::registry::Registry;
use crate::tenant::Tenant;

/// POST the login form.
pub fn filter(reg: &Arc<Registry>) -> BoxedFilter<(Response,)> {
    at(reg, |p| &p.login)
        .and(warp::post())
        .and(form())
        .map(|t: Arc<Tenant>, form: Result<Params, OAuthError>| {
            let none = Params::default();
            let mut entry = Entry::new(Endpoint::Login, "POST", &none, &none);
            let res = match form {
                Ok(f) => login(&t, &f, &mut entry),
                Err(e) => error_page(StatusCode::BAD_REQUEST, e.error, &e.description),
            };
            super::journaled(&t, entry, Ok(res))
        })
        .boxed()
}

fn login(t: &Tenant, form: &Params, entry: &mut Entry) -> Response {
    let now = t.clock.now();
    let pending = form
        .get("request")
        .ok()
        .flatten()
        // A pushed request is the authorization endpoint's to take, not the form's.
        .filter(|id| !id.starts_with(crate::par::URI_PREFIX))
        .and_then(|id| t.lock_grants().take_pending(id, now));
    let Some(pending) = pending else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "this login form expired or was already used; start again from the application",
        );
    };
    let params = Params(pending.params.clone());
    entry.client_id = params.get("client_id").ok().flatten().map(str::to_owned);
    entry.redirect_uri = params.get("redirect_uri").ok().flatten().map(str::to_owned);
    if form.has("cancel") {
        return run(t, &params, Who::Cancelled, entry);
    }
    let username = form.get("username").ok().flatten().unwrap_or("");
    let password = form.get("password").ok().flatten().unwrap_or("");
    let failure = credentials_refused(t, username, password);
    match failure {
        None => run(t, &params, Who::Fresh(username.to_owned()), entry),
        Some(message) => {
            let id = t.random_token(16);
            let hint = Some(username).filter(|u| !u.is_empty());
            t.lock_grants().insert_pending(
                &id,
                PendingLogin {
                    params: pending.params,
                    expires_at: now + 600,
                },
                now,
            );
            login_page::render(t, &id, &params, hint, Some(&message))
        }
    }
}

/// Why the login form's username and password do not sign a user in, in words for the
/// page; `None` when they do.
pub(super) fn credentials_refused(t: &Tenant, username: &str, password: &str) -> Option<String> {
    let dir = t.directory();
    match dir.get(username) {
        None if username.is_empty() => Some("Enter a username.".to_owned()),
        None => Some(format!("There is no user {username:?}.")),
        Some(u) if u.disabled => Some(format!("The user {username:?} is disabled.")),
        Some(u) => match &u.password {
            Some(p) if verify_slices_are_equal(p.as_bytes(), password.as_bytes()).is_err() => {
                Some("Wrong password.".to_owned())
            }
            _ => None,
        },
    }
}
