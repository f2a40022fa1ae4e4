//! Authorization codes, refresh tokens, access tokens, sessions and pending logins:
//! one place that says whether something is still valid. Pure logic, no HTTP.

mod capped;
mod codes;
mod devices;
mod lineage;
mod sessions;
mod tokens;

pub use capped::Capped;
pub use codes::{CodeRecord, Pkce, PkceMethod, Redemption, valid_pkce_string};
pub use devices::{
    DeviceRecord, DeviceState, UnknownUserCode, display_user_code, normalize_user_code, user_code,
};
pub use lineage::{AccessView, Lineage, RevokeError, SignedAccess, access_jti};
pub use sessions::{PendingLogin, Session};
pub use tokens::{AccessRecord, RefreshRecord};

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

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
    /// The nonce of the authorization request that made it (none without a login).
    pub nonce: Option<String>,
}

impl Grant {
    /// A grant made at the token endpoint, not by a login at the IdP (no session): for
    /// `user`, or for the client itself when none (client_credentials).
    pub fn without_login(
        client_id: &str,
        user: Option<&crate::directory::User>,
        scope: Vec<String>,
        now: UnixTime,
    ) -> Grant {
        Grant {
            client_id: client_id.to_owned(),
            username: user.map(|u| u.username.clone()),
            sub: user.map_or_else(|| client_id.to_owned(), |u| u.sub.clone()),
            scope,
            auth_time: now,
            sid: None,
            nonce: None,
        }
    }

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

/// A kind of record a tenant holds; each kind has its own cap ([`crate::config::Limits`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Record {
    /// An authorization code.
    Code,
    /// An authorization request waiting at the login page.
    PendingLogin,
    /// An IdP login session.
    Session,
    /// A refresh token (spent ones are kept for reuse detection).
    RefreshToken,
    /// An authorization grant: what a login established, shared by every token issued
    /// under it (its lineage).
    Grant,
    /// An opaque access token (JWT access tokens are not stored).
    OpaqueAccessToken,
    /// A revoked JWT access token's `jti`, kept until its `exp`.
    RevokedJwt,
    /// A device authorization (RFC 8628), until it expires.
    DeviceCode,
}

/// Every live code, token, session and pending login of a tenant. JWT access tokens are
/// not stored: they carry what they grant and are checked by signature; their grant
/// ([`Lineage`]) or, for single revocations, their `jti` is recorded. Each kind is capped
/// and evicts its oldest records past the cap.
#[derive(Debug)]
pub struct Grants {
    pub(crate) codes: Capped<CodeRecord>,
    pub(crate) refresh: Capped<RefreshRecord>,
    pub(crate) access: Capped<AccessRecord>,
    pub(crate) lineages: Capped<Lineage>,
    /// Revoked JWT access tokens: `jti` → `exp`.
    pub(crate) revoked_jtis: Capped<UnixTime>,
    pub(crate) sessions: Capped<Session>,
    pub(crate) pending: Capped<PendingLogin>,
    pub(crate) devices: Capped<DeviceRecord>,
    /// When the last wrong user codes were typed on the verification page (at most
    /// [`devices::GUESSES`], oldest first).
    pub(crate) guesses: std::collections::VecDeque<UnixTime>,
    /// Evictions not yet journaled (at most [`MAX_UNREPORTED`]).
    evicted: Vec<Record>,
    /// Set when `evicted` has something, read without the lock by the journal.
    eviction_flag: Arc<AtomicBool>,
    inserts: u64,
    next_purge: UnixTime,
}

impl Default for Grants {
    fn default() -> Self {
        Grants::new(&crate::config::Limits::default())
    }
}

/// Records are purged once they are this far past their expiry, in seconds of the
/// tenant's clock (reuse of an expired code must still be recognised for a while, and a
/// refused expired refresh token still names its user in the journal).
pub const KEEP_EXPIRED_FOR: i64 = 600;

/// Expired records are also purged at the first insert this many seconds (by the tenant's
/// clock) after the last purge, however few inserts there were.
const PURGE_EVERY: i64 = 60;

/// Evictions waiting for a journal entry beyond this many are only counted in the caps.
const MAX_UNREPORTED: usize = 64;

impl Grants {
    /// Empty stores, each capped at `limits.live_records`.
    pub fn new(limits: &crate::config::Limits) -> Grants {
        let cap = limits.live_records;
        Grants {
            codes: Capped::new(cap),
            refresh: Capped::new(cap),
            access: Capped::new(cap),
            lineages: Capped::new(cap),
            revoked_jtis: Capped::new(cap),
            sessions: Capped::new(cap),
            pending: Capped::new(cap),
            devices: Capped::new(cap),
            guesses: Default::default(),
            evicted: Vec::new(),
            eviction_flag: Arc::default(),
            inserts: 0,
            next_purge: UnixTime::MIN,
        }
    }

    /// How many records of each kind are held.
    pub fn counts(&self) -> Vec<(Record, usize)> {
        vec![
            (Record::Code, self.codes.len()),
            (Record::PendingLogin, self.pending.len()),
            (Record::Session, self.sessions.len()),
            (Record::RefreshToken, self.refresh.len()),
            (Record::Grant, self.lineages.len()),
            (Record::OpaqueAccessToken, self.access.len()),
            (Record::RevokedJwt, self.revoked_jtis.len()),
            (Record::DeviceCode, self.devices.len()),
        ]
    }

    /// The evictions since the last call, for the journal.
    pub fn take_evictions(&mut self) -> Vec<Record> {
        self.eviction_flag.store(false, Ordering::Relaxed);
        std::mem::take(&mut self.evicted)
    }

    /// A flag set while evictions wait for [`Grants::take_evictions`] (so the journal
    /// need not take the lock on every request).
    pub fn eviction_flag(&self) -> Arc<AtomicBool> {
        self.eviction_flag.clone()
    }

    /// Notes an insert of `kind` that evicted `evicted` records; every few hundred inserts,
    /// or a minute after the last time, drops long-expired records, so memory follows the
    /// live records, not history.
    pub(crate) fn note_insert(&mut self, kind: Record, evicted: usize, now: UnixTime) {
        for _ in 0..evicted {
            if self.evicted.len() < MAX_UNREPORTED {
                self.evicted.push(kind);
            }
            self.eviction_flag.store(true, Ordering::Relaxed);
        }
        self.inserts += 1;
        if !self.inserts.is_multiple_of(256) && now < self.next_purge {
            return;
        }
        self.next_purge = now + PURGE_EVERY;
        let keep = |exp: UnixTime| exp + KEEP_EXPIRED_FOR > now;
        self.codes.retain(|_, c| keep(c.expires_at));
        self.refresh.retain(|_, r| keep(r.expires_at));
        self.access.retain(|_, a| keep(a.expires_at));
        self.lineages.retain(|_, l| keep(l.expires_at));
        self.revoked_jtis.retain(|_, exp| keep(*exp));
        self.sessions.retain(|_, s| keep(s.expires_at));
        self.pending.retain(|_, p| keep(p.expires_at));
        self.devices.retain(|_, d| keep(d.expires_at));
    }
}
