//! `idtoken`, the signing keys: a token without `kid`, one or several keys, a rotation.

use std::time::{Duration, Instant};

use mock_idp::faults::Fault;

use super::support::{control, login_ok, login_with_faults};
use crate::browser::Login;
use crate::scenario::Ctx;
use crate::verdict::DOES_NOT_APPLY;
use crate::verdict::{Judged, Stop, Verdict};

pub(super) async fn kid_absent(cx: &Ctx) -> Judged {
    // The precondition: the JWKS the RP sees has one key. A tenant rebuilt in attach mode
    // keeps its keys, and a previous run's kid-absent-multiple-keys leaves the old one
    // published for a day: a library may then (as §10.1 allows) refuse a token without kid.
    let jwks = cx.shared.admin.jwks().await?;
    let keys: Vec<&str> = jwks["keys"]
        .as_array()
        .map(|a| a.iter().map(|k| k["kid"].as_str().unwrap_or("?")).collect())
        .unwrap_or_default();
    if keys.len() != 1
        && let Some(p) = &cx.shared.idp.profile
    {
        return Ok(Verdict::skip(format!(
            "{DOES_NOT_APPLY} profile {p} publishes {} keys, as that provider does: a token without kid and a JWKS of one key do not meet there",
            keys.len()
        )));
    }
    if keys.len() != 1 {
        return Ok(Verdict::error(format!(
            "this scenario needs a JWKS of one key, and the tenant publishes {} ({}): a token without kid may be refused when there are several (OIDC Core §10.1)",
            keys.len(),
            keys.join(", ")
        )));
    }
    cx.step(format!("the JWKS has one key, kid {}", keys[0]));
    let Some((login, me)) = accepted_login(cx, &[Fault::IdTokenNoKid], "without kid").await? else {
        return Ok(Verdict::pass(
            "accepted a validly signed ID token without kid (the JWKS has one key)",
        ));
    };
    // A refusal fails only an RP that holds that one-key JWKS: one that fetched it from
    // this run's tenant (which publishes one key until the rotations at the end). An RP
    // started before the run (attach mode) may still hold the keys of an earlier run.
    let fetches = cx
        .shared
        .admin
        .journal_since(0)
        .await?
        .into_iter()
        .filter(|e| e.endpoint == "jwks")
        .count();
    let callback = super::support::status(login.callback_status);
    Ok(if fetches == 0 {
        Verdict::error(format!(
            "refused a validly signed ID token without kid (callback {callback}, /me {me}), but the RP fetched no JWKS during this run: it may hold the keys of an earlier one, several of them, where OIDC Core §10.1 lets it refuse a token without kid; a run that starts the RP (launch mode) or restarts it judges this"
        ))
    } else {
        Verdict::fail(format!(
            "refused a validly signed ID token without kid although the JWKS has a single key, the one the RP fetched during this run ({fetches} fetch{}; callback {callback}, /me {me})",
            if fetches == 1 { "" } else { "es" }
        ))
    })
}

pub(super) async fn key_rotation(cx: &Ctx) -> Judged {
    let u = cx.user("u", &[]).await?;
    login_ok(cx, &u).await?;
    // The journal's newest line right before the rotation: a JWKS fetch after it holds the
    // new key (or, in the moment the rotation takes, the old; an RP's sync often refetches
    // at once, on a refreshed token's new kid).
    let mark = cx.mark(&u).await?;
    let before = cx
        .shared
        .admin
        .journal_since(mark)
        .await?
        .last()
        .map_or(mark, |e| e.seq);
    let r = cx.shared.admin.rotate_key(0).await?;
    cx.step(format!(
        "rotated the signing key: new kid {}, the old key unpublished",
        r["kid"].as_str().unwrap_or("?")
    ));
    let patience = rotation_patience(cx);
    let outcome = login_after_rotation(cx, &u, patience).await?;
    // The new key can be had from the JWKS alone: a pass rests on the RP having fetched it.
    let fetches: Vec<_> = cx
        .shared
        .admin
        .journal_since(before)
        .await?
        .into_iter()
        .filter(|e| e.endpoint == "jwks")
        .collect();
    if let Some(first) = fetches.first() {
        cx.cite(first);
    }
    Ok(match (outcome, fetches.len()) {
        (Some(_), 0) => Verdict::skip(format!(
            "{DOES_NOT_APPLY} the RP logged the user in with a token signed by the new key without fetching the JWKS since the rotation, so it verified no signature with that key (idtoken.bad-signature judges that); whether it refetches keys cannot show in an RP that uses none"
        )),
        (Some((1, _)), n) => Verdict::pass(format!(
            "right after the rotation the RP fetched the JWKS ({n} fetch{}) and logged the user in with the new key",
            if n == 1 { "" } else { "es" }
        )),
        (Some((attempts, outage)), _) => {
            cx.measure("login_outage_after_rotation", outage);
            Verdict::warn(format!(
                "after a signing-key rotation every login failed for {:.1} s ({} attempts) until the RP fetched the JWKS and accepted the new key: it refetches the JWKS only after a delay, and users cannot log in meanwhile",
                outage.as_secs_f64(),
                attempts - 1
            ))
        }
        (None, 0) => Verdict::fail(format!(
            "for {:.0} s after a signing-key rotation every login failed, half as long again as the RP's declared JWKS cooldown ({} s), and the RP never fetched the JWKS again: it does not refetch the keys on an unknown kid",
            patience.as_secs_f64(),
            cx.shared.rp.jwks_cooldown_s
        )),
        (None, n) => Verdict::fail(format!(
            "for {:.0} s after a signing-key rotation every login failed, although the RP fetched the JWKS with the new key {n} time{} since: it does not use the keys it fetches",
            patience.as_secs_f64(),
            if n == 1 { "" } else { "s" }
        )),
    })
}

