//! Verdicts and the evidence each one cites.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

/// A scenario's outcome.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The requirement holds.
    Pass,
    /// A MUST is broken.
    Fail,
    /// A SHOULD or best practice is not followed.
    Warn,
    /// Not applicable to this RP (with the reason).
    Skip,
    /// The harness could not judge (RP unreachable, IdP error, timeout).
    Error,
}

impl Outcome {
    /// Upper-case label for terminals.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Pass => "PASS",
            Outcome::Fail => "FAIL",
            Outcome::Warn => "WARN",
            Outcome::Skip => "SKIP",
            Outcome::Error => "ERROR",
        }
    }
}

/// An outcome and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// The outcome.
    pub outcome: Outcome,
    /// Why, in one sentence a failing team can act on.
    pub reason: String,
}

impl Verdict {
    /// Passed.
    pub fn pass(reason: impl Into<String>) -> Verdict {
        Verdict {
            outcome: Outcome::Pass,
            reason: reason.into(),
        }
    }
    /// Failed.
    pub fn fail(reason: impl Into<String>) -> Verdict {
        Verdict {
            outcome: Outcome::Fail,
            reason: reason.into(),
        }
    }
    /// A warning.
    pub fn warn(reason: impl Into<String>) -> Verdict {
        Verdict {
            outcome: Outcome::Warn,
            reason: reason.into(),
        }
    }
    /// Not applicable.
    pub fn skip(reason: impl Into<String>) -> Verdict {
        Verdict {
            outcome: Outcome::Skip,
            reason: reason.into(),
        }
    }
    /// The harness could not judge.
    pub fn error(reason: impl Into<String>) -> Verdict {
        Verdict {
            outcome: Outcome::Error,
            reason: reason.into(),
        }
    }
}

/// Why a scenario stopped early: a verdict already reached (a helper's `?`), or a harness
/// problem (which becomes an `error` verdict).
#[derive(Debug, Clone)]
pub enum Stop {
    /// The verdict is known.
    Verdict(Verdict),
    /// The harness could not go on.
    Harness(String),
}

impl<E: std::fmt::Display> From<E> for Stop {
    fn from(e: E) -> Stop {
        Stop::Harness(e.to_string())
    }
}

impl Stop {
    /// Ends the scenario with this verdict.
    pub fn with(v: Verdict) -> Stop {
        Stop::Verdict(v)
    }
}

/// What a scenario returns.
pub type Judged = Result<Verdict, Stop>;

/// One browser request and its answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Hop {
    /// Which browser (scenarios may use several).
    pub browser: u32,
    /// HTTP method.
    pub method: String,
    /// URL without query, with `{rp}` and `{idp}` for the two bases.
    pub url: String,
    /// Query or form parameters; secrets and random values masked.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, String>,
    /// The answer's status.
    pub status: u16,
    /// Where a redirect pointed (without query).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

/// One reading of the RP's `/me`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct MeReading {
    /// Which browser.
    pub browser: u32,
    /// Status.
    pub status: u16,
    /// Fields read through the pointers (absent when not 200).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// Email.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Username.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Permissions, sorted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Vec<String>>,
    /// The RP's account id, when the RP shows one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
}

impl MeReading {
    /// Whether a user is logged in.
    pub fn logged_in(&self) -> bool {
        self.status == 200
    }
}

/// Everything a verdict rests on.
#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
pub struct Evidence {
    /// What the runner did at the IdP and why, in order.
    pub steps: Vec<String>,
    /// Browser hops.
    pub hops: Vec<Hop>,
    /// `/me` readings.
    pub me: Vec<MeReading>,
    /// Journal lines the verdict cites.
    pub journal: Vec<String>,
    /// Measurements (milliseconds), e.g. how long a change took to reach the RP.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub measurements: BTreeMap<String, u64>,
    /// How long each change made at the IdP took to show at the RP.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub latency: Vec<LatencyStat>,
}

/// How long one change made at the IdP took to show at the RP, across a scenario's users.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct LatencyStat {
    /// The change, e.g. `groups analysts → analysts, admins`.
    pub change: String,
    /// Users measured.
    pub users: usize,
    /// Fastest (ms).
    pub min_ms: u64,
    /// Median (ms).
    pub median_ms: u64,
    /// Slowest (ms).
    pub max_ms: u64,
    /// The sync deadline (ms).
    pub deadline_ms: u64,
}

impl LatencyStat {
    /// The statistics of these samples (none when empty).
    pub fn of(change: &str, samples: &[Duration], deadline: Duration) -> Option<LatencyStat> {
        let mut ms: Vec<u64> = samples.iter().map(|d| d.as_millis() as u64).collect();
        ms.sort_unstable();
        Some(LatencyStat {
            change: change.to_owned(),
            users: ms.len(),
            min_ms: *ms.first()?,
            median_ms: ms[ms.len() / 2],
            max_ms: *ms.last()?,
            deadline_ms: deadline.as_millis() as u64,
        })
    }

    /// `min 0.21 s, median 0.30 s, max 0.41 s`.
    pub fn summary(&self) -> String {
        let s = |ms: u64| format!("{:.2} s", ms as f64 / 1000.0);
        format!(
            "min {}, median {}, max {}",
            s(self.min_ms),
            s(self.median_ms),
            s(self.max_ms)
        )
    }
}

/// How the reason of a skip for a scenario of another sync mode starts (no coverage lost).
pub const NOT_THIS_MODE: &str = "applies to sync mode";

/// How the reason of a skip for a scenario the RP has no use for starts (no coverage lost:
/// e.g. `login.userinfo` for an RP that never calls userinfo).
pub const DOES_NOT_APPLY: &str = "does not apply:";
