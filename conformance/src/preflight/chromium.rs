//! `--login-with chromium`: the provider's own login pages, finished by a headless Chromium
//! with the test user's credentials, so a real-provider preflight runs unattended (CI).
//!
//! Chromium is driven through ChromeDriver (Debian: `chromium` and `chromium-driver`) by
//! the W3C WebDriver protocol (JSON over HTTP, spoken with reqwest and serde_json). A crate
//! such as fantoccini speaks it too, but brings a second generation of the `http` and ICU
//! crates, which the supply-chain policy (deny.toml: one version of each crate) refuses;
//! the few commands used here are the protocol's plainest.
//!
//! What a person does is what the driver does, page after page until the provider sends the
//! browser to the redirect URI: a visible username (or e-mail) field gets the user, a
//! password field the password, and the form's button is pressed; a page with no field but
//! a button (a consent page) gets the button that accepts. A page that comes back unchanged
//! after that (a wrong password, a page the driver cannot read) ends the attempt with the
//! page's text.

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::{Value, json};
use tokio::process::{Child, Command};

/// The test user the browser logs in as.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// Username or e-mail, as the provider's login page asks.
    pub user: String,
    /// The password.
    pub password: String,
}

/// The executables: `PREFLIGHT_CHROMEDRIVER` and `PREFLIGHT_CHROMIUM` override Debian's
/// paths.
fn executables() -> (String, String) {
    let var = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_owned());
    (
        var("PREFLIGHT_CHROMEDRIVER", "chromedriver"),
        var("PREFLIGHT_CHROMIUM", "/usr/bin/chromium"),
    )
}

