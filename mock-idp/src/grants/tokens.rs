//! Access and refresh token records.

use super::{Grant, Grants, Refused};
use crate::clock::UnixTime;

/// An issued refresh token.
#[derive(Debug, Clone)]
pub struct RefreshRecord {
    /// What it grants.
    pub grant: Grant,
    /// Issue time.
    pub issued_at: UnixTime,
    /// Absolute expiry.
    pub expires_at: UnixTime,
    /// Revoked (RFC 7009, code reuse).
    pub revoked: bool,
    /// The code it was issued from.
    pub origin: Option<String>,
}

/// An issued access token.
#[derive(Debug, Clone)]
pub struct AccessRecord {
    /// What it grants.
    pub grant: Grant,
    /// `jti`.
    pub jti: String,
    /// Issue time.
    pub issued_at: UnixTime,
    /// Expiry.
    pub expires_at: UnixTime,
    /// Revoked.
    pub revoked: bool,
    /// The code or refresh token it was issued from.
    pub origin: Option<String>,
}

impl Grants {
    /// Stores a new refresh token.
    pub fn insert_refresh(&mut self, token: String, record: RefreshRecord, now: UnixTime) {
        self.refresh.insert(token, record);
        self.note_insert(now);
    }

    /// Stores a new access token.
    pub fn insert_access(&mut self, token: String, record: AccessRecord, now: UnixTime) {
        self.access.insert(token, record);
        self.note_insert(now);
    }

    /// A refresh token presented by `client_id`, if it is still good.
    pub fn check_refresh(
        &self,
        token: &str,
        client_id: &str,
        now: UnixTime,
    ) -> Result<&RefreshRecord, Refused> {
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
        if now >= record.expires_at {
            return Err(Refused("the refresh token has expired".into()));
        }
        Ok(record)
    }

    /// An access token, if it is still good.
    pub fn check_access(&self, token: &str, now: UnixTime) -> Result<&AccessRecord, Refused> {
        let record = self
            .access
            .get(token)
            .ok_or_else(|| Refused("unknown access token".into()))?;
        if record.revoked {
            return Err(Refused("the access token has been revoked".into()));
        }
        if now >= record.expires_at {
            return Err(Refused("the access token has expired".into()));
        }
        Ok(record)
    }

    /// Revokes a token of `client_id` (RFC 7009). A refresh token takes the access tokens
    /// issued from it along. Unknown tokens are not an error; another client's token is.
    pub fn revoke(&mut self, token: &str, client_id: &str) -> Result<(), Refused> {
        let owner = |g: &Grant| g.client_id == client_id;
        if let Some(r) = self.refresh.get_mut(token) {
            if !owner(&r.grant) {
                return Err(Refused("the token was issued to another client".into()));
            }
            r.revoked = true;
            self.revoke_access_from(token);
        } else if let Some(a) = self.access.get_mut(token) {
            if !owner(&a.grant) {
                return Err(Refused("the token was issued to another client".into()));
            }
            a.revoked = true;
        }
        Ok(())
    }
}
