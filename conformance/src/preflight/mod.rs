//! `conformance preflight`: act as the RP an rp.toml describes against a **real** provider
//! and say whether this provider, configured as it is, will work with the app — before
//! the first real user tries. Discovery is checked against what the RP needs, a person (or,
//! against mock-idp, `login_hint`) logs in once through a loopback redirect URI, the tokens
//! are validated and read the way the RP reads them, the refresh token is used once, and
//! the user's groups go through the group map. Every check is a line: ok, problem or
//! unknown, with its evidence and, where the provider is known, the fix in its own words.
//!
//! Nothing is stored but the report; client secrets, codes and token signatures never
//! appear in it. `--write-profile` captures the tenant's shape as a mock-idp profile.

mod callback;
mod capture;
mod chromium;
mod discovery;
mod groups;
mod http;
mod idtoken;
mod login;
mod offline;
mod provider;
mod refresh;
mod render;
mod values;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::rp::RpDescription;

pub use chromium::Credentials;
pub use login::LoginWith;
pub use provider::Provider;

use capture::Shape;
pub use render::{html, json, markdown, terminal};

/// What `conformance preflight` was asked to do.
#[derive(Debug, Clone)]
pub struct PreflightOptions {
    /// The issuer URL exactly as the app is configured with it.
    pub issuer: String,
    /// The app's client id at the provider.
    pub client_id: String,
    /// Its client secret.
    pub client_secret: String,
    /// The RP it acts as (scopes, client authentication, claims, groups, group map,
    /// token limits); rp.toml's defaults when none is given.
    pub rp: RpDescription,
    /// The redirect URI registered for the app (loopback: preflight listens there);
    /// default `http://127.0.0.1:<free port><rp callback path>`.
    pub redirect_uri: Option<String>,
    /// Sent as `login_hint`; also makes preflight follow the authorization URL itself,
    /// which against mock-idp completes the login without a person.
    pub login_hint: Option<String>,
    /// Who does the person's part of the login: a person, or a headless Chromium with a
    /// test user's credentials (`--login-with chromium`).
    pub login_with: LoginWith,
    /// How long a person (or the browser) has to log in.
    pub login_timeout: Duration,
    /// Open the authorization URL in the desktop's browser (when one exists).
    pub open_browser: bool,
    /// The provider, when its issuer does not say (`okta`, `entra`…).
    pub provider: Option<Provider>,
    /// Write the tenant's shape here, as a mock-idp profile file.
    pub write_profile: Option<PathBuf>,
    /// CA certificates (PEM) to trust besides the system's, for a provider behind a
    /// private CA.
    pub ca_file: Option<PathBuf>,
    /// The app's private key, for `private_key_jwt`.
    pub client_key: Option<ClientKey>,
}

/// An app's private key for `private_key_jwt`: PEM (RSA signs RS256, EC P-256 ES256) and
/// the `kid` its public half is registered under at the provider, if it has one.
#[derive(Debug, Clone)]
pub struct ClientKey {
    /// PKCS#8 (or PKCS#1 RSA) PEM.
    pub pem: String,
    /// The `kid` for the assertion's header.
    pub kid: Option<String>,
}

impl PreflightOptions {
    /// A person logs in (the URL opened where a desktop exists, five minutes to do it) as
    /// the app rp.toml's defaults describe; set `rp` and the rest as needed.
    pub fn new(issuer: &str, client_id: &str, client_secret: &str) -> PreflightOptions {
        PreflightOptions {
            issuer: issuer.to_owned(),
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            rp: RpDescription::preflight_default(),
            redirect_uri: None,
            login_hint: None,
            login_with: LoginWith::Person,
            login_timeout: Duration::from_secs(300),
            open_browser: true,
            provider: None,
            write_profile: None,
            ca_file: None,
            client_key: None,
        }
    }

    /// No person: `login_hint` names the user and preflight follows the authorization URL
    /// itself (a provider that completes hinted logins, as mock-idp does), waiting 20 s.
    pub fn unattended(
        issuer: &str,
        client_id: &str,
        client_secret: &str,
        user: &str,
    ) -> PreflightOptions {
        PreflightOptions {
            login_hint: Some(user.to_owned()),
            login_timeout: Duration::from_secs(20),
            open_browser: false,
            ..PreflightOptions::new(issuer, client_id, client_secret)
        }
    }
}

