//! What happened in a round, as the executor saw it: each action's start and end (seconds
//! since the round began) and what it observed. The oracle reads nothing else.

use serde::{Deserialize, Serialize};

use crate::verdict::MeReading;

/// An identity of the round: one user at the IdP (a re-created user is a new identity).
pub type Ident = usize;

/// One thing that happened.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    /// The lane that did it (none: a world action).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lane: Option<usize>,
    /// Its place in the lane's actions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<usize>,
    /// When it began.
    pub t0: f64,
    /// When it ended.
    pub t1: f64,
    /// What it was.
    #[serde(flatten)]
    pub what: What,
}

/// A user at the IdP, as created.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Person {
    /// `preferred_username`.
    pub username: String,
    /// `sub`.
    pub sub: String,
    /// `email`.
    pub email: String,
    /// `name`.
    pub name: String,
    /// Groups.
    pub groups: Vec<String>,
}

/// What happened.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[allow(missing_docs)] // each variant's line says what its fields hold
pub enum What {
    /// A user was created at the IdP.
    Created { identity: Ident, person: Person },
    /// The user's groups, name or email changed at the IdP.
    Changed {
        identity: Ident,
        #[serde(skip_serializing_if = "Option::is_none")]
        groups: Option<Vec<String>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        email: Option<String>,
    },
    /// Disabled at the IdP.
    Disabled { identity: Ident, logout_token: bool },
    /// Enabled again.
    Enabled { identity: Ident },
    /// Deleted at the IdP.
    Deleted { identity: Ident, logout_token: bool },
    /// Every grant revoked at the IdP.
    Revoked { identity: Ident, logout_token: bool },
    /// The user's refreshes start failing (503, or hanging for `hang_s`).
    OutageOn { identity: Ident, hang_s: f64 },
    /// …and stop failing; a refresh begun just before may still hang `tail_s`.
    OutageOff { identity: Ident, tail_s: f64 },
    /// The user's next refreshed tokens carry the groups by reference.
    ByReference { identity: Ident, distributed: bool },
    /// The IdP rotated its signing key.
    KeyRotated,
    /// The IdP's clock moved past every refresh token's lifetime…
    ClockAhead { seconds: i64 },
    /// …and back.
    ClockBack,
    /// A login in a new browser, and `/me` right after it (when no session opened: what
    /// the RP's callback answered).
    Login {
        identity: Ident,
        device: usize,
        #[serde(skip_serializing_if = "Option::is_none")]
        reading: Option<MeReading>,
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        callback: Option<String>,
    },
    /// `/me` read in a browser.
    Me {
        identity: Ident,
        device: usize,
        #[serde(skip_serializing_if = "Option::is_none")]
        reading: Option<MeReading>,
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    /// A logout in a browser.
    Logout {
        identity: Ident,
        device: usize,
        #[serde(skip_serializing_if = "Option::is_none")]
        status: Option<u16>,
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    /// A grant through the webapp.
    Grant {
        identity: Ident,
        device: usize,
        permission: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        status: Option<u16>,
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    /// Nothing happened for a while (no request to the RP).
    Idle,
    /// An action that did not apply where it fell (a shrunk or replayed plan).
    Skipped { why: String },
    /// The harness could not go on with the lane (the IdP's admin API failed, …).
    Broken { why: String },
    /// The IdP journaled a refresh (seen within 50 ms): whose (none: the spare user's),
    /// and whether the IdP held it past the RP's timeout.
    Refresh {
        #[serde(skip_serializing_if = "Option::is_none")]
        identity: Option<Ident>,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        hung: bool,
        /// It presented a spent (rotated-away) refresh token.
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        reused: bool,
    },
    /// The spare user's refreshes start hanging (`hang_s` each)…
    SpareHung { hang_s: f64 },
    /// …and stop.
    SpareFreed,
    /// The IdP's journal about the user, read at the end of the lane: its refreshes,
    /// and the spent refresh tokens the RP presented again.
    Journal {
        identity: Ident,
        refreshes: Vec<String>,
        reused: Vec<String>,
    },
}

impl What {
    /// The identity it concerns, if one.
    pub fn identity(&self) -> Option<Ident> {
        match self {
            What::Created { identity, .. }
            | What::Changed { identity, .. }
            | What::Disabled { identity, .. }
            | What::Enabled { identity }
            | What::Deleted { identity, .. }
            | What::Revoked { identity, .. }
            | What::OutageOn { identity, .. }
            | What::OutageOff { identity, .. }
            | What::ByReference { identity, .. }
            | What::Login { identity, .. }
            | What::Me { identity, .. }
            | What::Logout { identity, .. }
            | What::Grant { identity, .. }
            | What::Journal { identity, .. } => Some(*identity),
            _ => None,
        }
    }

    /// One line for a timeline.
    pub fn line(&self) -> String {
        match self {
            What::Created { person, .. } => format!(
                "created {} (sub {}, {}) with groups {:?}",
                person.username, person.sub, person.email, person.groups
            ),
            What::Changed {
                groups,
                name,
                email,
                ..
            } => {
                let mut parts = Vec::new();
                if let Some(g) = groups {
                    parts.push(format!("groups {g:?}"));
                }
                if let Some(n) = name {
                    parts.push(format!("name {n:?}"));
                }
                if let Some(e) = email {
                    parts.push(format!("email {e:?}"));
                }
                format!("changed at the IdP: {}", parts.join(", "))
            }
            What::Disabled { logout_token, .. } => {
                format!("disabled at the IdP{}", token_note(*logout_token))
            }
            What::Enabled { .. } => "enabled again at the IdP".into(),
            What::Deleted { logout_token, .. } => {
                format!("deleted at the IdP{}", token_note(*logout_token))
            }
            What::Revoked { logout_token, .. } => {
                format!(
                    "every grant revoked at the IdP{}",
                    token_note(*logout_token)
                )
            }
            What::OutageOn { hang_s, .. } if *hang_s > 0.0 => {
                format!("refreshes start hanging ({hang_s:.1} s each)")
            }
            What::OutageOn { .. } => "refreshes start failing with 503".into(),
            What::OutageOff { .. } => "refreshes work again".into(),
            What::ByReference { distributed, .. } => format!(
                "the next refresh carries the groups by reference ({})",
                if *distributed {
                    "distributed"
                } else {
                    "aggregated"
                }
            ),
            What::KeyRotated => "the IdP rotated its signing key".into(),
            What::ClockAhead { seconds } => format!(
                "the IdP's clock moved {} h ahead: every refresh token issued so far has expired",
                seconds / 3600
            ),
            What::ClockBack => "the IdP's clock moved back".into(),
            What::Login {
                device,
                reading,
                error,
                callback,
                ..
            } => format!(
                "login in browser {device}: {}{}",
                observed(reading.as_ref(), error.as_deref()),
                callback
                    .as_ref()
                    .map_or_else(String::new, |c| format!(" ({c})"))
            ),
            What::Me {
                device,
                reading,
                error,
                ..
            } => format!(
                "/me in browser {device}: {}",
                observed(reading.as_ref(), error.as_deref())
            ),
            What::Logout {
                device,
                status,
                error,
                ..
            } => format!("logged out in browser {device}: {}", answer(status, error)),
            What::Grant {
                device,
                permission,
                status,
                error,
                ..
            } => format!(
                "granted {permission:?} in browser {device}: {}",
                answer(status, error)
            ),
            What::Refresh { hung: true, .. } => {
                "a refresh reached the IdP, which holds it past the RP's timeout".into()
            }
            What::Refresh { reused: true, .. } => {
                "a refresh reached the IdP with a spent refresh token".into()
            }
            What::Refresh { .. } => "a refresh reached the IdP".into(),
            What::SpareHung { hang_s } => format!(
                "the spare user's refreshes start hanging ({hang_s:.1} s each, past the RP's timeout)"
            ),
            What::SpareFreed => "the spare user's refreshes work again".into(),
            What::Idle => "did nothing".into(),
            What::Skipped { why } => format!("skipped: {why}"),
            What::Broken { why } => format!("the harness could not go on: {why}"),
            What::Journal {
                refreshes, reused, ..
            } => format!(
                "the IdP's journal: {} refreshes, {} with a spent refresh token",
                refreshes.len(),
                reused.len()
            ),
        }
    }
}

/// `HTTP 200`, or why there was no answer.
fn answer(status: &Option<u16>, error: &Option<String>) -> String {
    match (status, error) {
        (Some(s), _) => format!("HTTP {s}"),
        (None, e) => e.clone().unwrap_or_else(|| "no answer".into()),
    }
}

fn token_note(sent: bool) -> &'static str {
    if sent { "" } else { " (no logout token sent)" }
}

/// What a `/me` reading showed, in one line.
pub fn observed(r: Option<&MeReading>, error: Option<&str>) -> String {
    match (r, error) {
        (_, Some(e)) => e.to_owned(),
        (Some(r), None) if r.logged_in() => {
            let mut s = format!("200, {}", r.who());
            if let Some(p) = &r.permissions {
                s.push_str(&format!(", permissions {p:?}"));
            }
            if let Some(n) = &r.name {
                s.push_str(&format!(", name {n:?}"));
            }
            s
        }
        (Some(r), None) => format!("{} (no session)", r.status),
        (None, None) => "no answer".into(),
    }
}