/// Marks the page's fields and buttons (`data-preflight` = user, password, submit) and
/// says what it found. Visible elements only; a button that declines is never the one.
const SCAN: &str = r#"
const seen = (e) => { const r = e.getBoundingClientRect(); const s = getComputedStyle(e);
  return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none' && !e.disabled; };
document.querySelectorAll('[data-preflight]').forEach((e) => e.removeAttribute('data-preflight'));
const inputs = [...document.querySelectorAll('input')].filter(seen);
const password = inputs.find((e) => e.type === 'password');
const texts = inputs.filter((e) => ['text', 'email', 'tel', ''].includes(e.type) || !e.getAttribute('type'));
const named = (e) => /user|login|mail|name|identifier|account/i.test((e.name || '') + ' ' + (e.id || '') + ' ' + (e.autocomplete || ''));
const user = texts.find(named) || (password ? texts.find((e) => e.compareDocumentPosition(password) & Node.DOCUMENT_POSITION_FOLLOWING) : texts[0]);
const declines = /deny|decline|cancel|reject|abort|\bno\b|back/i;
const accepts = /allow|accept|grant|authori[sz]e|consent|continue|confirm|yes|sign ?in|log ?in|next|submit|verify|proceed/i;
const label = (b) => (b.innerText || b.value || b.getAttribute('aria-label') || b.name || '').trim();
const buttons = [...document.querySelectorAll('button, input[type=submit], input[type=image]')].filter(seen)
  .filter((b) => !(b.tagName === 'BUTTON' && ['button', 'reset'].includes(b.getAttribute('type'))) || accepts.test(label(b)))
  .filter((b) => !declines.test(label(b)));
const submit = buttons.find((b) => accepts.test(label(b))) || buttons[0];
// A consent page (no credentials asked) may list what the app asks for as boxes to tick,
// unticked (Glewlwyd's): a person granting the app's request ticks them.
if (!password && !user) inputs.filter((e) => e.type === 'checkbox' && !e.checked).forEach((e) => e.click());
if (user) user.setAttribute('data-preflight', 'user');
if (password) password.setAttribute('data-preflight', 'password');
if (submit) submit.setAttribute('data-preflight', 'submit');
return { url: location.href, user: !!user, user_empty: !!user && !user.value, password: !!password,
  submit: submit ? label(submit) : null, text: (document.body ? document.body.innerText : '').slice(0, 400) };
"#;

/// What [`SCAN`] found.
#[derive(Debug, Clone, Deserialize, PartialEq)]
struct Page {
    url: String,
    user: bool,
    user_empty: bool,
    password: bool,
    submit: Option<String>,
    text: String,
}

/// A ChromeDriver with one headless Chromium session. [`Driver::quit`] ends both; a driver
/// dropped without it (a panic, a cancelled future) kills ChromeDriver's whole process
/// group, Chromium with it.
struct Driver {
    http: reqwest::Client,
    base: String,
    session: String,
    child: Child,
    _profile: Profile,
}

impl Driver {
    async fn start() -> Result<Driver, String> {
        let (driver, chromium) = executables();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port for chromedriver: {e}"))?
            .port();
        let mut command = Command::new(&driver);
        command
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true);
        #[cfg(unix)]
        command.process_group(0);
        let child = command
            .spawn()
            .map_err(|e| {
                format!(
                    "cannot start {driver}: {e} (--login-with chromium needs ChromeDriver and Chromium; Debian: apt-get install chromium chromium-driver)"
                )
            })?;
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| e.to_string())?;
        let base = format!("http://127.0.0.1:{port}");
        let ready = Instant::now();
        loop {
            let status = http.get(format!("{base}/status")).send().await;
            if let Ok(r) = status
                && let Ok(v) = r.json::<Value>().await
                && v["value"]["ready"] == json!(true)
            {
                break;
            }
            if ready.elapsed() > Duration::from_secs(20) {
                return Err(format!(
                    "{driver} did not answer on port {port} within 20 s"
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let profile = Profile::new()?;
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            &format!("--user-data-dir={}", profile.0.display()),
        ];
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium, "args": args},
        }}});
        let v = post(&http, &format!("{base}/session"), &caps).await?;
        let session = v["sessionId"]
            .as_str()
            .ok_or_else(|| format!("chromedriver gave no session: {v}"))?
            .to_owned();
        Ok(Driver {
            http,
            base,
            session,
            child,
            _profile: profile,
        })
    }

    /// Ends the session (ChromeDriver closes Chromium), then ChromeDriver.
    async fn quit(mut self) {
        let url = format!("{}/session/{}", self.base, self.session);
        let _ = tokio::time::timeout(Duration::from_secs(10), self.http.delete(url).send()).await;
        let _ = self.child.kill().await;
    }

    async fn cmd(&self, path: &str, body: Value) -> Result<Value, String> {
        let url = format!("{}/session/{}/{path}", self.base, self.session);
        post(&self.http, &url, &body).await
    }

    async fn goto(&self, url: &str) -> Result<(), String> {
        self.cmd("url", json!({ "url": url })).await.map(drop)
    }

    async fn scan(&self) -> Result<Page, String> {
        let v = self
            .cmd("execute/sync", json!({"script": SCAN, "args": []}))
            .await?;
        serde_json::from_value(v).map_err(|e| format!("the page scan: {e}"))
    }

    /// The element `data-preflight=role` marks.
    async fn element(&self, role: &str) -> Result<String, String> {
        let v = self
            .cmd(
                "element",
                json!({"using": "css selector", "value": format!("[data-preflight={role}]")}),
            )
            .await?;
        v.as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| format!("no {role} element: {v}"))
    }

    async fn type_into(&self, role: &str, text: &str) -> Result<(), String> {
        let e = self.element(role).await?;
        self.cmd(&format!("element/{e}/clear"), json!({})).await?;
        self.cmd(&format!("element/{e}/value"), json!({ "text": text }))
            .await
            .map(drop)
    }

    async fn click(&self, role: &str) -> Result<(), String> {
        let e = self.element(role).await?;
        self.cmd(&format!("element/{e}/click"), json!({}))
            .await
            .map(drop)
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // After `quit` the group is gone and this finds no one.
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// Chromium's throw-away profile directory, removed when the login is over.
struct Profile(std::path::PathBuf);

impl Profile {
    fn new() -> Result<Profile, String> {
        let dir =
            std::env::temp_dir().join(format!("preflight-chromium-{}", crate::random::hex(8)));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        Ok(Profile(dir))
    }
}

impl Drop for Profile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// POSTs a WebDriver command; its `value`, or the WebDriver error.
async fn post(http: &reqwest::Client, url: &str, body: &Value) -> Result<Value, String> {
    let r = http
        .post(url)
        .json(body)
        .send()
        .await
        .map_err(|e| format!("chromedriver: {e}"))?;
    let status = r.status();
    let v: Value = r
        .json()
        .await
        .map_err(|e| format!("chromedriver answered HTTP {status}, not JSON: {e}"))?;
    if !status.is_success() {
        return Err(format!(
            "chromedriver: {} ({})",
            v["value"]["error"].as_str().unwrap_or("error"),
            v["value"]["message"]
                .as_str()
                .unwrap_or("")
                .lines()
                .next()
                .unwrap_or("")
        ));
    }
    Ok(v["value"].clone())
}

/// Opens `url` in a headless Chromium and logs `who` in, page after page, until the browser
/// reaches `redirect_uri` (whose listener then holds the authorization response) or
/// `limit` passes. What went wrong, with the page's text, when it did not get there.
pub async fn log_in(
    url: &str,
    redirect_uri: &str,
    who: &Credentials,
    limit: Duration,
) -> Result<Vec<String>, String> {
    let driver = Driver::start().await?;
    let result = drive(&driver, url, redirect_uri, who, limit).await;
    driver.quit().await;
    result
}

/// [`log_in`] with a started browser.
async fn drive(
    driver: &Driver,
    url: &str,
    redirect_uri: &str,
    who: &Credentials,
    limit: Duration,
) -> Result<Vec<String>, String> {
    /// The most pages a login goes through (username, password, second factor, consent…).
    const MOST_PAGES: usize = 8;
    /// How long a page may stay as it was after its button was pressed.
    const STUCK: Duration = Duration::from_secs(5);
    driver.goto(url).await?;
    let start = Instant::now();
    let back = strip_query(redirect_uri);
    let mut pages: Vec<String> = Vec::new();
    // The page last acted on (its address and text), and when.
    let mut acted: Option<(String, String, Instant)> = None;
    let mut scan_error = String::new();
    // The last page that offered nothing to do.
    let mut waiting_on: Option<Page> = None;
    while start.elapsed() < limit {
        // A page in the middle of loading cannot be scanned: try again shortly.
        let page = match driver.scan().await {
            Ok(p) => p,
            Err(e) => {
                scan_error = e;
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        if page.url.starts_with(back) {
            return Ok(pages);
        }
        // A page with nothing to fill or press (a script still loading it, a redirect to
        // come) is waited on, up to the login's limit.
        let idle = page.submit.is_none() && !page.password && !(page.user && page.user_empty);
        if idle {
            waiting_on = Some(page);
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        if let Some((url, text, when)) = &acted
            && *url == page.url
            && *text == page.text
        {
            if when.elapsed() > STUCK {
                return Err(format!(
                    "the provider's page at {} stayed as it was {} s after the test user's credentials and its button ({}): {}",
                    strip_query(&page.url),
                    STUCK.as_secs(),
                    page.submit.as_deref().unwrap_or("no button"),
                    one_line(&page.text)
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        if pages.len() >= MOST_PAGES {
            return Err(format!(
                "the browser went through {MOST_PAGES} pages without reaching {back}: {}",
                pages.join("; ")
            ));
        }
        let mut did = Vec::new();
        if page.user && page.user_empty {
            driver.type_into("user", &who.user).await?;
            did.push("username");
        }
        if page.password {
            driver.type_into("password", &who.password).await?;
            did.push("password");
        }
        if page.submit.is_some() {
            driver.click("submit").await?;
            did.push("button");
        }
        pages.push(format!(
            "{}: {}{}",
            strip_query(&page.url),
            if did.is_empty() {
                "nothing to fill or press".to_owned()
            } else {
                did.join(", ")
            },
            page.submit
                .as_deref()
                .map(|s| format!(" ({s:?})"))
                .unwrap_or_default()
        ));
        acted = Some((page.url, page.text, Instant::now()));
    }
    Err(format!(
        "the browser did not reach {back} within {} s; pages seen: {}{}",
        limit.as_secs(),
        if pages.is_empty() {
            "none".to_owned()
        } else {
            pages.join("; ")
        },
        match waiting_on {
            Some(p) => format!(
                "; the last page, {}, offered nothing to fill or press: {}",
                strip_query(&p.url),
                one_line(&p.text)
            ),
            None if !scan_error.is_empty() => format!(" (last page scan: {scan_error})"),
            None => String::new(),
        }
    ))
}

fn strip_query(u: &str) -> &str {
    u.split(['?', '#']).next().unwrap_or(u)
}

fn one_line(s: &str) -> String {
    let t: Vec<&str> = s.split_whitespace().collect();
    t.join(" ")
}