/// A check's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// What the RP needs is there.
    Ok,
    /// Works, with a caveat worth a look before go-live (it does not stop READY).
    Warn,
    /// Could not be told from what the provider shows (a later step may tell).
    Unknown,
    /// The app will not work as configured, or will work worse than declared.
    Problem,
}

impl Status {
    /// The word shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warn => "warn",
            Status::Unknown => "unknown",
            Status::Problem => "problem",
        }
    }
}

/// One line of the readiness report.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// Stable id, e.g. `discovery.issuer`.
    pub id: &'static str,
    /// The step: discovery, login, tokens, groups, refresh, mapping.
    pub step: &'static str,
    /// Its outcome.
    pub status: Status,
    /// What was seen.
    pub detail: String,
    /// What to change, in the provider's words where known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

/// A token as the report shows it: header and claims decoded, the signature masked.
#[derive(Debug, Clone, Serialize)]
pub struct ShownToken {
    /// `id_token`, `access_token`, `userinfo`, `id_token (refreshed)`…
    pub name: String,
    /// Its length in characters.
    pub chars: usize,
    /// The JOSE header (JWTs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header: Option<Value>,
    /// The claims (JWTs and userinfo); `nonce` masked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claims: Option<Value>,
    /// Why nothing is decoded (opaque tokens).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The user's groups through the group map.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Mapping {
    /// The groups read where the RP reads them.
    pub groups: Vec<String>,
    /// group → the permissions it grants (mapped groups only).
    pub mapped: BTreeMap<String, Vec<String>>,
    /// Groups the map does not name.
    pub unmapped: Vec<String>,
    /// The permissions this user would get.
    pub permissions: Vec<String>,
}

/// The readiness report.
#[derive(Debug, Clone, Serialize)]
pub struct Readiness {
    /// The issuer as configured.
    pub issuer: String,
    /// The client id.
    pub client_id: String,
    /// The provider, when known.
    pub provider: Option<&'static str>,
    /// The redirect URI used.
    pub redirect_uri: String,
    /// Whether no check found a problem.
    pub ready: bool,
    /// Every check, in order.
    pub checks: Vec<Check>,
    /// The tokens seen, decoded and masked.
    pub tokens: Vec<ShownToken>,
    /// The user's permissions, when groups were read.
    pub mapping: Option<Mapping>,
    /// Where the captured profile was written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile_written: Option<String>,
}

/// A usage error: the run could not start (exit 2).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct PreflightError(pub String);

/// The checks so far, and what later steps need.
#[derive(Debug, Default)]
pub(crate) struct Findings {
    checks: Vec<Check>,
    tokens: Vec<ShownToken>,
}

impl Findings {
    fn add(
        &mut self,
        id: &'static str,
        step: &'static str,
        status: Status,
        detail: impl Into<String>,
        fix: Option<String>,
    ) {
        self.checks.push(Check {
            id,
            step,
            status,
            detail: detail.into(),
            fix,
        });
    }

    fn ok(&mut self, id: &'static str, step: &'static str, detail: impl Into<String>) {
        self.add(id, step, Status::Ok, detail, None);
    }

    fn problem(
        &mut self,
        id: &'static str,
        step: &'static str,
        detail: impl Into<String>,
        fix: Option<String>,
    ) {
        self.add(id, step, Status::Problem, detail, fix);
    }

    fn unknown(&mut self, id: &'static str, step: &'static str, detail: impl Into<String>) {
        self.add(id, step, Status::Unknown, detail, None);
    }

    fn warn(&mut self, id: &'static str, step: &'static str, detail: impl Into<String>) {
        self.add(id, step, Status::Warn, detail, None);
    }

    /// The status of the check `id`, when it was made.
    fn status(&self, id: &str) -> Option<Status> {
        self.checks.iter().find(|c| c.id == id).map(|c| c.status)
    }

    /// Settles an earlier check that could not tell (`unknown`) with what a later step saw:
    /// the line stays where it is, its outcome and words updated.
    fn settle(&mut self, id: &str, status: Status, seen: &str) {
        if let Some(c) = self
            .checks
            .iter_mut()
            .find(|c| c.id == id && c.status == Status::Unknown)
        {
            c.status = status;
            c.detail = format!(
                "{}; {seen}",
                c.detail
                    .trim_end_matches("; the login below tells")
                    .trim_end_matches("; the refresh below tells")
            );
        }
    }
}

