//! `sync`: background sync through refresh tokens (seed 000: "within 10 minutes").

use std::time::Duration;

use futures_util::future::join_all;
use serde_json::json;

use super::groups::{differs, mapped, not_synced, pair, shown};
use super::{fault_status, login_ok, scenario};
use crate::idp::{JournalEntry, TestUser};
use crate::rp::SyncMode;
use crate::scenario::{Awaited, Ctx, Scenario};
use crate::verdict::{Judged, MeReading, Stop, Verdict};

const SYNCING: &[SyncMode] = &[SyncMode::Strict, SyncMode::Additive];

/// Users whose latency `sync.background-deadline` measures.
const USERS: usize = 3;

pub fn all() -> Vec<Scenario> {
    vec![
        scenario!(
            "sync.background-deadline",
            Sync,
            "seed 000 (permissions synchronised within 10 minutes)",
            "a group change reaches every user's /me within the sync deadline, with no user action",
            background_deadline,
            modes = SYNCING,
            needs_groups = true
        ),
        scenario!(
            "sync.uses-refresh-token",
            Sync,
            "seed 000 (relies on OAuth2 refresh tokens); RFC 6749 §6",
            "background sync uses the refresh_token grant with the declared client authentication",
            uses_refresh_token
        ),
        scenario!(
            "sync.rotation",
            Sync,
            "RFC 9700 §4.14.2 (refresh token rotation); RFC 6749 §6",
            "with rotating refresh tokens the RP keeps the newest and never presents a spent one",
            rotation
        ),
        scenario!(
            "sync.transient-idp-failure",
            Sync,
            "seed 000 (access ends when the refresh token expires, not when the IdP is down)",
            "a refresh answered 503, or hanging past the RP's timeout, keeps permissions; the next cycle recovers",
            transient_failure
        ),
    ]
}

async fn background_deadline(cx: &Ctx) -> Judged {
    let rp = &cx.shared.rp;
    let p = pair(rp)?;
    let before = mapped(rp, &[&p.a]);
    let want = mapped(rp, &[&p.a, &p.b]);
    let mut users = Vec::new();
    for i in 1..=USERS {
        let u = cx.user(&format!("u{i}"), &[&p.a]).await?;
        let (b, _, me) = login_ok(cx, &u).await?;
        if shown(&me) != before {
            return Err(Stop::with(Verdict::error(format!(
                "at login {} (permissions.initial judges this)",
                differs(&shown(&me), &before)
            ))));
        }
        users.push((u, b));
    }
    let mut marks = Vec::new();
    for (u, _) in &users {
        marks.push(cx.set_groups(u, &[&p.a, &p.b], None).await?);
    }
    let waits = users
        .iter()
        .zip(&marks)
        .map(|((u, b), mark)| cx.await_sync(b, u, *mark, |m| shown(m) == want));
    let from = cx.readings();
    let got: Vec<Awaited> = join_all(waits)
        .await
        .into_iter()
        .collect::<Result<_, Stop>>()?;
    cx.order_readings(from);
    let latencies: Vec<Duration> = got.iter().filter_map(|g| g.latency).collect();
    cx.latency(&format!("group {} added", p.b), &latencies);
    if let Some(g) = got.iter().find(|g| g.latency.is_none()) {
        return Ok(not_synced(cx, g, &want, "the change never reached the RP"));
    }
    let deadline = cx.shared.deadline();
    let slowest = latencies.iter().max().copied().unwrap_or_default();
    let stat = crate::verdict::LatencyStat::of("", &latencies, deadline)
        .map(|s| s.summary())
        .unwrap_or_default();
    Ok(if slowest <= deadline {
        Verdict::pass(format!(
            "all {USERS} users saw the change within the {} s deadline",
            deadline.as_secs_f64()
        ))
    } else {
        Verdict::fail(format!(
            "observed {:.2} s for the slowest user, deadline {} s ({stat}): the RP syncs too rarely",
            slowest.as_secs_f64(),
            deadline.as_secs_f64()
        ))
    })
}

/// The first refresh-token grants after this user's login (waits up to the patience).
async fn first_refreshes(cx: &Ctx, u: &TestUser, n: usize) -> Result<Vec<JournalEntry>, Stop> {
    let got = cx.await_refreshes(u, 0, |r| r.len() >= n).await?;
    if got.is_empty() {
        return Err(Stop::with(Verdict::fail(format!(
            "the RP did not use the refresh token within {:.0} s (three sync deadlines): no background sync",
            cx.shared.patience().as_secs_f64()
        ))));
    }
    Ok(got)
}

async fn uses_refresh_token(cx: &Ctx) -> Judged {
    let u = cx.user("u", &[]).await?;
    login_ok(cx, &u).await?;
    let got = first_refreshes(cx, &u, 1).await?;
    let first = &got[0];
    cx.cite(first);
    let declared = cx.shared.rp.client_auth.as_str();
    Ok(match first.auth_method.as_deref() {
        Some(m) if m == declared => Verdict::pass(format!(
            "background sync used the refresh_token grant with {declared}"
        )),
        other => Verdict::fail(format!(
            "the refresh authenticated with {}, the RP declares {declared}",
            other.unwrap_or("nothing")
        )),
    })
}

