//! The model of the contract, built from a round's trace: per identity, what the IdP said
//! and when (its states, the spans in which its refresh tokens were refused, the spans in
//! which the RP was excused from syncing), and the time arithmetic of the sync deadline.
//!
//! A change at the IdP must show at the RP within the deadline; before that, the old
//! value and the new are both right. Time in which the RP could not sync through no fault
//! of its own does not count against the deadline: the user's token-endpoint outage (and,
//! after a hang, one more hang), a key rotation until the RP's declared JWKS cooldown has
//! passed, and the IdP's clock moved ahead.

use std::collections::BTreeMap;

use super::trace::{Entry, Ident, Person, What};

/// A state of the user at the IdP, from `t0` (the change began) on.
#[derive(Debug, Clone, PartialEq)]
pub struct State {
    /// When the change that made it began.
    pub t0: f64,
    /// When it was done.
    pub t1: f64,
    /// Groups.
    pub groups: Vec<String>,
    /// Name.
    pub name: String,
    /// Email.
    pub email: String,
}

/// A span in which the IdP refuses refresh tokens of sessions established before `before`.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    /// What it was, for reasons.
    pub what: &'static str,
    /// From when a refresh may have been refused.
    pub may_from: f64,
    /// From when every refresh was refused.
    pub must_from: f64,
    /// Until when every refresh was refused (∞: for good).
    pub must_to: f64,
    /// Until when a refresh may have been refused.
    pub may_to: f64,
    /// It concerns sessions established before this.
    pub before: f64,
}

/// A login that opened a session.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    /// The browser.
    pub device: usize,
    /// When the login began.
    pub login_t0: f64,
    /// When the session was seen open.
    pub open: f64,
    /// When a logout in the browser began and ended, if one did.
    pub logout: Option<(f64, f64)>,
}

/// Everything the model knows about one identity.
#[derive(Debug, Clone, Default)]
pub struct Identity {
    /// As created.
    pub person: Option<Person>,
    /// Its states at the IdP, oldest first.
    pub states: Vec<State>,
    /// Its refusals.
    pub refusals: Vec<Refusal>,
    /// Spans in which its refreshes failed through no fault of the RP's.
    pub excused: Vec<(f64, f64)>,
    /// Its sessions (by browser).
    pub sessions: Vec<Session>,
    /// Grants the webapp accepted: when, what.
    pub grants: Vec<(f64, String)>,
    /// When its groups were sent by reference.
    pub by_reference: Vec<f64>,
    /// Whether a refresh of it ever hung (a spent token presented after it is no fault).
    pub hung: bool,
}

/// The model of a round.
#[derive(Debug, Clone, Default)]
pub struct Model {
    /// Every identity.
    pub identities: BTreeMap<Ident, Identity>,
    /// Spans in which no RP could be expected to sync or log in (key rotations until the
    /// JWKS cooldown passed, the clock moved ahead).
    pub world: Vec<(f64, f64, &'static str)>,
    /// Times the signing key was rotated.
    pub rotations: Vec<f64>,
}

/// What the model needs of the RP's declarations.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// The sync deadline, with the allowance for the harness's own timing.
    pub need: f64,
    /// The RP's declared JWKS cooldown.
    pub jwks_cooldown: f64,
    /// The RP's declared timeout for the IdP's answers.
    pub idp_timeout: f64,
}

/// What a key rotation's span in [`Model::world`] is called.
pub const ROTATION: &str = "a key rotation";

