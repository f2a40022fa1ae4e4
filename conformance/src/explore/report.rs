//! What an exploration found: JSON (stable field order), Markdown and one self-contained
//! HTML page with each finding's timeline (actions, observations, the expectation, the
//! evidence), and the terminal summary.

use serde::Serialize;

use super::Replay;
use super::oracle::Disagreement;
use super::trace::Entry;
use crate::rp::SyncMode;

/// An exploration's report.
#[derive(Debug, Clone, Serialize)]
pub struct ExploreReport {
    /// `conformance <version>`.
    pub suite: String,
    /// The seed (every run prints it).
    pub seed: u64,
    /// Whether this was a replay.
    pub replay: bool,
    /// The exploring budget per mode.
    pub budget_s: f64,
    /// Users explored at once.
    pub users: usize,
    /// The RP's sync deadline.
    pub sync_deadline_s: f64,
    /// The allowance on top of it for the harness's own timing.
    pub allowance_s: f64,
    /// The wall time.
    pub wall_time_s: f64,
    /// Per sync mode.
    pub modes: Vec<ModeReport>,
}

/// One mode's exploration.
#[derive(Debug, Clone, Serialize)]
pub struct ModeReport {
    /// The mode.
    pub sync_mode: SyncMode,
    /// Why nothing could be explored: no user can log in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_login: Option<String>,
    /// How the launched RP exited during the exploration, if it did (the exploration
    /// stopped there).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rp_exited: Option<String>,
    /// Rounds explored.
    pub rounds: usize,
    /// Actions explored.
    pub actions: usize,
    /// Rounds spent confirming and shrinking.
    pub shrink_rounds: usize,
    /// The wall time.
    pub wall_time_s: f64,
    /// Confirmed disagreements.
    pub findings: Vec<Finding>,
    /// Disagreements that did not show again on a re-run: reported, never a failure.
    pub flaky: Vec<Finding>,
    /// A replay's outcome.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replayed: Option<Replayed>,
}

impl ModeReport {
    /// Nothing yet.
    pub fn new(mode: SyncMode) -> ModeReport {
        ModeReport {
            sync_mode: mode,
            no_login: None,
            rp_exited: None,
            rounds: 0,
            actions: 0,
            shrink_rounds: 0,
            wall_time_s: 0.0,
            findings: Vec::new(),
            flaky: Vec::new(),
            replayed: None,
        }
    }
}

/// A replay's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct Replayed {
    /// What the model did not allow.
    pub disagreements: Vec<Disagreement>,
    /// Everything that happened.
    pub timeline: Vec<Entry>,
}

/// A disagreement, pursued.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// The disagreement, as the last run that showed it saw it.
    pub disagreement: Disagreement,
    /// Seconds of exploring before it first showed.
    pub found_after_s: f64,
    /// The disagreeing lane's actions as drawn…
    pub drawn_actions: usize,
    /// …and after shrinking.
    pub shrunk_actions: usize,
    /// Rounds the shrinking ran.
    pub shrink_runs: usize,
    /// Of the re-runs of the final plan, how many showed it.
    pub confirmations: (usize, usize),
    /// The replay file's content.
    pub replay: Replay,
    /// The last run of it.
    pub timeline: Vec<Entry>,
}

impl Finding {
    /// A disagreement not yet pursued.
    pub fn new(d: Disagreement, found_after_s: f64, drawn: usize) -> Finding {
        Finding {
            disagreement: d,
            found_after_s,
            drawn_actions: drawn,
            shrunk_actions: drawn,
            shrink_runs: 0,
            confirmations: (0, 0),
            replay: Replay {
                version: super::REPLAY_VERSION,
                mode: SyncMode::Strict,
                seed: None,
                showed: None,
                plan: Default::default(),
            },
            timeline: Vec::new(),
        }
    }

    /// Whether a re-run showed it again.
    pub fn confirmed(&self) -> bool {
        self.confirmations.0 > 0
    }
}

impl ExploreReport {
    /// Whether the RP held to the model: no confirmed disagreement with a requirement, a
    /// replay that showed none, and someone could log in.
    pub fn ok(&self) -> bool {
        self.modes.iter().all(|m| {
            m.no_login.is_none()
                && m.rp_exited.is_none()
                && m.findings.iter().all(|f| f.disagreement.recommendation)
                && m.replayed
                    .as_ref()
                    .is_none_or(|r| r.disagreements.iter().all(|d| d.recommendation))
        })
    }

    /// What was run, in a sentence: the seed, users and budget, or a replay; the deadline.
    pub fn setting(&self) -> String {
        let how = if self.replay {
            "A replay".to_owned()
        } else {
            format!(
                "Seed {}, {} users at once, budget {:.0} s per mode",
                self.seed, self.users, self.budget_s
            )
        };
        format!(
            "{how}; sync deadline {} s (+{:.2} s allowance for the harness's own timing); wall time {:.1} s.",
            self.sync_deadline_s, self.allowance_s, self.wall_time_s
        )
    }

