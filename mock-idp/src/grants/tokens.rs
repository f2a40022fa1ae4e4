//! Refresh tokens and opaque access tokens; refresh-token families with rotation, reuse
//! detection, idle and absolute expiry. A family is a lineage (see [`super::Lineage`]).

use std::sync::Arc;

use super::{AccessView, Grant, Grants, Record, Refused, RevokeError};
use crate::clock::UnixTime;
use crate::config::RefreshTokenPolicy;

/// An issued refresh token.
#[derive(Debug, Clone)]
pub struct RefreshRecord {
    /// What it grants.
    pub grant: Arc<Grant>,
    /// The family: every token rotated from the same first token; its lineage's id.
    pub family: String,
    /// Issue time.
    pub issued_at: UnixTime,
    /// Absolute expiry (the family's).
    pub expires_at: UnixTime,
    /// Idle expiry, pushed back by each use.
    pub idle_expires_at: Option<UnixTime>,
    /// When it was exchanged for its successor (rotation).
    pub spent_at: Option<UnixTime>,
    /// Revoked (RFC 7009, code reuse, reuse detection, user revocation, logout).
    pub revoked: bool,
    /// The DPoP key it is bound to (a public client's, RFC 9449 §5): a refresh must come
    /// with a proof by that key.
    pub jkt: Option<String>,
}

/// An issued opaque access token (JWT access tokens are not stored).
#[derive(Debug, Clone)]
pub struct AccessRecord {
    /// What it grants.
    pub grant: Arc<Grant>,
    /// `jti`.
    pub jti: String,
    /// Issue time.
    pub issued_at: UnixTime,
    /// Expiry.
    pub expires_at: UnixTime,
    /// Revoked.
    pub revoked: bool,
    /// The lineage it was issued under (none for client_credentials).
    pub lineage: Option<String>,
    /// The DPoP key it is bound to (RFC 9449 §6).
    pub jkt: Option<String>,
}

/// An accepted refresh token: what to issue next.
#[derive(Debug, Clone)]
pub struct RefreshUse {
    /// What it grants.
    pub grant: Arc<Grant>,
    /// Its family (a rotated successor joins it).
    pub family: String,
    /// The family's absolute expiry (rotation does not extend it).
    pub family_expires_at: UnixTime,
    /// The token had already been exchanged for a successor and was accepted only
    /// because the reuse grace period had not passed.
    pub reused: bool,
}

impl Grants {
    /// Stores a new refresh token; one born into a revoked family is born revoked.
    pub fn insert_refresh(&mut self, token: &str, mut record: RefreshRecord, now: UnixTime) {
        record.revoked |= self.lineage_refused(&record.family).is_some();
        let evicted = self.refresh.insert(token, record);
        self.note_insert(Record::RefreshToken, evicted, now);
    }

    /// Stores a new opaque access token.
    pub fn insert_access(&mut self, token: &str, record: AccessRecord, now: UnixTime) {
        let evicted = self.access.insert(token, record);
        self.note_insert(Record::OpaqueAccessToken, evicted, now);
    }

    /// Uses a refresh token of `client_id` under its client's policy: checks it, then
    /// `accept` (the user is still active), then spends it when rotating or pushes back its
    /// idle expiry otherwise; a refused use spends nothing. A spent token presented again
    /// outside the grace period revokes the whole family. Atomic: of concurrent uses of a
    /// rotating token, exactly one succeeds.
    /// A token bound to a DPoP key is taken only with a proof by that key (`jkt`, RFC 9449
    /// §5).
    pub fn use_refresh(
        &mut self,
        token: &str,
        client_id: &str,
        policy: &RefreshTokenPolicy,
        now: UnixTime,
        jkt: Option<&str>,
        accept: impl FnOnce(&Grant) -> Result<(), Refused>,
    ) -> Result<RefreshUse, Refused> {
        let record = self
            .refresh
            .get(token)
            .ok_or_else(|| Refused("unknown refresh token".into()))?;
        if record.grant.client_id != client_id {
            return Err(Refused(
                "the refresh token was issued to another client".into(),
            ));
        }
        if record.revoked {
            return Err(Refused("the refresh token has been revoked".into()));
        }
        if let Some(refused) = self.lineage_refused(&record.family) {
            return Err(refused);
        }
        if let Some(bound) = &record.jkt
            && jkt != Some(bound.as_str())
        {
            return Err(Refused(match jkt {
                None => "the refresh token is bound to a DPoP key: a refresh needs a DPoP proof by that key (RFC 9449 §5)".into(),
                Some(_) => "the refresh token is bound to another DPoP key than this request's proof (RFC 9449 §5)".into(),
            }));
        }
        let in_grace =
            |spent: UnixTime| policy.reuse_grace > 0 && now - spent < policy.reuse_grace as i64;
        if let Some(spent) = record.spent_at
            && !in_grace(spent)
        {
            let family = record.family.clone();
            self.revoke_lineage(&family);
            return Err(Refused(
                "refresh token reuse detected: this token was already exchanged, so its whole family is revoked".into(),
            ));
        }
        if now >= record.expires_at {
            return Err(Refused("the refresh token has expired".into()));
        }
        if record.idle_expires_at.is_some_and(|t| now >= t) {
            return Err(Refused(
                "the refresh token has expired: unused for longer than its idle lifetime".into(),
            ));
        }
        accept(&record.grant)?;
        let used = RefreshUse {
            grant: record.grant.clone(),
            family: record.family.clone(),
            family_expires_at: record.expires_at,
            reused: record.spent_at.is_some(),
        };
        let record = self.refresh.get_mut(token).expect("looked up above");
        if policy.rotate {
            record.spent_at.get_or_insert(now);
        } else if let Some(idle) = policy.idle {
            record.idle_expires_at = Some(now + idle as i64);
        }
        Ok(used)
    }

