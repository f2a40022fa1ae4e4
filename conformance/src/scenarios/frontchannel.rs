//! `logout.frontchannel`: the IdP's signed-out page loads the RP's front-channel logout
//! URL in an iframe, with `iss` and `sid` (OpenID Connect Front-Channel Logout 1.0), and
//! the RP ends the session it names.
//!
//! The IdP and the RP are different sites in production, so that iframe is a cross-site
//! request: it carries no `SameSite=Lax` or `Strict` cookie (Chrome's default for a cookie
//! that names none), and no cookie at all where third-party cookies are blocked (Safari,
//! Firefox). The runner loads the URL the way such a browser does, without the RP's
//! cookies; only if that leaves the session open does it load it again with them.

use std::time::Duration;

use url::Url;

use super::logout_delivery::{Ending, end_at_idp, watch};
use super::support::{login_ok, scenario};
use crate::idp::TestUser;
use crate::scenario::{Ctx, Scenario};
use crate::verdict::DOES_NOT_APPLY;
use crate::verdict::{Judged, Stop, Verdict};

pub fn all() -> Vec<Scenario> {
    vec![scenario!(
        "logout.frontchannel",
        Logout,
        "a session ended at the IdP ends the RP's session when the IdP's page loads the RP's front-channel logout URL, found by iss and sid without the RP's own cookie; other sessions, and a request naming another issuer, end nothing (Front-Channel Logout 1.0 §2, §4)",
        "the front-channel logout request, cookie-less as a cross-site iframe is, ends the RP session it names and no other",
        frontchannel
    )]
}

