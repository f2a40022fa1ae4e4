//! Step 2: one real login through the code flow (with PKCE), as the app would make it,
//! and the code exchanged with the app's client authentication.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use super::Findings;
use super::LoginWith;
use super::callback::Listener;
use super::discovery::Discovery;
use super::follow::{Followed, follow, open_in_browser, strip_tags};
use super::http::{Client, excerpt};
use super::options::LoginPlan;
use super::provider::Fixes;

const STEP: &str = "login";

/// The token response of the login, and what was sent to get it.
#[derive(Debug, Clone)]
pub struct Tokens {
    /// The whole token response.
    pub response: Value,
    /// Its `id_token`.
    pub id_token: Option<String>,
    /// Its `access_token`.
    pub access_token: Option<String>,
    /// Its `refresh_token`.
    pub refresh_token: Option<String>,
    /// The nonce sent.
    pub nonce: String,
}

impl Tokens {
    /// Parses a token response.
    pub fn from_response(response: Value, nonce: String) -> Tokens {
        let s = |k: &str| response.get(k).and_then(Value::as_str).map(str::to_owned);
        Tokens {
            id_token: s("id_token"),
            access_token: s("access_token"),
            refresh_token: s("refresh_token"),
            response,
            nonce,
        }
    }

    /// The scope the provider says it granted (RFC 6749 §5.1), when it says.
    pub fn granted_scope(&self) -> Option<&str> {
        self.response.get("scope").and_then(Value::as_str)
    }

    /// `expires_in`, in seconds.
    pub fn expires_in(&self) -> Option<i64> {
        let v = self.response.get("expires_in")?;
        v.as_i64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
    }
}

/// What one login sends besides the app's parameters.
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'a> {
    /// `prompt`, when any.
    pub prompt: Option<&'a str>,
    /// Whether PKCE (S256) is sent, as the app does (rp.toml `pkce`, on by default).
    pub pkce: bool,
}

/// Why a login gave no tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failed {
    /// The reason is among the findings.
    Reported,
    /// The provider refused the request for its PKCE: the same request without it was
    /// taken. Nothing is among the findings yet; the description the provider gave.
    PkceRefused(String),
}

