//! The terminal: a line per finished scenario, then a summary table, the slowest sync
//! per mode and the wall time.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::{Report, ScenarioResult};
use crate::verdict::Outcome;

/// `PASS  login.code-flow  (0.21 s)` and, unless passing, the reason.
pub fn progress_line(mode: &str, r: &ScenarioResult) -> String {
    let expected = if r.expected_failure {
        " (expected)"
    } else {
        ""
    };
    let mut s = format!(
        "{:<5} {mode:<8} {:<40} {:>6.2} s{expected}",
        r.verdict.label(),
        r.id,
        r.duration_ms as f64 / 1000.0
    );
    // A skip's reason is in the report; most are "another sync mode".
    if !matches!(r.verdict, Outcome::Pass | Outcome::Skip) {
        let _ = write!(s, "\n      {}", r.reason);
    }
    s
}

/// The summary table and the wall time.
pub fn summary(report: &Report) -> String {
    let mut out = String::new();
    let mut rows: BTreeMap<(String, &str), [usize; 5]> = BTreeMap::new();
    for run in &report.runs {
        for r in &run.results {
            rows.entry((run.sync_mode.to_string(), r.category.as_str()))
                .or_default()[r.verdict as usize] += 1;
        }
    }
    let _ = writeln!(
        out,
        "\n{:<10} {:<10} {:>5} {:>5} {:>5} {:>5} {:>5}",
        "mode", "category", "pass", "fail", "warn", "skip", "error"
    );
    for ((mode, cat), n) in &rows {
        let _ = writeln!(
            out,
            "{mode:<10} {cat:<10} {:>5} {:>5} {:>5} {:>5} {:>5}",
            n[0], n[1], n[2], n[3], n[4]
        );
    }
    let s = &report.summary;
    let _ = writeln!(
        out,
        "\n{} scenario runs: {} pass, {} fail, {} warn, {} skip, {} error; {} expected failures",
        s.total, s.pass, s.fail, s.warn, s.skip, s.error, s.expected_failures
    );
    if !s.unexpected_passes.is_empty() {
        let _ = writeln!(
            out,
            "listed as expected failures but passing (remove them): {}",
            s.unexpected_passes.join(", ")
        );
    }
    for run in &report.runs {
        let slowest = run
            .results
            .iter()
            .flat_map(|r| r.evidence.latency.iter().map(move |l| (r, l)))
            .max_by_key(|(_, l)| l.max_ms);
        if let Some((r, l)) = slowest {
            let _ = writeln!(
                out,
                "slowest sync ({}): {:.2} s for {} ({}), deadline {:.0} s",
                run.sync_mode,
                l.max_ms as f64 / 1000.0,
                r.id,
                l.change,
                l.deadline_ms as f64 / 1000.0
            );
        }
    }
    let _ = writeln!(
        out,
        "wall time: {:.2} s — {}",
        report.wall_time_ms as f64 / 1000.0,
        if report.ok() { "OK" } else { "FAILED" }
    );
    out
}
