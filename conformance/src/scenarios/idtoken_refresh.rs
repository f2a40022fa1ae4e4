//! `idtoken`, refreshed ID tokens: validated as at login (OIDC Core §12.2), applied when valid.

use std::time::{Duration, Instant};

use mock_idp::faults::Fault;

use super::groups::shown;
use super::support::login_ok;
use crate::browser::Browser;
use crate::scenario::Ctx;
use crate::verdict::{Judged, MeReading, Stop, Verdict};

/// A change at the IdP that a refresh carries, shown by `/me`: the name (or, for an RP whose
/// /me shows none, the email).
pub(super) struct Change {
    field: &'static str,
    new: String,
}

impl Change {
    fn of(cx: &Ctx, u: &crate::idp::TestUser, word: &str) -> Change {
        if cx.shared.rp.me.name.shown() {
            Change {
                field: "name",
                new: format!("{word} {}", u.name),
            }
        } else {
            Change {
                field: "email",
                new: format!("{}-{}", word.to_lowercase(), u.email),
            }
        }
    }

    fn shown(&self, m: &MeReading) -> Option<String> {
        match self.field {
            "name" => m.name.clone(),
            _ => m.email.clone(),
        }
    }

    fn shows(&self, m: &MeReading) -> bool {
        self.shown(m).as_deref() == Some(&self.new)
    }

    async fn make(&self, cx: &Ctx, u: &crate::idp::TestUser) -> Result<(), Stop> {
        let patch = serde_json::json!({ self.field: self.new });
        cx.shared.admin.patch_user(&u.username, patch).await?;
        cx.step(format!(
            "changed {}'s {} to {:?} at the IdP",
            u.username, self.field, self.new
        ));
        Ok(())
    }
}

/// The control of the refreshed-ID-token scenarios, before anything is broken: a change at
/// the IdP, unbroken refreshes, and the session must stay open (else a session ending at a
/// broken refresh proves nothing: the RP may end it at every refresh). `Ok(true)` when the
/// change showed (the RP applies refreshed claims), `Ok(false)` when the refreshes came and
/// kept the session but the change did not show.
pub(super) async fn good_refresh(
    cx: &Ctx,
    b: &Browser,
    u: &crate::idp::TestUser,
) -> Result<bool, Stop> {
    cx.step("control: unbroken refreshes after a change at the IdP must keep the session");
    // From the login on: a refresh that ended the session before the change counts too.
    let mark = cx.mark(u).await?;
    let change = Change::of(cx, u, "Refreshed");
    change.make(cx, u).await?;
    let got = cx.await_sync(b, u, mark, |m| change.shows(m)).await?;
    if let Some(e) = got.refreshes.iter().find(|e| e.ok()) {
        cx.cite(e);
    }
    let ok = got.refreshes.iter().filter(|e| e.ok()).count();
    match (got.me.logged_in(), got.latency.is_some(), ok) {
        (true, true, _) => Ok(true),
        (true, false, 0) | (false, _, 0) => Err(Stop::with(Verdict::fail(format!(
            "the RP did not refresh within {:.1} s (the patience: three sync deadlines, or an access token's lifetime and one), so it never saw a refreshed ID token: background sync is required{}",
            cx.shared.patience().as_secs_f64(),
            if got.me.logged_in() {
                String::new()
            } else {
                format!(" (the session ended meanwhile, /me {})", got.me.status)
            }
        )))),
        (true, false, _) => Ok(false),
        (false, _, n) => Err(Stop::with(Verdict::error(format!(
            "the control failed: the session ended (/me {}) after {n} unbroken refresh{}, so what ends it at a broken one cannot be told (the sync scenarios judge a session lost at a refresh)",
            got.me.status,
            if n == 1 { "" } else { "es" }
        )))),
    }
}

