//! The runner as browser: a cookie jar, redirects followed by hand so that every hop is
//! recorded (secrets masked), and the mock IdP's login form filled in.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use reqwest::StatusCode;
use reqwest::cookie::Jar;
use url::Url;

use crate::verdict::{Evidence, Hop, MeReading};

/// Parameters whose values never appear in evidence.
const MASKED: &[&str] = &[
    "code",
    "state",
    "nonce",
    "sid",
    "code_challenge",
    "code_verifier",
    "client_secret",
    "password",
    "request",
    "session_state",
    "id_token_hint",
];

/// How long the browser waits for one answer.
const PATIENCE: std::time::Duration = std::time::Duration::from_secs(30);

/// What the browser needs to know about the two parties.
#[derive(Debug, Clone)]
pub struct Sites {
    /// The RP's base URL.
    pub rp: String,
    /// The IdP tenant's issuer.
    pub idp: String,
    /// The RP's login path.
    pub login: String,
    /// The RP's callback path.
    pub callback: String,
    /// An IdP served over HTTPS: its https origin, and the plain origin of the same server
    /// that this browser (which speaks no TLS) sends those requests to. Hops are recorded
    /// with the URLs the RP and the IdP named.
    pub wire: Option<(String, String)>,
}

/// `scheme://host:port` of a URL (the URL itself when it does not parse).
pub fn origin_of(url: &str) -> String {
    Url::parse(url).map_or_else(|_| url.to_owned(), |u| u.origin().ascii_serialization())
}

/// `url` with the https origin of `wire` replaced by its plain one.
pub fn rewire(url: &str, wire: Option<&(String, String)>) -> String {
    let rest = wire.and_then(|(https, plain)| {
        let rest = url.strip_prefix(https.as_str())?;
        // The whole origin: `https://h:8443` is not a prefix of `https://h:84430`.
        (rest.is_empty() || rest.starts_with(['/', '?', '#'])).then(|| format!("{plain}{rest}"))
    });
    rest.unwrap_or_else(|| url.to_owned())
}

/// A change the browser makes to the authorization response before delivering it.
pub type Tamper = fn(&mut Url);

/// How a login went, as the browser saw it.
#[derive(Debug, Clone, Default)]
pub struct Login {
    /// The authorization request's parameters, unmasked (for the scenario's checks).
    pub authorize: BTreeMap<String, String>,
    /// The authorization response's parameters as delivered to the RP.
    pub response: BTreeMap<String, String>,
    /// The RP's answer to the callback (none when the IdP never redirected back).
    pub callback_status: Option<u16>,
    /// The start of the RP's callback answer body.
    pub callback_body: String,
}

/// How the RP's own logout went, as the browser saw it.
#[derive(Debug, Clone, Default)]
pub struct RpLogout {
    /// The RP's first answer to its logout path.
    pub first_status: u16,
    /// The request at the IdP's end-session endpoint, unmasked (none: never sent there).
    pub end_session: Option<BTreeMap<String, String>>,
    /// The IdP's answer to it.
    pub idp_status: Option<u16>,
    /// Why the IdP refused it, as its error page says.
    pub idp_error: Option<String>,
    /// Where the browser came back to the RP after the IdP, and the RP's answer.
    pub returned: Option<(Url, u16)>,
}

/// A page as the browser got it.
#[derive(Debug, Clone)]
pub struct Page {
    /// The HTTP status.
    pub status: u16,
    /// The body, capped.
    pub body: String,
    /// Where a redirect points.
    pub location: Option<Url>,
}

impl Page {
    /// The `src` of each iframe (the IdP's signed-out page: front-channel logout URLs).
    pub fn iframe_srcs(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut rest = self.body.as_str();
        while let Some(i) = rest.find("<iframe") {
            let end = rest[i..].find('>').map_or(rest.len(), |e| i + e);
            out.extend(attr(&rest[i..end], "src"));
            rest = &rest[end..];
        }
        out
    }
}

/// One browser: its own cookie jar.
#[derive(Debug, Clone)]
pub struct Browser {
    id: u32,
    http: reqwest::Client,
    jar: Arc<Jar>,
    sites: Arc<Sites>,
    evidence: Arc<Mutex<Evidence>>,
}

