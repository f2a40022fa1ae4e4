//! The login page: the request being made shown plainly (client, redirect URI, scopes,
//! PKCE, prompt), the tenant's users as buttons with their groups, a `username` field, and
//! `password` when a user has one.

use warp::http::StatusCode;
use warp::reply::{Reply, Response};

use super::html::{escape, page};
use super::params::Params;
use crate::tenant::Tenant;

/// The authorization request as a table a person can read: what the application asks for
/// and where the answer goes (state and nonce only said to be present).
fn request_table(params: &Params) -> String {
    let get = |k: &str| params.get(k).ok().flatten();
    let mut rows = String::new();
    let mut row = |label: &str, value: String| {
        rows.push_str(&format!(
            "<tr><th scope=\"row\">{}</th><td>{value}</td></tr>\n",
            escape(label)
        ));
    };
    let code = |v: Option<&str>| match v {
        Some(v) => format!("<code>{}</code>", escape(v)),
        None => "<em>none</em>".to_owned(),
    };
    row("Client", code(get("client_id")));
    row("Redirect URI", code(get("redirect_uri")));
    row("Scopes", code(get("scope")));
    row("Response type", code(get("response_type")));
    row(
        "PKCE",
        match get("code_challenge_method") {
            Some(m) => format!("<code>{}</code>", escape(m)),
            None if get("code_challenge").is_some() => "<code>plain</code>".to_owned(),
            None => "<em>none</em>".to_owned(),
        },
    );
    let present = |k: &str| {
        if get(k).is_some() {
            "sent"
        } else {
            "<em>not sent</em>"
        }
    };
    row("State", present("state").to_owned());
    row("Nonce", present("nonce").to_owned());
    for k in ["prompt", "max_age", "login_hint", "response_mode"] {
        if let Some(v) = get(k) {
            row(k, format!("<code>{}</code>", escape(v)));
        }
    }
    format!("<table><caption>The request being made</caption><tbody>\n{rows}</tbody></table>\n")
}

/// The tenant's users as buttons named `username` (with their e-mail and groups), and
/// the password field when a user has a password: a sign-in form's choices.
pub(super) fn user_choices(t: &Tenant) -> (String, &'static str) {
    let dir = t.directory();
    let mut users = String::new();
    for u in dir.users() {
        let groups = if u.groups.is_empty() {
            "no groups".to_owned()
        } else {
            u.groups.join(", ")
        };
        users.push_str(&format!(
            "<li><button type=\"submit\" name=\"username\" value=\"{v}\">{v}</button> {email} <small>(groups: {groups}){lock}</small></li>\n",
            v = escape(&u.username),
            email = escape(u.email.as_deref().unwrap_or("")),
            groups = escape(&groups),
            lock = if u.password.is_some() { ", password" } else { "" },
        ));
    }
    let password = if dir.users().any(|u| u.password.is_some()) {
        "<p><label>Password <input type=\"password\" name=\"password\" autocomplete=\"current-password\"></label></p>\n"
    } else {
        ""
    };
    (users, password)
}

/// A page that must not be cached (it holds a one-time form).
pub(super) fn no_store(page: impl Reply, status: StatusCode) -> Response {
    let mut res = warp::reply::with_status(page, status).into_response();
    res.headers_mut().insert(
        warp::http::header::CACHE_CONTROL,
        warp::http::HeaderValue::from_static("no-store"),
    );
    res
}

/// Renders the page for a parked request (its parameters); `error` re-renders after a
/// failed attempt.
pub fn render(
    t: &Tenant,
    pending: &str,
    params: &Params,
    hint: Option<&str>,
    error: Option<&str>,
) -> Response {
    let client_id = params.get("client_id").ok().flatten().unwrap_or("");
    let (users, password) = user_choices(t);
    let error_html = error
        .map(|e| format!("<p class=\"error\" id=\"error\">{}</p>\n", escape(e)))
        .unwrap_or_default();
    let body = format!(
        "<main><h1>Sign in to {issuer}</h1>\n<p>Client <code>{client}</code> asks you to sign in. This is a mock IdP: pick a user.</p>\n{error_html}{request}\
         <form method=\"post\" action=\"{action}\" id=\"login\">\n\
         <input type=\"hidden\" name=\"request\" value=\"{pending}\">\n\
         <p><label>Username <input name=\"username\" value=\"{hint}\" autocomplete=\"username\"></label></p>\n{password}\
         <p><button type=\"submit\" name=\"action\" value=\"login\">Sign in</button>\
         <button type=\"submit\" name=\"cancel\" value=\"1\" formnovalidate>Cancel</button></p>\n\
         <h2>Or sign in as</h2>\n<ul>\n{users}</ul>\n</form>\n<p><a href=\"{debug}\">Token inspector, users and journal</a></p></main>",
        request = request_table(params),
        debug = escape(&t.paths.debug),
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
    no_store(page("Sign in", &body), status)
}
