//! The HTML report (`--format html`, `report.html`): the page a developer opens from a
//! failed CI job. A summary by category and mode, each scenario's verdict, reason and
//! requirement, and its evidence — the runner's steps, the browser's hops as a timeline,
//! the `/me` readings, the IdP's journal lines, and sync latencies as bars against the
//! deadline. One self-contained file: no script, no external resource.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::page::esc;
use super::{ModeRun, Report, ScenarioResult, page};
use crate::verdict::Outcome;

fn badge(o: Outcome) -> String {
    let word = format!("{o:?}").to_lowercase();
    format!("<span class=\"badge {word}\">{}</span>", o.label())
}

fn anchor(run: &ModeRun, id: &str) -> String {
    format!("{}-{}", run.label().replace('/', "-"), id.replace('.', "-"))
}

/// The HTML page.
pub fn html(report: &Report) -> String {
    let s = &report.summary;
    let mut b = String::new();
    let ok = report.ok();
    let _ = write!(
        b,
        "<header><h1>Conformance report</h1><p>{} · contract v{} · RP <code>{}</code> · IdP <code>{}</code> · {:.1} s</p><p class=\"verdict {}\" role=\"status\">{}: {} pass, {} fail, {} warn, {} skip, {} error ({} expected failures)</p></header>",
        esc(&report.suite),
        report.contract_version,
        esc(&report.rp.base_url),
        esc(&report.idp.issuer),
        report.wall_time_ms as f64 / 1000.0,
        if ok { "ok" } else { "problem" },
        if ok { "OK" } else { "FAILED" },
        s.pass,
        s.fail,
        s.warn,
        s.skip,
        s.error,
        s.expected_failures
    );
    b.push_str("<nav aria-label=\"Sync modes\"><ul>");
    for run in &report.runs {
        let label = run.label();
        let _ = write!(
            b,
            "<li><a href=\"#mode-{}\">{}</a></li>",
            esc(&label.replace('/', "-")),
            esc(&label)
        );
    }
    b.push_str("</ul></nav><main>");
    notices(report, &mut b);
    attention(report, &mut b);
    for run in &report.runs {
        mode(run, &mut b);
    }
    b.push_str("</main>");
    page("Conformance report", &b)
}

fn notices(report: &Report, b: &mut String) {
    for run in &report.runs {
        if let Some(why) = &run.rp_exited {
            let _ = write!(
                b,
                "<p role=\"alert\"><strong>The RP exited in {}</strong>: {}</p>",
                esc(&run.label()),
                esc(why)
            );
        }
        if let Some(why) = &run.no_login {
            let _ = write!(
                b,
                "<p role=\"alert\"><strong>No login in {}</strong>: {}</p>",
                esc(&run.label()),
                esc(why)
            );
        }
    }
    let lost = report.lost_coverage();
    if !lost.is_empty() {
        b.push_str(
            "<section aria-labelledby=\"lost\"><h2 id=\"lost\">Skipped, coverage lost</h2><ul>",
        );
        for (reason, ids) in &lost {
            let _ = write!(
                b,
                "<li><code>{}</code>: {}</li>",
                esc(&ids.join(", ")),
                esc(reason)
            );
        }
        b.push_str("</ul></section>");
    }
    if !report.summary.unexpected_passes.is_empty() {
        let _ = write!(
            b,
            "<p>Listed as expected failures but passing (remove them from the list): <code>{}</code></p>",
            esc(&report.summary.unexpected_passes.join(", "))
        );
    }
}

/// The verdicts a developer opens the page for, first: every fail, error and warning, each
/// linked to its evidence.
fn attention(report: &Report, b: &mut String) {
    let mut items = String::new();
    for run in &report.runs {
        for r in run
            .results
            .iter()
            .filter(|r| matches!(r.verdict, Outcome::Fail | Outcome::Error | Outcome::Warn))
        {
            let _ = write!(
                items,
                "<li>{} <a href=\"#{}\"><code>{}</code></a> ({}){}: {}</li>",
                badge(r.verdict),
                anchor(run, &r.id),
                esc(&r.id),
                esc(&run.label()),
                if r.expected_failure { ", expected" } else { "" },
                esc(&r.reason)
            );
        }
    }
    if !items.is_empty() {
        let _ = write!(
            b,
            "<section aria-labelledby=\"attention\"><h2 id=\"attention\">Needs attention</h2><ul>{items}</ul></section>"
        );
    }
}

