//! The verification page's HTML (RFC 8628 §3.3): a field for the code the device shows,
//! then what the device asks for with the tenant's users to allow it as, then the outcome.

use warp::http::StatusCode;
use warp::reply::Response;

use super::html::{escape, page};
use super::login_page::{no_store, user_choices};
use crate::grants::{DeviceRecord, display_user_code};
use crate::tenant::Tenant;

fn error_html(error: Option<&str>) -> String {
    error
        .map(|e| format!("<p class=\"error\" id=\"error\">{}</p>\n", escape(e)))
        .unwrap_or_default()
}

/// The form asking for the code a device shows; `typed` and `error` after a wrong one.
pub fn enter_code(t: &Tenant, typed: Option<&str>, error: Option<&str>) -> Response {
    let body = format!(
        "<main><h1>Connect a device to {issuer}</h1>\n\
         <p>Enter the code your device shows. This is a mock IdP.</p>\n{error}\
         <form method=\"get\" action=\"{action}\" id=\"device\">\n\
         <p><label>Code <input name=\"user_code\" value=\"{typed}\" autocomplete=\"off\" autocapitalize=\"characters\" spellcheck=\"false\"></label></p>\n\
         <p><button type=\"submit\">Continue</button></p>\n</form></main>",
        issuer = escape(&t.issuer),
        error = error_html(error),
        action = escape(&t.paths.device),
        typed = escape(typed.unwrap_or("")),
    );
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    no_store(page("Connect a device", &body), status)
}

/// What the device asks for, and the tenant's users to allow it as (or deny it);
/// `hint` and `error` after a failed sign-in.
pub fn confirm(
    t: &Tenant,
    device: &DeviceRecord,
    hint: Option<&str>,
    error: Option<&str>,
) -> Response {
    let (users, password) = user_choices(t);
    let code = display_user_code(&device.user_code);
    let scope = if device.scope.is_empty() {
        "<em>none</em>".to_owned()
    } else {
        format!("<code>{}</code>", escape(&device.scope.join(" ")))
    };
    let body = format!(
        "<main><h1>Allow a device to sign in to {issuer}?</h1>\n\
         <p>Allow it only if your device shows the code <strong id=\"user-code\">{code}</strong>.</p>\n{error}\
         <table><caption>What the device asks for</caption><tbody>\n\
         <tr><th scope=\"row\">Client</th><td><code>{client}</code></td></tr>\n\
         <tr><th scope=\"row\">Scopes</th><td>{scope}</td></tr>\n\
         <tr><th scope=\"row\">Code</th><td><code>{code}</code></td></tr>\n</tbody></table>\n\
         <form method=\"post\" action=\"{action}\" id=\"decide\">\n\
         <input type=\"hidden\" name=\"user_code\" value=\"{code}\">\n\
         <p><label>Username <input name=\"username\" value=\"{hint}\" autocomplete=\"username\"></label></p>\n{password}\
         <p><button type=\"submit\" name=\"action\" value=\"allow\">Sign in and allow</button>\
         <button type=\"submit\" name=\"deny\" value=\"1\" formnovalidate>Deny</button></p>\n\
         <h2>Or allow as</h2>\n<ul>\n{users}</ul>\n</form></main>",
        issuer = escape(&t.issuer),
        code = escape(&code),
        error = error_html(error),
        client = escape(&device.client_id),
        action = escape(&t.paths.device),
        hint = escape(hint.unwrap_or("")),
    );
    let status = if error.is_some() {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::OK
    };
    no_store(page("Allow a device", &body), status)
}

/// The outcome: the device was allowed (as `username`) or denied.
pub fn decided(client_id: &str, username: Option<&str>) -> Response {
    let (title, said) = match username {
        Some(u) => (
            "Device allowed",
            format!(
                "<p class=\"ok\">You allowed <code>{}</code> to sign in as <strong>{}</strong>.</p>",
                escape(client_id),
                escape(u)
            ),
        ),
        None => (
            "Device denied",
            format!(
                "<p>You denied <code>{}</code>: it will be told so.</p>",
                escape(client_id)
            ),
        ),
    };
    let body = format!(
        "<main><h1>{title}</h1>\n{said}\n<p>You can close this page and return to your device.</p></main>"
    );
    no_store(page(title, &body), StatusCode::OK)
}
