//! The Markdown report: a summary table per category, the sync latencies, then each
//! failing, warning or erring scenario with its evidence.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::Report;
use crate::verdict::Outcome;

/// The Markdown text.
pub fn markdown(report: &Report) -> String {
    let mut md = String::new();
    let s = &report.summary;
    let _ = writeln!(md, "# Conformance report\n");
    let _ = writeln!(
        md,
        "{} · contract v{} · RP {} · IdP {} · {:.1} s\n",
        report.suite,
        report.contract_version,
        report.rp.base_url,
        report.idp.issuer,
        report.wall_time_ms as f64 / 1000.0
    );
    let _ = writeln!(
        md,
        "**{}**: {} pass, {} fail, {} warn, {} skip, {} error ({} expected failures)\n",
        if report.ok() { "OK" } else { "FAILED" },
        s.pass,
        s.fail,
        s.warn,
        s.skip,
        s.error,
        s.expected_failures
    );
    for run in &report.runs {
        if let Some(why) = &run.rp_exited {
            let _ = writeln!(
                md,
                "**The RP exited in sync mode `{}`**: {why}\n",
                run.sync_mode
            );
        }
        if let Some(why) = &run.no_login {
            let _ = writeln!(md, "**No login in sync mode `{}`**: {why}\n", run.sync_mode);
        }
    }
    let lost = report.lost_coverage();
    if !lost.is_empty() {
        let _ = writeln!(md, "Skipped, coverage lost:\n");
        for (reason, ids) in &lost {
            let ids: Vec<String> = ids.iter().map(|i| format!("`{i}`")).collect();
            let _ = writeln!(md, "- {}: {reason}", ids.join(", "));
        }
        md.push('\n');
    }
    if !s.unexpected_passes.is_empty() {
        let _ = writeln!(
            md,
            "Listed as expected failures but passing (remove them from the list): {}\n",
            s.unexpected_passes.join(", ")
        );
    }
    for run in &report.runs {
        let took = run.wall_time_ms as f64 / 1000.0;
        match &run.idp_profile {
            Some(p) => {
                let _ = writeln!(
                    md,
                    "## Profile `{p}`, sync mode `{}` ({took:.1} s)\n",
                    run.sync_mode
                );
            }
            None => {
                let _ = writeln!(md, "## Sync mode `{}` ({took:.1} s)\n", run.sync_mode);
            }
        }
        let _ = writeln!(md, "{}\n", run.critical_path_line());
        let mut by_cat: BTreeMap<&str, [usize; 5]> = BTreeMap::new();
        for r in &run.results {
            by_cat.entry(r.category.as_str()).or_default()[r.verdict as usize] += 1;
        }
        let _ = writeln!(
            md,
            "| category | pass | fail | warn | skip | error |\n|---|---|---|---|---|---|"
        );
        for (cat, n) in &by_cat {
            let _ = writeln!(
                md,
                "| {cat} | {} | {} | {} | {} | {} |",
                n[0], n[1], n[2], n[3], n[4]
            );
        }
        let _ = writeln!(md, "\n| scenario | verdict | reason |\n|---|---|---|");
        for r in &run.results {
            let mark = if r.expected_failure {
                " (expected)"
            } else {
                ""
            };
            let _ = writeln!(
                md,
                "| `{}` | {}{mark} | {} |",
                r.id,
                r.verdict.label(),
                r.reason.replace('|', "\\|")
            );
        }
        let latencies: Vec<_> = run
            .results
            .iter()
            .flat_map(|r| r.evidence.latency.iter().map(move |l| (r, l)))
            .collect();
        if !latencies.is_empty() {
            let _ = writeln!(
                md,
                "\nHow long changes at the IdP took to show at the RP:\n\n| scenario | change | users | min | median | max | deadline |\n|---|---|---|---|---|---|---|"
            );
            let s = |ms: u64| format!("{:.2} s", ms as f64 / 1000.0);
            for (r, l) in latencies {
                let _ = writeln!(
                    md,
                    "| `{}` | {} | {} | {} | {} | {} | {} |",
                    r.id,
                    l.change,
                    l.users,
                    s(l.min_ms),
                    s(l.median_ms),
                    s(l.max_ms),
                    s(l.deadline_ms)
                );
            }
        }
        let judged =
            |r: &&super::ScenarioResult| !matches!(r.verdict, Outcome::Pass | Outcome::Skip);
        for r in run.results.iter().filter(judged) {
            let _ = writeln!(
                md,
                "\n### {} `{}`\n\n{}\n\nRequirement: {}\n",
                r.verdict.label(),
                r.id,
                r.reason,
                r.requirement
            );
            for step in &r.evidence.steps {
                let _ = writeln!(md, "- {step}");
            }
            for h in &r.evidence.hops {
                let _ = writeln!(
                    md,
                    "- browser {}: {} {} → {}",
                    h.browser, h.method, h.url, h.status
                );
            }
            for m in &r.evidence.me {
                let _ = writeln!(
                    md,
                    "- browser {}: /me → {} {}",
                    m.browser,
                    m.status,
                    m.sub.as_deref().unwrap_or("")
                );
            }
            for j in &r.evidence.journal {
                let _ = writeln!(md, "- IdP journal: {j}");
            }
        }
        if let Some(log) = &run.rp_log {
            let _ = writeln!(md, "\nRP log: `{log}`\n");
        }
    }
    md
}
