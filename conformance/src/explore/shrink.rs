//! Shrinking a disagreement to the shortest plan that still shows it: first the world
//! actions it does not need, then the lane's actions (delta debugging: drop chunks, halving
//! them until single actions), then its waits. Candidates are independent users, so each
//! step tries many at once, as lanes of one round.

use std::sync::Arc;
use std::time::Instant;

use super::exec::execute;
use super::oracle::{Contract, Disagreement, Hung, Kind, check};
use super::plan::{Action, Lane, Plan, Timed, World};
use super::trace::{Entry, What};
use crate::scenario::Shared;

/// Candidates tried at once (as lanes of one round).
pub const AT_ONCE: usize = 6;

/// What a disagreement is, for telling whether a smaller plan still shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    /// Its kind.
    pub kind: Kind,
    /// Whether it is only a recommendation.
    pub recommendation: bool,
}

impl Target {
    /// The target of this disagreement.
    pub fn of(d: &Disagreement) -> Target {
        Target {
            kind: d.kind,
            recommendation: d.recommendation,
        }
    }

    /// The first disagreement of lane `lane` that is this one.
    pub fn in_lane<'a>(&self, ds: &'a [Disagreement], lane: usize) -> Option<&'a Disagreement> {
        ds.iter().find(|d| {
            d.lane == lane && d.kind == self.kind && d.recommendation == self.recommendation
        })
    }
}

/// Runs plans against the RP, counting runs and time.
pub struct Runner<'a> {
    /// Where.
    pub shared: &'a Arc<Shared>,
    /// The oracle's contract.
    pub contract: &'a Contract,
    /// Rounds run.
    pub rounds: usize,
    /// A tag for the next round's users.
    pub next: usize,
    /// The name prefix of the users.
    pub prefix: String,
    /// When the signing key was last rotated: a later round may still be inside the RP's
    /// JWKS cooldown.
    pub rotated: Option<Instant>,
    /// The last entry of the tenant's journal a round saw.
    pub journal: u64,
}

impl Runner<'_> {
    /// Runs `plan`; its trace and disagreements.
    pub async fn run(&mut self, plan: &Plan) -> (Vec<Entry>, Vec<Disagreement>) {
        self.rounds += 1;
        self.next += 1;
        let tag = format!("{}{}", self.prefix, self.next);
        let start = Instant::now();
        let mut trace = execute(self.shared, plan, &tag, start, &mut self.journal).await;
        // An earlier round's rotation, while the RP may still be within its cooldown.
        if let Some(at) = self.rotated {
            let ago = start.saturating_duration_since(at).as_secs_f64();
            if ago < self.contract.timing.jwks_cooldown {
                trace.insert(
                    0,
                    Entry {
                        lane: None,
                        step: None,
                        t0: -ago,
                        t1: -ago,
                        what: What::KeyRotated,
                    },
                );
            }
        }
        if let Some(at) = trace
            .iter()
            .rev()
            .find(|e| matches!(e.what, What::KeyRotated) && e.t0 >= 0.0)
            .map(|e| start + std::time::Duration::from_secs_f64(e.t0))
        {
            self.rotated = Some(at);
        }
        let ds = check(self.contract, &trace);
        (trace, ds)
    }

    /// Which of these lanes (run together, with `world`) show the target.
    async fn try_lanes(&mut self, lanes: &[Lane], world: &Plan, t: Target) -> Vec<bool> {
        let mut shows = Vec::new();
        for chunk in lanes.chunks(AT_ONCE) {
            let plan = Plan {
                lanes: chunk.to_vec(),
                world: world.world.clone(),
            };
            let (_, ds) = self.run(&plan).await;
            shows.extend((0..chunk.len()).map(|k| t.in_lane(&ds, k).is_some()));
        }
        shows
    }
}

