//! `logout`: the IdP tells the RP that a session ended (OpenID Connect Back-Channel Logout
//! 1.0), and the RP ends its own session — for a valid logout token, and only then.
//!
//! The IdP session is ended the way a user ends it: in the browser, at the IdP's
//! `end_session_endpoint`. The run's tenant keeps refresh tokens alive past it (offline
//! access), so the RP's session can end only through the logout token.

use std::time::{Duration, Instant};

use mock_idp::faults::Fault;

use super::logout_delivery::{
    CONTROL_OVER, Ending, SESSION_OVER, accepted, answer, declared, delivery, end_at_idp, secs,
    watch,
};
use super::support::{login_ok, scenario};
use crate::idp::{TestUser, kind};
use crate::scenario::{Ctx, Phase, Scenario};
use crate::verdict::{Judged, Stop, Verdict};

pub fn all() -> Vec<Scenario> {
    vec![
        scenario!(
            "logout.backchannel",
            Logout,
            "a session ended at the IdP ends the RP's session when the logout token arrives, and the RP answers 200 (Back-Channel Logout 1.0 §2.6–2.8; OIDF oidcc-client-test-rp-backchannel-rpinitlogout)",
            "a valid logout token ends the RP session it names, and the RP answers 200",
            backchannel
        ),
        scenario!(
            "logout.backchannel-session-only",
            Logout,
            "a logout token naming a session (sid) ends that session; the same user's sessions of other IdP sessions stay (Back-Channel Logout 1.0 §2.7)",
            "a logout token naming one session ends it, not the user's other sessions",
            session_only
        ),
        scenario!(
            "logout.backchannel-deleted-user",
            Logout,
            "a user deleted at the IdP loses access when the logout token arrives, before the RP's next refresh",
            "a user deleted at the IdP loses access through the logout token, before any refresh",
            deleted_user,
            // It holds a refresh past the RP's timeout: an RP that syncs users one after
            // another would stall everyone else's sync meanwhile.
            phase = Phase::Alone
        ),
        scenario!(
            "logout.backchannel-alg-none",
            Logout,
            "a logout token with alg none is refused with 400 and ends nothing (§2.6 step 3, §2.8; OIDF oidcc-client-test-rp-backchannel-rpinitlogout-alg-none)",
            "a logout token with alg none is refused, and the session stays",
            alg_none
        ),
        scenario!(
            "logout.backchannel-wrong-alg",
            Logout,
            "a logout token signed HS256 with the IdP's public key as the secret (algorithm confusion) is refused with 400 (§2.6 step 3, §2.8; OIDF oidcc-client-test-rp-backchannel-rpinitlogout-wrong-alg)",
            "a logout token signed HS256 with the public key is refused, and the session stays",
            wrong_alg
        ),
        scenario!(
            "logout.backchannel-bad-signature",
            Logout,
            "a logout token whose signature does not verify is refused with 400 (§2.6 step 3, §2.8)",
            "a logout token with a bad signature is refused, and the session stays",
            bad_signature
        ),
        scenario!(
            "logout.backchannel-wrong-iss",
            Logout,
            "a logout token from another issuer is refused with 400 (§2.6 step 3, §2.8; OIDF oidcc-client-test-rp-backchannel-rpinitlogout-wrong-issuer)",
            "a logout token with another iss is refused, and the session stays",
            wrong_iss
        ),
        scenario!(
            "logout.backchannel-wrong-aud",
            Logout,
            "a logout token for another client (aud) is refused with 400 (§2.6 step 3, §2.8; OIDF oidcc-client-test-rp-backchannel-rpinitlogout-wrong-aud)",
            "a logout token with another aud is refused, and the session stays",
            wrong_aud
        ),
        scenario!(
            "logout.backchannel-no-events",
            Logout,
            "a logout token without the events claim is refused with 400 (§2.6 step 5, §2.8; OIDF oidcc-client-test-rp-backchannel-rpinitlogout-no-event)",
            "a logout token without events is refused, and the session stays",
            no_events
        ),
        scenario!(
            "logout.backchannel-wrong-event",
            Logout,
            "a logout token whose events claim holds another event than back-channel logout is refused with 400 (§2.6 step 5, §2.8; OIDF oidcc-client-test-rp-backchannel-rpinitlogout-wrong-event)",
            "a logout token with another event is refused, and the session stays",
            wrong_event
        ),
        scenario!(
            "logout.backchannel-nonce",
            Logout,
            "a logout token with a nonce (so possibly an ID token passed off as one) is refused with 400 (§2.6 step 7, §2.8; OIDF oidcc-client-test-rp-backchannel-rpinitlogout-with-nonce)",
            "a logout token with a nonce is refused, and the session stays",
            nonce
        ),
    ]
}

