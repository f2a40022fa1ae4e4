//! `logout.session-ended`: the RP's own logout ends its server-side session, not just the
//! cookie in the browser that asked (OWASP ASVS V3.3.1). A copy of the session cookie
//! taken before the logout — from a shared computer, a proxy log, malware — must open
//! nothing after it. An RP whose sessions live in the cookie itself (a signed client-side
//! session) cannot end one, and fails.

use super::support::{login_ok, scenario};
use crate::scenario::{Ctx, Scenario};
use crate::verdict::{Judged, Stop, Verdict};

pub fn all() -> Vec<Scenario> {
    vec![scenario!(
        "logout.session-ended",
        Logout,
        "logout invalidates the session on the server, so that a copy of the session cookie taken before it opens nothing after it; OWASP ASVS V3.3.1",
        "after the RP's logout, a copy of the session cookie taken before it no longer opens /me",
        session_ended
    )]
}

async fn session_ended(cx: &Ctx) -> Judged {
    let u = cx.user("u", &[]).await?;
    // Only the RP's own logout may end the session here.
    cx.no_logout_token(&u, "(logout.backchannel* judges that)")
        .await?;
    let (b, _, _) = login_ok(cx, &u).await?;
    let copy = cx.copy_browser(&b);
    cx.step("a second browser holds a copy of the RP's cookies, taken after the login");
    // Control: the copy opens the session before the logout, else a refusal after it
    // shows nothing.
    let before = cx.me(&copy).await?;
    if !(before.logged_in() && before.is_user(&u)) {
        return Ok(Verdict::error(format!(
            "a copy of the session cookie opens no session even before the logout (/me {}): the RP ties its sessions to more than the cookie, so what its logout ends cannot be seen this way",
            before.status
        )));
    }
    cx.step(format!(
        "{} logs out at the RP ({})",
        u.username, cx.shared.rp.paths.logout
    ));
    // The whole way, as the user's browser goes: through the IdP and back where the
    // RP's logout is RP-initiated.
    match &cx.shared.rp.paths.post_logout_redirect {
        Some(_) => {
            let end = b.end_session_url().await.map_err(Stop::Harness)?;
            b.rp_logout(&cx.shared.rp.paths.logout, &end, None).await?;
        }
        None => cx.logout(&b).await?,
    }
    let own = cx.me(&b).await?;
    if own.logged_in() {
        return Ok(Verdict::fail(format!(
            "after GET {} the browser that logged out still has a session (/me {} for {})",
            cx.shared.rp.paths.logout,
            own.status,
            own.who()
        )));
    }
    let after = cx.me(&copy).await?;
    Ok(if after.logged_in() {
        Verdict::fail(format!(
            "after the logout a copy of the session cookie taken before it still opens the session (/me 200 for {}): the logout cleared the browser's cookie but not the session on the server (OWASP ASVS V3.3.1), so anyone holding the cookie stays signed in",
            after.who()
        ))
    } else {
        Verdict::pass(format!(
            "the logout ended the session on the server: a copy of the session cookie that opened it before (/me 200) opens nothing after it (/me {})",
            after.status
        ))
    })
}