pub(super) async fn refresh_same_sub(cx: &Ctx) -> Judged {
    // Groups the other person's token changes, where the map has two to tell apart (with
    // sync off no groups show either way).
    let pair = super::groups::pair(&cx.shared.rp)
        .ok()
        .filter(|_| cx.shared.mode != crate::rp::SyncMode::None);
    let groups: Vec<&str> = pair.iter().map(|p| p.a.as_str()).collect();
    let u = cx.user("u", &groups).await?;
    let (b, _, _) = login_ok(cx, &u).await?;
    let applies = good_refresh(cx, &b, &u).await?;
    let before = cx.me(&b).await?;
    let mark = cx.mark(&u).await?;
    // Every refresh answers another person's ID token (their sub, email, name, username)
    // until cleared: after two of them the RP has dealt with one, and no good refresh can
    // have put the session's own profile back before /me is read.
    let id = cx.arm_refresh(Fault::IdTokenSubChanged, &u, None).await?;
    // Armed first: no unbroken refresh can carry the groups changed now.
    if let Some(p) = &pair {
        cx.shared
            .admin
            .patch_user(&u.username, serde_json::json!({ "groups": [p.b] }))
            .await?;
        cx.step(format!(
            "{}'s groups at the IdP are now {:?}: the other person's token carries them",
            u.username,
            [&p.b]
        ));
    }
    let faulty = |r: &[crate::idp::JournalEntry]| r.iter().filter(|e| !e.faults.is_empty()).count();
    // Until the session ends, or two faulty refreshes have come, or the patience runs out.
    let start = Instant::now();
    let mut wait = Duration::from_millis(20);
    let got = loop {
        let got = cx.refreshes(&u, mark).await?;
        let n = faulty(&got);
        let ended = n >= 1 && !cx.peek(&b).await?.logged_in();
        if ended || n >= 2 || start.elapsed() >= cx.shared.patience() {
            break got;
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 3 / 2).min(Duration::from_millis(250));
    };
    let me = cx.me(&b).await?;
    cx.disarm(id).await?;
    cite_first_faulty(cx, &got)?;
    if !me.logged_in() {
        return Ok(Verdict::pass(
            "the RP ended the session when a refresh named another sub, while unbroken refreshes kept it open",
        ));
    }
    if faulty(&got) < 2 {
        return Ok(Verdict::warn(format!(
            "after a refresh named another sub the RP neither ended the session nor refreshed again within {:.1} s: the session stays open on a profile it no longer syncs",
            cx.shared.patience().as_secs_f64()
        )));
    }
    if !me.is_user(&u) {
        return Ok(Verdict::fail(format!(
            "after refreshes whose ID token names another sub, /me shows {}: the RP did not compare it with the session's",
            me.who()
        )));
    }
    let permissions = pair.is_some() && shown(&me) != shown(&before);
    let taken: Vec<&str> = [
        (
            "email",
            me.email.as_deref() == Some(&format!("changed-{}", u.email)),
        ),
        (
            "name",
            me.name
                .as_deref()
                .is_some_and(|n| n.starts_with("Other than ")),
        ),
        (
            "username",
            me.username.as_deref() == Some(&format!("{}-changed", u.username)),
        ),
        ("groups", permissions),
    ]
    .into_iter()
    .filter_map(|(f, t)| t.then_some(f))
    .collect();
    if !taken.is_empty() {
        return Ok(Verdict::fail(format!(
            "after refreshes whose ID token names another sub, the session's account took that person's {}: the RP did not compare the refreshed sub with the session's (OIDC Core §12.2)",
            taken.join(", ")
        )));
    }
    if !applies {
        return Ok(Verdict::error(
            "through refreshes naming another sub the session kept its own profile, but unbroken refreshes brought no change to it either: the RP applies no refreshed claims, so what it made of the other sub cannot be told (identity.profile-sync judges the sync)",
        ));
    }
    Ok(Verdict::pass(
        "through refreshes naming another sub (and carrying other groups) the RP kept the session's own user, profile and permissions, while unbroken refreshes bring changes",
    ))
}

pub(super) async fn refresh_same_iss(cx: &Ctx) -> Judged {
    refused_refreshed(
        cx,
        Fault::IdTokenWrongIss,
        "from another issuer",
        Accepted::Fails("OIDC Core §12.2 requires the same iss"),
    )
    .await
}

pub(super) async fn refresh_bad_signature(cx: &Ctx) -> Judged {
    refused_refreshed(
        cx,
        Fault::IdTokenBadSignature,
        "whose signature does not verify",
        Accepted::Unverified,
    )
    .await
}

pub(super) async fn refresh_wrong_aud(cx: &Ctx) -> Judged {
    refused_refreshed(
        cx,
        Fault::IdTokenWrongAud,
        "issued to another client",
        Accepted::Fails("OIDC Core §12.2 requires the same aud, validated as at login (§3.1.3.7)"),
    )
    .await
}

pub(super) async fn refresh_expired(cx: &Ctx) -> Judged {
    refused_refreshed(cx, Fault::IdTokenExpired, "already expired", Accepted::Fails("OIDC Core §12.2 validates a refreshed ID token as at login, exp included (§3.1.3.7 (9))")).await
}