impl Browser {
    /// A fresh browser recording into `evidence`.
    pub fn new(id: u32, sites: Arc<Sites>, evidence: Arc<Mutex<Evidence>>) -> Browser {
        let jar = Arc::new(Jar::default());
        let http = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .timeout(PATIENCE)
            .build()
            .unwrap_or_default();
        Browser {
            id,
            http,
            jar,
            sites,
            evidence,
        }
    }

    /// Another browser (`id`) holding a copy of the cookies this one has for the RP now, as
    /// someone who copied them would (from a shared computer, a proxy log, malware).
    pub fn copy_rp_cookies(&self, id: u32) -> Browser {
        use reqwest::cookie::CookieStore;
        let copy = Browser::new(id, self.sites.clone(), self.evidence.clone());
        if let Ok(rp) = Url::parse(&format!("{}/", self.sites.rp))
            && let Some(header) = self.jar.cookies(&rp)
            && let Ok(text) = header.to_str()
        {
            for pair in text.split("; ") {
                copy.jar.add_cookie_str(pair, &rp);
            }
        }
        copy
    }

    /// Where a request for `url` goes: the IdP's plain origin for its https one.
    fn wired(&self, url: &Url) -> String {
        rewire(url.as_str(), self.sites.wire.as_ref())
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sites.rp)
    }

    fn show(&self, url: &str) -> String {
        let no_query = url.split(['?', '#']).next().unwrap_or(url);
        if let Some(rest) = no_query.strip_prefix(&self.sites.idp) {
            format!("{{idp}}{rest}")
        } else if let Some(rest) = no_query.strip_prefix(&self.sites.rp) {
            format!("{{rp}}{rest}")
        } else {
            no_query.to_owned()
        }
    }

    fn record(
        &self,
        method: &str,
        url: &Url,
        form: &[(String, String)],
        status: u16,
        location: Option<&Url>,
    ) {
        let mut params: BTreeMap<String, String> = url
            .query_pairs()
            .chain(form.iter().map(|(k, v)| (k.into(), v.into())))
            .map(|(k, v)| {
                let v = if MASKED.contains(&k.as_ref()) {
                    "•••".to_owned()
                } else if v.starts_with(&self.sites.rp) || v.starts_with(&self.sites.idp) {
                    self.show(&v)
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        params.retain(|_, v| !v.is_empty());
        let hop = Hop {
            browser: self.id,
            method: method.into(),
            url: self.show(url.as_str()),
            params,
            status,
            location: location.map(|l| self.show(l.as_str())),
        };
        lock(&self.evidence).hops.push(hop);
    }

    /// Logs `username` in: the RP's login path, the IdP (its login form filled in), back to
    /// the RP's callback (after `tamper`), whose answer ends the login.
    pub async fn login(&self, username: &str, tamper: Option<Tamper>) -> Result<Login, String> {
        match tamper {
            Some(t) => self.login_as(username, Some(&t), true).await,
            None => self.login_as(username, None, true).await,
        }
    }

    /// An attacker's half of a login: `username` logs in at the IdP, and the authorization
    /// response meant for the RP's callback is kept, not delivered (`Login::response`).
    pub async fn intercept(&self, username: &str) -> Result<Login, String> {
        self.login_as(username, None, false).await
    }

    /// [`Browser::login`] with a closure changing the authorization response (one that
    /// carries what another login produced: an attacker's code).
    pub async fn login_changed(
        &self,
        username: &str,
        change: &(dyn Fn(&mut Url) + Send + Sync),
    ) -> Result<Login, String> {
        self.login_as(username, Some(change), true).await
    }

    async fn login_as(
        &self,
        username: &str,
        tamper: Option<&(dyn Fn(&mut Url) + Send + Sync)>,
        deliver: bool,
    ) -> Result<Login, String> {
        let mut out = Login::default();
        let mut next = Url::parse(&self.url(&self.sites.login)).map_err(|e| e.to_string())?;
        let mut form: Option<Vec<(String, String)>> = None;
        // Providers put their endpoints anywhere on their host (PingFederate's
        // /as/authorization.oauth2): the IdP is its origin, the authorization request the
        // first request there that names a client.
        let idp_origin = Url::parse(&self.sites.idp)
            .map(|u| u.origin().ascii_serialization())
            .map_err(|e| e.to_string())?;
        let at_idp = |u: &Url| u.origin().ascii_serialization() == idp_origin;
        for _ in 0..12 {
            let is_callback = next.as_str().starts_with(&self.url(&self.sites.callback));
            if is_callback {
                match &mut form {
                    // response_mode=form_post: the response is the posted fields; the
                    // tamper works on them as it would on a query.
                    Some(fields) => {
                        let mut as_query = next.clone();
                        as_query
                            .query_pairs_mut()
                            .clear()
                            .extend_pairs(fields.iter());
                        if let Some(t) = tamper {
                            t(&mut as_query);
                        }
                        *fields = as_query.query_pairs().into_owned().collect();
                        out.response = fields.iter().cloned().collect();
                    }
                    None => {
                        if let Some(t) = tamper {
                            t(&mut next);
                        }
                        out.response = next.query_pairs().into_owned().collect();
                    }
                }
                if !deliver {
                    return Ok(out);
                }
            }
            if out.authorize.is_empty()
                && at_idp(&next)
                && next.query_pairs().any(|(k, _)| k == "client_id")
            {
                out.authorize = next.query_pairs().into_owned().collect();
            }
            let (method, req) = match &form {
                Some(f) => ("POST", self.http.post(self.wired(&next)).form(f)),
                None => ("GET", self.http.get(self.wired(&next))),
            };
            let res = req
                .send()
                .await
                .map_err(|e| format!("{method} {}: {}", self.show(next.as_str()), failure(&e)))?;
            let status = res.status();
            let location = res
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .and_then(|l| next.join(l).ok());
            let sent = form.take().unwrap_or_default();
            self.record(method, &next, &sent, status.as_u16(), location.as_ref());
            let body = read_capped(res, &self.show(next.as_str())).await?;
            if is_callback {
                out.callback_status = Some(status.as_u16());
                out.callback_body = body.chars().take(500).collect();
                return Ok(out);
            }
            if status.is_redirection() {
                next = location.ok_or_else(|| format!("a {status} without Location"))?;
                continue;
            }
            if status == StatusCode::OK
                && at_idp(&next)
                && let Some((action, fields)) = login_form(&body)
            {
                next = next.join(&action).map_err(|e| e.to_string())?;
                if next.as_str().starts_with(&self.url(&self.sites.callback)) {
                    // A form_post response (OAuth 2.0 Form Post Response Mode): the page
                    // submits itself to the RP; the browser posts its fields, as a browser
                    // running the page's script would.
                    form = Some(fields);
                    continue;
                }
                let mut f = fields;
                f.push(("username".into(), username.into()));
                f.push(("action".into(), "login".into()));
                form = Some(f);
                continue;
            }
            return Ok(out);
        }
        Err("more than 12 hops without reaching the RP's callback".into())
    }

    /// Reads `/me` through the pointers.
    pub async fn me(
        &self,
        path: &str,
        record: bool,
        read: impl Fn(&serde_json::Value) -> MeReading,
    ) -> Result<MeReading, String> {
        let url = self.url(path);
        let res = self
            .http
            .get(&url)
            .send()
            .await
            .map_err(|e| format!("GET {}: {}", self.show(&url), failure(&e)))?;
        let status = res.status().as_u16();
        let mut reading = match status {
            200 => {
                let body = read_capped(res, &self.show(&url)).await?;
                let v: serde_json::Value = serde_json::from_str(&body)
                    .map_err(|e| format!("GET {}: not JSON: {e}", self.show(&url)))?;
                read(&v)
            }
            // No session: a refusal, or a redirect to log in (as many web apps answer).
            401 | 403 | 300..=399 => MeReading::default(),
            _ => {
                return Err(format!(
                    "GET {} answered {status}: neither a session (200) nor a refusal (401, 403 or a redirect to log in), so whether the user is logged in cannot be told",
                    self.show(&url)
                ));
            }
        };
        reading.browser = self.id;
        reading.status = status;
        if record {
            lock(&self.evidence).me.push(reading.clone());
        }
        Ok(reading)
    }

    /// A GET at the RP (logout, …); its status.
    pub async fn get(&self, path: &str) -> Result<u16, String> {
        let url = Url::parse(&self.url(path)).map_err(|e| e.to_string())?;
        Ok(self.get_url(url).await?.status)
    }

    /// The RP's own logout (`path`), redirects followed as a browser does: to the IdP's
    /// `end_session` (the endpoint at `end_session` on the IdP's origin), through its
    /// signed-out page's link back when it shows one, and back to the RP (that last URL
    /// after `tamper`, as an attacker's link would bring the browser back).
    pub async fn rp_logout(
        &self,
        path: &str,
        end_session: &Url,
        tamper: Option<Tamper>,
    ) -> Result<RpLogout, String> {
        let mut out = RpLogout::default();
        let mut next = Url::parse(&self.url(path)).map_err(|e| e.to_string())?;
        let rp = origin_of(&self.sites.rp);
        let at_rp = |u: &Url| u.origin().ascii_serialization() == rp;
        for hop in 0..10 {
            let is_end_session =
                next.origin() == end_session.origin() && next.path() == end_session.path();
            if is_end_session && out.end_session.is_none() {
                out.end_session = Some(next.query_pairs().into_owned().collect());
            }
            let back = hop > 0 && out.end_session.is_some() && at_rp(&next);
            if back && let Some(t) = tamper {
                t(&mut next);
            }
            let page = self.get_url(next.clone()).await?;
            if hop == 0 {
                out.first_status = page.status;
            }
            if is_end_session {
                out.idp_status = Some(page.status);
                if page.status >= 400 {
                    out.idp_error = error_description(&page.body);
                }
            }
            if back {
                out.returned = Some((next, page.status));
                return Ok(out);
            }
            let link = page.location.clone().or_else(|| {
                // The signed-out page (front-channel iframes) links back to the RP; a
                // browser with scripts follows it once the frames have loaded.
                (is_end_session && page.status == 200)
                    .then(|| continue_link(&page.body))
                    .flatten()
                    .and_then(|l| next.join(&l).ok())
            });
            match link {
                Some(l) => next = l,
                None => return Ok(out),
            }
        }
        Err("more than 10 hops after the RP's logout".into())
    }

    /// A GET anywhere, recorded as a hop; its status and (capped) body.
    async fn get_url(&self, url: Url) -> Result<Page, String> {
        let res = self
            .http
            .get(self.wired(&url))
            .send()
            .await
            .map_err(|e| format!("GET {}: {}", self.show(url.as_str()), failure(&e)))?;
        let status = res.status().as_u16();
        let location = res
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|l| l.to_str().ok())
            .and_then(|l| url.join(l).ok());
        self.record("GET", &url, &[], status, location.as_ref());
        let body = read_capped(res, &self.show(url.as_str())).await?;
        let location = location.filter(|_| (300..400).contains(&status));
        Ok(Page {
            status,
            body,
            location,
        })
    }

    /// A GET of a URL a page named (an iframe's `src`), with this browser's cookies for
    /// it (none in a fresh browser); its status.
    pub async fn get_absolute(&self, url: &Url) -> Result<u16, String> {
        Ok(self.get_url(url.clone()).await?.status)
    }

    /// Signs out at the IdP, as a user does on the IdP's own page or through another
    /// application's RP-initiated logout: GET the `end_session_endpoint` its discovery
    /// names, with this browser's IdP cookie; the IdP's page.
    pub async fn end_idp_session(&self) -> Result<Page, String> {
        let url = self.end_session_url().await?;
        self.get_url(url).await
    }

    /// The IdP's `end_session_endpoint`, from its discovery document.
    pub async fn end_session_url(&self) -> Result<Url, String> {
        let discovery = format!("{}/.well-known/openid-configuration", self.sites.idp);
        let res = self
            .http
            .get(rewire(&discovery, self.sites.wire.as_ref()))
            .send()
            .await
            .map_err(|e| format!("GET {}: {}", self.show(&discovery), failure(&e)))?;
        let body = read_capped(res, &self.show(&discovery)).await?;
        let v: serde_json::Value = serde_json::from_str(&body)
            .map_err(|e| format!("GET {}: not JSON: {e}", self.show(&discovery)))?;
        let end = v["end_session_endpoint"]
            .as_str()
            .ok_or("the IdP's discovery names no end_session_endpoint")?;
        Url::parse(end).map_err(|e| format!("end_session_endpoint {end:?}: {e}"))
    }

    /// A JSON POST at the RP; its status.
    pub async fn post_json(&self, path: &str, body: &serde_json::Value) -> Result<u16, String> {
        let url = Url::parse(&self.url(path)).map_err(|e| e.to_string())?;
        let res = self
            .http
            .post(url.clone())
            .json(body)
            .send()
            .await
            .map_err(|e| format!("POST {}: {}", self.show(url.as_str()), failure(&e)))?;
        let status = res.status().as_u16();
        self.record("POST", &url, &[], status, None);
        Ok(status)
    }
}

/// The most of an RP's answer the browser reads: a login page or a `/me` is far smaller.
const BODY_LIMIT: usize = 1 << 20;

/// An answer's body as text, refusing one over [`BODY_LIMIT`] (an RP that answers 50 MB is
/// an `error` naming it, not a runner out of memory).
/// A request that failed, in words: a timeout says so with the browser's patience, any
/// other failure with its cause (connection refused, reset…), which reqwest's own message
/// leaves out.
fn failure(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return format!(
            "no answer within {} s (the browser's patience): the RP hangs",
            PATIENCE.as_secs()
        );
    }
    let mut s = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        s.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    if s.contains("message head is too large") {
        s.push_str(" (the RP's answer has more header lines than the browser reads, 100, or over 400 KB of them: hundreds of Set-Cookie?)");
    }
    s
}

