//! `sync.transient-idp-failure`: an IdP outage (a refresh answered 503, or hanging past
//! the RP's timeout) is not a revocation, and one user's hung refresh delays no one else's
//! sync.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use mock_idp::faults::Fault;

use super::groups::{differs, pair, shown};
use super::support::{fault_status, login_ok};
use crate::browser::Browser;
use crate::idp::{JournalEntry, TestUser, last_seq};
use crate::scenario::Ctx;
use crate::verdict::{Judged, MeReading, Stop, Verdict};

pub async fn transient_failure(cx: &Ctx) -> Judged {
    let p = pair(&cx.shared.rp)?;
    let hang_ms = (cx.shared.rp.idp_timeout_s * 1000.0) as u64 + 1000;
    // Another user's sync is watched throughout: while the 503 outage runs (how regular the
    // RP's sync is on this machine now), then while a refresh hangs. An RP that refreshes
    // users one after another stalls for everyone during the hang.
    let other = cx.user("bystander", &[&p.a]).await?;
    login_ok(cx, &other).await?;
    let cadence = cadence(cx, &other).await?;
    let (status, calm, calm_stream) =
        watched(cx, &other, outage(cx, Outage::Status, fault_status(503))).await;
    let hung = Instant::now();
    let (hang, stalled, hang_stream) = watched(
        cx,
        &other,
        outage(cx, Outage::Hang, Fault::Latency { ms: hang_ms }),
    )
    .await;
    let mut passed = Vec::new();
    let mut failed = Vec::new();
    for r in [status?, hang?] {
        match r {
            Ok(s) => passed.push(s),
            Err(s) => failed.push(s),
        }
    }
    // A stall is the hang's doing when, while the hung refresh was in flight, the RP sent
    // no refresh for anyone for half its timeout or more (longer than any quiet of its
    // refresh stream before, by a quarter of the timeout), and the other user went past the
    // deadline without a sync. The stream, not the other user's own cadence, tells it: an
    // RP that refreshes users one after another has a long, load-dependent cycle, but its
    // stream only goes quiet while it waits on the hung answer.
    let (calm, stalled) = (calm?.max(cadence), stalled?);
    let calm_quiet = calm_stream?.longest_quiet();
    let quiet = hang_stream?.quiet_after_hang();
    cx.measure("bystander_longest_gap_without_a_hang", calm);
    cx.measure("bystander_longest_gap_during_the_hang", stalled);
    cx.measure("refresh_stream_longest_quiet_without_a_hang", calm_quiet);
    if let Some(q) = quiet {
        cx.measure("refresh_stream_quiet_after_the_hung_refresh", q);
    }
    let deadline = cx.shared.deadline();
    let timeout = Duration::from_secs_f64(cx.shared.rp.idp_timeout_s);
    let quiet = quiet.unwrap_or_default();
    let held = crate::quiet::held(
        quiet.as_secs_f64(),
        calm_quiet.as_secs_f64(),
        timeout.as_secs_f64(),
    );
    let stall = held && stalled > deadline;
    // The miss: past the deadline, and past the quiet the stream allows by half the timeout.
    let miss = stalled
        .saturating_sub(deadline)
        .min(quiet.saturating_sub(timeout / 2));
    let lag = cx.shared.lag.during(hung, Instant::now());
    let loaded = stall && lag.explains(miss);
    if loaded && failed.is_empty() {
        return Ok(Verdict::error(format!(
            "while a refresh hung, the RP sent no refresh for anyone for {:.1} s and {} went {:.1} s without a sync (deadline {} s), but the machine was loaded meanwhile: {}, as much as the miss, so a stall cannot be told from the load; run again on a less busy machine ({})",
            quiet.as_secs_f64(),
            other.username,
            stalled.as_secs_f64(),
            deadline.as_secs_f64(),
            lag.describe(),
            passed.join("; ")
        )));
    }
    if stall && !loaded {
        failed.push(format!(
            "a hung refresh for one user delayed every user's sync: while it hung, the RP sent no refresh for anyone for {:.1} s (at most {:.1} s between refreshes before), and {} went {:.1} s without a sync (at most {:.1} s before; deadline {} s). Refresh each user independently, with a timeout",
            quiet.as_secs_f64(),
            calm_quiet.as_secs_f64(),
            other.username,
            stalled.as_secs_f64(),
            calm.as_secs_f64(),
            deadline.as_secs_f64()
        ));
    }
    Ok(if failed.is_empty() {
        let others = if held {
            format!(
                "a hung refresh held up the RP's other refreshes ({:.1} s without one), but {} was still synced within the {} s deadline ({:.1} s at most)",
                quiet.as_secs_f64(),
                other.username,
                deadline.as_secs_f64(),
                stalled.as_secs_f64()
            )
        } else {
            "a hung refresh delayed no one else".to_owned()
        };
        Verdict::pass(format!(
            "{}: an outage is not a revocation, and {others}",
            passed.join("; ")
        ))
    } else {
        Verdict::fail(failed.join("; "))
    })
}

