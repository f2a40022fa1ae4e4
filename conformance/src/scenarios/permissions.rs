//! `permissions`: group → permission sync in strict, additive and no-sync mode.

use super::claim_sources;
use super::claims;
use super::groups::{UNMAPPED, apart, differs, mapped, not_synced, pair, shown};
use super::permissions_grant::{needs_grant, started_with, strict_grant_wiped};
use super::support::{login_ok, scenario};
use crate::rp::{Capability, SyncMode};
use crate::scenario::{Ctx, Scenario};
use crate::verdict::{Judged, Verdict};

const SYNCING: &[SyncMode] = &[SyncMode::Strict, SyncMode::Additive];
const STRICT: &[SyncMode] = &[SyncMode::Strict];
const ADDITIVE: &[SyncMode] = &[SyncMode::Additive];
const NONE: &[SyncMode] = &[SyncMode::None];

pub fn all() -> Vec<Scenario> {
    let all = vec![
        scenario!(
            "permissions.initial",
            Permissions,
            "permissions are derived from the IdP groups through the group map; an unmapped group grants nothing",
            "groups at first login become exactly the mapped permissions; an unmapped group gives none",
            initial,
            modes = SYNCING
        ),
        scenario!(
            "permissions.strict.add",
            Permissions,
            "strict mode: permissions are exactly those of the user's current groups",
            "strict: a group added at the IdP adds its permissions",
            adds,
            modes = STRICT
        ),
        scenario!(
            "permissions.strict.remove",
            Permissions,
            "strict mode: permissions are exactly those of the user's current groups",
            "strict: a group removed at the IdP takes its permissions away, the last group too",
            strict_remove,
            modes = STRICT
        ),
        scenario!(
            "permissions.strict.webapp-grant-wiped",
            Permissions,
            "strict mode: permissions cannot be edited in the RP's own UI; a sync restores the groups' permissions",
            "strict: a permission granted in the webapp does not survive a sync (or is refused)",
            strict_grant_wiped,
            modes = STRICT
        ),
        scenario!(
            "permissions.additive.add",
            Permissions,
            "additive mode: a group added at the IdP adds its permissions at the next sync",
            "additive: a group added at the IdP adds its permissions",
            adds,
            modes = ADDITIVE
        ),
        scenario!(
            "permissions.additive.remove-kept",
            Permissions,
            "additive mode: a sync never removes a permission",
            "additive: a group removed at the IdP leaves its permissions in place",
            additive_remove_kept,
            modes = ADDITIVE
        ),
        scenario!(
            "permissions.additive.webapp-grant-kept",
            Permissions,
            "additive mode: permissions granted in the RP's own UI survive a sync",
            "additive: a permission granted in the webapp survives a sync",
            additive_grant_kept,
            modes = ADDITIVE
        ),
        scenario!(
            "permissions.none.ignored",
            Permissions,
            "sync off: permissions are managed in the RP alone; IdP groups change nothing",
            "sync off: group changes at the IdP change no permission",
            none_ignored,
            modes = NONE
        ),
        scenario!(
            "permissions.relogin-forces-sync",
            Permissions,
            "logging out and in again forces a sync at once",
            "after logging out and in, a group change shows at once, with background sync failing",
            relogin_forces_sync,
            modes = SYNCING
        ),
        scenario!(
            "permissions.claim-location",
            Permissions,
            "groups are read from the configured token (ID or access token) at the configured JSON pointer, as an array or a single string; RFC 6901",
            "groups are read at the configured token and pointer: id_token:/groups, a key with dots in the access token, a single string",
            claims::claim_location,
            modes = SYNCING
        ),
        scenario!(
            "permissions.groups-aggregated",
            Permissions,
            "groups sent as aggregated claims (in a JWT signed by the provider, named by `_claim_names`) grant the same permissions as inline groups; an RP must at least ignore what it does not understand and log the user in; OIDC Core §5.6.2, RFC 7519 §4; OIDF oidcc-client-test-aggregated-claims",
            "a first login whose groups come in `_claim_sources.src1.JWT` grants their permissions (ignoring them is a warn, refusing the login a fail)",
            claim_sources::aggregated,
            modes = SYNCING
        ),
        scenario!(
            "permissions.groups-distributed",
            Permissions,
            "groups sent as distributed claims (at a claims endpoint, fetched with the access token) grant the same permissions as inline groups, as Entra ID's groups overage needs; an RP must at least log the user in; OIDC Core §5.6.2, RFC 7519 §4; OIDF oidcc-client-test-distributed-claims",
            "a first login whose groups are at `_claim_sources.src1.endpoint` grants their permissions once fetched (ignoring them is a warn, refusing the login a fail)",
            claim_sources::distributed,
            modes = SYNCING
        ),
    ];
    all.into_iter()
        .map(|s| Scenario {
            needs_groups: true,
            ..s
        })
        .collect()
}

