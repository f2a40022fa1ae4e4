//! `revocation`: access ends when the IdP says so (users who left the organisation keep
//! no access).

use serde_json::json;

use super::groups::{differs, mapped, pair, shown};
use super::support::{login_ok, scenario};
use crate::browser::Browser;
use crate::idp::TestUser;
use crate::rp::SyncMode;
use crate::scenario::{Awaited, Ctx, Phase, Scenario};
use crate::verdict::{Judged, MeReading, Stop, Verdict};

pub fn all() -> Vec<Scenario> {
    vec![
        scenario!(
            "revocation.deleted-user",
            Revocation,
            "a user deleted at the IdP loses access: the refused refresh ends sessions and removes permissions",
            "a user deleted at the IdP loses permissions and sessions at the next refresh",
            deleted_user
        ),
        scenario!(
            "revocation.refresh-expired",
            Revocation,
            "when the refresh token expires, the refused refresh ends sessions and removes permissions",
            "when the refresh token's lifetime passes, the user loses permissions and sessions",
            refresh_expired,
            phase = Phase::Alone
        ),
        scenario!(
            "revocation.disabled-user",
            Revocation,
            "a user disabled at the IdP (who left the organisation) loses access at the next refresh",
            "a user disabled at the IdP loses permissions and sessions at the next refresh",
            disabled_user
        ),
        scenario!(
            "revocation.relogin-restores",
            Revocation,
            "after a revocation, a fresh login gives exactly the current groups' permissions",
            "after a revocation, a fresh login restores exactly the group-mapped permissions",
            relogin_restores,
            needs_groups = true
        ),
        scenario!(
            "revocation.others-unaffected",
            Revocation,
            "revoking one user (by sub) leaves every other user's access alone, even one sharing the email; OIDC Core §5.7",
            "revoking one user leaves other users' access alone, even one sharing the email",
            others_unaffected
        ),
    ]
}

/// A logged-in user with two mapped groups.
async fn logged_in(cx: &Ctx) -> Result<(TestUser, Browser, MeReading), crate::verdict::Stop> {
    let p = pair(&cx.shared.rp)?;
    let u = cx.user("u", &[&p.a, &p.b]).await?;
    cx.refresh_path_only(&u).await?;
    let (b, _, me) = login_ok(cx, &u).await?;
    Ok((u, b, me))
}

/// Judges what the RP did after the IdP stopped honouring the user's refresh token
/// (changed after journal mark `pre`).
async fn ended(cx: &Ctx, u: &TestUser, pre: u64, got: &Awaited, cause: &str) -> Judged {
    // From before the change: the refused refresh may precede the mark taken after it.
    let told = cx.told_of_end(u, pre).await?;
    let told = told.first();
    if let Some(e) = told {
        cx.cite(e);
    }
    Ok(judge(cx, got, told, cause))
}

/// A pass needs both halves of a revocation: the IdP told the RP (it refused the RP's
/// refresh, or answered its userinfo call with 401, or an introspection), and the session
/// ended. A session that ended without such a call ended for another reason (an access
/// token or session timing out), not because the RP learnt of the revocation.
fn judge(cx: &Ctx, got: &Awaited, told: Option<&crate::idp::JournalEntry>, cause: &str) -> Verdict {
    match (got.me.logged_in(), told) {
        (false, Some(r)) => {
            if let Some(t) = got.latency {
                cx.latency(cause, &[t]);
            }
            Verdict::pass(format!(
                "{cause}: {} and the RP ended the session",
                r.told()
            ))
        }
        (false, None) => Verdict::fail(format!(
            "{cause}: the session ended (/me {}) without the RP asking the IdP (no refused refresh, no userinfo or introspection call about the user), so it did not learn of the revocation from the IdP (the session merely expired); access must end through the refused refresh, within the sync deadline",
            got.me.status
        )),
        (true, None) => Verdict::fail(format!(
            "{cause}: the RP did not use the refresh token within {:.0} s (the patience: three sync deadlines, or an access token's lifetime and one), so access never ends",
            cx.shared.patience().as_secs_f64()
        )),
        (true, Some(r)) => {
            let have = shown(&got.me);
            let with = if have.is_empty() {
                " (no permissions left)".to_owned()
            } else {
                format!(" with {have:?}")
            };
            Verdict::fail(format!(
                "{cause}: {}, yet /me still answers 200{with}: access outlives the revocation",
                r.told()
            ))
        }
    }
}

