//! `sync`: background sync through refresh tokens, within the sync deadline.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use mock_idp::faults::Fault;

use super::groups::{differs, mapped, not_synced, pair, shown};
use super::{fault_status, login_ok, scenario};
use crate::idp::{JournalEntry, TestUser};
use crate::rp::SyncMode;
use crate::scenario::{Awaited, Ctx, Phase, Scenario};
use crate::verdict::{Judged, MeReading, Stop, Verdict};

const SYNCING: &[SyncMode] = &[SyncMode::Strict, SyncMode::Additive];

/// Users whose latency `sync.background-deadline` measures.
const USERS: usize = 3;

pub fn all() -> Vec<Scenario> {
    vec![
        scenario!(
            "sync.background-deadline",
            Sync,
            "permission changes at the IdP reach the RP within the sync deadline (10 minutes by default), with no user action",
            "a group change reaches every user's /me within the sync deadline, with no user action",
            background_deadline,
            modes = SYNCING,
            needs_groups = true
        ),
        scenario!(
            "sync.uses-refresh-token",
            Sync,
            "background sync uses the refresh token with the RP's client authentication; RFC 6749 §6",
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
            "access ends when the refresh token is refused, not when the IdP is briefly unreachable; one user's failing refresh delays no one else's sync",
            "a refresh answered 503, or hanging past the RP's timeout, keeps permissions and stalls no other user's sync; the next cycle recovers",
            transient_failure,
            phase = Phase::Alone
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
        (Outage::Status, fault_status(503)),
        (Outage::Hang, Fault::Latency { ms: hang_ms }),
    ];
    let mut passed = Vec::new();
    let mut failed = Vec::new();
    // One after the other, so that the evidence reads in order.
    for (kind, f) in outages {
        match outage(cx, kind, f).await? {
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

/// The two outages of `sync.transient-idp-failure`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outage {
    /// The refresh is answered 503.
    Status,
    /// The refresh hangs past the RP's timeout.
    Hang,
}

/// One user through one outage: the refresh fails once, access stays (read right after
/// the failure and again after the next refresh), a later refresh succeeds. During a hang
/// another user's sync is watched: an RP that syncs one user after another stalls for
/// everyone, which is this scenario's finding.
async fn outage(cx: &Ctx, kind: Outage, fault: Fault) -> Result<Result<String, String>, Stop> {
    let rp = &cx.shared.rp;
    let p = pair(rp)?;
    let tag = match kind {
        Outage::Status => "503",
        Outage::Hang => "hang",
    };
    let u = cx.user(tag, &[&p.a]).await?;
    let (b, _, me) = login_ok(cx, &u).await?;
    let before = shown(&me);
    let what = match kind {
        Outage::Status => "after a refresh answered 503".to_owned(),
        Outage::Hang => format!(
            "after a refresh hung past the RP's {} s timeout",
            rp.idp_timeout_s
        ),
    };
    let bystander = match kind {
        Outage::Status => None,
        Outage::Hang => {
            let other = cx.user("bystander", &[&p.a]).await?;
            login_ok(cx, &other).await?;
            Some(other)
        }
    };
    let baseline = match &bystander {
        Some(o) => Some(cadence(cx, o).await?),
        None => None,
    };
    // Every wait after the fault allows the RP's own timeout on top of the patience.
    let limit = cx.shared.patience() + Duration::from_millis(hang_ms(&fault));
    let id = cx.arm_refresh(fault, &u, Some(1)).await?;
    let watching = AtomicBool::new(true);
    let watch = async {
        match &bystander {
            Some(o) => watch_syncs(cx, o, &watching).await.map(Some),
            None => Ok(None),
        }
    };
    let observe = async {
        let r = observe_outage(cx, &u, &b, limit).await;
        watching.store(false, Ordering::Relaxed);
        r
    };
    let (observed, gap) = tokio::join!(observe, watch);
    let (hit, later, readings) = observed?;
    let gap = gap?;
    let Some(faulty) = hit else {
        cx.disarm(id).await?;
        return Ok(Err(format!(
            "{tag}: the RP did not refresh within {:.0} s, so the outage never happened",
            limit.as_secs_f64()
        )));
    };
    if let (Some(o), Some(base), Some(gap)) = (&bystander, baseline, gap) {
        let deadline = cx.shared.deadline();
        cx.measure("bystander_longest_gap_between_syncs", gap);
        if gap > deadline && base <= deadline {
            return Ok(Err(format!(
                "a hung refresh for one user delayed every user's sync: while {}'s refresh hung, {} went {:.1} s without a sync (it synced every {:.1} s before; deadline {} s). Refresh each user independently, with a timeout",
                u.username,
                o.username,
                gap.as_secs_f64(),
                base.as_secs_f64(),
                deadline.as_secs_f64()
            )));
        }
    }
    let retry_refused = later
        .iter()
        .find(|e| e.seq > faulty.seq && e.error.as_deref() == Some("invalid_grant"));
    for (when, m) in &readings {
        if let (false, Some(e)) = (m.logged_in(), retry_refused) {
            cx.cite(e);
            return Ok(Err(format!(
                "{what} the IdP refused the retry ({} invalid_grant: the lost answer had already rotated the token) and the session ended: with this provider's rotation and no reuse interval, a lost answer ends the session",
                e.status
            )));
        }
        if !m.logged_in() {
            return Ok(Err(format!(
                "{what} the session ended ({when}: /me {}): the RP took an outage for a revocation",
                m.status
            )));
        }
        if shown(m) != before {
            return Ok(Err(format!(
                "{what} ({when}) {}: the RP took an outage for a revocation",
                differs(&shown(m), &before)
            )));
        }
    }
    let Some(ok) = later.iter().find(|e| e.ok()) else {
        return Ok(Err(format!(
            "{what} the RP stopped refreshing: no successful refresh within {:.0} s",
            limit.as_secs_f64()
        )));
    };
    cx.cite(ok);
    Ok(Ok(format!(
        "{what} permissions stayed (right after the failure and after the next refresh) and the next refresh succeeded"
    )))
}

/// How long a fault makes the IdP wait before answering.
fn hang_ms(f: &Fault) -> u64 {
    match f {
        Fault::Latency { ms } => *ms,
        _ => 0,
    }
}

/// What an outage looked like: the faulty refresh (if the RP made one), the refreshes
/// after it, and `/me` right after the failure and after the next refresh.
type Observed = (
    Option<JournalEntry>,
    Vec<JournalEntry>,
    Vec<(&'static str, MeReading)>,
);

async fn observe_outage(
    cx: &Ctx,
    u: &TestUser,
    b: &crate::browser::Browser,
    limit: Duration,
) -> Result<Observed, Stop> {
    let hit = cx
        .await_refreshes_within(u, 0, |r| r.iter().any(|e| !e.faults.is_empty()), limit)
        .await?;
    let Some(faulty) = hit.iter().find(|e| !e.faults.is_empty()).cloned() else {
        return Ok((None, Vec::new(), Vec::new()));
    };
    cx.cite(&faulty);
    let during = cx.me(b).await?;
    // A later refresh means the RP has dealt with the failed one.
    let later = cx
        .await_refreshes_within(u, faulty.seq, |r| r.iter().any(JournalEntry::ok), limit)
        .await?;
    let after = cx.me(b).await?;
    Ok((
        Some(faulty),
        later,
        vec![("right after the failure", during), ("later", after)],
    ))
}

/// The user's time between two successful refreshes before any fault: the RP's cadence.
async fn cadence(cx: &Ctx, u: &TestUser) -> Result<Duration, Stop> {
    let first = cx
        .await_refreshes(u, 0, |r| r.iter().any(JournalEntry::ok))
        .await?;
    let Some(seq) = first.iter().find(|e| e.ok()).map(|e| e.seq) else {
        return Err(Stop::with(Verdict::fail(format!(
            "the RP did not refresh {} within {:.0} s: no background sync to keep through an outage",
            u.username,
            cx.shared.patience().as_secs_f64()
        ))));
    };
    let start = Instant::now();
    cx.await_refreshes(u, seq, |r| r.iter().any(JournalEntry::ok))
        .await?;
    Ok(start.elapsed())
}

/// Watches a user's successful refreshes until `watching` turns false; the longest time
/// seen without one.
async fn watch_syncs(cx: &Ctx, u: &TestUser, watching: &AtomicBool) -> Result<Duration, Stop> {
    let mut last_seq = cx.mark(u).await?;
    let mut last = Instant::now();
    let mut longest = Duration::ZERO;
    while watching.load(Ordering::Relaxed) {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let new = cx.refreshes(u, last_seq).await?;
        if let Some(e) = new.iter().rev().find(|e| e.ok()) {
            longest = longest.max(last.elapsed());
            last = Instant::now();
            last_seq = e.seq;
        }
    }
    Ok(longest.max(last.elapsed()))
}
