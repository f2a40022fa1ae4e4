//! The few HTML pages the IdP shows a browser.

use warp::reply::Html;

/// Escapes text for HTML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A complete page around `body` (already escaped HTML).
pub fn page(title: &str, body: &str) -> Html<String> {
    warp::reply::html(format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\">\
         <title>mock-idp: {}</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:40em;margin:2em auto;padding:0 1em}}\
         button{{margin:.2em;padding:.4em 1em}} .error{{color:#b00}} code{{background:#eee}}</style>\
         </head><body>\n{}\n</body></html>\n",
        escape(title),
        body
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_markup() {
        assert_eq!(
            super::escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
