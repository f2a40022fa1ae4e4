//! `cargo bench -p reference-rp --bench explore [-- SECONDS]`: how fast `conformance
//! explore` goes against the correct reference RP (in this process, built as cargo bench
//! builds it: optimised): for each sync mode, alone in turn, actions per second
//! and rounds per second over `SECONDS` (30 by default), and that nothing disagreed (a
//! disagreement here is a false alarm, and fails the bench). Time to the first
//! disagreement on each reference-RP defect is the explore table's
//! (`cargo test -p reference-rp --test explore -- --ignored --nocapture`), which prints
//! actions per second for each row too.

#[allow(dead_code)]
#[path = "../tests/suite/support.rs"]
mod support;

use conformance::SyncMode;
use conformance::explore::explore;

fn main() {
    let seconds: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(30);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    println!(
        "\n| sync mode | explored | rounds | actions | actions/s | rounds/s | disagreements |"
    );
    println!("|---|---|---|---|---|---|---|");
    let mut false_alarms = 0;
    for (k, mode) in [SyncMode::Strict, SyncMode::Additive, SyncMode::None]
        .into_iter()
        .enumerate()
    {
        let mut o = support::explore_options(&[], mode, seconds, 7 + k as u64);
        o.run.progress = false;
        let r = rt.block_on(explore(&o)).expect("the exploration runs");
        let m = &r.modes[0];
        let secs = m.wall_time_s.max(f64::EPSILON);
        false_alarms += m
            .findings
            .iter()
            .filter(|f| !f.disagreement.recommendation)
            .count();
        println!(
            "| {mode} | {:.0} s | {} | {} | {:.1} | {:.2} | {} |",
            m.wall_time_s,
            m.rounds,
            m.actions,
            m.actions as f64 / secs,
            m.rounds as f64 / secs,
            m.findings.len()
        );
    }
    assert_eq!(false_alarms, 0, "the correct RP disagreed with the model");
}