/// Logs in once as `attempt` says; the tokens, or why not (among the findings, but for a
/// refused PKCE, which the caller reports and retries).
pub async fn login(
    client: &Client,
    plan: &LoginPlan<'_>,
    d: &Discovery,
    listener: &mut Listener,
    attempt: Attempt<'_>,
    fixes: &Fixes,
    f: &mut Findings,
) -> Result<Tokens, Failed> {
    let redirect_uri = listener.redirect_uri().to_owned();
    let state = crate::random::hex(16);
    let nonce = crate::random::hex(16);
    let verifier = crate::random::hex(32);
    let challenge = URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        verifier.as_bytes(),
    ));
    let mut url = match url::Url::parse(&d.authorization) {
        Ok(u) => u,
        Err(e) => {
            f.problem(
                "login.authorize",
                STEP,
                format!(
                    "authorization_endpoint {:?} is not a URL: {e}",
                    d.authorization
                ),
                None,
            );
            return Err(Failed::Reported);
        }
    };
    let mut params = vec![
        ("response_type", "code"),
        ("client_id", plan.app.client_id),
        ("redirect_uri", redirect_uri.as_str()),
        ("scope", plan.app.rp.scopes.as_str()),
        ("state", state.as_str()),
        ("nonce", nonce.as_str()),
    ];
    if attempt.pkce {
        params.push(("code_challenge", challenge.as_str()));
        params.push(("code_challenge_method", "S256"));
    }
    if let Some(hint) = plan.hint {
        params.push(("login_hint", hint));
    }
    if let Some(p) = attempt.prompt {
        params.push(("prompt", p));
    }
    // An app that pushes its requests (RFC 9126): pushed as it would, the browser carrying
    // client_id and the request_uri.
    let pushed = if plan.app.rp.par {
        // The client authentication carries client_id.
        let body: Vec<_> = params
            .iter()
            .copied()
            .filter(|(k, _)| *k != "client_id")
            .collect();
        match super::par::push(client, plan, d, &body, f).await {
            Some(uri) => Some(uri),
            None => return Err(Failed::Reported),
        }
    } else {
        None
    };
    {
        let mut q = url.query_pairs_mut();
        match &pushed {
            Some(uri) => {
                q.append_pair("client_id", plan.app.client_id)
                    .append_pair("request_uri", uri);
            }
            None => {
                q.extend_pairs(params.iter().copied());
            }
        }
    }
    // Who logged in, for a timeout's finding: whether anyone was at the provider's pages.
    let mut browsed: Option<String> = None;
    // The page the provider showed the follower (it took the authorization request).
    let mut shown: Option<String> = None;
    match plan.with {
        LoginWith::Chromium(who) => {
            match super::chromium::log_in(url.as_str(), &redirect_uri, who, plan.timeout).await {
                Ok(pages) => browsed = Some(pages.join("; ")),
                Err(e) => {
                    f.problem(
                        "login.redirect",
                        STEP,
                        format!(
                            "the headless browser's login as {:?} did not finish: {e}",
                            who.user
                        ),
                        None,
                    );
                    return Err(Failed::Reported);
                }
            }
        }
        LoginWith::Person => {
            let mut person = plan.hint.is_none();
            if !person {
                match follow(client, url.as_str(), &redirect_uri).await {
                    Followed::Delivered => {}
                    Followed::Page(at) => {
                        eprintln!(
                            "preflight: the provider shows a page at {at} (a login or consent page); log in in your browser."
                        );
                        shown = Some(at);
                        person = true;
                    }
                    Followed::Refused(status, body) => {
                        let fix = body
                            .to_lowercase()
                            .contains("redirect")
                            .then(|| fixes.redirect_uri(&redirect_uri));
                        f.problem(
                            "login.authorize",
                            STEP,
                            format!(
                                "the provider refused the authorization request with HTTP {status} instead of redirecting to {redirect_uri}: {}",
                                excerpt(&strip_tags(&body))
                            ),
                            fix,
                        );
                        return Err(Failed::Reported);
                    }
                    Followed::Failed(e) => {
                        f.problem(
                            "login.authorize",
                            STEP,
                            format!("GET the authorization URL: {e}"),
                            None,
                        );
                        return Err(Failed::Reported);
                    }
                }
            }
            if person {
                eprintln!(
                    "preflight: log in as a test user at this URL (waiting {} s for {redirect_uri}):\n\n  {url}\n",
                    plan.timeout.as_secs()
                );
                if plan.open_browser {
                    open_in_browser(url.as_str());
                }
            }
        }
    }
    // A browser that reached the redirect URI has delivered already: a short wait then.
    let wait = if browsed.is_some() {
        std::time::Duration::from_secs(5)
    } else {
        plan.timeout
    };
    let Some(response) = listener.wait(wait).await else {
        let (detail, fix) = match &browsed {
            Some(pages) => (
                format!(
                    "the headless browser reached {redirect_uri} but no authorization response arrived ({pages})"
                ),
                None,
            ),
            None => match &shown {
                Some(at) => (
                    format!(
                        "the provider took the authorization request and showed its page at {at}, but nobody finished the login there within {} s (log in as a test user at the URL printed, or give --login-with chromium and the user's credentials)",
                        plan.timeout.as_secs()
                    ),
                    None,
                ),
                None => (
                    format!(
                        "no authorization response reached {redirect_uri} within {} s: nobody finished a login at the URL printed, or the provider showed an error there (one about the redirect URI means it is not registered)",
                        plan.timeout.as_secs()
                    ),
                    Some(fixes.redirect_uri(&redirect_uri)),
                ),
            },
        };
        f.problem("login.redirect", STEP, detail, fix);
        return Err(Failed::Reported);
    };
    if let Some(error) = response.get("error") {
        let description = response
            .get("error_description")
            .map(String::as_str)
            .unwrap_or("");
        // A bare invalid_request may be the provider refusing PKCE (Glewlwyd's default):
        // the same request without it tells.
        if error == "invalid_request"
            && attempt.pkce
            && taken_without_pkce(client, &url, &redirect_uri).await
        {
            return Err(Failed::PkceRefused(description.to_owned()));
        }
        f.problem(
            "login.redirect",
            STEP,
            format!("the provider answered the login with error={error} {description:?}"),
            error_fix(error, description, plan, fixes),
        );
        return Err(Failed::Reported);
    }
    f.ok(
        "login.redirect",
        STEP,
        match &browsed {
            Some(pages) if !pages.is_empty() => format!(
                "the provider sent the browser back to {redirect_uri} with a code (the headless browser's pages: {pages})"
            ),
            _ => format!("the provider sent the browser back to {redirect_uri} with a code"),
        },
    );
    if response.get("state") != Some(&state) {
        f.problem(
            "login.state",
            STEP,
            "the authorization response does not carry the state sent (RFC 6749 §4.1.2): the app refuses it",
            None,
        );
        return Err(Failed::Reported);
    }
    if let Some(iss) = response.get("iss")
        && iss != &d.issuer
    {
        f.problem(
            "login.state",
            STEP,
            format!(
                "the authorization response names issuer {iss:?}, not {:?} (RFC 9207 §2.4)",
                d.issuer
            ),
            None,
        );
        return Err(Failed::Reported);
    }
    let code = response.get("code").cloned().unwrap_or_default();
    exchange(
        client,
        plan,
        d,
        &redirect_uri,
        &code,
        attempt.pkce.then_some(verifier.as_str()),
        nonce,
        fixes,
        f,
    )
    .await
    .ok_or(Failed::Reported)
}

