//! `logout.rp-initiated`: an RP whose logout is RP-initiated (OpenID Connect RP-Initiated
//! Logout 1.0) ends the IdP session too. Its `logout` sends the browser to the IdP's
//! `end_session_endpoint` with `id_token_hint` (RECOMMENDED, §2) and its registered
//! `post_logout_redirect_uri`; the IdP ends its session and sends the browser back; the
//! RP's own session is over. An RP that ends only its own session leaves the IdP session
//! open, and the next login at the RP is silent: on a shared computer, the next person is
//! signed in as the last.

use super::{login_ok, scenario};
use crate::runner::DOES_NOT_APPLY;
use crate::scenario::{Ctx, Scenario};
use crate::verdict::{Judged, Stop, Verdict};

pub fn all() -> Vec<Scenario> {
    vec![scenario!(
        "logout.rp-initiated",
        Logout,
        "an RP whose logout is RP-initiated sends the browser to the IdP's end_session_endpoint with id_token_hint (RECOMMENDED) and its registered post_logout_redirect_uri; the IdP session ends, the browser comes back, and the RP's session is over (RP-Initiated Logout 1.0 §2, §3)",
        "the RP's logout ends its own session and the IdP's, through end_session with id_token_hint and the registered post_logout_redirect_uri",
        rp_initiated
    )]
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
    let out = b.rp_logout(&rp.paths.logout, &end).await?;
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
    if status >= 500 {
        return Ok(Verdict::warn(format!(
            "ended both sessions, but the RP answered {status} at its post-logout page {}",
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
