//! A conformance suite for OpenID Connect relying parties.
//!
//! The runner plays the browser, the IdP administrator (through the embedded or attached
//! mock IdP's admin API) and the observer (the RP's `/me`, the IdP's journal), and gives
//! every scenario a verdict with its evidence. Any RP in any language attaches through
//! the contract in the README ("Test your RP in CI") and an `rp.toml`.
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
mod expected;
mod glob;
mod idp;
mod launch;
mod profile;
pub mod report;
mod rp;
mod runner;
mod scenario;
mod scenarios;
mod stage;
mod verdict;

pub use expected::{Expected, ExpectedFailures};
pub use glob::matches;
pub use launch::{BoxFuture, Launcher, RunningRp};
pub use report::{Format, Report};
pub use rp::{
    Capability, ClientAuth, GroupsClaim, GroupsToken, Launch, MePointers, Paths, Pointer,
    RpDescription, RpError, SyncMode, default_group_map,
};
pub use runner::{IdpChoice, Options, RunError, run};
pub use scenario::{Category, Phase, Scenario};
pub use verdict::{Evidence, Hop, LatencyStat, MeReading, Outcome, Verdict};

/// Every scenario of the catalogue, in order.
pub fn catalogue() -> Vec<Scenario> {
    scenarios::catalogue()
}

/// `n` random bytes as lower-case hex.
pub(crate) fn random_hex(n: usize) -> String {
    (0..n)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect()
}