impl Model {
    /// The model of this trace.
    pub fn of(trace: &[Entry], timing: Timing) -> Model {
        let mut m = Model::default();
        let mut ahead: Option<(f64, f64)> = None;
        let mut disabled: BTreeMap<Ident, (f64, f64)> = BTreeMap::new();
        let mut outage: BTreeMap<Ident, f64> = BTreeMap::new();
        let mut entries: Vec<&Entry> = trace.iter().collect();
        entries.sort_by(|a, b| a.t0.total_cmp(&b.t0));
        for e in entries {
            let (t0, t1) = (e.t0, e.t1);
            match &e.what {
                What::KeyRotated => {
                    m.rotations.push(t0);
                    m.world.push((t0, t1 + timing.jwks_cooldown, ROTATION));
                }
                What::ClockAhead { .. } => ahead = Some((t0, t1)),
                What::ClockBack => {
                    if let Some((a0, a1)) = ahead.take() {
                        m.world.push((a0, t1, "the IdP's clock moved ahead"));
                        for id in m.identities.values_mut() {
                            id.refusals.push(Refusal {
                                what: "its refresh tokens expired (the IdP's clock)",
                                may_from: a0,
                                must_from: a1,
                                must_to: t0,
                                may_to: t1,
                                before: a0,
                            });
                        }
                    }
                }
                _ => {}
            }
            let Some(i) = e.what.identity() else {
                continue;
            };
            let id = m.identities.entry(i).or_default();
            match &e.what {
                What::Created { person, .. } => {
                    id.states.push(State {
                        t0,
                        t1,
                        groups: person.groups.clone(),
                        name: person.name.clone(),
                        email: person.email.clone(),
                    });
                    id.person = Some(person.clone());
                }
                What::Changed {
                    groups,
                    name,
                    email,
                    ..
                } => {
                    if let Some(last) = id.states.last().cloned() {
                        id.states.push(State {
                            t0,
                            t1,
                            groups: groups.clone().unwrap_or(last.groups),
                            name: name.clone().unwrap_or(last.name),
                            email: email.clone().unwrap_or(last.email),
                        });
                    }
                }
                What::Disabled { .. } => {
                    disabled.insert(i, (t0, t1));
                }
                What::Enabled { .. } => {
                    if let Some((d0, d1)) = disabled.remove(&i) {
                        // Only sessions from before the user was enabled again (no one
                        // logs in while disabled).
                        id.refusals.push(Refusal {
                            before: t0,
                            may_to: t1,
                            ..refusal("the user was disabled", d0, d1, t0)
                        });
                    }
                }
                What::Deleted { .. } => {
                    id.refusals
                        .push(refusal("the user was deleted", t0, t1, f64::INFINITY));
                }
                What::Revoked { .. } => id.refusals.push(Refusal {
                    before: t1,
                    ..refusal("its grants were revoked", t0, t1, f64::INFINITY)
                }),
                What::OutageOn { hang_s, .. } => {
                    // One outage at a time: an overlapping start keeps the first.
                    outage.entry(i).or_insert(t0);
                    id.hung |= *hang_s > 0.0;
                }
                What::OutageOff { tail_s, .. } => {
                    if let Some(from) = outage.remove(&i) {
                        id.excused.push((from, t1 + tail_s));
                    }
                }
                What::ByReference { .. } => id.by_reference.push(t0),
                What::Login {
                    device, reading, ..
                } => {
                    let person = id.person.clone();
                    if let (Some(r), Some(p)) = (reading, person)
                        && r.logged_in()
                        && is(r, &p)
                    {
                        id.sessions.push(Session {
                            device: *device,
                            login_t0: t0,
                            open: t1,
                            logout: None,
                        });
                    }
                }
                What::Logout { device, .. } => {
                    if let Some(s) = id.sessions.iter_mut().find(|s| s.device == *device) {
                        s.logout.get_or_insert((t0, t1));
                    }
                }
                What::Grant {
                    permission,
                    status: Some(s),
                    ..
                } if (200..300).contains(s) => id.grants.push((t1, permission.clone())),
                _ => {}
            }
        }
        // A user still disabled at the end: refused from then on.
        for (i, (d0, d1)) in disabled {
            if let Some(id) = m.identities.get_mut(&i) {
                id.refusals
                    .push(refusal("the user was disabled", d0, d1, f64::INFINITY));
            }
        }
        for (i, from) in outage {
            if let Some(id) = m.identities.get_mut(&i) {
                id.excused.push((from, f64::INFINITY));
            }
        }
        m
    }

    /// How much of `[a, b]` the RP had to sync identity `i`: the span less the time it was
    /// excused.
    pub fn available(&self, i: Ident, a: f64, b: f64) -> f64 {
        if b <= a {
            return 0.0;
        }
        let mut spans: Vec<(f64, f64)> = self.world.iter().map(|w| (w.0, w.1)).collect();
        if let Some(id) = self.identities.get(&i) {
            spans.extend(id.excused.iter().copied());
        }
        spans.sort_by(|x, y| x.0.total_cmp(&y.0));
        let mut excused = 0.0;
        let mut reach = a;
        for (s, e) in spans {
            let (s, e) = (s.max(reach), e.min(b));
            if e > s {
                excused += e - s;
                reach = e;
            }
        }
        (b - a - excused).max(0.0)
    }

