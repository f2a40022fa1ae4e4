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
    for run in &report.runs {
        if let Some(why) = &run.rp_exited {
            let _ = writeln!(out, "\nRP EXITED ({}): {why}", run.sync_mode);
        }
        if let Some(why) = &run.no_login {
            let label = run.label();
            let _ = writeln!(out, "\nNO LOGIN ({label}): {why}");
        }
    }
    let mut rows: BTreeMap<(String, &str), [usize; 5]> = BTreeMap::new();
    for run in &report.runs {
        let label = run.label();
        for r in &run.results {
            rows.entry((label.clone(), r.category.as_str()))
                .or_default()[r.verdict as usize] += 1;
        }
    }
    let _ = writeln!(
        out,
        "\n{:<21} {:<11} {:>5} {:>5} {:>5} {:>5} {:>5}",
        "mode", "category", "pass", "fail", "warn", "skip", "error"
    );
    for ((mode, cat), n) in &rows {
        let _ = writeln!(
            out,
            "{mode:<21} {cat:<11} {:>5} {:>5} {:>5} {:>5} {:>5}",
            n[0], n[1], n[2], n[3], n[4]
        );
    }
    out.push_str(&matrix(report));
    let s = &report.summary;
    let _ = writeln!(
        out,
        "\n{} scenario runs: {} pass, {} fail, {} warn, {} skip, {} error; {} expected failures",
        s.total, s.pass, s.fail, s.warn, s.skip, s.error, s.expected_failures
    );
    let lost = report.lost_coverage();
    if !lost.is_empty() {
        let n: usize = lost.values().map(Vec::len).sum();
        let _ = writeln!(
            out,
            "{n} scenarios skipped, coverage lost (--fail-on-skip makes this a failure):"
        );
        for (reason, ids) in &lost {
            let _ = writeln!(out, "  {}: {reason}", ids.join(", "));
        }
    }
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
    let per_mode: Vec<String> = report
        .runs
        .iter()
        .map(|r| {
            let label = r.label();
            format!(
                "{label} {:.2} s (critical path {:.2} s)",
                r.wall_time_ms as f64 / 1000.0,
                r.critical_path_ms as f64 / 1000.0
            )
        })
        .collect();
    let _ = writeln!(
        out,
        "wall time: {:.2} s ({}) — {}",
        report.wall_time_ms as f64 / 1000.0,
        per_mode.join(", "),
        if report.ok() { "OK" } else { "FAILED" }
    );
    out
}

/// With provider profiles, the scenario × profile matrix: each cell the worst verdict
/// across the sync modes (fail, error, warn, pass, then skip). Empty without profiles.
pub fn matrix(report: &Report) -> String {
    let mut profiles: Vec<&str> = Vec::new();
    for p in report.runs.iter().filter_map(|r| r.idp_profile.as_deref()) {
        if !profiles.contains(&p) {
            profiles.push(p);
        }
    }
    if profiles.is_empty() {
        return String::new();
    }
    let rank = |o: Outcome| match o {
        Outcome::Fail => 4,
        Outcome::Error => 3,
        Outcome::Warn => 2,
        Outcome::Pass => 1,
        Outcome::Skip => 0,
    };
    let mut ids: Vec<&str> = Vec::new();
    let mut cells: BTreeMap<(&str, &str), Outcome> = BTreeMap::new();
    for run in &report.runs {
        let Some(p) = run.idp_profile.as_deref() else {
            continue;
        };
        for r in &run.results {
            if !ids.contains(&r.id.as_str()) {
                ids.push(&r.id);
            }
            let cell = cells.entry((r.id.as_str(), p)).or_insert(r.verdict);
            if rank(r.verdict) > rank(*cell) {
                *cell = r.verdict;
            }
        }
    }
    let mut out = format!("\n{:<40}", "scenario \\ profile");
    for p in &profiles {
        let _ = write!(out, " {p:>12}");
    }
    out.push('\n');
    for id in ids {
        let _ = write!(out, "{id:<40}");
        for p in &profiles {
            let label = cells.get(&(id, *p)).map_or("-", |o| o.label());
            let _ = write!(out, " {label:>12}");
        }
        out.push('\n');
    }
    out
}
