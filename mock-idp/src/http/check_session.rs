//! The check-session iframe (OpenID Connect Session Management 1.0 §3.3): a page an RP
//! loads hidden from the provider's origin and polls with `postMessage(client_id + " " +
//! session_state)`; it recomputes the session state from the OP browser state cookie and
//! the poster's origin and answers `unchanged`, `changed` or `error`. Served with
//! `[session_management] enabled`.

use std::sync::Arc;

use warp::Filter;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::{Reply, Response};

use super::at;
use crate::registry::Registry;
use crate::tenant::Tenant;

/// GET the iframe page.
pub fn filter(reg: &Arc<Registry>) -> BoxedFilter<(Response,)> {
    at(reg, |p| &p.check_session)
        .and(warp::get())
        .map(|t: Arc<Tenant>| {
            if !t.config.session_management.enabled {
                return warp::reply::with_status(
                    "this provider does not do session management ([session_management] enabled = false)",
                    StatusCode::NOT_FOUND,
                )
                .into_response();
            }
            warp::reply::html(page(&super::authorize::opbs_cookie_name(&t))).into_response()
        })
        .boxed()
}

/// The page: no markup to see, a script that answers each poll (§3.3, §4.1). The
/// SHA-256 is the browser's own (WebCrypto), over the same string the provider hashed.
fn page(cookie: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>check session</title></head>
<body>
<script>
const COOKIE = {cookie:?};
function browserState() {{
  const hit = document.cookie.split('; ').find((c) => c.startsWith(COOKIE + '='));
  return hit ? decodeURIComponent(hit.slice(COOKIE.length + 1)) : '';
}}
async function sha256hex(text) {{
  const bytes = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return Array.from(new Uint8Array(bytes)).map((b) => b.toString(16).padStart(2, '0')).join('');
}}
window.addEventListener('message', async (e) => {{
  const parts = typeof e.data === 'string' ? e.data.split(' ') : [];
  const dot = parts.length === 2 ? parts[1].lastIndexOf('.') : -1;
  if (dot < 0) {{ e.source.postMessage('error', e.origin); return; }}
  const [clientId, sessionState] = parts;
  const salt = sessionState.slice(dot + 1);
  const expected = (await sha256hex(clientId + ' ' + e.origin + ' ' + browserState() + ' ' + salt)) + '.' + salt;
  e.source.postMessage(expected === sessionState ? 'unchanged' : 'changed', e.origin);
}});
</script>
</body></html>
"#
    )
}
