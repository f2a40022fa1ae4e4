//! The oracle: every observation of a round checked against the model of the contract.
//! What cannot be observed is not asserted (a field the RP does not show, a session the
//! RP may or may not have ended yet); what is asserted names its evidence.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

mod reading;
mod stall;

pub use stall::Hung;

use super::model::{self, Model, Timing, is};
use super::trace::{Entry, Ident, What, observed};
use crate::rp::SyncMode;
use crate::verdict::MeReading;
use reading::{Alive, Reading};

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
    /// One user's hung refresh held up another user's sync past the deadline.
    SyncStalled,
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
            Kind::SyncStalled => "sync-stalled",
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
    /// For a stalled sync: the refresh that hung (when, and the lane it came from; none:
    /// a user outside the lanes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hung: Option<stall::Hung>,
}

impl Disagreement {
    /// Whether a timeline marks this entry as the disagreeing one: the action that
    /// observed it, or for a stalled sync the lane's refresh that came too late.
    pub fn marks(&self, e: &Entry) -> bool {
        if e.lane != Some(self.lane) {
            return false;
        }
        match (&e.what, self.kind) {
            (What::Refresh { .. }, Kind::SyncStalled) => e.t0 == self.at,
            (_, Kind::SyncStalled) | (What::Skipped { .. } | What::Refresh { .. }, _) => false,
            _ => e.step == Some(self.step),
        }
    }
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
            hung: None,
        };
        let mut d = match &e.what {
            What::Login {
                identity,
                device,
                reading,
                error,
                ..
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
            } if !reused.is_empty() && !reuse_excused(&model, c, trace, *identity) => {
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
                if d.recommendation {
                    d.expected.push_str(
                        " — the groups came by reference since (OIDC Core §5.6.2): an RP should follow them, a recommendation",
                    );
                }
                if let Some((refreshes, _)) = journals.get(&i) {
                    let from = refreshes.len().saturating_sub(4);
                    d.evidence.extend(refreshes[from..].iter().cloned());
                }
            }
            out.push(d.clone());
        }
    }
    out.extend(stall::check(c, &model, trace));
    out.sort_by(|a, b| a.at.total_cmp(&b.at));
    out
}

/// Whether every spent refresh token the identity presented is excused: after a refresh of
/// it hung (the answer may never have reached the RP), or within a key rotation's window
/// (the rotation, the RP's JWKS cooldown and the deadline): a refreshed ID token the RP
/// cannot verify yet makes it reject the answer whose refresh token the IdP has already
/// rotated, and its next refresh presents the one it kept. The stream (`What::Refresh`)
/// times each reuse.
fn reuse_excused(m: &Model, c: &Contract, trace: &[Entry], i: Ident) -> bool {
    if m.identities.get(&i).is_some_and(|id| id.hung) {
        return true;
    }
    let rotating = |t: f64| {
        m.world
            .iter()
            .any(|(a, b, what)| *what == model::ROTATION && (*a..=*b + c.timing.need).contains(&t))
    };
    let mut reuses = trace.iter().filter(
        |e| matches!(e.what, What::Refresh { identity: Some(x), reused: true, .. } if x == i),
    );
    // None in the stream (it could not be read): nothing to excuse them by.
    reuses.next().is_some_and(|e| rotating(e.t0)) && reuses.all(|e| rotating(e.t0))
}

pub(super) fn username(m: &Model, i: Ident) -> String {
    m.identities
        .get(&i)
        .and_then(|id| id.person.as_ref())
        .map_or_else(|| format!("user {i}"), |p| p.username.clone())
}

fn since(t: f64) -> String {
    if t.is_finite() {
        format!("{t:.2} s")
    } else {
        "the start".into()
    }
}

#[cfg(test)]
mod tests;