async fn initial(cx: &Ctx) -> Judged {
    let rp = &cx.shared.rp;
    let p = pair(rp)?;
    let u = cx.user("u", &[&p.a, UNMAPPED]).await?;
    let (_, _, me) = login_ok(cx, &u).await?;
    let want = mapped(rp, &[&p.a]);
    let got = shown(&me);
    Ok(if got == want {
        Verdict::pass(format!(
            "groups [{}, {UNMAPPED}] became exactly {want:?}; the unmapped group gave nothing",
            p.a
        ))
    } else {
        Verdict::fail(format!("after the first login {}", differs(&got, &want)))
    })
}

/// `.strict.add` and `.additive.add`: a group added shows within the sync.
async fn adds(cx: &Ctx) -> Judged {
    let rp = &cx.shared.rp;
    let p = pair(rp)?;
    let u = cx.user("u", &[&p.a]).await?;
    let (b, _, me) = login_ok(cx, &u).await?;
    started_with(&shown(&me), &mapped(rp, &[&p.a]))?;
    let mark = cx.set_groups(&u, &[&p.a, &p.b], None).await?;
    let want = mapped(rp, &[&p.a, &p.b]);
    let got = cx.await_sync(&b, &u, mark, |m| shown(m) == want).await?;
    Ok(match got.latency {
        Some(t) => {
            cx.latency(&format!("group {} added", p.b), &[t]);
            Verdict::pass(format!(
                "the added group's permissions reached the RP: {want:?}"
            ))
        }
        None => not_synced(cx, &got, &want, "the added group did not take effect"),
    })
}

async fn strict_remove(cx: &Ctx) -> Judged {
    let rp = &cx.shared.rp;
    let p = pair(rp)?;
    let u = cx.user("u", &[&p.a, &p.b]).await?;
    let (b, _, me) = login_ok(cx, &u).await?;
    started_with(&shown(&me), &mapped(rp, &[&p.a, &p.b]))?;
    let mark = cx.set_groups(&u, &[&p.a], None).await?;
    let want = mapped(rp, &[&p.a]);
    let got = cx.await_sync(&b, &u, mark, |m| shown(m) == want).await?;
    let Some(t1) = got.latency else {
        return Ok(not_synced(
            cx,
            &got,
            &want,
            "strict mode must take a removed group's permissions away",
        ));
    };
    cx.latency(&format!("group {} removed", p.b), &[t1]);
    let mark = cx.set_groups(&u, &[], None).await?;
    cx.step("the IdP now leaves the groups claim out, as Okta and Entra ID do for no groups");
    let got = cx.await_sync(&b, &u, mark, |m| shown(m).is_empty()).await?;
    Ok(match got.latency {
        Some(t2) => {
            cx.latency(&format!("last group {} removed", p.a), &[t2]);
            Verdict::pass(
                "removed groups took their permissions away, the last one too (claim absent)",
            )
        }
        None => not_synced(
            cx,
            &got,
            &[],
            "an absent groups claim means no groups, not \"no change\"",
        ),
    })
}

async fn additive_remove_kept(cx: &Ctx) -> Judged {
    let rp = &cx.shared.rp;
    let g = apart(rp)?;
    let u = cx.user("u", &[&g.x]).await?;
    let (b, _, me) = login_ok(cx, &u).await?;
    let before = mapped(rp, &[&g.x]);
    started_with(&shown(&me), &before)?;
    // One step removes x and adds y: the sync that brings y's permission is the one that
    // would have taken x's away.
    let mark = cx.set_groups(&u, &[&g.y], None).await?;
    let got = cx
        .await_sync(&b, &u, mark, |m| shown(m).contains(&g.only_y))
        .await?;
    let mut want = before.clone();
    want.extend(mapped(rp, &[&g.y]));
    want.sort();
    want.dedup();
    kept(cx, &got, &g.only_y, &before, &want, "the removed group's")
}

/// Additive verdicts: the sync applied the added group (`/me` shows `added`), and still
/// shows every permission of `kept_perms`.
fn kept(
    cx: &Ctx,
    got: &crate::scenario::Awaited,
    added: &str,
    kept_perms: &[String],
    want: &[String],
    what: &str,
) -> Judged {
    if !got.me.logged_in() {
        return Ok(Verdict::fail(format!(
            "the session ended (/me answered {}) after a group change",
            got.me.status
        )));
    }
    let have = shown(&got.me);
    if !have.iter().any(|p| p == added) {
        return Ok(not_synced(
            cx,
            got,
            want,
            "the added group did not take effect, so nothing shows what a sync keeps",
        ));
    }
    if kept_perms.iter().all(|p| have.contains(p)) {
        return Ok(Verdict::pass(format!(
            "the sync added {added:?} and {what} permissions are still there: {have:?}"
        )));
    }
    if let Some(last) = got.refreshes.last() {
        cx.cite(last);
    }
    Ok(Verdict::fail(format!(
        "the sync that added {added:?} removed {what} permissions: {}; additive mode never removes",
        differs(&have, want)
    )))
}