/// The disagreement's lane alone, with the world actions. A sync stalled by another lane's
/// hung refresh gets that hang as a world action (a spare user's refreshes hanging as long
/// as that lane's outage did, from when it began), so that the lane alone shows it again.
pub fn alone(plan: &Plan, d: &Disagreement, trace: &[Entry]) -> Plan {
    let mut world = plan.world.clone();
    if let Some(Hung {
        at,
        lane: Some(other),
    }) = d.hung
        && other != d.lane
    {
        let of = |e: &&Entry| e.lane == Some(other);
        let on = trace
            .iter()
            .filter(of)
            .filter(|e| matches!(e.what, What::OutageOn { hang_s, .. } if hang_s > 0.0))
            .filter(|e| e.t0 <= at)
            .map(|e| e.t0)
            .fold(0.0, f64::max);
        let off = trace
            .iter()
            .filter(of)
            .filter(|e| matches!(e.what, What::OutageOff { .. }) && e.t0 >= on)
            .map(|e| e.t0)
            .fold(f64::INFINITY, f64::min)
            .min(trace.iter().map(|e| e.t1).fold(on, f64::max));
        let round2 = |x: f64| (x * 100.0).round() / 100.0;
        world.push(Timed {
            at_s: round2(on),
            world: World::HangSpare {
                s: round2((off - on).max(0.05)),
            },
        });
        world.sort_by(|a, b| a.at_s.total_cmp(&b.at_s));
    }
    Plan {
        lanes: vec![plan.lanes[d.lane].clone()],
        world,
    }
}

/// The smallest plan found, within `until`, that still shows `t` in its one lane.
pub async fn shrink(r: &mut Runner<'_>, plan: Plan, t: Target, until: Instant) -> Plan {
    let mut best = plan;
    // The world actions, one at a time.
    let mut k = 0;
    while k < best.world.len() && Instant::now() < until {
        let mut without = best.clone();
        without.world.remove(k);
        if r.try_lanes(&without.lanes, &without, t).await[0] {
            best = without;
        } else {
            k += 1;
        }
    }
    // The lane's actions: drop chunks.
    let mut n = 2;
    while Instant::now() < until {
        let actions = &best.lanes[0].actions;
        let len = actions.len();
        if len <= 1 {
            break;
        }
        let n_now = n.min(len);
        let size = len.div_ceil(n_now);
        let candidates: Vec<Lane> = (0..len)
            .step_by(size)
            .map(|from| Lane {
                groups: best.lanes[0].groups.clone(),
                actions: actions
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| *i < from || *i >= from + size)
                    .map(|(_, a)| a.clone())
                    .collect(),
            })
            .collect();
        let shows = r.try_lanes(&candidates, &best, t).await;
        let found = candidates
            .into_iter()
            .zip(shows)
            .filter(|(_, s)| *s)
            .map(|(c, _)| c)
            .min_by_key(|c| c.actions.len());
        match found {
            Some(c) => {
                best.lanes[0] = c;
                n = (n - 1).max(2);
            }
            None if size == 1 => break,
            None => n = (n * 2).min(len),
        }
    }
    // The initial groups, one at a time.
    let mut g = 0;
    while g < best.lanes[0].groups.len() && Instant::now() < until {
        let mut c = best.lanes[0].clone();
        c.groups.remove(g);
        if r.try_lanes(std::slice::from_ref(&c), &best, t).await[0] {
            best.lanes[0] = c;
        } else {
            g += 1;
        }
    }
    // The waits: all halved at once, while that still shows it.
    while Instant::now() < until {
        let c = halve_waits(&best.lanes[0]);
        if c == best.lanes[0] || !r.try_lanes(std::slice::from_ref(&c), &best, t).await[0] {
            break;
        }
        best.lanes[0] = c;
    }
    best
}

/// The lane with every wait (idle, outage) half as long (never under 0.05 s).
fn halve_waits(l: &Lane) -> Lane {
    let half = |s: f64| ((s / 2.0) * 100.0).round().max(5.0) / 100.0;
    Lane {
        groups: l.groups.clone(),
        actions: l
            .actions
            .iter()
            .map(|a| match a {
                Action::Idle { s } => Action::Idle { s: half(*s) },
                Action::Watch { device, s } => Action::Watch {
                    device: *device,
                    s: half(*s),
                },
                Action::Outage { hang, s } => Action::Outage {
                    hang: *hang,
                    s: half(*s),
                },
                other => other.clone(),
            })
            .collect(),
    }
}
