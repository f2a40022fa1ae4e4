//! What preflight found: each check with its status and evidence, the tokens seen, the
//! user's permissions, and the readiness they add up to.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

/// A check's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// What the RP needs is there.
    Ok,
    /// Works, with a caveat worth a look before go-live (it does not stop READY).
    Warn,
    /// Could not be told from what the provider shows (a later step may tell).
    Unknown,
    /// The app will not work as configured, or will work worse than declared.
    Problem,
}

impl Status {
    /// The word shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warn => "warn",
            Status::Unknown => "unknown",
            Status::Problem => "problem",
        }
    }
}

/// One line of the readiness report.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// Stable id, e.g. `discovery.issuer`.
    pub id: &'static str,
    /// The step: discovery, login, tokens, groups, refresh, mapping.
    pub step: &'static str,
    /// Its outcome.
    pub status: Status,
    /// What was seen.
    pub detail: String,
    /// What to change, in the provider's words where known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

/// A token as the report shows it: header and claims decoded, the signature masked.
#[derive(Debug, Clone, Serialize)]
pub struct ShownToken {
    /// `id_token`, `access_token`, `userinfo`, `id_token (refreshed)`…
    pub name: String,
    /// Its length in characters.
    pub chars: usize,
    /// The JOSE header (JWTs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header: Option<Value>,
    /// The claims (JWTs and userinfo); `nonce` masked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claims: Option<Value>,
    /// Why nothing is decoded (opaque tokens).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The user's groups through the group map.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Mapping {
    /// The groups read where the RP reads them.
    pub groups: Vec<String>,
    /// group → the permissions it grants (mapped groups only).
    pub mapped: BTreeMap<String, Vec<String>>,
    /// Groups the map does not name.
    pub unmapped: Vec<String>,
    /// The permissions this user would get.
    pub permissions: Vec<String>,
}

/// The readiness report.
#[derive(Debug, Clone, Serialize)]
pub struct Readiness {
    /// The issuer as configured.
    pub issuer: String,
    /// The client id.
    pub client_id: String,
    /// The provider, when known.
    pub provider: Option<&'static str>,
    /// The redirect URI used.
    pub redirect_uri: String,
    /// Whether no check found a problem.
    pub ready: bool,
    /// Every check, in order.
    pub checks: Vec<Check>,
    /// The tokens seen, decoded and masked.
    pub tokens: Vec<ShownToken>,
    /// The user's permissions, when groups were read.
    pub mapping: Option<Mapping>,
    /// Where the captured profile was written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile_written: Option<String>,
}

/// A usage error: the run could not start (exit 2).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct PreflightError(pub String);

/// The checks so far, and what later steps need.
#[derive(Debug, Default)]
pub(crate) struct Findings {
    pub(super) checks: Vec<Check>,
    pub(super) tokens: Vec<ShownToken>,
}

impl Findings {
    pub(super) fn add(
        &mut self,
        id: &'static str,
        step: &'static str,
        status: Status,
        detail: impl Into<String>,
        fix: Option<String>,
    ) {
        self.checks.push(Check {
            id,
            step,
            status,
            detail: detail.into(),
            fix,
        });
    }

    pub(super) fn ok(&mut self, id: &'static str, step: &'static str, detail: impl Into<String>) {
        self.add(id, step, Status::Ok, detail, None);
    }

    pub(super) fn problem(
        &mut self,
        id: &'static str,
        step: &'static str,
        detail: impl Into<String>,
        fix: Option<String>,
    ) {
        self.add(id, step, Status::Problem, detail, fix);
    }

    pub(super) fn unknown(
        &mut self,
        id: &'static str,
        step: &'static str,
        detail: impl Into<String>,
    ) {
        self.add(id, step, Status::Unknown, detail, None);
    }

    pub(super) fn warn(&mut self, id: &'static str, step: &'static str, detail: impl Into<String>) {
        self.add(id, step, Status::Warn, detail, None);
    }

    /// The status of the check `id`, when it was made.
    pub(super) fn status(&self, id: &str) -> Option<Status> {
        self.checks.iter().find(|c| c.id == id).map(|c| c.status)
    }

    /// Settles an earlier check that could not tell (`unknown`) with what a later step saw:
    /// the line stays where it is, its outcome and words updated.
    pub(super) fn settle(&mut self, id: &str, status: Status, seen: &str) {
        if let Some(c) = self
            .checks
            .iter_mut()
            .find(|c| c.id == id && c.status == Status::Unknown)
        {
            c.status = status;
            c.detail = format!(
                "{}; {seen}",
                c.detail
                    .trim_end_matches("; the login below tells")
                    .trim_end_matches("; the refresh below tells")
            );
        }
    }
}
