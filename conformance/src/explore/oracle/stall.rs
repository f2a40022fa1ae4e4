//! A stalled sync: while the IdP held one user's refresh past the RP's timeout, the RP sent
//! no refresh for anyone, and another user went past the deadline without one. Read from
//! the refresh stream alone (no `/me` reading needs to land in the gap): an RP that
//! refreshes users one after another waits on the hung answer; one that refreshes each
//! user independently goes on.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::{Contract, Disagreement, Kind, username};
use crate::explore::model::Model;
use crate::explore::trace::{Entry, Ident, What};
use crate::quiet;

/// The refresh that hung.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct Hung {
    /// When the IdP journaled it (seconds into the round).
    pub at: f64,
    /// The lane whose user it was (none: a user outside the lanes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lane: Option<usize>,
}

/// A refresh seen in the stream.
#[derive(Debug, Clone, Copy)]
struct Seen {
    t: f64,
    lane: Option<usize>,
    identity: Option<Ident>,
    hung: bool,
}

/// The stalls of a round, at most one per lane.
pub(super) fn check(c: &Contract, model: &Model, trace: &[Entry]) -> Vec<Disagreement> {
    let mut seen: Vec<Seen> = trace
        .iter()
        .filter_map(|e| match e.what {
            What::Refresh { identity, hung, .. } => Some(Seen {
                t: e.t0,
                lane: e.lane,
                identity,
                hung,
            }),
            _ => None,
        })
        .collect();
    seen.sort_by(|a, b| a.t.total_cmp(&b.t));
    let end = trace.iter().map(|e| e.t1).fold(0.0, f64::max);
    let timeout = c.timing.idp_timeout;
    // How quiet the stream is otherwise: its longest gap but for those after a hung refresh.
    let stream: Vec<quiet::Seen> = seen.iter().map(|s| (s.t, s.hung)).collect();
    let Some(first) = stream.first().map(|s| s.0) else {
        return Vec::new();
    };
    let calm = quiet::calm(&stream, first, end);
    let mut by_identity: BTreeMap<Ident, Vec<usize>> = BTreeMap::new();
    for (k, s) in seen.iter().enumerate() {
        if let Some(i) = s.identity {
            by_identity.entry(i).or_default().push(k);
        }
    }
    let mut out = Vec::new();
    let mut lanes = BTreeSet::new();
    for (k, h) in seen.iter().enumerate().filter(|(_, s)| s.hung) {
        let quiet = quiet::after(&stream, k, end);
        if !quiet::held(quiet, calm, timeout) {
            continue;
        }
        for (&i, ks) in &by_identity {
            let Some(lane) = seen[ks[0]].lane else {
                continue;
            };
            if Some(i) == h.identity || lanes.contains(&lane) {
                continue;
            }
            // The user's last refresh before the hung one and first after it: both seen, so
            // the RP was syncing the user on both sides of the gap.
            let (Some(&a), Some(&b)) = (
                ks.iter().rev().find(|&&x| x < k),
                ks.iter().find(|&&x| x > k),
            ) else {
                continue;
            };
            let (a, b) = (seen[a], seen[b]);
            let gap = b.t - a.t;
            if a.hung || gap <= c.timing.need || !synced_throughout(model, trace, i, a.t, b.t) {
                continue;
            }
            lanes.insert(lane);
            let whose = h.identity.map_or_else(
                || "a user outside the lanes".to_owned(),
                |x| username(model, x),
            );
            out.push(Disagreement {
                kind: Kind::SyncStalled,
                recommendation: false,
                lane,
                step: step_at(trace, lane, b.t),
                at: b.t,
                observed: format!(
                    "{} went {gap:.2} s without a refresh ({:.2} s to {:.2} s into the round): after a refresh of {whose} reached the IdP at {:.2} s and hung there, the RP sent no refresh for anyone for {quiet:.2} s",
                    username(model, i),
                    a.t,
                    b.t,
                    h.t
                ),
                expected: format!(
                    "each user synced within the deadline ({:.2} s with the allowance) whatever another user's refresh does: a refresh the IdP holds past the RP's {timeout} s timeout holds up no one else's (refresh each user independently, with a timeout)",
                    c.timing.need
                ),
                evidence: vec![format!(
                    "the refresh stream's longest quiet otherwise: {calm:.2} s"
                )],
                hung: Some(Hung {
                    at: h.t,
                    lane: h.lane,
                }),
            });
        }
    }
    out
}

/// Whether the RP owed the identity a sync throughout `from..to`: no refresh of it could
/// be refused meanwhile (disabled, deleted, revoked, refresh tokens expired), and it logged
/// out nowhere — else a gap in its refreshes is a session that ended, not a stall.
fn synced_throughout(model: &Model, trace: &[Entry], i: Ident, from: f64, to: f64) -> bool {
    let refused = model.identities.get(&i).is_some_and(|id| {
        id.refusals
            .iter()
            .any(|r| r.may_from < to && r.may_to > from)
    });
    let logged_out = trace.iter().any(|e| {
        matches!(e.what, What::Logout { identity, .. } if identity == i) && e.t0 < to && e.t1 > from
    });
    !refused && !logged_out
}

/// The lane's step under way at `t` (its last action begun by then).
fn step_at(trace: &[Entry], lane: usize, t: f64) -> usize {
    trace
        .iter()
        .filter(|e| e.lane == Some(lane) && e.t0 <= t && !matches!(e.what, What::Journal { .. }))
        .filter_map(|e| e.step)
        .max()
        .unwrap_or(0)
}
