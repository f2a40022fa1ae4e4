//! The expected-failures file: scenarios known to fail, one per line with a reason,
//! `#` comments. A listed scenario that passes is reported (the entry is stale).
//!
//! ```text
//! # id or glob            reason
//! idtoken.alg-none        tracked in JIRA-123
//! login.missing-claim.*   our IdP always sends them
//! ```

use std::path::Path;

use crate::glob::matches;

/// One entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// Scenario id or glob.
    pub pattern: String,
    /// Why.
    pub reason: String,
    /// Its line.
    pub line: usize,
}

/// The list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExpectedFailures(pub Vec<Expected>);

impl ExpectedFailures {
    /// Reads the file; every pattern must match some scenario of `ids`.
    pub fn from_file(path: &Path, ids: &[&str]) -> Result<ExpectedFailures, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
        ExpectedFailures::parse(&text, ids).map_err(|e| format!("{}:{e}", path.display()))
    }

    /// Parses the text; errors start with the line number.
    pub fn parse(text: &str, ids: &[&str]) -> Result<ExpectedFailures, String> {
        let mut out = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.split_once('#').map_or(raw, |(l, _)| l).trim();
            if line.is_empty() {
                continue;
            }
            let (pattern, reason) = line
                .split_once(char::is_whitespace)
                .map_or((line, ""), |(p, r)| (p, r.trim()));
            if !ids.iter().any(|id| matches(pattern, id)) {
                return Err(format!(
                    "{}: {pattern:?} matches no scenario (see `conformance list`)",
                    i + 1
                ));
            }
            out.push(Expected {
                pattern: pattern.to_owned(),
                reason: reason.to_owned(),
                line: i + 1,
            });
        }
        Ok(ExpectedFailures(out))
    }

    /// Whether this scenario is expected to fail.
    pub fn covers(&self, id: &str) -> bool {
        self.0.iter().any(|e| matches(&e.pattern, id))
    }
}
