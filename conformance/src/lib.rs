//! A conformance suite for OpenID Connect relying parties.
//!
//! The runner plays the browser, the IdP administrator (through the embedded or attached
//! mock IdP's admin API) and the observer (the RP's `/me`, the IdP's journal), and gives
//! every scenario a verdict with its evidence. Any RP in any language attaches through
//! the contract in the book (docs/src/ci/contract.md) and an `rp.toml`.
//!
//! ## How it is built: floors
//!
//! Each module imports only from its own floor or the floors below, and no import circle
//! runs inside a floor (`cargo test -p sso-tests --test floors` checks both):
//!
//! 1. verdicts, evidence and what the RP declares, and the runner's HTTP: `verdict`, `rp`, `load`, `quiet`, `group`, `glob`, `random`, `wire`
//! 2. the clients of the RP and of the IdP: `browser`, `client_keys`, `expected`, `launch`, `idp`
//! 3. the stage a run sets: `stage`, `profile`
//! 4. what a scenario is: `scenario`
//! 5. the catalogue and the reports (a report reads results, never the runner): `scenarios`, `report`
//! 6. the runner and preflight (discover → log in → check the ID token → refresh → map the groups → capture): `runner`, `preflight`
//! 7. the explorer (random lifecycles against a model of the contract, shrunk to a replay): `explore`
//! 8. this page and the commands: `lib`, `main`, `bin`
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let rp = conformance::RpDescription::from_file("rp.toml".as_ref())?;
//! let report = conformance::run(&conformance::Options::new(rp)).await?;
//! println!("{}", conformance::report::summary(&report));
//! assert!(report.ok());
//! # Ok(()) }
//! ```

mod browser;
mod client_keys;
mod expected;
pub mod explore;
mod glob;
pub mod group;
mod idp;
mod launch;
mod load;
pub mod preflight;
mod profile;
mod quiet;
mod random;
pub mod report;
mod rp;
mod runner;
mod scenario;
mod scenarios;
mod stage;
mod verdict;
mod wire;

pub use expected::{Expected, ExpectedFailures};
pub use glob::matches;
pub use launch::{BoxFuture, Launcher, RunningRp};
pub use report::{Format, Report};
pub use rp::{
    Capability, ClientAuth, GroupsClaim, GroupsToken, Launch, MePointers, Paths, Pointer,
    RpDescription, RpError, SyncMode, TokenLimits, default_group_map,
};
pub use runner::{IdpChoice, Options, RunError, default_timeout, run, setup};
pub use scenario::{Category, Phase, Scenario};
pub use verdict::{DOES_NOT_APPLY, Evidence, Hop, LatencyStat, MeReading, Outcome, Verdict};

/// Every scenario of the catalogue, in order.
pub fn catalogue() -> Vec<Scenario> {
    scenarios::catalogue()
}

/// The catalogue as a table, a line per scenario: id, category, sync modes, description
/// (`conformance list`).
pub fn catalogue_table() -> String {
    let mut out = String::new();
    for s in catalogue() {
        let modes = if s.modes.is_empty() {
            "all".to_owned()
        } else {
            let names: Vec<&str> = s.modes.iter().map(|m| m.as_str()).collect();
            names.join(",")
        };
        out.push_str(&format!(
            "{:<40} {:<11} {:<15} {}\n",
            s.id,
            s.category.as_str(),
            modes,
            s.description
        ));
    }
    out
}

/// The catalogue as Markdown: what `conformance/SCENARIOS.md` holds (a test keeps the two
/// equal), so a user can look up every scenario's requirement without this source.
pub fn catalogue_markdown() -> String {
    let mut out = String::from(
        "# The scenario catalogue\n\n\
         Generated from the code by `conformance list --markdown`; a test checks that this \
         file is current. Every scenario runs in each sync mode it names (all: every mode) \
         and gets a verdict — pass, fail (a requirement is broken), warn (a recommendation \
         is not followed), skip (with the reason), or error (the suite could not judge, with \
         the reason) — and the evidence it rests on.\n",
    );
    let mut category = None;
    for s in catalogue() {
        if category != Some(s.category) {
            category = Some(s.category);
            out.push_str(&format!(
                "\n## {}\n\n| id | sync modes | what the RP must do | requirement |\n|---|---|---|---|\n",
                s.category.as_str()
            ));
        }
        let modes = if s.modes.is_empty() {
            "all".to_owned()
        } else {
            let names: Vec<&str> = s.modes.iter().map(|m| m.as_str()).collect();
            names.join(", ")
        };
        out.push_str(&format!(
            "| `{}` | {modes} | {} | {} |\n",
            s.id, s.description, s.requirement
        ));
    }
    out
}
