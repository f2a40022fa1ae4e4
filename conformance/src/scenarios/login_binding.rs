//! `login`, a login bound to its browser: PKCE, state, the login CSRF a missing binding allows.

use mock_idp::faults::Fault;
use url::Url;

use super::support::{login_ok, refused_login, status};
use crate::scenario::Ctx;
use crate::verdict::{Judged, Verdict};

pub(super) async fn pkce(cx: &Ctx) -> Judged {
    let u = cx.user("u", &[]).await?;
    let (_, login, _) = login_ok(cx, &u).await?;
    let asked = cx.authorization_request(&login).await?.params;
    let method = asked.get("code_challenge").map(|_| {
        asked
            .get("code_challenge_method")
            .cloned()
            .unwrap_or_else(|| "plain".into())
    });
    let journal = cx.journal(&u).await?;
    if let Some(e) = journal
        .iter()
        .find(|e| e.endpoint == "token" && e.grant_type.as_deref() == Some("authorization_code"))
    {
        cx.cite(e);
    }
    Ok(match method.as_deref() {
        Some("S256") => Verdict::pass("PKCE with S256"),
        Some(m) => Verdict::warn(format!("PKCE with {m}; use S256 (RFC 7636 §4.2)")),
        None => {
            Verdict::warn("no PKCE: RFC 9700 §2.1.1 recommends it for confidential clients too")
        }
    })
}

pub(super) async fn state_mismatch(cx: &Ctx) -> Judged {
    let what = "a callback with another state";
    let v = refused_login(cx, what, &[Fault::StateAltered], None).await?;
    if v.outcome != crate::verdict::Outcome::Fail {
        return Ok(v);
    }
    login_csrf(cx, what, true, &v).await
}

/// What the state check is for (RFC 9700 §4.7, login CSRF), tried on an RP that took a bad
/// state for its own login (`accepted`): the attacker logs in as themself in a browser of
/// their own and keeps the authorization response; the victim's browser starts a login at
/// the RP, and what comes back to it is the attacker's response (their code, and their
/// state when `with_state`). Logged in as the attacker: a fail. Refused: the RP ties the
/// login to the browser by PKCE or nonce instead, which RFC 9700 §4.7.1 accepts as CSRF
/// protection (a provider supporting PKCE, an OpenID Connect nonce): a warn, with which.
pub(super) async fn login_csrf(
    cx: &Ctx,
    what: &str,
    with_state: bool,
    accepted: &Verdict,
) -> Judged {
    cx.step(format!(
        "{}; so the attack itself: an attacker's authorization response delivered to a victim's browser mid-login",
        accepted.reason
    ));
    let attacker = cx.user("attacker", &[]).await?;
    let victim = cx.user("victim", &[]).await?;
    let intercepted = cx.browser().intercept(&attacker.username).await?;
    if !intercepted.response.contains_key("code") {
        return Ok(Verdict::error(
            "the attacker's login produced no authorization code to deliver",
        ));
    }
    let response = intercepted.response.clone();
    let swap = move |u: &mut Url| {
        let pairs: Vec<(String, String)> = response
            .iter()
            .filter(|(k, _)| with_state || *k != "state")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        u.query_pairs_mut().clear().extend_pairs(pairs);
    };
    let vb = cx.browser();
    let login = vb.login_changed(&victim.username, &swap).await?;
    let me = cx.me(&vb).await?;
    if me.logged_in() {
        return Ok(Verdict::fail(format!(
            "login CSRF: an attacker's authorization response delivered to a victim's browser mid-login logged that browser in as {} (/me 200), the attacker: the RP checks no state and ties the login to the browser by neither PKCE nor nonce (RFC 9700 §4.7); {what} was accepted too",
            me.who()
        )));
    }
    // Why it was refused: the IdP refused the code's exchange (the victim's PKCE verifier is
    // not the attacker's), or the RP refused the ID token it got (the attacker's nonce).
    let journal = cx.journal(&attacker).await?;
    let exchanges: Vec<_> = journal
        .iter()
        .filter(|e| e.endpoint == "token" && e.grant_type.as_deref() == Some("authorization_code"))
        .collect();
    let by = match exchanges.iter().find(|e| !e.ok()) {
        Some(e) => {
            cx.cite(e);
            format!(
                "the IdP refused the exchange of the attacker's code ({}: {}): its PKCE verifier is the victim's",
                e.error.as_deref().unwrap_or("?"),
                e.error_description.as_deref().unwrap_or("no description")
            )
        }
        None if exchanges.is_empty() => format!(
            "the RP did not redeem the attacker's code (callback {})",
            status(login.callback_status)
        ),
        None => format!(
            "the RP redeemed the attacker's code and refused what it got (callback {}): its nonce check (the ID token carries the attacker's nonce)",
            status(login.callback_status)
        ),
    };
    Ok(Verdict::warn(format!(
        "{}; but an attacker's authorization response delivered to a victim's browser mid-login was refused: {by}. The RP relies on PKCE or nonce against CSRF, which RFC 9700 §4.7.1 allows where the provider supports PKCE; a state check is the protection that holds with any provider",
        accepted.reason
    )))
}

pub(super) fn drop_state(url: &mut Url) {
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != "state")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    url.query_pairs_mut().clear().extend_pairs(kept);
}

pub(super) async fn state_missing(cx: &Ctx) -> Judged {
    cx.step("the browser drops state from the authorization response");
    let what = "a callback without state";
    let v = refused_login(cx, what, &[], Some(drop_state)).await?;
    if v.outcome != crate::verdict::Outcome::Fail {
        return Ok(v);
    }
    login_csrf(cx, what, false, &v).await
}
