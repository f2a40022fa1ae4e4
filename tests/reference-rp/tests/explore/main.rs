//! `conformance explore` against the reference RP: the correct RP shows no disagreement,
//! and each defect of the sync, permission, identity and revocation families is found by
//! exploring alone, shrunk, and shown again by its replay file.

#[allow(dead_code)]
#[path = "../suite/support.rs"]
mod support;

use conformance::SyncMode;
use conformance::explore::report::ExploreReport;
use conformance::explore::{ExploreOptions, explore};
use reference_rp::Defect;

async fn go(o: &ExploreOptions) -> ExploreReport {
    let r = explore(o).await.expect("the exploration runs");
    eprintln!("{}", r.summary());
    r
}

/// The defects of the sync, permission, identity and revocation families, and the four
/// written for explore (after the scenario catalogue, before explore was measured on them):
/// name, the mode the RP runs in, and what explore must find.
const FAMILIES: &[(&str, SyncMode)] = &[
    ("sync-ignores-groups", SyncMode::Strict),
    ("strict-as-additive", SyncMode::Strict),
    ("never-removes", SyncMode::Strict),
    ("additive-as-strict", SyncMode::Additive),
    ("none-applies-groups", SyncMode::None),
    ("grant-always-refused", SyncMode::Additive),
    ("relogin-keeps-stale", SyncMode::Strict),
    ("maps-unknown-groups", SyncMode::Strict),
    ("claim-sources-ignored", SyncMode::Strict),
    ("slow-sync", SyncMode::Strict),
    ("reuses-refresh-token", SyncMode::Strict),
    ("revokes-on-error", SyncMode::Strict),
    ("sequential-sync", SyncMode::Strict),
    ("expires-sessions", SyncMode::Strict),
    ("no-profile-sync", SyncMode::Strict),
    ("keyed-by-email", SyncMode::Strict),
    ("links-by-email", SyncMode::Strict),
    ("ignores-invalid-grant", SyncMode::Strict),
    ("keeps-sessions", SyncMode::Strict),
    ("revokes-by-email", SyncMode::Strict),
    ("logout-drops-account-sync", SyncMode::Strict),
    ("additive-login-replaces", SyncMode::Additive),
    ("refresh-never-refetches-jwks", SyncMode::Strict),
    ("rename-splits-account", SyncMode::Additive),
];

/// The written-for-explore defects (the last four rows).
const NEW: usize = 4;

/// `cargo test -p reference-rp --test explore -- --ignored --nocapture`: every row of
/// [`FAMILIES`] explored blind (a seed per row, the budget below), two at a time; prints the
/// table the book shows (docs/src/suite/explore.md) and fails on a row not found.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "the full table takes about half an hour: a command of its own"]
async fn every_defect_of_the_families_is_found_by_exploring_alone() {
    let budget: u64 = std::env::var("EXPLORE_BUDGET_S")
        .ok()
        .and_then(|b| b.parse().ok())
        .unwrap_or(180);
    // `EXPLORE_ROWS=a,b` explores only those rows; `EXPLORE_AT_ONCE` how many at once.
    let rows: Vec<String> = std::env::var("EXPLORE_ROWS")
        .unwrap_or_default()
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let at_once = std::env::var("EXPLORE_AT_ONCE")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2);
    let gate = std::sync::Arc::new(tokio::sync::Semaphore::new(at_once));
    let mut runs = tokio::task::JoinSet::new();
    for (k, (name, mode)) in FAMILIES.iter().enumerate() {
        if !rows.is_empty() && !rows.iter().any(|r| r == name) {
            continue;
        }
        let gate = gate.clone();
        runs.spawn(async move {
            let _slot = gate.acquire_owned().await;
            let d: Defect = name.parse().unwrap();
            let mut o = support::explore_options(&[d], *mode, budget, 1000 + k as u64);
            o.run.progress = false;
            let r = go(&o).await;
            // Each row's report, to read what was found.
            let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
                .join("explore-table")
                .join(name);
            conformance::explore::page::write(&r, &dir).expect("the report is written");
            (k, r)
        });
    }
    let mut rows = Vec::new();
    while let Some(done) = runs.join_next().await {
        rows.push(done.unwrap());
    }
    rows.sort_by_key(|(k, _)| *k);
    let mut table = String::from(
        "| defect | mode | found after | kind | actions drawn → shrunk | re-runs showing it | actions/s |\n|---|---|---|---|---|---|---|\n",
    );
    let mut missed = Vec::new();
    for (k, r) in &rows {
        let (name, mode) = FAMILIES[*k];
        let new = if *k >= FAMILIES.len() - NEW {
            " (new)"
        } else {
            ""
        };
        let m = &r.modes[0];
        let speed = m.actions as f64 / m.wall_time_s.max(f64::EPSILON);
        let found = m
            .findings
            .iter()
            .find(|f| !f.disagreement.recommendation)
            .or(m.findings.first());
        match found {
            Some(f) => table.push_str(&format!(
                "| `{name}`{new} | {mode} | {:.0} s | {}{} | {} → {} | {} of {} | {speed:.1} |\n",
                f.found_after_s,
                f.disagreement.kind.as_str(),
                if f.disagreement.recommendation {
                    " (recommendation)"
                } else {
                    ""
                },
                f.drawn_actions,
                f.shrunk_actions,
                f.confirmations.0,
                f.confirmations.1
            )),
            None => {
                missed.push(name);
                table.push_str(&format!(
                    "| `{name}`{new} | {mode} | not within {budget} s | | | | {speed:.1} |\n"
                ));
            }
        }
    }
    println!("{table}");
    let old_missed: Vec<&&str> = missed
        .iter()
        .filter(|n| {
            !FAMILIES[FAMILIES.len() - NEW..]
                .iter()
                .any(|(x, _)| x == *n)
        })
        .collect();
    assert!(old_missed.is_empty(), "not found: {old_missed:?}");
}

/// One exploration of the reference RP, as the environment says: `DEFECTS=a,b`, `MODE`
/// (strict, additive, none, or all), `BUDGET` seconds, `SEED`, `REPLAY` (a replay file);
/// the report goes to `target/tmp/explore-one/`.
/// `DEFECTS=slow-sync cargo test -p reference-rp --test explore explore_one -- --ignored --nocapture`
#[tokio::test(flavor = "multi_thread")]
#[ignore = "a tool: one exploration as the environment says"]
async fn explore_one() {
    let var = |k: &str| std::env::var(k).ok();
    let mode = var("MODE").unwrap_or_default();
    let defects: Vec<Defect> = var("DEFECTS")
        .unwrap_or_default()
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().expect("a defect"))
        .collect();
    let budget = var("BUDGET").and_then(|b| b.parse().ok()).unwrap_or(60);
    let seed = var("SEED").and_then(|b| b.parse().ok()).unwrap_or(1);
    let mut o = support::explore_options(
        &defects,
        mode.parse().unwrap_or(SyncMode::Strict),
        budget,
        seed,
    );
    if mode == "all" {
        o.run.modes.clear();
    }
    if let Some(f) = var("REPLAY") {
        o.replay =
            Some(conformance::explore::Replay::from_file(f.as_ref()).expect("a replay file"));
    }
    let r = go(&o).await;
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("explore-one");
    conformance::explore::page::write(&r, &dir).expect("the report is written");
    eprintln!("report: {}", dir.display());
}
