//! What scenarios share: logging a test user in, a login refused for a fault, the
//! control that proves the same login without it works, and the scenario-building macro.

use mock_idp::faults::{Fault, FaultPoint};

use crate::browser::{Browser, Login, Tamper};
use crate::idp::{TestUser, kind};
use crate::scenario::Ctx;
use crate::verdict::{Judged, MeReading, Stop, Verdict};

/// Builds a [`Scenario`] from an async fn; optional `field = value` pairs set `phase`
/// and `modes`.
macro_rules! scenario {
    ($id:literal, $cat:ident, $req:literal, $desc:literal, $f:path $(, $key:ident = $val:expr)* $(,)?) => {{
        #[allow(unused_mut)]
        let mut s = $crate::scenario::Scenario {
            id: $id,
            category: $crate::scenario::Category::$cat,
            requirement: $req,
            description: $desc,
            phase: $crate::scenario::Phase::Concurrent,
            modes: &[],
            needs_groups: false,
            run: |cx| Box::pin($f(cx)),
        };
        $( s.$key = $val; )*
        s
    }};
}
pub(crate) use scenario;

/// Logs `u` in with a fresh browser; the scenario ends in `error` when that fails, since
/// it needs a working login to judge anything else (login.code-flow judges the login).
pub(super) async fn login_ok(cx: &Ctx, u: &TestUser) -> Result<(Browser, Login, MeReading), Stop> {
    let b = cx.browser();
    let started = std::time::Instant::now();
    let login = b.login(&u.username, None).await?;
    let me = cx.me(&b).await?;
    if !me.logged_in() {
        // A login slowed past its tokens' lifetime by the machine (the harness lost as much
        // time as the login took beyond a second) says so.
        let took = started.elapsed();
        let lag = cx.shared.lag.during(started, std::time::Instant::now());
        let load = if lag.explains(took.saturating_sub(std::time::Duration::from_secs(1)) / 2) {
            format!(
                "; the login took {:.1} s and the machine was loaded meanwhile: {}",
                took.as_secs_f64(),
                lag.describe()
            )
        } else {
            String::new()
        };
        return Err(Stop::with(Verdict::error(format!(
            "{} could not log in (callback answered {}{}, /me {}{}){load}: this scenario needs a working login",
            u.username,
            status(login.callback_status),
            answer(&login),
            me.status,
            refused_exchange(cx, u).await.unwrap_or_default()
        ))));
    }
    Ok((b, login, me))
}

/// `; the IdP refused its code exchange: <error>: <description>` when the journal shows
/// the user's code exchange refused (a wrong secret, a spent client assertion): the real
/// reason a login failed, cited.
pub(super) async fn refused_exchange(cx: &Ctx, u: &TestUser) -> Option<String> {
    let journal = cx.journal(u).await.ok()?;
    let e = journal.iter().rev().find(|e| {
        (e.endpoint == "token" && e.grant_type.as_deref() == Some("authorization_code")
            || e.endpoint == "userinfo")
            && e.status >= 400
    })?;
    cx.cite(e);
    let what = match e.endpoint.as_str() {
        "token" => "its code exchange",
        _ => "its userinfo call",
    };
    Some(format!(
        "; the IdP refused {what}: {}: {}",
        e.error.as_deref().unwrap_or("no error code"),
        e.error_description.as_deref().unwrap_or("no description")
    ))
}

/// ` ("the RP's words")` of a callback that answered an error with a body, else nothing.
pub(super) fn answer(login: &Login) -> String {
    let body = login.callback_body.trim();
    match login.callback_status {
        Some(s) if s >= 400 && !body.is_empty() => format!(" ({body:?})"),
        _ => String::new(),
    }
}

pub(super) fn status(s: Option<u16>) -> String {
    s.map_or_else(|| "never reached".to_owned(), |s| s.to_string())
}

/// Logs a new user in with these faults armed once (or the callback tampered with). Each
/// fault must fire, or the login tested nothing and the scenario is an `error` (a userinfo
/// fault fires only for an RP that calls userinfo, which `login.userinfo` judges); the
/// journal lines of the fired faults are cited.
pub(super) async fn login_with_faults(
    cx: &Ctx,
    faults: &[Fault],
    tamper: Option<Tamper>,
) -> Result<(TestUser, Browser, Login, MeReading), Stop> {
    let u = cx.user(&cx.faulty_login_tag(), &[]).await?;
    let mut armed = Vec::new();
    for f in faults {
        armed.push((cx.arm(f.clone(), &u).await?, f));
    }
    let b = cx.browser();
    let login = b.login(&u.username, tamper).await?;
    let mut unfired = Vec::new();
    for (id, f) in armed {
        if cx.disarm(id).await? && f.point() != FaultPoint::Userinfo {
            unfired.push(kind(f));
        }
    }
    for e in cx.journal(&u).await? {
        if !e.faults.is_empty() {
            cx.cite(&e);
        }
    }
    if !unfired.is_empty() {
        return Err(Stop::with(Verdict::error(format!(
            "fault {} never fired (the callback answered {}{}): the login did not reach the point under test",
            unfired.join(", "),
            status(login.callback_status),
            refused_exchange(cx, &u).await.unwrap_or_default()
        ))));
    }
    let me = cx.me(&b).await?;
    Ok((u, b, login, me))
}

