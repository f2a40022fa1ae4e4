//! Reading an RP's or the IdP's HTML: bounded bodies, the login form, an error page, a link to follow.

use super::*;

/// The most of an RP's answer the browser reads: a login page or a `/me` is far smaller.
pub(super) const BODY_LIMIT: usize = 1 << 20;

/// A request that failed, in words: a timeout says so with the browser's patience, any
/// other failure with its cause (connection refused, reset, a certificate refused…).
pub(super) fn failure(e: &crate::wire::Failure) -> String {
    match e {
        crate::wire::Failure::Timeout(_) => format!(
            "no answer within {} s (the browser's patience): the RP hangs",
            PATIENCE.as_secs()
        ),
        crate::wire::Failure::Other(s) if s.contains("message head is too large") => format!(
            "{s} (the RP's answer has more header lines than the browser reads, 100, or over 400 KB of them: hundreds of Set-Cookie?)"
        ),
        crate::wire::Failure::Other(s) => s.clone(),
    }
}

/// An answer's body as text; one over [`BODY_LIMIT`] is an error naming it (an RP that
/// answers 50 MB is an `error`, not a runner out of memory).
pub(super) fn read_capped(res: &crate::wire::Answer, what: &str) -> Result<String, String> {
    res.text().map_err(|e| format!("{what}: {e}"))
}

pub(super) fn lock(e: &Mutex<Evidence>) -> std::sync::MutexGuard<'_, Evidence> {
    e.lock().unwrap_or_else(|p| p.into_inner())
}

/// The first form of an IdP page (the login form, or a form_post response): its action and
/// hidden fields.
pub(super) fn login_form(html: &str) -> Option<(String, Vec<(String, String)>)> {
    let start = html.find("<form")?;
    let form = &html[start
        ..html[start..]
            .find("</form>")
            .map_or(html.len(), |e| start + e)];
    let action = attr(&form[..form.find('>')?], "action")?;
    let mut fields = Vec::new();
    let mut rest = form;
    while let Some(i) = rest.find("<input") {
        let tag_end = rest[i..].find('>').map_or(rest.len(), |e| i + e);
        let tag = &rest[i..tag_end];
        if attr(tag, "type").as_deref() == Some("hidden")
            && let (Some(n), Some(v)) = (attr(tag, "name"), attr(tag, "value"))
        {
            fields.push((n, v));
        }
        rest = &rest[tag_end..];
    }
    Some((action, fields))
}

/// The text of an error page's `error_description` element.
pub(super) fn error_description(html: &str) -> Option<String> {
    let i = html.find("id=\"error_description\"")?;
    let start = html[i..].find('>')? + i + 1;
    let end = html[start..].find('<')? + start;
    Some(unescape(&html[start..end]))
}

/// The `href` of the IdP's signed-out page's "continue" link.
pub(super) fn continue_link(html: &str) -> Option<String> {
    let i = html.find("id=\"continue\"")?;
    let start = html[..i].rfind("<a")?;
    let end = html[start..].find('>').map_or(html.len(), |e| start + e);
    attr(&html[start..end], "href")
}

pub(super) fn attr(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let i = tag.find(&key)? + key.len();
    let end = tag[i..].find('"')? + i;
    Some(unescape(&tag[i..end]))
}

pub(super) fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}