    /// The terminal summary.
    pub fn summary(&self) -> String {
        let mut s = String::new();
        for m in &self.modes {
            let rate = m.actions as f64 / m.wall_time_s.max(1e-9);
            s.push_str(&format!(
                "explore {}: {} rounds, {} actions in {:.1} s ({rate:.1} actions/s), {} shrinking rounds\n",
                m.sync_mode, m.rounds, m.actions, m.wall_time_s, m.shrink_rounds
            ));
            if let Some(why) = &m.no_login {
                s.push_str(&format!("  NO LOGIN: {why}\n"));
            }
            if let Some(why) = &m.rp_exited {
                let first = why.lines().next().unwrap_or_default();
                s.push_str(&format!("  RP EXITED during the exploration: {first}\n"));
            }
            for f in &m.findings {
                let d = &f.disagreement;
                s.push_str(&format!(
                    "  {} {}: {} — expected {} (after {:.1} s; {} actions shrunk to {}; showed {} of {} re-runs)\n",
                    if d.recommendation { "RECOMMENDATION" } else { "DISAGREEMENT" },
                    d.kind.as_str(),
                    d.observed,
                    d.expected,
                    f.found_after_s,
                    f.drawn_actions,
                    f.shrunk_actions,
                    f.confirmations.0,
                    f.confirmations.1
                ));
            }
            for f in &m.flaky {
                s.push_str(&format!(
                    "  flaky (did not show again on a re-run, not a failure): {}: {}\n",
                    f.disagreement.kind.as_str(),
                    f.disagreement.observed
                ));
            }
            if let Some(r) = &m.replayed {
                if r.disagreements.is_empty() {
                    s.push_str("  replay: everything as the model says\n");
                }
                for d in &r.disagreements {
                    s.push_str(&format!(
                        "  replay: {} at step {}: {} — expected {}\n",
                        d.kind.as_str(),
                        d.step,
                        d.observed,
                        d.expected
                    ));
                }
            }
        }
        s.push_str(&format!(
            "seed {} (conformance explore --seed {} repeats the draws)\n",
            self.seed, self.seed
        ));
        s
    }

    /// The report as Markdown.
    pub fn markdown(&self) -> String {
        let mut s = format!("# conformance explore\n\n{}\n", self.setting());
        for m in &self.modes {
            s.push_str(&format!(
                "\n## {} mode\n\n{} rounds, {} actions, {} shrinking rounds, {:.1} s.\n",
                m.sync_mode, m.rounds, m.actions, m.shrink_rounds, m.wall_time_s
            ));
            if let Some(why) = &m.no_login {
                s.push_str(&format!("\n**No login**: {why}\n"));
            }
            if let Some(why) = &m.rp_exited {
                s.push_str(&format!(
                    "\n**The RP exited** during the exploration: {why}\n"
                ));
            }
            let replayed = m.replayed.as_ref().map(|r| (&r.disagreements, &r.timeline));
            for f in m.findings.iter().chain(&m.flaky) {
                let d = &f.disagreement;
                s.push_str(&format!(
                    "\n### {}: {}\n\n- observed: {}\n- expected: {}\n- found after {:.1} s; {} actions shrunk to {} in {} rounds; showed in {} of {} re-runs\n",
                    if f.confirmed() { "Finding" } else { "Flaky" },
                    d.kind.as_str(),
                    d.observed,
                    d.expected,
                    f.found_after_s,
                    f.drawn_actions,
                    f.shrunk_actions,
                    f.shrink_runs,
                    f.confirmations.0,
                    f.confirmations.1
                ));
                for e in &d.evidence {
                    s.push_str(&format!("- journal: `{e}`\n"));
                }
                s.push_str("\n| t (s) | lane | step | what |\n|---|---|---|---|\n");
                for e in &f.timeline {
                    s.push_str(&row_md(e, Some(d)));
                }
                s.push_str(&format!(
                    "\nReplay:\n\n```json\n{}\n```\n",
                    serde_json::to_string_pretty(&f.replay).unwrap_or_default()
                ));
            }
            if let Some((ds, timeline)) = replayed {
                s.push_str("\n### Replay\n\n");
                if ds.is_empty() {
                    s.push_str("Everything as the model says.\n");
                }
                for d in ds {
                    s.push_str(&format!(
                        "- **{}** at step {}: {} — expected {}\n",
                        d.kind.as_str(),
                        d.step,
                        d.observed,
                        d.expected
                    ));
                }
                s.push_str("\n| t (s) | lane | step | what |\n|---|---|---|---|\n");
                for e in timeline {
                    s.push_str(&row_md(e, ds.first()));
                }
            }
        }
        s
    }
}

fn row_md(e: &Entry, d: Option<&Disagreement>) -> String {
    let mark = d.is_some_and(|d| d.marks(e));
    format!(
        "| {:.2} | {} | {} | {}{} |\n",
        e.t0,
        e.lane.map_or("world".into(), |l| l.to_string()),
        e.step.map_or(String::new(), |s| s.to_string()),
        if mark { "**⚠** " } else { "" },
        e.what.line().replace('|', "\\|")
    )
}