fn mode(run: &ModeRun, b: &mut String) {
    let label = run.label();
    let id = format!("mode-{}", label.replace('/', "-"));
    let _ = write!(
        b,
        "<section aria-labelledby=\"{id}\"><h2 id=\"{id}\">{} ({:.1} s)</h2>",
        esc(&match &run.idp_profile {
            Some(p) => format!("Profile {p}, sync mode {}", run.sync_mode),
            None => format!("Sync mode {}", run.sync_mode),
        }),
        run.wall_time_ms as f64 / 1000.0
    );
    let _ = write!(b, "<p>{}</p>", esc(&run.critical_path_line()));
    let mut by_cat: BTreeMap<&str, [usize; 5]> = BTreeMap::new();
    for r in &run.results {
        by_cat.entry(r.category.as_str()).or_default()[r.verdict as usize] += 1;
    }
    let _ = write!(
        b,
        "<table><caption>By category, {}</caption><thead><tr><th scope=\"col\">Category</th><th scope=\"col\">Pass</th><th scope=\"col\">Fail</th><th scope=\"col\">Warn</th><th scope=\"col\">Skip</th><th scope=\"col\">Error</th></tr></thead><tbody>",
        esc(&label)
    );
    for (cat, n) in &by_cat {
        let _ = write!(
            b,
            "<tr><th scope=\"row\">{cat}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            n[0], n[1], n[2], n[3], n[4]
        );
    }
    b.push_str("</tbody></table>");
    let _ = write!(
        b,
        "<table><caption>Every scenario, {}</caption><thead><tr><th scope=\"col\">Scenario</th><th scope=\"col\">Verdict</th><th scope=\"col\">Reason</th></tr></thead><tbody>",
        esc(&label)
    );
    for r in &run.results {
        let _ = write!(
            b,
            "<tr><td><a href=\"#{}\"><code>{}</code></a></td><td>{}{}</td><td>{}</td></tr>",
            anchor(run, &r.id),
            esc(&r.id),
            badge(r.verdict),
            if r.expected_failure {
                " (expected)"
            } else {
                ""
            },
            esc(&r.reason)
        );
    }
    b.push_str("</tbody></table>");
    if let Some(log) = &run.rp_log {
        let _ = write!(b, "<p>RP log: <a href=\"{0}\">{0}</a></p>", esc(log));
    }
    b.push_str("<h3>Evidence</h3>");
    for r in &run.results {
        scenario(run, r, b);
    }
    b.push_str("</section>");
}

fn scenario(run: &ModeRun, r: &ScenarioResult, b: &mut String) {
    let open = if matches!(r.verdict, Outcome::Pass | Outcome::Skip) {
        ""
    } else {
        " open"
    };
    let _ = write!(
        b,
        "<details id=\"{}\"{open}><summary>{} <code>{}</code> ({:.1} s)</summary><p>{}</p><p><strong>Why:</strong> {}</p><p><strong>Requirement:</strong> {}</p>",
        anchor(run, &r.id),
        badge(r.verdict),
        esc(&r.id),
        r.duration_ms as f64 / 1000.0,
        esc(&r.description),
        esc(&r.reason),
        esc(&r.requirement)
    );
    let e = &r.evidence;
    if !e.steps.is_empty() {
        b.push_str("<h4>What the runner did</h4><ol>");
        for s in &e.steps {
            let _ = write!(b, "<li>{}</li>", esc(s));
        }
        b.push_str("</ol>");
    }
    if !e.hops.is_empty() {
        b.push_str("<h4>Browser hops</h4><ol class=\"timeline\">");
        for h in &e.hops {
            let params: Vec<String> = h.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let _ = write!(
                b,
                "<li>browser {}: <code>{} {}</code> → <strong>{}</strong>{}{}</li>",
                h.browser,
                esc(&h.method),
                esc(&h.url),
                h.status,
                h.location
                    .as_deref()
                    .map(|l| format!(" → <code>{}</code>", esc(l)))
                    .unwrap_or_default(),
                if params.is_empty() {
                    String::new()
                } else {
                    format!("<br><small><code>{}</code></small>", esc(&params.join(" ")))
                }
            );
        }
        b.push_str("</ol>");
    }
    if !e.me.is_empty() {
        b.push_str("<table><caption>/me readings</caption><thead><tr><th scope=\"col\">Browser</th><th scope=\"col\">Status</th><th scope=\"col\">sub</th><th scope=\"col\">Username</th><th scope=\"col\">Email</th><th scope=\"col\">Permissions</th></tr></thead><tbody>");
        for m in &e.me {
            let _ = write!(
                b,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                m.browser,
                m.status,
                esc(m.sub.as_deref().unwrap_or("")),
                esc(m.username.as_deref().unwrap_or("")),
                esc(m.email.as_deref().unwrap_or("")),
                esc(&m
                    .permissions
                    .as_ref()
                    .map(|p| p.join(", "))
                    .unwrap_or_default())
            );
        }
        b.push_str("</tbody></table>");
    }
    if !e.journal.is_empty() {
        let _ = write!(
            b,
            "<h4>IdP journal</h4><pre>{}</pre>",
            esc(&e.journal.join("\n"))
        );
    }
    if !e.measurements.is_empty() {
        b.push_str("<h4>Measurements</h4><ul>");
        for (k, v) in &e.measurements {
            let _ = write!(b, "<li>{}: {v} ms</li>", esc(k));
        }
        b.push_str("</ul>");
    }
    for l in &e.latency {
        let scale = l.max_ms.max(l.deadline_ms).max(1) as f64;
        let bar = |ms: u64| {
            format!(
                "<span class=\"bar\" style=\"width:{:.1}%\"></span> {:.2} s",
                60.0 * ms as f64 / scale,
                ms as f64 / 1000.0
            )
        };
        let _ = write!(
            b,
            "<table><caption>Sync latency: {} ({} users)</caption><tbody><tr><th scope=\"row\">min</th><td>{}</td></tr><tr><th scope=\"row\">median</th><td>{}</td></tr><tr><th scope=\"row\">max</th><td>{}</td></tr><tr><th scope=\"row\">deadline</th><td>{}</td></tr></tbody></table>",
            esc(&l.change),
            l.users,
            bar(l.min_ms),
            bar(l.median_ms),
            bar(l.max_ms),
            bar(l.deadline_ms)
        );
    }
    b.push_str("</details>");
}
