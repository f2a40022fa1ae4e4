//! The runner as browser: a cookie jar, redirects followed by hand so that every hop is
//! recorded (secrets masked), and the mock IdP's login form filled in.

mod html;
mod login;
mod logout;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use reqwest::cookie::Jar;
use url::Url;

use crate::verdict::{Evidence, Hop, MeReading};
use crate::wire::{Body, Http, Method, Trust};
use html::{
    BODY_LIMIT, attr, continue_link, error_description, failure, lock, login_form, read_capped,
};

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
    /// An IdP served over HTTPS reached through a plain listener of the same server
    /// (`--idp-plain`): its https origin, and that plain origin, which this browser sends
    /// those requests to. Hops are recorded with the URLs the RP and the IdP named. None:
    /// every URL as named, over TLS where it is https.
    pub wire: Option<(String, String)>,
    /// Whom the browser trusts over TLS: the system's roots and the run's IdP CA.
    pub trust: Trust,
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
    /// The authorization request as the browser carried it to the IdP, unmasked: the whole
    /// request, or, for a pushed one (RFC 9126), `client_id` and `request_uri`
    /// (`Ctx::authorization_request` gives what was asked for either way).
    pub front_channel: BTreeMap<String, String>,
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
    http: Http,
    jar: Arc<Jar>,
    sites: Arc<Sites>,
    evidence: Arc<Mutex<Evidence>>,
}

impl Browser {
    /// A fresh browser recording into `evidence`.
    pub fn new(id: u32, sites: Arc<Sites>, evidence: Arc<Mutex<Evidence>>) -> Browser {
        let jar = Arc::new(Jar::default());
        let http = Http::new(&sites.trust, PATIENCE, BODY_LIMIT, Some(jar.clone()));
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
            .send(Method::GET, &url, None, Body::Empty)
            .await
            .map_err(|e| format!("GET {}: {}", self.show(&url), failure(&e)))?;
        let status = res.status;
        let mut reading = match status {
            200 => {
                let body = read_capped(&res, &self.show(&url))?;
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

    /// A GET anywhere, recorded as a hop; its status and (capped) body.
    async fn get_url(&self, url: Url) -> Result<Page, String> {
        let res = self
            .http
            .send(Method::GET, &self.wired(&url), None, Body::Empty)
            .await
            .map_err(|e| format!("GET {}: {}", self.show(url.as_str()), failure(&e)))?;
        let status = res.status;
        let location = res.location().and_then(|l| url.join(l).ok());
        self.record("GET", &url, &[], status, location.as_ref());
        let body = read_capped(&res, &self.show(url.as_str()))?;
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

    /// A JSON POST at the RP; its status.
    pub async fn post_json(&self, path: &str, body: &serde_json::Value) -> Result<u16, String> {
        let url = Url::parse(&self.url(path)).map_err(|e| e.to_string())?;
        let res = self
            .http
            .send(Method::POST, url.as_str(), None, Body::Json(body))
            .await
            .map_err(|e| format!("POST {}: {}", self.show(url.as_str()), failure(&e)))?;
        let status = res.status;
        self.record("POST", &url, &[], status, None);
        Ok(status)
    }
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
    use super::html::BODY_LIMIT;
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
            trust: Trust::system(),
        });
        let b = Browser::new(1, sites, Arc::default());
        let e = b
            .me("/me", true, |_| MeReading::default())
            .await
            .unwrap_err();
        assert_eq!(
            e,
            "{rp}/me: the answer is larger than 1 MiB; the client stopped reading"
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
            trust: Trust::system(),
        });
        let evidence: Arc<Mutex<Evidence>> = Arc::default();
        let b = Browser::new(1, sites, evidence.clone());
        let login = b.login("alice", None).await.unwrap();
        assert_eq!(login.front_channel["response_mode"], "form_post");
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
