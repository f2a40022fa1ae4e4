//! The authorization response as an HTML form posted to the redirect URI (OAuth 2.0 Form
//! Post Response Mode): the browser submits it on load; without JavaScript, a button does.

use warp::Reply;
use warp::http::HeaderValue;
use warp::reply::Response;

use super::errors::PageError;
use super::html::{escape, page};

/// The page that posts `params` to `redirect_uri`.
pub fn respond(redirect_uri: &str, params: &[(&str, &str)]) -> Response {
    let fields: String = params
        .iter()
        .map(|(k, v)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">\n",
                escape(k),
                escape(v)
            )
        })
        .collect();
    let body = format!(
        "<main><h1>Signing you in</h1>\n\
         <p>The sign-in response goes to <code>{uri}</code> as a form post \
         (<code>response_mode=form_post</code>).</p>\n\
         <form method=\"post\" action=\"{uri}\" id=\"form_post\">\n{fields}\
         <noscript><p>JavaScript is off: continue by hand.</p><button>Continue</button></noscript>\n\
         </form></main>\n<script>document.getElementById(\"form_post\").submit()</script>",
        uri = escape(redirect_uri)
    );
    let mut res = page("Signing you in", &body).into_response();
    let h = res.headers_mut();
    // Form Post Response Mode §5: the response must not be cached.
    h.insert("cache-control", HeaderValue::from_static("no-store"));
    h.insert("pragma", HeaderValue::from_static("no-cache"));
    if let Some((_, e)) = params.iter().find(|(k, _)| *k == "error") {
        let why = params.iter().find(|(k, _)| *k == "error_description");
        res.extensions_mut().insert(PageError(
            (*e).to_owned(),
            why.map(|(_, d)| (*d).to_owned()),
        ));
    }
    res
}
