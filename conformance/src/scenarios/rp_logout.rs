//! `logout.rp-initiated`: an RP whose logout is RP-initiated (OpenID Connect RP-Initiated
//! Logout 1.0) ends the IdP session too. Its `logout` sends the browser to the IdP's
//! `end_session_endpoint` with `id_token_hint` (RECOMMENDED, §2) and its registered
//! `post_logout_redirect_uri`; the IdP ends its session and sends the browser back; the
//! RP's own session is over. An RP that ends only its own session leaves the IdP session
//! open, and the next login at the RP is silent: on a shared computer, the next person is
//! signed in as the last.

use url::Url;

use super::support::{login_ok, scenario};
use crate::browser::{RpLogout, Tamper};
use crate::scenario::{Ctx, Scenario};
use crate::verdict::DOES_NOT_APPLY;
use crate::verdict::{Judged, Stop, Verdict};

pub fn all() -> Vec<Scenario> {
    vec![
        scenario!(
            "logout.rp-initiated",
            Logout,
            "an RP whose logout is RP-initiated sends the browser to the IdP's end_session_endpoint with id_token_hint (RECOMMENDED) and its registered post_logout_redirect_uri; the IdP session ends, the browser comes back, and the RP's session is over (RP-Initiated Logout 1.0 §2, §3)",
            "the RP's logout ends its own session and the IdP's, through end_session with id_token_hint and the registered post_logout_redirect_uri",
            rp_initiated
        ),
        scenario!(
            "logout.rp-initiated-other-state",
            Logout,
            "an RP that sends state with its logout request checks the state passed back to its post_logout_redirect_uri, and refuses (4xx) a return with another one: it is not the end of a logout it started (RP-Initiated Logout 1.0 §2, §3; OIDF oidcc-client-test-rp-init-logout-other-state)",
            "a return to the post-logout page with another state than the logout sent is refused (accepted is a warn: the check is the RP's to make)",
            other_state
        ),
    ]
}

async fn rp_initiated(cx: &Ctx) -> Judged {
    let rp = &cx.shared.rp;
    let Some(back) = rp.paths.post_logout_redirect.clone() else {
        return Ok(Verdict::skip(format!(
            "{DOES_NOT_APPLY} the RP declares no post-logout redirect (rp.toml [paths] post_logout_redirect): its logout is not RP-initiated"
        )));
    };
    let u = cx.user("u", &[]).await?;
    // A logout token would end the RP's session too: here only its own logout may.
    cx.no_logout_token(&u, "(logout.backchannel* judges that)")
        .await?;
    let (b, _, _) = login_ok(cx, &u).await?;
    let mark = cx.mark(&u).await?;
    let end = b.end_session_url().await.map_err(Stop::Harness)?;
    cx.step(format!(
        "{} logs out at the RP ({})",
        u.username, rp.paths.logout
    ));
    let out = b.rp_logout(&rp.paths.logout, &end, None).await?;
    let me = cx.me(&b).await?;
    let ended: Vec<_> = cx
        .journal(&u)
        .await?
        .into_iter()
        .filter(|e| e.seq > mark && e.endpoint == "end_session")
        .collect();
    for e in &ended {
        cx.cite(e);
    }
    let Some(sent) = out.end_session else {
        return Ok(Verdict::fail(format!(
            "the RP's logout ({} answered {}) never sent the browser to the IdP's end_session_endpoint, although rp.toml declares it RP-initiated (paths.post_logout_redirect): the IdP session stays open, and the next login at the RP is silent{}",
            rp.paths.logout,
            out.first_status,
            if me.logged_in() {
                "; the RP's own session stays open too (/me 200)"
            } else {
                ""
            }
        )));
    };
    if let Some(status) = out.idp_status.filter(|s| *s >= 400) {
        let why = out
            .idp_error
            .clone()
            .unwrap_or_else(|| "its page gave no reason".into());
        return Ok(Verdict::fail(format!(
            "the IdP refused the RP's end-session request ({status}: {why}): the IdP session stays open"
        )));
    }
    // The journal names the user of an end_session request only when it ended their
    // session.
    if ended.is_empty() {
        return Ok(Verdict::error(
            "the end-session request reached the IdP without the user's IdP session (its cookie), so the IdP ended none: cannot judge the logout",
        ));
    }
    if me.logged_in() {
        return Ok(Verdict::fail(format!(
            "the IdP session ended, but the RP's own session stays open: /me answered 200 for {} after the logout",
            me.who()
        )));
    }
    let target = sent.get("post_logout_redirect_uri");
    let Some(target) = target else {
        return Ok(Verdict::warn(
            "ended both sessions, but sent no post_logout_redirect_uri: the user is left on the IdP's signed-out page instead of coming back (RP-Initiated Logout 1.0 §3)",
        ));
    };
    let expected = format!("{}{back}", cx.shared.sites.rp);
    if *target != expected {
        return Ok(Verdict::warn(format!(
            "ended both sessions, but sent post_logout_redirect_uri {target:?}, not the declared {expected:?}"
        )));
    }
    let Some((landed, status)) = out.returned else {
        return Err(Stop::Harness(
            "the IdP accepted the post_logout_redirect_uri but the browser never came back to the RP"
                .into(),
        ));
    };
    if status >= 400 {
        return Ok(Verdict::warn(format!(
            "ended both sessions, but the RP answered {status} at its post-logout page {} when the browser came back from the IdP as sent",
            landed.path()
        )));
    }
    if !sent.contains_key("id_token_hint") {
        return Ok(Verdict::warn(format!(
            "ended both sessions and came back to {back} ({status}), but sent no id_token_hint, which RP-Initiated Logout 1.0 §2 recommends: without it the provider cannot tell whose session the request ends (many ask the user to confirm, or refuse the post_logout_redirect_uri)"
        )));
    }
    let state = match sent.get("state") {
        Some(s) if landed.query_pairs().any(|(k, v)| k == "state" && v == *s) => {
            ", and state (echoed back)"
        }
        Some(_) => ", and state",
        None => "",
    };
    Ok(Verdict::pass(format!(
        "the RP's logout sent the browser to the IdP's end_session with id_token_hint, its registered post_logout_redirect_uri{state}; the IdP ended the session, the browser came back to {back} ({status}), and /me answers {}",
        me.status
    )))
}

