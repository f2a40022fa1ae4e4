//! `conformance explore` in CI, short: the correct RP shows no disagreement in any mode, and
//! a defect is found, shrunk, written as a replay file and shown again by replaying it. The
//! full table (every defect of the sync, permission, identity and revocation families) is
//! `cargo test -p reference-rp --test explore -- --ignored`. Each exploration takes one of
//! the suite's slots ([`crate::support::slot`]), so that it adds no load to the timing
//! scenarios beyond a suite run's.

use conformance::SyncMode;
use conformance::explore::oracle::Kind;
use conformance::explore::{Replay, explore, page};
use reference_rp::Defect;

use crate::support::explore_options;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explore_finds_no_disagreement_in_the_correct_rp() {
    let mut o = explore_options(&[], SyncMode::Strict, 40, 7);
    o.run.modes.clear();
    o.run.progress = false;
    let r = {
        let _slot = crate::support::slot().await;
        explore(&o).await.expect("the exploration runs")
    };
    assert_eq!(r.modes.len(), 3, "every declared mode");
    for m in &r.modes {
        assert!(m.no_login.is_none(), "{:?}", m.no_login);
        assert!(m.rounds >= 2 && m.actions >= 60, "{}", r.summary());
        // A disagreement that did not show again is reported as flaky, never a failure;
        // a confirmed one is a false alarm of the model.
        assert!(m.findings.is_empty(), "{}", r.summary());
    }
    assert!(r.ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explore_finds_a_defect_shrinks_it_and_its_replay_shows_it_again() {
    let mut o = explore_options(&[Defect::KeepsSessions], SyncMode::Strict, 150, 3);
    o.run.progress = false;
    let r = {
        let _slot = crate::support::slot().await;
        explore(&o).await.expect("the exploration runs")
    };
    assert!(!r.ok(), "{}", r.summary());
    let f = &r.modes[0].findings[0];
    assert_eq!(f.disagreement.kind, Kind::SessionKept, "{}", r.summary());
    assert!(f.confirmations.0 >= 1, "{}", r.summary());
    assert!(f.shrunk_actions <= f.drawn_actions, "{}", r.summary());
    let lane = &f.replay.plan.lanes[0];
    assert_eq!(f.replay.plan.lanes.len(), 1, "one user: {}", r.summary());
    assert!(lane.actions.len() <= 6, "shrunk: {lane:#?}");
    // The files, and the replay read back from its file and run: it shows it again.
    let dir = std::env::temp_dir().join(format!("explore-{}", std::process::id()));
    let written = page::write(&r, &dir).expect("the report is written");
    let html = std::fs::read_to_string(dir.join("explore.html")).unwrap();
    assert!(html.contains("disagrees") && html.contains("session-kept"));
    let replay = Replay::from_file(&written[0]).expect("the replay file reads back");
    assert_eq!(replay.plan, f.replay.plan);
    let mut again = explore_options(&[Defect::KeepsSessions], SyncMode::Strict, 0, 0);
    again.replay = Some(replay);
    let shown = {
        let _slot = crate::support::slot().await;
        explore(&again).await.expect("the replay runs")
    };
    let replayed = shown.modes[0].replayed.as_ref().expect("a replay");
    assert!(
        replayed
            .disagreements
            .iter()
            .any(|d| d.kind == Kind::SessionKept),
        "{}",
        shown.summary()
    );
    // …and against the correct RP the same plan shows nothing.
    let mut fixed = explore_options(&[], SyncMode::Strict, 0, 0);
    fixed.replay = again.replay.clone();
    let fine = {
        let _slot = crate::support::slot().await;
        explore(&fixed).await.expect("the replay runs")
    };
    assert!(fine.ok(), "{}", fine.summary());
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explore_attaches_to_a_running_rp_as_run_does() {
    let idp = mock_idp::MockIdp::start().await;
    let attached = crate::support::Attached::start(&idp, &[], "explored").await;
    let mut o = conformance::explore::ExploreOptions::new(attached.options(&idp));
    o.budget = std::time::Duration::from_secs(20);
    o.seed = 5;
    let r = {
        let _slot = crate::support::slot().await;
        explore(&o).await.expect("the exploration runs")
    };
    assert_eq!(r.modes.len(), 1, "an attached RP runs in one mode");
    let m = &r.modes[0];
    assert!(m.no_login.is_none() && m.rounds >= 2, "{}", r.summary());
    assert!(m.findings.is_empty(), "{}", r.summary());
}

/// The replay file explore wrote for `sequential-sync` (shrunk to a login, while a spare
/// user's refreshes hang): it shows the stalled sync again, and the correct RP, which
/// refreshes each user independently, passes the same plan.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_sync_replays_from_its_file_and_the_correct_rp_passes_it() {
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/suite/replays/sequential-sync.json");
    let replay = Replay::from_file(&file).expect("the replay file reads");
    let run = |defects: &'static [Defect]| {
        let replay = replay.clone();
        async move {
            let mut o = explore_options(defects, SyncMode::Strict, 0, 0);
            o.replay = Some(replay);
            let _slot = crate::support::slot().await;
            explore(&o).await.expect("the replay runs")
        }
    };
    let (stalled, fine) = tokio::join!(run(&[Defect::SequentialSync]), run(&[]));
    let replayed = stalled.modes[0].replayed.as_ref().expect("a replay");
    assert!(
        replayed
            .disagreements
            .iter()
            .any(|d| d.kind == Kind::SyncStalled),
        "{}",
        stalled.summary()
    );
    assert!(!stalled.ok());
    assert!(fine.ok(), "{}", fine.summary());
}
