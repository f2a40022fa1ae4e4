//! `identity`: who is who (users keyed by `sub`; an unambiguous account mapping).

use serde_json::json;

use super::support::{login_ok, scenario};
use crate::scenario::{Ctx, Scenario};
use crate::verdict::{Judged, Verdict};

pub fn all() -> Vec<Scenario> {
    vec![
        scenario!(
            "identity.keyed-by-sub",
            Identity,
            "users are identified by sub, never by email, which may change or be reused; OIDC Core §5.7",
            "after the user's email changes (even to another user's), a login reaches their own account, updated",
            keyed_by_sub
        ),
        scenario!(
            "identity.email-reuse",
            Identity,
            "the mapping of IdP users to RP accounts is unambiguous: a new sub never inherits an account; OIDC Core §5.7",
            "a new user with a deleted user's email does not inherit that account",
            email_reuse
        ),
        scenario!(
            "identity.profile-sync",
            Identity,
            "profile changes (name, email) reach the RP through background sync with the refresh token, within the sync deadline (10 minutes by default)",
            "name and email changes reach the RP through background sync, with no user action",
            profile_sync
        ),
    ]
}

async fn keyed_by_sub(cx: &Ctx) -> Judged {
    // Emails are neither unique nor stable (OIDC Core §5.7): give the user another user's
    // email, who logged in first, and the RP must still find the user's own account.
    let other = cx.user("other", &[]).await?;
    login_ok(cx, &other).await?;
    let u = cx.user("u", &[]).await?;
    let (b1, _, before) = login_ok(cx, &u).await?;
    cx.shared
        .admin
        .patch_user(&u.username, json!({ "email": other.email }))
        .await?;
    cx.step(format!(
        "changed {}'s email at the IdP to {}'s",
        u.username, other.username
    ));
    b1.get(&cx.shared.rp.paths.logout).await?;
    let (_, _, after) = login_ok(cx, &u).await?;
    let mut problems = Vec::new();
    if !after.is_user(&u) {
        problems.push(format!(
            "the login reached the account of {}: the RP keys accounts by email, not sub",
            after.who()
        ));
    }
    if after.email.as_ref() != Some(&other.email) {
        problems.push(format!(
            "after a fresh login /me still shows email {:?}",
            after.email.clone().unwrap_or_default()
        ));
    }
    match (&before.account, &after.account) {
        (Some(a), Some(b)) if a != b => {
            problems.push(format!("the login reached another account ({b}, was {a})"))
        }
        _ => {}
    }
    if !problems.is_empty() {
        return Ok(Verdict::fail(problems.join("; ")));
    }
    Ok(Verdict::pass(
        "with another user's email the user still reaches their own account, updated",
    ))
}

async fn email_reuse(cx: &Ctx) -> Judged {
    let group = cx
        .shared
        .rp
        .group_map
        .iter()
        .find(|(_, p)| !p.is_empty())
        .map(|(g, _)| g.as_str());
    let a = cx.user("a", group.as_slice()).await?;
    let (_, _, me_a) = login_ok(cx, &a).await?;
    cx.shared.admin.delete_user(&a.username).await?;
    cx.step(format!("deleted {} at the IdP", a.username));
    let mut b = cx.new_user("b", &[]);
    b.email = a.email.clone();
    let b = cx.create(b).await?;
    cx.step(format!(
        "created {} (a new sub) with {}'s email",
        b.username, a.username
    ));
    let browser = cx.browser();
    browser.login(&b.username, None).await?;
    let me_b = cx.me(&browser).await?;
    if !me_b.logged_in() {
        // Control: a new user with an email of their own logs in, so the refusal was about
        // the reused email, not an RP that takes no new users.
        cx.step("control: a new user with an email of their own logs in");
        let c = cx.user("fresh", &[]).await?;
        login_ok(cx, &c).await?;
        return Ok(Verdict::pass(format!(
            "the RP refused the new user with the deleted user's email (/me {}) rather than hand over the old account; a new user with an email of their own logs in",
            me_b.status
        )));
    }
    let mut problems = Vec::new();
    if !me_b.is_user(&b) {
        problems.push(format!(
            "the new user got the account of {} (account takeover by email)",
            me_b.who()
        ));
    }
    if let (Some(x), Some(y)) = (&me_a.account, &me_b.account)
        && x == y
    {
        problems.push(format!("both users reached account {x}"));
    }
    let inherited: Vec<&String> = me_b
        .permissions
        .iter()
        .flatten()
        .filter(|p| me_a.permissions.iter().flatten().any(|q| q == *p))
        .collect();
    if !inherited.is_empty() {
        problems.push(format!(
            "the new user holds the old user's permissions {inherited:?}"
        ));
    }
    Ok(if problems.is_empty() {
        Verdict::pass("the new user got an account of their own")
    } else {
        Verdict::fail(problems.join("; "))
    })
}

async fn profile_sync(cx: &Ctx) -> Judged {
    let u = cx.user("u", &[]).await?;
    let (b, _, _) = login_ok(cx, &u).await?;
    let name = format!("Renamed {}", u.name);
    let email = format!("renamed-{}", u.email);
    cx.shared
        .admin
        .patch_user(&u.username, json!({ "name": name, "email": email }))
        .await?;
    cx.step(format!(
        "changed {}'s name and email at the IdP",
        u.username
    ));
    let mark = cx.mark(&u).await?;
    let got = cx
        .await_sync(&b, &u, mark, |m| {
            m.name.as_ref() == Some(&name) && m.email.as_ref() == Some(&email)
        })
        .await?;
    if let Some(t) = got.latency {
        cx.latency("name and email", &[t]);
        return Ok(Verdict::pass(
            "name and email changed at the IdP reached the RP with no user action",
        ));
    }
    Ok(match got.refreshes.last() {
        Some(e) => {
            cx.cite(e);
            Verdict::fail(format!(
                "the RP refreshed the user's tokens {} times after the change, yet /me shows name {:?} and email {:?}",
                got.refreshes.len(),
                got.me.name.unwrap_or_default(),
                got.me.email.unwrap_or_default()
            ))
        }
        None => Verdict::fail(format!(
            "the RP did not refresh the user's tokens within {:.0} s (the patience: three sync deadlines, or an access token's lifetime and one): profile changes never reach it",
            cx.shared.patience().as_secs_f64()
        )),
    })
}
