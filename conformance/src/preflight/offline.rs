//! Whether the login got the refresh token the app's background sync needs. The scope the
//! provider granted is read from the token response (RFC 6749 §5.1 `scope`); when it
//! dropped `offline_access` and no refresh token came, the login is made again with
//! `prompt=consent`, since a provider may grant `offline_access` only after a consent
//! prompt (OIDC Core §11) — panva's oidc-provider does, by default. The finding then says
//! which login got one, and the later checks go on with that login's tokens.

use super::callback::Listener;
use super::discovery::Discovery;
use super::http::Client;
use super::login::{Attempt, Tokens, login};
use super::options::LoginPlan;
use super::provider::Fixes;
use super::{Findings, Status};

const STEP: &str = "tokens";
const ID: &str = "token.refresh-issued";

/// How the tenant issues refresh tokens, as the login found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshRule {
    /// A refresh token came with the scopes asked.
    Issued,
    /// Only a login with `prompt=consent` got one.
    WithConsent,
    /// None came, with consent or without.
    Never,
}

/// The login's tokens, or the consented login's when only that one got a refresh token;
/// and the rule seen (`None` when the consented login could not be made).
#[allow(clippy::too_many_arguments)]
pub async fn refresh_token(
    client: &Client,
    plan: &LoginPlan<'_>,
    d: &Discovery,
    listener: &mut Listener,
    first: Tokens,
    pkce: bool,
    fixes: &Fixes,
    f: &mut Findings,
) -> (Tokens, Option<RefreshRule>) {
    let asked = &plan.app.rp.scopes;
    let granted = granted(&first);
    if first.refresh_token.is_some() {
        f.ok(
            ID,
            STEP,
            format!("a refresh token was issued (scopes asked: {asked}; {granted})"),
        );
        return (first, Some(RefreshRule::Issued));
    }
    let wants_offline = asked.split_whitespace().any(|s| s == "offline_access");
    let dropped = first
        .granted_scope()
        .is_some_and(|g| !g.split_whitespace().any(|s| s == "offline_access"));
    let prompted = plan
        .app
        .rp
        .prompt
        .as_deref()
        .is_some_and(|p| p.contains("consent"));
    if !(wants_offline && dropped && !prompted) {
        f.problem(
            ID,
            STEP,
            format!(
                "no refresh_token in the token response (scopes asked: {asked}; {granted}): the app's background sync cannot refresh, so permissions never update and access never ends with the IdP's"
            ),
            Some(fixes.no_refresh_token(wants_offline)),
        );
        return (first, Some(RefreshRule::Never));
    }
    // The provider dropped offline_access: ask again as OIDC Core §11 describes. The second
    // login's own lines would repeat the first's; only what it tells about the refresh
    // token is kept.
    eprintln!(
        "preflight: the provider granted no offline_access ({granted}); logging in again with prompt=consent"
    );
    let mut again = Findings::default();
    let attempt = Attempt {
        prompt: Some("consent"),
        pkce,
    };
    let consented = login(client, plan, d, listener, attempt, fixes, &mut again)
        .await
        .ok();
    match consented {
        Some(t) if t.refresh_token.is_some() => {
            f.problem(
                ID,
                STEP,
                format!(
                    "without prompt=consent the provider dropped offline_access ({granted}) and issued no refresh token; logged in again with prompt=consent it {} and a refresh token (OIDC Core §11): the app gets refresh tokens only if its login sends prompt=consent. The checks below use the consented login's tokens",
                    self::granted(&t)
                ),
                Some(format!(
                    "Send prompt=consent with the app's login (rp.toml: prompt = \"consent\"), or {}",
                    fixes.offline_without_consent()
                )),
            );
            (t, Some(RefreshRule::WithConsent))
        }
        Some(t) => {
            f.problem(
                ID,
                STEP,
                format!(
                    "no refresh_token, without prompt=consent ({granted}) or with it ({}): the app's background sync cannot refresh, so permissions never update and access never ends with the IdP's",
                    self::granted(&t)
                ),
                Some(fixes.no_refresh_token(wants_offline)),
            );
            (first, Some(RefreshRule::Never))
        }
        None => {
            let why = again
                .checks
                .iter()
                .find(|c| c.status == Status::Problem)
                .map(|c| c.detail.clone())
                .unwrap_or_else(|| "it did not finish".to_owned());
            f.problem(
                ID,
                STEP,
                format!(
                    "no refresh_token: the provider dropped offline_access ({granted}), and the login again with prompt=consent, which may be what it needs (OIDC Core §11), failed: {why}"
                ),
                Some(fixes.no_refresh_token(wants_offline)),
            );
            (first, None)
        }
    }
}

/// The granted scope, in words for a finding.
fn granted(t: &Tokens) -> String {
    match t.granted_scope() {
        Some(s) => format!("granted: {s}"),
        None => "the token response names no scope, so the one asked was granted (RFC 6749 §5.1)"
            .to_owned(),
    }
}
