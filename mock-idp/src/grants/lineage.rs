//! Authorization grants ("lineages"): one record per code redemption, shared by every
//! token issued under it — the code's tokens, each refresh token rotated from them, and
//! their access tokens. JWT access tokens are not stored one by one: they name their
//! lineage in their `jti` (`<lineage>.<random>`), so revoking the lineage revokes them
//! all (RFC 7009 §2.1: "all access tokens based on the same authorization grant"), and
//! a single revoked JWT is remembered by its `jti` until it expires.

use std::sync::Arc;

use super::{Grant, Grants, Record, Refused};
use crate::clock::UnixTime;

/// One authorization grant and whether it still stands.
#[derive(Debug, Clone)]
pub struct Lineage {
    /// What the login granted (refreshes may narrow an access token's scope; the token's
    /// own `scope` claim says so).
    pub grant: Arc<Grant>,
    /// Revoked: code reuse, refresh-token reuse, RFC 7009, the user's revocation, logout.
    pub revoked: bool,
    /// When the last token issued under it expires (kept until then, for revocation).
    pub expires_at: UnixTime,
}

/// A live access token, whichever way it is held.
#[derive(Debug, Clone)]
pub struct AccessView {
    /// What it grants.
    pub grant: Grant,
    /// `jti`.
    pub jti: String,
    /// Issue time.
    pub issued_at: UnixTime,
    /// Expiry.
    pub expires_at: UnixTime,
    /// The DPoP key it is bound to (`cnf.jkt`, RFC 9449 §6).
    pub jkt: Option<String>,
}

/// What a JWT access token says of itself, its signature and issuer already verified.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct SignedAccess {
    /// `jti`: `<lineage>.<random>` for a user's token, `<random>` for a client's own.
    pub jti: String,
    /// `client_id` (RFC 9068 §2.2).
    pub client_id: String,
    /// `scope`.
    #[serde(default)]
    pub scope: Option<String>,
    /// `iat`.
    pub iat: UnixTime,
    /// `exp`.
    pub exp: UnixTime,
    /// `cnf` (RFC 7800): the DPoP key it is bound to.
    #[serde(default)]
    pub cnf: Option<Confirmation>,
}

/// A token's confirmation claim (RFC 7800 §3.1), as DPoP uses it (RFC 9449 §6.1).
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Confirmation {
    /// The JWK SHA-256 thumbprint of the key.
    pub jkt: String,
}

/// Why a revocation request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RevokeError {
    /// The token belongs to another client (RFC 7009 §2.1).
    #[error("the token was issued to another client")]
    NotYours,
    /// As many revoked, unexpired JWT access tokens as the tenant's `live_records` limit.
    #[error(
        "too many revoked JWT access tokens are still unexpired (the tenant's live_records limit); try again when some expire"
    )]
    Full,
}

/// The `jti` of a token issued under `lineage` (or a client's own, without one).
pub fn access_jti(lineage: Option<&str>, random: &str) -> String {
    match lineage {
        Some(l) => format!("{l}.{random}"),
        None => random.to_owned(),
    }
}

impl Grants {
    /// Records that a token under `lineage` lives until `expires_at` (creating the lineage
    /// with `grant` on its first token).
    pub fn extend_lineage(
        &mut self,
        id: &str,
        grant: &Arc<Grant>,
        expires_at: UnixTime,
        now: UnixTime,
    ) {
        if let Some(l) = self.lineages.get_mut(id) {
            l.expires_at = l.expires_at.max(expires_at);
            return;
        }
        let lineage = Lineage {
            grant: grant.clone(),
            revoked: false,
            expires_at,
        };
        let evicted = self.lineages.insert(id, lineage);
        self.note_insert(Record::Grant, evicted, now);
    }

    /// A lineage whose tokens are still good, or why they are refused (revoked, or evicted
    /// past the cap).
    pub fn live_lineage(&self, id: &str) -> Result<&Lineage, Refused> {
        match self.lineages.get(id) {
            None => Err(Refused(
                "the grant behind this token is no longer held (evicted past the tenant's live_records limit, or expired)".into(),
            )),
            Some(l) if l.revoked => Err(Refused("the grant behind this token has been revoked".into())),
            Some(l) => Ok(l),
        }
    }

    /// The user of a lineage's grant while its record is held, live or not (for the
    /// journal: whose a refused token was).
    pub fn lineage_user(&self, id: &str) -> Option<String> {
        self.lineages.get(id).and_then(|l| l.grant.username.clone())
    }

    /// Why tokens of this lineage are refused, if they are.
    pub fn lineage_refused(&self, id: &str) -> Option<Refused> {
        self.live_lineage(id).err()
    }

    /// Revokes a lineage: its refresh tokens and every access token issued under it.
    pub fn revoke_lineage(&mut self, id: &str) {
        self.revoke_lineages(&[id.to_owned()]);
    }

    /// Revokes lineages (one pass over the refresh tokens, however many).
    pub fn revoke_lineages(&mut self, ids: &[String]) {
        for id in ids {
            if let Some(l) = self.lineages.get_mut(id) {
                l.revoked = true;
            }
        }
        let ids: std::collections::HashSet<&str> = ids.iter().map(String::as_str).collect();
        for r in self.refresh.values_mut() {
            if ids.contains(r.family.as_str()) {
                r.revoked = true;
            }
        }
    }

    /// A verified JWT access token, if its grant still stands and it was not revoked.
    pub fn check_signed_access(
        &self,
        token: &SignedAccess,
        now: UnixTime,
    ) -> Result<AccessView, Refused> {
        if now >= token.exp {
            return Err(Refused(format!(
                "the access token has expired ({} s ago, {} s after it was issued, by the tenant's clock)",
                now - token.exp,
                now - token.iat
            )));
        }
        if self.revoked_jtis.get(&token.jti).is_some() {
            return Err(Refused("the access token has been revoked".into()));
        }
        let scope = token
            .scope
            .as_deref()
            .map(|s| {
                s.split(' ')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        let grant = match token.jti.split_once('.') {
            Some((lineage, _)) => Grant {
                scope,
                ..Grant::clone(&self.live_lineage(lineage)?.grant)
            },
            None => Grant {
                client_id: token.client_id.clone(),
                username: None,
                sub: token.client_id.clone(),
                scope,
                auth_time: token.iat,
                sid: None,
                nonce: None,
            },
        };
        if grant.client_id != token.client_id {
            return Err(Refused("unknown access token".into()));
        }
        Ok(AccessView {
            grant,
            jti: token.jti.clone(),
            jkt: token.cnf.as_ref().map(|c| c.jkt.clone()),
            issued_at: token.iat,
            expires_at: token.exp,
        })
    }

    /// Revokes one verified JWT access token of `client_id` (RFC 7009). Its `jti` is
    /// kept until its `exp`; a revocation is never evicted (that would bring the token
    /// back), so past the cap a revocation is refused instead.
    pub fn revoke_signed_access(
        &mut self,
        token: &SignedAccess,
        client_id: &str,
        now: UnixTime,
    ) -> Result<(), RevokeError> {
        if token.client_id != client_id {
            return Err(RevokeError::NotYours);
        }
        if now >= token.exp || self.revoked_jtis.get(&token.jti).is_some() {
            return Ok(());
        }
        if self.revoked_jtis.is_full() {
            self.revoked_jtis.retain(|_, exp| now < *exp);
            if self.revoked_jtis.is_full() {
                return Err(RevokeError::Full);
            }
        }
        let evicted = self.revoked_jtis.insert(&token.jti, token.exp);
        self.note_insert(Record::RevokedJwt, evicted, now);
        Ok(())
    }
}
