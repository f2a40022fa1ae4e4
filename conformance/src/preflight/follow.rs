//! The person's side of a login: the login_hint follower (a cookie jar, redirects, a page means a person is needed) and the person's own browser.

use super::http::Client;

pub(super) enum Followed {
    /// The provider redirected to the redirect URI, and the listener got it.
    Delivered,
    /// The provider shows a page (at this address): a person must log in.
    Page(String),
    /// An error status, and the page's text.
    Refused(u16, String),
    /// The request failed.
    Failed(String),
}

/// Follows the authorization URL the way a browser would (redirects, and the cookies set
/// on the way sent back), until the redirect URI.
pub(super) async fn follow(client: &Client, start: &str, redirect_uri: &str) -> Followed {
    let jar = reqwest::cookie::Jar::default();
    let mut at = start.to_owned();
    for _ in 0..10 {
        let a = match client.browse(&at, &jar).await {
            Ok(a) => a,
            Err(e) => return Followed::Failed(e),
        };
        match (a.status, a.location) {
            (300..=399, Some(loc)) => {
                let next = match url::Url::parse(&at).and_then(|u| u.join(&loc)) {
                    Ok(u) => u.to_string(),
                    Err(e) => return Followed::Failed(format!("Location {loc:?}: {e}")),
                };
                let target = next.split(['?', '#']).next().unwrap_or_default();
                if target == redirect_uri.split('?').next().unwrap_or_default() {
                    return match client.browse(&next, &jar).await {
                        Ok(_) => Followed::Delivered,
                        Err(e) => Followed::Failed(e),
                    };
                }
                at = next;
            }
            (200..=299, _) => {
                return Followed::Page(at.split('?').next().unwrap_or_default().to_owned());
            }
            (status, _) => return Followed::Refused(status, a.body),
        }
    }
    Followed::Failed("more than 10 redirects".into())
}

/// An HTML page's text.
pub(super) fn strip_tags(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// Opens a URL in the desktop's browser, when there is a desktop.
pub(super) fn open_in_browser(url: &str) {
    let graphical = std::env::var_os("DISPLAY").is_some()
        || std::env::var_os("WAYLAND_DISPLAY").is_some()
        || cfg!(target_os = "macos");
    if !graphical {
        return;
    }
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    let _ = std::process::Command::new(opener)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
}
