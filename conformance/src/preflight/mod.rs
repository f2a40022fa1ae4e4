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
mod capture_text;
mod chromium;
mod discovery;
mod findings;
mod follow;
mod groups;
mod http;
mod idtoken;
mod jwt;
mod login;
mod mapping;
mod offline;
mod options;
mod par;
mod provider;
mod refresh;
mod render;
mod values;

use serde_json::Value;

use crate::rp::RpDescription;

pub use chromium::Credentials;
pub use provider::Provider;

pub(crate) use findings::Findings;
pub use findings::{Check, Mapping, PreflightError, Readiness, ShownToken, Status};
pub use options::{ClientKey, LoginWith, PreflightOptions};

use capture::Shape;
pub use render::{html, json, markdown, terminal};

/// The login, as the app makes it; when the provider refuses it for its PKCE alone, that
/// is the finding, and the login is made again without PKCE so that the later checks run.
/// The tokens, and whether PKCE was sent.
async fn log_in(
    client: &http::Client,
    plan: &options::LoginPlan<'_>,
    d: &discovery::Discovery,
    listener: &mut callback::Listener,
    fixes: &provider::Fixes,
    f: &mut Findings,
) -> Option<(login::Tokens, bool)> {
    let prompt = plan.app.rp.prompt.as_deref();
    let pkce = plan.app.rp.pkce;
    let attempt = login::Attempt { prompt, pkce };
    match login::login(client, plan, d, listener, attempt, fixes, f).await {
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
    login::login(client, plan, d, listener, attempt, fixes, f)
        .await
        .ok()
        .map(|t| (t, false))
}

/// Settles `discovery.scopes` (scopes missing from `scopes_supported`) with the scope the
/// login was granted.
fn settle_scopes(app: &RpDescription, tokens: &login::Tokens, f: &mut Findings) {
    if f.status("discovery.scopes") != Some(Status::Unknown) {
        return;
    }
    let asked: Vec<&str> = app.scopes.split_whitespace().collect();
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
fn settle_claims(app: &RpDescription, id: &serde_json::Map<String, Value>, f: &mut Findings) {
    if f.status("discovery.claims") != Some(Status::Unknown) {
        return;
    }
    // The groups claim is groups.location's to judge (a user in no group has none): this
    // line settles on the app's other required claims.
    let group = discovery::groups_claim_name(app);
    let wanted = discovery::wanted_claims(app);
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
    let mut listener =
        callback::Listener::bind(opts.redirect_uri.as_deref(), &opts.rp.paths.callback).await?;
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
    // The options, parsed once into what each stage needs.
    let app = opts.app();
    let plan = opts.login_plan();
    let disco = discovery::check(&client, &opts.issuer, app.rp, &fixes, &mut f).await;
    let mut shape = Shape::default();
    if let Some(d) = &disco {
        if provider.is_none() {
            provider = Provider::detect_by_endpoints(&d.authorization).map(|p| p.name());
            fixes = provider::Fixes::new(provider);
            readiness.provider = provider;
        }
        shape.discovery(d);
        let login = log_in(&client, &plan, d, &mut listener, &fixes, &mut f).await;
        shape.pkce_refused(f.status("login.pkce") == Some(Status::Problem));
        if let Some((first, pkce)) = login {
            let first_sub = idtoken::unverified_sub(&first);
            let (tokens, rule) = offline::refresh_token(
                &client,
                &plan,
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
            settle_scopes(app.rp, &tokens, &mut f);
            let userinfo = groups::userinfo(&client, d, &tokens, &mut f).await;
            let id = idtoken::check(
                &opts.issuer,
                &app,
                d,
                &tokens,
                userinfo.as_ref(),
                &fixes,
                &mut f,
            );
            if let Some(c) = &id {
                idtoken::sub_stability(c, earlier.as_deref(), &mut f);
                settle_claims(app.rp, c, &mut f);
            }
            idtoken::sizes(&app.rp.token_limits, &tokens, &mut f);
            let seen = groups::Seen {
                tokens: &tokens,
                id: id.as_ref(),
                userinfo: userinfo.as_ref(),
            };
            let read = groups::check(&client, app.rp, d, seen, &fixes, &mut f).await;
            shape.tokens(app.client_id, &tokens, id.as_ref(), userinfo.as_ref());
            let refreshed =
                refresh::check(&client, &app, d, &tokens, id.as_ref(), &fixes, &mut f).await;
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
                readiness.mapping = Some(mapping::mapping(app.rp, &groups, &mut f));
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
