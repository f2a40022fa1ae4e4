//! `permissions`, the RP's own grants (a webapp grant given outside the IdP's groups): wiped by a strict sync, kept by an additive one.

use super::groups::{differs, mapped, not_synced, pair, shown};
use super::support::login_ok;
use crate::rp::{Capability, SyncMode};
use crate::scenario::Ctx;
use crate::verdict::{Judged, Stop, Verdict};

/// Skips when the RP cannot grant through its webapp.
pub(super) fn needs_grant(cx: &Ctx) -> Result<(), Stop> {
    if cx.shared.rp.can(Capability::Grant) {
        return Ok(());
    }
    Err(Stop::with(Verdict::skip(
        "needs capability grant (POST /grant): rp.toml declares none",
    )))
}

pub(super) async fn strict_grant_wiped(cx: &Ctx) -> Judged {
    needs_grant(cx)?;
    let rp = &cx.shared.rp;
    let p = pair(rp)?;
    let u = cx.user("u", &[&p.a]).await?;
    let (b, _, me) = login_ok(cx, &u).await?;
    let want = mapped(rp, &[&p.a]);
    started_with(&shown(&me), &want)?;
    let mark = cx.mark(&u).await?;
    let status = cx.grant(&b, &p.extra).await?;
    let after = cx.peek(&b).await?;
    if !after.logged_in() {
        cx.me(&b).await?;
        return Ok(Verdict::fail(format!(
            "the session ended (/me answered {}) after a grant through the webapp",
            after.status
        )));
    }
    // Granted: /me shows it, or the grant answered 2xx and a sync (in the journal since
    // the grant) already set the permissions back before /me was read.
    let synced = (200..300).contains(&status)
        && !cx.refreshes(&u, mark).await?.is_empty()
        && shown(&after) == want;
    if !shown(&after).contains(&p.extra) && !synced {
        // Not granted: a refusal, which needs /me unchanged and the endpoint shown to work.
        cx.me(&b).await?;
        return refused_grant(cx, status, &p.extra, &shown(&after), &want).await;
    }
    let got = cx.await_sync(&b, &u, mark, |m| shown(m) == want).await?;
    Ok(match got.latency {
        Some(t) => {
            cx.latency("webapp grant wiped", &[t]);
            Verdict::pass(format!(
                "the webapp granted {:?} (HTTP {status}) and a sync set the permissions back to exactly the groups' {want:?}",
                p.extra
            ))
        }
        None => not_synced(
            cx,
            &got,
            &want,
            "in strict mode a sync must wipe what the webapp granted",
        ),
    })
}

/// A grant in strict mode that did not take (`status`, `/me` then showing `have`): a pass
/// needs the permissions unchanged and a control showing the grant endpoint works — the
/// same RP started in additive mode grants the same permission. Else a CSRF check or a
/// missing route would pass as "refused in strict mode".
pub(super) async fn refused_grant(
    cx: &Ctx,
    status: u16,
    extra: &str,
    have: &[String],
    want: &[String],
) -> Judged {
    if !matches!(status, 200..=299 | 400 | 403 | 405 | 409 | 422) {
        return Ok(Verdict::error(format!(
            "POST {} answered {status}: neither a grant (2xx) nor a refusal (400, 403, 405, 409, 422), though the RP declares capability grant",
            cx.shared.rp.paths.grant
        )));
    }
    if have != want {
        return Ok(Verdict::fail(format!(
            "a grant of {extra:?} that did not take (HTTP {status}) changed the permissions: {}",
            differs(have, want)
        )));
    }
    if !cx.shared.rp.sync_modes.contains(&SyncMode::Additive) {
        return Ok(Verdict::error(format!(
            "in strict mode a grant of {extra:?} did not stay (HTTP {status}, /me unchanged), and the RP declares no additive mode in which the same grant could show that the endpoint works: a strict-mode refusal cannot be told from a broken grant endpoint"
        )));
    }
    cx.step("control: the same RP started in additive mode grants the same permission");
    match grant_in_additive(cx, extra).await? {
        Ok(control) => Ok(Verdict::pass(format!(
            "in strict mode a grant of {extra:?} did not stay (HTTP {status}; /me right after showed exactly the groups' {want:?}: refused, or wiped by a sync at once); in additive mode the same grant works ({control})"
        ))),
        Err(why) => Ok(Verdict::error(format!(
            "in strict mode a grant of {extra:?} did not stay (HTTP {status}, /me unchanged), but the control failed: {why}; a strict-mode refusal cannot be told from a broken grant endpoint"
        ))),
    }
}

/// The control of a strict-mode refusal: the RP started once more in additive mode, a new
/// user granted `extra`. `Ok(what happened)` when `/me` then shows it, `Err(why)` when not.
pub(super) async fn grant_in_additive(
    cx: &Ctx,
    extra: &str,
) -> Result<Result<String, String>, Stop> {
    let needs = "the RP's grant endpoint shown to work, which needs it started in additive mode";
    let up = match super::restarted::start_in(
        cx,
        "grant-additive",
        SyncMode::Additive,
        Default::default(),
        needs,
    )
    .await
    {
        Err(v) => return Ok(Err(v.reason)),
        Ok(Err(crate::launch::LaunchError::Setup(m))) => return Err(Stop::Harness(m)),
        Ok(Err(e)) => return Ok(Err(format!("it did not start in additive mode: {e}"))),
        Ok(Ok(up)) => up,
    };
    let judged = async {
        let u = cx.new_user("grant-control", &[]);
        up.admin.put_user(&u).await?;
        let b = super::restarted::browser(cx, &up);
        b.login(&u.username, None).await?;
        if !cx.me(&b).await?.logged_in() {
            return Ok(Err("no one logged in at it".to_owned()));
        }
        let status = cx.grant(&b, extra).await?;
        let me = cx.me(&b).await?;
        Ok::<_, Stop>(if shown(&me).iter().any(|p| p == extra) {
            Ok(format!("HTTP {status}, /me shows it"))
        } else {
            Err(format!(
                "in additive mode it did not grant {extra:?} either (HTTP {status}, /me {:?})",
                shown(&me)
            ))
        })
    }
    .await;
    if let Some(rp) = up.running {
        rp.stop().await;
    }
    judged
}

/// The user's permissions right after login must be the mapped ones (`permissions.initial`
/// judges that; the others need it to start from a known state).
pub(super) fn started_with(got: &[String], want: &[String]) -> Result<(), Stop> {
    if got == want {
        return Ok(());
    }
    Err(Stop::with(Verdict::error(format!(
        "at login {} (permissions.initial judges this): cannot observe the change from an unknown state",
        differs(got, want)
    ))))
}