/// Runs `f` while watching `u`'s sync and the RP's refresh stream; what `f` gave, `u`'s
/// longest time without a successful refresh meanwhile, and the stream.
async fn watched<T>(
    cx: &Ctx,
    u: &TestUser,
    f: impl std::future::Future<Output = T>,
) -> (T, Result<Duration, Stop>, Result<Stream, Stop>) {
    let watching = AtomicBool::new(true);
    let run = async {
        let r = f.await;
        watching.store(false, Ordering::Relaxed);
        r
    };
    tokio::join!(
        run,
        watch_syncs(cx, u, &watching),
        watch_stream(cx, u, &watching)
    )
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
/// the failure and again after the next refresh), a later refresh succeeds.
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
    // Every wait after the fault allows the RP's own timeout on top of the patience.
    let limit = cx.shared.patience() + Duration::from_millis(hang_ms(&fault));
    let id = cx.arm_refresh(fault, &u, Some(1)).await?;
    let (hit, later, readings) = observe_outage(cx, &u, &b, limit).await?;
    let Some(faulty) = hit else {
        cx.disarm(id).await?;
        return Ok(Err(format!(
            "{tag}: the RP did not refresh within {:.0} s, so the outage never happened",
            limit.as_secs_f64()
        )));
    };
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
    b: &Browser,
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

/// Every refresh the RP sent while a watch ran (any user), in the order the IdP journaled
/// them, with when this scenario first saw each: the stream's gaps are what a stall shows.
struct Stream {
    start: Instant,
    end: Instant,
    /// When each refresh was first seen, and whether the IdP made it hang.
    seen: Vec<(Instant, bool)>,
}

impl Stream {
    fn secs(&self) -> (Vec<crate::quiet::Seen>, f64) {
        let at = |t: Instant| t.saturating_duration_since(self.start).as_secs_f64();
        let seen = self.seen.iter().map(|&(t, hung)| (at(t), hung)).collect();
        (seen, at(self.end))
    }

    /// The longest time without a new refresh, but for the quiets after a hung refresh.
    fn longest_quiet(&self) -> Duration {
        let (seen, end) = self.secs();
        Duration::from_secs_f64(crate::quiet::calm(&seen, 0.0, end))
    }

    /// The time from the hung refresh to the next refresh of anyone's; `None` when no
    /// refresh hung.
    fn quiet_after_hang(&self) -> Option<Duration> {
        let (seen, end) = self.secs();
        let k = seen.iter().position(|s| s.1)?;
        Some(Duration::from_secs_f64(crate::quiet::after(&seen, k, end)))
    }
}

/// Watches the tenant's journal for refreshes (any user's) until `watching` turns false.
async fn watch_stream(cx: &Ctx, u: &TestUser, watching: &AtomicBool) -> Result<Stream, Stop> {
    let mut mark = cx.mark(u).await?;
    let start = Instant::now();
    let mut seen = Vec::new();
    while watching.load(Ordering::Relaxed) {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let new = cx.shared.admin.journal_since(mark).await?;
        let now = Instant::now();
        for e in new.iter().filter(|e| e.seq > mark && e.is_refresh()) {
            seen.push((now, e.held_past(cx.shared.rp.idp_timeout_s)));
        }
        mark = last_seq(&new, mark);
    }
    Ok(Stream {
        start,
        end: Instant::now(),
        seen,
    })
}