    /// The latest time `c ≤ t` from which the RP has had `need` seconds to sync identity
    /// `i` by `t`; none when it has not had them since the round began.
    pub fn cutoff(&self, i: Ident, t: f64, need: f64) -> Option<f64> {
        if self.available(i, 0.0, t) < need {
            return None;
        }
        let (mut lo, mut hi) = (0.0, t);
        for _ in 0..60 {
            let mid = (lo + hi) / 2.0;
            if self.available(i, mid, t) >= need {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        Some(lo)
    }

    /// The states of identity `i` that were current at some time in `[from, to]`.
    pub fn states_in(&self, i: Ident, from: f64, to: f64) -> Vec<&State> {
        let Some(id) = self.identities.get(&i) else {
            return Vec::new();
        };
        let s = &id.states;
        (0..s.len())
            .filter(|&k| s[k].t0 <= to && s.get(k + 1).is_none_or(|next| next.t1 > from))
            .map(|k| &s[k])
            .collect()
    }

    /// The state of identity `i` at `t` (the newest one begun by then).
    pub fn state_at(&self, i: Ident, t: f64) -> Option<&State> {
        self.identities
            .get(&i)?
            .states
            .iter()
            .rev()
            .find(|s| s.t0 <= t)
    }
}

fn refusal(what: &'static str, t0: f64, t1: f64, to: f64) -> Refusal {
    Refusal {
        what,
        may_from: t0,
        must_from: t1,
        must_to: to,
        may_to: f64::INFINITY,
        before: f64::INFINITY,
    }
}

/// Whether a reading shows this person (by `sub`, else username, else email).
pub fn is(r: &crate::verdict::MeReading, p: &Person) -> bool {
    match (&r.sub, &r.username, &r.email) {
        (Some(s), _, _) => *s == p.sub,
        (None, Some(n), _) => *n == p.username,
        (None, None, Some(e)) => *e == p.email,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model_with(excused: Vec<(f64, f64)>, world: Vec<(f64, f64, &'static str)>) -> Model {
        let mut m = Model {
            world,
            ..Model::default()
        };
        m.identities.insert(
            0,
            Identity {
                excused,
                ..Identity::default()
            },
        );
        m
    }

    #[test]
    fn excused_time_does_not_count_against_the_deadline() {
        let m = model_with(vec![(2.0, 4.0), (3.0, 5.0)], vec![(8.0, 9.0, "rotation")]);
        assert_eq!(m.available(0, 0.0, 10.0), 6.0);
        assert_eq!(m.available(0, 4.5, 8.5), 3.0);
        assert_eq!(
            m.available(1, 0.0, 10.0),
            9.0,
            "another user: only the world"
        );
        let c = m.cutoff(0, 10.0, 2.0).unwrap();
        assert!(
            (c - 7.0).abs() < 1e-6,
            "{c}: 9–10 and 7–8 count, 8–9 does not"
        );
        assert_eq!(m.cutoff(0, 3.0, 4.0), None);
    }

    #[test]
    fn the_states_current_in_a_window_are_the_ones_it_overlaps() {
        let mut m = Model::default();
        let st = |t0: f64, g: &str| State {
            t0,
            t1: t0 + 0.1,
            groups: vec![g.into()],
            name: String::new(),
            email: String::new(),
        };
        m.identities.insert(
            0,
            Identity {
                states: vec![st(0.0, "a"), st(5.0, "b"), st(7.0, "c")],
                ..Identity::default()
            },
        );
        let names = |from, to| -> Vec<String> {
            m.states_in(0, from, to)
                .iter()
                .map(|s| s.groups[0].clone())
                .collect()
        };
        assert_eq!(names(1.0, 4.0), ["a"]);
        assert_eq!(names(4.0, 6.0), ["a", "b"]);
        assert_eq!(names(5.05, 8.0), ["a", "b", "c"], "a change in flight");
        assert_eq!(names(6.0, 8.0), ["b", "c"]);
        assert_eq!(m.state_at(0, 6.0).unwrap().groups, ["b"]);
    }
}