/// A new user logs in and out at the RP, the way back after `tamper`.
async fn log_out(cx: &Ctx, tag: &str, tamper: Option<Tamper>) -> Result<RpLogout, Stop> {
    let rp = &cx.shared.rp;
    let u = cx.user(tag, &[]).await?;
    cx.no_logout_token(&u, "(logout.backchannel* judges that)")
        .await?;
    let (b, _, _) = login_ok(cx, &u).await?;
    let end = b.end_session_url().await.map_err(Stop::Harness)?;
    cx.step(format!(
        "{} logs out at the RP ({})",
        u.username, rp.paths.logout
    ));
    Ok(b.rp_logout(&rp.paths.logout, &end, tamper).await?)
}

/// Another state than the one that came back: the same characters reversed (the same
/// length and alphabet, as another logout's state would be).
fn alter_state(url: &mut Url) {
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "state" {
                let r: String = v.chars().rev().collect();
                if r == v { format!("{v}0") } else { r }
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    url.query_pairs_mut().clear().extend_pairs(pairs);
}

/// OIDF's -rp-init-logout-other-state: the browser comes back to the post-logout page
/// with another state; the control comes back with the state unchanged.
async fn other_state(cx: &Ctx) -> Judged {
    let rp = &cx.shared.rp;
    let Some(back) = rp.paths.post_logout_redirect.clone() else {
        return Ok(Verdict::skip(format!(
            "{DOES_NOT_APPLY} the RP declares no post-logout redirect (rp.toml [paths] post_logout_redirect): its logout is not RP-initiated"
        )));
    };
    cx.step("the browser comes back to the RP with another state than the IdP passed back");
    let out = log_out(cx, "u", Some(alter_state)).await?;
    let Some(sent) = out.end_session else {
        return Ok(Verdict::error(
            "the RP's logout never sent the browser to the IdP's end_session_endpoint (logout.rp-initiated judges this): no state came back to alter",
        ));
    };
    if !sent.contains_key("state") {
        return Ok(Verdict::skip(format!(
            "{DOES_NOT_APPLY} the RP's logout request carries no state (OPTIONAL, RP-Initiated Logout 1.0 §2): none comes back to check"
        )));
    }
    let Some((landed, status)) = out.returned else {
        return Ok(Verdict::error(
            "the browser never came back to the RP after end_session (logout.rp-initiated judges this)",
        ));
    };
    cx.step("control: another user logs out, the state passed back unchanged");
    let control = log_out(cx, "c", None).await?;
    let unchanged = match control.returned {
        Some((_, s)) if s < 400 => s,
        other => {
            return Ok(Verdict::error(format!(
                "with the state unchanged, the way back {}: cannot tell a refusal from a post-logout page that always fails",
                other.map_or_else(
                    || "never reached the RP".to_owned(),
                    |(_, s)| format!("answered {s}")
                )
            )));
        }
    };
    let page = landed.path().to_owned();
    Ok(match status {
        400..=499 => Verdict::pass(format!(
            "refused a return to {page} with another state than its logout sent: {status}; with the state unchanged it answers {unchanged}"
        )),
        500.. => Verdict::warn(format!(
            "answered {status} at {page} for a return with another state than its logout sent, instead of a clear refusal (4xx)"
        )),
        _ => Verdict::warn(format!(
            "accepted a return to {back} with another state than its logout sent ({status}; {unchanged} with the state unchanged): RP-Initiated Logout 1.0 §3 passes state back for the RP to check, and an RP that does not cannot tell the end of its own logout from a forged return"
        )),
    })
}
