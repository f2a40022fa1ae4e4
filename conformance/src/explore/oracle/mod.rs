//! The oracle: every observation of a round checked against the model of the contract.
//! What cannot be observed is not asserted (a field the RP does not show, a session the
//! RP may or may not have ended yet); what is asserted names its evidence.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

mod reading;

use super::model::{Model, Timing, is};
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

fn since(t: f64) -> String {
    if t.is_finite() {
        format!("{t:.2} s")
    } else {
        "the start".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explore::trace::Person;

    fn contract(mode: SyncMode) -> Contract {
        let mut group_map = BTreeMap::new();
        group_map.insert("a".to_owned(), vec!["read".to_owned()]);
        group_map.insert("b".to_owned(), vec!["write".to_owned()]);
        Contract {
            mode,
            group_map,
            timing: Timing {
                need: 2.5,
                jwks_cooldown: 3.0,
            },
        }
    }

    fn at(t: f64, step: usize, what: What) -> Entry {
        Entry {
            lane: Some(0),
            step: Some(step),
            t0: t,
            t1: t + 0.01,
            what,
        }
    }

    fn person(sub: &str) -> Person {
        Person {
            username: format!("u-{sub}"),
            sub: sub.into(),
            email: "u@example.test".into(),
            name: "U".into(),
            groups: vec!["a".into()],
        }
    }

    fn me(sub: &str, perms: &[&str], account: &str) -> Option<MeReading> {
        Some(MeReading {
            status: 200,
            sub: Some(sub.into()),
            permissions: Some(perms.iter().map(|p| (*p).to_owned()).collect()),
            account: Some(account.into()),
            ..MeReading::default()
        })
    }

    fn read(t: f64, step: usize, reading: Option<MeReading>) -> Entry {
        at(
            t,
            step,
            What::Me {
                identity: 0,
                device: 0,
                reading,
                error: None,
            },
        )
    }

    /// A user created in group `a`, logged in; then `more`.
    fn trace(more: Vec<Entry>) -> Vec<Entry> {
        let mut t = vec![
            at(
                0.0,
                0,
                What::Created {
                    identity: 0,
                    person: person("s1"),
                },
            ),
            at(
                0.1,
                1,
                What::Login {
                    identity: 0,
                    device: 0,
                    reading: me("s1", &["read"], "1"),
                    error: None,
                    callback: None,
                },
            ),
        ];
        t.extend(more);
        t
    }

    fn regroup(t: f64, step: usize, groups: &[&str]) -> Entry {
        at(
            t,
            step,
            What::Changed {
                identity: 0,
                groups: Some(groups.iter().map(|g| (*g).to_owned()).collect()),
                name: None,
                email: None,
            },
        )
    }

    fn kinds(mode: SyncMode, t: &[Entry]) -> Vec<Kind> {
        check(&contract(mode), t).iter().map(|d| d.kind).collect()
    }

    #[test]
    fn a_change_may_show_late_until_the_deadline_and_must_show_after_it() {
        let before = trace(vec![
            regroup(1.0, 2, &["b"]),
            read(2.0, 3, me("s1", &["read"], "1")),
        ]);
        assert_eq!(kinds(SyncMode::Strict, &before), []);
        let after = trace(vec![
            regroup(1.0, 2, &["b"]),
            read(4.0, 3, me("s1", &["read"], "1")),
        ]);
        assert_eq!(kinds(SyncMode::Strict, &after), [Kind::Permissions]);
        assert_eq!(
            kinds(SyncMode::Additive, &after),
            [Kind::Permissions],
            "write is missing"
        );
        let kept = trace(vec![
            regroup(1.0, 2, &["b"]),
            read(4.0, 3, me("s1", &["read", "write"], "1")),
        ]);
        assert_eq!(kinds(SyncMode::Additive, &kept), []);
        assert_eq!(
            kinds(SyncMode::Strict, &kept),
            [Kind::Permissions],
            "read must go"
        );
        let off = trace(vec![read(0.5, 2, me("s1", &["read"], "1"))]);
        assert_eq!(
            kinds(SyncMode::None, &off),
            [Kind::Permissions, Kind::Permissions],
            "groups ignored, at the login and after"
        );
    }

    #[test]
    fn an_outage_stops_the_clock_of_the_deadline() {
        let outage = |hang_s| {
            vec![
                at(
                    0.9,
                    2,
                    What::OutageOn {
                        identity: 0,
                        hang_s,
                    },
                ),
                regroup(1.0, 3, &["b"]),
                at(
                    3.0,
                    4,
                    What::OutageOff {
                        identity: 0,
                        tail_s: hang_s,
                    },
                ),
            ]
        };
        let mut t = trace(outage(0.0));
        t.push(read(4.0, 5, me("s1", &["read"], "1")));
        assert_eq!(
            kinds(SyncMode::Strict, &t),
            [],
            "1 s since the outage ended"
        );
        let mut t = trace(outage(0.0));
        t.push(read(6.0, 5, me("s1", &["read"], "1")));
        assert_eq!(kinds(SyncMode::Strict, &t), [Kind::Permissions]);
        let mut t = trace(outage(3.0));
        t.push(read(6.0, 5, me("s1", &["read"], "1")));
        assert_eq!(
            kinds(SyncMode::Strict, &t),
            [],
            "a refresh may hang 3 s more"
        );
    }

    #[test]
    fn a_deleted_users_session_must_end_by_the_deadline_and_no_other_may_end() {
        let deleted = |t: f64, reading| {
            trace(vec![
                at(
                    1.0,
                    2,
                    What::Deleted {
                        identity: 0,
                        logout_token: false,
                    },
                ),
                read(t, 3, reading),
            ])
        };
        let gone = Some(MeReading {
            status: 401,
            ..MeReading::default()
        });
        assert_eq!(
            kinds(SyncMode::Strict, &deleted(2.0, me("s1", &["read"], "1"))),
            []
        );
        assert_eq!(kinds(SyncMode::Strict, &deleted(2.0, gone.clone())), []);
        assert_eq!(
            kinds(SyncMode::Strict, &deleted(4.0, me("s1", &["read"], "1"))),
            [Kind::SessionKept]
        );
        let ended = trace(vec![read(4.0, 2, gone)]);
        assert_eq!(kinds(SyncMode::Strict, &ended), [Kind::SessionEnded]);
    }

    #[test]
    fn a_new_sub_is_never_shown_another_users_account() {
        let mut t = trace(vec![]);
        t.push(at(
            1.0,
            2,
            What::Created {
                identity: 1,
                person: person("s2"),
            },
        ));
        t.push(at(
            1.1,
            3,
            What::Login {
                identity: 1,
                device: 1,
                reading: me("s2", &["read"], "1"),
                error: None,
                callback: None,
            },
        ));
        assert_eq!(kinds(SyncMode::Strict, &t), [Kind::Identity]);
        let d = &check(&contract(SyncMode::Strict), &t)[0];
        assert!(
            d.expected.contains("account \"1\" was u-s1's"),
            "{}",
            d.expected
        );
    }

    #[test]
    fn what_the_rp_keeps_may_go_with_a_refusal_until_it_ends() {
        let grant = |t| {
            at(
                t,
                3,
                What::Grant {
                    identity: 0,
                    device: 0,
                    permission: "audit".into(),
                    status: Some(200),
                    error: None,
                },
            )
        };
        let relogin = |t, perms: &[&str]| {
            at(
                t,
                5,
                What::Login {
                    identity: 0,
                    device: 1,
                    reading: me("s1", perms, "1"),
                    error: None,
                    callback: None,
                },
            )
        };
        let disabled = |grant_at, login_perms: &[&str]| {
            trace(vec![
                at(
                    1.0,
                    2,
                    What::Disabled {
                        identity: 0,
                        logout_token: false,
                    },
                ),
                grant(grant_at),
                at(1.4, 4, What::Enabled { identity: 0 }),
                relogin(1.5, login_perms),
            ])
        };
        // A grant while disabled may be lost with the revocation the RP learns of.
        assert_eq!(kinds(SyncMode::Additive, &disabled(1.1, &["read"])), []);
        // One well after the enable may not.
        let mut t = trace(vec![
            at(
                1.0,
                2,
                What::Disabled {
                    identity: 0,
                    logout_token: false,
                },
            ),
            at(1.4, 3, What::Enabled { identity: 0 }),
            grant(2.0),
            relogin(2.5, &["read"]),
        ]);
        assert_eq!(kinds(SyncMode::Additive, &t), [Kind::Permissions]);
        t.pop();
        t.push(relogin(2.5, &["audit", "read"]));
        assert_eq!(kinds(SyncMode::Additive, &t), []);
    }
}
