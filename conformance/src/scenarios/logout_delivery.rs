//! `logout`, what back-channel scenarios share: the RP's declared endpoint, signing out at the IdP, the logout token's delivery and what the RP's sessions did after it.

use std::time::{Duration, Instant};

use mock_idp::BACKCHANNEL_DELIVERY_TIMEOUT as DELIVERY_TIMEOUT;

use crate::browser::{Browser, Page};
use crate::idp::{JournalEntry, TestUser};
use crate::scenario::Ctx;
use crate::verdict::DOES_NOT_APPLY;
use crate::verdict::{MeReading, Stop, Verdict};

/// The RP's back-channel logout path, or the skip saying it declares none.
pub(super) fn declared(cx: &Ctx) -> Result<(), Stop> {
    match &cx.shared.rp.paths.backchannel_logout {
        Some(_) => Ok(()),
        None => Err(Stop::with(Verdict::skip(format!(
            "{DOES_NOT_APPLY} the RP declares no back-channel logout endpoint (rp.toml [paths] backchannel_logout)"
        )))),
    }
}

/// Signs `u` out at the IdP in browser `b`; the IdP's signed-out page.
pub(super) async fn end_at_idp(cx: &Ctx, b: &Browser, u: &TestUser) -> Result<Page, Stop> {
    cx.step(format!(
        "{} signs out at the IdP (its end_session endpoint)",
        u.username
    ));
    let page = b.end_idp_session().await?;
    if page.status >= 400 {
        return Err(Stop::with(Verdict::error(format!(
            "the IdP's end_session answered {}: the IdP session did not end",
            page.status
        ))));
    }
    Ok(page)
}

/// The IdP's delivery of a logout token about `u` after `mark`, once journaled: the IdP
/// records it when the RP answers, or when its own delivery timeout passes. Polled
/// closely: what `/me` shows right after the answer is evidence.
pub(super) async fn delivery(cx: &Ctx, u: &TestUser, mark: u64) -> Result<JournalEntry, Stop> {
    let limit = DELIVERY_TIMEOUT + Duration::from_secs(5);
    let start = Instant::now();
    let wait = Duration::from_millis(10);
    loop {
        let found = cx
            .journal(u)
            .await?
            .into_iter()
            .find(|e| e.seq > mark && e.endpoint == "backchannel_logout");
        if let Some(e) = found {
            cx.cite(&e);
            return Ok(e);
        }
        if start.elapsed() >= limit {
            return Err(Stop::with(Verdict::error(format!(
                "the IdP journaled no logout-token delivery for {} within {:.0} s",
                u.username,
                limit.as_secs_f64()
            ))));
        }
        tokio::time::sleep(wait).await;
    }
}

/// The RP's answer to a delivery: its status, or why there was none.
pub(super) fn answer(e: &JournalEntry) -> Result<u16, String> {
    match &e.error {
        Some(why) => Err(why.clone()),
        None => Ok(e.status),
    }
}

/// What became of a session after a logout token.
pub(super) enum Ending {
    /// It ended this long after the delivery was journaled. `refused`: a call of the RP's
    /// about the user by which the IdP could have told it the access ended (a refused
    /// refresh, userinfo answering 401, an introspection), which may have ended it instead.
    Ended {
        after: Duration,
        refused: Option<Box<JournalEntry>>,
    },
    /// It was still open after the limit.
    Kept(MeReading),
}

/// Polls `/me` in `b` until the session ends or `limit` passes (at least one reading).
/// The journal is read *after* the reading that shows the end: a refusal it lists may have
/// ended the session; one it does not list cannot have.
pub(super) async fn watch(
    cx: &Ctx,
    b: &Browser,
    u: &TestUser,
    mark: u64,
    limit: Duration,
) -> Result<Ending, Stop> {
    let start = Instant::now();
    let mut wait = Duration::from_millis(20);
    loop {
        let r = cx.peek(b).await?;
        if !r.logged_in() {
            let after = start.elapsed();
            let refused = cx.told_of_end(u, mark).await?.into_iter().next();
            cx.me(b).await?;
            return Ok(Ending::Ended {
                after,
                refused: refused.map(Box::new),
            });
        }
        if start.elapsed() >= limit {
            return Ok(Ending::Kept(cx.me(b).await?));
        }
        tokio::time::sleep(wait.min(limit.saturating_sub(start.elapsed()))).await;
        wait = (wait * 3 / 2).min(Duration::from_millis(250));
    }
}

/// The measurement: how long after the IdP journaled the delivery the session was over.
pub(super) const SESSION_OVER: &str = "session over after the delivery";
/// The same, for the control of a broken token.
pub(super) const CONTROL_OVER: &str = "control's session over after the delivery";

/// `85 ms`, `2.40 s`.
pub(super) fn secs(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.2} s", d.as_secs_f64())
    }
}

/// A valid logout token's delivery: `Ok(status)` when the RP answered 2xx, else the
/// failing verdict.
pub(super) fn accepted(e: &JournalEntry) -> Result<u16, Verdict> {
    match answer(e) {
        Ok(s) if (200..300).contains(&s) => Ok(s),
        Ok(s) => Err(Verdict::fail(format!(
            "the RP answered {s} to a valid logout token (§2.8: 200 once the session is logged out)"
        ))),
        Err(why) => Err(Verdict::fail(format!(
            "the IdP could not deliver the logout token to the RP's declared back-channel endpoint: {why}"
        ))),
    }
}
