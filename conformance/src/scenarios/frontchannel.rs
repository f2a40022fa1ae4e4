//! `logout.frontchannel`: the IdP's signed-out page loads the RP's front-channel logout
//! URL in an iframe, with `iss` and `sid` (OpenID Connect Front-Channel Logout 1.0), and
//! the RP ends the session it names.
//!
//! The IdP and the RP are different sites in production, so that iframe is a cross-site
//! request: it carries no `SameSite=Lax` or `Strict` cookie (Chrome's default for a cookie
//! that names none), and no cookie at all where third-party cookies are blocked (Safari,
//! Firefox). The runner loads the URL the way such a browser does, without the RP's
//! cookies; only if that leaves the session open does it load it again with them.

use url::Url;

use super::logout::{Ending, end_at_idp, watch};
use super::{login_ok, scenario};
use crate::runner::DOES_NOT_APPLY;
use crate::scenario::{Ctx, Scenario};
use crate::verdict::{Judged, Stop, Verdict};

pub fn all() -> Vec<Scenario> {
    vec![scenario!(
        "logout.frontchannel",
        Logout,
        "a session ended at the IdP ends the RP's session when the IdP's page loads the RP's front-channel logout URL, found by iss and sid without the RP's own cookie (Front-Channel Logout 1.0 §2, §4)",
        "the front-channel logout request, cookie-less as a cross-site iframe is, ends the RP session it names",
        frontchannel
    )]
}

async fn frontchannel(cx: &Ctx) -> Judged {
    let Some(path) = cx.shared.rp.paths.frontchannel_logout.clone() else {
        return Ok(Verdict::skip(format!(
            "{DOES_NOT_APPLY} the RP declares no front-channel logout endpoint (rp.toml [paths] frontchannel_logout)"
        )));
    };
    let u = cx.user("u", &[]).await?;
    // Only the front channel may end the session here (logout.backchannel* judges the
    // other one).
    cx.no_logout_token(
        &u,
        "(logout.backchannel* judges that): only the front channel can end the session",
    )
    .await?;
    let (b, _, _) = login_ok(cx, &u).await?;
    let mark = cx.mark(&u).await?;
    let page = end_at_idp(cx, &b, &u).await?;
    let ours = format!("{}{path}", cx.shared.sites.rp);
    let Some(frame) = page
        .iframe_srcs()
        .into_iter()
        .find(|s| s.starts_with(&ours))
    else {
        return Err(Stop::Harness(format!(
            "the IdP's signed-out page loads no iframe of {ours}"
        )));
    };
    let frame = Url::parse(&frame).map_err(|e| Stop::Harness(format!("{frame}: {e}")))?;
    cx.step(format!(
        "the IdP's signed-out page loads {} in an iframe",
        frame.path()
    ));
    let cross_site = cx.browser();
    let status = cross_site.get_absolute(&frame).await?;
    cx.step(format!(
        "loaded it without the RP's cookies, as a cross-site iframe is: {status}"
    ));
    let deadline = cx.shared.deadline();
    if let Ending::Ended { after, refused, .. } = watch(cx, &b, &u, mark, deadline).await? {
        if let Some(r) = refused {
            cx.cite(&r);
            return Ok(Verdict::error(
                "the IdP refused one of the RP's refreshes before the session ended, so what ended it cannot be told",
            ));
        }
        cx.latency("front-channel logout", &[after]);
        return Ok(Verdict::pass(format!(
            "the RP ended the session named by iss and sid on the front-channel request, without its own cookie (it answered {status})"
        )));
    }
    let status_with = b.get_absolute(&frame).await?;
    cx.step(format!(
        "loaded it again with the RP's cookies, as a same-site page would: {status_with}"
    ));
    Ok(match watch(cx, &b, &u, mark, deadline).await? {
        Ending::Ended { .. } => Verdict::warn(format!(
            "the RP ended the session only when its own cookie came with the front-channel request ({status} without it, {status_with} with it): from the IdP's page that request is a cross-site iframe, which gets no SameSite=Lax cookie (Chrome's default) and no cookie at all where third-party cookies are blocked, so the user stays signed in; iss and sid name the session (§2, §4)"
        )),
        Ending::Kept(me) => Verdict::fail(format!(
            "the session stayed open after the front-channel logout request, with and without the RP's cookies ({status} and {status_with}; /me {})",
            me.status
        )),
    })
}