/// The login, as the app makes it; when the provider refuses it for its PKCE alone, that
/// is the finding, and the login is made again without PKCE so that the later checks run.
/// The tokens, and whether PKCE was sent.
async fn log_in(
    client: &http::Client,
    opts: &PreflightOptions,
    d: &discovery::Discovery,
    listener: &mut callback::Listener,
    fixes: &provider::Fixes,
    f: &mut Findings,
) -> Option<(login::Tokens, bool)> {
    let prompt = opts.rp.prompt.as_deref();
    let pkce = opts.rp.pkce;
    let attempt = login::Attempt { prompt, pkce };
    match login::login(client, opts, d, listener, attempt, fixes, f).await {
        Ok(t) => return Some((t, pkce)),
        Err(login::Failed::Reported) => return None,
        Err(login::Failed::PkceRefused(description)) => {
            f.problem(
                "login.pkce",
                "login",
                format!(
                    "the provider refused the app's authorization request with error=invalid_request{} because it carries PKCE (code_challenge, S256): the same request without PKCE is taken. The app sends PKCE, as RFC 9700 §2.1.1 recommends for every client, so no one can log in. The checks below use a login without PKCE",
                    if description.is_empty() {
                        " (no description)".to_owned()
                    } else {
                        format!(" {description:?}")
                    }
                ),
                Some(fixes.pkce_refused()),
            );
        }
    }
    let attempt = login::Attempt {
        prompt,
        pkce: false,
    };
    login::login(client, opts, d, listener, attempt, fixes, f)
        .await
        .ok()
        .map(|t| (t, false))
}

/// Settles `discovery.scopes` (scopes missing from `scopes_supported`) with the scope the
/// login was granted.
fn settle_scopes(opts: &PreflightOptions, tokens: &login::Tokens, f: &mut Findings) {
    if f.status("discovery.scopes") != Some(Status::Unknown) {
        return;
    }
    let asked: Vec<&str> = opts.rp.scopes.split_whitespace().collect();
    match tokens.granted_scope() {
        None => f.settle(
            "discovery.scopes",
            Status::Ok,
            "the login was granted them all (its token response names no scope, so the one asked, RFC 6749 §5.1)",
        ),
        Some(g) => {
            let granted: Vec<&str> = g.split_whitespace().collect();
            let lacking: Vec<&str> = asked
                .iter()
                .copied()
                .filter(|s| !granted.contains(s))
                .collect();
            if lacking.is_empty() {
                f.settle(
                    "discovery.scopes",
                    Status::Ok,
                    &format!("the login was granted them all ({g})"),
                );
            } else {
                f.settle(
                    "discovery.scopes",
                    Status::Problem,
                    &format!("the login was not granted {} ({g})", lacking.join(" ")),
                );
            }
        }
    }
}

/// Settles `discovery.claims` (claims missing from `claims_supported`) with the ID token
/// the login got.
fn settle_claims(opts: &PreflightOptions, id: &serde_json::Map<String, Value>, f: &mut Findings) {
    if f.status("discovery.claims") != Some(Status::Unknown) {
        return;
    }
    // The groups claim is groups.location's to judge (a user in no group has none): this
    // line settles on the app's other required claims.
    let group = discovery::groups_claim_name(opts);
    let wanted = discovery::wanted_claims(opts);
    let lacking: Vec<&str> = wanted
        .iter()
        .map(String::as_str)
        .filter(|c| *c != group && !id.contains_key(*c))
        .collect();
    let groups_note = if wanted.contains(&group) {
        format!(" ({group}: groups.location below)")
    } else {
        String::new()
    };
    if lacking.is_empty() {
        f.settle(
            "discovery.claims",
            Status::Ok,
            &format!("the login's ID token carried the app's required claims{groups_note}"),
        );
    } else {
        f.settle(
            "discovery.claims",
            Status::Problem,
            &format!(
                "the login's ID token lacks {} too{groups_note}",
                lacking.join(", ")
            ),
        );
    }
}

/// Writes the captured profile: refused (nothing written, a problem) when the login did not
/// finish, since a profile without the tokens' shape would rehearse a tenant of the mock's
/// defaults; marked partial, with a warning, when a later step is missing.
fn capture_to(
    path: &std::path::Path,
    discovered: bool,
    shape: &Shape,
    readiness: &mut Readiness,
    f: &mut Findings,
) {
    let missing = shape.missing();
    if !discovered
        || shape
            .missing()
            .iter()
            .any(|m| m.starts_with("the login's tokens"))
    {
        f.problem(
            "capture.profile",
            "capture",
            format!(
                "no profile written to {}: {}, so it would describe the mock's defaults, not this tenant",
                path.display(),
                if discovered {
                    "the login did not finish"
                } else {
                    "discovery failed"
                }
            ),
            None,
        );
        return;
    }
    match shape.write(path) {
        Ok(()) => {
            readiness.profile_written = Some(path.display().to_string());
            if missing.is_empty() {
                f.ok(
                    "capture.profile",
                    "capture",
                    format!("the tenant's shape written to {}", path.display()),
                );
            } else {
                f.warn(
                    "capture.profile",
                    "capture",
                    format!(
                        "written to {}, marked PARTIAL: the run did not observe {}",
                        path.display(),
                        missing.join("; ")
                    ),
                );
            }
        }
        Err(e) => f.problem("capture.profile", "capture", e, None),
    }
}

