//! The login page: the tenant's users as buttons, a `username` field, and `password`
//! when a user has one.

use warp::http::StatusCode;
use warp::reply::{Reply, Response};

use super::html::{escape, page};
use crate::tenant::Tenant;

/// Renders the page for a parked request; `error` re-renders after a failed attempt.
pub fn render(
    t: &Tenant,
    pending: &str,
    client_id: &str,
    hint: Option<&str>,
    error: Option<&str>,
) -> Response {
    let dir = t.directory();
    let needs_password = dir.users().any(|u| u.password.is_some());
    let mut users = String::new();
    for u in dir.users() {
        let groups = if u.groups.is_empty() {
            "no groups".to_owned()
        } else {
            u.groups.join(", ")
        };
        users.push_str(&format!(
            "<li><button type=\"submit\" name=\"username\" value=\"{v}\">{v}</button> {email} <small>({groups}){lock}</small></li>\n",
            v = escape(&u.username),
            email = escape(u.email.as_deref().unwrap_or("")),
            groups = escape(&groups),
            lock = if u.password.is_some() { ", password" } else { "" },
        ));
    }
    let error_html = error
        .map(|e| format!("<p class=\"error\" id=\"error\">{}</p>\n", escape(e)))
        .unwrap_or_default();
    let password = if needs_password {
        "<p><label>Password <input type=\"password\" name=\"password\" autocomplete=\"current-password\"></label></p>\n"
    } else {
        ""
    };
    let body = format!(
        "<h1>Sign in to {issuer}</h1>\n<p>Client <code>{client}</code> asks you to sign in. This is a mock IdP: pick a user.</p>\n{error_html}\
         <form method=\"post\" action=\"{action}\" id=\"login\">\n\
         <input type=\"hidden\" name=\"request\" value=\"{pending}\">\n\
         <p><label>Username <input name=\"username\" value=\"{hint}\" autocomplete=\"username\"></label></p>\n{password}\
         <p><button type=\"submit\" name=\"action\" value=\"login\">Sign in</button>\
         <button type=\"submit\" name=\"cancel\" value=\"1\" formnovalidate>Cancel</button></p>\n\
         <p>Or sign in as:</p>\n<ul>\n{users}</ul>\n</form>",
        issuer = escape(&t.issuer),
        client = escape(client_id),
        action = escape(&t.paths.login),
        pending = escape(pending),
        hint = escape(hint.unwrap_or("")),
    );
    let status = if error.is_some() {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::OK
    };
    let mut res = warp::reply::with_status(page("Sign in", &body), status).into_response();
    res.headers_mut().insert(
        warp::http::header::CACHE_CONTROL,
        warp::http::HeaderValue::from_static("no-store"),
    );
    res
}