/// The premise of the scenarios that look past a revocation: the IdP refused the RP's
/// refresh and the RP then ended `who`'s access. Otherwise there was no revocation to look
/// past (the scenario is an `error`; `revocation.deleted-user` and `.disabled-user` judge it).
async fn revoked(cx: &Ctx, u: &TestUser, mark: u64, got: &Awaited, who: &str) -> Result<(), Stop> {
    let told = cx.told_of_end(u, mark).await?.into_iter().next();
    match (got.latency, told) {
        (Some(_), Some(e)) => {
            cx.cite(&e);
            Ok(())
        }
        (None, _) => Err(Stop::with(Verdict::error(format!(
            "cannot judge what follows a revocation: the RP never ended {who}'s access (revocation.deleted-user and .disabled-user judge that)"
        )))),
        (Some(_), None) => Err(Stop::with(Verdict::error(format!(
            "cannot judge what follows a revocation: {who}'s access ended without the IdP telling the RP (no refused refresh, userinfo or introspection call), so the RP never learnt of a revocation (revocation.deleted-user and .disabled-user judge that)"
        )))),
    }
}

async fn deleted_user(cx: &Ctx) -> Judged {
    let (u, b, _) = logged_in(cx).await?;
    let pre = cx.mark(&u).await?;
    cx.shared.admin.delete_user(&u.username).await?;
    cx.step(format!("deleted {} at the IdP", u.username));
    let mark = cx.mark(&u).await?;
    let got = cx.await_sync(&b, &u, mark, |m| !m.logged_in()).await?;
    ended(cx, &u, pre, &got, "user deleted").await
}

async fn disabled_user(cx: &Ctx) -> Judged {
    let (u, b, _) = logged_in(cx).await?;
    let pre = cx.mark(&u).await?;
    cx.shared
        .admin
        .patch_user(&u.username, json!({ "disabled": true }))
        .await?;
    cx.step(format!("disabled {} at the IdP", u.username));
    let mark = cx.mark(&u).await?;
    let got = cx.await_sync(&b, &u, mark, |m| !m.logged_in()).await?;
    ended(cx, &u, pre, &got, "user disabled").await
}

async fn refresh_expired(cx: &Ctx) -> Judged {
    let (u, b, _) = logged_in(cx).await?;
    let pre = cx.mark(&u).await?;
    let lifetime = cx.shared.idp.refresh_lifetime_s;
    // Past the lifetime, but not so far that the IdP purges the expired token: its refusal
    // must still name the user in the journal (a clock moved hours on purged every
    // record at the first insert, and a refusal came back anonymous under load).
    let margin = mock_idp::KEEP_EXPIRED_FOR / 5;
    let jump = lifetime + margin;
    cx.shared.admin.advance_clock(jump).await?;
    cx.step(format!(
        "moved the IdP's clock {} h {} min ahead, past the refresh token's {} h lifetime",
        jump / 3600,
        margin / 60,
        lifetime / 3600
    ));
    let mark = cx.mark(&u).await?;
    let got = cx.await_sync(&b, &u, mark, |m| !m.logged_in()).await;
    cx.shared.admin.advance_clock(-jump).await?;
    cx.step("moved the IdP's clock back");
    ended(cx, &u, pre, &got?, "refresh token expired").await
}