/// What accepting a broken refreshed ID token is.
pub(super) enum Accepted {
    /// A fail, for this reason.
    Fails(&'static str),
    /// A signature not verified: a warn over TLS, a fail on plain HTTP (OIDC Core
    /// §3.1.3.7 (6), as at login).
    Unverified,
}

/// A refreshed ID token broken by `fault` (`what`) must not be applied (OIDC Core §12.2:
/// validated as at login). After a control (unbroken refreshes keep the session), every
/// refresh answers such a token while the user's profile changes at the IdP: the change
/// shows only through an RP that takes the broken token. Then the control of the verdict:
/// the fault cleared, the change must show (else the RP applies no refreshed claims).
pub(super) async fn refused_refreshed(
    cx: &Ctx,
    fault: Fault,
    what: &str,
    accepted: Accepted,
) -> Judged {
    let u = cx.user("u", &[]).await?;
    let (b, _, _) = login_ok(cx, &u).await?;
    good_refresh(cx, &b, &u).await?;
    // A real change at the IdP, which a refresh carries. It shows only if the RP applies a
    // refreshed ID token.
    let change = Change::of(cx, &u, "Renamed");
    let (field, new) = (change.field, change.new.clone());
    let shows = |m: &MeReading| change.shown(m);
    let mark = cx.mark(&u).await?;
    // Every refresh answers a broken ID token, until cleared.
    let id = cx.arm_refresh(fault, &u, None).await?;
    change.make(cx, &u).await?;
    let faulty = |r: &[crate::idp::JournalEntry]| r.iter().filter(|e| !e.faults.is_empty()).count();
    let got = cx.await_refreshes(&u, mark, |r| faulty(r) >= 2).await?;
    let me = cx.me(&b).await?;
    cx.disarm(id).await?;
    cite_first_faulty(cx, &got)?;
    if !me.logged_in() {
        return Ok(Verdict::pass(format!(
            "the RP ended the session when a refreshed ID token {what} came, while unbroken refreshes kept it open"
        )));
    }
    if shows(&me).as_deref() == Some(&new) {
        let userinfo = cx
            .journal(&u)
            .await?
            .into_iter()
            .any(|e| e.seq > mark && e.endpoint == "userinfo");
        if userinfo {
            return Ok(Verdict::error(format!(
                "the new {field} showed while every refreshed ID token was one {what}, but the RP also read userinfo, which carries it: what it made of the ID token cannot be told"
            )));
        }
        let taken = format!(
            "the RP applied refreshed ID tokens {what}: the {field} changed at the IdP shows ({new:?})"
        );
        return Ok(match accepted {
            Accepted::Fails(why) => Verdict::fail(format!("{taken}; {why}")),
            Accepted::Unverified if cx.shared.sites.idp.starts_with("https://") => {
                Verdict::warn(format!(
                    "{taken}: it does not check the signature of a refreshed ID token, relying on TLS server validation instead, as OIDC Core §3.1.3.7 (6) allows for a token received directly over TLS; the token proves nothing once it leaves that connection"
                ))
            }
            Accepted::Unverified => Verdict::fail(format!(
                "{taken}, from an issuer on plain HTTP, where no TLS server validation can stand in for the signature check: anyone on the path can forge a refreshed name, email or groups (OIDC Core §12.2, §3.1.3.7 (6)). `conformance run --tls` judges it against an https issuer"
            )),
        });
    }
    // Control: the same change, refreshes unbroken, must show; else the RP syncs no
    // profile and the verdict above proves nothing.
    cx.step("control: the fault cleared, the next refreshes are unbroken");
    let after = cx.mark(&u).await?;
    let got = cx
        .await_sync(&b, &u, after, |m| shows(m).as_deref() == Some(&new))
        .await?;
    Ok(match got.latency {
        Some(_) => Verdict::pass(format!(
            "refreshed ID tokens {what} were not applied: /me kept the {field} {:?} while the IdP's was {new:?}; once the refreshes were unbroken the new {field} showed",
            shows(&me).unwrap_or_default()
        )),
        None => Verdict::error(format!(
            "the control failed: with unbroken refreshes the new {field} did not show either (/me {}), so what the RP made of a refreshed ID token {what} cannot be told (identity.profile-sync judges the sync)",
            got.me.status
        )),
    })
}

/// Cites the first refresh that took the armed fault; without one the RP never refreshed
/// within the patience and never saw the refreshed ID token, which fails the scenario.
pub(super) fn cite_first_faulty(cx: &Ctx, got: &[crate::idp::JournalEntry]) -> Result<(), Stop> {
    let Some(first) = got.iter().find(|e| !e.faults.is_empty()) else {
        return Err(Stop::with(Verdict::fail(format!(
            "the RP did not refresh within {:.1} s (the patience: three sync deadlines, or an access token's lifetime and one), so it never saw the refreshed ID token: background sync is required",
            cx.shared.patience().as_secs_f64()
        ))));
    };
    cx.cite(first);
    Ok(())
}
