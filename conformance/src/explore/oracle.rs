//! The oracle: every observation of a round checked against the model of the contract.
//! What cannot be observed is not asserted (a field the RP does not show, a session the
//! RP may or may not have ended yet); what is asserted names its evidence.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::model::{Model, Timing, is};
use super::trace::{Entry, Ident, What, observed};
use crate::rp::SyncMode;
use crate::verdict::MeReading;

/// What the oracle needs of the RP's declarations.
#[derive(Debug, Clone)]
pub struct Contract {
    /// The sync mode the RP runs in.
    pub mode: SyncMode,
    /// IdP group → permissions.
    pub group_map: BTreeMap<String, Vec<String>>,
    /// The sync deadline and the cooldown.
    pub timing: Timing,
}

/// What kind of promise was broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A login that must work opened no session.
    Login,
    /// A session ended that nothing ended.
    SessionEnded,
    /// A session outlived what ended it.
    SessionKept,
    /// `/me` showed someone else.
    Identity,
    /// The permissions were not what the sync mode makes of the groups.
    Permissions,
    /// The name or email was not the IdP's.
    Profile,
    /// A webapp grant was refused where the mode keeps grants.
    Grant,
    /// A spent refresh token was presented again.
    RefreshReuse,
    /// `/me` answered what the contract does not allow.
    MeAnswer,
}

impl Kind {
    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Login => "login",
            Kind::SessionEnded => "session-ended",
            Kind::SessionKept => "session-kept",
            Kind::Identity => "identity",
            Kind::Permissions => "permissions",
            Kind::Profile => "profile",
            Kind::Grant => "grant",
            Kind::RefreshReuse => "refresh-reuse",
            Kind::MeAnswer => "me-answer",
        }
    }
}

/// An observation the model does not allow.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Disagreement {
    /// What kind.
    pub kind: Kind,
    /// A recommendation (groups by reference: OIDC Core §5.6.2 lets an RP ignore them),
    /// not a requirement.
    pub recommendation: bool,
    /// The lane.
    pub lane: usize,
    /// The action.
    pub step: usize,
    /// When (seconds into the round).
    pub at: f64,
    /// What was observed.
    pub observed: String,
    /// What the model allows, and why.
    pub expected: String,
    /// The evidence: the reading, the IdP's journal lines.
    pub evidence: Vec<String>,
}