async fn backchannel(cx: &Ctx) -> Judged {
    declared(cx)?;
    let u = cx.user("u", &[]).await?;
    let (b, _, _) = login_ok(cx, &u).await?;
    let mark = cx.mark(&u).await?;
    end_at_idp(cx, &b, &u).await?;
    let status = match accepted(&delivery(cx, &u, mark).await?) {
        Ok(s) => s,
        Err(v) => return Ok(v),
    };
    let deadline = cx.shared.deadline();
    Ok(match watch(cx, &b, &u, mark, deadline).await? {
        Ending::Ended {
            after,
            refused: None,
            ..
        } => {
            cx.latency("back-channel logout", &[after]);
            cx.measure(SESSION_OVER, after);
            Verdict::pass(format!(
                "the RP answered {status} to the logout token and ended the session it named"
            ))
        }
        Ending::Ended {
            refused: Some(e), ..
        } => {
            cx.cite(&e);
            Verdict::error(format!(
                "the session ended after {} (the RP may have learnt of the end there), so the logout token cannot be credited with it",
                e.told()
            ))
        }
        Ending::Kept(me) => Verdict::fail(format!(
            "the RP answered {status} to the logout token, yet its session is still open {:.0} s later (the sync deadline; /me {})",
            deadline.as_secs_f64(),
            me.status
        )),
    })
}

async fn session_only(cx: &Ctx) -> Judged {
    declared(cx)?;
    let u = cx.user("u", &[]).await?;
    let (b1, _, _) = login_ok(cx, &u).await?;
    let (b2, _, _) = login_ok(cx, &u).await?;
    cx.step(format!(
        "{} is logged in twice: browsers 1 and 2, each with its own IdP session",
        u.username
    ));
    let mark = cx.mark(&u).await?;
    end_at_idp(cx, &b1, &u).await?;
    let d = delivery(cx, &u, mark).await?;
    let cannot = |why: String| {
        Ok(Verdict::error(format!(
            "cannot judge: {why} (logout.backchannel judges a valid logout token)"
        )))
    };
    if let Err(v) = accepted(&d) {
        return cannot(v.reason);
    }
    let took = match watch(cx, &b1, &u, mark, cx.shared.deadline()).await? {
        Ending::Ended {
            after,
            refused: None,
            ..
        } => after,
        Ending::Ended { .. } => {
            return cannot("browser 1's session ended after a refused refresh".into());
        }
        Ending::Kept(_) => {
            return cannot("the logout token did not end the session it named".into());
        }
    };
    // The other session had as long as the named one took to end, and one reading more.
    let other = match watch(cx, &b2, &u, mark, took).await? {
        Ending::Kept(me) => me,
        Ending::Ended { .. } => {
            return Ok(Verdict::warn(
                "the logout token named one session (sid) and the RP ended the user's session in the other browser too, whose IdP session is still open: it logs the user out everywhere (§2.7: the sid identifies the session to end)",
            ));
        }
    };
    cx.measure(SESSION_OVER, took);
    Ok(Verdict::pass(format!(
        "the logout token ended the session it named; the other browser's stays (/me {})",
        other.status
    )))
}

/// `logout.backchannel-deleted-user`, under the patience of `logout.backchannel`: the
/// session must be over within the sync deadline of the delivery. The user's refreshes are
/// held past the RP's own timeout, so no refusal can reach the RP; a session over before
/// that timeout could run was ended by the logout token. One over later may have been
/// ended by a timed-out refresh instead, which only an RP that takes a timeout for a
/// revocation does: a control (another user's refreshes held, nothing else) tells which.
async fn deleted_user(cx: &Ctx) -> Judged {
    declared(cx)?;
    let u = cx.user("u", &[]).await?;
    let (b, _, _) = login_ok(cx, &u).await?;
    let timeout = Duration::from_secs_f64(cx.shared.rp.idp_timeout_s);
    let held = Instant::now();
    let id = hold_refreshes(cx, &u).await?;
    let mark = cx.mark(&u).await?;
    cx.shared.admin.delete_user(&u.username).await?;
    cx.step(format!("deleted {} at the IdP", u.username));
    let delivered = delivery(cx, &u, mark).await;
    let status = match delivered.map(|e| accepted(&e)) {
        Ok(Ok(s)) => s,
        Ok(Err(v)) => {
            cx.disarm(id).await?;
            return Ok(v);
        }
        Err(stop) => {
            cx.disarm(id).await?;
            return Err(stop);
        }
    };
    let deadline = cx.shared.deadline();
    let watched_from = held.elapsed();
    let ending = watch(cx, &b, &u, mark, deadline).await;
    cx.disarm(id).await?;
    let after = match ending? {
        Ending::Ended { after, .. } => after,
        Ending::Kept(me) => {
            return Ok(Verdict::fail(format!(
                "the RP answered {status} to the logout token, yet the deleted user's session is still open {:.0} s later (the sync deadline; /me {})",
                deadline.as_secs_f64(),
                me.status
            )));
        }
    };
    cx.latency("back-channel logout of a deleted user", &[after]);
    cx.measure(SESSION_OVER, after);
    if watched_from + after < timeout {
        return Ok(Verdict::pass(format!(
            "the RP answered {status} to the logout token and ended the deleted user's session, before any refresh could have told it"
        )));
    }
    cx.step(format!(
        "the session was over {} after the delivery, {:.1} s after the hold began: the RP's {:.1} s timeout could have run on a held refresh by then",
        secs(after),
        (watched_from + after).as_secs_f64(),
        timeout.as_secs_f64()
    ));
    timeout_control(cx).await?;
    Ok(Verdict::pass(format!(
        "the RP answered {status} to the logout token and ended the deleted user's session {} after the delivery, within the sync deadline; a session whose refresh times out stays open (control), so the logout token ended it",
        secs(after)
    )))
}