async fn relogin_restores(cx: &Ctx) -> Judged {
    let rp = &cx.shared.rp;
    let p = pair(rp)?;
    let (u, b, me) = logged_in(cx).await?;
    let before = shown(&me);
    let pre = cx.mark(&u).await?;
    cx.shared
        .admin
        .patch_user(&u.username, json!({ "disabled": true }))
        .await?;
    cx.step(format!("disabled {} at the IdP", u.username));
    let mark = cx.mark(&u).await?;
    // Access ended: the session, or at least every permission the user had.
    let got = cx
        .await_sync(&b, &u, mark, |m| {
            !m.logged_in() || (!before.is_empty() && shown(m).is_empty())
        })
        .await?;
    revoked(cx, &u, pre, &got, "the disabled user").await?;
    cx.shared
        .admin
        .patch_user(&u.username, json!({ "disabled": false, "groups": [p.a] }))
        .await?;
    cx.step(format!(
        "enabled {} again, now only in group {:?}",
        u.username, p.a
    ));
    let b2 = cx.browser();
    b2.login(&u.username, None).await?;
    let me = cx.me(&b2).await?;
    if !me.logged_in() {
        return Ok(Verdict::fail(format!(
            "the re-enabled user cannot log in again (/me answered {})",
            me.status
        )));
    }
    if cx.shared.mode == SyncMode::None {
        return Ok(Verdict::pass(
            "the re-enabled user logged in again (sync off: permissions are the webapp's)",
        ));
    }
    let want = mapped(rp, &[&p.a]);
    let have = shown(&me);
    Ok(if have == want {
        Verdict::pass(format!(
            "the fresh login restored exactly the current groups' {want:?}"
        ))
    } else {
        Verdict::fail(format!(
            "after the revocation and a fresh login {}",
            differs(&have, &want)
        ))
    })
}

async fn others_unaffected(cx: &Ctx) -> Judged {
    let p = pair(&cx.shared.rp)?;
    let a = cx.user("a", &[&p.a]).await?;
    cx.refresh_path_only(&a).await?;
    let mut shared_mailbox = cx.new_user("b", &[&p.a]);
    shared_mailbox.email = a.email.clone();
    let b = cx.create(shared_mailbox).await?;
    cx.step(format!(
        "{} shares {}'s email (a team mailbox)",
        b.username, a.username
    ));
    let c = cx.user("c", &[&p.a]).await?;
    let (ba, _, _) = login_ok(cx, &a).await?;
    let mut others = Vec::new();
    for u in [b, c] {
        let (browser, _, me) = login_ok(cx, &u).await?;
        others.push((u, browser, me));
    }
    let pre = cx.mark(&a).await?;
    cx.shared.admin.delete_user(&a.username).await?;
    cx.step(format!("deleted {} at the IdP", a.username));
    let mark = cx.mark(&a).await?;
    let got = cx.await_sync(&ba, &a, mark, |m| !m.logged_in()).await?;
    revoked(cx, &a, pre, &got, "the deleted user").await?;
    let gone = cx.journal(&a).await?.last().map_or(mark, |e| e.seq);
    let mut problems = Vec::new();
    for (u, browser, before) in &others {
        // Their own sync after the revocation: what /me shows then is what stays.
        let synced = cx
            .await_refreshes(u, gone, |r| r.iter().any(|e| e.ok()))
            .await?;
        let now = cx.me(browser).await?;
        if now.logged_in() && !synced.iter().any(|e| e.ok()) {
            return Ok(Verdict::error(format!(
                "cannot judge: {}'s sync did not run within {:.0} s after the revocation, so what it keeps is unknown",
                u.username,
                cx.shared.patience().as_secs_f64()
            )));
        }
        if !now.logged_in() {
            problems.push(format!("{} lost their session", u.username));
        } else if shown(&now) != shown(before) {
            problems.push(format!(
                "{}: {}",
                u.username,
                differs(&shown(&now), &shown(before))
            ));
        }
    }
    Ok(if problems.is_empty() {
        Verdict::pass(
            "the deleted user lost access; the others, one with the same email, kept theirs",
        )
    } else {
        Verdict::fail(format!(
            "revoking {} hurt others: {}",
            a.username,
            problems.join("; ")
        ))
    })
}
