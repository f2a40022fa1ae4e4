//! The few HTML pages the IdP shows a browser.

use warp::reply::Html;

/// Escapes text for HTML content and attribute values.
pub fn escape(s: &str) -> String {
    html_escape::encode_quoted_attribute(s).into_owned()
}

/// The pages' style: system fonts, WCAG AA contrast on white, no external resource.
const STYLE: &str = "body{font:15px/1.45 system-ui,sans-serif;color:#1a1a1a;background:#fff;max-width:60em;margin:1.5em auto;padding:0 1em}\
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.8em}\
button{margin:.2em;padding:.4em 1em}.error{color:#a00000}.ok{color:#0b5323}\
code,pre,textarea{font:13px/1.4 ui-monospace,Menlo,Consolas,monospace}code{background:#eee}\
pre{background:#f4f4f4;border:1px solid #ccc;padding:.5em;white-space:pre-wrap;word-break:break-all}\
textarea{width:100%;box-sizing:border-box}\
table{border-collapse:collapse;width:100%;margin:.5em 0}caption{text-align:left;color:#444;padding:.3em 0}\
th,td{border:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top}thead th{background:#eee}\
tr.groups{background:#fff4c2}mark{background:#fff4c2;color:#1a1a1a}\
nav ul{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:1em}a{color:#0645ad}";

/// A complete page around `body` (already escaped HTML).
pub fn page(title: &str, body: &str) -> Html<String> {
    warp::reply::html(format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\">\
         <title>mock-idp: {}</title><style>{STYLE}</style>\
         </head><body>\n{}\n</body></html>\n",
        escape(title),
        body
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_markup_in_text_and_attributes() {
        let e = super::escape("<a href=\"x\">'&'</a>");
        assert!(!e.contains(['<', '>', '"', '\'']), "{e}");
        assert!(e.starts_with("&lt;a href=&quot;x&quot;&gt;"), "{e}");
    }
}