/// Holds `u`'s refreshes past the RP's own timeout until cleared: no answer, and so no
/// refusal, reaches the RP; the fault's id.
async fn hold_refreshes(cx: &Ctx, u: &TestUser) -> Result<u64, Stop> {
    let timeout = Duration::from_secs_f64(cx.shared.rp.idp_timeout_s);
    let hold = timeout + Duration::from_secs(1);
    let id = cx
        .arm_refresh(
            Fault::Latency {
                ms: hold.as_millis() as u64,
            },
            u,
            None,
        )
        .await?;
    cx.step(format!(
        "the IdP holds {}'s refreshes {:.1} s, past the RP's {:.1} s timeout: no refusal can reach the RP, only the logout token",
        u.username,
        hold.as_secs_f64(),
        timeout.as_secs_f64()
    ));
    Ok(id)
}

/// The control of a session that ended once the RP's timeout could have run: another
/// user's refreshes held the same way, nothing else changed, must leave the session open
/// through a timed-out refresh. Otherwise the RP takes a timeout for a revocation
/// (sync.transient-idp-failure judges that), and what ended the deleted user's session
/// cannot be told: an `error`.
async fn timeout_control(cx: &Ctx) -> Result<(), Stop> {
    cx.step("control: another user's refreshes held the same way, nothing else changed");
    let c = cx.user("timeout-control", &[]).await?;
    let (b, _, _) = login_ok(cx, &c).await?;
    let id = hold_refreshes(cx, &c).await?;
    let mark = cx.mark(&c).await?;
    let timeout = Duration::from_secs_f64(cx.shared.rp.idp_timeout_s);
    // Its next refresh starts within a sync deadline, and times out after its timeout.
    let limit = cx.shared.deadline() + timeout + Duration::from_secs(1);
    let ending = watch(cx, &b, &c, mark, limit).await;
    cx.disarm(id).await?;
    let held = cx.refreshes(&c, mark).await?;
    let cannot = |why: String| {
        Stop::with(Verdict::error(format!(
            "the deleted user's session ended once the RP's timeout could have run on a held refresh, and {why}: whether the logout token or the timeout ended it cannot be told"
        )))
    };
    match ending? {
        Ending::Ended { after, .. } => Err(cannot(format!(
            "the control's session ended {} into its own held refresh, with no logout token: the RP takes a timed-out refresh for a revocation (sync.transient-idp-failure judges that)",
            secs(after)
        ))),
        Ending::Kept(_) if held.is_empty() => Err(cannot(format!(
            "the control's session made no refresh within {:.1} s to time out",
            limit.as_secs_f64()
        ))),
        Ending::Kept(_) => {
            cx.cite(&held[0]);
            cx.step("the control's session stayed open through a timed-out refresh");
            Ok(())
        }
    }
}