/// Every disagreement of the round, in time order.
pub fn check(c: &Contract, trace: &[Entry]) -> Vec<Disagreement> {
    let model = Model::of(trace, c.timing);
    let mut out = Vec::new();
    let mut accounts: BTreeMap<String, Ident> = BTreeMap::new();
    let journals: BTreeMap<Ident, (&Vec<String>, &Vec<String>)> = trace
        .iter()
        .filter_map(|e| match &e.what {
            What::Journal {
                identity,
                refreshes,
                reused,
            } => Some((*identity, (refreshes, reused))),
            _ => None,
        })
        .collect();
    let mut entries: Vec<&Entry> = trace.iter().collect();
    entries.sort_by(|a, b| a.t0.total_cmp(&b.t0));
    for e in entries {
        let (Some(lane), Some(step)) = (e.lane, e.step) else {
            continue;
        };
        let found = |kind, observed: String, expected: String| Disagreement {
            kind,
            recommendation: false,
            lane,
            step,
            at: e.t0,
            observed,
            expected,
            evidence: Vec::new(),
        };
        let mut d = match &e.what {
            What::Login {
                identity,
                device,
                reading,
                error,
            }
            | What::Me {
                identity,
                device,
                reading,
                error,
            } => {
                let login = matches!(e.what, What::Login { .. });
                let r = Reading {
                    i: *identity,
                    device: *device,
                    t0: e.t0,
                    t1: e.t1,
                    login,
                };
                r.check(c, &model, reading.as_ref(), error.as_deref())
                    .map(|(k, exp)| found(k, observed(reading.as_ref(), error.as_deref()), exp))
                    .or_else(|| {
                        let r = reading.as_ref()?;
                        let acct = r.account.clone().filter(|_| r.logged_in())?;
                        let first = *accounts.entry(acct.clone()).or_insert(*identity);
                        (first != *identity).then(|| {
                            found(
                                Kind::Identity,
                                format!("/me shows account {acct:?}"),
                                format!(
                                    "another user's account: account {acct:?} was {}'s, this session is {}'s (a new sub is a new account, whatever its email)",
                                    username(&model, first),
                                    username(&model, *identity)
                                ),
                            )
                        })
                    })
            }
            What::Grant {
                identity,
                device,
                permission,
                status,
                error,
            } if c.mode != SyncMode::Strict => {
                let ok = status.is_some_and(|s| (200..300).contains(&s));
                let r = Reading {
                    i: *identity,
                    device: *device,
                    t0: e.t0,
                    t1: e.t1,
                    login: false,
                };
                (!ok && r.alive(&model, c).0 == Alive::Must).then(|| {
                    found(
                        Kind::Grant,
                        match (status, error) {
                            (Some(s), _) => format!("POST /grant {permission:?} answered {s}"),
                            (None, e) => e.clone().unwrap_or_default(),
                        },
                        format!(
                            "the grant accepted: in {} mode a webapp grant is kept",
                            c.mode
                        ),
                    )
                })
            }
            What::Journal {
                identity, reused, ..
            } if !reused.is_empty()
                && !model.identities.get(identity).is_some_and(|i| i.hung) =>
            {
                Some(Disagreement {
                    evidence: reused.clone(),
                    ..found(
                        Kind::RefreshReuse,
                        format!("{} refreshes with a spent refresh token", reused.len()),
                        "the newest refresh token each time: with rotation the RP keeps the one each refresh returns (RFC 9700 §4.14.2)".into(),
                    )
                })
            }
            _ => None,
        };
        if let Some(d) = d.as_mut() {
            if let Some(i) = e.what.identity() {
                let id = model.identities.get(&i);
                d.recommendation = d.kind == Kind::Permissions
                    && id.is_some_and(|id| id.by_reference.iter().any(|t| *t <= e.t1));
                if let Some((refreshes, _)) = journals.get(&i) {
                    let from = refreshes.len().saturating_sub(4);
                    d.evidence.extend(refreshes[from..].iter().cloned());
                }
            }
            out.push(d.clone());
        }
    }
    out
}

fn username(m: &Model, i: Ident) -> String {
    m.identities
        .get(&i)
        .and_then(|id| id.person.as_ref())
        .map_or_else(|| format!("user {i}"), |p| p.username.clone())
}

/// Whether a session must be alive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Alive {
    Must,
    MustNot,
    /// Either; `true` when because of a refusal (then what it shows is not asserted).
    Either(bool),
}

/// One reading to judge.
struct Reading {
    i: Ident,
    device: usize,
    t0: f64,
    t1: f64,
    login: bool,
}

impl Reading {
    /// Whether the session must be alive, and why.
    fn alive(&self, m: &Model, c: &Contract) -> (Alive, String) {
        let need = c.timing.need;
        let Some(id) = m.identities.get(&self.i) else {
            return (Alive::Either(false), String::new());
        };
        let Some(s) = id.sessions.iter().find(|s| s.device == self.device) else {
            return (
                Alive::Either(false),
                "the browser's login opened no session".into(),
            );
        };
        if self.login && s.open > self.t1 {
            return (Alive::Either(false), String::new());
        }
        if let Some((l0, l1)) = s.logout {
            if l1 <= self.t0 {
                return (Alive::MustNot, "the browser logged out".into());
            }
            if l0 <= self.t1 {
                return (Alive::Either(false), String::new());
            }
        }
        let mut either = None;
        for r in id.refusals.iter().filter(|r| s.open < r.before) {
            let had = m.available(self.i, r.must_from, r.must_to.min(self.t0));
            if r.must_from <= self.t0 && had >= need {
                return (
                    Alive::MustNot,
                    format!(
                        "{} at {:.2} s, and the RP has had {had:.2} s to learn it from a refused refresh (the deadline and the allowance: {need:.2} s)",
                        r.what, r.must_from
                    ),
                );
            }
            if r.may_from <= self.t1 {
                either.get_or_insert(Alive::Either(true));
            }
        }
        if let Some(a) = either {
            return (a, String::new());
        }
        if m.rotations.iter().any(|t| *t > s.open && *t <= self.t1) {
            return (Alive::Either(false), String::new());
        }
        (
            Alive::Must,
            format!(
                "logged in at {:.2} s; nothing at the IdP ended the session since",
                s.open
            ),
        )
    }