/// Runs the preflight: discovery, one login, one refresh, the mapping; a report whatever
/// the provider answers (problems are findings), an error only when it cannot start.
pub async fn preflight(opts: &PreflightOptions) -> Result<Readiness, PreflightError> {
    let client = http::client(opts.ca_file.as_deref())?;
    let mut f = Findings::default();
    let mut provider = opts
        .provider
        .or_else(|| Provider::detect(&opts.issuer))
        .map(|p| p.name());
    let mut fixes = provider::Fixes::new(provider);
    let mut listener = callback::Listener::bind(opts).await?;
    let redirect_uri = listener.redirect_uri().to_owned();
    let mut readiness = Readiness {
        issuer: opts.issuer.clone(),
        client_id: opts.client_id.clone(),
        provider,
        redirect_uri: redirect_uri.clone(),
        ready: false,
        checks: Vec::new(),
        tokens: Vec::new(),
        mapping: None,
        profile_written: None,
    };
    let disco = discovery::check(&client, opts, &fixes, &mut f).await;
    let mut shape = Shape::default();
    if let Some(d) = &disco {
        if provider.is_none() {
            provider = Provider::detect_by_endpoints(&d.authorization).map(|p| p.name());
            fixes = provider::Fixes::new(provider);
            readiness.provider = provider;
        }
        shape.discovery(d);
        let login = log_in(&client, opts, d, &mut listener, &fixes, &mut f).await;
        shape.pkce_refused(f.status("login.pkce") == Some(Status::Problem));
        if let Some((first, pkce)) = login {
            let first_sub = idtoken::unverified_sub(&first);
            let (tokens, rule) = offline::refresh_token(
                &client,
                opts,
                d,
                &mut listener,
                first,
                pkce,
                &fixes,
                &mut f,
            )
            .await;
            shape.refresh_rule(rule);
            // The consented login, when there was one, is the same user's second login.
            let earlier = first_sub.filter(|_| rule == Some(offline::RefreshRule::WithConsent));
            settle_scopes(opts, &tokens, &mut f);
            let userinfo = groups::userinfo(&client, d, &tokens, &mut f).await;
            let id = idtoken::check(opts, d, &tokens, userinfo.as_ref(), &fixes, &mut f);
            if let Some(c) = &id {
                idtoken::sub_stability(c, earlier.as_deref(), &mut f);
                settle_claims(opts, c, &mut f);
            }
            idtoken::sizes(opts, &tokens, &mut f);
            let seen = groups::Seen {
                tokens: &tokens,
                id: id.as_ref(),
                userinfo: userinfo.as_ref(),
            };
            let read = groups::check(&client, opts, d, seen, &fixes, &mut f).await;
            shape.tokens(opts, &tokens, id.as_ref(), userinfo.as_ref());
            let refreshed =
                refresh::check(&client, opts, d, &tokens, id.as_ref(), &fixes, &mut f).await;
            match (&refreshed, f.status("refresh.works")) {
                (Some(_), _) => f.settle(
                    "discovery.refresh-grant",
                    Status::Ok,
                    "the refresh below worked",
                ),
                (None, Some(Status::Problem)) => f.settle(
                    "discovery.refresh-grant",
                    Status::Problem,
                    "the refresh below failed too",
                ),
                _ => {}
            }
            shape.refresh(refreshed.as_ref());
            if let Some(groups) = read {
                readiness.mapping = Some(groups::mapping(opts, &groups, &mut f));
            }
        }
    }
    if let Some(path) = &opts.write_profile {
        capture_to(path, disco.is_some(), &shape, &mut readiness, &mut f);
    }
    readiness.ready = !f.checks.iter().any(|c| c.status == Status::Problem);
    readiness.checks = f.checks;
    readiness.tokens = f.tokens;
    Ok(readiness)
}