async fn rotation(cx: &Ctx) -> Judged {
    if !cx.shared.idp.rotates {
        return Ok(Verdict::skip(format!(
            "profile {} does not rotate refresh tokens",
            cx.shared.idp.profile.as_deref().unwrap_or("?")
        )));
    }
    let u = cx.user("u", &[]).await?;
    login_ok(cx, &u).await?;
    cx.step("the IdP rotates refresh tokens: each use returns a new one and spends the old");
    // Each refresh within the patience of the one before (an RP may sync rarely: timing is
    // sync.background-deadline's to judge).
    let mut got = first_refreshes(cx, &u, 1).await?;
    while got.len() < 3 {
        let last = got[got.len() - 1].seq;
        let next = cx.await_refreshes(&u, last, |r| !r.is_empty()).await?;
        if next.is_empty() {
            break;
        }
        got.extend(next);
    }
    got.truncate(3);
    for e in &got {
        cx.cite(e);
    }
    if let Some(e) = got
        .iter()
        .find(|e| e.lints.iter().any(|l| l == "refresh_token_reused"))
    {
        return Ok(Verdict::fail(format!(
            "refresh #{} presented a token the RP had already exchanged: it did not keep the rotated one (outside the IdP's grace period this revokes the user's whole token family)",
            got.iter().position(|x| x.seq == e.seq).unwrap_or(0) + 1
        )));
    }
    if let Some(e) = got.iter().find(|e| !e.ok()) {
        return Ok(Verdict::fail(format!(
            "a refresh failed after rotation: {}",
            e.line()
        )));
    }
    if got.len() < 3 {
        return Ok(Verdict::fail(format!(
            "refresh #{} did not come within {:.0} s of the one before: rotation broke the sync",
            got.len() + 1,
            cx.shared.patience().as_secs_f64()
        )));
    }
    Ok(Verdict::pass(
        "three refreshes in a row, each with the token the previous one returned",
    ))
}

async fn transient_failure(cx: &Ctx) -> Judged {
    let hang_ms = (cx.shared.rp.idp_timeout_s * 1000.0) as u64 + 1000;
    let outages = [
        ("503", fault_status(503)),
        ("hang", json!({ "kind": "latency", "ms": hang_ms })),
    ];
    let mut passed = Vec::new();
    let mut failed = Vec::new();
    // One after the other, so that the evidence reads in order.
    for (tag, f) in &outages {
        match outage(cx, tag, f.clone()).await? {
            Ok(s) => passed.push(s),
            Err(s) => failed.push(s),
        }
    }
    Ok(if failed.is_empty() {
        Verdict::pass(format!(
            "{}: an outage is not a revocation",
            passed.join("; ")
        ))
    } else {
        Verdict::fail(failed.join("; "))
    })
}

/// One user through one outage: the refresh fails once, access stays, a later refresh
/// succeeds.
async fn outage(
    cx: &Ctx,
    tag: &str,
    fault: serde_json::Value,
) -> Result<Result<String, String>, Stop> {
    let rp = &cx.shared.rp;
    let p = pair(rp)?;
    let u = cx.user(tag, &[&p.a]).await?;
    let (b, _, me) = login_ok(cx, &u).await?;
    let before = shown(&me);
    let what = if tag == "503" {
        "after a refresh answered 503".to_owned()
    } else {
        format!(
            "after a refresh hung past the RP's {} s timeout",
            rp.idp_timeout_s
        )
    };
    let id = cx.arm_refresh(fault, &u, Some(1)).await?;
    let hit = cx
        .await_refreshes(&u, 0, |r| r.iter().any(|e| !e.faults.is_empty()))
        .await?;
    let Some(faulty) = hit.iter().find(|e| !e.faults.is_empty()).cloned() else {
        cx.shared.admin.clear(id).await;
        return Ok(Err(format!(
            "{tag}: the RP did not refresh within {:.0} s, so the outage never happened",
            cx.shared.patience().as_secs_f64()
        )));
    };
    cx.cite(&faulty);
    // A later refresh means the RP has dealt with the failed one.
    let later = cx
        .await_refreshes(&u, faulty.seq, |r| r.iter().any(JournalEntry::ok))
        .await?;
    let during: MeReading = cx.me(&b).await?;
    let retry_refused = later
        .iter()
        .chain(hit.iter())
        .find(|e| e.seq > faulty.seq && e.error.as_deref() == Some("invalid_grant"));
    if let (false, Some(e)) = (during.logged_in(), retry_refused) {
        cx.cite(e);
        return Ok(Err(format!(
            "{what} the IdP refused the retry ({} invalid_grant: the lost answer had already rotated the token) and the session ended: with this provider's rotation and no reuse interval, a lost answer ends the session",
            e.status
        )));
    }
    if !during.logged_in() {
        return Ok(Err(format!(
            "{what} the session ended (/me {}): the RP took an outage for a revocation",
            during.status
        )));
    }
    if shown(&during) != before {
        return Ok(Err(format!(
            "{what} {}: the RP took an outage for a revocation",
            differs(&shown(&during), &before)
        )));
    }
    if !later.iter().any(JournalEntry::ok) {
        return Ok(Err(format!(
            "{what} the RP stopped refreshing: no successful refresh within {:.0} s",
            cx.shared.patience().as_secs_f64()
        )));
    }
    Ok(Ok(format!(
        "{what} permissions stayed and the next refresh succeeded"
    )))
}