async fn additive_grant_kept(cx: &Ctx) -> Judged {
    needs_grant(cx)?;
    let rp = &cx.shared.rp;
    let g = apart(rp)?;
    let Some(extra) = g.neither.clone() else {
        return Ok(Verdict::skip(format!(
            "rp.toml's group_map needs a permission that neither {:?} nor {:?} gives, to grant through the webapp",
            g.x, g.y
        )));
    };
    let u = cx.user("u", &[&g.x]).await?;
    let (b, _, me) = login_ok(cx, &u).await?;
    started_with(&shown(&me), &mapped(rp, &[&g.x]))?;
    let status = cx.grant(&b, &extra).await?;
    let granted = cx.me(&b).await?;
    let before = shown(&granted);
    if !before.contains(&extra) {
        return Ok(Verdict::fail(format!(
            "the RP declares capability grant, but granting {extra:?} answered HTTP {status} and /me shows {before:?}"
        )));
    }
    let mark = cx.set_groups(&u, &[&g.x, &g.y], None).await?;
    let got = cx
        .await_sync(&b, &u, mark, |m| shown(m).contains(&g.only_y))
        .await?;
    let mut want = before.clone();
    want.extend(mapped(rp, &[&g.y]));
    want.sort();
    want.dedup();
    kept(cx, &got, &g.only_y, &before, &want, "the webapp-granted")
}

async fn none_ignored(cx: &Ctx) -> Judged {
    let rp = &cx.shared.rp;
    let g = apart(rp)?;
    let u = cx.user("u", &[&g.x]).await?;
    let (b, _, me) = login_ok(cx, &u).await?;
    if shown(&me).contains(&g.only_x) {
        return Ok(Verdict::fail(format!(
            "with sync off the first login applied group {:?}: /me shows {:?}",
            g.x,
            shown(&me)
        )));
    }
    if rp.can(Capability::Grant) {
        cx.grant(&b, &g.only_x).await?;
    }
    let before = shown(&cx.me(&b).await?);
    let name = format!("Synced {}", u.name);
    // One step: x removed (taking what it gave, if it gave anything), y added, and a new
    // name, which shows when the sync has run (it still syncs the profile).
    let mark = cx.set_groups(&u, &[&g.y], Some(&name)).await?;
    let got = cx
        .await_sync(&b, &u, mark, |m| {
            m.name.as_deref() == Some(&name) || shown(m) != before
        })
        .await?;
    if !got.me.logged_in() {
        return Ok(Verdict::fail(format!(
            "the session ended (/me answered {}) after a group change",
            got.me.status
        )));
    }
    let after = shown(&got.me);
    if after != before {
        if let Some(last) = got.refreshes.last() {
            cx.cite(last);
        }
        return Ok(Verdict::fail(format!(
            "with sync off a group change changed the permissions: {}",
            differs(&after, &before)
        )));
    }
    if got.latency.is_none() {
        if let Some(last) = got.refreshes.last() {
            cx.cite(last);
        }
        return Ok(Verdict::error(format!(
            "cannot judge: the new name never showed ({} refreshes since the change), so nothing tells groups ignored from groups not yet read (identity.profile-sync judges the profile sync)",
            got.refreshes.len()
        )));
    }
    Ok(Verdict::pass(format!(
        "with sync off the first login gave no group permission, and a sync that renamed the user left the permissions {before:?} while the groups changed"
    )))
}

async fn relogin_forces_sync(cx: &Ctx) -> Judged {
    let rp = &cx.shared.rp;
    let p = pair(rp)?;
    let u = cx.user("u", &[&p.a]).await?;
    let (b1, _, me) = login_ok(cx, &u).await?;
    started_with(&shown(&me), &mapped(rp, &[&p.a]))?;
    // Background sync fails from now on, so only the login itself can bring the change.
    let outage = cx
        .arm_refresh(super::support::fault_status(503), &u, None)
        .await?;
    let mark = cx.set_groups(&u, &[&p.a, &p.b], None).await?;
    cx.logout(&b1).await?;
    cx.step("logged out and in again");
    let relogin = login_ok(cx, &u).await;
    cx.disarm(outage).await?;
    let (_, _, me) = relogin?;
    let want = mapped(rp, &[&p.a, &p.b]);
    let got = shown(&me);
    if got == want {
        return Ok(Verdict::pass(format!(
            "right after logging in again /me shows the new groups' {want:?}"
        )));
    }
    for e in cx.refreshes(&u, mark).await? {
        cx.cite(&e);
    }
    Ok(Verdict::fail(format!(
        "right after logging in again {}: a login must read the groups afresh",
        differs(&got, &want)
    )))
}
