//! Authorization codes, refresh tokens, access tokens, sessions and pending logins:
//! one place that says whether something is still valid. Pure logic, no HTTP.

mod codes;
mod sessions;
mod tokens;

pub use codes::{CodeRecord, Pkce, PkceMethod, Redemption, valid_pkce_string};
pub use sessions::{PendingLogin, Session};
pub use tokens::{AccessRecord, RefreshRecord, RefreshUse};

use std::collections::HashMap;

use crate::clock::UnixTime;

/// What a login established: who, for which client, with what scope. Carried by codes,
/// refresh tokens and access tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The client the tokens are for.
    pub client_id: String,
    /// Login name (`None` for client_credentials).
    pub username: Option<String>,
    /// The subject at issue time.
    pub sub: String,
    /// Granted scopes, in request order.
    pub scope: Vec<String>,
    /// When the user authenticated.
    pub auth_time: UnixTime,
    /// The IdP session id (`sid`).
    pub sid: Option<String>,
}

impl Grant {
    /// Whether a scope was granted.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scope.iter().any(|s| s == scope)
    }

    /// The scope as the space-separated string of the protocol.
    pub fn scope_string(&self) -> String {
        self.scope.join(" ")
    }
}

/// Why a code or token was refused (RFC 6749 `invalid_grant`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// Every live code, token, session and pending login of a tenant.
#[derive(Debug, Default)]
pub struct Grants {
    pub(crate) codes: HashMap<String, CodeRecord>,
    pub(crate) refresh: HashMap<String, RefreshRecord>,
    pub(crate) access: HashMap<String, AccessRecord>,
    pub(crate) sessions: HashMap<String, Session>,
    pub(crate) pending: HashMap<String, PendingLogin>,
    /// Families revoked by reuse detection or revocation, with their expiry (for purging).
    pub(crate) revoked_families: HashMap<String, UnixTime>,
    inserts: u64,
}

/// Records are purged once they are this far past their expiry (reuse of an expired
/// code must still be recognised for a while).
const KEEP_EXPIRED_FOR: i64 = 600;

impl Grants {
    /// Drops long-expired records; called every few hundred inserts so memory stays
    /// bounded by the live records, not by history.
    pub(crate) fn note_insert(&mut self, now: UnixTime) {
        self.inserts += 1;
        if !self.inserts.is_multiple_of(256) {
            return;
        }
        let keep = |exp: UnixTime| exp + KEEP_EXPIRED_FOR > now;
        self.codes.retain(|_, c| keep(c.expires_at));
        self.refresh.retain(|_, r| keep(r.expires_at));
        self.access.retain(|_, a| keep(a.expires_at));
        self.sessions.retain(|_, s| keep(s.expires_at));
        self.pending.retain(|_, p| keep(p.expires_at));
        self.revoked_families.retain(|_, exp| keep(*exp));
    }

    /// Revokes every access token issued from this refresh token or code.
    pub(crate) fn revoke_access_from(&mut self, origin: &str) {
        for a in self.access.values_mut() {
            if a.origin.as_deref() == Some(origin) {
                a.revoked = true;
            }
        }
    }
}