/// The control of a negative login: the same user, nothing broken, must log in; else the
/// refusal may be an RP that logs no one in, and the scenario is an `error`.
pub(super) async fn control(cx: &Ctx, u: &TestUser) -> Result<(), Stop> {
    cx.step("control: the same user logs in again, nothing broken");
    let b = cx.browser();
    b.login(&u.username, None).await?;
    let me = cx.me(&b).await?;
    if me.logged_in() && me.is_user(u) {
        return Ok(());
    }
    Err(Stop::with(Verdict::error(format!(
        "the control login failed too (/me {}): cannot tell a rejection from an RP that logs no one in",
        me.status
    ))))
}

/// The negative-case pattern: with these faults armed once (or the callback tampered
/// with), a login must leave no session; then the control login must succeed.
pub(super) async fn refused_login(
    cx: &Ctx,
    what: &str,
    faults: &[Fault],
    tamper: Option<Tamper>,
) -> Judged {
    refused_login_or(cx, what, faults, tamper, |me| {
        Verdict::fail(format!(
            "the RP accepted {what}: /me answered 200 for {}",
            me.who()
        ))
    })
    .await
}

/// [`refused_login`] for an ID token whose signature does not verify: accepting it is
/// judged by [`unverified_signature`].
pub(super) async fn refused_forged_signature(cx: &Ctx, what: &str, faults: &[Fault]) -> Judged {
    let issuer = cx.shared.sites.idp.clone();
    refused_login_or(cx, what, faults, None, |me| {
        unverified_signature(&issuer, what, me)
    })
    .await
}

/// An RP accepted `what`, an ID token whose signature does not verify, from the token
/// endpoint of `issuer`. OIDC Core §3.1.3.7 (6) lets TLS server validation stand in for the
/// signature check of an ID token received directly from the token endpoint: over https
/// that is a warn (the token proves nothing once it leaves that connection); over plain
/// http nothing stands in for it, and anyone on the path can forge a login: a fail.
pub(super) fn unverified_signature(issuer: &str, what: &str, me: &MeReading) -> Verdict {
    if issuer.starts_with("https://") {
        Verdict::warn(format!(
            "accepted {what} (/me answered 200 for {}): it does not check the signature of an ID token from the token endpoint, relying on TLS server validation instead, as OIDC Core §3.1.3.7 (6) allows for a token received directly over TLS; the token proves nothing once it leaves that connection",
            me.who()
        ))
    } else {
        Verdict::fail(format!(
            "accepted {what} (/me answered 200 for {}) from an issuer on plain HTTP, where no TLS server validation can stand in for the signature check (OIDC Core §3.1.3.7 (6) allows that only over TLS): anyone on the path can forge a login. `conformance run --tls` judges it against an https issuer, as it runs in production",
            me.who()
        ))
    }
}

/// The negative-case pattern, `accepted` judging an RP that opened a session.
pub(super) async fn refused_login_or(
    cx: &Ctx,
    what: &str,
    faults: &[Fault],
    tamper: Option<Tamper>,
    accepted: impl FnOnce(&MeReading) -> Verdict,
) -> Judged {
    let (u, _, login, me) = login_with_faults(cx, faults, tamper).await?;
    if me.logged_in() {
        return Ok(accepted(&me));
    }
    control(cx, &u).await?;
    Ok(match login.callback_status {
        None => Verdict::error("the IdP never redirected back to the RP"),
        Some(s) if s >= 500 => Verdict::warn(format!(
            "refused {what}, but with HTTP {s} instead of a clear error"
        )),
        Some(s) => Verdict::pass(format!(
            "refused {what}: the callback answered {s}, /me {}; unbroken, the user logs in",
            me.status
        )),
    })
}

/// The token endpoint answers this HTTP status.
pub(super) fn fault_status(status: u16) -> Fault {
    Fault::HttpStatus { status }
}