/// Whether the provider takes `url` without its PKCE parameters: following its redirects
/// (cookies kept) reaches a page, or the redirect URI without an error. The redirect URI
/// itself is never requested, so the listener gets nothing.
async fn taken_without_pkce(client: &Client, url: &url::Url, redirect_uri: &str) -> bool {
    let mut plain = url.clone();
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| !k.starts_with("code_challenge"))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    plain.query_pairs_mut().clear().extend_pairs(&kept);
    let jar = reqwest::cookie::Jar::default();
    let back = redirect_uri.split('?').next().unwrap_or_default();
    let mut at = plain.to_string();
    for _ in 0..10 {
        let Ok(a) = client.browse(&at, &jar).await else {
            return false;
        };
        match (a.status, a.location) {
            (300..=399, Some(loc)) => {
                let Ok(next) = url::Url::parse(&at).and_then(|u| u.join(&loc)) else {
                    return false;
                };
                if next.as_str().starts_with(back) {
                    return !next.query_pairs().any(|(k, _)| k == "error");
                }
                at = next.to_string();
            }
            (200..=299, _) => return true,
            _ => return false,
        }
    }
    false
}

#[allow(clippy::too_many_arguments)]
async fn exchange(
    client: &Client,
    plan: &LoginPlan<'_>,
    d: &Discovery,
    redirect_uri: &str,
    code: &str,
    verifier: Option<&str>,
    nonce: String,
    fixes: &Fixes,
    f: &mut Findings,
) -> Option<Tokens> {
    let method = plan.app.rp.client_auth.as_str();
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri),
    ];
    if let Some(v) = verifier {
        form.push(("code_verifier", v));
    }
    let answer = client
        .token_request(
            &d.token,
            plan.app.rp.client_auth,
            plan.app.client_id,
            plan.app.secret,
            plan.app.key,
            &form,
        )
        .await;
    let answer = match answer {
        Ok(a) => a,
        Err(e) => {
            f.problem(
                "token.exchange",
                "tokens",
                format!("POST {}: {e}", d.token),
                None,
            );
            return None;
        }
    };
    let body = answer.json().unwrap_or(Value::Null);
    if answer.status != 200 {
        let error = body.get("error").and_then(Value::as_str).unwrap_or("");
        let fix = match error {
            "invalid_client" | "unauthorized_client" => Some(format!(
                "Check the client id and secret; {}",
                fixes.client_auth(method)
            )),
            _ => None,
        };
        f.problem(
            "token.exchange",
            "tokens",
            format!(
                "exchanging the code with {method} answered HTTP {}: {}",
                answer.status,
                excerpt(&answer.body)
            ),
            fix,
        );
        return None;
    }
    let tokens = Tokens::from_response(body, nonce);
    if tokens.access_token.is_none() || tokens.id_token.is_none() {
        f.problem(
            "token.exchange",
            "tokens",
            format!(
                "the token response lacks {} (OIDC Core §3.1.3.3)",
                if tokens.id_token.is_none() {
                    "id_token"
                } else {
                    "access_token"
                }
            ),
            None,
        );
        return None;
    }
    f.ok(
        "token.exchange",
        "tokens",
        format!("the code was exchanged with {method}: an ID token and an access token"),
    );
    Some(tokens)
}

/// The fix for an authorization error response (RFC 6749 §4.1.2.1).
fn error_fix(
    error: &str,
    description: &str,
    plan: &LoginPlan<'_>,
    fixes: &Fixes,
) -> Option<String> {
    match error {
        "invalid_scope" => Some(format!(
            "The provider refuses one of the scopes {}; allow them for this client",
            plan.app.rp.scopes
        )),
        "unauthorized_client" => Some("Allow the authorization code grant for this client".into()),
        "access_denied" => {
            Some("Assign the test user (or a group of theirs) to the application".into())
        }
        // Only a description that names the redirect URI blames it.
        "invalid_request" if description.to_lowercase().contains("redirect") => {
            Some(fixes.redirect_uri(plan.redirect_uri.unwrap_or("the redirect URI")))
        }
        "invalid_request" => Some(
            "The provider found the authorization request malformed without saying why: its log names the parameter (preflight sends response_type=code, client_id, redirect_uri, the app's scope, state, nonce, PKCE S256 unless rp.toml says pkce = false, and prompt or login_hint when given)".into(),
        ),
        _ => None,
    }
}
