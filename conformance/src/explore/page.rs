//! The exploration's HTML page (the suite's shell: no script, no external resource): the
//! verdict first, then per mode each finding with its timeline — every action and
//! observation by time and lane, the disagreeing one marked with what the model expected
//! and the IdP's journal lines — and the replay file to download by copying.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::oracle::Disagreement;
use super::report::{ExploreReport, Finding};
use super::trace::Entry;
use crate::report::page::{esc, page};

/// The page.
pub fn html(r: &ExploreReport) -> String {
    let mut b = String::new();
    let ok = r.ok();
    let _ = write!(
        b,
        "<header><h1>conformance explore</h1>\n<p class=\"verdict {}\" role=\"status\">{}</p></header><main>\n<p>{}</p>\n",
        if ok { "ok" } else { "problem" },
        verdict(r),
        esc(&r.setting())
    );
    for m in &r.modes {
        let _ = write!(
            b,
            "<h2>{} mode</h2>\n<p>{} rounds, {} actions ({:.1} actions/s), {} rounds confirming and shrinking, {:.1} s.</p>\n",
            m.sync_mode,
            m.rounds,
            m.actions,
            m.actions as f64 / m.wall_time_s.max(1e-9),
            m.shrink_rounds,
            m.wall_time_s
        );
        if let Some(why) = &m.no_login {
            let _ = writeln!(
                b,
                "<p><span class=\"badge fail\">no login</span> {}</p>",
                esc(why)
            );
        }
        if let Some(why) = &m.rp_exited {
            let _ = writeln!(
                b,
                "<p><span class=\"badge fail\">the RP exited</span> during the exploration:</p><pre>{}</pre>",
                esc(why)
            );
        }
        let quiet = m.no_login.is_none() && m.rp_exited.is_none();
        if quiet && m.findings.is_empty() && m.flaky.is_empty() && m.replayed.is_none() {
            b.push_str("<p><span class=\"badge pass\">as the model says</span> every observation agreed with the model.</p>\n");
        }
        for f in &m.findings {
            finding(&mut b, f, false);
        }
        for f in &m.flaky {
            finding(&mut b, f, true);
        }
        if let Some(rep) = &m.replayed {
            b.push_str("<h3>Replay</h3>\n");
            if rep.disagreements.is_empty() {
                b.push_str("<p><span class=\"badge pass\">as the model says</span> the replay showed no disagreement.</p>\n");
            }
            for d in &rep.disagreements {
                disagreement(&mut b, d);
            }
            timeline(&mut b, &rep.timeline, rep.disagreements.first());
        }
    }
    b.push_str("</main>");
    page("conformance explore", &b)
}

/// The page's verdict: a disagreement with a requirement, or none (and how many
/// recommendations were not followed).
fn verdict(r: &ExploreReport) -> String {
    let recommendations = r
        .modes
        .iter()
        .flat_map(|m| &m.findings)
        .filter(|f| f.disagreement.recommendation)
        .count();
    match (r.ok(), recommendations) {
        (false, _) => "DISAGREEMENT WITH THE MODEL".into(),
        (true, 0) => "NO DISAGREEMENT WITH THE MODEL".into(),
        (true, n) => {
            format!("NO DISAGREEMENT WITH A REQUIREMENT; {n} RECOMMENDATION(S) NOT FOLLOWED")
        }
    }
}

fn finding(b: &mut String, f: &Finding, flaky: bool) {
    let d = &f.disagreement;
    let badge = match (flaky, d.recommendation) {
        (true, _) => "<span class=\"badge skip\">flaky</span>",
        (false, true) => "<span class=\"badge warn\">recommendation</span>",
        (false, false) => "<span class=\"badge fail\">disagreement</span>",
    };
    let _ = write!(
        b,
        "<h3>{badge} {}</h3>\n<p>Found after {:.1} s of exploring; {} actions shrunk to {} in {} rounds; the final plan showed it in {} of {} re-runs{}.</p>\n",
        esc(d.kind.as_str()),
        f.found_after_s,
        f.drawn_actions,
        f.shrunk_actions,
        f.shrink_runs,
        f.confirmations.0,
        f.confirmations.1,
        if flaky {
            " (it did not show again: reported, not a failure)"
        } else {
            ""
        }
    );
    disagreement(b, d);
    timeline(b, &f.timeline, Some(d));
    let _ = writeln!(
        b,
        "<details><summary>Replay file (conformance explore --replay FILE)</summary><pre>{}</pre></details>",
        esc(&serde_json::to_string_pretty(&f.replay).unwrap_or_default())
    );
}

fn disagreement(b: &mut String, d: &Disagreement) {
    let _ = write!(
        b,
        "<table><caption>What the model did not allow</caption><tr><th>observed</th><td>{}</td></tr><tr><th>expected</th><td>{}</td></tr><tr><th>where</th><td>lane {}, step {}, {:.2} s into the round</td></tr>",
        esc(&d.observed),
        esc(&d.expected),
        d.lane,
        d.step,
        d.at
    );
    if !d.evidence.is_empty() {
        let lines: Vec<String> = d
            .evidence
            .iter()
            .map(|e| format!("<code>{}</code>", esc(e)))
            .collect();
        let _ = write!(
            b,
            "<tr><th>the IdP's journal</th><td>{}</td></tr>",
            lines.join("<br>")
        );
    }
    b.push_str("</table>\n");
}

fn timeline(b: &mut String, entries: &[Entry], d: Option<&Disagreement>) {
    b.push_str("<table><caption>Timeline: every action and observation, by time</caption><tr><th>t (s)</th><th>lane</th><th>step</th><th>what</th></tr>\n");
    for e in entries {
        let mark = d.is_some_and(|d| d.marks(e));
        let _ = writeln!(
            b,
            "<tr{}><td>{:.2}–{:.2}</td><td>{}</td><td>{}</td><td>{}{}</td></tr>",
            if mark {
                " style=\"background:#fadbd8\""
            } else {
                ""
            },
            e.t0,
            e.t1,
            e.lane.map_or("world".into(), |l| l.to_string()),
            e.step.map_or(String::new(), |s| s.to_string()),
            if mark {
                "<span class=\"badge fail\">disagrees</span> "
            } else {
                ""
            },
            esc(&e.what.line())
        );
    }
    b.push_str("</table>\n");
}

/// Writes `explore.json`, `explore.md`, `explore.html` and one replay file per finding
/// (`replay-<mode>-<n>.json`) into `dir`; the replay files' paths.
pub fn write(r: &ExploreReport, dir: &Path) -> Result<Vec<PathBuf>, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let put = |name: &str, text: String| {
        let p = dir.join(name);
        std::fs::write(&p, text).map_err(|e| format!("{}: {e}", p.display()))?;
        Ok::<_, String>(p)
    };
    put(
        "explore.json",
        serde_json::to_string_pretty(r).map_err(|e| e.to_string())? + "\n",
    )?;
    put("explore.md", r.markdown())?;
    put("explore.html", html(r))?;
    let mut replays = Vec::new();
    for m in &r.modes {
        for (n, f) in m.findings.iter().chain(&m.flaky).enumerate() {
            let text = serde_json::to_string_pretty(&f.replay).map_err(|e| e.to_string())?;
            replays.push(put(
                &format!("replay-{}-{}.json", m.sync_mode, n + 1),
                text + "\n",
            )?);
        }
    }
    Ok(replays)
}
