//! The debug pages' HTML: the token inspector's result, the users, the journal.

use serde_json::Value;
use warp::reply::{Reply, Response};

use super::html::{escape, page};
use crate::config::TokenKind;
use crate::inspect::{Inspection, Signature};
use crate::journal::Entry;
use crate::tenant::Tenant;

fn json(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

fn nav(t: &Tenant) -> String {
    format!(
        "<nav aria-label=\"Debug pages\"><ul><li><a href=\"{d}#inspector\">Token inspector</a></li><li><a href=\"{d}#users\">Users</a></li><li><a href=\"{j}\">Journal (live)</a></li><li><a href=\"{disco}\">Discovery document</a></li><li><a href=\"{jwks}\">JWKS</a></li></ul></nav>",
        d = escape(&t.paths.debug),
        j = escape(&t.paths.debug_journal),
        disco = escape(&t.paths.discovery),
        jwks = escape(&t.paths.jwks),
    )
}

/// The inspector page: the form, the result of inspecting `inspected` if any, the users,
/// the newest journal lines.
pub fn render(t: &Tenant, inspected: Option<&(String, Result<Inspection, String>)>) -> Response {
    let pasted = inspected.map(|(tok, _)| tok.as_str()).unwrap_or("");
    let mut b = format!(
        "<header><h1>mock-idp: {}</h1>{}</header><main>\
         <section aria-labelledby=\"inspector\"><h2 id=\"inspector\">Token inspector</h2>\
         <form method=\"post\" action=\"{}\"><p><label for=\"token\">A token this tenant issued (ID token or JWT access token)</label><br>\
         <textarea id=\"token\" name=\"token\" rows=\"5\" cols=\"80\" spellcheck=\"false\">{}</textarea></p>\
         <p><button type=\"submit\">Inspect</button></p></form>",
        escape(&t.issuer),
        nav(t),
        escape(&t.paths.debug),
        escape(pasted)
    );
    b.push_str(&picks(t));
    match inspected.map(|(_, r)| r) {
        Some(Ok(i)) => b.push_str(&result(i)),
        Some(Err(e)) => b.push_str(&format!(
            "<p class=\"error\" role=\"alert\" id=\"result\">Not a token to decode: {}</p>",
            escape(e)
        )),
        None => {}
    }
    b.push_str("</section>");
    b.push_str(&users(t));
    let newest: Vec<Entry> = t.journal(0).into_iter().rev().take(20).collect();
    b.push_str(&format!(
        "<section aria-labelledby=\"journal\"><h2 id=\"journal\">Journal (newest 20; <a href=\"{}\">live</a>)</h2>{}</section></main>",
        escape(&t.paths.debug_journal),
        journal_table(t, &newest)
    ));
    page("debug", &b).into_response()
}

/// The newest tokens the tenant issued, each a button that inspects it.
fn picks(t: &Tenant) -> String {
    let recent = t.recent_tokens();
    if recent.is_empty() {
        return "<p>Or pick one of the newest tokens issued: none yet.</p>".into();
    }
    let now = t.clock.now();
    let mut out =
        String::from("<p>Or pick one of the newest tokens issued:</p><ul class=\"picks\">");
    for r in recent {
        out.push_str(&format!(
            "<li><form method=\"post\" action=\"{}\"><input type=\"hidden\" name=\"token\" value=\"{}\"><button type=\"submit\">{}'s {} for {}, {} s ago</button></form></li>",
            escape(&t.paths.debug),
            escape(&r.token),
            escape(r.user.as_deref().unwrap_or("(no user)")),
            if r.kind == "id_token" { "ID token" } else { "access token" },
            escape(&r.client_id),
            now - r.issued_at,
        ));
    }
    out.push_str("</ul>");
    out
}

fn result(i: &Inspection) -> String {
    let (class, sig) = match &i.signature {
        Signature::Valid { kid, alg } => (
            "ok",
            format!("valid: {alg}, signed by this tenant's key {kid:?}"),
        ),
        Signature::Unsigned => (
            "error",
            "none: alg \"none\", the token is unsigned — no RP may accept it".to_owned(),
        ),
        Signature::Invalid(why) => ("error", format!("invalid: {why}")),
    };
    let kind = match i.kind {
        Some(TokenKind::IdToken) => "ID token",
        Some(TokenKind::AccessToken) => "access token",
        _ => "unknown kind",
    };
    let mut out = format!(
        "<div id=\"result\"><h3>Decoded: {kind}</h3><ul>\
         <li>Signature: <strong class=\"{class}\" id=\"signature\">{}</strong></li>\
         <li>Issuer: {}</li><li>Expiry: {}</li>",
        escape(&sig),
        if i.this_issuer {
            "this tenant"
        } else {
            "<strong class=\"error\">not this tenant's issuer</strong>"
        },
        if i.expired {
            "<strong class=\"error\">expired</strong> (by the tenant's clock)"
        } else {
            "not expired (by the tenant's clock)"
        },
    );
    if i.groups.is_empty() {
        out.push_str("<li>Groups: none where this tenant places them in this kind of token</li>");
    }
    for (pointer, v) in &i.groups {
        out.push_str(&format!(
            "<li>Groups at <code>{}</code>: <mark>{}</mark></li>",
            escape(pointer),
            escape(&v.to_string())
        ));
    }
    out.push_str("</ul><h4>Header</h4>");
    out.push_str(&format!("<pre>{}</pre>", escape(&json(&i.header))));
    out.push_str("<table><caption>Claims</caption><thead><tr><th scope=\"col\">Claim</th><th scope=\"col\">Value</th><th scope=\"col\">Reading</th></tr></thead><tbody>");
    for c in &i.claims {
        let reading = match (&c.when, c.groups) {
            (Some(w), _) => escape(w),
            (None, true) => "<mark>groups</mark>".to_owned(),
            _ => String::new(),
        };
        out.push_str(&format!(
            "<tr{}><th scope=\"row\"><code>{}</code></th><td><code>{}</code></td><td>{reading}</td></tr>",
            if c.groups { " class=\"groups\"" } else { "" },
            escape(&c.name),
            escape(&c.value.to_string()),
        ));
    }
    out.push_str("</tbody></table></div>");
    out
}

fn users(t: &Tenant) -> String {
    let dir = t.directory();
    let mut rows = String::new();
    for u in dir.users() {
        rows.push_str(&format!(
            "<tr><th scope=\"row\">{}</th><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&u.username),
            escape(&u.sub),
            escape(u.email.as_deref().unwrap_or("")),
            escape(&if u.groups.is_empty() { "none".to_owned() } else { u.groups.join(", ") }),
            if u.disabled { "disabled" } else { "active" },
        ));
    }
    format!(
        "<section aria-labelledby=\"users\"><h2 id=\"users\">Users</h2><table><caption>The tenant's users and their groups</caption><thead><tr><th scope=\"col\">Username</th><th scope=\"col\">sub</th><th scope=\"col\">Email</th><th scope=\"col\">Groups</th><th scope=\"col\">State</th></tr></thead><tbody>{rows}</tbody></table></section>"
    )
}

fn name<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

fn journal_table(t: &Tenant, entries: &[Entry]) -> String {
    if entries.is_empty() {
        return "<p>No request yet.</p>".into();
    }
    let now = t.clock.now();
    let mut rows = String::new();
    for e in entries {
        let lints: Vec<String> = e.lints.iter().map(name).collect();
        let faults: Vec<String> = e.faults.iter().map(name).collect();
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{} s ago</td><td>{} {}</td><td>{}</td><td>{}</td><td>{}{}</td><td>{}</td><td>{}</td></tr>",
            e.seq,
            now - e.time,
            escape(&e.method),
            escape(&name(&e.endpoint)),
            escape(e.client_id.as_deref().unwrap_or("")),
            escape(e.user.as_deref().unwrap_or("")),
            e.status,
            e.error.as_deref().map(|x| format!(" {}", escape(x))).unwrap_or_default(),
            if lints.is_empty() { String::new() } else { format!("<mark>{}</mark>", escape(&lints.join(", "))) },
            escape(&faults.join(", ")),
        ));
    }
    format!(
        "<table><caption>Requests, newest first</caption><thead><tr><th scope=\"col\">#</th><th scope=\"col\">When</th><th scope=\"col\">Request</th><th scope=\"col\">Client</th><th scope=\"col\">User</th><th scope=\"col\">Answer</th><th scope=\"col\">Lints</th><th scope=\"col\">Faults</th></tr></thead><tbody>{rows}</tbody></table>"
    )
}

/// The live journal page: the newest 200 lines, reloading every 5 s.
pub fn journal(t: &Tenant) -> Response {
    let newest: Vec<Entry> = t.journal(0).into_iter().rev().take(200).collect();
    let body = format!(
        "<header><h1>mock-idp journal: {}</h1>{}<p>Reloads every 5 seconds.</p></header><main>{}</main>",
        escape(&t.issuer),
        nav(t),
        journal_table(t, &newest)
    );
    let html = page("journal", &body);
    let mut res = html.into_response();
    res.headers_mut()
        .insert("refresh", warp::http::HeaderValue::from_static("5"));
    res
}