    /// A live refresh token (for introspection): its grant stands too.
    pub fn live_refresh(&self, token: &str, now: UnixTime) -> Option<&RefreshRecord> {
        self.refresh.get(token).filter(|r| {
            !r.revoked
                && self.lineage_refused(&r.family).is_none()
                && now < r.expires_at
                && r.idle_expires_at.is_none_or(|t| now < t)
                && r.spent_at.is_none()
        })
    }

    /// An opaque access token, if it is still good.
    /// The user of an opaque access token while its record is held, live or not.
    pub fn opaque_access_user(&self, token: &str) -> Option<String> {
        self.access
            .get(token)
            .and_then(|r| r.grant.username.clone())
    }

    pub fn check_opaque_access(&self, token: &str, now: UnixTime) -> Result<AccessView, Refused> {
        let record = self
            .access
            .get(token)
            .ok_or_else(|| Refused("unknown access token".into()))?;
        if record.revoked {
            return Err(Refused("the access token has been revoked".into()));
        }
        if let Some(refused) = record
            .lineage
            .as_deref()
            .and_then(|l| self.lineage_refused(l))
        {
            return Err(refused);
        }
        if now >= record.expires_at {
            return Err(Refused("the access token has expired".into()));
        }
        Ok(AccessView {
            grant: Grant::clone(&record.grant),
            jti: record.jti.clone(),
            issued_at: record.issued_at,
            expires_at: record.expires_at,
            jkt: record.jkt.clone(),
        })
    }

    /// Revokes a refresh or opaque access token of `client_id` (RFC 7009). A refresh
    /// token takes its whole lineage along. Unknown tokens are not an error; another
    /// client's token is.
    pub fn revoke(&mut self, token: &str, client_id: &str) -> Result<(), RevokeError> {
        let owner = |g: &Grant| g.client_id == client_id;
        if let Some(r) = self.refresh.get(token) {
            if !owner(&r.grant) {
                return Err(RevokeError::NotYours);
            }
            let family = r.family.clone();
            self.revoke_lineage(&family);
        } else if let Some(a) = self.access.get_mut(token) {
            if !owner(&a.grant) {
                return Err(RevokeError::NotYours);
            }
            a.revoked = true;
        }
        Ok(())
    }

    /// Revokes every grant of a user (with every token issued under it: a user's opaque
    /// access tokens too) and ends their sessions; how many grants were live.
    pub fn revoke_user(&mut self, username: &str) -> usize {
        let lineages: Vec<String> = self
            .lineages
            .iter()
            .filter(|(_, l)| l.grant.username.as_deref() == Some(username) && !l.revoked)
            .map(|(id, _)| id.to_owned())
            .collect();
        self.revoke_lineages(&lineages);
        self.sessions.retain(|_, s| s.username != username);
        lineages.len()
    }

    /// Revokes every grant of a client (with every token issued under it), as the deletion
    /// of its registration asks (RFC 7592 §2.3); how many grants were live.
    pub fn revoke_client(&mut self, client_id: &str) -> usize {
        let lineages: Vec<String> = self
            .lineages
            .iter()
            .filter(|(_, l)| l.grant.client_id == client_id && !l.revoked)
            .map(|(id, _)| id.to_owned())
            .collect();
        self.revoke_lineages(&lineages);
        lineages.len()
    }

    /// Revokes the grants of a session for which `bound(client_id)` holds (session-bound,
    /// not offline, tokens).
    pub fn revoke_session_tokens(&mut self, sid: &str, bound: impl Fn(&str) -> bool) {
        let lineages: Vec<String> = self
            .lineages
            .iter()
            .filter(|(_, l)| l.grant.sid.as_deref() == Some(sid) && bound(&l.grant.client_id))
            .map(|(id, _)| id.to_owned())
            .collect();
        self.revoke_lineages(&lineages);
    }
}
