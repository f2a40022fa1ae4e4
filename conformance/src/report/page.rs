//! The HTML shell every page of the suite shares: one self-contained document (inline
//! style, no script, no external resource: CI machines and customers' laptops may have no
//! internet), readable without JavaScript, with colours that keep WCAG AA contrast.

/// The style: system fonts, AA contrast on white (each badge's text on its background is
/// at least 4.5:1).
const STYLE: &str = "
:root { color-scheme: light; }
body { font: 15px/1.45 system-ui, -apple-system, 'Segoe UI', sans-serif; color: #1a1a1a; background: #fff; margin: 0 auto; max-width: 76rem; padding: 1.5rem; }
h1 { font-size: 1.5rem; margin: 0 0 .5rem; } h2 { font-size: 1.2rem; margin: 2rem 0 .5rem; } h3 { font-size: 1.05rem; }
code, pre { font: 13px/1.4 ui-monospace, 'SFMono-Regular', Menlo, Consolas, monospace; }
pre { background: #f4f4f4; border: 1px solid #ccc; padding: .6rem; overflow-x: auto; white-space: pre-wrap; word-break: break-all; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0; }
caption { text-align: left; color: #444; padding: .3rem 0; }
th, td { border: 1px solid #ccc; padding: .35rem .5rem; text-align: left; vertical-align: top; }
th { background: #eee; }
.badge { display: inline-block; padding: 0 .45rem; border-radius: .3rem; font-weight: 600; font-size: 13px; }
.badge.ok, .badge.pass { background: #d7f0dd; color: #0b5323; }
.badge.problem, .badge.fail { background: #fadbd8; color: #8a1c12; }
.badge.unknown, .badge.warn { background: #fcefc7; color: #6b4a00; }
.badge.skip { background: #e6e6e6; color: #333; }
.badge.error { background: #e8dcf5; color: #4b2a78; }
.verdict { font-weight: 700; font-size: 1.1rem; padding: .5rem .75rem; border-radius: .3rem; display: inline-block; }
.verdict.ok { background: #d7f0dd; color: #0b5323; } .verdict.problem { background: #fadbd8; color: #8a1c12; }
details { margin: .5rem 0; } summary { cursor: pointer; font-weight: 600; }
a { color: #0645ad; }
.bar { display: inline-block; height: .7rem; background: #3b6ea8; vertical-align: middle; }
nav ul { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 1rem; }
";

/// Escapes text for HTML content and attribute values.
pub(crate) fn esc(s: &str) -> String {
    html_escape::encode_quoted_attribute(s).into_owned()
}

/// A whole page: `title` in the tab, `body` (already escaped HTML) inside `<body>`.
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n",
        esc(title)
    )
}