async fn read_capped(mut res: reqwest::Response, what: &str) -> Result<String, String> {
    let mut body = Vec::new();
    while let Some(chunk) = res
        .chunk()
        .await
        .map_err(|e| format!("{what}: reading the answer: {e}"))?
    {
        body.extend_from_slice(&chunk);
        if body.len() > BODY_LIMIT {
            return Err(format!(
                "{what}: the answer is larger than {} MiB; the browser stopped reading",
                BODY_LIMIT >> 20
            ));
        }
    }
    Ok(String::from_utf8_lossy(&body).into_owned())
}

fn lock(e: &Mutex<Evidence>) -> std::sync::MutexGuard<'_, Evidence> {
    e.lock().unwrap_or_else(|p| p.into_inner())
}

/// The first form of an IdP page (the login form, or a form_post response): its action and
/// hidden fields.
fn login_form(html: &str) -> Option<(String, Vec<(String, String)>)> {
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
fn error_description(html: &str) -> Option<String> {
    let i = html.find("id=\"error_description\"")?;
    let start = html[i..].find('>')? + i + 1;
    let end = html[start..].find('<')? + start;
    Some(unescape(&html[start..end]))
}

/// The `href` of the IdP's signed-out page's "continue" link.
fn continue_link(html: &str) -> Option<String> {
    let i = html.find("id=\"continue\"")?;
    let start = html[..i].rfind("<a")?;
    let end = html[start..].find('>').map_or(html.len(), |e| start + e);
    attr(&html[start..end], "href")
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let i = tag.find(&key)? + key.len();
    let end = tag[i..].find('"')? + i;
    Some(unescape(&tag[i..end]))
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {

    #[test]
    fn only_the_idps_https_origin_is_rewired() {
        let wire = (
            "https://127.0.0.1:8443".to_owned(),
            "http://127.0.0.1:9000".to_owned(),
        );
        let w = Some(&wire);
        assert_eq!(
            rewire("https://127.0.0.1:8443/t/a/authorize?x=1", w),
            "http://127.0.0.1:9000/t/a/authorize?x=1"
        );
        for other in [
            "http://127.0.0.1:8081/login",
            "https://127.0.0.1:84430/x",
            "https://evil.example/https://127.0.0.1:8443",
        ] {
            assert_eq!(rewire(other, w), other);
        }
        assert_eq!(
            rewire("https://127.0.0.1:8443/x", None),
            "https://127.0.0.1:8443/x"
        );
        assert_eq!(
            origin_of("https://127.0.0.1:8443/t/a"),
            "https://127.0.0.1:8443"
        );
    }
    use super::*;

    #[tokio::test]
    async fn an_answer_past_the_limit_is_an_error_naming_it() {
        use warp::Filter;
        let huge = warp::path!("me").map(|| "x".repeat(BODY_LIMIT + 1));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(warp::serve(huge).incoming(listener).run());
        let sites = Arc::new(Sites {
            rp: format!("http://{addr}"),
            idp: "http://idp.invalid".into(),
            login: "/login".into(),
            callback: "/cb".into(),
            wire: None,
        });
        let b = Browser::new(1, sites, Arc::default());
        let e = b
            .me("/me", true, |_| MeReading::default())
            .await
            .unwrap_err();
        assert_eq!(
            e,
            "{rp}/me: the answer is larger than 1 MiB; the browser stopped reading"
        );
    }

    /// An RP that asks for response_mode=form_post and answers its callback POST with the
    /// fields it received.
    async fn form_post_rp(idp: &str) -> String {
        use warp::Filter;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let rp = format!("http://{}", listener.local_addr().unwrap());
        let authorize = format!(
            "{idp}/authorize?client_id=demo-rp&response_type=code&scope=openid&state=s1\
             &nonce=n1&response_mode=form_post&redirect_uri={rp}/login/oauth2/callback"
        );
        let login = warp::path!("login")
            .and(warp::get())
            .map(move || warp::redirect::found(authorize.parse::<warp::http::Uri>().unwrap()));
        let callback = warp::path!("login" / "oauth2" / "callback")
            .and(warp::post())
            .and(warp::body::form())
            .map(|f: std::collections::HashMap<String, String>| {
                let status = match f.get("state") {
                    Some(_) => warp::http::StatusCode::OK,
                    None => warp::http::StatusCode::BAD_REQUEST,
                };
                let body = format!(
                    "code={} state={}",
                    f.contains_key("code"),
                    f.get("state").map_or("none", String::as_str)
                );
                warp::reply::with_status(body, status)
            });
        tokio::spawn(warp::serve(login.or(callback)).incoming(listener).run());
        rp
    }

    #[tokio::test]
    async fn a_form_post_response_is_posted_to_the_callback() {
        let idp = mock_idp::MockIdp::start().await;
        let rp = form_post_rp(idp.issuer()).await;
        let sites = Arc::new(Sites {
            rp,
            idp: idp.issuer().into(),
            login: "/login".into(),
            callback: "/login/oauth2/callback".into(),
            wire: None,
        });
        let evidence: Arc<Mutex<Evidence>> = Arc::default();
        let b = Browser::new(1, sites, evidence.clone());
        let login = b.login("alice", None).await.unwrap();
        assert_eq!(login.authorize["response_mode"], "form_post");
        assert_eq!(login.callback_status, Some(200));
        assert_eq!(login.callback_body, "code=true state=s1");
        assert!(login.response.contains_key("code"));
        assert_eq!(login.response["iss"], idp.issuer());
        let hops = lock(&evidence).hops.clone();
        let last = hops.last().unwrap();
        assert_eq!(last.method, "POST");
        assert_eq!(last.params["code"], "•••", "masked in evidence");
        // A tamper changes what is posted.
        fn drop_state(u: &mut Url) {
            let kept: Vec<(String, String)> = u
                .query_pairs()
                .into_owned()
                .filter(|(k, _)| k != "state")
                .collect();
            u.query_pairs_mut().clear().extend_pairs(kept);
        }
        let b2 = Browser::new(2, b.sites.clone(), Arc::default());
        let login = b2.login("alice", Some(drop_state)).await.unwrap();
        assert!(!login.response.contains_key("state"));
        assert_eq!(login.callback_status, Some(400), "{}", login.callback_body);
    }

    #[test]
    fn reads_the_login_form() {
        let html = r#"<form method="post" action="/t/x/login" id="login">
<input type="hidden" name="request" value="a&amp;b">
<input name="username" value=""></form>"#;
        let (action, fields) = login_form(html).unwrap();
        assert_eq!(action, "/t/x/login");
        assert_eq!(fields, vec![("request".to_owned(), "a&b".to_owned())]);
    }
}
