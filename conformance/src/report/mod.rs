//! The report: JSON (stable field order, snapshot-friendly), JUnit XML, Markdown, an HTML
//! page, and the terminal summary.

mod html;
mod junit;
mod markdown;
pub(crate) mod page;
mod schema;
mod terminal;

pub use schema::schema;

use std::path::Path;

use std::collections::BTreeMap;

use serde::Serialize;

pub use html::html;
pub use junit::junit;
pub use markdown::markdown;
pub use page::page;
pub use terminal::{matrix, progress_line, summary};

use crate::rp::SyncMode;
use crate::scenario::Category;
use crate::verdict::{Evidence, Outcome};

/// The version of the RP contract this suite implements (the book, docs/src/ci/contract.md).
pub const CONTRACT_VERSION: u32 = 6;

/// A whole run.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Report {
    /// `conformance <version>`.
    pub suite: String,
    /// The RP contract version.
    pub contract_version: u32,
    /// This run's id (in every user name it created).
    pub run_id: String,
    /// The RP as described and reached.
    pub rp: RpSummary,
    /// The IdP.
    pub idp: IdpSummary,
    /// Counts.
    pub summary: Summary,
    /// Wall time of the whole run.
    pub wall_time_ms: u64,
    /// One run per sync mode.
    pub runs: Vec<ModeRun>,
}

/// The RP.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct RpSummary {
    /// Where it listened (the last mode's).
    pub base_url: String,
    /// Launched by the runner, or attached.
    pub launched: bool,
    /// Declared client authentication.
    pub client_auth: String,
    /// Groups-claim location.
    pub groups_claim: String,
    /// Sync deadline in seconds.
    pub sync_deadline_s: f64,
}

/// The IdP.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct IdpSummary {
    /// The run's tenant issuer.
    pub issuer: String,
    /// Whether the runner embedded it.
    pub embedded: bool,
}

/// Counts over every mode.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq, schemars::JsonSchema)]
pub struct Summary {
    /// Scenario runs.
    pub total: usize,
    /// Passed.
    pub pass: usize,
    /// Failed (expected ones included).
    pub fail: usize,
    /// Warnings.
    pub warn: usize,
    /// Skipped.
    pub skip: usize,
    /// Harness errors (expected ones included).
    pub error: usize,
    /// Failures and errors listed as expected.
    pub expected_failures: usize,
    /// Listed as expected to fail, yet passed: the list is stale.
    pub unexpected_passes: Vec<String>,
}

/// One sync mode's results.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ModeRun {
    /// The mock IdP's provider profile (`--idp-profile`), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idp_profile: Option<String>,
    /// The mode the RP ran in.
    pub sync_mode: SyncMode,
    /// The RP's log file in the report folder (launch mode).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rp_log: Option<String>,
    /// How long this mode took, from bringing up its tenant and RP to stopping the RP
    /// (the modes of a run go at once, so the run's wall time is about the longest).
    pub wall_time_ms: u64,
    /// The mode's critical path as measured: its wall time were its concurrent phase only as
    /// long as its longest scenario — bringing up the tenant and RP, the login gate, the
    /// longest concurrent scenario, each scenario that runs alone, stopping the RP. The wall
    /// time beyond it is scenarios queueing for `--jobs` and for the machine.
    pub critical_path_ms: u64,
    /// The longest scenario of the concurrent phase (on the critical path).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub longest_concurrent: Option<String>,
    /// The launched RP exited on its own during the run: how, with the end of its log (the
    /// scenarios' errors after that are its doing).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rp_exited: Option<String>,
    /// Why no user could log in, when none could: `login.code-flow` fails with it and every
    /// other scenario is skipped, so the report says it once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_login: Option<String>,
    /// Results, in catalogue order.
    pub results: Vec<ScenarioResult>,
}