async fn frontchannel(cx: &Ctx) -> Judged {
    let Some(path) = cx.shared.rp.paths.frontchannel_logout.clone() else {
        return Ok(Verdict::skip(format!(
            "{DOES_NOT_APPLY} the RP declares no front-channel logout endpoint (rp.toml [paths] frontchannel_logout)"
        )));
    };
    let ours = format!("{}{path}", cx.shared.sites.rp);
    // Only the front channel may end these sessions (logout.backchannel* judges the other).
    let why = "(logout.backchannel* judges that): only the front channel can end the session";
    let u = cx.user("u", &[]).await?;
    cx.no_logout_token(&u, why).await?;
    let (b, _, _) = login_ok(cx, &u).await?;
    // What must stay: the same user's session of another IdP session (another sid),
    // another user's session, and the session a request naming another issuer names.
    let (b2, _, _) = login_ok(cx, &u).await?;
    let o = cx.user("other", &[]).await?;
    let (bo, _, _) = login_ok(cx, &o).await?;
    let w = cx.user("wrong-iss", &[]).await?;
    cx.no_logout_token(&w, why).await?;
    let (bw, _, _) = login_ok(cx, &w).await?;
    cx.step(format!(
        "{} is logged in twice (browsers 1 and 2, two IdP sessions); {} and {} once each",
        u.username, o.username, w.username
    ));
    let wmark = cx.mark(&w).await?;
    let wframe = frame(cx, &bw, &w, &ours).await?;
    let mut forged = wframe.clone();
    let pairs: Vec<(String, String)> = wframe
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "iss" {
                format!("{v}-elsewhere")
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    forged.query_pairs_mut().clear().extend_pairs(pairs);
    let forged_status = cx.browser().get_absolute(&forged).await?;
    cx.step(format!(
        "loaded {}'s front-channel URL with another iss ({}-elsewhere), cookie-less: {forged_status}",
        w.username,
        wframe
            .query_pairs()
            .find(|(k, _)| k == "iss")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    ));
    let mark = cx.mark(&u).await?;
    let f = frame(cx, &b, &u, &ours).await?;
    let cross_site = cx.browser();
    let status = cross_site.get_absolute(&f).await?;
    cx.step(format!(
        "loaded it without the RP's cookies, as a cross-site iframe is: {status}"
    ));
    let deadline = cx.shared.deadline();
    let others = Others {
        b2: &b2,
        bo: &bo,
        bw: &bw,
        u: &u,
        o: &o,
        w: &w,
        wmark,
    };
    if let Ending::Ended { after, refused } = watch(cx, &b, &u, mark, deadline).await? {
        if let Some(r) = refused {
            cx.cite(&r);
            return Ok(Verdict::error(format!(
                "the session ended after {}, so what ended it cannot be told",
                r.told()
            )));
        }
        cx.latency("front-channel logout", &[after]);
        if let Some(v) = others.judge(cx, after).await? {
            return Ok(v);
        }
        return Ok(Verdict::pass(format!(
            "the RP ended the session named by iss and sid on the front-channel request, without its own cookie (it answered {status}); the user's other IdP session, another user's session, and the session named by a request with another iss all stayed"
        )));
    }
    let status_with = b.get_absolute(&f).await?;
    cx.step(format!(
        "loaded it again with the RP's cookies, as a same-site page would: {status_with}"
    ));
    Ok(match watch(cx, &b, &u, mark, deadline).await? {
        Ending::Ended { after, .. } => {
            if let Some(v) = others.judge(cx, after).await? {
                return Ok(v);
            }
            Verdict::warn(format!(
                "the RP ended the session only when its own cookie came with the front-channel request ({status} without it, {status_with} with it): from the IdP's page that request is a cross-site iframe, which gets no SameSite=Lax cookie (Chrome's default) and no cookie at all where third-party cookies are blocked, so the user stays signed in; iss and sid name the session (§2, §4)"
            ))
        }
        Ending::Kept(me) => Verdict::fail(format!(
            "the session stayed open after the front-channel logout request, with and without the RP's cookies ({status} and {status_with}; /me {})",
            me.status
        )),
    })
}

/// Signs `u` out at the IdP in `b`; the front-channel logout URL of the RP (starting with
/// `ours`) that the IdP's signed-out page loads in an iframe.
async fn frame(
    cx: &Ctx,
    b: &crate::browser::Browser,
    u: &TestUser,
    ours: &str,
) -> Result<Url, Stop> {
    let page = end_at_idp(cx, b, u).await?;
    let Some(frame) = page.iframe_srcs().into_iter().find(|s| s.starts_with(ours)) else {
        return Err(Stop::Harness(format!(
            "the IdP's signed-out page loads no iframe of {ours}"
        )));
    };
    let frame = Url::parse(&frame).map_err(|e| Stop::Harness(format!("{frame}: {e}")))?;
    cx.step(format!(
        "the IdP's signed-out page loads {} in an iframe",
        frame.path()
    ));
    Ok(frame)
}

/// The sessions a front-channel request for one session must leave alone.
struct Others<'a> {
    b2: &'a crate::browser::Browser,
    bo: &'a crate::browser::Browser,
    bw: &'a crate::browser::Browser,
    u: &'a TestUser,
    o: &'a TestUser,
    w: &'a TestUser,
    wmark: u64,
}

impl Others<'_> {
    /// Each must still be open, watched twice as long as the named one took to end (and a
    /// reading at least): `None` when all are, else the verdict.
    async fn judge(&self, cx: &Ctx, took: Duration) -> Result<Option<Verdict>, Stop> {
        let window = (took * 2).max(Duration::from_millis(200));
        if let Ending::Ended { .. } = watch(cx, self.bw, self.w, self.wmark, window).await? {
            return Ok(Some(Verdict::fail(format!(
                "a front-channel logout request naming another issuer (iss) ended {}'s session: the RP does not check iss, so any site can log its users out (§4)",
                self.w.username
            ))));
        }
        let omark = cx.mark(self.o).await?;
        if let Ending::Ended { .. } = watch(cx, self.bo, self.o, omark, window).await? {
            return Ok(Some(Verdict::fail(format!(
                "the front-channel logout request for one session also ended {}'s, another user's: the RP does not find the session by iss and sid (§2, §4)",
                self.o.username
            ))));
        }
        let umark = cx.mark(self.u).await?;
        if let Ending::Ended { .. } = watch(cx, self.b2, self.u, umark, window).await? {
            return Ok(Some(Verdict::warn(format!(
                "the front-channel logout request named one IdP session (sid) and the RP ended {}'s other session too, whose IdP session is still open: it logs the user out everywhere (§2: sid identifies the session)",
                self.u.username
            ))));
        }
        cx.step("the user's other IdP session, the other user's session and the wrongly-issued request's session are all still open");
        Ok(None)
    }
}