    /// The first thing about this reading the model does not allow.
    fn check(
        &self,
        c: &Contract,
        m: &Model,
        r: Option<&MeReading>,
        error: Option<&str>,
    ) -> Option<(Kind, String)> {
        let id = m.identities.get(&self.i)?;
        let person = id.person.as_ref()?;
        let (alive, why) = if self.login {
            self.login_expectation(m)
        } else {
            self.alive(m, c)
        };
        let Some(r) = r else {
            let e = error.unwrap_or_default();
            return (!self.login || alive == Alive::Must).then(|| {
                let kind = if self.login {
                    Kind::Login
                } else {
                    Kind::MeAnswer
                };
                (kind, format!("an answer the contract allows ({e})"))
            });
        };
        match (alive, r.logged_in()) {
            (Alive::Must, false) => {
                let kind = if self.login {
                    Kind::Login
                } else {
                    Kind::SessionEnded
                };
                return Some((kind, format!("a session: {why}")));
            }
            (Alive::MustNot, true) => {
                return Some((Kind::SessionKept, format!("no session: {why}")));
            }
            (_, false) => return None,
            _ => {}
        }
        if !is(r, person) {
            return Some((
                Kind::Identity,
                format!(
                    "{}'s session to show {} (sub {:?})",
                    person.username, person.username, person.sub
                ),
            ));
        }
        if let Some(u) = &r.username
            && *u != person.username
        {
            return Some((
                Kind::Identity,
                format!(
                    "username {:?}: the IdP's preferred_username",
                    person.username
                ),
            ));
        }
        if alive == Alive::Either(true) {
            return None;
        }
        self.permissions(c, m, r).or_else(|| self.profile(c, m, r))
    }

    /// A login of an existing, enabled user must open a session, unless the IdP's keys or
    /// clock were in flux.
    fn login_expectation(&self, m: &Model) -> (Alive, String) {
        let flux = m
            .world
            .iter()
            .find(|(a, b, _)| *a <= self.t1 && *b >= self.t0);
        match flux {
            Some((_, _, what)) => (Alive::Either(false), format!("during {what}")),
            None => (
                Alive::Must,
                "the user exists and is enabled at the IdP".into(),
            ),
        }
    }

    /// Where the RP's view of the user may start: the newest of the deadline's cutoff and
    /// the user's last login (a login reads the tokens afresh).
    fn floor(&self, c: &Contract, m: &Model) -> f64 {
        let id = &m.identities[&self.i];
        let login = id
            .sessions
            .iter()
            .map(|s| s.login_t0)
            .filter(|t| *t <= self.t0)
            .fold(f64::NEG_INFINITY, f64::max);
        m.cutoff(self.i, self.t0, c.timing.need)
            .unwrap_or(f64::NEG_INFINITY)
            .max(login)
    }