impl ModeRun {
    /// The mode's wall time against its critical path, in plain words (Markdown and HTML).
    pub fn critical_path_line(&self) -> String {
        let (wall, path) = (
            self.wall_time_ms as f64 / 1000.0,
            self.critical_path_ms as f64 / 1000.0,
        );
        let ratio = if self.critical_path_ms > 0 {
            format!(" ({:.2}x)", wall / path)
        } else {
            String::new()
        };
        let longest = self
            .longest_concurrent
            .as_deref()
            .map(|id| format!(", through {id}, the longest concurrent scenario"))
            .unwrap_or_default();
        format!(
            "Wall time {wall:.1} s against a critical path of {path:.1} s{ratio}{longest}: the time \
             were every concurrent scenario to take only its own; the rest is scenarios queueing \
             for --jobs and for the machine."
        )
    }

    /// `strict`, or `okta/strict` against a provider profile.
    pub fn label(&self) -> String {
        match &self.idp_profile {
            Some(p) => format!("{p}/{}", self.sync_mode),
            None => self.sync_mode.to_string(),
        }
    }
}

/// One scenario's result.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ScenarioResult {
    /// Stable id.
    pub id: String,
    /// Category.
    pub category: Category,
    /// Where the requirement comes from.
    pub requirement: String,
    /// What the RP must do.
    pub description: String,
    /// The verdict.
    pub verdict: Outcome,
    /// Why.
    pub reason: String,
    /// Listed in the expected-failures file.
    pub expected_failure: bool,
    /// How long it ran.
    pub duration_ms: u64,
    /// What the verdict rests on.
    pub evidence: Evidence,
}

impl Report {
    /// Whether CI should pass: no failure or error outside the expected list.
    pub fn ok(&self) -> bool {
        self.runs
            .iter()
            .flat_map(|r| &r.results)
            .all(|r| !matches!(r.verdict, Outcome::Fail | Outcome::Error) || r.expected_failure)
    }

    /// Skips that lose coverage (not those of a scenario that does not apply to the sync
    /// mode or to this RP): each reason, with the ids it skipped.
    pub fn lost_coverage(&self) -> BTreeMap<String, Vec<String>> {
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for r in self.runs.iter().flat_map(|m| &m.results) {
            let applies = !r.reason.starts_with(crate::verdict::NOT_THIS_MODE)
                && !r.reason.starts_with(crate::verdict::DOES_NOT_APPLY);
            if r.verdict == Outcome::Skip && applies {
                let ids = out.entry(r.reason.clone()).or_default();
                if !ids.contains(&r.id) {
                    ids.push(r.id.clone());
                }
            }
        }
        out
    }

    /// Counts from the results.
    pub fn count(runs: &[ModeRun]) -> Summary {
        let mut s = Summary::default();
        for r in runs.iter().flat_map(|m| &m.results) {
            s.total += 1;
            match r.verdict {
                Outcome::Pass => s.pass += 1,
                Outcome::Fail => s.fail += 1,
                Outcome::Warn => s.warn += 1,
                Outcome::Skip => s.skip += 1,
                Outcome::Error => s.error += 1,
            }
            if r.expected_failure {
                if matches!(r.verdict, Outcome::Fail | Outcome::Error) {
                    s.expected_failures += 1;
                } else if r.verdict == Outcome::Pass && !s.unexpected_passes.contains(&r.id) {
                    s.unexpected_passes.push(r.id.clone());
                }
            }
        }
        s
    }

    /// The JSON report.
    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Writes the requested formats (`json`, `junit`, `md`) into `dir`.
    pub fn write(&self, dir: &Path, formats: &[Format]) -> Result<(), String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for f in formats {
            let (name, text) = match f {
                Format::Json => ("report.json", self.json()),
                Format::Junit => ("junit.xml", junit(self)),
                Format::Md => ("report.md", markdown(self)),
                Format::Html => ("report.html", html(self)),
            };
            let path = dir.join(name);
            std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        }
        Ok(())
    }
}

/// A report format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// `report.json`.
    Json,
    /// `junit.xml`.
    Junit,
    /// `report.md`.
    Md,
    /// `report.html`: one self-contained page.
    Html,
}