/// How long logins are retried after a rotation: an RP may refetch the JWKS only after
/// its declared cooldown, which is an outage to measure, not a failure to refetch.
pub(super) fn rotation_patience(cx: &Ctx) -> Duration {
    cx.shared
        .patience()
        .max(Duration::from_secs_f64(cx.shared.rp.jwks_cooldown_s * 1.5))
}

/// Logs `u` in until the RP accepts the rotated key: the attempts it took and the time
/// since the first, or `None` when every login within `patience` failed.
pub(super) async fn login_after_rotation(
    cx: &Ctx,
    u: &crate::idp::TestUser,
    patience: Duration,
) -> Result<Option<(u32, Duration)>, Stop> {
    let start = Instant::now();
    let mut wait = Duration::from_millis(250);
    let mut attempts = 0u32;
    loop {
        attempts += 1;
        let b = cx.browser();
        b.login(&u.username, None).await?;
        let me = cx.peek(&b).await?;
        if me.logged_in() && me.is_user(u) {
            cx.me(&b).await?;
            return Ok(Some((attempts, start.elapsed())));
        }
        if start.elapsed() >= patience {
            cx.me(&b).await?;
            cx.step(format!("{attempts} logins failed"));
            return Ok(None);
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(Duration::from_secs(2));
    }
}

/// OIDF `oidcc-client-test-kid-absent-multiple-jwks`, as a real provider gets there: in
/// the middle of a key rotation the JWKS has the new key and the old one, and a token
/// without `kid` leaves the RP to find the right one. OIDC Core §10.1 asks the provider
/// for a `kid` then, so the RP may refuse; what it must never do is accept a token that
/// none of the keys verifies.
pub(super) async fn kid_absent_multiple(cx: &Ctx) -> Judged {
    let r = cx.shared.admin.rotate_key(86_400).await?;
    cx.step(format!(
        "rotated the signing key, the old one kept published: the JWKS has two keys, new kid {}",
        r["kid"].as_str().unwrap_or("?")
    ));
    // The RP must hold that two-key JWKS: a login with the new kid proves a fetch since.
    let c = cx.user("with-kid", &[]).await?;
    if login_after_rotation(cx, &c, rotation_patience(cx))
        .await?
        .is_none()
    {
        return Ok(Verdict::error(
            "after the rotation no login with the new kid succeeded, so the RP never held the two-key JWKS this scenario needs (idtoken.key-rotation judges the refetch)",
        ));
    }
    cx.step(
        "a login whose token names the new key succeeded: the RP holds the JWKS with both keys",
    );
    let forged = [Fault::IdTokenNoKid, Fault::IdTokenBadSignature];
    let (_, _, _, me) = login_with_faults(cx, &forged, None).await?;
    if me.logged_in() {
        return Ok(super::support::unverified_signature(
            &cx.shared.sites.idp,
            "an ID token without kid whose signature none of the JWKS's two keys verifies",
            &me,
        ));
    }
    cx.step("an ID token without kid and with a bad signature opened no session");
    let Some((login, _)) = accepted_login(cx, &[Fault::IdTokenNoKid], "without kid").await? else {
        return Ok(Verdict::pass(
            "with two keys in the JWKS, the RP verified a token without kid against them and logged the user in, and refused one that neither key verifies",
        ));
    };
    Ok(match login.callback_status {
        Some(s) if s >= 500 => Verdict::warn(format!(
            "with two keys in the JWKS, the RP refused a validly signed token without kid with HTTP {s} instead of a clear error (OIDC Core §10.1 lets it refuse); with the kid the user logs in"
        )),
        _ => Verdict::pass(
            "with two keys in the JWKS, the RP refused a token without kid, valid or not, as OIDC Core §10.1 allows (a provider with several keys must send kid); with the kid the user logs in",
        ),
    })
}

/// A login with a validly signed ID token changed by `faults` (no `kid`, no `at_hash`):
/// `None` when the user got in, else the refused login and `/me`'s status (after a
/// control, unbroken, succeeded). A login that reached someone else fails, saying `how`.
pub(super) async fn accepted_login(
    cx: &Ctx,
    faults: &[Fault],
    how: &str,
) -> Result<Option<(Login, u16)>, Stop> {
    let (u, _, login, me) = login_with_faults(cx, faults, None).await?;
    if me.logged_in() && me.is_user(&u) {
        return Ok(None);
    }
    if me.logged_in() {
        return Err(Stop::with(Verdict::fail(format!(
            "a login {how} reached {}, not {}",
            me.who(),
            u.username
        ))));
    }
    control(cx, &u).await?;
    Ok(Some((login, me.status)))
}
