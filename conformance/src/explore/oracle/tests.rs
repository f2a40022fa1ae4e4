//! The oracle on synthetic traces: each rule of the model, and its control.

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
            idp_timeout: 3.0,
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

/// Two lanes' users refreshed every 0.4 s from 0.5 s to `until`, but for lane 1's user
/// from `from` to `to`; lane 0's user's refresh at `hung_at` hangs, and the stream (lane
/// 1 included) is silent for `quiet` seconds after it.
fn stream(hung_at: f64, quiet: f64, until: f64) -> Vec<Entry> {
    let mut t = vec![
        at(
            0.0,
            0,
            What::Created {
                identity: 0,
                person: person("s1"),
            },
        ),
        Entry {
            lane: Some(1),
            ..at(
                0.0,
                0,
                What::Created {
                    identity: 1000,
                    person: person("s2"),
                },
            )
        },
    ];
    let mut x = 0.5;
    while x < until {
        if !(hung_at..hung_at + quiet).contains(&x) {
            for (lane, identity) in [(0, 0), (1, 1000)] {
                t.push(Entry {
                    lane: Some(lane),
                    step: None,
                    t0: x,
                    t1: x,
                    what: What::Refresh {
                        identity: Some(identity),
                        hung: false,
                        reused: false,
                    },
                });
            }
        }
        x += 0.4;
    }
    t.push(Entry {
        lane: Some(0),
        step: None,
        t0: hung_at,
        t1: hung_at,
        what: What::Refresh {
            identity: Some(0),
            hung: true,
            reused: false,
        },
    });
    t
}

#[test]
fn a_hung_refresh_that_silences_everyone_past_the_deadline_is_a_stalled_sync() {
    let c = contract(SyncMode::Strict);
    // The RP waits out its 3 s timeout on the hung answer: lane 1 goes 3.2 s unsynced.
    let ds = check(&c, &stream(4.05, 3.0, 12.0));
    let d: Vec<_> = ds.iter().filter(|d| d.kind == Kind::SyncStalled).collect();
    assert_eq!(d.len(), 1, "{ds:?}");
    assert_eq!(d[0].lane, 1);
    assert_eq!(
        d[0].hung,
        Some(Hung {
            at: 4.05,
            lane: Some(0)
        })
    );
    assert!(
        d[0].observed.contains("no refresh for anyone for"),
        "{}",
        d[0].observed
    );
}

#[test]
fn a_hung_refresh_that_holds_up_no_one_is_no_stall() {
    let c = contract(SyncMode::Strict);
    // Control: the same hang, and the stream goes on.
    let ds = check(&c, &stream(4.05, 0.0, 12.0));
    assert!(ds.iter().all(|d| d.kind != Kind::SyncStalled), "{ds:?}");
    // A quiet shorter than the deadline needs no excuse either.
    let ds = check(&c, &stream(4.05, 1.9, 12.0));
    assert!(ds.iter().all(|d| d.kind != Kind::SyncStalled), "{ds:?}");
}

/// A user whose RP presented a spent refresh token at `reuse_at`, after a key rotation at 3 s.
fn reused_after_rotation(reuse_at: f64) -> Vec<Entry> {
    trace(vec![
        Entry {
            lane: None,
            step: None,
            t0: 3.0,
            t1: 3.0,
            what: What::KeyRotated,
        },
        Entry {
            lane: Some(0),
            step: None,
            t0: reuse_at,
            t1: reuse_at,
            what: What::Refresh {
                identity: Some(0),
                hung: false,
                reused: true,
            },
        },
        at(
            12.0,
            2,
            What::Journal {
                identity: 0,
                refreshes: vec!["token POST refresh_token → 200".into()],
                reused: vec!["token POST refresh_token → 200 [lint: refresh_token_reused]".into()],
            },
        ),
    ])
}

#[test]
fn a_spent_refresh_token_within_a_rotations_window_is_excused_and_after_it_is_not() {
    let c = contract(SyncMode::Strict);
    // Within the rotation, the RP's JWKS cooldown (3 s) and the deadline (2.5 s): the RP
    // could not verify the answer, so it kept its refresh token.
    let ds = check(&c, &reused_after_rotation(7.0));
    assert!(ds.iter().all(|d| d.kind != Kind::RefreshReuse), "{ds:?}");
    // Control: the same reuse once the window has passed.
    let ds = check(&c, &reused_after_rotation(9.0));
    assert!(ds.iter().any(|d| d.kind == Kind::RefreshReuse), "{ds:?}");
}

#[test]
fn a_gap_in_the_refreshes_of_a_session_that_was_ending_is_no_stall() {
    let c = contract(SyncMode::Strict);
    // The same silence, but lane 1's user was disabled just before it: its refreshes may be
    // refused and its session end, so a gap in them is not the hang's doing.
    let mut t = stream(4.05, 3.0, 12.0);
    t.push(Entry {
        lane: Some(1),
        ..at(
            3.9,
            1,
            What::Disabled {
                identity: 1000,
                logout_token: false,
            },
        )
    });
    let ds = check(&c, &t);
    assert!(ds.iter().all(|d| d.kind != Kind::SyncStalled), "{ds:?}");
}
