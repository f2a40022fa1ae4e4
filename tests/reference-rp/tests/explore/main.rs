//! `conformance explore` against the reference RP: the correct RP shows no disagreement,
//! and each defect of the sync, permission, identity and revocation families is found by
//! exploring alone, shrunk, and shown again by its replay file.

#[allow(dead_code)]
#[path = "../suite/support.rs"]
mod support;

use std::time::Duration;

use conformance::explore::report::ExploreReport;
use conformance::explore::{ExploreOptions, explore};
use conformance::{Options, RpDescription, SyncMode};
use reference_rp::Defect;
use support::{INTERVAL_S, in_process, rp_toml};

/// The explore options for the reference RP with these defects, in `mode`.
fn options(defects: &[Defect], mode: SyncMode, budget_s: u64, seed: u64) -> ExploreOptions {
    let names: Vec<&str> = defects.iter().map(|d| d.name()).collect();
    let toml = rp_toml(
        r#"["strict", "additive", "none"]"#,
        "",
        &format!(
            "[launch]\ncommand = [\"reference-rp\"]\nsync_interval_s = {INTERVAL_S}\nenv = {{ DEFECTS = {:?} }}",
            names.join(",")
        ),
    );
    let desc = RpDescription::from_toml(&toml, "rp.toml").expect("valid rp.toml");
    let mut run = Options::new(desc);
    run.launcher = Some(in_process());
    run.modes = vec![mode];
    run.progress = true;
    let mut o = ExploreOptions::new(run);
    o.budget = Duration::from_secs(budget_s);
    o.shrink_budget = Duration::from_secs(120);
    o.seed = seed;
    o
}

async fn go(o: &ExploreOptions) -> ExploreReport {
    let r = explore(o).await.expect("the exploration runs");
    eprintln!("{}", r.summary());
    r
}

#[tokio::test(flavor = "multi_thread")]
async fn probe() {
    let mode = match std::env::var("MODE").as_deref() {
        Ok("additive") => SyncMode::Additive,
        Ok("none") => SyncMode::None,
        _ => SyncMode::Strict,
    };
    let defects: Vec<Defect> = std::env::var("DEFECTS")
        .unwrap_or_default()
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    let budget = std::env::var("BUDGET")
        .ok()
        .and_then(|b| b.parse().ok())
        .unwrap_or(30);
    let seed = std::env::var("SEED")
        .ok()
        .and_then(|b| b.parse().ok())
        .unwrap_or(1);
    let mut o = options(&defects, mode, budget, seed);
    if std::env::var("MODE").as_deref() == Ok("all") {
        o.run.modes.clear();
    }
    if let Ok(f) = std::env::var("REPLAY") {
        o.replay = Some(conformance::explore::Replay::from_file(f.as_ref()).unwrap());
    }
    let r = go(&o).await;
    std::fs::create_dir_all("/tmp/explore-probe").unwrap();
    conformance::explore::page::write(&r, "/tmp/explore-probe".as_ref()).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
#[ignore]
async fn catalogue_probe() {
    let names = std::env::var("DEFECTS").unwrap_or_default();
    for n in names.split(',').filter(|s| !s.is_empty()) {
        let d: Defect = n.parse().unwrap();
        let r = support::launch(&[d]).await;
        eprintln!("{n}: {:#?}", support::not_passing(&r));
    }
}
