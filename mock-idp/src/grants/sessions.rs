//! The IdP's own login sessions (its cookie) and authorization requests waiting at the login page.

use super::{Grants, Record};
use crate::clock::UnixTime;

/// A browser session at the IdP.
#[derive(Debug, Clone)]
pub struct Session {
    /// Who logged in.
    pub username: String,
    /// When.
    pub auth_time: UnixTime,
    /// Until when the session lasts.
    pub expires_at: UnixTime,
}

/// An authorization request shown the login page, waiting for the form.
#[derive(Debug, Clone)]
pub struct PendingLogin {
    /// The validated authorization request's parameters, replayed after login.
    pub params: Vec<(String, String)>,
    /// Until when the form may be posted.
    pub expires_at: UnixTime,
}

impl Grants {
    /// Starts a session.
    pub fn insert_session(&mut self, sid: &str, session: Session, now: UnixTime) {
        let evicted = self.sessions.insert(sid, session);
        self.note_insert(Record::Session, evicted, now);
    }

    /// A live session.
    pub fn session(&self, sid: &str, now: UnixTime) -> Option<&Session> {
        self.sessions.get(sid).filter(|s| now < s.expires_at)
    }

    /// Ends a session; whether it existed.
    pub fn end_session(&mut self, sid: &str) -> bool {
        self.sessions.remove(sid).is_some()
    }

    /// Ends every session of a user.
    pub fn end_user_sessions(&mut self, username: &str) {
        self.sessions.retain(|_, s| s.username != username);
    }

    /// Parks an authorization request behind the login page.
    pub fn insert_pending(&mut self, id: &str, pending: PendingLogin, now: UnixTime) {
        let evicted = self.pending.insert(id, pending);
        self.note_insert(Record::PendingLogin, evicted, now);
    }

    /// The client of a parked request, if it is held (expired or not).
    pub fn pending_client(&self, id: &str) -> Option<String> {
        self.pending.get(id).and_then(|p| {
            p.params
                .iter()
                .find(|(k, _)| k == "client_id")
                .map(|(_, v)| v.clone())
        })
    }

    /// Takes a parked request (once).
    pub fn take_pending(&mut self, id: &str, now: UnixTime) -> Option<PendingLogin> {
        self.pending.remove(id).filter(|p| now < p.expires_at)
    }
}