    fn permissions(&self, c: &Contract, m: &Model, r: &MeReading) -> Option<(Kind, String)> {
        let shown: BTreeSet<String> = r.permissions.clone()?.into_iter().collect();
        let id = &m.identities[&self.i];
        let map = |groups: &[String]| -> BTreeSet<String> {
            groups
                .iter()
                .filter_map(|g| c.group_map.get(g))
                .flatten()
                .cloned()
                .collect()
        };
        let f = self.floor(c, m);
        let grants = |from: f64, to: f64| -> BTreeSet<String> {
            id.grants
                .iter()
                .filter(|(t, _)| *t > from && *t <= to)
                .map(|(_, p)| p.clone())
                .collect()
        };
        let states = m.states_in(self.i, f, self.t1);
        if c.mode == SyncMode::Strict {
            let recent = grants(f, self.t1);
            let fits = states.iter().any(|s| {
                let want = map(&s.groups);
                want.is_subset(&shown) && shown.is_subset(&want.union(&recent).cloned().collect())
            });
            if fits {
                return None;
            }
            let options: Vec<Vec<String>> = states
                .iter()
                .map(|s| map(&s.groups).into_iter().collect())
                .collect();
            return Some((
                Kind::Permissions,
                format!(
                    "in strict mode exactly the groups' permissions: one of {options:?} (the groups current since {})",
                    since(f)
                ),
            ));
        }
        // Additive and none: bounds. A refusal may have reset what the RP keeps.
        let reset = id
            .refusals
            .iter()
            .map(|x| x.may_from)
            .filter(|t| *t <= self.t0)
            .fold(f64::NEG_INFINITY, f64::max);
        let first_login = id
            .sessions
            .iter()
            .map(|s| s.login_t0)
            .fold(f64::INFINITY, f64::min);
        let mut upper = grants(f64::NEG_INFINITY, self.t1);
        let mut lower = grants(reset, self.t0);
        if c.mode == SyncMode::Additive {
            for s in m.states_in(self.i, first_login, self.t1) {
                upper.extend(map(&s.groups));
            }
            let open = id
                .sessions
                .iter()
                .find(|s| s.device == self.device)
                .map_or(f64::INFINITY, |s| s.open);
            for login in id.sessions.iter().filter(|s| s.login_t0 > reset) {
                if let Some(s) = m.state_at(self.i, login.login_t0)
                    && login.login_t0 <= self.t0
                {
                    lower.extend(map(&s.groups));
                }
            }
            let states = &id.states;
            for (k, s) in states.iter().enumerate() {
                let from = s.t1.max(reset).max(open);
                let to = states.get(k + 1).map_or(self.t0, |n| n.t0.min(self.t0));
                if m.available(self.i, from, to) >= c.timing.need {
                    lower.extend(map(&s.groups));
                }
            }
        }
        let extra: Vec<&String> = shown.difference(&upper).collect();
        let missing: Vec<&String> = lower.difference(&shown).collect();
        if extra.is_empty() && missing.is_empty() {
            return None;
        }
        let what = if c.mode == SyncMode::None {
            "with sync off only webapp grants"
        } else {
            "in additive mode every permission the groups ever gave, and the webapp grants, never fewer than those the RP has had the deadline to see"
        };
        Some((
            Kind::Permissions,
            format!(
                "{what}: at least {lower:?}, at most {upper:?} (unexpected {extra:?}, missing {missing:?})"
            ),
        ))
    }

    fn profile(&self, c: &Contract, m: &Model, r: &MeReading) -> Option<(Kind, String)> {
        let f = self.floor(c, m);
        let states = m.states_in(self.i, f, self.t1);
        let fields: [(&str, &Option<String>, fn(&super::model::State) -> &String); 2] = [
            ("name", &r.name, |s| &s.name),
            ("email", &r.email, |s| &s.email),
        ];
        for (field, shown, of) in fields {
            let Some(shown) = shown else { continue };
            let options: Vec<&String> = states.iter().map(|s| of(s)).collect();
            if !options.is_empty() && !options.contains(&shown) {
                return Some((
                    Kind::Profile,
                    format!(
                        "the {field} the IdP has had since {}: one of {options:?}",
                        since(f)
                    ),
                ));
            }
        }
        None
    }
}

fn since(t: f64) -> String {
    if t.is_finite() {
        format!("{t:.2} s")
    } else {
        "the start".into()
    }
}
