//! `login`, userinfo: its sub checked against the ID token's (OIDC Core §5.3.2), at login and during background sync.

use std::time::{Duration, Instant};

use mock_idp::faults::Fault;

use super::support::{control, login_ok, login_with_faults, status};
use crate::scenario::Ctx;
use crate::verdict::{Judged, Verdict};

pub(super) async fn userinfo(cx: &Ctx) -> Judged {
    let (u, _, login, me) = login_with_faults(cx, &[Fault::UserinfoSubChanged], None).await?;
    let journal = cx.journal(&u).await?;
    // The login's call took the fault (armed once, disarmed right after the login); an
    // unbroken call came after it, from background sync.
    let at_login = journal
        .iter()
        .find(|e| e.endpoint == "userinfo" && (!e.ok() || !e.faults.is_empty()));
    let Some(call) = at_login else {
        // A call the IdP could tie to no user: one whose access token it could not read
        // (sent in the query string, which it does not take). Not "no call".
        let since = journal.first().map_or(0, |e| e.seq.saturating_sub(1));
        let unread = cx
            .shared
            .admin
            .journal_since(since)
            .await?
            .into_iter()
            .find(|e| e.endpoint == "userinfo" && e.user.is_none() && e.status == 401);
        if let Some(e) = unread {
            cx.cite(&e);
            return Ok(Verdict::error(format!(
                "the IdP refused a userinfo call during the login: {} (it takes the access token in the Authorization header or the form body, RFC 6750 §2.1, §2.2), so whether the RP checks userinfo's sub cannot be judged",
                e.error_description.as_deref().unwrap_or("no reason given")
            )));
        }
        // No call at login: perhaps during background sync, judged there.
        return background_userinfo(cx).await;
    };
    cx.cite(call);
    if !call.faults.contains(&Fault::UserinfoSubChanged) {
        // Refused (a token in the query, which this IdP does not take) or never answered
        // with the other sub: nothing about the sub check was shown.
        return Ok(Verdict::error(format!(
            "the IdP answered the RP's userinfo call {}{} without the other sub, so the check was never put to the test (the IdP takes the access token in the Authorization header or the form body, RFC 6750 §2.1, §2.2)",
            call.status,
            call.error_description
                .as_deref()
                .map(|d| format!(" ({d})"))
                .unwrap_or_default()
        )));
    }
    if me.logged_in() {
        return Ok(Verdict::fail(format!(
            "userinfo named another sub and the RP logged the user in anyway (/me shows {})",
            me.who()
        )));
    }
    control(cx, &u).await?;
    Ok(Verdict::pass(format!(
        "refused a userinfo response about another sub (callback {}); unbroken, the user logs in",
        status(login.callback_status)
    )))
}

/// `login.userinfo` for an RP that calls userinfo only during background sync: once its
/// first call is seen, userinfo answers about another person (another sub, with their
/// username, email and name) until cleared. The RP must not take it on (OIDC Core §5.3.2):
/// ending the session or keeping the session's own profile passes; showing the other
/// person's profile fails.
pub(super) async fn background_userinfo(cx: &Ctx) -> Judged {
    cx.step("no userinfo call at login: watching background sync for one");
    let u = cx.user("background", &[]).await?;
    let (b, _, _) = login_ok(cx, &u).await?;
    let mark = cx.mark(&u).await?;
    let calls = |j: &[crate::idp::JournalEntry]| -> Vec<crate::idp::JournalEntry> {
        j.iter()
            .filter(|e| e.seq > mark && e.endpoint == "userinfo")
            .cloned()
            .collect()
    };
    // Until a call comes, or the sync has run twice without one once its deadline passed.
    let start = Instant::now();
    let mut wait = Duration::from_millis(20);
    let first = loop {
        let journal = cx.journal(&u).await?;
        if let Some(c) = calls(&journal).into_iter().next() {
            break c;
        }
        let refreshes = journal
            .iter()
            .filter(|e| e.seq > mark && e.is_refresh())
            .count();
        let elapsed = start.elapsed();
        if (refreshes >= 2 && elapsed >= cx.shared.deadline()) || elapsed >= cx.shared.patience() {
            return Ok(Verdict::skip(format!(
                "{} the RP calls userinfo neither at login nor during background sync ({refreshes} refreshes and no userinfo call in {:.1} s after a login)",
                crate::verdict::DOES_NOT_APPLY,
                elapsed.as_secs_f64()
            )));
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 3 / 2).min(Duration::from_millis(250));
    };
    cx.cite(&first);
    if !first.ok() {
        return Ok(Verdict::error(format!(
            "the IdP refused the RP's userinfo call during background sync ({} {}), so whether it checks userinfo's sub cannot be judged",
            first.status,
            first.error_description.as_deref().unwrap_or("")
        )));
    }
    let before = cx.me(&b).await?;
    if !before.logged_in() {
        return Ok(Verdict::error(format!(
            "the session ended (/me {}) after an unbroken userinfo call during background sync, before anything was broken",
            before.status
        )));
    }
    let id = cx
        .shared
        .admin
        .arm(&Fault::UserinfoSubChanged, &u.username, None, None)
        .await?;
    cx.step(format!(
        "userinfo answers about another person (sub, username, email, name) for {} until cleared",
        u.username
    ));
    // Two answers about the other person: the RP has dealt with one before /me is read.
    let start = Instant::now();
    let mut wait = Duration::from_millis(20);
    let faulty = loop {
        let faulty: Vec<_> = calls(&cx.journal(&u).await?)
            .into_iter()
            .filter(|e| e.faults.contains(&Fault::UserinfoSubChanged))
            .collect();
        if faulty.len() >= 2 || start.elapsed() >= cx.shared.patience() {
            break faulty;
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 3 / 2).min(Duration::from_millis(250));
    };
    let me = cx.me(&b).await?;
    cx.disarm(id).await?;
    let Some(f) = faulty.first() else {
        return Ok(Verdict::error(format!(
            "the RP made no userinfo call within {:.1} s after its first one, so the answer about another sub was never put to it",
            cx.shared.patience().as_secs_f64()
        )));
    };
    cx.cite(f);
    if !me.logged_in() {
        return Ok(Verdict::pass(format!(
            "during background sync userinfo named another sub and the RP ended the session (/me {}), which unbroken userinfo calls had kept open",
            me.status
        )));
    }
    let taken: Vec<&str> = [
        (
            "email",
            me.email.as_deref() == Some(&format!("changed-{}", u.email)),
        ),
        (
            "name",
            me.name.as_deref() == Some(&format!("Other than {}", u.name)),
        ),
        (
            "username",
            me.username.as_deref() == Some(&format!("{}-changed", u.username)),
        ),
    ]
    .into_iter()
    .filter_map(|(f, t)| t.then_some(f))
    .collect();
    if !taken.is_empty() || !me.is_user(&u) {
        return Ok(Verdict::fail(format!(
            "during background sync the RP took on a userinfo response about another sub: /me shows that person's {} (OIDC Core §5.3.2: the userinfo sub must match the ID token's, else the response must not be used)",
            if taken.is_empty() {
                "sub".to_owned()
            } else {
                taken.join(", ")
            }
        )));
    }
    Ok(Verdict::pass(format!(
        "during background sync userinfo answered {} times about another person and the session kept its own user and profile",
        faulty.len()
    )))
}