/// A forged or broken logout token (`fault`, described as `what`) must be refused with 400
/// and end nothing. The control first: a valid logout token ends another user's session,
/// and the time it takes bounds how long the forged one is given to act.
async fn forged(cx: &Ctx, fault: Fault, what: &str) -> Judged {
    declared(cx)?;
    let c = cx.user("control", &[]).await?;
    let (bc, _, _) = login_ok(cx, &c).await?;
    cx.step("control: another user's session ends at the IdP, nothing broken");
    let cmark = cx.mark(&c).await?;
    end_at_idp(cx, &bc, &c).await?;
    let control = accepted(&delivery(cx, &c, cmark).await?);
    let took = match (
        control,
        watch(cx, &bc, &c, cmark, cx.shared.deadline()).await?,
    ) {
        (
            Ok(_),
            Ending::Ended {
                after,
                refused: None,
                ..
            },
        ) => after,
        _ => {
            return Ok(Verdict::error(
                "the control failed: a valid logout token did not end its session (logout.backchannel says why), so a refusal cannot be told from an RP that ends no session",
            ));
        }
    };
    let u = cx.user("u", &[]).await?;
    let (b, _, _) = login_ok(cx, &u).await?;
    // A session no logout token names, to tell a token that ended a session from an RP
    // that ends sessions on its own (at a refresh it dislikes, on a timer).
    let k = cx.user("keeper", &[]).await?;
    let (bk, _, _) = login_ok(cx, &k).await?;
    let mark = cx.mark(&u).await?;
    let kmark = cx.mark(&k).await?;
    let id = cx.arm(fault.clone(), &u).await?;
    end_at_idp(cx, &b, &u).await?;
    let d = delivery(cx, &u, mark).await?;
    if cx.disarm(id).await? {
        return Ok(Verdict::error(format!(
            "fault {} never fired: the IdP sent no logout token",
            kind(&fault)
        )));
    }
    let ending = watch(cx, &b, &u, mark, took * 2).await?;
    if let Ending::Ended { refused: None, .. } = ending {
        // Before "accepted": a session nothing names must stay open as long as the RP's
        // sync deadline, else the RP ends sessions on its own.
        if let Ending::Ended { after, .. } = watch(cx, &bk, &k, kmark, cx.shared.deadline()).await?
        {
            return Ok(Verdict::error(format!(
                "the session ended after a logout token {what}, but so did {}'s, which no logout token named ({} into the watch): the RP ends sessions on its own (the sync scenarios judge that), so whether it accepted the token cannot be told",
                k.username,
                secs(after)
            )));
        }
        cx.step(format!(
            "{}'s session, which no logout token named, stayed open",
            k.username
        ));
    }
    let answered = answer(&d);
    Ok(match (ending, answered) {
        (
            Ending::Ended {
                refused: None,
                after,
                ..
            },
            a,
        ) => Verdict::fail(format!(
            "the RP accepted a logout token {what}: {} and the session was over {} after the IdP journaled the delivery",
            a.map_or_else(
                |e| format!("the delivery failed ({e})"),
                |s| format!("it answered {s}")
            ),
            secs(after)
        )),
        (
            Ending::Ended {
                refused: Some(e), ..
            },
            _,
        ) => {
            cx.cite(&e);
            Verdict::error(
                "the session ended after the IdP refused a refresh: whether the forged logout token ended it cannot be told",
            )
        }
        (Ending::Kept(_), Ok(400)) => {
            cx.measure(CONTROL_OVER, took);
            Verdict::pass(format!(
                "refused a logout token {what} with 400, and the session stayed twice as long as a valid token took to end the control's"
            ))
        }
        (Ending::Kept(_), Ok(s)) if (200..300).contains(&s) => Verdict::fail(format!(
            "kept the session but answered {s} to a logout token {what}: the IdP is told the logout succeeded (§2.8: 400 for a token it cannot validate)"
        )),
        (Ending::Kept(_), Ok(s)) => Verdict::warn(format!(
            "kept the session, but answered a logout token {what} with {s} instead of 400 (§2.8)"
        )),
        (Ending::Kept(_), Err(why)) => Verdict::warn(format!(
            "kept the session, but the delivery of a logout token {what} failed instead of a 400 (§2.8): {why}"
        )),
    })
}

async fn alg_none(cx: &Ctx) -> Judged {
    forged(cx, Fault::LogoutTokenAlgNone, "with alg none").await
}

async fn wrong_alg(cx: &Ctx) -> Judged {
    forged(
        cx,
        Fault::LogoutTokenHs256PublicKey,
        "signed HS256 with the public key",
    )
    .await
}

async fn bad_signature(cx: &Ctx) -> Judged {
    forged(
        cx,
        Fault::LogoutTokenBadSignature,
        "whose signature does not verify",
    )
    .await
}

async fn wrong_iss(cx: &Ctx) -> Judged {
    forged(cx, Fault::LogoutTokenWrongIss, "from another issuer").await
}

async fn wrong_aud(cx: &Ctx) -> Judged {
    forged(cx, Fault::LogoutTokenWrongAud, "for another client").await
}

async fn no_events(cx: &Ctx) -> Judged {
    forged(cx, Fault::LogoutTokenNoEvents, "without events").await
}

async fn wrong_event(cx: &Ctx) -> Judged {
    forged(cx, Fault::LogoutTokenWrongEvent, "with another event").await
}

async fn nonce(cx: &Ctx) -> Judged {
    forged(cx, Fault::LogoutTokenNonce, "with a nonce").await
}
